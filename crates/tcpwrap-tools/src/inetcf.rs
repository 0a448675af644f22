//! inetd.conf analysis (§9.4), shared by tcpdmatch and tcpdchk: which
//! daemons are started through tcpd, and warnings about the entries.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tcpwrap_core::reader::LineReader;
use tcpwrap_core::text::eq_ci;

use crate::diag::Reporter;

/// Where tcpd looks for relative daemon names.
pub const REAL_DAEMON_DIR: &str = "/usr/sbin";

/// The inetd.conf files tried when none is given.
pub const INET_FILES: &[&str] = &["/etc/inetd.conf"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Unknown,
    Yes,
    Not,
    Maybe,
}

/// Known services and their wrap status (the last setting wins).
#[derive(Debug, Default)]
pub struct Services {
    list: Vec<(Vec<u8>, Wrap)>,
}

impl Services {
    pub fn set(&mut self, name: &[u8], w: Wrap) {
        self.list.push((name.to_vec(), w));
    }
    pub fn get(&self, name: &[u8]) -> Wrap {
        self.list
            .iter()
            .rev()
            .find(|(n, _)| eq_ci(n, name))
            .map(|&(_, w)| w)
            .unwrap_or(Wrap::Unknown)
    }
}

fn stat(p: &[u8]) -> std::io::Result<std::fs::Metadata> {
    std::fs::metadata(Path::new(OsStr::from_bytes(p)))
}

/// `check_path`: stat, warn when world writable, and check every parent
/// directory of an absolute path the same way.
pub fn check_path(path: &[u8], r: &mut Reporter) -> std::io::Result<std::fs::Metadata> {
    let m = stat(path)?;
    if m.mode() & 0o002 != 0 {
        r.warn([path, b": world writable"].concat());
    }
    if path.len() > 1 && path[0] == b'/' {
        if let Some(p) = path.iter().rposition(|&b| b == b'/') {
            let parent: &[u8] = if p == 0 { b"/" } else { &path[..p] };
            let _ = check_path(parent, r);
        }
    }
    Ok(m)
}

fn base_name(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

fn errtext(e: &std::io::Error) -> Vec<u8> {
    tcpwrap::sys::strerror(e).into_bytes()
}

fn inet_chk(
    protocol: &[u8],
    path: &[u8],
    arg0: &[u8],
    arg1: &[u8],
    svc: &mut Services,
    r: &mut Reporter,
) {
    let base_path = base_name(path);
    let proc_name: &[u8] = if arg0.first() == Some(&b'/') {
        base_name(arg0)
    } else {
        arg0
    };
    match check_path(path, r) {
        Err(e) => r.warn([path, b": not found: ", &errtext(&e)].concat()),
        Ok(m) if m.mode() & 0o100 == 0 => r.warn([path, b": not executable"].concat()),
        Ok(_) => {}
    }
    if eq_ci(base_path, b"miscd") {
        svc.set(arg0, Wrap::Yes);
        return;
    }
    if eq_ci(proc_name, b"rexd") || eq_ci(proc_name, b"rpc.rexd") {
        r.warn([proc_name, b" may be an insecure service"].concat());
    }
    let status;
    if eq_ci(base_path, b"tcpd") {
        if eq_ci(proc_name, b"tcpd") {
            r.warn([proc_name, b" is recursively calling itself"].concat());
        }
        status = Wrap::Yes;
        if let Ok(m) = stat(path) {
            if m.mode() & 0o6000 != 0 {
                r.warn([path, b": file is set-uid or set-gid"].concat());
            }
        }
        if arg0.first() == Some(&b'/') && eq_ci(proc_name, base_name(arg1)) {
            r.warn([path, b" inserted before ", arg0].concat());
        }
        if arg0.first() == Some(&b'/') {
            match check_path(arg0, r) {
                Err(e) => r.warn([arg0, b": not found: ", &errtext(&e)].concat()),
                Ok(m) if m.mode() & 0o100 == 0 => r.warn([arg0, b": not executable"].concat()),
                Ok(_) => {}
            }
        } else {
            let daemon = [REAL_DAEMON_DIR.as_bytes(), b"/", arg0].concat();
            match check_path(&daemon, r) {
                Err(e) => r.warn(
                    [
                        arg0,
                        b": not found in ",
                        REAL_DAEMON_DIR.as_bytes(),
                        b": ",
                        &errtext(&e),
                    ]
                    .concat(),
                ),
                Ok(m) if m.mode() & 0o100 == 0 => {
                    r.warn([&daemon[..], b": not executable"].concat())
                }
                Ok(_) => {}
            }
        }
    } else {
        let daemon = [REAL_DAEMON_DIR.as_bytes(), b"/", proc_name].concat();
        if eq_ci(path, &daemon) {
            status = Wrap::Not;
        } else {
            match check_path(&daemon, r) {
                Ok(_) => status = Wrap::Maybe,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => status = Wrap::Not,
                Err(e) => {
                    r.warn([&daemon[..], b": file lookup: ", &errtext(&e)].concat());
                    status = Wrap::Maybe;
                }
            }
        }
    }
    if status == Wrap::Yes && eq_ci(protocol, b"rpc/tcp") {
        r.warn([proc_name, b": cannot wrap rpc/tcp services"].concat());
    }
    svc.set(proc_name, status);
}

/// Outcome of reading the configuration.
pub enum Config {
    /// The file that was analysed.
    Read(Vec<u8>),
    /// No file given and none of the defaults exists.
    None,
}

/// `inet_cfg`: analyse `conf` (or the first default that exists). A given
/// file that cannot be opened is an error for the caller to report.
pub fn inet_cfg(
    conf: Option<&[u8]>,
    svc: &mut Services,
    r: &mut Reporter,
) -> Result<Config, (Vec<u8>, std::io::Error)> {
    let (name, data) = match conf {
        Some(c) => match std::fs::read(Path::new(OsStr::from_bytes(c))) {
            Ok(d) => (c.to_vec(), d),
            // fopen() of a directory works; reading it gives nothing.
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => (c.to_vec(), Vec::new()),
            Err(e) => return Err((c.to_vec(), e)),
        },
        None => {
            let found = INET_FILES
                .iter()
                .find_map(|f| std::fs::read(f).ok().map(|d| (f.as_bytes().to_vec(), d)));
            match found {
                Some((n, d)) => {
                    let _ = check_path(&n, r);
                    (n, d)
                }
                None => return Ok(Config::None),
            }
        }
    };
    let saved = r.context.take();
    let mut lines = LineReader::with_buffer(&data, 8192);
    while let Some(l) = lines.next() {
        r.context = Some((name.clone(), lines.line()));
        let mut f = l
            .text
            .split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .filter(|s| !s.is_empty());
        let Some(service) = f.next() else { continue };
        if service[0] == b'#' {
            continue;
        }
        if !eq_ci(service, b"stream") && !eq_ci(service, b"dgram") {
            f.next();
        }
        let protocol = f.next().unwrap_or(b"");
        f.next();
        let Some(user) = f.next() else { continue };
        let mut path = if user[0] == b'/' {
            user
        } else {
            match f.next() {
                Some(p) => p,
                None => continue,
            }
        };
        if path[0] == b'?' {
            path = &path[1..];
        }
        if eq_ci(path, b"internal") {
            continue;
        }
        if path.iter().all(|b| b.is_ascii_digit() || *b == b'-') {
            match f.next() {
                Some(p) => path = p,
                None => continue,
            }
        }
        let Some(mut arg0) = f.next() else {
            r.warn(b"incomplete line".to_vec());
            continue;
        };
        if arg0.iter().all(|b| b.is_ascii_digit()) {
            match f.next() {
                Some(a) => arg0 = a,
                None => {
                    r.warn(b"incomplete line".to_vec());
                    continue;
                }
            }
        }
        let arg1 = f.next().unwrap_or(b"");
        inet_chk(protocol, path, arg0, arg1, svc, r);
    }
    r.context = saved;
    Ok(Config::Read(name))
}
