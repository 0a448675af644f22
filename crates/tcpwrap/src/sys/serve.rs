//! System calls of the `tcpwrapd` super-server: signals as a descriptor,
//! `poll`, children started from a plan prepared in advance (the parent is
//! multi-threaded, so the child between `fork` and `execve` only makes
//! async-signal-safe system calls), `waitpid` by pid, socket-activation
//! descriptors, service ports, group lists and local time.

use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// Block `signals` in the calling thread and return a non-blocking,
/// close-on-exec `signalfd` that receives them. Call before any thread is
/// started: threads inherit the mask, so the signals are then delivered
/// only through the descriptor.
pub fn signal_fd(signals: &[i32]) -> io::Result<OwnedFd> {
    // SAFETY: sigset_t is plain old data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid, writable sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in signals {
        // SAFETY: set is initialised; an invalid number only fails.
        if unsafe { libc::sigaddset(&mut set, s) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: set is initialised; the old mask is not requested.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: set is initialised; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: signalfd returned a new descriptor owned only here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Run `f` with every signal blocked in the calling thread, then restore
/// its mask. A thread started inside `f` inherits the full mask, so
/// helper threads that start before the process's [`signal_fd`] is set up
/// never receive SIGHUP, SIGUSR1 or the like.
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset_t is plain old data; sigfillset initialises `all`,
    // pthread_sigmask fills `old`.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `all` is a valid, writable sigset_t.
    unsafe { libc::sigfillset(&mut all) };
    // SAFETY: both sets are valid; `old` receives the current mask.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) };
    let out = f();
    if rc == 0 {
        // SAFETY: `old` holds the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    }
    out
}

/// The signals pending on a [`signal_fd`] descriptor, in arrival order
/// (each standard signal at most once per batch, as the kernel merges them).
pub fn read_signals(fd: &OwnedFd) -> Vec<i32> {
    let mut out = Vec::new();
    loop {
        // SAFETY: signalfd_siginfo is plain old data.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: info is writable for size bytes.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        if n != size as isize {
            break;
        }
        out.push(info.ssi_signo as i32);
    }
    out
}

/// `poll` for input on `fds` for at most `timeout` (forever when `None`):
/// for each descriptor whether it is readable or hung up. An interrupted
/// call reports nothing ready.
pub fn poll_readable(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = match timeout {
        None => -1,
        // Round up so that a deadline is not missed by a millisecond.
        Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int,
    };
    // SAFETY: p is a valid array of p.len() pollfd structures.
    let n = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(p.iter().map(|x| x.revents != 0).collect())
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// `waitpid(pid, WNOHANG)`: how the child ended, `None` while it runs.
/// An error (`ECHILD`: not our child, or already reaped) is returned as is.
pub fn try_wait(pid: i32) -> io::Result<Option<Exit>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: status is writable.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == 0 {
            return Ok(None);
        }
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    if libc::WIFSIGNALED(status) {
        Ok(Some(Exit::Signal(libc::WTERMSIG(status))))
    } else {
        Ok(Some(Exit::Code(libc::WEXITSTATUS(status))))
    }
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The conventional name of a signal (`SIGSEGV`), or its number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// Take ownership of an inherited descriptor (systemd socket activation):
/// `None` when `fd` is not open. The descriptor is made close-on-exec.
pub fn inherited_fd(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: F_GETFD on any number only reports whether it is open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return None;
    }
    // SAFETY: fd is open (checked above); setting FD_CLOEXEC has no
    // memory-safety preconditions.
    unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) };
    // SAFETY: the descriptor was handed to this process by its parent
    // (LISTEN_FDS) and nothing else in the process owns it; the caller takes
    // each number once.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A close-on-exec duplicate of a descriptor (`F_DUPFD_CLOEXEC`).
pub fn dup_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC on any number either fails (EBADF)
    // or returns a new descriptor.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: n is a new descriptor owned only here.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// The supplementary groups of `user` with primary group `gid`
/// (`getgrouplist`), as `initgroups` would set them.
pub fn group_list(user: &[u8], gid: u32) -> io::Result<Vec<u32>> {
    let c = CString::new(user).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut n: libc::c_int = 64;
    loop {
        let mut groups: Vec<libc::gid_t> = vec![0; n as usize];
        let mut count = n;
        // SAFETY: c is NUL-terminated; groups is writable for count entries.
        let r = unsafe { libc::getgrouplist(c.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
        if r >= 0 {
            groups.truncate(count.max(0) as usize);
            return Ok(groups);
        }
        if count <= n || n > 1 << 16 {
            return Err(io::Error::from_raw_os_error(libc::ENOMEM));
        }
        n = count;
    }
}

unsafe extern "C" {
    fn getservbyname_r(
        name: *const libc::c_char,
        proto: *const libc::c_char,
        result_buf: *mut libc::servent,
        buf: *mut libc::c_char,
        buflen: libc::size_t,
        result: *mut *mut libc::servent,
    ) -> libc::c_int;
}

/// The port of a named service for a protocol (`getservbyname_r`, so
/// /etc/services and nsswitch apply).
pub fn service_port(name: &[u8], proto: &str) -> Option<u16> {
    let cname = CString::new(name).ok()?;
    let cproto = CString::new(proto).ok()?;
    // SAFETY: servent is plain old data.
    let mut ent: libc::servent = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut out: *mut libc::servent = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf's length is passed.
    let rc = unsafe {
        getservbyname_r(
            cname.as_ptr(),
            cproto.as_ptr(),
            &mut ent,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return None;
    }
    Some(u16::from_be(ent.s_port as u16))
}

/// Broken-down local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i32,
    /// 0-11
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
}

/// `localtime_r(secs)` (thread-safe; the time zone is the process's).
pub fn local_time(secs: i64) -> Tm {
    let t = secs as libc::time_t;
    // SAFETY: tm is plain old data.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    let ok = !unsafe { libc::localtime_r(&t, &mut tm) }.is_null();
    if !ok {
        return Tm {
            year: 1970,
            month: 0,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            weekday: 4,
        };
    }
    Tm {
        year: tm.tm_year + 1900,
        month: tm.tm_mon as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        weekday: tm.tm_wday as u32,
    }
}

/// The descriptors a child gets as 0, 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildStdio {
    /// The connection (or the listening socket of a `wait` service).
    Fd(RawFd),
    /// `/dev/null` (`spawn`).
    DevNull,
}

/// One step the child takes before `execve`, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildStep {
    /// Write bytes to descriptor 1 (banners); errors are ignored.
    Write(Vec<u8>),
    Umask(u32),
    /// `nice(n)`; a failure is ignored (tcpd only warns).
    Nice(i32),
    /// `setgid(gid)`, `setgroups(groups)`, then `setuid(uid)` when given.
    Identity {
        uid: Option<u32>,
        gid: u32,
        groups: Vec<u32>,
    },
}

/// Everything a child needs, prepared before `fork`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildPlan {
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    /// `NAME=VALUE` strings.
    pub env: Vec<Vec<u8>>,
    pub stdio: ChildStdio,
    pub steps: Vec<ChildStep>,
    /// SIGHUP ignored (as tcpd's `spawn`); otherwise every signal the
    /// parent changed is back to its default.
    pub ignore_sighup: bool,
    /// Clear `O_NONBLOCK` on descriptor 0 (a listening socket handed to a
    /// `wait` service).
    pub blocking_stdio: bool,
}

/// Where the child stopped when it could not `execve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildFailure {
    /// Setting up descriptors 0-2.
    Stdio(i32),
    /// Step N of the plan (0-based), the call that failed and the error.
    Step(usize, &'static str, i32),
    /// `execve` itself.
    Exec(i32),
}

/// What the child's report pipe says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Nothing yet: the child is still preparing.
    Pending,
    /// The pipe closed without a report: `execve` succeeded (or the child
    /// died before it could report).
    Executed,
    Failed(ChildFailure),
}

/// A started child. A child started with `clone(CLONE_VM | CLONE_VFORK)`
/// has already exec'd or failed when [`spawn_plan`] returns: `failure`
/// says which, and there is no pipe. A forked child (a plan with a banner)
/// reports through the read end of a pipe (non-blocking, close-on-exec):
/// read it with [`read_report`].
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    pub report: Option<OwnedFd>,
    pub failure: Option<ChildFailure>,
}

const STDIO_STEP: u32 = u32::MAX - 1;
const EXEC_STEP: u32 = u32::MAX;

fn decode_failure(step: u32, call: u32, errno: i32) -> ChildFailure {
    match step {
        STDIO_STEP => ChildFailure::Stdio(errno),
        EXEC_STEP => ChildFailure::Exec(errno),
        n => ChildFailure::Step(
            n as usize,
            ["setgid", "setgroups", "setuid"][call.min(2) as usize],
            errno,
        ),
    }
}

fn cstrings(v: &[Vec<u8>]) -> io::Result<Vec<CString>> {
    v.iter()
        .map(|a| CString::new(a.as_slice()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL)))
        .collect()
}

/// Everything the child touches, built before it starts: the child only
/// reads this (no allocation, no lock, nothing that could unwind).
struct Prepared<'a> {
    plan: &'a ChildPlan,
    path: CString,
    argv_ptrs: Vec<*const libc::c_char>,
    env_ptrs: Vec<*const libc::c_char>,
    /// The group list of each `Identity` step, by step index.
    groups: Vec<Vec<libc::gid_t>>,
    empty: libc::sigset_t,
    /// The report pipe of a forked child; -1 for a `CLONE_VM` child, which
    /// reports in `failed` instead.
    report_fd: RawFd,
    /// Set by a `CLONE_VM` child that cannot `execve`: step, call, errno
    /// (read by the parent after `clone` returns).
    failed: AtomicBool,
    failure: [AtomicU32; 3],
}

/// Size of the stack a `CLONE_VM` child runs on. The child's code is a
/// few frames of system call wrappers; glibc's `posix_spawn` uses less
/// than a page for the same work.
const CHILD_STACK: usize = 256 * 1024;

/// Start a child that carries out `plan` and `execve`s. Everything is
/// prepared here, before the child starts; the child only makes
/// async-signal-safe system calls and reports a failure through a pipe
/// (read it with [`read_report`]) before `_exit(127)`.
///
/// The child is started with `clone(CLONE_VM | CLONE_VFORK)` on a stack of
/// its own, as glibc's `posix_spawn` does: it shares the parent's memory
/// until `execve`, so no page table is copied and the parent's threads take
/// no copy-on-write faults afterwards (a `fork` of the multi-threaded
/// super-server cost more CPU than the whole service it started). The
/// calling thread waits until the child has called `execve` or `_exit`. A
/// plan that writes to the connection (a banner) could block that long on a
/// client that does not read, so such a plan is started with `fork`.
pub fn spawn_plan(plan: &ChildPlan) -> io::Result<Spawned> {
    let path = CString::new(plan.path.as_slice())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let argv = cstrings(&plan.argv)?;
    let env = cstrings(&plan.env)?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    let groups: Vec<Vec<libc::gid_t>> = plan
        .steps
        .iter()
        .map(|s| match s {
            ChildStep::Identity { groups, .. } => groups.clone(),
            _ => Vec::new(),
        })
        .collect();
    // SAFETY: sigset_t is plain old data; sigemptyset initialises it.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: empty is writable.
    unsafe { libc::sigemptyset(&mut empty) };

    let mut prepared = Prepared {
        plan,
        path,
        argv_ptrs,
        env_ptrs,
        groups,
        empty,
        report_fd: -1,
        failed: AtomicBool::new(false),
        failure: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
    };
    let writes = plan.steps.iter().any(|s| matches!(s, ChildStep::Write(_)));
    let spawned = if writes {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds is writable for two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: both descriptors are new and owned only here.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        prepared.report_fd = wr.as_raw_fd();
        let pid = spawn_fork(&prepared)?;
        drop(wr);
        Spawned {
            pid,
            report: Some(rd),
            failure: None,
        }
    } else {
        let pid = spawn_vfork(&prepared)?;
        let failure = prepared.failed.load(Ordering::Acquire).then(|| {
            let [step, call, errno] = &prepared.failure;
            decode_failure(
                step.load(Ordering::Relaxed),
                call.load(Ordering::Relaxed),
                errno.load(Ordering::Relaxed) as i32,
            )
        });
        Spawned {
            pid,
            report: None,
            failure,
        }
    };
    // argv and env own the strings the pointers in `prepared` point to.
    drop(prepared);
    drop((argv, env));
    Ok(spawned)
}

/// `fork`, then [`child_main`] in the child.
fn spawn_fork(p: &Prepared<'_>) -> io::Result<i32> {
    // SAFETY: fork has no memory-safety preconditions. The child runs only
    // child_main, which uses data prepared before the call and
    // async-signal-safe system calls, and never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: this is the child of the fork above; see child_main.
        unsafe { child_main(p) }
    }
    Ok(pid)
}

/// An anonymous private mapping, unmapped on drop.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

impl Stack {
    fn new(len: usize) -> io::Result<Stack> {
        // SAFETY: a new anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Stack { base, len })
    }

    /// The highest address, 16-byte aligned (stacks grow down on every
    /// architecture Linux's `clone` wrapper supports here).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: base + len is one past the end of the mapping.
        let end = unsafe { self.base.cast::<u8>().add(self.len) };
        end.wrapping_sub(end as usize % 16).cast()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: base and len describe the mapping made in new(); nothing
        // runs on it any more (the child has exec'd or exited).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

extern "C" fn vfork_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: arg is the &Prepared passed to clone by spawn_vfork, which
    // stays borrowed (and its thread suspended) until this child execs or
    // exits; child_main never returns.
    unsafe { child_main(&*(arg as *const Prepared<'_>)) }
}

/// `clone(CLONE_VM | CLONE_VFORK)` on a stack of its own, then
/// [`child_main`] in the child.
fn spawn_vfork(p: &Prepared<'_>) -> io::Result<i32> {
    thread_local! {
        /// The calling thread's child stack, kept between spawns (only
        /// one child of a thread runs on it at a time: the thread waits).
        static STACK: RefCell<Option<Stack>> = const { RefCell::new(None) };
    }
    STACK.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Stack::new(CHILD_STACK)?);
        }
        match slot.as_ref() {
            Some(stack) => clone_on(stack, p),
            None => Err(io::Error::from_raw_os_error(libc::ENOMEM)),
        }
    })
}

fn clone_on(stack: &Stack, p: &Prepared<'_>) -> io::Result<i32> {
    // Block every signal in this thread until the child has exec'd: the
    // child starts with this mask, so no handler of the parent can run in
    // the shared address space before child_main has reset the handlers.
    // SAFETY: sigset_t is plain old data; sigfillset initialises `all`.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `all` is a valid, writable sigset_t.
    unsafe { libc::sigfillset(&mut all) };
    // SAFETY: both sets are valid; `old` receives the current mask.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: the child runs vfork_child on its own stack (`stack`, which
    // this thread keeps and nothing else uses; with CLONE_VFORK clone
    // returns only after the child exec'd or exited). It shares this process's memory but not its
    // descriptors, signal handlers or credentials (no CLONE_FILES,
    // CLONE_SIGHAND or CLONE_THREAD); it only reads `p` and makes system
    // calls (see child_main), and this thread is suspended meanwhile.
    let pid = unsafe {
        libc::clone(
            vfork_child,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            p as *const Prepared<'_> as *mut libc::c_void,
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: `old` holds the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if pid < 0 {
        return Err(err);
    }
    Ok(pid)
}

/// The child: reset signal handlers, new session, descriptors 0-2, the
/// plan's steps, the signal mask emptied, `execve`; on failure a report on
/// the pipe and `_exit(127)`.
///
/// # Safety
///
/// Call only in a new child (of `fork`, or of `clone(CLONE_VM)` with every
/// signal blocked), with `p` fully built. It allocates nothing, takes no
/// lock and calls no code that could unwind; credentials are changed with
/// raw system calls, which affect only the calling process (glibc's
/// `setuid` would signal the parent's threads from a `CLONE_VM` child).
unsafe fn child_main(p: &Prepared<'_>) -> ! {
    // SAFETY: (the whole body) system calls on prepared, valid data; see
    // the function's contract.
    unsafe {
        let plan = p.plan;
        let report_fd = p.report_fd;
        let fail_call = |step: u32, call: u32| -> ! {
            let errno = *libc::__errno_location();
            if report_fd >= 0 {
                let mut msg = [0u8; 12];
                msg[..4].copy_from_slice(&step.to_ne_bytes());
                msg[4..8].copy_from_slice(&call.to_ne_bytes());
                msg[8..].copy_from_slice(&errno.to_ne_bytes());
                libc::write(report_fd, msg.as_ptr().cast(), msg.len());
            } else {
                // CLONE_VM: the parent reads this after clone returns.
                p.failure[0].store(step, Ordering::Relaxed);
                p.failure[1].store(call, Ordering::Relaxed);
                p.failure[2].store(errno as u32, Ordering::Relaxed);
                p.failed.store(true, Ordering::Release);
            }
            libc::_exit(127)
        };
        let fail = |step: u32| -> ! { fail_call(step, 0) };
        // Every signal the parent catches goes back to its default, as
        // execve would do, but before any can be delivered here; ignored
        // ones stay ignored except SIGPIPE (Rust ignores it) and SIGHUP as
        // the plan says.
        for sig in 1..=libc::SIGRTMAX() {
            let mut cur: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut cur) != 0 {
                continue;
            }
            if cur.sa_sigaction != libc::SIG_DFL && cur.sa_sigaction != libc::SIG_IGN {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::signal(
            libc::SIGHUP,
            if plan.ignore_sighup {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            },
        );
        libc::setsid();
        match plan.stdio {
            ChildStdio::Fd(mut fd) => {
                if fd < 3 {
                    fd = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3);
                    if fd < 0 {
                        fail(STDIO_STEP);
                    }
                }
                for target in 0..3 {
                    if libc::dup2(fd, target) < 0 {
                        fail(STDIO_STEP);
                    }
                }
                if plan.blocking_stdio {
                    let fl = libc::fcntl(0, libc::F_GETFL);
                    if fl >= 0 {
                        libc::fcntl(0, libc::F_SETFL, fl & !libc::O_NONBLOCK);
                    }
                }
            }
            ChildStdio::DevNull => {
                let n = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
                if n < 0 {
                    fail(STDIO_STEP);
                }
                for target in 0..3 {
                    if libc::dup2(n, target) < 0 {
                        fail(STDIO_STEP);
                    }
                }
                if n > 2 {
                    libc::close(n);
                }
            }
        }
        for (i, step) in plan.steps.iter().enumerate() {
            match step {
                ChildStep::Write(bytes) => {
                    let mut off = 0usize;
                    while off < bytes.len() {
                        let n = libc::write(1, bytes[off..].as_ptr().cast(), bytes.len() - off);
                        if n < 0 && *libc::__errno_location() == libc::EINTR {
                            continue;
                        }
                        if n <= 0 {
                            break;
                        }
                        off += n as usize;
                    }
                }
                ChildStep::Umask(m) => {
                    libc::umask(*m as libc::mode_t);
                }
                ChildStep::Nice(n) => {
                    libc::nice(*n);
                }
                ChildStep::Identity { uid, gid, .. } => {
                    let g: &[libc::gid_t] = p.groups.get(i).map_or(&[], |g| g.as_slice());
                    if libc::syscall(libc::SYS_setgid, *gid as libc::c_long) != 0 {
                        fail_call(i as u32, 0);
                    }
                    if libc::syscall(libc::SYS_setgroups, g.len() as libc::c_long, g.as_ptr()) != 0
                    {
                        fail_call(i as u32, 1);
                    }
                    if let Some(u) = uid {
                        if libc::syscall(libc::SYS_setuid, *u as libc::c_long) != 0 {
                            fail_call(i as u32, 2);
                        }
                    }
                }
            }
        }
        libc::sigprocmask(libc::SIG_SETMASK, &p.empty, std::ptr::null_mut());
        libc::execve(p.path.as_ptr(), p.argv_ptrs.as_ptr(), p.env_ptrs.as_ptr());
        fail(EXEC_STEP)
    }
}

/// Read a child's report pipe (see [`spawn_plan`]).
pub fn read_report(fd: &OwnedFd) -> Report {
    let mut msg = [0u8; 12];
    // SAFETY: msg is writable for its length.
    let n = unsafe { libc::read(fd.as_raw_fd(), msg.as_mut_ptr().cast(), msg.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
            Report::Pending
        } else {
            Report::Executed
        };
    }
    if n as usize != msg.len() {
        return Report::Executed;
    }
    let step = u32::from_ne_bytes([msg[0], msg[1], msg[2], msg[3]]);
    let call = u32::from_ne_bytes([msg[4], msg[5], msg[6], msg[7]]);
    let errno = i32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
    Report::Failed(decode_failure(step, call, errno))
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The effective group id.
pub fn egid() -> u32 {
    // SAFETY: getegid has no preconditions and cannot fail.
    unsafe { libc::getegid() }
}

/// The name of a group (`getgrgid_r`).
pub fn group_name(gid: u32) -> Option<Vec<u8>> {
    let mut buf = vec![0 as libc::c_char; 65536];
    // SAFETY: group is plain old data.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf's length is passed.
    let rc = unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    // SAFETY: gr_name points into buf, NUL-terminated by the C library.
    Some(unsafe { CStr::from_ptr(gr.gr_name) }.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_report(s: &Spawned) -> Report {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = match (&s.failure, &s.report) {
                (Some(f), _) => Report::Failed(*f),
                (None, Some(fd)) => read_report(fd),
                (None, None) => Report::Executed,
            };
            if r != Report::Pending || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_exit(pid: i32) -> Exit {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = try_wait(pid).unwrap() {
                return e;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn plan(path: &str, argv: &[&str], stdio: ChildStdio) -> ChildPlan {
        ChildPlan {
            path: path.as_bytes().to_vec(),
            argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: vec![b"GREETING=hi there".to_vec()],
            stdio,
            steps: Vec::new(),
            ignore_sighup: false,
            blocking_stdio: false,
        }
    }

    #[test]
    fn child_runs_with_prepared_stdio_env_and_banner() {
        use std::io::Read;
        use std::os::unix::net::UnixStream;
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let mut p = plan(
            "/bin/sh",
            &["sh", "-c", "echo \"$GREETING $0\"; exit 3"],
            ChildStdio::Fd(theirs.as_raw_fd()),
        );
        p.steps.push(ChildStep::Write(b"banner\r\n".to_vec()));
        p.steps.push(ChildStep::Umask(0o077));
        let s = spawn_plan(&p).unwrap();
        drop(theirs);
        assert_eq!(wait_report(&s), Report::Executed);
        let mut out = Vec::new();
        ours.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"banner\r\nhi there sh\n");
        assert_eq!(wait_exit(s.pid), Exit::Code(3));
    }

    fn run_collect(p: &ChildPlan) -> (Vec<u8>, Exit) {
        use std::io::Read;
        use std::os::unix::net::UnixStream;
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let mut p = p.clone();
        p.stdio = ChildStdio::Fd(theirs.as_raw_fd());
        let s = spawn_plan(&p).unwrap();
        drop(theirs);
        let mut out = Vec::new();
        ours.read_to_end(&mut out).unwrap();
        (out, wait_exit(s.pid))
    }

    fn current_mask() -> libc::sigset_t {
        // SAFETY: sigset_t is plain old data, filled by pthread_sigmask.
        let mut cur: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a null new set only queries the mask into `cur`.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut cur) };
        cur
    }

    fn blocked(set: &libc::sigset_t, sig: i32) -> bool {
        // SAFETY: set is an initialised sigset_t.
        unsafe { libc::sigismember(set, sig) == 1 }
    }

    #[test]
    fn shared_memory_child_gets_stdio_env_umask_and_default_signals() {
        // No banner: this plan takes the clone(CLONE_VM | CLONE_VFORK) path.
        let mut p = plan(
            "/bin/sh",
            &[
                "sh",
                "-c",
                "echo \"$GREETING $0\"; umask; trap; exec cat /proc/self/status",
            ],
            ChildStdio::DevNull,
        );
        p.steps.push(ChildStep::Umask(0o027));
        let before = current_mask();
        let (out, exit) = run_collect(&p);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(exit, Exit::Code(0), "{text}");
        assert!(text.starts_with("hi there sh\n0027\n"), "{text}");
        // Nothing blocked and nothing ignored in the new program: Rust's
        // ignored SIGPIPE is back to its default, as for SIGHUP.
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
                .unwrap()
        };
        assert_eq!(field("SigBlk:"), 0, "{text}");
        assert_eq!(field("SigIgn:") & (1 << (libc::SIGPIPE - 1)), 0, "{text}");
        assert_eq!(field("SigIgn:") & (1 << (libc::SIGHUP - 1)), 0, "{text}");
        // A new session: the child leads it.
        let sid = text.lines().find_map(|l| l.strip_prefix("NSsid:")).unwrap();
        let pid = text.lines().find_map(|l| l.strip_prefix("Pid:")).unwrap();
        assert_eq!(sid.trim(), pid.trim());
        // The caller's mask is what it was.
        let after = current_mask();
        for sig in 1..32 {
            assert_eq!(blocked(&before, sig), blocked(&after, sig), "signal {sig}");
        }
    }

    #[test]
    fn ignored_sighup_is_kept_when_the_plan_says_so() {
        let mut p = plan(
            "/bin/sh",
            &["sh", "-c", "kill -HUP $$; echo alive"],
            ChildStdio::DevNull,
        );
        p.ignore_sighup = true;
        assert_eq!(run_collect(&p), (b"alive\n".to_vec(), Exit::Code(0)));
        p.ignore_sighup = false;
        assert_eq!(run_collect(&p), (Vec::new(), Exit::Signal(libc::SIGHUP)));
    }

    #[test]
    fn identity_steps_change_only_the_child() {
        let mut p = plan("/usr/bin/id", &["id"], ChildStdio::DevNull);
        p.steps.push(ChildStep::Identity {
            uid: Some(65534),
            gid: 65534,
            groups: vec![65534, 4],
        });
        let (out, exit) = run_collect(&p);
        if euid() == 0 {
            assert_eq!(exit, Exit::Code(0));
            let text = String::from_utf8_lossy(&out);
            assert!(text.starts_with("uid=65534("), "{text}");
            assert!(text.contains(" gid=65534("), "{text}");
            assert!(text.contains("groups=65534("), "{text}");
            assert!(text.contains(",4("), "{text}");
        } else {
            let s = spawn_plan(&p).unwrap();
            assert_eq!(
                wait_report(&s),
                Report::Failed(ChildFailure::Step(0, "setgid", libc::EPERM))
            );
            assert_eq!(wait_exit(s.pid), Exit::Code(127));
        }
        // The parent (all of its threads) kept its identity.
        // SAFETY: getuid and getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((euid(), egid()), (uid, gid));
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert!(
            uids.split_whitespace()
                .skip(1)
                .all(|u| u == uid.to_string()),
            "{uids}"
        );
    }

    #[test]
    fn many_threads_spawn_at_once() {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..40 {
                        let arg = format!("{t}-{i}");
                        let p = plan("/bin/echo", &["echo", &arg], ChildStdio::DevNull);
                        let (out, exit) = run_collect(&p);
                        assert_eq!(exit, Exit::Code(0));
                        assert_eq!(out, format!("{arg}\n").into_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn exec_failure_is_reported() {
        let p = plan("/nonexistent/tcpwrapd-test", &["x"], ChildStdio::DevNull);
        let s = spawn_plan(&p).unwrap();
        assert_eq!(
            wait_report(&s),
            Report::Failed(ChildFailure::Exec(libc::ENOENT))
        );
        assert_eq!(wait_exit(s.pid), Exit::Code(127));
    }

    #[test]
    fn signals_and_services() {
        let s = spawn_plan(&plan(
            "/bin/sh",
            &["sh", "-c", "kill -SEGV $$"],
            ChildStdio::DevNull,
        ))
        .unwrap();
        assert_eq!(wait_exit(s.pid), Exit::Signal(libc::SIGSEGV));
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert!(try_wait(s.pid).is_err());
        // Numeric port lookups do not depend on /etc/services content.
        assert_eq!(service_port(b"no-such-service-tcpwrapd", "tcp"), None);
        let t = local_time(0);
        assert!(t.year == 1970 || t.year == 1969);
    }
}
