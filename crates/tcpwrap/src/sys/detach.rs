//! A detached background process for work that must not hold up the
//! caller: double fork, a new session, no inherited descriptors.

use std::io;

/// Run `work` in a detached grandchild and return as soon as the
/// intermediate child has exited (at once).
///
/// The grandchild is in a session of its own (`setsid`), is not the
/// caller's child (its parent exited, so init reaps it), has every
/// descriptor from 3 up closed (the client's socket among them) and 0-2 on
/// `/dev/null`, default handlers for the usual signals with SIGPIPE and
/// SIGHUP ignored, an empty signal mask, and an `alarm(bound_secs)` that
/// ends it should anything hang. The C library's syslog connection is
/// closed first (it would otherwise hold a descriptor number that gets
/// reused); `work` opens its own. After `work` returns (or panics) the
/// grandchild ends with `_exit`, without running the parent's exit
/// handlers.
///
/// Forking copies only the calling thread. In a process with other threads
/// a lock that one of them held at the fork (other than malloc's, which the
/// C library resets) stays locked in the child; the alarm then bounds the
/// damage. Long-running multi-threaded programs should use
/// [`crate::alert::Dispatcher`] instead.
pub fn spawn_detached<F: FnOnce()>(bound_secs: u32, work: F) -> io::Result<()> {
    // SAFETY: fork has no memory-safety preconditions; the child only runs
    // the code below and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        // The intermediate child exits at once; reap it so it is no zombie.
        // (A program that reaps its children itself may get ECHILD: fine.)
        let mut status = 0;
        loop {
            // SAFETY: status is a valid out pointer; pid is our child.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        return Ok(());
    }
    // Intermediate child.
    // SAFETY: setsid and fork have no memory-safety preconditions; _exit
    // ends this process without unwinding into the parent's stack.
    unsafe {
        libc::setsid();
        match libc::fork() {
            0 => {}
            -1 => {
                let e = io::Error::last_os_error();
                super::syslog::log(
                    libc::LOG_ERR,
                    format!("background process: cannot fork: {}", super::strerror(&e)).as_bytes(),
                );
                libc::_exit(1)
            }
            _ => libc::_exit(0),
        }
    }
    // Grandchild.
    prepare_grandchild(bound_secs);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    // SAFETY: _exit ends the process; nothing after it runs.
    unsafe { libc::_exit(if r.is_ok() { 0 } else { 1 }) }
}

fn prepare_grandchild(bound_secs: u32) {
    // SAFETY: closelog has no preconditions; the C library reopens its
    // connection on the next syslog().
    unsafe { libc::closelog() };
    close_from(3);
    // SAFETY: open of a constant NUL-terminated path; dup2/close on
    // descriptors we own; signal and sigprocmask with valid arguments.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                if null != fd {
                    libc::dup2(null, fd);
                }
            }
            if null > 2 {
                libc::close(null);
            }
        }
        for sig in [
            libc::SIGALRM,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGCHLD,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ] {
            libc::signal(sig, libc::SIG_DFL);
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::alarm(bound_secs.max(1));
    }
}

/// Close every descriptor from `low` up.
fn close_from(low: libc::c_int) {
    // SAFETY: close_range takes plain integers; it fails cleanly (ENOSYS)
    // on kernels before 5.9.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            low as libc::c_uint,
            libc::c_uint::MAX,
            0,
        )
    };
    if r == 0 {
        return;
    }
    // SAFETY: sysconf has no preconditions.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    let max = if max <= 0 { 1024 } else { max.min(1 << 20) } as libc::c_int;
    for fd in low..max {
        // SAFETY: closing descriptors nobody in this process uses any more.
        unsafe { libc::close(fd) };
    }
}
