//! Deciding connections off the event loop: a bounded pool of worker
//! threads runs each check against the shared, cached tables; host-name
//! look-ups go through a second pool and give up after a time-out ("unknown",
//! as a failing resolver), ident has its own time-out (`rfc931`). Options
//! are recorded, not carried out: what the child will need (banner bytes,
//! environment, identity, umask, nice, a twist command) is prepared here,
//! `spawn` commands are handed to the event loop to start, and only
//! `aclexec`, which decides the verdict, runs here.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tcpwrap::alert::AlertMode;

use tcpwrap::sys::serve::ChildStep;
use tcpwrap::sys::{self, sock, strerror};
use tcpwrap::{Checker, Settings as CheckSettings};
use tcpwrap_core::{
    Action, Ctx, Executor, Family, Forward, Outcome, Request, Resolver, Side, Verdict,
};

use crate::alert::TripwireAlert;
use crate::config::{Action as ServiceAction, Service};

/// Runs closures on a few threads; a caller waits for its result at most
/// a time-out (the thread finishes the call in its own time).
#[derive(Debug)]
pub struct LookupPool {
    tx: Mutex<SyncSender<Box<dyn FnOnce() + Send>>>,
    /// Look-ups that timed out or found the pool saturated.
    pub timeouts: AtomicU64,
}

impl LookupPool {
    pub fn new(threads: usize, queue: usize) -> Arc<LookupPool> {
        let (tx, rx) = mpsc::sync_channel::<Box<dyn FnOnce() + Send>>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("lookup-{i}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(f) => f(),
                            Err(_) => return,
                        }
                    }
                });
        }
        Arc::new(LookupPool {
            tx: Mutex::new(tx),
            timeouts: AtomicU64::new(0),
        })
    }

    /// `f()`, or `None` when it takes longer than `timeout`.
    pub fn run<T: Send + 'static>(
        &self,
        timeout: Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (rtx, rrx) = mpsc::sync_channel(1);
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = rtx.send(f());
        });
        let sent = match self.tx.lock() {
            Ok(tx) => tx.try_send(job),
            Err(_) => return None,
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = sent {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match rrx.recv_timeout(timeout) {
            Ok(v) => Some(v),
            Err(_) => {
                self.timeouts.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

/// The system resolver with a time-out per look-up.
pub struct TimedResolver {
    pub pool: Arc<LookupPool>,
    pub timeout: Duration,
}

impl Resolver for TimedResolver {
    fn reverse(&self, ip: IpAddr, scope: u32) -> Option<Vec<u8>> {
        self.pool
            .run(self.timeout, move || sys::reverse_name(ip, scope))
            .flatten()
    }
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward> {
        let name = name.to_vec();
        self.pool
            .run(self.timeout, move || sys::forward(&name, family))
            .flatten()
    }
    fn is_numeric(&self, name: &[u8], family: Family) -> bool {
        // AI_NUMERICHOST never queries the network.
        sys::is_numeric(name, family)
    }
    fn numeric(&self, sa: &SocketAddr) -> Vec<u8> {
        tcpwrap::resolver::SystemResolver.numeric(sa)
    }
}

/// A `spawn` command to start, with the environment and the process
/// settings (`user`, `group`, `umask`, `nice`) in effect at that point, as
/// tcpd would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawn {
    pub command: Vec<u8>,
    pub env: Vec<Vec<u8>>,
    pub steps: Vec<(ChildStep, Vec<u8>)>,
}

/// A socket option for the parent to set on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockOpt {
    Keepalive,
    Linger(i32),
}

/// Options recorded for the event loop and the child.
#[derive(Debug)]
pub struct Recorder {
    /// Steps for the child, in order, with the name each identity step is
    /// reported with.
    pub steps: Vec<(ChildStep, Vec<u8>)>,
    pub env: Vec<Vec<u8>>,
    pub spawns: Vec<Spawn>,
    pub sockopts: Vec<SockOpt>,
    /// The connection, for `aclexec` (its descriptors 0-2, as under tcpd).
    pub fd: Option<i32>,
    /// Where `alert NAME` options go (the daemon's dispatcher thread).
    pub alerts: AlertMode,
    /// The names of the alerts fired for this connection.
    pub fired: Vec<Vec<u8>>,
}

fn set_env(env: &mut Vec<Vec<u8>>, name: &[u8], value: &[u8]) {
    let mut kv = name.to_vec();
    kv.push(b'=');
    env.retain(|e| !e.starts_with(&kv));
    kv.extend_from_slice(value);
    env.push(kv);
}

impl Executor for Recorder {
    fn execute(&mut self, action: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome {
        match *action {
            Action::Spawn { command } => self.spawns.push(Spawn {
                command: command.to_vec(),
                env: self.env.clone(),
                steps: self
                    .steps
                    .iter()
                    .filter(|(s, _)| !matches!(s, ChildStep::Write(_)))
                    .cloned()
                    .collect(),
            }),
            Action::Twist { command } => {
                let client = req.client_info(ctx);
                ctx.log_priority(
                    ctx.deny_severity,
                    [&b"twist "[..], &client, b" to ", command].concat(),
                );
            }
            Action::Aclexec { command } => return aclexec(command, self.fd, &self.env, ctx),
            // Prepared here (templates expanded with this request), sent by
            // the dispatcher's thread: never waits for the monitoring server.
            Action::Alert { name, output } => {
                self.fired.push(name.to_vec());
                self.alerts.fire(name, output, req, ctx);
            }
            Action::Keepalive => self.sockopts.push(SockOpt::Keepalive),
            Action::Linger(n) => self.sockopts.push(SockOpt::Linger(n)),
            Action::Nice(n) => self.steps.push((ChildStep::Nice(n), Vec::new())),
            Action::Umask(m) => self.steps.push((ChildStep::Umask(m), Vec::new())),
            Action::Setenv { name, value } => set_env(&mut self.env, name, value),
            Action::Banners { dir } => {
                let mut path = dir.to_vec();
                path.push(b'/');
                path.extend_from_slice(req.daemon());
                // Read without blocking (a FIFO is not read: it would hold a
                // check worker forever) and bounded.
                match tcpwrap::cache::read_file(std::path::Path::new(OsStr::from_bytes(&path))) {
                    Ok(content) => match tcpwrap_core::banner::render(&content, req, ctx) {
                        Ok(bytes) => self.steps.push((ChildStep::Write(bytes), Vec::new())),
                        Err(_) => return Outcome::Exit,
                    },
                    Err(_) => {
                        if let Err(e) = std::fs::metadata(OsStr::from_bytes(dir)) {
                            ctx.warn([dir, b": ", strerror(&e).as_bytes()].concat());
                        }
                    }
                }
            }
            Action::Group { group, gid } => self.steps.push((
                ChildStep::Identity {
                    uid: None,
                    gid,
                    groups: Vec::new(),
                },
                group.to_vec(),
            )),
            Action::User {
                user,
                uid,
                gid,
                group,
            } => {
                let g = group.map(|(_, g)| g).unwrap_or(gid);
                let groups = match sys::serve::group_list(user, g) {
                    Ok(v) => v,
                    Err(e) => {
                        return Outcome::Error(
                            [&b"initgroups("[..], user, b"): ", strerror(&e).as_bytes()].concat(),
                        );
                    }
                };
                self.steps.push((
                    ChildStep::Identity {
                        uid: Some(uid),
                        gid: g,
                        groups,
                    },
                    user.to_vec(),
                ));
            }
        }
        Outcome::Done
    }
}

/// `aclexec`: `/bin/sh -c CMD` on the connection, waited for; a non-zero
/// status makes the rule not match.
fn aclexec(command: &[u8], fd: Option<i32>, env: &[Vec<u8>], ctx: &mut Ctx<'_>) -> Outcome {
    use std::process::{Command, Stdio};
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(OsStr::from_bytes(command)).env_clear();
    for kv in env {
        if let Some(p) = kv.iter().position(|&b| b == b'=') {
            c.env(OsStr::from_bytes(&kv[..p]), OsStr::from_bytes(&kv[p + 1..]));
        }
    }
    let stdio = |fd: Option<i32>| -> Stdio {
        match fd.and_then(|f| sys::serve::dup_fd(f).ok()) {
            Some(owned) => Stdio::from(owned),
            None => Stdio::null(),
        }
    };
    c.stdin(stdio(fd)).stdout(stdio(fd)).stderr(stdio(fd));
    match c.spawn() {
        Ok(mut child) => {
            let pid = child.id();
            match child.wait() {
                Ok(st) if st.signal().is_some() => {
                    ctx.warn(
                        format!(
                            "process {pid} exited with signal {}",
                            st.signal().unwrap_or(0)
                        )
                        .into_bytes(),
                    );
                    Outcome::AclexecFailed
                }
                Ok(st) if st.code() == Some(0) => Outcome::Done,
                _ => Outcome::AclexecFailed,
            }
        }
        Err(e) => {
            ctx.warn(format!("aclexec_option: /bin/sh: {}", strerror(&e)).into_bytes());
            Outcome::Exit
        }
    }
}

/// What a connection is, for the check.
#[derive(Debug)]
pub enum Conn {
    /// An accepted stream.
    Stream(TcpStream),
    /// A datagram (internal UDP service) or the first datagram of a `wait`
    /// datagram service, still queued on its socket.
    Datagram,
}

/// A connection to decide.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub svc: Arc<Service>,
    pub client: SocketAddr,
    pub server: Option<SocketAddr>,
    pub conn: Conn,
    /// The environment children start from.
    pub env: Arc<Vec<Vec<u8>>>,
    /// A tripwire service's alert (`tripwire-alert` of tcpwrapd.conf).
    pub tripwire_alert: Option<Arc<TripwireAlert>>,
}

/// A decided connection.
#[derive(Debug)]
pub struct Checked {
    pub id: u64,
    pub svc: Arc<Service>,
    pub client: SocketAddr,
    pub server: Option<SocketAddr>,
    pub conn: Conn,
    pub verdict: Verdict,
    /// Records to log before the decision (IP options, …), with their
    /// priority.
    pub early: Vec<(i32, Vec<u8>)>,
    /// `%c` and `%a` of the client after the check.
    pub client_info: Vec<u8>,
    pub client_addr: Vec<u8>,
    pub rec: Recorder,
    /// Refused for IP source routing before any rule was read.
    pub source_routed: bool,
}

/// Largest IP option list read (tcpd's `BUFFER_SIZE / 3`).
const OPTBUF: usize = 512 / 3;

/// tcpd's `fix_options`: refuse source-routed IPv4 connections, log and
/// clear other IP options. Returns whether the connection is refused.
fn fix_options(
    s: &TcpStream,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
    early: &mut Vec<(i32, Vec<u8>)>,
) -> bool {
    let fd = s.as_raw_fd();
    if !matches!(s.local_addr(), Ok(SocketAddr::V4(_))) {
        return false;
    }
    let Ok(opts) = sock::ip_options(fd, OPTBUF) else {
        return false;
    };
    if opts.is_empty() {
        return false;
    }
    let c = req.client_info(ctx);
    if tcpwrap_tools::tcpd::has_source_route(&opts) {
        early.push((
            libc::LOG_WARNING,
            [
                &b"refused connect from "[..],
                &c,
                b" with IP source routing options",
            ]
            .concat(),
        ));
        return true;
    }
    early.push((
        libc::LOG_NOTICE,
        [
            &b"connect from "[..],
            &c,
            b" with IP options (ignored):",
            &tcpwrap_tools::tcpd::hex_options(&opts),
        ]
        .concat(),
    ));
    if let Err(e) = sock::clear_ip_options(fd) {
        early.push((
            libc::LOG_ERR,
            format!("setsockopt IP_OPTIONS NULL: {}", strerror(&e)).into_bytes(),
        ));
        return true;
    }
    false
}

/// Decide one connection.
pub fn decide(
    checker: &Checker,
    resolver: &TimedResolver,
    alerts: &AlertMode,
    job: Job,
) -> Checked {
    let mut req = Request::for_connection(&job.svc.daemon, job.client, job.server);
    req.datagram = matches!(job.conn, Conn::Datagram);
    let env = checker.env_with(resolver);
    let mut early = Vec::new();
    let mut source_routed = false;
    if let Conn::Stream(s) = &job.conn {
        let mut ctx = Ctx::new(env);
        source_routed = fix_options(s, &mut req, &mut ctx, &mut early);
        early.extend(ctx.diagnostics.iter().map(|d| (d.priority(), d.text())));
    }
    let mut rec = Recorder {
        env: (*job.env).clone(),
        fd: match &job.conn {
            Conn::Stream(s) => Some(s.as_raw_fd()),
            Conn::Datagram => None,
        },
        steps: Vec::new(),
        spawns: Vec::new(),
        sockopts: Vec::new(),
        alerts: alerts.clone(),
        fired: Vec::new(),
    };
    let mut verdict = if source_routed {
        Verdict {
            decision: tcpwrap_core::Decision::Deny,
            reason: tcpwrap_core::Reason::OptionError,
            rule: None,
            options: Vec::new(),
            lookups: Vec::new(),
            diagnostics: Vec::new(),
            settings: CheckSettings::default(),
            twist: None,
            exit: false,
            context: None,
        }
    } else {
        checker.check_with(env, &mut req, CheckSettings::default(), &mut rec)
    };
    rec.fd = None;
    // A tripwire raises its alert whatever the tables decided (a source-
    // routed client included), once per connection; the warnings are
    // logged with the check's.
    if let (ServiceAction::Tripwire, Some(tw)) = (&job.svc.action, &job.tripwire_alert) {
        let warnings = tw.fire(alerts, &rec.fired, &mut req, env);
        verdict.diagnostics.extend(warnings);
    }
    let mut ctx = Ctx::new(env);
    let client_info = req.client_info(&mut ctx);
    let client_addr = req.addr(Side::Client, &mut ctx).to_vec();
    Checked {
        id: job.id,
        svc: job.svc,
        client: job.client,
        server: job.server,
        conn: job.conn,
        verdict,
        early,
        client_info,
        client_addr,
        rec,
        source_routed,
    }
}

/// What workers send to the event loop.
#[derive(Debug)]
pub enum Msg {
    Checked(Box<Checked>),
    /// An internal stream session ended.
    SessionDone(u64),
    /// A delivery message of the alert dispatcher's thread, to log.
    AlertReport {
        priority: i32,
        message: Vec<u8>,
    },
}

/// Wake the event loop (a byte on a non-blocking socket pair; a full
/// buffer already means "awake").
pub fn wake(w: &UnixStream) {
    let _ = (&*w).write(&[1]);
}

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

/// The worker pool.
pub struct Workers {
    queue: Arc<Queue>,
    capacity: usize,
}

impl Workers {
    pub fn start(
        n: usize,
        capacity: usize,
        checker: Arc<Checker>,
        resolver: Arc<TimedResolver>,
        alerts: AlertMode,
        out: Sender<Msg>,
        waker: Arc<UnixStream>,
    ) -> Workers {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        });
        for i in 0..n.max(1) {
            let (q, checker, resolver, alerts, out, waker) = (
                queue.clone(),
                checker.clone(),
                resolver.clone(),
                alerts.clone(),
                out.clone(),
                waker.clone(),
            );
            let _ = std::thread::Builder::new()
                .name(format!("check-{i}"))
                .stack_size(1 << 20)
                .spawn(move || {
                    loop {
                        let job = {
                            let Ok(mut jobs) = q.jobs.lock() else { return };
                            loop {
                                if let Some(j) = jobs.pop_front() {
                                    break j;
                                }
                                jobs = match q.ready.wait(jobs) {
                                    Ok(j) => j,
                                    Err(_) => return,
                                };
                            }
                        };
                        let done = decide(&checker, &resolver, &alerts, job);
                        if out.send(Msg::Checked(Box::new(done))).is_err() {
                            return;
                        }
                        wake(&waker);
                    }
                });
        }
        Workers { queue, capacity }
    }

    /// Queue a job; a full queue gives it back.
    pub fn submit(&self, job: Job) -> Result<(), Box<Job>> {
        let Ok(mut jobs) = self.queue.jobs.lock() else {
            return Err(Box::new(job));
        };
        if jobs.len() >= self.capacity {
            return Err(Box::new(job));
        }
        jobs.push_back(job);
        drop(jobs);
        self.queue.ready.notify_one();
        Ok(())
    }

    /// Jobs waiting for a worker.
    pub fn queued(&self) -> usize {
        self.queue.jobs.lock().map(|j| j.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn lookups_give_up_after_the_timeout() {
        let pool = LookupPool::new(2, 4);
        let t = Instant::now();
        let r = pool.run(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(500));
            1
        });
        assert_eq!(r, None);
        assert!(t.elapsed() < Duration::from_millis(400));
        assert_eq!(pool.run(Duration::from_secs(5), || 7), Some(7));
        assert_eq!(pool.timeouts.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn setenv_replaces() {
        let mut env = vec![b"A=1".to_vec(), b"AB=2".to_vec()];
        set_env(&mut env, b"A", b"3");
        assert_eq!(env, vec![b"AB=2".to_vec(), b"A=3".to_vec()]);
    }
}
