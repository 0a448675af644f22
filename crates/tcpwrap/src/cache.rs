//! Compiled tables and pattern files cached by file identity (device, inode,
//! size, mtime, ctime). The identity is taken from the descriptor the data is
//! read from, so a file replaced between the check and the read is never
//! paired with stale contents. Devices are read every time and never
//! cached; FIFOs and sockets are not read at all ([`FIFO_NOT_READ`]).
//!
//! A cached value is confirmed before each use either by change notification
//! ([`Revalidate::Notify`], the default: see [`crate::watch`]) or by a
//! `stat()` of the path ([`Revalidate::Stat`]).
//!
//! The identity alone does not prove that the contents are unchanged: the
//! kernel stamps files with a clock that advances in ticks of 1 to 10 ms
//! (ext4, xfs, btrfs and tmpfs before Linux 6.13, ramfs and others still),
//! so a file rewritten in place with the same size within one tick keeps
//! its identity; and a `write()` stamps the file before it copies the data,
//! so a read that overlaps it can see a mixture under the final identity.
//! Hence a notification that the file changed always means a new read, and
//! a value read from a file changed less than [`RACY`] before the read began
//! is never confirmed by its identity (the next use reads the file again,
//! until a read starts long enough after the last change): the "racily
//! clean" rule of git's index.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tcpwrap_core::{FileContent, PatternFiles, Table};

use crate::sys::strerror;

/// Largest table or pattern file read (a larger one is an error: the table
/// then denies, fail closed).
pub const MAX_FILE: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(m: &Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// Why a FIFO (or socket) given as a table or pattern file is not read: a
/// FIFO without a writer would hang the check (Debian's `fopen` blocks until
/// a writer appears), one with a writer can be read only once and may be
/// read half-written. The table then counts as unreadable (fail closed:
/// hosts.deny denies), a pattern file does not match, with this text in the
/// warning.
pub const FIFO_NOT_READ: &str = "Is a FIFO (not read: reading could block)";

/// What opening a file gave.
enum Opened {
    Missing,
    Directory,
    Error(String),
    File(File, Metadata),
}

/// Open for reading without blocking; the metadata of the descriptor.
/// FIFOs and sockets are refused ([`FIFO_NOT_READ`]).
fn open_nonblocking(path: &Path) -> io::Result<(File, Metadata)> {
    // O_NONBLOCK: opening a FIFO without a writer must not hang the caller
    // (it is then refused below, from the descriptor's own metadata).
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let m = f.metadata()?;
    let t = m.file_type();
    if t.is_fifo() || t.is_socket() {
        return Err(io::Error::other(FIFO_NOT_READ));
    }
    Ok((f, m))
}

fn open(path: &[u8]) -> Opened {
    match open_nonblocking(Path::new(OsStr::from_bytes(path))) {
        Ok((_, m)) if m.is_dir() => Opened::Directory,
        Ok((f, m)) => Opened::File(f, m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Opened::Missing,
        Err(e) => Opened::Error(strerror(&e)),
    }
}

/// Read the whole file. `size` (from `fstat`) only sizes the buffer: the
/// file is read to its end however long it is by then (up to `MAX_FILE`),
/// without growing and copying the buffer when the size was right. A
/// device that has no data at once (`EAGAIN`) is an error, never a table
/// cut short.
fn read_all(mut f: File, size: u64) -> Result<Vec<u8>, String> {
    read_to_end(&mut f, size).map_err(|e| strerror(&e))
}

fn read_to_end(f: &mut File, size: u64) -> io::Result<Vec<u8>> {
    // One byte more than the size, so that the read that finds the end of
    // the file needs no room of its own.
    let mut data = Vec::with_capacity(size.min(MAX_FILE) as usize + 1);
    match f.take(MAX_FILE + 1).read_to_end(&mut data) {
        Ok(_) if data.len() as u64 > MAX_FILE => Err(io::Error::from_raw_os_error(libc::EFBIG)),
        Ok(_) => Ok(data),
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// `std::fs::read` for tables, pattern lists and other configuration read
/// by the tools: the same errors (`NotFound`; `EISDIR` for a directory),
/// but opened without blocking, FIFOs and sockets refused
/// ([`FIFO_NOT_READ`]), at most [`MAX_FILE`] bytes (`EFBIG` beyond), and a
/// device without data at once an error (`EAGAIN`).
pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let (mut f, m) = open_nonblocking(path)?;
    if m.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    read_to_end(&mut f, m.len())
}

/// How a cached value is confirmed to be current before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revalidate {
    /// Change notification (see [`crate::watch`]): no system call on the
    /// hot path except one non-blocking `read()` of the notification queue;
    /// a `stat()` where notification cannot be trusted. The default.
    #[default]
    Notify,
    /// A `stat()` of the path before every use, as in earlier versions: for
    /// setups [`crate::watch`] cannot follow (file systems mounted over the
    /// table's directory at run time).
    Stat,
}

/// Stamp value meaning "not confirmed by notification".
const UNCONFIRMED: u64 = u64::MAX;

/// A file whose last change (ctime or mtime) is less than this before a
/// read began may have been changed again within the same clock tick, or
/// may still have been being written: such a value is not confirmed by the
/// file's identity (see the module documentation). Covers the file clock's
/// tick (at most 10 ms) and a writer preempted between stamping the file
/// and copying the data.
pub const RACY: std::time::Duration = std::time::Duration::from_secs(1);

/// Nanoseconds since the epoch (negative before it).
fn nanos(secs: i64, nsec: i64) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nsec)
}

/// The real-time clock, in nanoseconds since the epoch.
fn now_nanos() -> i128 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Values derived from files, each kept with the identity of the file it
/// came from.
#[derive(Debug)]
struct ByIdentity<T> {
    map: RwLock<HashMap<Vec<u8>, Cached<T>>>,
    revalidate: Revalidate,
    counters: Counters,
}

/// What a cache did so far (for tests and diagnostics).
#[derive(Debug, Default)]
struct Counters {
    stats: AtomicU64,
    reads: AtomicU64,
}

/// A snapshot of a cache's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheCounters {
    /// `stat()` calls made to confirm cached values.
    pub stats: u64,
    /// Files read (and compiled, for tables).
    pub reads: u64,
}

#[derive(Debug)]
struct Cached<T> {
    id: FileId,
    value: T,
    /// The file changed less than [`RACY`] before it was read: the identity
    /// does not confirm the value.
    racy: bool,
    /// The notification stamp observed before the identity was last
    /// confirmed (by `open` + `fstat` or by `stat`).
    confirmed: AtomicU64,
}

impl<T> Default for ByIdentity<T> {
    fn default() -> Self {
        ByIdentity {
            map: RwLock::new(HashMap::new()),
            revalidate: Revalidate::default(),
            counters: Counters::default(),
        }
    }
}

/// A cache miss, with the stamp observed before it (to store with the value
/// the caller derives next) and the time before the file was opened.
struct Miss {
    stamp: u64,
    at: i128,
}

impl Miss {
    /// Taken before the file is opened: a change after this instant is
    /// stamped no earlier than the clock tick it falls in.
    fn now(stamp: u64) -> Miss {
        Miss {
            stamp,
            at: now_nanos(),
        }
    }
}

impl<T: Clone> ByIdentity<T> {
    fn with(revalidate: Revalidate) -> Self {
        ByIdentity {
            map: RwLock::new(HashMap::new()),
            revalidate,
            counters: Counters::default(),
        }
    }

    /// The cached value when it is known to be current: by an unchanged
    /// notification stamp (no system call but the queue read), else, when
    /// changes cannot be observed, by `stat(path)` showing the same
    /// identity (the file is not opened) and the value not being racy.
    fn fresh(&self, path: &[u8]) -> Result<T, Miss> {
        let stamp = match self.revalidate {
            Revalidate::Notify => crate::watch::observe(path).unwrap_or(UNCONFIRMED),
            Revalidate::Stat => UNCONFIRMED,
        };
        if stamp != UNCONFIRMED {
            // Observed: the value is current exactly when no notification
            // came since it was read. One did: the file is read again, even
            // if its identity looks the same.
            return match self.map.read().ok().and_then(|map| {
                map.get(path)
                    .filter(|c| c.confirmed.load(Ordering::Acquire) == stamp)
                    .map(|c| c.value.clone())
            }) {
                Some(v) => Ok(v),
                None => Err(Miss::now(stamp)),
            };
        }
        self.counters.stats.fetch_add(1, Ordering::Relaxed);
        let Ok(m) = std::fs::metadata(Path::new(OsStr::from_bytes(path))) else {
            return Err(Miss::now(stamp));
        };
        if !m.file_type().is_file() {
            return Err(Miss::now(stamp));
        }
        let id = FileId::of(&m);
        let Ok(map) = self.map.read() else {
            return Err(Miss::now(stamp));
        };
        match map.get(path).filter(|c| c.id == id && !c.racy) {
            Some(c) => Ok(c.value.clone()),
            None => Err(Miss::now(stamp)),
        }
    }

    /// The value for an opened file: from the cache when changes cannot be
    /// observed, the identity is unchanged and the value is not racy; else
    /// read from the same descriptor and derived anew (`make` also gets
    /// the previous value of the path, if there is one).
    fn get(
        &self,
        path: &[u8],
        miss: Miss,
        f: File,
        m: &Metadata,
        make: impl FnOnce(Vec<u8>, Option<T>) -> T,
    ) -> Result<T, String> {
        let regular = m.file_type().is_file();
        let id = FileId::of(m);
        let mut stale = None;
        if regular && miss.stamp == UNCONFIRMED {
            if let Some(c) = self.map.read().ok().as_ref().and_then(|map| {
                map.get(path)
                    .filter(|c| c.id == id && !c.racy)
                    .map(|c| c.value.clone())
            }) {
                return Ok(c);
            }
        }
        if regular {
            // A stale value is never returned again: it is taken out before
            // its replacement is made, so that `make` can reuse it, or its
            // memory is freed first and reused (with both alive, a large
            // table would need fresh pages on every change).
            stale = self
                .map
                .write()
                .ok()
                .and_then(|mut map| map.remove(path))
                .map(|c| c.value);
        }
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        let data = read_all(f, if regular { m.len() } else { 0 })?;
        let value = make(data, stale);
        if regular {
            let changed = nanos(m.ctime(), m.ctime_nsec()).max(nanos(m.mtime(), m.mtime_nsec()));
            let racy = changed > miss.at - RACY.as_nanos() as i128;
            if let Ok(mut map) = self.map.write() {
                map.insert(
                    path.to_vec(),
                    Cached {
                        id,
                        value: value.clone(),
                        racy,
                        confirmed: AtomicU64::new(miss.stamp),
                    },
                );
            }
        }
        Ok(value)
    }

    fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }

    fn counters(&self) -> CacheCounters {
        CacheCounters {
            stats: self.counters.stats.load(Ordering::Relaxed),
            reads: self.counters.reads.load(Ordering::Relaxed),
        }
    }
}

/// A table as loaded.
#[derive(Debug, Clone)]
pub enum Loaded {
    Missing,
    Unreadable { path: Vec<u8>, error: String },
    Table(Arc<Table>),
}

/// Cache of compiled tables.
#[derive(Debug, Default)]
pub struct TableCache {
    tables: ByIdentity<Arc<Table>>,
}

impl TableCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache that confirms tables as `revalidate` says.
    pub fn with(revalidate: Revalidate) -> Self {
        TableCache {
            tables: ByIdentity::with(revalidate),
        }
    }

    /// The table at `path`, compiled (from cache when unchanged).
    pub fn load(&self, path: &[u8]) -> Loaded {
        let miss = match self.tables.fresh(path) {
            Ok(t) => return Loaded::Table(t),
            Err(miss) => miss,
        };
        match open(path) {
            Opened::Missing => Loaded::Missing,
            Opened::Directory => Loaded::Table(Arc::new(Table::compile(path, b""))),
            Opened::Error(error) => Loaded::Unreadable {
                path: path.to_vec(),
                error,
            },
            Opened::File(f, m) => match self.tables.get(path, miss, f, &m, |data, stale| {
                // The previous table of the file, if no one else holds it:
                // a file that was only touched or had lines appended is
                // compiled from where it changed.
                match stale.and_then(|t| Arc::try_unwrap(t).ok()) {
                    Some(previous) => Arc::new(Table::recompile_owned(previous, data)),
                    None => Arc::new(Table::compile_owned(path, data)),
                }
            }) {
                Ok(t) => Loaded::Table(t),
                Err(error) => Loaded::Unreadable {
                    path: path.to_vec(),
                    error,
                },
            },
        }
    }

    /// Forget every cached table.
    pub fn clear(&self) {
        self.tables.clear();
    }

    /// What this cache did so far.
    pub fn counters(&self) -> CacheCounters {
        self.tables.counters()
    }
}

/// `/file` pattern lists read through the same identity cache.
#[derive(Debug, Default)]
pub struct CachedFiles {
    files: ByIdentity<Arc<[u8]>>,
}

impl CachedFiles {
    /// A cache that confirms files as `revalidate` says.
    pub fn with(revalidate: Revalidate) -> Self {
        CachedFiles {
            files: ByIdentity::with(revalidate),
        }
    }

    /// What this cache did so far.
    pub fn counters(&self) -> CacheCounters {
        self.files.counters()
    }
}

impl PatternFiles for CachedFiles {
    fn read(&self, path: &[u8]) -> FileContent {
        let miss = match self.files.fresh(path) {
            Ok(d) => return FileContent::Data(d),
            Err(miss) => miss,
        };
        match open(path) {
            Opened::Missing => FileContent::Missing,
            Opened::Directory => FileContent::Directory,
            Opened::Error(e) => FileContent::Error(e),
            Opened::File(f, m) => match self.files.get(path, miss, f, &m, |d, _| Arc::from(d)) {
                Ok(d) => FileContent::Data(d),
                Err(e) => FileContent::Error(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_all_reads_to_the_end_whatever_the_size_hint() {
        let dir = std::env::temp_dir().join(format!("tcpwrap-read-all-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        // 0 (no hint), too small, exact, too large: the file has grown or
        // shrunk since fstat, or is not a regular file.
        for hint in [0, 1, 4095, 99_999, 100_000, 100_001, 1 << 20] {
            let f = File::open(&path).unwrap();
            assert_eq!(read_all(f, hint).unwrap(), data, "hint {hint}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
