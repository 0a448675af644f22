//! Processes: `shell_cmd` (spawn), aclexec, twist and `clean_exit`, with
//! the system calls of Debian's library (fork, execl of /bin/sh, sleep and
//! exit through the C library, so that programs and test harnesses that
//! interpose them see the same calls).

use std::ffi::{CString, c_char, c_int};
use std::io;

fn sh() -> (
    &'static std::ffi::CStr,
    &'static std::ffi::CStr,
    &'static std::ffi::CStr,
) {
    (c"/bin/sh", c"sh", c"-c")
}

fn cstring(b: &[u8]) -> CString {
    CString::new(b.iter().copied().filter(|&x| x != 0).collect::<Vec<u8>>()).unwrap_or_default()
}

/// Log `PREFIX: strerror(errno)` at LOG_ERR from a child after fork, then
/// `_exit(0)`, as the original's children do.
///
/// # Safety
/// Only for a child process right after fork.
unsafe fn child_fail(prefix: &CString) -> ! {
    // SAFETY: errno location is valid; strerror returns a valid string;
    // syslog with a constant format and two C strings.
    unsafe {
        let e = *libc::__errno_location();
        libc::syslog(
            libc::LOG_ERR,
            c"%s%s".as_ptr(),
            prefix.as_ptr(),
            libc::strerror(e),
        );
        libc::_exit(0)
    }
}

/// `shell_cmd`: run `/bin/sh -c COMMAND` with SIGHUP ignored and standard
/// input, output and error on /dev/null; wait for it. `warn_prefix` is the
/// `warning: [FILE, line N: ]` text for errors logged by the child. Only a
/// failed fork is reported to the caller.
pub fn shell_cmd(command: &[u8], warn_prefix: &[u8]) -> io::Result<()> {
    let cmd = cstring(command);
    let (path, arg0, dash_c) = sh();
    let msg = |what: &str| cstring(&[warn_prefix, what.as_bytes()].concat());
    let (e_open, e_dup, e_exec) = (
        msg("open /dev/null: "),
        msg("dup: "),
        msg("execl /bin/sh: "),
    );
    // Keep SIGCHLD from reaching this thread's handlers while we wait, so
    // that a program's handler does not reap our child first.
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    let mut block: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers.
    unsafe {
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGCHLD);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
    }
    // SAFETY: fork; the child only makes async-signal-safe calls (and
    // syslog on failure, as the original does) before exec or _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: child process; all pointers were prepared before fork.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            for fd in 0..3 {
                libc::close(fd);
            }
            if libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != 0 {
                child_fail(&e_open);
            }
            if libc::dup(0) != 1 || libc::dup(0) != 2 {
                child_fail(&e_dup);
            }
            libc::execl(
                path.as_ptr(),
                arg0.as_ptr(),
                dash_c.as_ptr(),
                cmd.as_ptr(),
                std::ptr::null::<c_char>(),
            );
            child_fail(&e_exec);
        }
    }
    let result = if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        wait_for(pid);
        Ok(())
    };
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    result
}

/// Wait for one child (retrying on EINTR). Returns its status, or `None`
/// when it cannot be waited for (reaped elsewhere).
fn wait_for(pid: libc::pid_t) -> Option<c_int> {
    let mut status: c_int = 0;
    loop {
        // SAFETY: valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Some(status);
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return None;
    }
}

/// How an aclexec command ended.
pub enum AclexecEnd {
    Exited(i32),
    Signal(i32),
}

/// aclexec: run `/bin/sh -c COMMAND` with every descriptor inherited and
/// wait for it. Returns the child's pid and how it ended.
pub fn aclexec(command: &[u8], warn_prefix: &[u8]) -> io::Result<(i32, AclexecEnd)> {
    let cmd = cstring(command);
    let (path, arg0, dash_c) = sh();
    let e_exec = cstring(&[warn_prefix, b"execl /bin/sh: "].concat());
    // SAFETY: fork; the child calls only execl (and syslog on failure).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: child process; pointers prepared before fork.
        unsafe {
            libc::execl(
                path.as_ptr(),
                arg0.as_ptr(),
                dash_c.as_ptr(),
                cmd.as_ptr(),
                std::ptr::null::<c_char>(),
            );
            child_fail(&e_exec);
        }
    }
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    let end = match wait_for(pid) {
        Some(st) if libc::WIFSIGNALED(st) => AclexecEnd::Signal(libc::WTERMSIG(st)),
        Some(st) if libc::WIFEXITED(st) => AclexecEnd::Exited(libc::WEXITSTATUS(st)),
        _ => AclexecEnd::Exited(0),
    };
    Ok((pid, end))
}

/// twist: descriptors 0, 1 and 2 become copies of `fd` (each closed first
/// and then duplicated, as the original does), `fd` is closed if above 2,
/// and the process becomes `/bin/sh -c COMMAND`. Returns only on failure,
/// with the step that failed.
pub fn twist(fd: c_int, command: &[u8]) -> (&'static str, io::Error) {
    let cmd = cstring(command);
    let (path, arg0, dash_c) = sh();
    for target in 0..3 {
        if fd != target {
            // SAFETY: plain descriptor calls.
            let got = unsafe {
                libc::close(target);
                libc::dup(fd)
            };
            if got != target {
                return ("dup", io::Error::last_os_error());
            }
        }
    }
    if fd > 2 {
        // SAFETY: the request's descriptor is not used after this.
        unsafe { libc::close(fd) };
    }
    // SAFETY: NUL-terminated arguments, NULL-terminated list.
    unsafe {
        libc::execl(
            path.as_ptr(),
            arg0.as_ptr(),
            dash_c.as_ptr(),
            cmd.as_ptr(),
            std::ptr::null::<c_char>(),
        )
    };
    ("/bin/sh", io::Error::last_os_error())
}

/// The end of `clean_exit`: `sleep(5); exit(0)`.
pub fn sleep_and_exit() -> ! {
    // SAFETY: sleep and exit have no memory-safety preconditions; exit runs
    // the program's atexit handlers as in Debian's library.
    unsafe {
        libc::sleep(5);
        libc::exit(0)
    }
}

/// The datagram sink: read and discard one pending datagram.
pub fn discard_datagram(fd: c_int) {
    let mut buf = [0u8; 8192];
    // SAFETY: storage/buf are valid for the lengths passed.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        libc::recvfrom(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
            &mut ss as *mut _ as *mut libc::sockaddr,
            &mut len,
        );
    }
}
