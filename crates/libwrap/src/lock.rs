//! The library lock: serialises access to the exported variables, to
//! `tcpd_buf` and `tcpd_context`, and to process-wide option effects.
//!
//! Reentrant, because the program's own functions (methods, an interposed
//! `shell_cmd` …) are called with the lock held and may call back into the
//! library. Made of atomics only, and fork-aware: a lock held by a thread of
//! the parent when another thread forked is taken over by the child, which
//! would otherwise wait forever for a thread that does not exist there.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

static OWNER: AtomicUsize = AtomicUsize::new(0);
static OWNER_PID: AtomicI32 = AtomicI32::new(0);
static DEPTH: AtomicUsize = AtomicUsize::new(0);

fn me() -> usize {
    // SAFETY: pthread_self has no preconditions and never fails.
    let t = unsafe { libc::pthread_self() } as usize;
    // pthread_t is a non-null address on glibc; keep 0 free as "no owner".
    t.max(1)
}

fn pid() -> i32 {
    // SAFETY: getpid has no preconditions and never fails.
    unsafe { libc::getpid() }
}

/// Held while alive.
pub struct Guard {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Take the lock (again, if this thread holds it already).
pub fn lock() -> Guard {
    install_fork_handlers();
    acquire();
    Guard {
        _not_send: std::marker::PhantomData,
    }
}

/// `fork()` waits until no other thread is inside a locked section (where
/// the library may hold the C library's own locks, e.g. in `setenv` or
/// `syslog`, which the child could never take again), and the child starts
/// with the lock as the forking thread had it.
fn install_fork_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering three handlers with no preconditions; they
        // only touch the atomics of this module.
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    });
}

extern "C" fn prepare() {
    acquire();
}

extern "C" fn parent() {
    release();
}

extern "C" fn child() {
    // Only the forking thread exists here; it keeps what it held before
    // `prepare`, now on behalf of this process.
    if DEPTH.fetch_sub(1, Ordering::Relaxed) == 1 {
        OWNER.store(0, Ordering::Release);
    } else {
        OWNER_PID.store(pid(), Ordering::Release);
    }
}

fn release() {
    if DEPTH.fetch_sub(1, Ordering::Relaxed) == 1 {
        OWNER.store(0, Ordering::Release);
    }
}

fn acquire() {
    let me = me();
    let pid = pid();
    let mut spins = 0u32;
    loop {
        let owner = OWNER.load(Ordering::Acquire);
        if owner == me && OWNER_PID.load(Ordering::Acquire) == pid {
            DEPTH.fetch_add(1, Ordering::Relaxed);
            break;
        }
        let stale = owner != 0 && OWNER_PID.load(Ordering::Acquire) != pid;
        if (owner == 0 || stale)
            && OWNER
                .compare_exchange(owner, me, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            OWNER_PID.store(pid, Ordering::Release);
            DEPTH.store(1, Ordering::Relaxed);
            break;
        }
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else if spins < 128 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        release();
    }
}

/// State that belongs to one process: after `fork()`, the child gets a
/// fresh instance instead of the parent's, whose internal locks another
/// thread of the parent may have held at the moment of the fork. The
/// parent's instance is left allocated (pointers into it stay valid).
pub struct PerProcess<T: Send + Sync + 'static> {
    current: std::sync::atomic::AtomicPtr<(i32, T)>,
    make: fn() -> T,
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    pub const fn new(make: fn() -> T) -> PerProcess<T> {
        PerProcess {
            current: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            make,
        }
    }

    /// This process's instance.
    pub fn get(&'static self) -> &'static T {
        let pid = pid();
        loop {
            let p = self.current.load(Ordering::Acquire);
            // SAFETY: a non-null pointer was leaked from a Box below and is
            // never freed.
            if let Some((owner, v)) = unsafe { p.as_ref() } {
                if *owner == pid {
                    return v;
                }
            }
            let fresh = Box::into_raw(Box::new((pid, (self.make)())));
            match self
                .current
                .compare_exchange(p, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: just created and now published; never freed.
                Ok(_) => return unsafe { &(*fresh).1 },
                Err(_) => {
                    // Another thread published first: drop ours, use theirs.
                    // SAFETY: `fresh` was never shared.
                    drop(unsafe { Box::from_raw(fresh) });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reentrant_and_exclusive() {
        let g1 = lock();
        let g2 = lock();
        drop(g2);
        let counter = std::sync::Arc::new(AtomicUsize::new(0));
        let c = counter.clone();
        let t = std::thread::spawn(move || {
            let _g = lock();
            c.store(1, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(counter.load(Ordering::SeqCst), 0);
        drop(g1);
        t.join().unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), 1);
    }
}
