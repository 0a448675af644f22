//! Process calls of `safe_finger` (§11.2): the identity check, the
//! standard descriptors, a child whose standard output is a pipe to us,
//! waiting for it with a time-out, and killing it.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Whether the real or the effective user id is 0.
pub fn is_root() -> bool {
    // SAFETY: getuid and geteuid have no preconditions and cannot fail.
    unsafe { libc::getuid() == 0 || libc::geteuid() == 0 }
}

/// `setuid(uid)`.
pub fn set_uid(uid: u32) -> io::Result<()> {
    // SAFETY: setuid has no memory-safety preconditions.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Make sure descriptors 0, 1 and 2 are open: each closed one is opened
/// on `/dev/null` for reading and writing (the original's loop: an
/// `fstat` failure means closed, and the `open` must return that number).
pub fn ensure_std_fds() -> io::Result<()> {
    for fd in 0..3 {
        // SAFETY: stat is plain old data; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: st is writable; fstat on any number is allowed.
        if unsafe { libc::fstat(fd, &mut st) } == 0 {
            continue;
        }
        // SAFETY: a constant NUL-terminated path.
        let got = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if got != fd {
            let e = io::Error::last_os_error();
            if got >= 0 {
                // SAFETY: got was just opened here and is not used again.
                unsafe { libc::close(got) };
            }
            return Err(e);
        }
    }
    Ok(())
}

/// A child process whose standard output is the read end of a pipe.
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    /// The read end of the child's standard output (take it to read it,
    /// drop it to close it).
    pub stdout: Option<File>,
    /// A descriptor that becomes readable when the child ends (Linux 5.3
    /// and later; `None` when unavailable).
    pidfd: Option<OwnedFd>,
}

/// Why a child could not be started: the step (as the original's
/// `perror` names it) and the error.
#[derive(Debug)]
pub struct SpawnError {
    pub step: Vec<u8>,
    pub error: io::Error,
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds is writable for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and owned only here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// What the child reports through the error pipe before `_exit(1)`.
const STEP_DUP: u8 = 0;
const STEP_EXEC: u8 = 1;

/// Run `file` (looked up in `PATH` by `execvp`, with the original's
/// fallback to `/bin/sh` for a file without `#!`) with `argv`, its standard
/// output a pipe to the returned [`Child`]; standard input and error,
/// signal dispositions, the signal mask and the environment are inherited
/// unchanged. Descriptors 0-2 must be open (see [`ensure_std_fds`]).
///
/// When the child cannot be started (`pipe`, `fork`, its `dup` or the
/// `execvp`), the error names the step: `pipe`, `fork`, `dup` or `file`;
/// a child that failed has already been reaped.
pub fn spawn_stdout_pipe(file: &[u8], argv: &[Vec<u8>]) -> Result<Child, SpawnError> {
    let fail = |step: &[u8], error: io::Error| SpawnError {
        step: step.to_vec(),
        error,
    };
    let einval = || io::Error::from_raw_os_error(libc::EINVAL);
    let cfile = CString::new(file).map_err(|_| fail(file, einval()))?;
    let cargs = argv
        .iter()
        .map(|a| CString::new(a.as_slice()))
        .collect::<Result<Vec<CString>, _>>()
        .map_err(|_| fail(file, einval()))?;
    let mut ptrs: Vec<*const libc::c_char> = cargs.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());

    let (rd, wr) = pipe_cloexec().map_err(|e| fail(b"pipe", e))?;
    let (err_rd, err_wr) = pipe_cloexec().map_err(|e| fail(b"pipe", e))?;
    let (rd_fd, wr_fd, err_fd) = (rd.as_raw_fd(), wr.as_raw_fd(), err_wr.as_raw_fd());

    // SAFETY: fork has no memory-safety preconditions. Everything the child
    // needs (the C strings, the argv array) was built before the call; the
    // child makes no allocation and takes no lock: close, dup2, fcntl,
    // write and _exit are async-signal-safe, and glibc's execvp searches
    // PATH in a stack buffer before execve (as std's Command relies on).
    // The child never returns into Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(fail(b"fork", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: the child: see above. The descriptors are those of the
        // pipes created above; ptrs is a NULL-terminated array of
        // NUL-terminated strings that are still alive.
        unsafe {
            let report = |step: u8| -> ! {
                let errno = *libc::__errno_location();
                let mut msg = [0u8; 5];
                msg[0] = step;
                msg[1..].copy_from_slice(&errno.to_ne_bytes());
                libc::write(err_fd, msg.as_ptr().cast(), msg.len());
                libc::_exit(1)
            };
            libc::close(rd_fd);
            if wr_fd == 1 {
                // dup2(1, 1) would keep close-on-exec set.
                if libc::fcntl(1, libc::F_SETFD, 0) < 0 {
                    report(STEP_DUP);
                }
            } else {
                if libc::dup2(wr_fd, 1) != 1 {
                    report(STEP_DUP);
                }
                libc::close(wr_fd);
            }
            libc::execvp(cfile.as_ptr(), ptrs.as_ptr());
            report(STEP_EXEC)
        }
    }
    drop(wr);
    drop(err_wr);
    // The error pipe closes on a successful exec (close-on-exec) or
    // carries the failed step.
    let mut err_file = File::from(err_rd);
    let mut msg = Vec::with_capacity(5);
    let _ = io::Read::read_to_end(&mut err_file, &mut msg);
    if msg.len() == 5 {
        let errno = i32::from_ne_bytes([msg[1], msg[2], msg[3], msg[4]]);
        let _ = wait_blocking(pid);
        let step: &[u8] = if msg[0] == STEP_DUP { b"dup" } else { file };
        return Err(fail(step, io::Error::from_raw_os_error(errno)));
    }
    // SAFETY: pidfd_open takes a pid and flags; no pointers.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let pidfd = if pidfd >= 0 {
        // SAFETY: pidfd_open returned a new descriptor owned only here.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) })
    } else {
        None
    };
    Ok(Child {
        pid,
        stdout: Some(File::from(rd)),
        pidfd,
    })
}

/// `poll` one descriptor for input until `deadline`: whether it became
/// readable (or hung up) in time.
pub fn readable_before(fd: RawFd, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        // Round up so that the deadline is not missed by a millisecond.
        let ms = left.as_millis().saturating_add(1).min(i32::MAX as u128) as libc::c_int;
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: p is one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n > 0 {
            return Ok(true);
        }
    }
}

fn wait_blocking(pid: i32) -> io::Result<i32> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: status is writable.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl Child {
    /// Wait for the child to end, at most until `deadline`: its raw wait
    /// status, `Ok(None)` on time-out, or the `waitpid` error (e.g. when
    /// SIGCHLD is ignored and the child was reaped by the kernel).
    pub fn wait_until(&self, deadline: Instant) -> io::Result<Option<i32>> {
        if let Some(fd) = &self.pidfd {
            if !readable_before(fd.as_raw_fd(), deadline)? {
                return Ok(None);
            }
            return wait_blocking(self.pid).map(Some);
        }
        loop {
            let mut status: libc::c_int = 0;
            // SAFETY: status is writable.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r == self.pid {
                return Ok(Some(status));
            }
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `kill(pid, SIGKILL)`; the child is not reaped.
    pub fn kill(&self) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our
        // child's and has not been reaped, so it cannot have been reused.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn child_output_and_status() {
        let mut c = spawn_stdout_pipe(b"sh", &v(&["sh", "-c", "echo hi; exit 3"])).unwrap();
        let mut out = Vec::new();
        c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hi\n");
        let st = c
            .wait_until(Instant::now() + Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 3);
    }

    #[test]
    fn missing_program_names_the_file() {
        let e = spawn_stdout_pipe(b"no-such-program-tcpwrap", &v(&["x"])).unwrap_err();
        assert_eq!(e.step, b"no-such-program-tcpwrap");
        assert_eq!(e.error.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn time_out_and_kill() {
        let c = spawn_stdout_pipe(b"sleep", &v(&["sleep", "30"])).unwrap();
        let t = Instant::now();
        assert!(
            !readable_before(
                c.stdout.as_ref().unwrap().as_raw_fd(),
                t + Duration::from_millis(100)
            )
            .unwrap()
        );
        assert_eq!(c.wait_until(Instant::now()).unwrap(), None);
        c.kill();
        let st = c
            .wait_until(Instant::now() + Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert!(libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGKILL);
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
