//! Records: tcpd's syslog format (`TAG[PID]: connect from …`), sent to
//! syslog, standard error or a file, and optionally as JSON lines.
//!
//! The syslog client writes RFC 3164 datagrams to `/dev/log` itself, so
//! that each record carries the daemon's name and the pid of the process
//! that serves it, as tcpd's records do (the C library's `openlog` has one
//! ident per process). The event loop never blocks on it: records go
//! through a bounded queue to one sender thread, which waits for the
//! syslog daemon as tcpd's `syslog()` does (so a burst of decisions is not
//! lost when the socket's receive queue is short); only a record that finds
//! the queue full ([`SYSLOG_QUEUE`] records waiting) or that the socket
//! refuses is counted as dropped.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::{SystemTime, UNIX_EPOCH};

use tcpwrap::sys::serve::local_time;
use tcpwrap_core::RuleRef;
use tcpwrap_tools::json::Value;

/// syslog facility of the records without one (LOG_DAEMON, as tcpd).
pub const FACILITY: i32 = 3 << 3;

/// Where records go.
#[derive(Debug, Default)]
pub struct Targets {
    /// The syslog socket (`/dev/log`).
    pub syslog: Option<PathBuf>,
    pub stderr: bool,
    /// Text records appended to a file.
    pub file: Option<PathBuf>,
    /// JSON lines appended to a file.
    pub json: Option<PathBuf>,
}

/// One record.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// syslog priority (a level, optionally with a facility).
    pub priority: i32,
    /// The ident: the daemon name (as tcpd logs) or `tcpwrapd`.
    pub tag: &'a [u8],
    pub pid: u32,
    /// What happened (`grant`, `refuse`, `limit`, …): JSON only.
    pub event: &'static str,
    pub message: Vec<u8>,
    pub service: Option<&'a str>,
    pub client: Option<SocketAddr>,
    pub server: Option<SocketAddr>,
    pub rule: Option<&'a RuleRef>,
    /// More JSON members.
    pub extra: Vec<(&'static str, Value)>,
}

impl<'a> Record<'a> {
    pub fn new(priority: i32, tag: &'a [u8], event: &'static str, message: Vec<u8>) -> Record<'a> {
        Record {
            priority,
            tag,
            pid: std::process::id(),
            event,
            message,
            service: None,
            client: None,
            server: None,
            rule: None,
            extra: Vec::new(),
        }
    }
}

/// ` (FILE:LINE)`: the deciding rule appended to a record.
pub fn rule_suffix(rule: Option<&RuleRef>) -> Vec<u8> {
    match rule {
        Some(r) => [&b" ("[..], &r.file, format!(":{})", r.line).as_bytes()].concat(),
        None => Vec::new(),
    }
}

const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn syslog_stamp(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = local_time(secs as i64);
    format!(
        "{} {:2} {:02}:{:02}:{:02}",
        MONTHS[t.month as usize % 12],
        t.day,
        t.hour,
        t.minute,
        t.second
    )
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of a Unix time in milliseconds.
pub fn iso_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// Records that may wait for the syslog sender thread.
pub const SYSLOG_QUEUE: usize = 65536;

/// The queue to the syslog sender thread.
#[derive(Debug)]
struct Syslog {
    tx: SyncSender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
}

impl Syslog {
    /// Start the sender thread: blocking sends to `path`, one datagram per
    /// record; the thread ends when the logger is dropped.
    fn start(path: PathBuf) -> std::io::Result<Syslog> {
        let sock = UnixDatagram::unbound()?;
        let (tx, rx) = sync_channel::<Vec<u8>>(SYSLOG_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        // It may start before the daemon's signalfd: with every signal
        // blocked, SIGHUP, SIGUSR1 and the others are never delivered here.
        tcpwrap::sys::serve::with_signals_blocked(|| {
            std::thread::Builder::new()
                .name("syslog".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    for dgram in rx {
                        if sock.send_to(&dgram, &path).is_err() {
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
        })?;
        Ok(Syslog { tx, dropped })
    }

    fn send(&self, dgram: Vec<u8>) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(dgram)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The logger.
#[derive(Debug)]
pub struct Logger {
    syslog: Option<Syslog>,
    stderr: bool,
    file: Option<File>,
    json: Option<File>,
    targets: Option<Targets>,
}

fn append(p: &PathBuf) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
}

impl Logger {
    pub fn open(t: &Targets) -> std::io::Result<Logger> {
        let syslog = match &t.syslog {
            Some(p) => Some(Syslog::start(p.clone())?),
            None => None,
        };
        Ok(Logger {
            syslog,
            stderr: t.stderr,
            file: t.file.as_ref().map(append).transpose()?,
            json: t.json.as_ref().map(append).transpose()?,
            targets: Some(Targets {
                syslog: t.syslog.clone(),
                stderr: t.stderr,
                file: t.file.clone(),
                json: t.json.clone(),
            }),
        })
    }

    /// Open the log files again (after they were rotated); on failure the
    /// files in use stay.
    pub fn reopen(&mut self) -> std::io::Result<()> {
        let Some(t) = &self.targets else {
            return Ok(());
        };
        let file = t.file.as_ref().map(append).transpose()?;
        let json = t.json.as_ref().map(append).transpose()?;
        self.file = file;
        self.json = json;
        Ok(())
    }

    /// A logger that writes nowhere (tests).
    pub fn none() -> Logger {
        Logger {
            syslog: None,
            stderr: false,
            file: None,
            json: None,
            targets: None,
        }
    }

    /// Records syslog did not get (queue full or refused by the socket).
    pub fn dropped(&self) -> u64 {
        self.syslog
            .as_ref()
            .map_or(0, |s| s.dropped.load(Ordering::Relaxed))
    }

    pub fn log(&mut self, r: &Record<'_>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let priority = if r.priority & !7 == 0 {
            r.priority | FACILITY
        } else {
            r.priority
        };
        let body: Vec<u8> = [
            r.tag,
            format!("[{}]: ", r.pid).as_bytes(),
            &r.message
                .iter()
                .map(|&b| if b == b'\n' || b == 0 { b' ' } else { b })
                .collect::<Vec<u8>>(),
        ]
        .concat();
        let stamp = syslog_stamp(secs);
        if let Some(syslog) = &self.syslog {
            syslog.send([format!("<{priority}>{stamp} ").as_bytes(), &body].concat());
        }
        let line = [stamp.as_bytes(), b" ", &body, b"\n"].concat();
        if self.stderr {
            let _ = std::io::stderr().write_all(&line);
        }
        if let Some(f) = &mut self.file {
            let _ = f.write_all(&line);
        }
        if let Some(f) = &mut self.json {
            let mut members: Vec<(&'static str, Value)> = vec![
                ("time", Value::str(iso_utc(now.as_millis() as u64))),
                ("level", Value::str(LEVELS[(priority & 7) as usize])),
                ("tag", Value::str(r.tag)),
                ("pid", Value::Int(i64::from(r.pid))),
                ("event", Value::str(r.event)),
            ];
            if let Some(s) = r.service {
                members.push(("service", Value::str(s)));
            }
            if let Some(c) = r.client {
                members.push(("client", Value::str(c.ip().to_string())));
                members.push(("client_port", Value::Int(i64::from(c.port()))));
            }
            if let Some(s) = r.server {
                members.push(("server", Value::str(s.to_string())));
            }
            members.push((
                "rule",
                match r.rule {
                    Some(rule) => {
                        Value::str([&rule.file[..], format!(":{}", rule.line).as_bytes()].concat())
                    }
                    None => Value::Null,
                },
            ));
            members.push(("message", Value::str(&r.message)));
            members.extend(r.extra.iter().cloned());
            let mut text = Value::Object(members).render();
            text.push('\n');
            let _ = f.write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn dates_and_suffixes() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1_000_000_000_123), "2001-09-09T01:46:40.123Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        let r = RuleRef {
            file: Arc::from(&b"/etc/hosts.allow"[..]),
            line: 3,
        };
        assert_eq!(rule_suffix(Some(&r)), b" (/etc/hosts.allow:3)");
        assert_eq!(rule_suffix(None), b"");
    }

    #[test]
    fn records_go_to_syslog_text_and_json() {
        let dir = std::env::temp_dir().join(format!("tcpwrapd-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("log");
        let _ = std::fs::remove_file(&sock);
        let listener = UnixDatagram::bind(&sock).unwrap();
        let t = Targets {
            syslog: Some(sock.clone()),
            stderr: false,
            file: Some(dir.join("text")),
            json: Some(dir.join("json")),
        };
        let mut l = Logger::open(&t).unwrap();
        let rule = RuleRef {
            file: Arc::from(&b"hosts.deny"[..]),
            line: 2,
        };
        let mut r = Record::new(
            4,
            b"in.telnetd",
            "refuse",
            b"refused connect from x".to_vec(),
        );
        r.pid = 42;
        r.rule = Some(&rule);
        r.client = Some("127.0.0.2:4000".parse().unwrap());
        l.log(&r);
        let mut buf = [0u8; 512];
        let n = listener.recv(&mut buf).unwrap();
        let d = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(d.starts_with("<28>"), "{d}");
        assert!(
            d.ends_with(" in.telnetd[42]: refused connect from x"),
            "{d}"
        );
        let text = std::fs::read_to_string(dir.join("text")).unwrap();
        assert!(text.ends_with(" in.telnetd[42]: refused connect from x\n"));
        let json = std::fs::read_to_string(dir.join("json")).unwrap();
        assert!(json.contains("\"level\":\"warning\""), "{json}");
        assert!(json.contains("\"rule\":\"hosts.deny:2\""), "{json}");
        assert!(
            json.contains("\"client\":\"127.0.0.2\",\"client_port\":4000"),
            "{json}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A burst far beyond the socket's receive queue (10 datagrams by
    /// default) is delivered in full once the reader catches up: the loop
    /// never waits, the sender thread does.
    #[test]
    fn a_burst_waits_for_the_syslog_reader_instead_of_being_dropped() {
        let dir = std::env::temp_dir().join(format!("tcpwrapd-burst-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("log");
        let _ = std::fs::remove_file(&sock);
        let listener = UnixDatagram::bind(&sock).unwrap();
        let t = Targets {
            syslog: Some(sock.clone()),
            stderr: false,
            file: None,
            json: None,
        };
        let mut l = Logger::open(&t).unwrap();
        let start = std::time::Instant::now();
        for i in 0..2000 {
            let r = Record::new(
                6,
                b"sshd",
                "grant",
                format!("connect from 10.0.0.{i}").into_bytes(),
            );
            l.log(&r);
        }
        // Logging never waited for the reader, who has not read anything yet.
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut buf = [0u8; 512];
        listener
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        for i in 0..2000 {
            let n = listener.recv(&mut buf).unwrap();
            let d = String::from_utf8_lossy(&buf[..n]).into_owned();
            assert!(d.ends_with(&format!(": connect from 10.0.0.{i}")), "{d}");
        }
        assert_eq!(l.dropped(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
