//! Compiled tables and pattern files cached by file identity (device, inode,
//! size, mtime, ctime). The identity is taken from the descriptor the data is
//! read from, so a file replaced between the check and the read is never
//! paired with stale contents. Files that are not regular files (FIFOs,
//! devices) are read every time and never cached.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
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

/// What opening a file gave.
enum Opened {
    Missing,
    Directory,
    Error(String),
    File(File, Metadata),
}

fn open(path: &[u8]) -> Opened {
    let p = Path::new(OsStr::from_bytes(path));
    // O_NONBLOCK: a FIFO without a writer must not hang the caller.
    match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(p) {
        Ok(f) => match f.metadata() {
            Ok(m) if m.is_dir() => Opened::Directory,
            Ok(m) => Opened::File(f, m),
            Err(e) => Opened::Error(strerror(&e)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Opened::Missing,
        Err(e) => Opened::Error(strerror(&e)),
    }
}

fn read_all(mut f: File) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    match (&mut f).take(MAX_FILE + 1).read_to_end(&mut data) {
        Ok(_) if data.len() as u64 > MAX_FILE => Err(strerror(&io::Error::from_raw_os_error(libc::EFBIG))),
        Ok(_) => Ok(data),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(data),
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => Ok(Vec::new()),
        Err(e) => Err(strerror(&e)),
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
    map: RwLock<HashMap<Vec<u8>, (FileId, Arc<Table>)>>,
}

impl TableCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The table at `path`, compiled (from cache when unchanged).
    pub fn load(&self, path: &[u8]) -> Loaded {
        let (f, m) = match open(path) {
            Opened::Missing => return Loaded::Missing,
            Opened::Directory => return Loaded::Table(Arc::new(Table::compile(path, b""))),
            Opened::Error(error) => return Loaded::Unreadable { path: path.to_vec(), error },
            Opened::File(f, m) => (f, m),
        };
        let regular = m.file_type().is_file();
        let id = FileId::of(&m);
        if regular {
            if let Ok(map) = self.map.read() {
                if let Some((cid, t)) = map.get(path) {
                    if *cid == id {
                        return Loaded::Table(t.clone());
                    }
                }
            }
        }
        let data = match read_all(f) {
            Ok(d) => d,
            Err(error) => return Loaded::Unreadable { path: path.to_vec(), error },
        };
        let t = Arc::new(Table::compile(path, &data));
        if regular {
            if let Ok(mut map) = self.map.write() {
                map.insert(path.to_vec(), (id, t.clone()));
            }
        }
        Loaded::Table(t)
    }

    /// Forget every cached table.
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

/// `/file` pattern lists read through the same identity cache.
#[derive(Debug, Default)]
pub struct CachedFiles {
    map: RwLock<HashMap<Vec<u8>, (FileId, Arc<[u8]>)>>,
}

impl PatternFiles for CachedFiles {
    fn read(&self, path: &[u8]) -> FileContent {
        let (f, m) = match open(path) {
            Opened::Missing => return FileContent::Missing,
            Opened::Directory => return FileContent::Directory,
            Opened::Error(e) => return FileContent::Error(e),
            Opened::File(f, m) => (f, m),
        };
        let regular = m.file_type().is_file();
        let id = FileId::of(&m);
        if regular {
            if let Ok(map) = self.map.read() {
                if let Some((cid, d)) = map.get(path) {
                    if *cid == id {
                        return FileContent::Data(d.clone());
                    }
                }
            }
        }
        match read_all(f) {
            Ok(d) => {
                let d: Arc<[u8]> = d.into();
                if regular {
                    if let Ok(mut map) = self.map.write() {
                        map.insert(path.to_vec(), (id, d.clone()));
                    }
                }
                FileContent::Data(d)
            }
            Err(e) => FileContent::Error(e),
        }
    }
}
