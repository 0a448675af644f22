//! inotify, statfs and fork detection for the table cache's change
//! notification (see `crate::watch`).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Once;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

fn cpath(p: &[u8]) -> io::Result<CString> {
    CString::new(p).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
pub fn init() -> io::Result<OwnedFd> {
    // SAFETY: no pointer arguments.
    let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a freshly created descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `inotify_add_watch(fd, path, mask)`: the watch descriptor.
pub fn add_watch(fd: &OwnedFd, path: &[u8], mask: u32) -> io::Result<i32> {
    let c = cpath(path)?;
    // SAFETY: c is a NUL-terminated path that outlives the call.
    let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), mask) };
    if wd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(wd)
}

/// `inotify_rm_watch(fd, wd)` (errors ignored: the watch may be gone).
pub fn rm_watch(fd: &OwnedFd, wd: i32) {
    // SAFETY: no pointer arguments.
    unsafe { libc::inotify_rm_watch(fd.as_raw_fd(), wd) };
}

/// One non-blocking `read`: `Ok(0)` when nothing is queued.
pub fn read_events(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is a valid writable buffer of the length passed.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// `statfs(path).f_type`: the file system's magic number.
pub fn fs_type(path: &[u8]) -> io::Result<i64> {
    let c = cpath(path)?;
    // SAFETY: an all-zero statfs is a valid value of this plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is NUL-terminated and st is a valid, writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_type as i64)
}

static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn forked_child() {
    // Async-signal-safe: one atomic add.
    FORKS.fetch_add(1, Ordering::SeqCst);
}

/// How many `fork()`s separate this process from the first process that
/// called this function (0 in that process, 1 in its children, …). The
/// count is kept by a `pthread_atfork` child handler.
pub fn fork_generation() -> u64 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: the handler only performs an atomic add; registering
        // handlers has no other preconditions.
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    FORKS.load(Ordering::SeqCst)
}

/// A value that belongs to one process: after a `fork()`, the child gets a
/// fresh value instead of the one copied from its parent (whose locks may
/// have been held by threads that do not exist in the child, and whose
/// descriptors are shared with the parent). Values are leaked, one per
/// process at most (plus the one inherited).
pub struct PerProcess<T: 'static> {
    ptr: AtomicPtr<(u64, T)>,
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    pub const fn new() -> Self {
        PerProcess {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// This process's value, made by `make` on first use. When a value
    /// inherited from the parent is replaced, it is passed to `retire` once.
    pub fn get(&self, make: impl FnOnce() -> T, retire: impl FnOnce(&'static T)) -> &'static T {
        let generation = fork_generation();
        let cur = self.ptr.load(Ordering::Acquire);
        // SAFETY: every non-null pointer stored in `ptr` comes from
        // `Box::into_raw` below and is never freed (values are leaked), so
        // it is valid for 'static.
        let cur_ref: Option<&'static (u64, T)> = unsafe { cur.as_ref() };
        if let Some(c) = cur_ref {
            if c.0 == generation {
                return &c.1;
            }
        }
        let fresh = Box::into_raw(Box::new((generation, make())));
        match self
            .ptr
            .compare_exchange(cur, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if let Some(old) = cur_ref {
                    retire(&old.1);
                }
                // SAFETY: `fresh` was just published and is never freed.
                unsafe { &(*fresh).1 }
            }
            Err(winner) => {
                // SAFETY: `fresh` lost the race and was never published, so
                // this is its only owner.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: `winner` was published by another thread of this
                // process (so it is of this generation) and is never freed.
                unsafe { &(*winner).1 }
            }
        }
    }
}

impl<T: Send + Sync + 'static> Default for PerProcess<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::watch::observe;

    /// A child process gets its own watcher: it sees changes made after the
    /// fork, and it does not steal the events its parent needs.
    #[test]
    fn fork_gives_the_child_its_own_watcher() {
        let d = std::env::temp_dir().join(format!("tcpwrap-fork-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("hosts.allow");
        std::fs::write(&f, "a\n").unwrap();
        let path = {
            use std::os::unix::ffi::OsStrExt;
            f.as_os_str().as_bytes().to_vec()
        };
        let s0 = observe(&path).expect("a file in a local temporary directory is watched");
        assert_eq!(observe(&path), Some(s0));
        // SAFETY: the child only uses this crate's code and exits with
        // _exit; glibc's fork keeps malloc usable in the child.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = (|| {
                let c0 = observe(&path)?;
                std::fs::write(&f, "b\n").ok()?;
                let c1 = observe(&path)?;
                (c1 != c0).then_some(())
            })()
            .map_or(1, |()| 0);
            // SAFETY: ends the child without running the parent's
            // destructors or test harness.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just forked; status is writable.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child saw its change: status {status}"
        );
        // The child's write queued events for the parent too, and the child
        // did not consume them.
        assert_ne!(
            observe(&path),
            Some(s0),
            "the parent sees the child's change"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
