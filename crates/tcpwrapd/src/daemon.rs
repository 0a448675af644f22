//! The event loop: listening sockets, signals (through a signalfd), the
//! verdicts of the check workers and the report pipes of starting children,
//! multiplexed with `poll`. Nothing here waits on the network: checks run on
//! the workers, internal stream sessions on their own threads, datagrams
//! are read and answered without blocking, and children are started from
//! plans prepared in advance.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{ErrorKind, Read};
use std::mem::MaybeUninit;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};
use tcpwrap::alert::AlertMode;

use socket2::{Domain, SockRef, Socket, Type};
use tcpwrap::Checker;
use tcpwrap::sys::serve::{self, ChildFailure, ChildPlan, ChildStdio, ChildStep, Exit, Report};
use tcpwrap::sys::strerror;
use tcpwrap_tools::json::Value;

use crate::alert::TripwireAlert;
use crate::check::{self, Checked, Conn, Job, LookupPool, Msg, SockOpt, TimedResolver, Workers};
use crate::config::{self, Action, Bind, ConfigError, Service, Settings};
use crate::internal;
use crate::limits::{Limiter, LogIt, Refusal, Source, Ticket};
use crate::log::{Logger, Record, rule_suffix};

const LOG_ERR: i32 = 3;
const LOG_WARNING: i32 = 4;
const LOG_NOTICE: i32 = 5;
const LOG_INFO: i32 = 6;

/// Where the inetd.conf comes from.
#[derive(Debug, Clone)]
pub enum ConfSource {
    File(PathBuf),
    /// Built in (the demo): a name for messages and the bytes.
    Embedded {
        name: Vec<u8>,
        data: &'static [u8],
    },
}

/// Everything the command line decides.
#[derive(Debug, Clone)]
pub struct Options {
    pub inetd_conf: ConfSource,
    /// `tcpwrapd.conf`, and whether it must exist.
    pub settings_file: Option<(PathBuf, bool)>,
    /// Settings before the file is applied (command-line values).
    pub settings: Settings,
    pub allow: Vec<u8>,
    pub deny: Vec<u8>,
    /// The alerts config (`--alerts`, default
    /// [`tcpwrap::alert::ALERTS_CONF`]).
    pub alerts: PathBuf,
}

/// A listening socket.
#[derive(Debug)]
enum Sock {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Sock {
    fn fd(&self) -> RawFd {
        match self {
            Sock::Tcp(l) => l.as_raw_fd(),
            Sock::Udp(u) => u.as_raw_fd(),
        }
    }
    fn sockref(&self) -> SockRef<'_> {
        match self {
            Sock::Tcp(l) => SockRef::from(l),
            Sock::Udp(u) => SockRef::from(u),
        }
    }
    fn local(&self) -> Option<SocketAddr> {
        match self {
            Sock::Tcp(l) => l.local_addr().ok(),
            Sock::Udp(u) => u.local_addr().ok(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LState {
    Ready,
    /// Handed to a `wait` service's child.
    Held(i32),
    /// The first datagram's sender is being checked.
    Checking(u64),
    /// Not polled until then (failing `wait` service, EMFILE, rate limit).
    Paused(Instant),
}

#[derive(Debug)]
struct Listener {
    sock: Sock,
    svc: Arc<Service>,
    state: LState,
    /// Passed by systemd: never closed, given back to the pool when unused.
    inherited: bool,
}

#[derive(Debug)]
struct Pending {
    bind: Bind,
    ticket: Option<Ticket>,
    /// The datagram of an internal UDP service.
    payload: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildKind {
    Service,
    Twist,
    Spawn,
}

#[derive(Debug)]
struct Child {
    kind: ChildKind,
    svc: Option<Arc<Service>>,
    ticket: Option<Ticket>,
    client: Option<SocketAddr>,
    started: Instant,
    report: Option<OwnedFd>,
    /// The name each plan step is reported with (`setuid(NAME)`).
    step_names: Vec<Vec<u8>>,
    path: Vec<u8>,
    wait_bind: Option<Bind>,
    failed: bool,
    /// A child started with CLONE_VM that could not exec: logged when it is
    /// reaped, after the records of the connection it was started for.
    start_failure: Option<ChildFailure>,
}

/// Counters of one service, for the status dump.
#[derive(Debug, Default, Clone)]
struct Stats {
    granted: u64,
    refused: u64,
    limited: BTreeMap<&'static str, u64>,
    tripwires: u64,
    exec_failures: u64,
    crashes: u64,
}

/// The server.
pub struct Daemon {
    opts: Options,
    settings: Settings,
    services: Vec<Arc<Service>>,
    listeners: BTreeMap<Bind, Listener>,
    /// Sockets passed by systemd and not in use.
    inherited: HashMap<Bind, Sock>,
    pending: HashMap<u64, Pending>,
    sessions: HashMap<u64, Ticket>,
    children: HashMap<i32, Child>,
    spawned: usize,
    limiter: Limiter,
    pub log: Logger,
    workers: Workers,
    lookups: Arc<LookupPool>,
    rx: Receiver<Msg>,
    tx: Sender<Msg>,
    wake_rd: UnixStream,
    waker: Arc<UnixStream>,
    signals: OwnedFd,
    next_id: u64,
    env: Arc<Vec<Vec<u8>>>,
    stats: HashMap<String, Stats>,
    datagrams: usize,
    stop: Option<i32>,
    last_collect: Instant,
    /// Refused connections held open until the client speaks, closes, or
    /// `refuse_linger` passes (deadline order).
    lingering: VecDeque<Held>,
    notify: Option<Vec<u8>>,
    pub started_ok: bool,
}

/// Signals handled through the signalfd.
pub const SIGNALS: [i32; 6] = [
    libc::SIGHUP,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGUSR1,
    libc::SIGCHLD,
    libc::SIGQUIT,
];

const SELF: &[u8] = b"tcpwrapd";

/// Refused connections held open at once, at most (see `Daemon::linger`).
pub const MAX_LINGERING: usize = 256;

/// How long a held, refused connection waits for the client's first bytes
/// before the client is sent the end of the connection.
const SPEAK_WINDOW: Duration = Duration::from_millis(200);

/// A connection the tables refused, held briefly so that a client that
/// speaks first (TLS, NRPE) never writes into a closed socket. Closed at
/// once, such a client may write after the end of the connection reached
/// it; the kernel answers with a reset, and its next write raises SIGPIPE:
/// Debian's check_nrpe dies of it with no output, which a monitoring system
/// reports as an out-of-range status rather than a refused check. tcpd
/// avoids it by pausing 5 seconds before it exits; here only the socket
/// waits:
///
/// 1. Until the client's first bytes arrive (at most [`SPEAK_WINDOW`]):
///    then the connection is closed with the bytes unread, so the client
///    reads a reset, as it does when tcpd exits (check_nrpe: `Connection
///    reset by peer`).
/// 2. A client still silent then is sent the end of the connection (it
///    reads EOF); whatever it still sends is read and discarded until it
///    closes its side or `refuse_linger` has passed since the refusal.
struct Held {
    sock: TcpStream,
    speak_until: Instant,
    close_at: Instant,
    draining: bool,
}

impl Held {
    /// Move on with the time; false when the connection is to be closed.
    fn tick(&mut self, now: Instant) -> bool {
        if now >= self.close_at {
            return false;
        }
        if !self.draining && now >= self.speak_until {
            self.draining = true;
            if self.sock.shutdown(std::net::Shutdown::Write).is_err() {
                return false;
            }
        }
        true
    }

    fn next_deadline(&self) -> Instant {
        if self.draining {
            self.close_at
        } else {
            self.speak_until.min(self.close_at)
        }
    }

    /// The client sent something or closed: false when the connection is
    /// to be closed now (waiting, the client spoke or closed; draining, it
    /// closed or the socket failed), true to keep holding it.
    fn readable(&mut self) -> bool {
        if !self.draining {
            let mut b = [0u8; 1];
            return matches!(self.sock.peek(&mut b), Err(e) if e.kind() == ErrorKind::WouldBlock);
        }
        let mut buf = [0u8; 4096];
        for _ in 0..4 {
            match (&self.sock).read(&mut buf) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

fn env_snapshot() -> Vec<Vec<u8>> {
    std::env::vars_os()
        .filter(|(k, _)| {
            !matches!(
                k.to_str(),
                Some("LISTEN_PID" | "LISTEN_FDS" | "LISTEN_FDNAMES" | "NOTIFY_SOCKET")
            )
        })
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(&v.into_vec());
            kv
        })
        .collect()
}

fn open_listener(bind: &Bind, svc: &Service, backlog: i32) -> std::io::Result<Sock> {
    let domain = Domain::for_address(bind.addr);
    let ty = if bind.udp { Type::DGRAM } else { Type::STREAM };
    let s = Socket::new(domain, ty, None)?;
    s.set_reuse_address(true)?;
    if bind.addr.is_ipv6() {
        s.set_only_v6(bind.v6only)?;
    }
    if let Some(n) = svc.sndbuf {
        s.set_send_buffer_size(n)?;
    }
    if let Some(n) = svc.rcvbuf {
        s.set_recv_buffer_size(n)?;
    }
    s.bind(&bind.addr.into())?;
    if !bind.udp {
        s.listen(backlog)?;
    }
    s.set_nonblocking(true)?;
    Ok(if bind.udp {
        Sock::Udp(s.into())
    } else {
        Sock::Tcp(s.into())
    })
}

fn sd_notify(target: &Option<Vec<u8>>, msg: &str) {
    use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
    let Some(t) = target else { return };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let addr = if t.first() == Some(&b'@') {
        use std::os::linux::net::SocketAddrExt;
        UnixAddr::from_abstract_name(&t[1..])
    } else {
        use std::os::unix::ffi::OsStrExt;
        UnixAddr::from_pathname(std::ffi::OsStr::from_bytes(t))
    };
    if let Ok(a) = addr {
        let _ = sock.send_to_addr(msg.as_bytes(), &a);
    }
}

/// The banners of a refused client's rule: tcpd writes them before it
/// refuses. Best effort and without blocking the loop (a banner longer than
/// the connection's send buffer is cut).
fn write_banners(s: &std::net::TcpStream, steps: &[(ChildStep, Vec<u8>)]) {
    use std::io::Write;
    let mut banners = steps.iter().filter_map(|(st, _)| match st {
        ChildStep::Write(b) => Some(b),
        _ => None,
    });
    let Some(first) = banners.next() else { return };
    if s.set_nonblocking(true).is_err() {
        return;
    }
    let mut w = s;
    for b in std::iter::once(first).chain(banners) {
        if w.write_all(b).is_err() {
            return;
        }
    }
}

/// The numeric text of an address, as `%a` shows it.
fn numeric(a: &SocketAddr) -> String {
    use tcpwrap_core::Resolver;
    String::from_utf8_lossy(&tcpwrap::resolver::SystemResolver.numeric(a)).into_owned()
}

impl Daemon {
    /// Set up (signals first, before any thread exists) without opening
    /// listeners.
    pub fn new(opts: Options, log: Logger) -> std::io::Result<Daemon> {
        let signals = serve::signal_fd(&SIGNALS)?;
        let (wake_rd, wake_wr) = UnixStream::pair()?;
        wake_rd.set_nonblocking(true)?;
        wake_wr.set_nonblocking(true)?;
        let waker = Arc::new(wake_wr);
        let (tx, rx) = mpsc::channel();
        let settings = opts.settings.clone();
        let lookups = LookupPool::new(16, 256);
        let checker = Arc::new(Checker::new(&opts.allow, &opts.deny));
        let resolver = Arc::new(TimedResolver {
            pool: lookups.clone(),
            timeout: settings.lookup_timeout,
        });
        let workers = Workers::start(
            settings.workers,
            settings.queue,
            checker,
            resolver,
            AlertMode::Dispatch(Arc::new(crate::alert::dispatcher(
                &opts.alerts,
                tx.clone(),
                waker.clone(),
            ))),
            tx.clone(),
            waker.clone(),
        );
        let notify = std::env::var_os("NOTIFY_SOCKET").map(|v| v.into_vec());
        Ok(Daemon {
            opts,
            settings,
            services: Vec::new(),
            listeners: BTreeMap::new(),
            inherited: HashMap::new(),
            pending: HashMap::new(),
            sessions: HashMap::new(),
            children: HashMap::new(),
            spawned: 0,
            limiter: Limiter::new(),
            log,
            workers,
            lookups,
            rx,
            tx,
            wake_rd,
            waker,
            signals,
            next_id: 1,
            env: Arc::new(env_snapshot()),
            stats: HashMap::new(),
            datagrams: 0,
            stop: None,
            last_collect: Instant::now(),
            lingering: VecDeque::new(),
            notify,
            started_ok: false,
        })
    }

    fn say(&mut self, priority: i32, event: &'static str, message: String) {
        let r = Record::new(priority, SELF, event, message.into_bytes());
        self.log.log(&r);
    }

    fn config_error(&mut self, e: &ConfigError, what: &'static str) {
        let mut r = Record::new(LOG_ERR, SELF, what, format!("error: {e}").into_bytes());
        r.extra.push(("file", Value::str(&e.file)));
        r.extra.push(("line", Value::Int(i64::from(e.line))));
        self.log.log(&r);
    }

    /// Take the sockets systemd passed (LISTEN_PID, LISTEN_FDS).
    pub fn take_systemd_sockets(&mut self) {
        let pid_ok = std::env::var("LISTEN_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            == Some(std::process::id());
        let n = std::env::var("LISTEN_FDS")
            .ok()
            .and_then(|n| n.parse::<i32>().ok())
            .unwrap_or(0);
        if !pid_ok || n <= 0 {
            return;
        }
        for fd in 3..3 + n.min(1024) {
            let Some(owned) = serve::inherited_fd(fd) else {
                continue;
            };
            let s = Socket::from(owned);
            let udp = match s.r#type() {
                Ok(t) if t == Type::STREAM => false,
                Ok(t) if t == Type::DGRAM => true,
                _ => {
                    self.say(
                        LOG_WARNING,
                        "systemd",
                        format!("socket activation: descriptor {fd} is not a TCP or UDP socket"),
                    );
                    continue;
                }
            };
            let Some(addr) = s.local_addr().ok().and_then(|a| a.as_socket()) else {
                continue;
            };
            let v6only = addr.is_ipv6() && s.only_v6().unwrap_or(true);
            let _ = s.set_nonblocking(true);
            let bind = Bind { udp, addr, v6only };
            let sock = if udp {
                Sock::Udp(s.into())
            } else {
                Sock::Tcp(s.into())
            };
            self.say(
                LOG_INFO,
                "systemd",
                format!("socket activation: descriptor {fd} is {bind}"),
            );
            self.inherited.insert(bind, sock);
        }
    }

    /// An inherited socket for `bind` (same transport and address; the
    /// IPv6-only flag may differ), or whether a dual-stack inherited socket
    /// already covers an IPv4 wildcard bind.
    fn take_inherited(&mut self, bind: &Bind) -> Option<Sock> {
        if let Some(s) = self.inherited.remove(bind) {
            return Some(s);
        }
        let alt = Bind {
            v6only: !bind.v6only,
            ..*bind
        };
        if bind.addr.is_ipv6() {
            return self.inherited.remove(&alt);
        }
        None
    }

    fn covered_by_dual_stack(&self, bind: &Bind) -> bool {
        if !(bind.addr.is_ipv4() && bind.addr.ip().is_unspecified()) {
            return false;
        }
        let dual = Bind {
            udp: bind.udp,
            addr: SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), bind.addr.port()),
            v6only: false,
        };
        self.inherited.contains_key(&dual)
            || self.listeners.get(&dual).is_some_and(|l| l.inherited)
            || self
                .listeners
                .get(&Bind {
                    v6only: true,
                    ..dual
                })
                .is_some_and(|l| {
                    l.inherited && l.sock.sockref().only_v6().map(|v| !v).unwrap_or(false)
                })
    }

    /// Read the configuration. At start-up (`initial`) the good lines are
    /// served whatever the bad ones; on a reload any error keeps the
    /// previous configuration entirely. Returns whether it was applied.
    pub fn load(&mut self, initial: bool) -> bool {
        let mut settings = self.opts.settings.clone();
        let mut errors: Vec<ConfigError> = Vec::new();
        if let Some((path, required)) = self.opts.settings_file.clone() {
            let name = path.clone().into_os_string().into_vec();
            match std::fs::read(&path) {
                Ok(data) => errors.extend(settings.apply_file(&name, &data)),
                Err(e) if e.kind() == ErrorKind::NotFound && !required => {}
                Err(e) => errors.push(ConfigError {
                    file: name,
                    line: 0,
                    message: format!("cannot read: {}", strerror(&e)),
                }),
            }
        }
        let (name, data) = match &self.opts.inetd_conf {
            ConfSource::File(p) => {
                let name = p.clone().into_os_string().into_vec();
                match std::fs::read(p) {
                    Ok(d) => (name, d),
                    Err(e) => {
                        self.say(
                            LOG_ERR,
                            "config-error",
                            format!(
                                "error: cannot read {}: {}{}",
                                p.display(),
                                strerror(&e),
                                if initial {
                                    ""
                                } else {
                                    "; the previous configuration stays in force"
                                }
                            ),
                        );
                        return false;
                    }
                }
            }
            ConfSource::Embedded { name, data } => (name.clone(), data.to_vec()),
        };
        let (cfg, errs) = config::load(&name, &data, &settings);
        errors.extend(errs);
        for e in &errors {
            self.config_error(e, "config-error");
        }
        if !initial && !errors.is_empty() {
            self.say(
                LOG_ERR,
                "reload-failed",
                format!(
                    "reload failed: {} error(s); the previous configuration stays in force",
                    errors.len()
                ),
            );
            return false;
        }
        for w in &cfg.warnings {
            let mut r = Record::new(
                LOG_WARNING,
                SELF,
                "config-warning",
                format!("warning: {w}").into_bytes(),
            );
            r.extra.push(("line", Value::Int(i64::from(w.line))));
            self.log.log(&r);
        }
        // As tcpdchk checks a table's alerts: an alert that cannot be sent
        // is a warning now, not only at the first tripwire.
        if let Some(tw) = &settings.tripwire_alert {
            if let Err(m) = tw.check(&self.opts.alerts) {
                let mut r = Record::new(
                    LOG_WARNING,
                    SELF,
                    "config-warning",
                    format!("warning: {}{m}", tw.origin()).into_bytes(),
                );
                if let Some((_, line)) = &tw.at {
                    r.extra.push(("line", Value::Int(i64::from(*line))));
                }
                self.log.log(&r);
            }
        }
        self.apply(cfg.services, settings, initial);
        self.started_ok = true;
        true
    }

    fn apply(&mut self, services: Vec<Arc<Service>>, settings: Settings, initial: bool) {
        let mut wanted: BTreeMap<Bind, Arc<Service>> = BTreeMap::new();
        for s in &services {
            for b in &s.binds {
                wanted.insert(*b, s.clone());
            }
        }
        let (mut kept, mut opened, mut closed) = (0, 0, 0);
        let gone: Vec<Bind> = self
            .listeners
            .keys()
            .filter(|b| !wanted.contains_key(b))
            .copied()
            .collect();
        for b in gone {
            if let Some(l) = self.listeners.remove(&b) {
                closed += 1;
                self.say(
                    LOG_INFO,
                    "close",
                    format!("{}: no longer listening on {b}", l.svc.label),
                );
                if l.inherited {
                    self.inherited.insert(b, l.sock);
                }
            }
        }
        for (b, svc) in wanted {
            if let Some(l) = self.listeners.get_mut(&b) {
                kept += 1;
                let sr = l.sock.sockref();
                if let Some(n) = svc.sndbuf {
                    let _ = sr.set_send_buffer_size(n);
                }
                if let Some(n) = svc.rcvbuf {
                    let _ = sr.set_recv_buffer_size(n);
                }
                l.svc = svc;
                continue;
            }
            if self.covered_by_dual_stack(&b) {
                self.say(
                    LOG_INFO,
                    "listen",
                    format!(
                        "{}: {b} is served by the dual-stack socket passed by systemd",
                        svc.label
                    ),
                );
                continue;
            }
            let (sock, inherited) = match self.take_inherited(&b) {
                Some(s) => (Ok(s), true),
                None => (open_listener(&b, &svc, settings.backlog), false),
            };
            match sock {
                Ok(sock) => {
                    opened += 1;
                    let at = sock.local().map(|a| a.to_string()).unwrap_or_default();
                    let mut r = Record::new(
                        LOG_INFO,
                        SELF,
                        "listen",
                        format!(
                            "{}: listening on {at}/{}{} ({}, line {})",
                            svc.label,
                            if b.udp { "udp" } else { "tcp" },
                            if inherited { " (from systemd)" } else { "" },
                            String::from_utf8_lossy(&svc.daemon),
                            svc.line
                        )
                        .into_bytes(),
                    );
                    r.service = Some(&svc.label);
                    r.extra.push(("address", Value::str(&at)));
                    self.log.log(&r);
                    self.listeners.insert(
                        b,
                        Listener {
                            sock,
                            svc,
                            state: LState::Ready,
                            inherited,
                        },
                    );
                }
                Err(e) => {
                    let mut r = Record::new(
                        LOG_ERR,
                        SELF,
                        "listen-error",
                        format!(
                            "error: {}: cannot listen on {b}: {} ({}:{})",
                            svc.label,
                            strerror(&e),
                            String::from_utf8_lossy(&svc.file),
                            svc.line
                        )
                        .into_bytes(),
                    );
                    r.service = Some(&svc.label);
                    self.log.log(&r);
                }
            }
        }
        for b in self.inherited.keys().copied().collect::<Vec<_>>() {
            self.say(
                LOG_WARNING,
                "systemd",
                format!("socket activation: {b} matches no service"),
            );
        }
        let n = services.len();
        self.services = services;
        self.settings = settings;
        self.say(
            LOG_INFO,
            if initial { "start" } else { "reload" },
            format!(
                "{}: {n} service(s), {} listener(s): {kept} kept, {opened} opened, {closed} closed",
                if initial { "started" } else { "reloaded" },
                self.listeners.len()
            ),
        );
    }

    /// The addresses actually listened on (tests, the demo banner).
    pub fn listening(&self) -> Vec<(String, SocketAddr)> {
        self.listeners
            .values()
            .filter_map(|l| l.sock.local().map(|a| (l.svc.label.clone(), a)))
            .collect()
    }

    fn stats(&mut self, label: &str) -> &mut Stats {
        self.stats.entry(label.to_string()).or_default()
    }

    /// Run until SIGTERM or SIGINT; the exit status.
    pub fn run(&mut self) -> i32 {
        sd_notify(&self.notify, "READY=1");
        let tick = Duration::from_millis(500);
        while self.stop.is_none() {
            enum Slot {
                Signals,
                Wake,
                Listener(Bind),
                Report(i32),
                Linger(usize),
            }
            let mut fds = vec![self.signals.as_raw_fd(), self.wake_rd.as_raw_fd()];
            let mut slots = vec![Slot::Signals, Slot::Wake];
            let now = Instant::now();
            let mut timeout = tick;
            for (b, l) in self.listeners.iter_mut() {
                if let LState::Paused(until) = l.state {
                    if until <= now {
                        l.state = LState::Ready;
                    } else {
                        timeout = timeout.min(until - now);
                    }
                }
                if l.state == LState::Ready {
                    fds.push(l.sock.fd());
                    slots.push(Slot::Listener(*b));
                }
            }
            for (pid, c) in &self.children {
                if let Some(r) = &c.report {
                    fds.push(r.as_raw_fd());
                    slots.push(Slot::Report(*pid));
                }
            }
            // Held refused connections: a silent client's time to speak
            // is up (it now reads the end), or the time to hold it is up
            // (closed, by dropping).
            self.lingering.retain_mut(|h| h.tick(now));
            for (i, h) in self.lingering.iter().enumerate() {
                timeout = timeout.min(h.next_deadline() - now);
                fds.push(h.sock.as_raw_fd());
                slots.push(Slot::Linger(i));
            }
            let mut spoke = Vec::new();
            let ready = match serve::poll_readable(&fds, Some(timeout)) {
                Ok(r) => r,
                Err(e) => {
                    self.say(LOG_ERR, "error", format!("poll: {}", strerror(&e)));
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            for (slot, r) in slots.into_iter().zip(ready) {
                if !r {
                    continue;
                }
                match slot {
                    Slot::Signals => self.on_signals(),
                    Slot::Wake => self.on_wake(),
                    Slot::Listener(b) => self.on_listener(b),
                    Slot::Report(pid) => self.on_report(pid),
                    Slot::Linger(i) => spoke.push(i),
                }
                if self.stop.is_some() {
                    break;
                }
            }
            // A held client sent bytes or closed its side. Entries added
            // meanwhile went to the back: the indexes still hold.
            for i in spoke.into_iter().rev() {
                if !self.lingering[i].readable() {
                    self.lingering.remove(i);
                }
            }
            let now = Instant::now();
            if now.duration_since(self.last_collect) >= Duration::from_secs(1) {
                self.last_collect = now;
                self.reap();
                self.limiter.collect(now);
            }
        }
        let code = self.stop.unwrap_or(0);
        sd_notify(&self.notify, "STOPPING=1");
        self.listeners.clear();
        self.inherited.clear();
        code
    }

    fn on_signals(&mut self) {
        for sig in serve::read_signals(&self.signals) {
            match sig {
                libc::SIGCHLD => self.reap(),
                libc::SIGHUP => {
                    if let Err(e) = self.log.reopen() {
                        self.say(
                            LOG_ERR,
                            "error",
                            format!("cannot reopen the log files: {}", strerror(&e)),
                        );
                    }
                    self.say(
                        LOG_INFO,
                        "reload",
                        "SIGHUP: reading the configuration".into(),
                    );
                    sd_notify(&self.notify, "RELOADING=1");
                    self.load(false);
                    sd_notify(&self.notify, "READY=1");
                }
                libc::SIGUSR1 => self.status(),
                _ => {
                    self.say(
                        LOG_NOTICE,
                        "stop",
                        format!(
                            "terminating on {} ({} children left running)",
                            serve::signal_name(sig),
                            self.children.len()
                        ),
                    );
                    self.stop = Some(0);
                }
            }
        }
    }

    fn on_wake(&mut self) {
        let mut buf = [0u8; 256];
        while let Ok(n) = (&self.wake_rd).read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Checked(c) => self.on_checked(*c),
                Msg::SessionDone(id) => {
                    if let Some(t) = self.sessions.remove(&id) {
                        self.limiter.release(t);
                    }
                }
                Msg::AlertReport { priority, message } => {
                    self.log.log(&Record::new(priority, SELF, "alert", message));
                }
            }
        }
    }

    fn source_of(&self, addr: &SocketAddr) -> Source {
        Source::of(
            addr.ip(),
            self.settings.source_prefix_v4,
            self.settings.source_prefix_v6,
        )
    }

    /// Log a refusal by a limit (tcpd's refusal record, with the limit).
    fn limit_record(&mut self, svc: &Service, client: Option<SocketAddr>, r: Refusal, log: LogIt) {
        *self.stats(&svc.label).limited.entry(r.key()).or_default() += 1;
        let LogIt::Yes { unlogged } = log else { return };
        let who = match client {
            Some(c) => {
                let a = numeric(&c);
                format!("{a} ({a})")
            }
            None => "unknown".into(),
        };
        let more = if unlogged > 0 {
            format!("; {unlogged} more refused since the last record")
        } else {
            String::new()
        };
        let mut rec = Record::new(
            LOG_WARNING,
            &svc.daemon,
            "limit",
            format!("refused connect from {who} (limit: {}{more})", r.describe()).into_bytes(),
        );
        rec.service = Some(&svc.label);
        rec.client = client;
        rec.extra.push(("limit", Value::str(r.key())));
        rec.extra.push(("unlogged", Value::Int(unlogged as i64)));
        self.log.log(&rec);
    }

    fn on_listener(&mut self, b: Bind) {
        let Some(l) = self.listeners.get(&b) else {
            return;
        };
        let svc = l.svc.clone();
        match (&svc.action, svc.is_stream(), svc.wait) {
            (_, true, false) => self.accept_streams(b, svc),
            (Action::Exec { .. }, true, true) => self.hand_over_stream(b, svc),
            (Action::Exec { .. }, false, _) => self.first_datagram(b, svc),
            (_, false, _) => self.read_datagrams(b, svc),
            (_, true, true) => self.accept_streams(b, svc),
        }
    }

    fn pause(&mut self, b: Bind, d: Duration) {
        if let Some(l) = self.listeners.get_mut(&b) {
            l.state = LState::Paused(Instant::now() + d);
        }
    }

    fn accept_streams(&mut self, b: Bind, svc: Arc<Service>) {
        for _ in 0..64 {
            let Some(Listener {
                sock: Sock::Tcp(l), ..
            }) = self.listeners.get(&b)
            else {
                return;
            };
            match l.accept() {
                Ok((s, peer)) => self.on_stream(b, svc.clone(), s, peer),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS: the connection stays queued;
                    // try again shortly instead of spinning.
                    let mut r = Record::new(
                        LOG_ERR,
                        SELF,
                        "accept-error",
                        format!("{}: accept: {}", svc.label, strerror(&e)).into_bytes(),
                    );
                    r.service = Some(&svc.label);
                    self.log.log(&r);
                    self.pause(b, Duration::from_millis(200));
                    return;
                }
            }
        }
    }

    fn on_stream(&mut self, b: Bind, svc: Arc<Service>, s: std::net::TcpStream, peer: SocketAddr) {
        let src = self.source_of(&peer);
        let ticket = match self.limiter.admit(&svc, Some(src), Instant::now()) {
            Ok(t) => t,
            Err((r, log)) => {
                // Closed at once: no pause that would hold anything up.
                drop(s);
                self.limit_record(&svc, Some(peer), r, log);
                return;
            }
        };
        if let Err(e) = s.peer_addr() {
            // Reset by the client before it was accepted: as openbsd-inetd,
            // nothing is checked or run for it (after the limits, so that a
            // flood of such connections is logged boundedly).
            drop(s);
            self.limiter.release(ticket);
            let mut r = Record::new(
                LOG_WARNING,
                SELF,
                "accept-error",
                format!("{}: could not getpeername: {}", svc.label, strerror(&e)).into_bytes(),
            );
            r.service = Some(&svc.label);
            r.client = Some(peer);
            self.log.log(&r);
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let job = Job {
            id,
            svc: svc.clone(),
            client: peer,
            server: s.local_addr().ok(),
            conn: Conn::Stream(s),
            env: self.env.clone(),
            tripwire_alert: self.tripwire_alert(&svc),
        };
        self.pending.insert(
            id,
            Pending {
                bind: b,
                ticket: Some(ticket),
                payload: None,
            },
        );
        if let Err(job) = self.workers.submit(job) {
            drop(job);
            if let Some(t) = self.pending.remove(&id).and_then(|p| p.ticket) {
                self.limiter.release(t);
            }
            self.overloaded(&svc, peer);
        }
    }

    /// The alert a connection to `svc` raises as a tripwire.
    fn tripwire_alert(&self, svc: &Service) -> Option<Arc<TripwireAlert>> {
        match svc.action {
            Action::Tripwire => self.settings.tripwire_alert.clone(),
            _ => None,
        }
    }

    fn overloaded(&mut self, svc: &Service, peer: SocketAddr) {
        *self.stats(&svc.label).limited.entry("queue").or_default() += 1;
        let a = numeric(&peer);
        let mut r = Record::new(
            LOG_WARNING,
            &svc.daemon,
            "limit",
            format!(
                "refused connect from {a} ({a}) (limit: {} connections waiting for a decision)",
                self.settings.queue
            )
            .into_bytes(),
        );
        r.service = Some(&svc.label);
        r.client = Some(peer);
        r.extra.push(("limit", Value::str("queue")));
        self.log.log(&r);
    }

    /// A `wait` stream service: its clients are accepted by the child, so
    /// they cannot be checked; only the service's limits apply.
    fn hand_over_stream(&mut self, b: Bind, svc: Arc<Service>) {
        let ticket = match self.limiter.admit(&svc, None, Instant::now()) {
            Ok(t) => t,
            Err((r, log)) => {
                self.limit_record(&svc, None, r, log);
                self.pause(b, Duration::from_secs(1));
                return;
            }
        };
        let Some(fd) = self.listeners.get(&b).map(|l| l.sock.fd()) else {
            return;
        };
        let Action::Exec { path, argv } = &svc.action else {
            return;
        };
        let (plan, names) = self.plan(
            &svc,
            &[],
            self.env.as_ref().clone(),
            ChildStdio::Fd(fd),
            path.clone(),
            argv.clone(),
            true,
        );
        match self.start_child(
            &plan,
            names,
            ChildKind::Service,
            Some(svc.clone()),
            Some(ticket),
            None,
            Some(b),
        ) {
            Ok(pid) => {
                if let Some(l) = self.listeners.get_mut(&b) {
                    l.state = LState::Held(pid);
                }
                let mut r = Record::new(
                    LOG_INFO,
                    &svc.daemon,
                    "wait-handover",
                    format!("listening socket {b} handed to the service (wait: connections are not checked)")
                        .into_bytes(),
                );
                r.pid = pid as u32;
                r.service = Some(&svc.label);
                self.log.log(&r);
            }
            Err(()) => self.pause(b, Duration::from_secs(1)),
        }
    }

    /// A datagram service run by a program: check the first datagram's
    /// sender (peeked, left queued for the child).
    fn first_datagram(&mut self, b: Bind, svc: Arc<Service>) {
        let Some(l) = self.listeners.get(&b) else {
            return;
        };
        let sr = l.sock.sockref();
        let mut buf = [MaybeUninit::<u8>::uninit(); 1];
        let peer = match sr.recv_from_with_flags(&mut buf, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
            Ok((_, addr)) => addr.as_socket(),
            Err(_) => return,
        };
        let server = l.sock.local();
        let Some(peer) = peer else {
            let _ = sr.recv_from_with_flags(&mut buf, libc::MSG_DONTWAIT);
            return;
        };
        let src = self.source_of(&peer);
        let ticket = match self.limiter.admit(&svc, Some(src), Instant::now()) {
            Ok(t) => t,
            Err((r, log)) => {
                let _ = sr.recv_from_with_flags(&mut buf, libc::MSG_DONTWAIT);
                self.limit_record(&svc, Some(peer), r, log);
                return;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                bind: b,
                ticket: Some(ticket),
                payload: None,
            },
        );
        let job = Job {
            id,
            svc: svc.clone(),
            client: peer,
            server,
            conn: Conn::Datagram,
            env: self.env.clone(),
            tripwire_alert: None,
        };
        match self.workers.submit(job) {
            Ok(()) => {
                if let Some(l) = self.listeners.get_mut(&b) {
                    l.state = LState::Checking(id);
                }
            }
            Err(_) => {
                if let Some(t) = self.pending.remove(&id).and_then(|p| p.ticket) {
                    self.limiter.release(t);
                }
                self.discard_datagram(b);
                self.overloaded(&svc, peer);
            }
        }
    }

    fn discard_datagram(&mut self, b: Bind) {
        if let Some(l) = self.listeners.get(&b) {
            let mut buf = [MaybeUninit::<u8>::uninit(); 1];
            let _ = l
                .sock
                .sockref()
                .recv_from_with_flags(&mut buf, libc::MSG_DONTWAIT);
        }
    }

    /// Internal datagram services and datagram tripwires: read (without
    /// blocking) and queue each datagram's check.
    fn read_datagrams(&mut self, b: Bind, svc: Arc<Service>) {
        let replies = matches!(
            svc.action,
            Action::Internal(
                internal::Builtin::Echo
                    | internal::Builtin::Daytime
                    | internal::Builtin::Time
                    | internal::Builtin::Chargen
            )
        );
        let mut buf = vec![0u8; 65536];
        for _ in 0..64 {
            let Some(Listener {
                sock: Sock::Udp(u), ..
            }) = self.listeners.get(&b)
            else {
                return;
            };
            let server = u.local_addr().ok();
            let (n, peer) = match u.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            // Never answer a privileged port or NFS: that is how two
            // internal services are made to talk to each other forever.
            if replies && (peer.port() < 1024 || peer.port() == 2049) {
                continue;
            }
            let src = self.source_of(&peer);
            let ticket = match self.limiter.admit(&svc, Some(src), Instant::now()) {
                Ok(t) => t,
                Err((r, log)) => {
                    self.limit_record(&svc, Some(peer), r, log);
                    continue;
                }
            };
            let id = self.next_id;
            self.next_id += 1;
            self.pending.insert(
                id,
                Pending {
                    bind: b,
                    ticket: Some(ticket),
                    payload: Some(buf[..n].to_vec()),
                },
            );
            let job = Job {
                id,
                svc: svc.clone(),
                client: peer,
                server,
                conn: Conn::Datagram,
                env: self.env.clone(),
                tripwire_alert: self.tripwire_alert(&svc),
            };
            if self.workers.submit(job).is_err() {
                if let Some(t) = self.pending.remove(&id).and_then(|p| p.ticket) {
                    self.limiter.release(t);
                }
                self.overloaded(&svc, peer);
            }
        }
    }

    /// The plan of a child: the service's identity, then the recorded
    /// option steps in order, then `execve`.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        svc: &Service,
        steps: &[(ChildStep, Vec<u8>)],
        env: Vec<Vec<u8>>,
        stdio: ChildStdio,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        blocking: bool,
    ) -> (ChildPlan, Vec<Vec<u8>>) {
        let mut plan_steps = Vec::new();
        let mut names = Vec::new();
        if let Some(m) = svc.umask {
            plan_steps.push(ChildStep::Umask(m));
            names.push(Vec::new());
        }
        if let Some(id) = &svc.identity {
            plan_steps.push(ChildStep::Identity {
                uid: Some(id.uid),
                gid: id.gid,
                groups: id.groups.clone(),
            });
            names.push(id.user.clone());
        }
        for (s, n) in steps {
            plan_steps.push(s.clone());
            names.push(n.clone());
        }
        (
            ChildPlan {
                path,
                argv,
                env,
                stdio,
                steps: plan_steps,
                ignore_sighup: false,
                blocking_stdio: blocking,
            },
            names,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn start_child(
        &mut self,
        plan: &ChildPlan,
        step_names: Vec<Vec<u8>>,
        kind: ChildKind,
        svc: Option<Arc<Service>>,
        ticket: Option<Ticket>,
        client: Option<SocketAddr>,
        wait_bind: Option<Bind>,
    ) -> Result<i32, ()> {
        match serve::spawn_plan(plan) {
            Ok(s) => {
                self.children.insert(
                    s.pid,
                    Child {
                        kind,
                        svc,
                        ticket,
                        client,
                        started: Instant::now(),
                        report: s.report,
                        step_names,
                        path: plan.path.clone(),
                        wait_bind,
                        failed: false,
                        start_failure: s.failure,
                    },
                );
                if kind == ChildKind::Spawn {
                    self.spawned += 1;
                }
                Ok(s.pid)
            }
            Err(e) => {
                let tag = svc
                    .as_ref()
                    .map(|s| s.daemon.clone())
                    .unwrap_or(SELF.to_vec());
                let mut r = Record::new(
                    LOG_ERR,
                    &tag,
                    "fork-error",
                    format!("error: cannot fork: {}", strerror(&e)).into_bytes(),
                );
                r.client = client;
                self.log.log(&r);
                if let Some(t) = ticket {
                    self.limiter.release(t);
                }
                Err(())
            }
        }
    }

    fn on_checked(&mut self, c: Checked) {
        let Some(p) = self.pending.remove(&c.id) else {
            return;
        };
        let svc = c.svc.clone();
        let v = &c.verdict;
        let tag = svc.daemon.clone();
        let deny_prio = v.settings.deny_severity;
        let allow_prio = v.settings.allow_severity;
        let granted = v.granted() && !v.exit && !c.source_routed;
        let rule = v.rule.clone();
        let wait_dgram = matches!(svc.action, Action::Exec { .. }) && !svc.is_stream();
        let mut ticket = p.ticket;
        let mut pid_for_log = std::process::id();
        let mut records: Vec<(i32, &'static str, Vec<u8>, bool)> = c
            .early
            .iter()
            .map(|(pr, m)| (*pr, "diagnostic", m.clone(), false))
            .chain(
                v.diagnostics
                    .iter()
                    .map(|d| (d.priority(), "diagnostic", d.text(), false)),
            )
            .collect();
        let client_part = [&c.client_info[..], b" (", &c.client_addr, b")"].concat();
        let tripwire = svc.action == Action::Tripwire;
        let mut conn = Some(c.conn);

        if let (Some(cmd), false) = (v.twist.clone(), c.source_routed) {
            // twist: the shell replaces the service, on the connection.
            let stdio = match (&conn, wait_dgram) {
                (Some(Conn::Stream(s)), _) => Some(ChildStdio::Fd(s.as_raw_fd())),
                (_, true) => self
                    .listeners
                    .get(&p.bind)
                    .map(|l| ChildStdio::Fd(l.sock.fd())),
                _ => None,
            };
            if let Some(stdio) = stdio {
                let (plan, names) = self.plan(
                    &svc,
                    &c.rec.steps,
                    c.rec.env.clone(),
                    stdio,
                    b"/bin/sh".to_vec(),
                    vec![b"sh".to_vec(), b"-c".to_vec(), cmd],
                    wait_dgram,
                );
                let wait_bind = wait_dgram.then_some(p.bind);
                match self.start_child(
                    &plan,
                    names,
                    ChildKind::Twist,
                    Some(svc.clone()),
                    ticket.take(),
                    Some(c.client),
                    wait_bind,
                ) {
                    Ok(pid) => {
                        pid_for_log = pid as u32;
                        if let Some(l) = wait_bind.and_then(|b| self.listeners.get_mut(&b)) {
                            l.state = LState::Held(pid);
                        }
                    }
                    Err(()) => {
                        if wait_dgram {
                            self.rearm(p.bind, true);
                        }
                    }
                }
            } else {
                records.push((
                    LOG_WARNING,
                    "diagnostic",
                    b"warning: twist ignored: an internal datagram service has no connection to hand over"
                        .to_vec(),
                    false,
                ));
            }
            self.stats(&svc.label).refused += u64::from(!granted);
            self.stats(&svc.label).granted += u64::from(granted);
            if tripwire {
                self.stats(&svc.label).tripwires += 1;
            }
        } else if tripwire {
            records.push((
                deny_prio,
                "tripwire",
                [
                    &b"refused connect from "[..],
                    &client_part,
                    b" (tripwire)",
                    &rule_suffix(rule.as_ref()),
                ]
                .concat(),
                true,
            ));
            self.stats(&svc.label).tripwires += 1;
            if wait_dgram {
                self.discard_datagram(p.bind);
            }
        } else if !granted {
            if let Some(Conn::Stream(s)) = &conn {
                write_banners(s, &c.rec.steps);
            }
            if let Some(Conn::Stream(s)) = conn.take() {
                self.linger(s);
            }
            let mut m = [&b"refused connect from "[..], &client_part].concat();
            m.extend_from_slice(&rule_suffix(rule.as_ref()));
            records.push((deny_prio, "refuse", m, true));
            self.stats(&svc.label).refused += 1;
            if wait_dgram {
                self.discard_datagram(p.bind);
                self.rearm(p.bind, false);
            }
        } else {
            self.stats(&svc.label).granted += 1;
            let mut m = [&b"connect from "[..], &client_part].concat();
            m.extend_from_slice(&rule_suffix(rule.as_ref()));
            if let Some(Conn::Stream(s)) = &conn {
                for o in &c.rec.sockopts {
                    let sr = SockRef::from(s);
                    let _ = match o {
                        SockOpt::Keepalive => sr.set_keepalive(true),
                        SockOpt::Linger(n) => {
                            sr.set_linger(Some(Duration::from_secs((*n).max(0) as u64)))
                        }
                    };
                }
            }
            match &svc.action {
                Action::Internal(builtin) => match conn.take() {
                    Some(Conn::Stream(s)) => {
                        let prefix: Vec<u8> = c
                            .rec
                            .steps
                            .iter()
                            .filter_map(|(st, _)| match st {
                                ChildStep::Write(b) => Some(b.clone()),
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                            .concat();
                        let (builtin, idle, tx, waker, id) = (
                            *builtin,
                            self.settings.internal_timeout,
                            self.tx.clone(),
                            self.waker.clone(),
                            c.id,
                        );
                        let spawned = std::thread::Builder::new()
                            .name(format!("internal-{}", builtin.name()))
                            .stack_size(128 * 1024)
                            .spawn(move || {
                                internal::serve_stream(builtin, s, idle, &prefix);
                                let _ = tx.send(Msg::SessionDone(id));
                                check::wake(&waker);
                            });
                        match spawned {
                            Ok(_) => {
                                if let Some(t) = ticket.take() {
                                    self.sessions.insert(c.id, t);
                                }
                            }
                            Err(e) => records.push((
                                LOG_ERR,
                                "diagnostic",
                                format!("error: cannot start a thread: {}", strerror(&e))
                                    .into_bytes(),
                                false,
                            )),
                        }
                    }
                    Some(Conn::Datagram) => {
                        self.datagrams = self.datagrams.wrapping_add(1);
                        let payload = p.payload.as_deref().unwrap_or(b"");
                        if let Some(reply) =
                            internal::datagram_reply(*builtin, payload, self.datagrams)
                        {
                            if let Some(Listener {
                                sock: Sock::Udp(u), ..
                            }) = self.listeners.get(&p.bind)
                            {
                                let _ = SockRef::from(u).send_to_with_flags(
                                    &reply,
                                    &c.client.into(),
                                    libc::MSG_DONTWAIT,
                                );
                            }
                        }
                    }
                    None => {}
                },
                Action::Exec { path, argv } => {
                    let stdio = match (&conn, wait_dgram) {
                        (Some(Conn::Stream(s)), _) => Some(ChildStdio::Fd(s.as_raw_fd())),
                        (_, true) => self
                            .listeners
                            .get(&p.bind)
                            .map(|l| ChildStdio::Fd(l.sock.fd())),
                        _ => None,
                    };
                    if let Some(stdio) = stdio {
                        let (plan, names) = self.plan(
                            &svc,
                            &c.rec.steps,
                            c.rec.env.clone(),
                            stdio,
                            path.clone(),
                            argv.clone(),
                            wait_dgram,
                        );
                        let wait_bind = wait_dgram.then_some(p.bind);
                        match self.start_child(
                            &plan,
                            names,
                            ChildKind::Service,
                            Some(svc.clone()),
                            ticket.take(),
                            Some(c.client),
                            wait_bind,
                        ) {
                            Ok(pid) => {
                                pid_for_log = pid as u32;
                                if let Some(l) = wait_bind.and_then(|b| self.listeners.get_mut(&b))
                                {
                                    l.state = LState::Held(pid);
                                }
                            }
                            Err(()) => {
                                if wait_dgram {
                                    self.discard_datagram(p.bind);
                                    self.rearm(p.bind, true);
                                }
                            }
                        }
                    }
                }
                Action::Tripwire => {}
            }
            records.push((allow_prio, "grant", m, true));
        }
        if let Some(l) = self.listeners.get_mut(&p.bind) {
            if l.state == LState::Checking(c.id) {
                l.state = LState::Ready;
            }
        }
        for (prio, event, msg, decision) in records {
            let mut r = Record::new(prio, &tag, event, msg);
            r.pid = pid_for_log;
            r.service = Some(&svc.label);
            r.client = Some(c.client);
            r.server = c.server;
            if decision {
                r.rule = rule.as_ref();
            }
            self.log.log(&r);
        }
        // The connection closes here unless a child or a session has it.
        drop(conn);
        if let Some(t) = ticket {
            self.limiter.release(t);
        }
        for sp in &c.rec.spawns {
            self.spawn_command(&svc, sp, c.client);
        }
    }

    /// `spawn`: `/bin/sh -c CMD`, stdio on /dev/null, SIGHUP ignored, in the
    /// background (reaped by the loop).
    fn spawn_command(&mut self, svc: &Arc<Service>, sp: &check::Spawn, client: SocketAddr) {
        if self.settings.max_spawn > 0 && self.spawned >= self.settings.max_spawn {
            let mut r = Record::new(
                LOG_WARNING,
                &svc.daemon,
                "spawn-skipped",
                format!(
                    "warning: spawn skipped: {} spawned commands are still running",
                    self.spawned
                )
                .into_bytes(),
            );
            r.client = Some(client);
            self.log.log(&r);
            return;
        }
        // As under tcpd: the service's identity, then the options so far.
        let (mut plan, names) = self.plan(
            svc,
            &sp.steps,
            sp.env.clone(),
            ChildStdio::DevNull,
            b"/bin/sh".to_vec(),
            vec![b"sh".to_vec(), b"-c".to_vec(), sp.command.clone()],
            false,
        );
        plan.ignore_sighup = true;
        let _ = self.start_child(
            &plan,
            names,
            ChildKind::Spawn,
            Some(svc.clone()),
            None,
            Some(client),
            None,
        );
    }

    /// A `wait` listener is ours again.
    fn rearm(&mut self, b: Bind, failed: bool) {
        if let Some(l) = self.listeners.get_mut(&b) {
            let _ = l.sock.sockref().set_nonblocking(true);
            l.state = if failed {
                LState::Paused(Instant::now() + Duration::from_secs(1))
            } else {
                LState::Ready
            };
        }
    }

    /// Close a connection the tables refused without letting a client
    /// that speaks first write into a closed socket (see [`Held`]); at most
    /// [`MAX_LINGERING`] are held at once (more are closed outright), none
    /// when `refuse_linger` is zero.
    fn linger(&mut self, s: TcpStream) {
        let hold = self.settings.refuse_linger;
        if hold.is_zero() || self.lingering.len() >= MAX_LINGERING {
            return;
        }
        if s.set_nonblocking(true).is_err() {
            return;
        }
        let mut h = Held {
            sock: s,
            speak_until: Instant::now() + hold.min(SPEAK_WINDOW),
            close_at: Instant::now() + hold,
            draining: false,
        };
        if h.readable() {
            self.lingering.push_back(h);
        }
    }

    fn on_report(&mut self, pid: i32) {
        let Some(c) = self.children.get_mut(&pid) else {
            return;
        };
        let Some(fd) = &c.report else { return };
        match serve::read_report(fd) {
            Report::Pending => {}
            Report::Executed => c.report = None,
            Report::Failed(f) => {
                c.report = None;
                self.child_failed(pid, f);
            }
        }
    }

    fn child_failed(&mut self, pid: i32, f: ChildFailure) {
        let Some(c) = self.children.get_mut(&pid) else {
            return;
        };
        c.failed = true;
        let (svc, client, path) = (c.svc.clone(), c.client, c.path.clone());
        let exec = matches!(f, ChildFailure::Exec(_));
        let msg = match f {
            ChildFailure::Exec(errno) => format!(
                "error: cannot execute {}: {}",
                String::from_utf8_lossy(&path),
                strerror(&std::io::Error::from_raw_os_error(errno))
            ),
            ChildFailure::Step(i, call, errno) => format!(
                "error: {call}({}): {}",
                String::from_utf8_lossy(c.step_names.get(i).map(|v| v.as_slice()).unwrap_or(b"")),
                strerror(&std::io::Error::from_raw_os_error(errno))
            ),
            ChildFailure::Stdio(errno) => format!(
                "error: cannot set up descriptors 0-2: {}",
                strerror(&std::io::Error::from_raw_os_error(errno))
            ),
        };
        let mut tag = svc
            .as_ref()
            .map(|s| s.daemon.clone())
            .unwrap_or(SELF.to_vec());
        if exec {
            // tcpd logs this after closelog(), with the C library's default
            // ident: the base name of its argv[0] (`sub/prog` logs as `prog`).
            tag = tag.rsplit(|&b| b == b'/').next().unwrap_or(&[]).to_vec();
        }
        if let Some(s) = &svc {
            self.stats(&s.label).exec_failures += 1;
        }
        let mut r = Record::new(LOG_ERR, &tag, "exec-error", msg.into_bytes());
        r.pid = pid as u32;
        r.client = client;
        r.service = svc.as_ref().map(|s| s.label.as_str());
        self.log.log(&r);
    }

    fn reap(&mut self) {
        let pids: Vec<i32> = self.children.keys().copied().collect();
        for pid in pids {
            match serve::try_wait(pid) {
                Ok(None) => {}
                Ok(Some(e)) => self.child_exited(pid, Some(e)),
                Err(_) => self.child_exited(pid, None),
            }
        }
    }

    fn child_exited(&mut self, pid: i32, exit: Option<Exit>) {
        if let Some(f) = self
            .children
            .get_mut(&pid)
            .and_then(|c| c.start_failure.take())
        {
            self.child_failed(pid, f);
        }
        if let Some(fd) = self.children.get(&pid).and_then(|c| c.report.as_ref()) {
            if let Report::Failed(f) = serve::read_report(fd) {
                self.child_failed(pid, f);
            }
        }
        let Some(c) = self.children.remove(&pid) else {
            return;
        };
        if let Some(t) = c.ticket {
            self.limiter.release(t);
        }
        if c.kind == ChildKind::Spawn {
            self.spawned = self.spawned.saturating_sub(1);
        }
        let quick = c.started.elapsed() < Duration::from_secs(1);
        let mut bad = c.failed;
        if let (Some(Exit::Signal(sig)), Some(svc)) = (exit, &c.svc) {
            if c.kind != ChildKind::Spawn {
                bad = true;
                self.stats(&svc.label).crashes += 1;
                let mut r = Record::new(
                    LOG_WARNING,
                    &svc.daemon,
                    "crash",
                    format!(
                        "{}: pid {pid} exited on signal {sig} ({})",
                        svc.label,
                        serve::signal_name(sig)
                    )
                    .into_bytes(),
                );
                r.pid = pid as u32;
                r.client = c.client;
                r.service = Some(&svc.label);
                r.extra.push(("signal", Value::Int(i64::from(sig))));
                self.log.log(&r);
            }
        }
        if let Some(Exit::Code(code)) = exit {
            bad |= code != 0;
        }
        if let Some(b) = c.wait_bind {
            if self
                .listeners
                .get(&b)
                .is_some_and(|l| l.state == LState::Held(pid))
            {
                self.rearm(b, bad && quick);
            }
        }
    }

    /// The status dump (SIGUSR1).
    pub fn status(&mut self) {
        let running: usize = self
            .children
            .values()
            .filter(|c| c.kind != ChildKind::Spawn)
            .count();
        let msg = format!(
            "status: {} service(s), {} listener(s), {} children, {} spawned command(s), {} \
             connection(s) being checked ({} queued), {} internal session(s), {} source(s) \
             tracked, {} look-up(s) timed out, {} syslog record(s) dropped, {} refused \
             connection(s) held",
            self.services.len(),
            self.listeners.len(),
            running,
            self.spawned,
            self.pending.len(),
            self.workers.queued(),
            self.sessions.len(),
            self.limiter.sources(),
            self.lookups
                .timeouts
                .load(std::sync::atomic::Ordering::Relaxed),
            self.log.dropped(),
            self.lingering.len()
        );
        let mut r = Record::new(LOG_INFO, SELF, "status", msg.into_bytes());
        r.extra.push(("children", Value::Int(running as i64)));
        r.extra
            .push(("pending", Value::Int(self.pending.len() as i64)));
        r.extra
            .push(("sessions", Value::Int(self.sessions.len() as i64)));
        self.log.log(&r);
        for svc in self.services.clone() {
            let st = self.stats.get(&svc.label).cloned().unwrap_or_default();
            let active = self.limiter.active(&svc.label);
            let binds: Vec<String> = svc
                .binds
                .iter()
                .filter(|b| self.listeners.contains_key(b))
                .map(|b| b.to_string())
                .collect();
            let limited: Vec<String> = st.limited.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let l = svc.limits;
            let msg = format!(
                "status: {} ({}) on {}: {active} active (max {}), granted {}, refused {}, \
                 limited {} [{}], tripwires {}, exec failures {}, crashes {}; limits: per \
                 source {} at once, {}/min; service {}/min",
                svc.label,
                String::from_utf8_lossy(&svc.daemon),
                if binds.is_empty() {
                    "nothing".to_string()
                } else {
                    binds.join(", ")
                },
                l.service_max,
                st.granted,
                st.refused,
                st.limited.values().sum::<u64>(),
                limited.join(", "),
                st.tripwires,
                st.exec_failures,
                st.crashes,
                l.per_source_max,
                l.per_source_rate,
                l.service_rate
            );
            let mut r = Record::new(LOG_INFO, SELF, "status", msg.into_bytes());
            r.service = Some(&svc.label);
            r.extra.push(("active", Value::Int(i64::from(active))));
            r.extra.push(("granted", Value::Int(st.granted as i64)));
            r.extra.push(("refused", Value::Int(st.refused as i64)));
            r.extra.push((
                "limited",
                Value::Object(
                    st.limited
                        .iter()
                        .map(|(k, n)| (*k, Value::Int(*n as i64)))
                        .collect(),
                ),
            ));
            r.extra.push(("tripwires", Value::Int(st.tripwires as i64)));
            r.extra
                .push(("exec_failures", Value::Int(st.exec_failures as i64)));
            r.extra.push(("crashes", Value::Int(st.crashes as i64)));
            self.log.log(&r);
        }
    }
}
