//! Change notification for cached files, so that a warm check does not need
//! a `stat()` per table (about 1 µs each on a virtual machine, more than the
//! whole decision).
//!
//! For every absolute path the cache asks about, one process-wide inotify
//! instance watches the path's directory (names created, deleted, renamed,
//! modified) and the file itself (content and attribute changes, also when
//! the file is bind-mounted or hard-linked elsewhere). Each path has a
//! *stamp* that changes whenever an event concerns it. The cache stores, with
//! every value, the stamp observed before the file was last opened or
//! `stat()`ed; a value whose stamp is unchanged is still current, because the
//! kernel queues inotify events inside the system call that changes the file,
//! before that call returns, and [`observe`] drains the queue first.
//!
//! Where notification cannot be trusted, [`observe`] answers `None` and the
//! cache falls back to a `stat()` per check: relative paths (the working
//! directory can change), symbolic links (their target can change without an
//! event on the watched directory), file systems that are not local
//! (NFS, CIFS, FUSE … see [`LOCAL_FS`]), paths beyond [`MAX_PATHS`], and any
//! inotify error. A queue overflow invalidates every path. After `fork()` the
//! child starts with a fresh instance (the inherited descriptor is shared
//! with the parent, which would lose events to the child).
//!
//! Not seen, and documented in docs/divergences.md (E8): a file system
//! mounted over a watched directory or one of its ancestors, or an ancestor
//! directory renamed. Use [`crate::cache::Revalidate::Stat`] where that can
//! happen.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::sys::notify;

/// Largest number of paths watched per process.
pub const MAX_PATHS: usize = 1024;

/// File systems whose changes all pass through this kernel, so inotify
/// sees them: ext2/3/4, xfs, btrfs, tmpfs, f2fs, zfs, overlayfs, ramfs,
/// reiserfs, jfs.
pub const LOCAL_FS: &[i64] = &[
    0xEF53,
    0x5846_5342,
    0x9123_683E,
    0x0102_1994,
    0xF2F5_2010,
    0x2FC1_2FC1,
    0x794C_7630,
    0x8584_58F6,
    0x5265_4973,
    0x3153_464A,
];

const DIR_MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;

const FILE_MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_DONT_FOLLOW;

/// One decoded inotify event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub wd: i32,
    pub mask: u32,
    pub name: &'a [u8],
}

/// Decode a buffer filled by `read()` on an inotify descriptor. A truncated
/// tail (which the kernel never produces) is ignored.
pub fn parse_events(mut buf: &[u8]) -> Vec<Event<'_>> {
    const HEAD: usize = 16;
    let mut out = Vec::new();
    while buf.len() >= HEAD {
        let word = |i: usize| [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]];
        let wd = i32::from_ne_bytes(word(0));
        let mask = u32::from_ne_bytes(word(4));
        let len = u32::from_ne_bytes(word(12)) as usize;
        let Some(raw) = buf.get(HEAD..HEAD + len) else {
            break;
        };
        let name = &raw[..memchr::memchr(0, raw).unwrap_or(raw.len())];
        out.push(Event { wd, mask, name });
        buf = &buf[HEAD + len..];
    }
    out
}

#[derive(Debug)]
struct PathState {
    stamp: u64,
    /// Watches are in place (or the path is known to be unwatchable).
    registered: bool,
    watchable: bool,
    dir_wd: Option<i32>,
    file_wd: Option<i32>,
}

#[derive(Debug, Default)]
struct WdState {
    /// Paths this watch descriptor concerns.
    paths: Vec<Vec<u8>>,
    /// A directory watch (events carry names) or a file watch.
    dir: bool,
}

#[derive(Debug)]
struct State {
    fd: Option<OwnedFd>,
    seq: u64,
    /// Lower bound of every stamp (raised by overflows and resets).
    floor: u64,
    paths: HashMap<Vec<u8>, PathState>,
    wds: HashMap<i32, WdState>,
    buf: Vec<u8>,
}

/// The process-wide watcher.
#[derive(Debug)]
pub struct Watcher {
    /// The descriptor number, readable without the lock (to close it in a
    /// child process that abandons an inherited watcher).
    raw_fd: AtomicI32,
    state: Mutex<State>,
}

fn split(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.first() != Some(&b'/') {
        return None;
    }
    let slash = memchr::memrchr(b'/', path)?;
    let (dir, base) = (&path[..slash], &path[slash + 1..]);
    if base.is_empty() || base == b"." || base == b".." {
        return None;
    }
    Some((if dir.is_empty() { b"/" } else { dir }, base))
}

impl State {
    fn bump(&mut self, path: &[u8]) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(p) = self.paths.get_mut(path) {
            p.stamp = seq;
            p.registered = false;
        }
    }

    fn bump_all(&mut self) {
        self.seq += 1;
        self.floor = self.seq;
        for p in self.paths.values_mut() {
            p.registered = false;
        }
    }

    fn drain(&mut self) {
        loop {
            let Some(fd) = &self.fd else { return };
            let mut buf = std::mem::take(&mut self.buf);
            let n = match notify::read_events(fd, &mut buf) {
                Ok(n) => n,
                Err(_) => {
                    // An unusable descriptor: stop watching for good.
                    self.buf = buf;
                    self.fd = None;
                    self.bump_all();
                    return;
                }
            };
            if n == 0 {
                self.buf = buf;
                return;
            }
            for ev in parse_events(&buf[..n]) {
                self.apply(&ev);
            }
            self.buf = buf;
        }
    }

    fn apply(&mut self, ev: &Event<'_>) {
        if ev.mask & libc::IN_Q_OVERFLOW != 0 {
            self.bump_all();
            return;
        }
        let Some(w) = self.wds.get(&ev.wd) else {
            return;
        };
        let affected: Vec<Vec<u8>> = if w.dir && !ev.name.is_empty() {
            w.paths
                .iter()
                .filter(|p| split(p).is_some_and(|(_, b)| b == ev.name))
                .cloned()
                .collect()
        } else {
            w.paths.clone()
        };
        for p in &affected {
            self.bump(p);
        }
        if ev.mask & libc::IN_IGNORED != 0 {
            // The watch is gone (file deleted, directory removed,
            // unmounted): forget it; the paths re-register.
            if let Some(w) = self.wds.remove(&ev.wd) {
                for p in &w.paths {
                    if let Some(ps) = self.paths.get_mut(p) {
                        if ps.dir_wd == Some(ev.wd) {
                            ps.dir_wd = None;
                        }
                        if ps.file_wd == Some(ev.wd) {
                            ps.file_wd = None;
                        }
                        ps.registered = false;
                    }
                }
            }
        }
    }

    fn unlink_wd(&mut self, wd: Option<i32>, path: &[u8]) {
        let Some(wd) = wd else { return };
        if let Some(w) = self.wds.get_mut(&wd) {
            w.paths.retain(|p| p != path);
            if w.paths.is_empty() {
                self.wds.remove(&wd);
                if let Some(fd) = &self.fd {
                    notify::rm_watch(fd, wd);
                }
            }
        }
    }

    fn link_wd(&mut self, wd: i32, dir: bool, path: &[u8]) {
        let w = self.wds.entry(wd).or_default();
        w.dir = dir;
        if !w.paths.iter().any(|p| p == path) {
            w.paths.push(path.to_vec());
        }
    }

    /// Put the watches for `path` in place. Directory first, then the file,
    /// so that a replacement of the file in between is seen as an event.
    fn register(&mut self, path: &[u8]) {
        let (old_dir, old_file) = match self.paths.get(path) {
            Some(p) => (p.dir_wd, p.file_wd),
            None => (None, None),
        };
        let (dir_wd, file_wd, watchable, settled) = self.watches_for(path);
        if old_dir != dir_wd {
            self.unlink_wd(old_dir, path);
        }
        if old_file != file_wd {
            self.unlink_wd(old_file, path);
        }
        if let Some(wd) = dir_wd {
            self.link_wd(wd, true, path);
        }
        if let Some(wd) = file_wd {
            self.link_wd(wd, false, path);
        }
        if let Some(p) = self.paths.get_mut(path) {
            p.dir_wd = dir_wd;
            p.file_wd = file_wd;
            p.watchable = watchable;
            // A path whose directory could not be watched (missing,
            // unreadable) is retried on the next check; one on a file system
            // that is not local stays unwatched; a symbolic link is settled
            // until its directory reports a change.
            p.registered = settled;
        }
    }

    /// (directory watch, file watch, watchable, settled).
    fn watches_for(&self, path: &[u8]) -> (Option<i32>, Option<i32>, bool, bool) {
        let (Some(fd), Some((dir, _))) = (&self.fd, split(path)) else {
            return (None, None, false, true);
        };
        match notify::fs_type(dir) {
            Ok(t) if LOCAL_FS.contains(&t) => {}
            Ok(_) => return (None, None, false, true),
            Err(_) => return (None, None, false, false),
        }
        let Ok(dir_wd) = notify::add_watch(fd, dir, DIR_MASK) else {
            return (None, None, false, false);
        };
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        let (file_wd, watchable) = match std::fs::symlink_metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, true),
            Err(_) => (None, false),
            Ok(m) if m.file_type().is_symlink() => (None, false),
            Ok(_) => match notify::add_watch(fd, path, FILE_MASK) {
                Ok(wd) => (Some(wd), true),
                Err(_) => (None, false),
            },
        };
        (Some(dir_wd), file_wd, watchable, true)
    }
}

impl Watcher {
    fn new() -> Watcher {
        let fd = notify::init().ok();
        Watcher {
            raw_fd: AtomicI32::new(fd.as_ref().map_or(-1, |f| f.as_raw_fd())),
            state: Mutex::new(State {
                fd,
                seq: 0,
                floor: 0,
                paths: HashMap::new(),
                wds: HashMap::new(),
                buf: vec![0; 4096 + 16 + 256],
            }),
        }
    }

    /// The stamp of `path` (see the module documentation), or `None` when
    /// changes to it cannot be observed and the caller must `stat()` it.
    pub fn observe(&self, path: &[u8]) -> Option<u64> {
        let mut s = self.state.lock().ok()?;
        s.fd.as_ref()?;
        s.drain();
        let floor = s.floor;
        match s.paths.get(path) {
            Some(p) if p.registered => return p.watchable.then(|| p.stamp.max(floor)),
            Some(_) => {}
            None => {
                if s.paths.len() >= MAX_PATHS || split(path).is_none() {
                    return None;
                }
                s.paths.insert(
                    path.to_vec(),
                    PathState {
                        stamp: floor,
                        registered: false,
                        watchable: false,
                        dir_wd: None,
                        file_wd: None,
                    },
                );
            }
        }
        s.register(path);
        let p = s.paths.get(path)?;
        (p.registered && p.watchable).then(|| p.stamp.max(s.floor))
    }
}

static WATCHER: notify::PerProcess<Watcher> = notify::PerProcess::new();

/// This process's watcher.
pub fn watcher() -> &'static Watcher {
    WATCHER.get(Watcher::new, |old| {
        // The inherited descriptor is shared with the parent: close our
        // copy so that it is never read here. Its lock may be held by a
        // thread that does not exist in this process, so only the atomic is
        // touched.
        let fd = old.raw_fd.swap(-1, Ordering::SeqCst);
        if fd >= 0 {
            crate::sys::close_fd(fd);
        }
    })
}

/// `watcher().observe(path)`.
pub fn observe(path: &[u8]) -> Option<u64> {
    watcher().observe(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_decode() {
        let mut b = Vec::new();
        for (wd, mask, name) in [(1i32, 2u32, &b"hosts.allow"[..]), (7, 0x8000, b"")] {
            let padded = if name.is_empty() { 0 } else { 16 };
            b.extend_from_slice(&wd.to_ne_bytes());
            b.extend_from_slice(&mask.to_ne_bytes());
            b.extend_from_slice(&0u32.to_ne_bytes());
            b.extend_from_slice(&(padded as u32).to_ne_bytes());
            let mut n = name.to_vec();
            n.resize(padded, 0);
            b.extend_from_slice(&n);
        }
        b.extend_from_slice(&[1, 2, 3]);
        let ev = parse_events(&b);
        assert_eq!(
            ev,
            vec![
                Event {
                    wd: 1,
                    mask: 2,
                    name: b"hosts.allow"
                },
                Event {
                    wd: 7,
                    mask: 0x8000,
                    name: b""
                }
            ]
        );
    }

    #[test]
    fn only_absolute_plain_names_split() {
        assert_eq!(
            split(b"/etc/hosts.allow"),
            Some((&b"/etc"[..], &b"hosts.allow"[..]))
        );
        assert_eq!(
            split(b"/hosts.allow"),
            Some((&b"/"[..], &b"hosts.allow"[..]))
        );
        assert_eq!(split(b"hosts.allow"), None);
        assert_eq!(split(b"/etc/"), None);
        assert_eq!(split(b"/etc/.."), None);
    }
}
