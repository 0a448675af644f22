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
        Some(c) => match tcpwrap::cache::read_file(Path::new(OsStr::from_bytes(c))) {
            Ok(d) => (c.to_vec(), d),
            // fopen() of a directory works; reading it gives nothing.
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => (c.to_vec(), Vec::new()),
            Err(e) => return Err((c.to_vec(), e)),
        },
        None => {
            let found = INET_FILES.iter().find_map(|f| {
                tcpwrap::cache::read_file(Path::new(f))
                    .ok()
                    .map(|d| (f.as_bytes().to_vec(), d))
            });
            match found {
                Some((n, d)) => {
                    let _ = check_path(&n, r);
                    (n, d)
                }
                None => return Ok(Config::None),
            }
        }
    };
    scan(&name, &data, svc, r);
    Ok(Config::Read(name))
}

/// The scan of `inet_cfg` over the contents `data` of the inetd.conf named
/// `name`: each line that starts a daemon is checked (`inet_chk`) and its
/// wrap status recorded in `svc`; warnings carry `name` and the line.
pub fn scan(name: &[u8], data: &[u8], svc: &mut Services, r: &mut Reporter) {
    let saved = r.context.take();
    let mut lines = LineReader::with_buffer(data, 8192);
    while let Some(l) = lines.next() {
        r.context = Some((name.to_vec(), lines.line()));
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
}

// ---------------------------------------------------------------------------
// The whole line format, as a super-server reads it (tcpwrapd).
//
// `inet_cfg` above reproduces the original tcpdchk's loose scan (only what
// it needs to find tcpd entries). `parse` below reads every field of the
// openbsd-inetd format (Debian's inetd(8)) and FreeBSD's additions, and
// reports each malformed line with its number.

/// `stream` or `dgram`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockType {
    Stream,
    Dgram,
}

/// `tcp…` or `udp…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    /// The protocol name for `getservbyname`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// The address families of a protocol field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Families {
    /// `tcp`, `udp`: IPv4 and IPv6, one socket each.
    Both,
    /// `tcp4`, `udp4`.
    V4,
    /// `tcp6`, `udp6`: IPv6 only.
    V6,
    /// `tcp46`, `udp46`: one IPv6 socket that also takes IPv4 (mapped).
    V46,
}

/// The server program field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// `internal`: a service of the super-server itself.
    Internal,
    /// `tripwire` (tcpwrapd): accept, log, alert, close.
    Tripwire,
    /// An absolute path.
    Program(Vec<u8>),
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line number (1-based).
    pub line: u32,
    /// Local addresses to listen on (`*`: every address), from the
    /// `host:` prefix or the last `host:` line.
    pub hosts: Vec<Vec<u8>>,
    /// Service name or port number.
    pub service: Vec<u8>,
    pub socktype: SockType,
    pub transport: Transport,
    pub families: Families,
    pub sndbuf: Option<usize>,
    pub rcvbuf: Option<usize>,
    pub wait: bool,
    /// openbsd-inetd's `wait.max` / `nowait.max`: invocations per minute.
    pub max_per_minute: Option<u32>,
    /// FreeBSD's `nowait/max-child`: simultaneous children (0: no limit).
    pub max_child: Option<u32>,
    /// FreeBSD's `/max-connections-per-ip-per-minute` (0: no limit).
    pub per_ip_per_minute: Option<u32>,
    /// FreeBSD's `/max-child-per-ip` (0: no limit).
    pub max_child_per_ip: Option<u32>,
    pub user: Vec<u8>,
    pub group: Option<Vec<u8>>,
    /// FreeBSD's `user:group/login-class` (read, not used).
    pub login_class: Option<Vec<u8>>,
    pub server: Server,
    /// `?/path`: skip the line when the program does not exist.
    pub optional: bool,
    /// Arguments, starting with argv[0].
    pub args: Vec<Vec<u8>>,
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Split `hosts:service` at the last colon outside brackets.
fn split_host_prefix(field: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut depth = 0i32;
    let mut at = None;
    for (i, &b) in field.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b':' if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    at.map(|i| (&field[..i], &field[i + 1..]))
}

fn host_list(spec: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for h in spec.split(|&b| b == b',') {
        let h = match (h.first(), h.last()) {
            (Some(b'['), Some(b']')) => &h[1..h.len() - 1],
            _ => h,
        };
        if h.is_empty() {
            return Err(format!("empty host address in \"{}\"", show(spec)));
        }
        out.push(h.to_vec());
    }
    Ok(out)
}

/// `64k`, `1m`, `16384`.
fn buffer_size(v: &[u8]) -> Option<usize> {
    let (digits, mult) = match v.last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1024),
        b'm' | b'M' => (&v[..v.len() - 1], 1024 * 1024),
        _ => (v, 1),
    };
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_mul(mult).filter(|&n| n > 0 && n <= 1 << 30)
}

fn number(v: &[u8]) -> Option<u32> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

type Protocol = (Transport, Families, Option<usize>, Option<usize>);

fn protocol(field: &[u8]) -> Result<Protocol, String> {
    let mut parts = field.split(|&b| b == b',');
    let name = parts.next().unwrap_or(b"");
    if name.starts_with(b"rpc/") {
        return Err(format!(
            "RPC services are not supported: \"{}\"",
            show(field)
        ));
    }
    let (transport, families) = match name {
        b"tcp" => (Transport::Tcp, Families::Both),
        b"tcp4" => (Transport::Tcp, Families::V4),
        b"tcp6" => (Transport::Tcp, Families::V6),
        b"tcp46" => (Transport::Tcp, Families::V46),
        b"udp" => (Transport::Udp, Families::Both),
        b"udp4" => (Transport::Udp, Families::V4),
        b"udp6" => (Transport::Udp, Families::V6),
        b"udp46" => (Transport::Udp, Families::V46),
        _ => return Err(format!("unsupported protocol \"{}\"", show(name))),
    };
    let (mut snd, mut rcv) = (None, None);
    for p in parts {
        let (key, value) = match p.iter().position(|&b| b == b'=') {
            Some(i) => (&p[..i], &p[i + 1..]),
            None => (p, &b""[..]),
        };
        let size =
            buffer_size(value).ok_or_else(|| format!("bad buffer size in \"{}\"", show(p)))?;
        match key {
            b"sndbuf" => snd = Some(size),
            b"rcvbuf" => rcv = Some(size),
            _ => return Err(format!("unknown protocol option \"{}\"", show(p))),
        }
    }
    Ok((transport, families, snd, rcv))
}

type WaitField = (bool, Option<u32>, [Option<u32>; 3]);

fn wait_field(field: &[u8]) -> Result<WaitField, String> {
    let bad = || format!("bad wait/nowait field \"{}\"", show(field));
    let end = field
        .iter()
        .position(|&b| b == b'.' || b == b'/')
        .unwrap_or(field.len());
    let wait = match &field[..end] {
        b"wait" => true,
        b"nowait" => false,
        _ => return Err(bad()),
    };
    let rest = &field[end..];
    if rest.is_empty() {
        return Ok((wait, None, [None; 3]));
    }
    if rest[0] == b'.' {
        let n = number(&rest[1..]).ok_or_else(bad)?;
        return Ok((wait, Some(n), [None; 3]));
    }
    let mut freebsd = [None; 3];
    let values: Vec<&[u8]> = rest[1..].split(|&b| b == b'/').collect();
    if values.len() > 3 {
        return Err(bad());
    }
    for (slot, v) in freebsd.iter_mut().zip(values) {
        *slot = Some(number(v).ok_or_else(bad)?);
    }
    Ok((wait, None, freebsd))
}

type UserField = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

fn user_field(field: &[u8]) -> Result<UserField, String> {
    let (rest, class) = match field.iter().position(|&b| b == b'/') {
        Some(i) => (&field[..i], Some(field[i + 1..].to_vec())),
        None => (field, None),
    };
    let sep = rest
        .iter()
        .position(|&b| b == b':')
        .or_else(|| rest.iter().position(|&b| b == b'.'));
    let (user, group) = match sep {
        Some(i) => (&rest[..i], Some(rest[i + 1..].to_vec())),
        None => (rest, None),
    };
    if user.is_empty() || group.as_ref().is_some_and(|g| g.is_empty()) {
        return Err(format!("bad user field \"{}\"", show(field)));
    }
    Ok((user.to_vec(), group, class))
}

/// Read an inetd.conf: the service lines and the malformed ones.
pub fn parse(data: &[u8]) -> (Vec<Entry>, Vec<ParseError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut default_hosts: Vec<Vec<u8>> = vec![b"*".to_vec()];
    for (n, raw) in data.split(|&b| b == b'\n').enumerate() {
        let line = n as u32 + 1;
        let fields: Vec<&[u8]> = raw
            .split(|&b| matches!(b, b' ' | b'\t' | b'\r'))
            .filter(|f| !f.is_empty())
            .collect();
        let Some(first) = fields.first() else {
            continue;
        };
        if first[0] == b'#' {
            continue;
        }
        match parse_line(line, &fields, &mut default_hosts) {
            Ok(Some(e)) => entries.push(e),
            Ok(None) => {}
            Err(message) => errors.push(ParseError { line, message }),
        }
    }
    (entries, errors)
}

fn parse_line(
    line: u32,
    fields: &[&[u8]],
    default_hosts: &mut Vec<Vec<u8>>,
) -> Result<Option<Entry>, String> {
    let (hosts, service) = match split_host_prefix(fields[0]) {
        Some((h, s)) => (Some(host_list(h)?), s),
        None => (None, fields[0]),
    };
    if service.is_empty() {
        // `host:` alone sets the default for the lines that follow.
        if fields.len() > 1 {
            return Err("missing service name".into());
        }
        *default_hosts = hosts.unwrap_or_else(|| vec![b"*".to_vec()]);
        return Ok(None);
    }
    if fields.len() < 6 {
        return Err(format!(
            "incomplete line: {} fields, at least 6 needed (service, socket type, protocol, \
             wait/nowait, user, server program)",
            fields.len()
        ));
    }
    if service.contains(&b'/') {
        return Err(format!(
            "RPC and tcpmux services are not supported: \"{}\"",
            show(service)
        ));
    }
    let socktype = match fields[1] {
        b"stream" => SockType::Stream,
        b"dgram" => SockType::Dgram,
        other => return Err(format!("unsupported socket type \"{}\"", show(other))),
    };
    let (transport, families, sndbuf, rcvbuf) = protocol(fields[2])?;
    match (socktype, transport) {
        (SockType::Stream, Transport::Tcp) | (SockType::Dgram, Transport::Udp) => {}
        _ => {
            return Err(format!(
                "socket type \"{}\" does not go with protocol \"{}\"",
                show(fields[1]),
                show(fields[2])
            ));
        }
    }
    let (wait, max_per_minute, [max_child, per_ip_per_minute, max_child_per_ip]) =
        wait_field(fields[3])?;
    let (user, group, login_class) = user_field(fields[4])?;
    let (server, optional) = match fields[5] {
        b"internal" => (Server::Internal, false),
        b"tripwire" => (Server::Tripwire, false),
        p => {
            let (p, optional) = match p.strip_prefix(b"?") {
                Some(rest) => (rest, true),
                None => (p, false),
            };
            if p.first() != Some(&b'/') {
                return Err(format!(
                    "server program \"{}\" is not an absolute path (nor \"internal\" or \
                     \"tripwire\")",
                    show(p)
                ));
            }
            (Server::Program(p.to_vec()), optional)
        }
    };
    Ok(Some(Entry {
        line,
        hosts: hosts.unwrap_or_else(|| default_hosts.clone()),
        service: service.to_vec(),
        socktype,
        transport,
        families,
        sndbuf,
        rcvbuf,
        wait,
        max_per_minute,
        max_child,
        per_ip_per_minute,
        max_child_per_ip,
        user,
        group,
        login_class,
        server,
        optional,
        args: fields[6..].iter().map(|a| a.to_vec()).collect(),
    }))
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    fn one(line: &str) -> Entry {
        let (e, errs) = parse(line.as_bytes());
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(e.len(), 1);
        e.into_iter().next().unwrap()
    }

    fn err(line: &str) -> String {
        let (e, errs) = parse(line.as_bytes());
        assert!(e.is_empty());
        assert_eq!(errs.len(), 1);
        errs[0].message.clone()
    }

    #[test]
    fn seed_lines() {
        let e = one(
            "nrpe    stream  tcp     nowait  nagios /usr/sbin/tcpd /usr/local/nagios/nrpe -c \
             /usr/local/nagios/nrpe.cfg --inetd",
        );
        assert_eq!(e.service, b"nrpe");
        assert_eq!(e.hosts, vec![b"*".to_vec()]);
        assert_eq!(
            (e.socktype, e.transport, e.families),
            (SockType::Stream, Transport::Tcp, Families::Both)
        );
        assert!(!e.wait);
        assert_eq!(e.user, b"nagios");
        assert_eq!(e.server, Server::Program(b"/usr/sbin/tcpd".to_vec()));
        assert_eq!(e.args.len(), 4);
        let e = one("ftp stream tcp6 nowait root /bin/false");
        assert_eq!(e.families, Families::V6);
        assert!(e.args.is_empty());
        let e = one("login stream tcp6 nowait root /usr/local/bin/tcpd /bin/false rlogind");
        assert_eq!(e.args, vec![b"/bin/false".to_vec(), b"rlogind".to_vec()]);
        let e = one("echo\tstream\ttcp\tnowait\troot\tinternal\r");
        assert_eq!(e.server, Server::Internal);
    }

    #[test]
    fn hosts_limits_users_buffers() {
        let (e, errs) = parse(
            b"127.0.0.1:\n\
              echo stream tcp4 nowait.10 nobody:nogroup internal\n\
              [::1],127.0.0.2:7 dgram udp,rcvbuf=64k,sndbuf=1m wait root.staff internal\n\
              *:\n\
              daytime stream tcp46 nowait/5/60/2 nobody:nogroup/daemon internal\n\
              x stream tcp nowait root ?/no/such/prog prog\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(e[0].hosts, vec![b"127.0.0.1".to_vec()]);
        assert_eq!(e[0].max_per_minute, Some(10));
        assert_eq!(e[0].group.as_deref(), Some(&b"nogroup"[..]));
        assert_eq!(e[1].hosts, vec![b"::1".to_vec(), b"127.0.0.2".to_vec()]);
        assert_eq!((e[1].rcvbuf, e[1].sndbuf), (Some(65536), Some(1 << 20)));
        assert!(e[1].wait);
        assert_eq!(e[1].group.as_deref(), Some(&b"staff"[..]));
        assert_eq!(e[2].hosts, vec![b"*".to_vec()]);
        assert_eq!(e[2].families, Families::V46);
        assert_eq!(
            (
                e[2].max_child,
                e[2].per_ip_per_minute,
                e[2].max_child_per_ip
            ),
            (Some(5), Some(60), Some(2))
        );
        assert_eq!(e[2].login_class.as_deref(), Some(&b"daemon"[..]));
        assert!(e[3].optional);
        assert_eq!(e[3].line, 6);
    }

    #[test]
    fn malformed_lines_name_the_problem() {
        assert!(err("echo stream tcp nowait root").contains("incomplete line"));
        assert!(err("echo raw tcp nowait root internal").contains("socket type"));
        assert!(err("echo stream sctp nowait root internal").contains("protocol"));
        assert!(err("echo stream udp nowait root internal").contains("does not go with"));
        assert!(err("echo stream tcp nowait.x root internal").contains("wait/nowait"));
        assert!(err("echo stream tcp maybe root internal").contains("wait/nowait"));
        assert!(err("echo stream tcp nowait/1/2/3/4 root internal").contains("wait/nowait"));
        assert!(err("echo stream tcp nowait :grp internal").contains("user"));
        assert!(err("echo stream tcp nowait root bin/prog").contains("absolute"));
        assert!(err("rstatd/1-3 dgram rpc/udp wait root /x").contains("not supported"));
        assert!(err("echo stream tcp,rcvbuf=0 nowait root internal").contains("buffer"));
        let (e, errs) = parse(b"# c\n\nbad line\necho stream tcp nowait root internal\n");
        assert_eq!(e.len(), 1);
        assert_eq!(errs[0].line, 3);
        assert_eq!(e[0].line, 4);
    }
}
