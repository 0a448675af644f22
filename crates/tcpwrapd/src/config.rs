//! The configuration: inetd.conf lines (read by
//! [`tcpwrap_tools::inetcf::parse`]) resolved into services with their
//! listening addresses, programs, identities and limits, plus tcpwrapd's
//! own settings file (`tcpwrapd.conf`).

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tcpwrap::sys;
use tcpwrap_tools::inetcf::{self, Entry, Families, Server, SockType, Transport};
use tcpwrap_tools::tcpd::Daemon;

use crate::alert::TripwireAlert;
use crate::internal::Builtin;

/// A problem with one line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Vec<u8>,
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            String::from_utf8_lossy(&self.file),
            self.line,
            self.message
        )
    }
}

/// tcpwrapd's own settings (`tcpwrapd.conf` and the command line).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Simultaneous connections from one source to one service (0: no limit).
    pub per_source_max: u32,
    /// New connections per minute from one source to one service (0: no limit).
    pub per_source_rate: u32,
    /// Simultaneous children (or internal sessions) of one service (0: no limit).
    pub service_max: u32,
    /// Invocations per minute of one service (0: no limit; openbsd-inetd's -R).
    pub service_rate: u32,
    /// IPv4 sources are counted per prefix of this length.
    pub source_prefix_v4: u8,
    /// IPv6 sources are counted per prefix of this length (an IPv6 client
    /// usually has a whole /64).
    pub source_prefix_v6: u8,
    /// Time-out of one DNS look-up.
    pub lookup_timeout: Duration,
    /// Threads that decide connections.
    pub workers: usize,
    /// Connections waiting for a decision, at most.
    pub queue: usize,
    /// Idle time-out of internal services.
    pub internal_timeout: Duration,
    /// `listen()` backlog (openbsd-inetd's -q).
    pub backlog: i32,
    /// `spawn` commands running at once, at most.
    pub max_spawn: usize,
    /// How long a connection refused by the tables is held at most
    /// (`refuse-linger`; zero: closed outright). See `daemon::Held`.
    pub refuse_linger: Duration,
    /// The alert every tripwire connection raises (`tripwire-alert`;
    /// `None`: none).
    pub tripwire_alert: Option<Arc<TripwireAlert>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            per_source_max: 16,
            per_source_rate: 60,
            service_max: 256,
            service_rate: 256,
            source_prefix_v4: 32,
            source_prefix_v6: 64,
            lookup_timeout: Duration::from_secs(5),
            workers: 8,
            queue: 1024,
            internal_timeout: Duration::from_secs(60),
            backlog: 128,
            max_spawn: 64,
            refuse_linger: Duration::from_secs(2),
            tripwire_alert: None,
        }
    }
}

impl Settings {
    /// Read a `tcpwrapd.conf`: `KEY VALUE` lines (`KEY = VALUE` also works),
    /// `#` comments. Every problem is reported with its line; the values of
    /// good lines are applied to `self`.
    pub fn apply_file(&mut self, file: &[u8], data: &[u8]) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (n, raw) in data.split(|&b| b == b'\n').enumerate() {
            let line = n as u32 + 1;
            let text = String::from_utf8_lossy(raw);
            let text = text.split('#').next().unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            let mut words = text.split(|c: char| c.is_whitespace() || c == '=');
            let key = words.next().unwrap_or("");
            let value: Vec<&str> = words.filter(|w| !w.is_empty()).collect();
            let r = match value.as_slice() {
                [v] if key == "tripwire-alert" => {
                    self.set_tripwire_alert(v, Some((Arc::from(file), line)))
                }
                [v] => self.set(key, v),
                _ => Err(format!("expected \"{key} VALUE\"")),
            };
            if let Err(message) = r {
                errors.push(ConfigError {
                    file: file.to_vec(),
                    line,
                    message,
                });
            }
        }
        errors
    }

    /// Set one value by its `tcpwrapd.conf` key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = |max: u64| -> Result<u64, String> {
            value
                .parse::<u64>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| format!("{key}: bad value \"{value}\" (a number up to {max})"))
        };
        // Above 0 once converted: a value under a nanosecond would be a
        // zero time-out, which a socket refuses (and an internal session
        // would end at once).
        let secs = || -> Result<Duration, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86400.0)
                .map(Duration::from_secs_f64)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("{key}: bad value \"{value}\" (seconds)"))
        };
        match key {
            "per-source-max" => self.per_source_max = num(1 << 20)? as u32,
            "per-source-rate" => self.per_source_rate = num(1 << 24)? as u32,
            "service-max" => self.service_max = num(1 << 20)? as u32,
            "service-rate" => self.service_rate = num(1 << 24)? as u32,
            "source-prefix-v4" => self.source_prefix_v4 = num(32)? as u8,
            "source-prefix-v6" => self.source_prefix_v6 = num(128)? as u8,
            "lookup-timeout" => self.lookup_timeout = secs()?,
            "internal-timeout" => self.internal_timeout = secs()?,
            "workers" => self.workers = num(256)?.max(1) as usize,
            "queue" => self.queue = num(1 << 20)?.max(1) as usize,
            "backlog" => self.backlog = num(65535)?.max(1) as i32,
            "max-spawn" => self.max_spawn = num(1 << 16)? as usize,
            "refuse-linger" => {
                self.refuse_linger = match value.parse::<f64>() {
                    Ok(s) if s.is_finite() && (0.0..=10.0).contains(&s) => {
                        Duration::from_secs_f64(s)
                    }
                    _ => return Err(format!("{key}: bad value \"{value}\" (0 to 10 seconds)")),
                }
            }
            "tripwire-alert" => self.set_tripwire_alert(value, None)?,
            _ => return Err(format!("unknown setting \"{key}\"")),
        }
        Ok(())
    }

    /// `tripwire-alert NAME` (or `none`), set at `at` (file and line).
    fn set_tripwire_alert(
        &mut self,
        value: &str,
        at: Option<(Arc<[u8]>, u32)>,
    ) -> Result<(), String> {
        self.tripwire_alert = TripwireAlert::parse(value, at)?.map(Arc::new);
        Ok(())
    }
}

/// One listening socket: transport, address and port, and whether an IPv6
/// socket takes IPv6 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bind {
    pub udp: bool,
    pub addr: SocketAddr,
    pub v6only: bool,
}

impl std::fmt::Display for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, if self.udp { "udp" } else { "tcp" })
    }
}

/// What a service does with a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A service of tcpwrapd itself.
    Internal(Builtin),
    /// Accept, log, alert, close.
    Tripwire,
    /// Run a program.
    Exec { path: Vec<u8>, argv: Vec<Vec<u8>> },
}

/// The identity a service runs as (resolved when the configuration is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Limits of one service (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub service_max: u32,
    pub service_rate: u32,
    pub per_source_max: u32,
    pub per_source_rate: u32,
}

/// A service, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `SERVICE/PROTOCOL` as written (`echo/tcp`, `7007/tcp6`).
    pub label: String,
    /// The configuration file and line.
    pub file: Vec<u8>,
    pub line: u32,
    pub socktype: SockType,
    pub wait: bool,
    pub binds: Vec<Bind>,
    pub action: Action,
    /// The daemon name the tables are checked with (`%d`).
    pub daemon: Vec<u8>,
    /// `None`: run with tcpwrapd's own identity.
    pub identity: Option<Identity>,
    pub limits: Limits,
    pub sndbuf: Option<usize>,
    pub rcvbuf: Option<usize>,
    /// The umask children start with: tcpd's `umask(022)` for tcpd entries
    /// (tcpd sets it before anything else); `None`: tcpwrapd's own.
    pub umask: Option<u32>,
}

impl Service {
    pub fn is_stream(&self) -> bool {
        self.socktype == SockType::Stream
    }
}

/// A configuration read from files.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub services: Vec<Arc<Service>>,
    /// Problems that do not stop a line from being served (a missing program).
    pub warnings: Vec<ConfigError>,
}

fn base_name(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The port of an entry's service field: a number from 1 to 65535 or a
/// name of /etc/services. Port 0 is refused, as openbsd-inetd does
/// (`0/tcp: unknown service`): binding it would listen on a port the
/// kernel picks.
fn port_of(e: &Entry) -> Result<u16, String> {
    if e.service.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(&e.service)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("bad port number \"{}\"", show(&e.service)));
    }
    sys::serve::service_port(&e.service, e.transport.name())
        .filter(|&p| p != 0)
        .ok_or_else(|| {
            format!(
                "unknown service \"{}/{}\" (not in /etc/services)",
                show(&e.service),
                e.transport.name()
            )
        })
}

fn binds_of(e: &Entry, port: u16) -> Result<Vec<Bind>, String> {
    let udp = e.transport == Transport::Udp;
    let mut out = Vec::new();
    let v4 = |ip: Ipv4Addr| Bind {
        udp,
        addr: SocketAddr::new(IpAddr::V4(ip), port),
        v6only: false,
    };
    let v6 = |ip: Ipv6Addr| Bind {
        udp,
        addr: SocketAddr::new(IpAddr::V6(ip), port),
        v6only: e.families != Families::V46,
    };
    for h in &e.hosts {
        if h == b"*" {
            match e.families {
                Families::Both => {
                    out.push(v4(Ipv4Addr::UNSPECIFIED));
                    out.push(v6(Ipv6Addr::UNSPECIFIED));
                }
                Families::V4 => out.push(v4(Ipv4Addr::UNSPECIFIED)),
                Families::V6 | Families::V46 => out.push(v6(Ipv6Addr::UNSPECIFIED)),
            }
            continue;
        }
        let addrs: Vec<IpAddr> = match std::str::from_utf8(h).ok().and_then(|s| s.parse().ok()) {
            Some(ip) => vec![ip],
            None => match sys::forward_any(h) {
                Some(f) => f.addrs.into_iter().map(|(a, _)| a).collect(),
                None => return Err(format!("cannot resolve host address \"{}\"", show(h))),
            },
        };
        let before = out.len();
        for ip in addrs {
            match (ip, e.families) {
                (IpAddr::V4(a), Families::Both | Families::V4 | Families::V46) => out.push(v4(a)),
                (IpAddr::V6(a), Families::Both | Families::V6 | Families::V46) => out.push(v6(a)),
                _ => {}
            }
        }
        if out.len() == before {
            return Err(format!(
                "host address \"{}\" has no address of the protocol's family",
                show(h)
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn identity_of(e: &Entry, warnings: &mut Vec<String>) -> Result<Option<Identity>, String> {
    let Some((uid, primary)) = sys::user_ids(&e.user) else {
        return Err(format!("unknown user \"{}\"", show(&e.user)));
    };
    let gid = match &e.group {
        Some(g) => sys::group_id(g).ok_or_else(|| format!("unknown group \"{}\"", show(g)))?,
        None => primary,
    };
    if sys::serve::euid() != 0 {
        if uid != sys::serve::euid() || gid != sys::serve::egid() {
            warnings.push(format!(
                "not running as root: the service runs as uid {}, not as {}",
                sys::serve::euid(),
                show(&e.user)
            ));
        }
        return Ok(None);
    }
    let groups = sys::serve::group_list(&e.user, gid)
        .map_err(|err| format!("groups of \"{}\": {}", show(&e.user), sys::strerror(&err)))?;
    Ok(Some(Identity {
        user: e.user.clone(),
        uid,
        gid,
        groups,
    }))
}

fn check_program(path: &[u8], warnings: &mut Vec<String>) {
    match std::fs::metadata(Path::new(OsStr::from_bytes(path))) {
        Err(err) => warnings.push(format!("{}: {}", show(path), sys::strerror(&err))),
        Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => {
            warnings.push(format!("{}: not an executable file", show(path)))
        }
        Ok(_) => {}
    }
}

/// Resolve one entry into a service (`Ok(None)`: an optional program that
/// does not exist).
fn service_of(
    file: &[u8],
    e: &Entry,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Option<Service>, String> {
    let label = format!(
        "{}/{}",
        show(&e.service),
        match (e.transport, e.families) {
            (Transport::Tcp, Families::Both) => "tcp",
            (Transport::Tcp, Families::V4) => "tcp4",
            (Transport::Tcp, Families::V6) => "tcp6",
            (Transport::Tcp, Families::V46) => "tcp46",
            (Transport::Udp, Families::Both) => "udp",
            (Transport::Udp, Families::V4) => "udp4",
            (Transport::Udp, Families::V6) => "udp6",
            (Transport::Udp, Families::V46) => "udp46",
        }
    );
    let (action, daemon) = match &e.server {
        Server::Internal => {
            let b = Builtin::lookup(&e.service)
                .or_else(|| e.args.first().and_then(|a| Builtin::lookup(a)))
                .ok_or_else(|| {
                    format!(
                        "unknown internal service \"{}\" (echo, discard, daytime, time, chargen; \
                         on another port name it as the argument: \"internal echo\")",
                        show(&e.service)
                    )
                })?;
            (Action::Internal(b), b.name().as_bytes().to_vec())
        }
        Server::Tripwire => {
            let daemon = e.args.first().cloned().unwrap_or_else(|| e.service.clone());
            (Action::Tripwire, daemon)
        }
        Server::Program(path) => {
            if e.optional && std::fs::metadata(Path::new(OsStr::from_bytes(path))).is_err() {
                return Ok(None);
            }
            check_program(path, warnings);
            if base_name(path) == b"tcpd" {
                // A tcpd entry: tcpwrapd does what tcpd would (check, log,
                // then run the daemon as tcpd finds it) without running tcpd.
                let d = Daemon::from_argv(e.args.clone())
                    .ok_or_else(|| "tcpd without a daemon to run".to_string())?;
                if d.path != *path {
                    check_program(&d.path, warnings);
                }
                let name = d.name().to_vec();
                (
                    Action::Exec {
                        path: d.path,
                        argv: d.argv,
                    },
                    name,
                )
            } else {
                let argv = if e.args.is_empty() {
                    vec![base_name(path).to_vec()]
                } else {
                    e.args.clone()
                };
                (
                    Action::Exec {
                        path: path.clone(),
                        argv,
                    },
                    base_name(path).to_vec(),
                )
            }
        }
    };
    if e.wait && e.socktype == SockType::Stream && action == Action::Tripwire {
        return Err("a tripwire cannot be a \"wait\" stream service".into());
    }
    let port = port_of(e)?;
    let binds = binds_of(e, port)?;
    let identity = match action {
        Action::Exec { .. } => identity_of(e, warnings)?,
        _ => None,
    };
    let pick = |own: Option<u32>, default: u32| own.unwrap_or(default);
    let limits = Limits {
        service_max: pick(e.max_child, settings.service_max),
        service_rate: pick(e.max_per_minute, settings.service_rate),
        per_source_max: pick(e.max_child_per_ip, settings.per_source_max),
        per_source_rate: pick(e.per_ip_per_minute, settings.per_source_rate),
    };
    let umask = match &e.server {
        Server::Program(path) if base_name(path) == b"tcpd" => Some(0o022),
        _ => None,
    };
    Ok(Some(Service {
        label,
        file: file.to_vec(),
        line: e.line,
        socktype: e.socktype,
        // Internal services are served in-process whatever the field says.
        wait: e.wait && matches!(action, Action::Exec { .. }),
        binds,
        action,
        daemon,
        identity,
        limits,
        sndbuf: e.sndbuf,
        rcvbuf: e.rcvbuf,
        umask,
    }))
}

/// Read an inetd.conf. Every malformed line is an error with its number;
/// the others become services.
pub fn load(file: &[u8], data: &[u8], settings: &Settings) -> (Config, Vec<ConfigError>) {
    let (entries, parse_errors) = inetcf::parse(data);
    let err = |line: u32, message: String| ConfigError {
        file: file.to_vec(),
        line,
        message,
    };
    let mut errors: Vec<ConfigError> = parse_errors
        .into_iter()
        .map(|e| err(e.line, e.message))
        .collect();
    let mut config = Config::default();
    let mut used: std::collections::HashMap<Bind, u32> = std::collections::HashMap::new();
    for e in &entries {
        let mut warnings = Vec::new();
        match service_of(file, e, settings, &mut warnings) {
            Ok(Some(s)) => {
                if let Some((b, line)) = s.binds.iter().find_map(|b| used.get(b).map(|l| (b, *l))) {
                    errors.push(err(e.line, format!("{b} is already used by line {line}")));
                    continue;
                }
                for b in &s.binds {
                    used.insert(*b, e.line);
                }
                config.services.push(Arc::new(s));
            }
            Ok(None) => {}
            Err(m) => errors.push(err(e.line, m)),
        }
        config
            .warnings
            .extend(warnings.into_iter().map(|m| err(e.line, m)));
    }
    errors.sort_by_key(|e| e.line);
    (config, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> (Config, Vec<ConfigError>) {
        load(b"inetd.conf", s.as_bytes(), &Settings::default())
    }

    #[test]
    fn internal_tcpd_and_plain_programs() {
        let (c, errs) = load_str(
            "127.0.0.1:7007 stream tcp nowait nobody internal echo\n\
             127.0.0.1:7079 stream tcp nowait nobody /usr/sbin/tcpd /bin/date -u\n\
             127.0.0.1:7080 stream tcp nowait nobody /usr/sbin/tcpd in.telnetd\n\
             127.0.0.1:7081 stream tcp nowait root /bin/false\n\
             127.0.0.1:7023 stream tcp nowait nobody tripwire telnet\n\
             127.0.0.1:7024 stream tcp nowait nobody tripwire\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let s = &c.services;
        assert_eq!(s[0].action, Action::Internal(Builtin::Echo));
        assert_eq!(s[0].daemon, b"echo");
        assert_eq!(s[0].label, "7007/tcp");
        assert_eq!(
            s[0].binds,
            vec![Bind {
                udp: false,
                addr: "127.0.0.1:7007".parse().unwrap(),
                v6only: false
            }]
        );
        assert_eq!(
            s[1].action,
            Action::Exec {
                path: b"/bin/date".to_vec(),
                argv: vec![b"date".to_vec(), b"-u".to_vec()]
            }
        );
        assert_eq!(s[1].daemon, b"date");
        assert_eq!(s[2].daemon, b"in.telnetd");
        assert!(
            matches!(&s[2].action, Action::Exec { path, .. } if path == b"/usr/sbin/in.telnetd")
        );
        assert_eq!(s[3].daemon, b"false");
        assert!(matches!(&s[3].action, Action::Exec { argv, .. } if argv == &[b"false".to_vec()]));
        assert_eq!(
            (s[4].action.clone(), s[4].daemon.clone()),
            (Action::Tripwire, b"telnet".to_vec())
        );
        assert_eq!(s[5].daemon, b"7024");
        // A missing daemon is a warning, not an error.
        assert!(c.warnings.iter().any(|w| w.line == 3));
    }

    #[test]
    fn wildcards_families_and_limits() {
        let (c, errs) = load_str(
            "9000 stream tcp nowait/4/10/2 root internal echo\n\
             9001 stream tcp46 nowait.30 root internal echo\n\
             9002 dgram udp6 wait root internal echo\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let s = &c.services;
        assert_eq!(s[0].binds.len(), 2);
        assert!(s[0].binds.iter().any(|b| b.addr.is_ipv6() && b.v6only));
        assert_eq!(
            s[0].limits,
            Limits {
                service_max: 4,
                service_rate: 256,
                per_source_max: 2,
                per_source_rate: 10
            }
        );
        assert_eq!(s[1].binds.len(), 1);
        assert!(!s[1].binds[0].v6only);
        assert_eq!(s[1].limits.service_rate, 30);
        assert!(s[2].binds[0].udp);
        assert!(!s[2].wait);
    }

    #[test]
    fn errors_carry_line_numbers_and_the_rest_is_served() {
        let (c, errs) = load_str(
            "# comment\n\
             127.0.0.1:7007 stream tcp nowait nobody internal echo\n\
             garbage\n\
             127.0.0.1:7008 stream tcp nowait nobody internal nosuch\n\
             127.0.0.1:7007 stream tcp nowait nobody internal discard\n\
             127.0.0.1:7009 stream tcp nowait no-such-user-x /bin/true\n\
             no-such-service-x stream tcp nowait nobody /bin/true\n\
             127.0.0.1:7010 stream tcp nowait nobody internal discard\n",
        );
        let lines: Vec<u32> = errs.iter().map(|e| e.line).collect();
        if sys::serve::euid() == 0 {
            assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        }
        assert!(errs[2].message.contains("already used by line 2"));
        assert!(errs[0].to_string().starts_with("inetd.conf:3: "));
        assert_eq!(c.services.len(), 2);
    }

    /// Port 0 (in any spelling) is an error of its line, as in
    /// openbsd-inetd, not a socket on a port the kernel picks (found by the
    /// inetd_conf fuzz target).
    #[test]
    fn port_zero_is_refused() {
        let (c, errs) = load_str(
            "0 stream tcp nowait root internal echo\n\
             127.0.0.1:000 stream tcp nowait root internal echo\n\
             127.0.0.1:65536 dgram udp wait root internal echo\n\
             127.0.0.1:00007 stream tcp nowait root internal echo\n",
        );
        assert_eq!(
            errs.iter()
                .map(|e| (e.line, e.message.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (1, "bad port number \"0\""),
                (2, "bad port number \"000\""),
                (3, "bad port number \"65536\""),
            ]
        );
        assert_eq!(c.services.len(), 1);
        assert_eq!(c.services[0].binds[0].addr.port(), 7);
    }

    #[test]
    fn settings_file() {
        let mut s = Settings::default();
        let errs = s.apply_file(
            b"tcpwrapd.conf",
            b"# limits\nper-source-max 4\nper-source-rate = 10\nlookup-timeout 0.5\nbogus 1\nworkers\n",
        );
        assert_eq!(s.per_source_max, 4);
        assert_eq!(s.per_source_rate, 10);
        assert_eq!(s.lookup_timeout, Duration::from_millis(500));
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![5, 6]);
        assert_eq!(s.refuse_linger, Duration::from_secs(2));
        let errs = s.apply_file(
            b"tcpwrapd.conf",
            b"refuse-linger 0.5\nrefuse-linger 11\nrefuse-linger -1\n",
        );
        assert_eq!(s.refuse_linger, Duration::from_millis(500));
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3]);
        assert!(s.apply_file(b"t", b"refuse-linger 0\n").is_empty());
        assert!(s.refuse_linger.is_zero());
    }

    /// A time-out under a nanosecond is refused, not a zero `Duration`
    /// (found by the inetd_conf fuzz target).
    #[test]
    fn sub_nanosecond_timeouts_are_refused() {
        let mut s = Settings::default();
        let errs = s.apply_file(
            b"tcpwrapd.conf",
            b"lookup-timeout 0.0000000001\ninternal-timeout 1e-300\nlookup-timeout 0.000000001\n",
        );
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![1, 2]);
        assert!(errs[0].message.contains("(seconds)"));
        assert_eq!(s.lookup_timeout, Duration::from_nanos(1));
        assert_eq!(s.internal_timeout, Duration::from_secs(60));
    }

    #[test]
    fn tripwire_alert_setting() {
        let mut s = Settings::default();
        assert_eq!(s.tripwire_alert, None);
        let errs = s.apply_file(b"t.conf", b"workers 2\ntripwire-alert = tcp-wrappers\n");
        assert!(errs.is_empty(), "{errs:?}");
        let a = s.tripwire_alert.clone().unwrap();
        assert_eq!(a.name, b"tcp-wrappers");
        assert_eq!(a.at, Some((Arc::from(&b"t.conf"[..]), 2)));
        // A bad name is an error of its line and changes nothing.
        let errs = s.apply_file(b"t.conf", b"tripwire-alert bad;name\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 1);
        assert!(
            errs[0]
                .message
                .starts_with("tripwire-alert: bad alert name")
        );
        assert_eq!(s.tripwire_alert, Some(a));
        // none: off.
        assert!(s.apply_file(b"t.conf", b"tripwire-alert none\n").is_empty());
        assert_eq!(s.tripwire_alert, None);
        assert!(s.set("tripwire-alert", "x.y_z").is_ok());
        assert_eq!(s.tripwire_alert.as_ref().unwrap().at, None);
    }
}
