//! The alerts config (`/etc/tcpwrap/alerts.conf`): sinks and alerts in a
//! line-oriented INI-like syntax, parsed from bytes. Every error names the
//! file and line. See docs/alerts.md for the format.
//!
//! ```text
//! [sink monitor]
//! type = nsca
//! server = monitor
//! password = secret
//!
//! [alert tcp-wrappers]
//! sink = monitor
//! host = firestorm
//! service = TCP Wrappers
//! code = 2
//! output = Denied %d-%h
//! ```

use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tcpwrap_nsca::Method;

/// Largest config file (and `send_nsca_config` file) read.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Default submission time-out of a sink.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default rate-limit window of an alert.
pub const DEFAULT_WINDOW: u64 = 60;
/// Default NSCA port.
pub const DEFAULT_NSCA_PORT: u16 = 5667;
/// Longest sink or alert name.
pub const MAX_NAME: usize = 64;
/// Longest password `send_nsca` accepts.
const MAX_PASSWORD: usize = 5119;

/// A config problem, at `file:line` (`line` 0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A parsed, valid config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (for messages).
    pub path: PathBuf,
    pub sinks: Vec<Sink>,
    pub alerts: Vec<AlertDef>,
}

impl Config {
    /// The alert called `name` (exact match).
    pub fn alert(&self, name: &[u8]) -> Option<&AlertDef> {
        self.alerts.iter().find(|a| a.name.as_bytes() == name)
    }

    /// The sink called `name`.
    pub fn sink(&self, name: &str) -> Option<&Sink> {
        self.sinks.iter().find(|s| s.name == name)
    }
}

/// Where results go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sink {
    pub name: String,
    /// Line of the `[sink NAME]` header.
    pub line: u32,
    /// Bounds one whole submission (connect, TLS, send, answer).
    pub timeout: Duration,
    pub kind: SinkKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    Nsca(NscaSink),
    Icinga2(IcingaSink),
}

/// `type = nsca`: an NSCA 2.x daemon.
#[derive(Clone, PartialEq, Eq)]
pub struct NscaSink {
    /// Name or address.
    pub server: String,
    pub port: u16,
    pub password: Vec<u8>,
    pub method: Method,
    /// 720-byte packets (`legacy_2_7_mode` of a `send_nsca_config`).
    pub legacy: bool,
}

impl fmt::Debug for NscaSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NscaSink")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("password", &"(hidden)")
            .field("method", &self.method)
            .field("legacy", &self.legacy)
            .finish()
    }
}

/// `type = icinga2`: the Icinga 2 REST API.
#[derive(Clone, PartialEq, Eq)]
pub struct IcingaSink {
    /// `https://HOST[:PORT][/PREFIX]`, without a trailing `/`.
    pub url: String,
    pub user: Vec<u8>,
    pub password: Vec<u8>,
    pub ca_file: PathBuf,
    /// The CA file's content (PEM), read when the config is loaded.
    pub ca_pem: Vec<u8>,
}

impl fmt::Debug for IcingaSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IcingaSink")
            .field("url", &self.url)
            .field("user", &String::from_utf8_lossy(&self.user))
            .field("password", &"(hidden)")
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// An `[alert NAME]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDef {
    pub name: String,
    /// Line of the `[alert NAME]` header.
    pub line: u32,
    /// Names of the sinks, each defined in the file.
    pub sinks: Vec<String>,
    /// Templates (`%` expansions as in `spawn`).
    pub host: Vec<u8>,
    /// `None`: a host result.
    pub service: Option<Vec<u8>>,
    pub code: i16,
    pub output: Vec<u8>,
    /// Rate-limit window per source in seconds (0: no limit).
    pub window: u64,
}

/// Reads the files a config refers to (`send_nsca_config`, `ca_file`).
/// `secret` is set for files that hold passwords (checked like the config
/// itself). The error is the reason, without the path.
pub type ReadFile<'a> = dyn FnMut(&Path, bool) -> Result<Vec<u8>, String> + 'a;

/// Whether a sink or alert name is acceptable: 1 to 64 of `A-Z a-z 0-9 _ . -`,
/// not starting with `.` or `-`.
pub fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME
        && n.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !matches!(n[0], b'.' | b'-')
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ws(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Remove a comment: a `#` at the start or after white space, to the end.
fn strip_comment(line: &[u8]) -> &[u8] {
    for (i, &b) in line.iter().enumerate() {
        if b == b'#' && (i == 0 || is_ws(line[i - 1])) {
            return &line[..i];
        }
    }
    line
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Sink,
    Alert,
}

impl SectionKind {
    fn word(self) -> &'static str {
        match self {
            SectionKind::Sink => "sink",
            SectionKind::Alert => "alert",
        }
    }
}

struct Section {
    kind: SectionKind,
    name: String,
    line: u32,
    /// (key, value, line), in order.
    keys: Vec<(String, Vec<u8>, u32)>,
}

impl Section {
    fn title(&self) -> String {
        format!("[{} {}]", self.kind.word(), self.name)
    }

    fn get(&self, key: &str) -> Option<(&[u8], u32)> {
        self.keys
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, l)| (v.as_slice(), *l))
    }
}

const SINK_KEYS: &[&str] = &[
    "type",
    "timeout",
    "server",
    "port",
    "password",
    "send_nsca_config",
    "encryption_method",
    "url",
    "user",
    "ca_file",
];
const NSCA_KEYS: &[&str] = &[
    "type",
    "timeout",
    "server",
    "port",
    "password",
    "send_nsca_config",
    "encryption_method",
];
const ICINGA_KEYS: &[&str] = &["type", "timeout", "url", "user", "password", "ca_file"];
const ALERT_KEYS: &[&str] = &["sink", "host", "service", "code", "output", "window"];

struct Parser<'p, 'r> {
    file: &'p Path,
    read: &'p mut ReadFile<'r>,
}

impl Parser<'_, '_> {
    fn err(&self, line: u32, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    fn sections(&self, data: &[u8]) -> Result<Vec<Section>, ConfigError> {
        let mut out: Vec<Section> = Vec::new();
        let mut n = 0u32;
        let mut lines = data.split(|&b| b == b'\n').peekable();
        while let Some(raw) = lines.next() {
            n += 1;
            if raw.is_empty() && lines.peek().is_none() {
                break;
            }
            if raw.contains(&0) {
                return Err(self.err(n, "NUL byte in line"));
            }
            let line = trim(strip_comment(raw));
            if line.is_empty() {
                continue;
            }
            if line[0] == b'[' {
                if line.last() != Some(&b']') {
                    return Err(self.err(n, format!("section header without ']': {}", show(line))));
                }
                let inner = trim(&line[1..line.len() - 1]);
                let words: Vec<&[u8]> = inner
                    .split(|&b| is_ws(b))
                    .filter(|w| !w.is_empty())
                    .collect();
                let kind = match words.first().copied() {
                    Some(b"sink") => SectionKind::Sink,
                    Some(b"alert") => SectionKind::Alert,
                    _ => {
                        return Err(self.err(
                            n,
                            format!(
                                "unknown section {}: expected [sink NAME] or [alert NAME]",
                                show(line)
                            ),
                        ));
                    }
                };
                if words.len() != 2 {
                    return Err(
                        self.err(n, format!("section {} needs exactly one name", show(line)))
                    );
                }
                if !valid_name(words[1]) {
                    return Err(self.err(
                        n,
                        format!(
                            "bad {} name \"{}\": use 1 to {MAX_NAME} of A-Z a-z 0-9 _ . - (not first: . -)",
                            kind.word(),
                            show(words[1])
                        ),
                    ));
                }
                let name = show(words[1]);
                if let Some(prev) = out.iter().find(|s| s.kind == kind && s.name == name) {
                    return Err(self.err(
                        n,
                        format!(
                            "duplicate section [{} {name}] (first at line {})",
                            kind.word(),
                            prev.line
                        ),
                    ));
                }
                out.push(Section {
                    kind,
                    name,
                    line: n,
                    keys: Vec::new(),
                });
                continue;
            }
            let Some(eq) = line.iter().position(|&b| b == b'=') else {
                return Err(self.err(
                    n,
                    format!(
                        "expected \"key = value\", [sink NAME] or [alert NAME], found \"{}\"",
                        show(line)
                    ),
                ));
            };
            let key = trim(&line[..eq]);
            let value = trim(&line[eq + 1..]);
            let Some(sec) = out.last_mut() else {
                return Err(self.err(n, format!("key \"{}\" outside of a section", show(key))));
            };
            if key.is_empty() {
                return Err(self.err(n, "missing key before '='"));
            }
            let known = match sec.kind {
                SectionKind::Sink => SINK_KEYS,
                SectionKind::Alert => ALERT_KEYS,
            };
            let key_s = show(key);
            if !known.contains(&key_s.as_str()) {
                let title = sec.title();
                return Err(self.err(
                    n,
                    format!(
                        "unknown key \"{key_s}\" in {title} (known: {})",
                        known.join(", ")
                    ),
                ));
            }
            if let Some((_, _, first)) = sec.keys.iter().find(|(k, _, _)| *k == key_s) {
                let first = *first;
                let title = sec.title();
                return Err(self.err(
                    n,
                    format!("duplicate key \"{key_s}\" in {title} (first at line {first})"),
                ));
            }
            sec.keys.push((key_s, value.to_vec(), n));
        }
        Ok(out)
    }

    fn required<'s>(&self, sec: &'s Section, key: &str) -> Result<(&'s [u8], u32), ConfigError> {
        match sec.get(key) {
            Some((v, l)) if !v.is_empty() => Ok((v, l)),
            Some((_, l)) => {
                Err(self.err(l, format!("empty value for \"{key}\" in {}", sec.title())))
            }
            None => Err(self.err(
                sec.line,
                format!("missing key \"{key}\" in {}", sec.title()),
            )),
        }
    }

    fn number(
        &self,
        key: &str,
        v: &[u8],
        line: u32,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let bad = || {
            self.err(
                line,
                format!(
                    "bad number for \"{key}\": \"{}\" (expected {min} to {max})",
                    show(v)
                ),
            )
        };
        if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n: u64 = std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if n < min || n > max {
            return Err(bad());
        }
        Ok(n)
    }

    fn ascii(&self, key: &str, v: &[u8], line: u32) -> Result<String, ConfigError> {
        if v.iter().all(|&b| b.is_ascii_graphic()) {
            Ok(show(v))
        } else {
            Err(self.err(
                line,
                format!(
                    "bad value for \"{key}\": \"{}\" (printable ASCII without spaces expected)",
                    show(v)
                ),
            ))
        }
    }

    fn sink(&mut self, sec: &Section) -> Result<Sink, ConfigError> {
        let (ty, ty_line) = self.required(sec, "type")?;
        let allowed = match ty {
            b"nsca" => NSCA_KEYS,
            b"icinga2" => ICINGA_KEYS,
            _ => {
                return Err(self.err(
                    ty_line,
                    format!(
                        "unknown sink type \"{}\" in {} (known: nsca, icinga2)",
                        show(ty),
                        sec.title()
                    ),
                ));
            }
        };
        for (k, _, l) in &sec.keys {
            if !allowed.contains(&k.as_str()) {
                return Err(self.err(
                    *l,
                    format!(
                        "key \"{k}\" does not apply to a sink of type {} ({})",
                        show(ty),
                        sec.title()
                    ),
                ));
            }
        }
        let timeout = match sec.get("timeout") {
            Some((v, l)) => Duration::from_secs(self.number("timeout", v, l, 1, 3600)?),
            None => DEFAULT_TIMEOUT,
        };
        let kind = if ty == b"nsca" {
            SinkKind::Nsca(self.nsca(sec)?)
        } else {
            SinkKind::Icinga2(self.icinga(sec)?)
        };
        Ok(Sink {
            name: sec.name.clone(),
            line: sec.line,
            timeout,
            kind,
        })
    }

    fn nsca(&mut self, sec: &Section) -> Result<NscaSink, ConfigError> {
        let (server, l) = self.required(sec, "server")?;
        let server = self.ascii("server", server, l)?;
        let port = match sec.get("port") {
            Some((v, l)) => self.number("port", v, l, 1, 65535)? as u16,
            None => DEFAULT_NSCA_PORT,
        };
        let method_of = |p: &Self, v: &[u8], l: u32| -> Result<Method, ConfigError> {
            let n = p.number("encryption_method", v, l, 0, 26)?;
            let m = Method::from_number(n as i64).ok_or_else(|| {
                p.err(
                    l,
                    format!("invalid encryption_method {n} (see send_nsca.cfg)"),
                )
            })?;
            supported(m).map_err(|e| p.err(l, e))?;
            Ok(m)
        };
        let (password, method, legacy) = match sec.get("send_nsca_config") {
            Some((path, l)) => {
                for k in ["password", "encryption_method"] {
                    if let Some((_, kl)) = sec.get(k) {
                        return Err(self.err(
                            kl,
                            format!(
                                "\"{k}\" and \"send_nsca_config\" (line {l}) exclude each other in {}",
                                sec.title()
                            ),
                        ));
                    }
                }
                if path.is_empty() {
                    return Err(self.err(
                        l,
                        format!("empty value for \"send_nsca_config\" in {}", sec.title()),
                    ));
                }
                let p = PathBuf::from(std::ffi::OsStr::from_bytes(path));
                let data = (self.read)(&p, true)
                    .map_err(|e| self.err(l, format!("send_nsca_config {}: {e}", p.display())))?;
                let c = parse_send_nsca_cfg(&data).map_err(|(n, m)| {
                    self.err(l, format!("send_nsca_config {}:{n}: {m}", p.display()))
                })?;
                let method = Method::from_number(c.method).ok_or_else(|| {
                    self.err(
                        l,
                        format!(
                            "send_nsca_config {}: invalid encryption_method {}",
                            p.display(),
                            c.method
                        ),
                    )
                })?;
                supported(method)
                    .map_err(|e| self.err(l, format!("send_nsca_config {}: {e}", p.display())))?;
                (c.password, method, c.legacy)
            }
            None => {
                let password = sec
                    .get("password")
                    .map(|(v, _)| v.to_vec())
                    .unwrap_or_default();
                if password.len() > MAX_PASSWORD {
                    let l = sec.get("password").map_or(sec.line, |(_, l)| l);
                    return Err(self.err(l, format!("password longer than {MAX_PASSWORD} bytes")));
                }
                let method = match sec.get("encryption_method") {
                    Some((v, l)) => method_of(self, v, l)?,
                    None => Method::Xor,
                };
                (password, method, false)
            }
        };
        Ok(NscaSink {
            server,
            port,
            password,
            method,
            legacy,
        })
    }

    fn icinga(&mut self, sec: &Section) -> Result<IcingaSink, ConfigError> {
        let (url, l) = self.required(sec, "url")?;
        let url = self.ascii("url", url, l)?;
        let rest = url.strip_prefix("https://").ok_or_else(|| {
            self.err(
                l,
                format!("url \"{url}\" must start with https:// (the Icinga 2 API is HTTPS only)"),
            )
        })?;
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') || rest.contains(['?', '#']) {
            return Err(self.err(
                l,
                format!("bad url \"{url}\": expected https://HOST[:PORT][/PREFIX]"),
            ));
        }
        let url = url.trim_end_matches('/').to_string();
        let (user, _) = self.required(sec, "user")?;
        let password = match sec.get("password") {
            Some((v, _)) => v.to_vec(),
            None => {
                return Err(self.err(
                    sec.line,
                    format!("missing key \"password\" in {}", sec.title()),
                ));
            }
        };
        let (ca, l) = self.required(sec, "ca_file")?;
        let ca_file = PathBuf::from(std::ffi::OsStr::from_bytes(ca));
        let ca_pem = (self.read)(&ca_file, false)
            .map_err(|e| self.err(l, format!("ca_file {}: {e}", ca_file.display())))?;
        if !ca_pem
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            return Err(self.err(
                l,
                format!("ca_file {}: no PEM certificate in it", ca_file.display()),
            ));
        }
        Ok(IcingaSink {
            url,
            user: user.to_vec(),
            password,
            ca_file,
            ca_pem,
        })
    }

    fn alert(&self, sec: &Section, sinks: &[Sink]) -> Result<AlertDef, ConfigError> {
        let (list, l) = self.required(sec, "sink")?;
        let mut names: Vec<String> = Vec::new();
        for w in list
            .split(|&b| b == b',' || is_ws(b))
            .filter(|w| !w.is_empty())
        {
            let name = show(w);
            if !sinks.iter().any(|s| s.name == name) {
                return Err(self.err(
                    l,
                    format!("sink \"{name}\" is not defined (no [sink {name}] section)"),
                ));
            }
            if names.contains(&name) {
                return Err(self.err(l, format!("sink \"{name}\" listed twice")));
            }
            names.push(name);
        }
        if names.is_empty() {
            return Err(self.err(l, format!("\"sink\" names no sink in {}", sec.title())));
        }
        let (host, _) = self.required(sec, "host")?;
        let service = sec
            .get("service")
            .map(|(v, _)| v.to_vec())
            .filter(|v| !v.is_empty());
        let (code, cl) = self.required(sec, "code")?;
        let code = self.number("code", code, cl, 0, 3)? as i16;
        let (output, _) = self.required(sec, "output")?;
        let window = match sec.get("window") {
            Some((v, l)) => self.number("window", v, l, 0, 86400)?,
            None => DEFAULT_WINDOW,
        };
        Ok(AlertDef {
            name: sec.name.clone(),
            line: sec.line,
            sinks: names,
            host: host.to_vec(),
            service,
            code,
            output: output.to_vec(),
            window,
        })
    }
}

/// Whether this build can carry out NSCA method `m`.
fn supported(m: Method) -> Result<(), String> {
    tcpwrap_nsca::Encryptor::new(m, b"probe", &[0u8; 128])
        .map(|_| ())
        .map_err(|u| u.to_string())
}

/// Parse an alerts config. `file` names it in errors; `read` reads the
/// files it refers to.
pub fn parse_with(
    file: &Path,
    data: &[u8],
    read: &mut ReadFile<'_>,
) -> Result<Config, ConfigError> {
    let mut p = Parser { file, read };
    let sections = p.sections(data)?;
    let mut sinks = Vec::new();
    for s in sections.iter().filter(|s| s.kind == SectionKind::Sink) {
        sinks.push(p.sink(s)?);
    }
    let mut alerts = Vec::new();
    for s in sections.iter().filter(|s| s.kind == SectionKind::Alert) {
        alerts.push(p.alert(s, &sinks)?);
    }
    Ok(Config {
        path: file.to_path_buf(),
        sinks,
        alerts,
    })
}

/// Parse an alerts config, reading referred files from the file system
/// (a `send_nsca_config` must pass the same ownership checks as the config).
pub fn parse(file: &Path, data: &[u8]) -> Result<Config, ConfigError> {
    let euid = crate::sys::euid();
    parse_with(file, data, &mut |p, secret| read_checked(p, secret, euid))
}

/// Read, check and parse the config at `path`. Refuses a file that is not a
/// regular file, is group- or world-writable, is owned by someone other
/// than root or the effective uid, or lies in a directory that others can
/// write: it holds passwords.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let euid = crate::sys::euid();
    let data = read_checked(path, true, euid).map_err(|message| ConfigError {
        file: path.to_path_buf(),
        line: 0,
        message,
    })?;
    parse_with(path, &data, &mut |p, secret| read_checked(p, secret, euid))
}

/// Read a file (at most [`MAX_CONFIG_BYTES`]); with `secret`, apply the
/// ownership and permission checks of [`check_private`] to it and its
/// directory first.
pub fn read_checked(path: &Path, secret: bool, euid: u32) -> Result<Vec<u8>, String> {
    let f = File::open(path).map_err(|e| crate::sys::strerror(&e))?;
    let meta = f.metadata().map_err(|e| crate::sys::strerror(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".to_string());
    }
    if secret {
        check_private(&meta, euid, false)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dmeta = std::fs::metadata(&dir)
            .map_err(|e| format!("directory {}: {}", dir.display(), crate::sys::strerror(&e)))?;
        check_private(&dmeta, euid, true)
            .map_err(|e| format!("directory {}: {e}", dir.display()))?;
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(format!("larger than {MAX_CONFIG_BYTES} bytes"));
    }
    let mut data = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| crate::sys::strerror(&e))?;
    if data.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("larger than {MAX_CONFIG_BYTES} bytes"));
    }
    Ok(data)
}

/// The ownership rule for files holding passwords (and their directory):
/// owned by root or `euid`, not writable by group or others (a directory
/// with the sticky bit is not accepted either: others could still add
/// files to it).
pub fn check_private(meta: &Metadata, euid: u32, is_dir: bool) -> Result<(), String> {
    let why = "refused because it holds passwords";
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(format!(
            "owned by uid {}, not by root or uid {euid}: {why}",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "{} (mode {mode:04o}): {why}",
            if is_dir {
                "writable by group or others"
            } else {
                "group- or world-writable"
            }
        ));
    }
    Ok(())
}

/// What a `send_nsca.cfg` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendNscaCfg {
    pub password: Vec<u8>,
    /// The `encryption_method` number (1 when absent, as `send_nsca`).
    pub method: i64,
    pub legacy: bool,
}

/// Parse `send_nsca.cfg` as `send_nsca` 2.10.2 does: `key=value` lines,
/// `#` lines and empty lines skipped, the key recognised by substring, the
/// value everything after the first `=` (spaces included). Errors carry the
/// line number and `send_nsca`'s text.
pub fn parse_send_nsca_cfg(data: &[u8]) -> Result<SendNscaCfg, (u32, String)> {
    let mut cfg = SendNscaCfg {
        password: Vec::new(),
        method: 1,
        legacy: false,
    };
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let mut n = 0u32;
    let mut lines = data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        n += 1;
        if line.is_empty() && lines.peek().is_none() {
            break;
        }
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err((n, "No variable value specified".to_string()));
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        if key.is_empty() {
            return Err((n, "No variable name specified".to_string()));
        }
        if value.is_empty() {
            return Err((n, "No variable value specified".to_string()));
        }
        if contains(key, b"password") {
            if value.len() > MAX_PASSWORD {
                return Err((n, "Password is too long".to_string()));
            }
            cfg.password = value.to_vec();
        } else if contains(key, b"encryption_method") {
            cfg.method = atoi(value);
        } else if contains(key, b"legacy_2_7_mode") {
            if contains(value, b"true") || contains(value, b"yes") {
                cfg.legacy = true;
            } else if contains(value, b"false") || contains(value, b"no") {
                cfg.legacy = false;
            }
        } else {
            return Err((n, "Unknown option specified".to_string()));
        }
    }
    Ok(cfg)
}

/// C `atoi`: leading white space, an optional sign, digits; 0 otherwise.
fn atoi(s: &[u8]) -> i64 {
    let s = &s[s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len())..];
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in s.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -n } else { n }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# comment\n\
[sink monitor]\n\
type = nsca\n\
server = monitor            # name or address\n\
port = 5667\n\
password = secret\n\
encryption_method = 1       # NSCA method number\n\
timeout = 10\n\
\n\
[sink icinga]\n\
type = icinga2\n\
url = https://icinga.example.org:5665/\n\
user = tcpwrap\n\
password = s3#cret\n\
ca_file = /ca.crt\n\
timeout = 7\n\
\n\
[alert tcp-wrappers]\n\
sink = monitor, icinga\n\
host = firestorm\n\
service = TCP Wrappers\n\
code = 2\n\
output = Denied %d-%h\n\
window = 60\n";

    const PEM: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn files(p: &Path, _secret: bool) -> Result<Vec<u8>, String> {
        match p.to_str() {
            Some("/ca.crt") => Ok(PEM.to_vec()),
            Some("/send.cfg") => Ok(b"password=from file\nencryption_method=0\n".to_vec()),
            Some("/bad.cfg") => Ok(b"# x\npassword=\n".to_vec()),
            Some("/xor.cfg") => Ok(b"encryption_method= 1\nlegacy_2_7_mode=yes\n".to_vec()),
            Some("/m13.cfg") => Ok(b"encryption_method=13\n".to_vec()),
            Some("/notpem") => Ok(b"hello\n".to_vec()),
            _ => Err("No such file or directory".to_string()),
        }
    }

    fn p(s: &str) -> Result<Config, ConfigError> {
        parse_with(
            Path::new("/etc/tcpwrap/alerts.conf"),
            s.as_bytes(),
            &mut files,
        )
    }

    /// The error text for a config (which must be refused).
    fn e(s: &str) -> String {
        match p(s) {
            Ok(c) => panic!("accepted: {s:?} -> {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_documented_example() {
        let c = p(GOOD).unwrap();
        assert_eq!(c.sinks.len(), 2);
        let m = c.sink("monitor").unwrap();
        assert_eq!(m.line, 2);
        assert_eq!(m.timeout, Duration::from_secs(10));
        match &m.kind {
            SinkKind::Nsca(n) => {
                assert_eq!(n.server, "monitor");
                assert_eq!(n.port, 5667);
                assert_eq!(n.password, b"secret");
                assert_eq!(n.method, Method::Xor);
                assert!(!n.legacy);
            }
            k => panic!("{k:?}"),
        }
        match &c.sink("icinga").unwrap().kind {
            SinkKind::Icinga2(i) => {
                assert_eq!(i.url, "https://icinga.example.org:5665");
                assert_eq!(i.user, b"tcpwrap");
                // '#' not after white space is part of the value.
                assert_eq!(i.password, b"s3#cret");
                assert_eq!(i.ca_pem, PEM);
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(c.sink("icinga").unwrap().timeout, Duration::from_secs(7));
        let a = c.alert(b"tcp-wrappers").unwrap();
        assert_eq!(a.line, 18);
        assert_eq!(a.sinks, ["monitor", "icinga"]);
        assert_eq!(a.host, b"firestorm");
        assert_eq!(a.service.as_deref(), Some(&b"TCP Wrappers"[..]));
        assert_eq!(a.code, 2);
        assert_eq!(a.output, b"Denied %d-%h");
        assert_eq!(a.window, 60);
        assert!(c.alert(b"TCP-wrappers").is_none());
        // Debug output never shows passwords.
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn the_example_file() {
        let text = include_str!("../../../../examples/alerts.conf");
        let c = p(text).unwrap();
        let a = c.alert(b"tcp-wrappers").unwrap();
        assert_eq!(a.sinks, ["monitor"]);
        assert_eq!(a.host, b"firestorm");
        assert_eq!(a.service.as_deref(), Some(&b"TCP Wrappers"[..]));
        assert_eq!(a.code, 2);
        assert_eq!(a.output, b"Denied %d-%h");
        assert_eq!(a.window, 60);
        match &c.sink("monitor").unwrap().kind {
            SinkKind::Nsca(n) => assert_eq!(
                (n.server.as_str(), n.port, n.method),
                ("monitor", 5667, Method::Xor)
            ),
            k => panic!("{k:?}"),
        }
        // The commented-out Icinga sink is valid too.
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.starts_with('[') || (r.contains(" = ") && !r.starts_with(' ')))
                    .unwrap_or(l)
            })
            .map(|l| format!("{}\n", l.replace("/etc/tcpwrap/icinga-ca.crt", "/ca.crt")))
            .collect();
        let c = p(&uncommented).unwrap();
        assert!(matches!(
            c.sink("icinga").unwrap().kind,
            SinkKind::Icinga2(_)
        ));
    }

    #[test]
    fn defaults_and_forms() {
        let c = p("[sink m]\r\ntype=nsca\r\nserver=127.0.0.1\r\n\
                   [ alert  a ]\nsink=m\nhost=h\nservice =\ncode=0\noutput=x y \t\n")
        .unwrap();
        let s = c.sink("m").unwrap();
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        match &s.kind {
            SinkKind::Nsca(n) => {
                assert_eq!(n.port, 5667);
                assert_eq!(n.password, b"");
                assert_eq!(n.method, Method::Xor);
            }
            k => panic!("{k:?}"),
        }
        let a = c.alert(b"a").unwrap();
        assert_eq!(a.service, None, "empty service: a host result");
        assert_eq!(a.window, DEFAULT_WINDOW);
        assert_eq!(a.output, b"x y");
        // No service line at all, window 0, sinks separated by blanks.
        let c = p(
            "[sink m]\ntype=nsca\nserver=x\n[sink n]\ntype=nsca\nserver=y\n\
                   [alert a]\nsink=m n\nhost=h\ncode=3\noutput=o\nwindow=0\n",
        )
        .unwrap();
        let a = c.alert(b"a").unwrap();
        assert_eq!(a.service, None);
        assert_eq!(a.window, 0);
        assert_eq!(a.sinks, ["m", "n"]);
        // An empty file is a valid config without alerts.
        assert!(p("").unwrap().alerts.is_empty());
        assert!(p("# nothing\n\n").unwrap().sinks.is_empty());
    }

    #[test]
    fn send_nsca_config() {
        let c = p("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/send.cfg\n").unwrap();
        match &c.sinks[0].kind {
            SinkKind::Nsca(n) => {
                assert_eq!(n.password, b"from file");
                assert_eq!(n.method, Method::None);
            }
            k => panic!("{k:?}"),
        }
        let c = p("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/xor.cfg\n").unwrap();
        match &c.sinks[0].kind {
            SinkKind::Nsca(n) => {
                assert_eq!(n.password, b"");
                assert_eq!(n.method, Method::Xor);
                assert!(n.legacy);
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(
            e("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/bad.cfg\n"),
            "/etc/tcpwrap/alerts.conf:4: send_nsca_config /bad.cfg:2: No variable value specified"
        );
        assert_eq!(
            e("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/none.cfg\n"),
            "/etc/tcpwrap/alerts.conf:4: send_nsca_config /none.cfg: No such file or directory"
        );
        assert_eq!(
            e("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/m13.cfg\n"),
            "/etc/tcpwrap/alerts.conf:4: send_nsca_config /m13.cfg: invalid encryption_method 13"
        );
        assert_eq!(
            e("[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=/send.cfg\npassword=x\n"),
            "/etc/tcpwrap/alerts.conf:5: \"password\" and \"send_nsca_config\" (line 4) exclude each other in [sink m]"
        );
        assert_eq!(
            e("[sink m]\ntype=nsca\nserver=x\nencryption_method=0\nsend_nsca_config=/send.cfg\n"),
            "/etc/tcpwrap/alerts.conf:4: \"encryption_method\" and \"send_nsca_config\" (line 5) exclude each other in [sink m]"
        );
    }

    #[test]
    fn send_nsca_cfg_rules() {
        let c = parse_send_nsca_cfg(b"password = secret\nencryption_method = 1\n").unwrap();
        // The value keeps its leading space, as send_nsca reads it.
        assert_eq!(c.password, b" secret");
        assert_eq!(c.method, 1);
        let c = parse_send_nsca_cfg(b"#c\n\nxpasswordx=a=b\nencryption_method=0x\n").unwrap();
        assert_eq!(c.password, b"a=b");
        assert_eq!(c.method, 0);
        assert_eq!(
            parse_send_nsca_cfg(b"colour=red\n"),
            Err((1, "Unknown option specified".to_string()))
        );
        assert_eq!(
            parse_send_nsca_cfg(b"\n=x\n"),
            Err((2, "No variable name specified".to_string()))
        );
        assert_eq!(
            parse_send_nsca_cfg(b"password\n"),
            Err((1, "No variable value specified".to_string()))
        );
        let long = format!("password={}\n", "x".repeat(5120));
        assert_eq!(
            parse_send_nsca_cfg(long.as_bytes()),
            Err((1, "Password is too long".to_string()))
        );
        assert_eq!(atoi(b"  -12x"), -12);
        assert_eq!(atoi(b"+7"), 7);
        assert_eq!(atoi(b"x"), 0);
    }

    #[test]
    fn every_error() {
        let f = "/etc/tcpwrap/alerts.conf";
        let sink = "[sink m]\ntype=nsca\nserver=x\n";
        let cases: &[(&str, &str)] = &[
            ("port = 1\n", "1: key \"port\" outside of a section"),
            ("[sink m\n", "1: section header without ']': [sink m"),
            (
                "[sinks m]\n",
                "1: unknown section [sinks m]: expected [sink NAME] or [alert NAME]",
            ),
            (
                "[]\n",
                "1: unknown section []: expected [sink NAME] or [alert NAME]",
            ),
            ("[sink]\n", "1: section [sink] needs exactly one name"),
            (
                "[sink a b]\n",
                "1: section [sink a b] needs exactly one name",
            ),
            (
                "[alert -x]\n",
                "1: bad alert name \"-x\": use 1 to 64 of A-Z a-z 0-9 _ . - (not first: . -)",
            ),
            (
                "[sink a/b]\n",
                "1: bad sink name \"a/b\": use 1 to 64 of A-Z a-z 0-9 _ . - (not first: . -)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\n\n[sink m]\n",
                "5: duplicate section [sink m] (first at line 1)",
            ),
            (
                "[sink m]\njunk\n",
                "2: expected \"key = value\", [sink NAME] or [alert NAME], found \"junk\"",
            ),
            ("[sink m]\n= x\n", "2: missing key before '='"),
            (
                "[sink m]\nsever = x\n",
                "2: unknown key \"sever\" in [sink m] (known: type, timeout, server, port, password, send_nsca_config, encryption_method, url, user, ca_file)",
            ),
            (
                "[alert a]\nseverity = x\n",
                "2: unknown key \"severity\" in [alert a] (known: sink, host, service, code, output, window)",
            ),
            (
                "[sink m]\ntype=nsca\ntype=nsca\n",
                "3: duplicate key \"type\" in [sink m] (first at line 2)",
            ),
            (
                "[sink m]\nserver=x\n",
                "1: missing key \"type\" in [sink m]",
            ),
            (
                "[sink m]\ntype=\n",
                "2: empty value for \"type\" in [sink m]",
            ),
            (
                "[sink m]\ntype=nrdp\n",
                "2: unknown sink type \"nrdp\" in [sink m] (known: nsca, icinga2)",
            ),
            (
                "[sink m]\ntype=nsca\n",
                "1: missing key \"server\" in [sink m]",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nurl=https://x\n",
                "4: key \"url\" does not apply to a sink of type nsca ([sink m])",
            ),
            (
                "[sink m]\ntype=icinga2\nport=1\n",
                "3: key \"port\" does not apply to a sink of type icinga2 ([sink m])",
            ),
            (
                "[sink m]\ntype=nsca\nserver=a b\n",
                "3: bad value for \"server\": \"a b\" (printable ASCII without spaces expected)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nport=0\n",
                "4: bad number for \"port\": \"0\" (expected 1 to 65535)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nport=65536\n",
                "4: bad number for \"port\": \"65536\" (expected 1 to 65535)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nport=+1\n",
                "4: bad number for \"port\": \"+1\" (expected 1 to 65535)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nport=\n",
                "4: bad number for \"port\": \"\" (expected 1 to 65535)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\ntimeout=0\n",
                "4: bad number for \"timeout\": \"0\" (expected 1 to 3600)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\ntimeout=99999999999999999999999\n",
                "4: bad number for \"timeout\": \"99999999999999999999999\" (expected 1 to 3600)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nencryption_method=13\n",
                "4: invalid encryption_method 13 (see send_nsca.cfg)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nencryption_method=27\n",
                "4: bad number for \"encryption_method\": \"27\" (expected 0 to 26)",
            ),
            (
                "[sink m]\ntype=nsca\nserver=x\nsend_nsca_config=\n",
                "4: empty value for \"send_nsca_config\" in [sink m]",
            ),
            (
                "[sink i]\ntype=icinga2\n",
                "1: missing key \"url\" in [sink i]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=http://x:5665\n",
                "3: url \"http://x:5665\" must start with https:// (the Icinga 2 API is HTTPS only)",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://\n",
                "3: bad url \"https://\": expected https://HOST[:PORT][/PREFIX]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://u:p@x\n",
                "3: bad url \"https://u:p@x\": expected https://HOST[:PORT][/PREFIX]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://x\n",
                "1: missing key \"user\" in [sink i]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://x\nuser=u\n",
                "1: missing key \"password\" in [sink i]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://x\nuser=u\npassword=p\n",
                "1: missing key \"ca_file\" in [sink i]",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://x\nuser=u\npassword=p\nca_file=/nope\n",
                "6: ca_file /nope: No such file or directory",
            ),
            (
                "[sink i]\ntype=icinga2\nurl=https://x\nuser=u\npassword=p\nca_file=/notpem\n",
                "6: ca_file /notpem: no PEM certificate in it",
            ),
            (
                "[alert a]\nhost=h\n",
                "1: missing key \"sink\" in [alert a]",
            ),
            (
                "[alert a]\nsink=m\n",
                "2: sink \"m\" is not defined (no [sink m] section)",
            ),
            (
                "[alert a]\nsink= ,\n",
                "2: \"sink\" names no sink in [alert a]",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(e(text), format!("{f}:{want}"), "for {text:?}");
        }
        let with_sink: &[(&str, &str)] = &[
            ("[alert a]\nsink=m, m\n", "5: sink \"m\" listed twice"),
            (
                "[alert a]\nsink=m\nhost=h\n",
                "4: missing key \"code\" in [alert a]",
            ),
            (
                "[alert a]\nsink=m\nhost=\n",
                "6: empty value for \"host\" in [alert a]",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=4\n",
                "7: bad number for \"code\": \"4\" (expected 0 to 3)",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=-1\n",
                "7: bad number for \"code\": \"-1\" (expected 0 to 3)",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=2\n",
                "4: missing key \"output\" in [alert a]",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=2\noutput=o\nwindow=x\n",
                "9: bad number for \"window\": \"x\" (expected 0 to 86400)",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=2\noutput=o\nwindow=86401\n",
                "9: bad number for \"window\": \"86401\" (expected 0 to 86400)",
            ),
            (
                "[alert a]\nsink=m\nhost=h\ncode=2\noutput=o\n[alert a]\n",
                "9: duplicate section [alert a] (first at line 4)",
            ),
        ];
        for (text, want) in with_sink {
            let t = format!("{sink}{text}");
            assert_eq!(e(&t), format!("{f}:{want}"), "for {t:?}");
        }
        assert_eq!(e("[sink m]\0\n"), format!("{f}:1: NUL byte in line"));
        let long = format!(
            "[sink m]\ntype=nsca\nserver=x\npassword={}\n",
            "p".repeat(5120)
        );
        assert_eq!(e(&long), format!("{f}:4: password longer than 5119 bytes"));
    }

    #[test]
    fn names_and_comments() {
        assert!(valid_name(b"tcp-wrappers"));
        assert!(valid_name(b"a.b_c-9"));
        assert!(valid_name(b"_x"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b".x"));
        assert!(!valid_name(b"-x"));
        assert!(!valid_name(b"a b"));
        assert!(!valid_name(b"a%d"));
        assert!(!valid_name("é".as_bytes()));
        assert!(valid_name(&[b'a'; 64]));
        assert!(!valid_name(&[b'a'; 65]));
        assert_eq!(strip_comment(b"a = b # c"), b"a = b ");
        assert_eq!(strip_comment(b"a = b#c"), b"a = b#c");
        assert_eq!(strip_comment(b"# c"), b"");
        assert_eq!(strip_comment(b"a =#c"), b"a =#c");
        assert_eq!(strip_comment(b"a =\t#c"), b"a =\t");
        assert_eq!(trim(b" \t x y \r"), b"x y");
        assert_eq!(trim(b" \t "), b"");
    }

    #[test]
    fn private_file_rules() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tcpwrap-alert-cfg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let f = dir.join("alerts.conf");
        std::fs::write(&f, GOOD.replace("/ca.crt", "/nonexistent/ca.crt")).unwrap();
        let euid = crate::sys::euid();
        for (mode, ok) in [(0o600, true), (0o644, true), (0o664, false), (0o646, false)] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = read_checked(&f, true, euid);
            assert_eq!(r.is_ok(), ok, "mode {mode:o}: {r:?}");
            if !ok {
                assert_eq!(
                    r.unwrap_err(),
                    format!(
                        "group- or world-writable (mode {mode:04o}): refused because it holds passwords"
                    )
                );
            }
        }
        // Another owner: refused (root can make one here).
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        if euid == 0 {
            std::os::unix::fs::chown(&f, Some(4242), None).unwrap();
            assert_eq!(
                read_checked(&f, true, euid).unwrap_err(),
                "owned by uid 4242, not by root or uid 0: refused because it holds passwords"
            );
            // ... unless that owner is the effective uid.
            let meta = std::fs::metadata(&f).unwrap();
            assert!(check_private(&meta, 4242, false).is_ok());
            std::os::unix::fs::chown(&f, Some(0), None).unwrap();
        } else {
            let meta = std::fs::metadata(&f).unwrap();
            assert_eq!(
                check_private(&meta, euid + 1, false).unwrap_err(),
                format!(
                    "owned by uid {euid}, not by root or uid {}: refused because it holds passwords",
                    euid + 1
                )
            );
        }
        // The directory must not be writable by others.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let r = read_checked(&f, true, euid).unwrap_err();
        assert_eq!(
            r,
            format!(
                "directory {}: writable by group or others (mode 0777): refused because it holds passwords",
                dir.display()
            )
        );
        // A file that holds no secret is read anyway.
        assert!(read_checked(&f, false, euid).is_ok());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // load() gives file:line errors; the whole-file ones without a line.
        let err = load(&f).unwrap_err();
        assert_eq!(err.line, 15);
        assert!(
            err.to_string()
                .ends_with("ca_file /nonexistent/ca.crt: No such file or directory"),
            "{err}"
        );
        let err = load(&dir.join("missing.conf")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: No such file or directory",
                dir.join("missing.conf").display()
            )
        );
        assert_eq!(load(&dir).unwrap_err().message, "not a regular file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
