//! Native alerts: the `alert NAME [OUTPUT]` option sends a passive check
//! result (host, service, code, output) to the sinks of the alerts config,
//! NSCA daemons and the Icinga 2 API, with a rate limit and a summary per
//! source. See docs/alerts.md.
//!
//! The decision never waits for an alert and an alert never changes it:
//! the executor loads the config, fills in the templates (that much runs
//! within the check, like a `spawn` command's expansion) and hands the
//! result to a detached background process ([`fire_detached`]) or to the
//! thread of a [`Dispatcher`]. Problems are logged: those found before the
//! hand-over as warnings of the check (with the rule's `FILE, line N:`),
//! those of the delivery by the background process to syslog, e.g.
//! `alert tcp-wrappers: sink monitor: Connection refused by host 127.0.0.1 port 5667`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tcpwrap_core::{Ctx, Level, Request, Side};

pub mod config;
#[cfg(feature = "icinga")]
pub mod icinga;
pub mod limit;
pub mod nsca;
pub mod template;

use config::{Config, Sink, SinkKind};
use limit::{
    Admission, Clock, FileLimiter, Finish, Key, Limiter, MemoryLimiter, Summary, SystemClock,
};

/// The alerts config of the system.
pub const ALERTS_CONF: &str = "/etc/tcpwrap/alerts.conf";
/// Where separate processes share their rate-limit state.
pub const STATE_DIR: &str = "/run/tcpwrap/alerts";

/// One passive check result, before a sink formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub host: Vec<u8>,
    /// `None`: a host result.
    pub service: Option<Vec<u8>>,
    pub code: i16,
    pub output: Vec<u8>,
}

/// Where alerts come from and keep their state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The alerts config ([`ALERTS_CONF`]).
    pub config: PathBuf,
    /// The rate-limit state directory ([`STATE_DIR`]).
    pub state_dir: PathBuf,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            config: PathBuf::from(ALERTS_CONF),
            state_dir: PathBuf::from(STATE_DIR),
        }
    }
}

/// An alert ready to deliver: everything the background side needs, with
/// the templates filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The alert's name.
    pub alert: String,
    /// Its sinks, in the order given.
    pub sinks: Vec<Sink>,
    pub check: Check,
    /// The client address: the rate limit is per source.
    pub source: Vec<u8>,
    /// The daemon name (`%d`): counted per window for the summary.
    pub daemon: Vec<u8>,
    /// Rate-limit window in seconds (0: none).
    pub window: u64,
}

impl Job {
    /// The longest a delivery may take: the window, then two submissions
    /// to every sink, plus a margin.
    pub fn bound(&self) -> Duration {
        let sinks: Duration = self.sinks.iter().map(|s| s.timeout * 2).sum();
        Duration::from_secs(self.window) + sinks + Duration::from_secs(10)
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether `name` is an alert of the config at `path`: `Ok` or the
/// message a check would log (what `tcpdchk` warns about).
pub fn check_defined(
    loaded: &Result<Config, config::ConfigError>,
    name: &[u8],
) -> Result<(), String> {
    match loaded {
        Err(e) => Err(format!("alert {}: {e}", show(name))),
        Ok(c) if c.alert(name).is_some() => Ok(()),
        Ok(c) => Err(format!(
            "alert {}: not defined in {}",
            show(name),
            c.path.display()
        )),
    }
}

/// Load the config, find alert `name` and fill in its templates for `req`.
/// Problems are warnings of the check (`ctx`), and give `None`.
pub fn prepare(
    config_path: &Path,
    name: &[u8],
    output: Option<&[u8]>,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Option<Job> {
    let loaded = config::load(config_path);
    if let Err(m) = check_defined(&loaded, name) {
        ctx.warn(m.into_bytes());
        return None;
    }
    let cfg = loaded.ok()?;
    let def = cfg.alert(name)?;
    let check = match template::render(def, output, req, ctx) {
        Ok(c) => c,
        Err(m) => {
            ctx.warn(format!("alert {}: {m}", def.name).into_bytes());
            return None;
        }
    };
    let sinks = def
        .sinks
        .iter()
        .filter_map(|n| cfg.sink(n).cloned())
        .collect();
    let source = req.addr(Side::Client, ctx).to_vec();
    Some(Job {
        alert: def.name.clone(),
        sinks,
        check,
        source,
        daemon: req.daemon().to_vec(),
        window: def.window,
    })
}

/// Where delivery messages go.
pub trait Report: Send {
    fn report(&mut self, level: Level, message: &str);
}

/// To syslog, with the process's `openlog` settings.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyslogReport;

impl Report for SyslogReport {
    fn report(&mut self, level: Level, message: &str) {
        crate::sys::syslog::log(level as i32, message.as_bytes());
    }
}

/// Submit `checks` to one sink.
pub fn submit(sink: &Sink, checks: &[Check]) -> Result<(), String> {
    match &sink.kind {
        SinkKind::Nsca(n) => nsca::submit(n, sink.timeout, checks),
        #[cfg(feature = "icinga")]
        SinkKind::Icinga2(i) => checks
            .iter()
            .try_for_each(|c| icinga::submit(i, sink.timeout, c)),
        #[cfg(not(feature = "icinga"))]
        SinkKind::Icinga2(_) => Err("this build has no icinga2 support".to_string()),
    }
}

/// Submit `checks` to every sink of `job`, reporting each outcome.
pub fn send_to_sinks(job: &Job, checks: &[Check], report: &mut dyn Report) {
    for sink in &job.sinks {
        match submit(sink, checks) {
            Ok(()) => report.report(
                Level::Debug,
                &format!(
                    "alert {}: sink {}: {} result(s) sent",
                    job.alert,
                    sink.name,
                    checks.len()
                ),
            ),
            Err(e) => report.report(
                Level::Err,
                &format!("alert {}: sink {}: {e}", job.alert, sink.name),
            ),
        }
    }
}

/// The summary result of `job`'s window.
pub fn summary_check(job: &Job, s: &Summary) -> Check {
    Check {
        output: s.text(),
        ..job.check.clone()
    }
}

fn key(job: &Job) -> Key {
    Key {
        alert: job.alert.clone(),
        source: job.source.clone(),
    }
}

/// Delivers results of a job (normally [`send_to_sinks`]).
pub type Deliver<'a> = dyn FnMut(&Job, &[Check], &mut dyn Report) + Send + 'a;

/// Deliver `job` within this thread: account for it, send it (unless it
/// is suppressed), and if it opened (or adopted) a window, wait for the
/// window's end and send the summary. `send` delivers results (normally
/// [`send_to_sinks`]).
pub fn run(
    job: &Job,
    limiter: &dyn Limiter,
    clock: &dyn Clock,
    report: &mut dyn Report,
    send: &mut Deliver<'_>,
) {
    let k = key(job);
    let mut until = match limiter.admit(&k, &job.daemon, job.window) {
        Err(e) => {
            report.report(
                Level::Err,
                &format!("alert {}: rate limit not applied: {e}", job.alert),
            );
            send(job, std::slice::from_ref(&job.check), report);
            return;
        }
        Ok(Admission::Suppressed) => return,
        Ok(Admission::Unlimited) => {
            send(job, std::slice::from_ref(&job.check), report);
            return;
        }
        Ok(Admission::First { until, stale }) => {
            let mut checks = Vec::new();
            if let Some(s) = stale {
                checks.push(summary_check(job, &s));
            }
            checks.push(job.check.clone());
            send(job, &checks, report);
            until
        }
        Ok(Admission::Adopted { until }) => until,
    };
    loop {
        clock.sleep_until(until);
        match limiter.finish(&k) {
            Ok(Finish::NotYet { until: u }) => until = u,
            Ok(Finish::Done(Some(s))) => {
                send(job, &[summary_check(job, &s)], report);
                return;
            }
            Ok(Finish::Done(None)) => return,
            Err(e) => {
                report.report(
                    Level::Err,
                    &format!("alert {}: summary not sent: {e}", job.alert),
                );
                return;
            }
        }
    }
}

/// Fire alert `name` from a check in a short-lived process (tcpd, the
/// library): prepare it here, deliver it from a detached background
/// process sharing its rate-limit state through `setup.state_dir`. Returns
/// at once.
pub fn fire_detached(
    setup: &Setup,
    name: &[u8],
    output: Option<&[u8]>,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) {
    let Some(job) = prepare(&setup.config, name, output, req, ctx) else {
        return;
    };
    let bound = job.bound().as_secs().min(u64::from(u32::MAX)) as u32;
    let state_dir = setup.state_dir.clone();
    let spawned = crate::sys::detach::spawn_detached(bound, move || {
        let ident: &[u8] = if job.daemon.is_empty() {
            b"tcpwrap-alert"
        } else {
            &job.daemon
        };
        crate::sys::syslog::open(ident, libc::LOG_PID, libc::LOG_DAEMON);
        let limiter = FileLimiter::new(state_dir);
        run(
            &job,
            &limiter,
            &SystemClock,
            &mut SyslogReport,
            &mut send_to_sinks,
        );
    });
    if let Err(e) = spawned {
        ctx.warn(
            format!(
                "alert {}: cannot fork: {}",
                show(name),
                crate::sys::strerror(&e)
            )
            .into_bytes(),
        );
    }
}

enum Msg {
    Job(Box<Job>),
    Stop,
}

/// Jobs waiting for the dispatcher's thread before new ones are dropped.
pub const DISPATCH_QUEUE: usize = 1024;

/// Delivers alerts from one thread of a long-running process (a
/// super-server): [`Dispatcher::fire`] prepares an alert in the caller's
/// thread and queues it; the dispatcher's thread rate-limits (in memory by
/// default), sends, and sends each window's summary when it ends. The
/// caller never waits: when the queue is full the alert is dropped with a
/// warning. Summaries of windows still open when the dispatcher is dropped
/// are not sent.
pub struct Dispatcher {
    config: PathBuf,
    tx: Mutex<Option<SyncSender<Msg>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The dispatcher's thread state: summaries due, by time.
struct Worker {
    limiter: Arc<dyn Limiter>,
    clock: Arc<dyn Clock>,
    report: Box<dyn Report>,
    deliver: Box<Deliver<'static>>,
    due: BinaryHeap<Reverse<(u64, u64)>>,
    waiting: HashMap<u64, Job>,
    seq: u64,
}

impl Worker {
    fn send(&mut self, job: &Job, checks: &[Check]) {
        (self.deliver)(job, checks, &mut *self.report);
    }

    fn handle(&mut self, job: Job) {
        let until = match self.limiter.admit(&key(&job), &job.daemon, job.window) {
            Err(e) => {
                self.report.report(
                    Level::Err,
                    &format!("alert {}: rate limit not applied: {e}", job.alert),
                );
                self.send(&job, std::slice::from_ref(&job.check));
                None
            }
            Ok(Admission::Suppressed) => None,
            Ok(Admission::Unlimited) => {
                self.send(&job, std::slice::from_ref(&job.check));
                None
            }
            Ok(Admission::First { until, stale }) => {
                let mut checks = Vec::new();
                if let Some(s) = stale {
                    checks.push(summary_check(&job, &s));
                }
                checks.push(job.check.clone());
                self.send(&job, &checks);
                Some(until)
            }
            Ok(Admission::Adopted { until }) => Some(until),
        };
        if let Some(u) = until {
            self.seq += 1;
            self.due.push(Reverse((u, self.seq)));
            self.waiting.insert(self.seq, job);
        }
    }

    /// Close the windows whose time has come and send their summaries.
    fn run_due(&mut self) {
        let now = self.clock.now_ms();
        while let Some(&Reverse((t, id))) = self.due.peek() {
            if t > now {
                break;
            }
            self.due.pop();
            let Some(job) = self.waiting.remove(&id) else {
                continue;
            };
            match self.limiter.finish(&key(&job)) {
                // The window lasts longer (the clock moved): later.
                Ok(Finish::NotYet { until }) => {
                    self.due.push(Reverse((until.max(now + 1), id)));
                    self.waiting.insert(id, job);
                }
                Ok(Finish::Done(Some(s))) => self.send(&job, &[summary_check(&job, &s)]),
                Ok(Finish::Done(None)) => {}
                Err(e) => self.report.report(
                    Level::Err,
                    &format!("alert {}: summary not sent: {e}", job.alert),
                ),
            }
        }
    }
}

impl Dispatcher {
    /// A dispatcher for the config at `config`, with in-memory rate limits,
    /// the system clock and syslog.
    pub fn new(config: impl Into<PathBuf>) -> Dispatcher {
        Dispatcher::with(
            config,
            Arc::new(MemoryLimiter::new()),
            Arc::new(SystemClock),
            Box::new(SyslogReport),
        )
    }

    /// A dispatcher with its own rate-limit state (e.g. a [`FileLimiter`]
    /// shared with tcpd processes), clock and report.
    pub fn with(
        config: impl Into<PathBuf>,
        limiter: Arc<dyn Limiter>,
        clock: Arc<dyn Clock>,
        report: Box<dyn Report>,
    ) -> Dispatcher {
        Dispatcher::with_deliver(config, limiter, clock, report, Box::new(send_to_sinks))
    }

    /// As [`Dispatcher::with`], delivering through `deliver` instead of
    /// the sinks (tests).
    pub fn with_deliver(
        config: impl Into<PathBuf>,
        limiter: Arc<dyn Limiter>,
        clock: Arc<dyn Clock>,
        report: Box<dyn Report>,
        deliver: Box<Deliver<'static>>,
    ) -> Dispatcher {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(DISPATCH_QUEUE);
        let mut w = Worker {
            limiter,
            clock,
            report,
            deliver,
            due: BinaryHeap::new(),
            waiting: HashMap::new(),
            seq: 0,
        };
        let worker = std::thread::Builder::new()
            .name("tcpwrap-alerts".into())
            .spawn(move || {
                loop {
                    // Due summaries first, also while jobs keep arriving.
                    w.run_due();
                    let wait = w.due.peek().map(|Reverse((t, _))| {
                        Duration::from_millis(t.saturating_sub(w.clock.now_ms()))
                    });
                    let msg = match wait {
                        Some(d) => rx.recv_timeout(d),
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match msg {
                        Ok(Msg::Job(job)) => w.handle(*job),
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .ok();
        Dispatcher {
            config: config.into(),
            // Without a thread nothing may be queued.
            tx: Mutex::new(worker.as_ref().map(|_| tx)),
            worker: Mutex::new(worker),
        }
    }

    /// Queue a prepared job. `false` when the queue is full or the
    /// dispatcher has stopped.
    pub fn submit(&self, job: Job) -> bool {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        match tx.as_ref() {
            Some(tx) => match tx.try_send(Msg::Job(Box::new(job))) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        }
    }

    /// Fire alert `name` from a check: prepare it in this thread (warnings
    /// go to `ctx`) and queue it.
    pub fn fire(&self, name: &[u8], output: Option<&[u8]>, req: &mut Request, ctx: &mut Ctx<'_>) {
        if let Some(job) = prepare(&self.config, name, output, req, ctx) {
            if !self.submit(job) {
                ctx.warn(
                    format!("alert {}: dropped, the alert queue is full", show(name)).into_bytes(),
                );
            }
        }
    }

    /// Stop the thread after the jobs already queued (windows still open
    /// are not summarised).
    pub fn shutdown(&self) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(Msg::Stop);
        }
        if let Some(h) = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How an executor carries out `alert` options.
#[derive(Debug, Clone)]
pub enum AlertMode {
    /// A detached background process per alert, rate limits shared
    /// through files (tcpd, the library).
    Detached(Setup),
    /// The thread of a [`Dispatcher`] (long-running servers).
    Dispatch(Arc<Dispatcher>),
    /// Not carried out (nothing is logged).
    Off,
}

impl Default for AlertMode {
    fn default() -> Self {
        AlertMode::Detached(Setup::default())
    }
}

impl AlertMode {
    /// Carry out `alert NAME [OUTPUT]` for `req`.
    pub fn fire(&self, name: &[u8], output: Option<&[u8]>, req: &mut Request, ctx: &mut Ctx<'_>) {
        match self {
            AlertMode::Detached(setup) => fire_detached(setup, name, output, req, ctx),
            AlertMode::Dispatch(d) => d.fire(name, output, req, ctx),
            AlertMode::Off => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Instant;

    #[derive(Clone, Default)]
    struct FakeClock(Arc<AtomicU64>);
    impl Clock for FakeClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
        fn sleep_until(&self, ms: u64) {
            self.0.fetch_max(ms, Ordering::SeqCst);
        }
    }

    #[derive(Default)]
    struct Log(Vec<(Level, String)>);
    impl Report for Log {
        fn report(&mut self, level: Level, message: &str) {
            self.0.push((level, message.to_string()));
        }
    }

    fn job(daemon: &str, window: u64) -> Job {
        Job {
            alert: "tw".into(),
            sinks: Vec::new(),
            check: Check {
                host: b"firestorm".to_vec(),
                service: Some(b"TCP Wrappers".to_vec()),
                code: 2,
                output: format!("Denied {daemon}-206.182.68.5").into_bytes(),
            },
            source: b"206.182.68.5".to_vec(),
            daemon: daemon.as_bytes().to_vec(),
            window,
        }
    }

    /// Runs jobs with a recording `send`.
    fn deliver(jobs: &[Job], limiter: &dyn Limiter, clock: &FakeClock) -> Vec<String> {
        let mut sent = Vec::new();
        for j in jobs {
            let mut log = Log::default();
            run(j, limiter, clock, &mut log, &mut |_, checks, _| {
                for c in checks {
                    sent.push(show(&c.output));
                }
            });
        }
        sent
    }

    #[test]
    fn burst_gives_one_alert_and_one_summary() {
        let clock = FakeClock::default();
        clock.0.store(1_000, Ordering::SeqCst);
        let l = MemoryLimiter::with_clock(clock.clone());
        // The owner's run() sleeps to the window end (the fake clock jumps),
        // so feed the burst first through admit, then let the owner finish.
        let k = key(&job("sshd", 60));
        assert!(matches!(
            l.admit(&k, b"sshd", 60).unwrap(),
            Admission::First { .. }
        ));
        for d in ["ftpd", "telnetd", "sshd"] {
            assert_eq!(
                l.admit(&k, d.as_bytes(), 60).unwrap(),
                Admission::Suppressed
            );
        }
        clock.0.store(61_000, Ordering::SeqCst);
        // A later event opens a new window and carries the old summary.
        let sent = deliver(&[job("sshd", 60)], &l, &clock);
        assert_eq!(
            sent,
            [
                "4 refused connections from 206.182.68.5 to 3 services in 60 s",
                "Denied sshd-206.182.68.5"
            ]
        );
    }

    #[test]
    fn run_waits_for_the_window_and_summarises() {
        let clock = FakeClock::default();
        let l = MemoryLimiter::with_clock(clock.clone());
        // Make the window already hold suppressed events when the owner
        // finishes: a second job is admitted from inside the first one's
        // send (standing in for a concurrent process).
        let j = job("sshd", 60);
        let mut sent = Vec::new();
        let mut log = Log::default();
        run(&j, &l, &clock, &mut log, &mut |job, checks, _| {
            for c in checks {
                sent.push(show(&c.output));
            }
            if sent.len() == 1 {
                assert_eq!(
                    l.admit(&key(job), b"ftpd", 60).unwrap(),
                    Admission::Suppressed
                );
            }
        });
        assert_eq!(
            sent,
            [
                "Denied sshd-206.182.68.5",
                "2 refused connections from 206.182.68.5 to 2 services in 60 s"
            ]
        );
        assert_eq!(clock.now_ms(), 60_000, "run slept until the window's end");
        assert!(log.0.is_empty());
        // Without a rate limit every event is sent, nothing waits.
        let clock = FakeClock::default();
        let l = MemoryLimiter::with_clock(clock.clone());
        assert_eq!(deliver(&[job("a", 0), job("b", 0)], &l, &clock).len(), 2);
        assert_eq!(clock.now_ms(), 0);
    }

    struct Broken;
    impl Limiter for Broken {
        fn admit(&self, _: &Key, _: &[u8], _: u64) -> std::io::Result<Admission> {
            Err(std::io::Error::other(
                "state directory /x must be owned by uid 0",
            ))
        }
        fn finish(&self, _: &Key) -> std::io::Result<Finish> {
            unreachable!()
        }
    }

    #[test]
    fn broken_state_still_sends() {
        let clock = FakeClock::default();
        let mut log = Log::default();
        let mut n = 0;
        run(
            &job("sshd", 60),
            &Broken,
            &clock,
            &mut log,
            &mut |_, c, _| n += c.len(),
        );
        assert_eq!(n, 1);
        assert_eq!(
            log.0,
            [(
                Level::Err,
                "alert tw: rate limit not applied: state directory /x must be owned by uid 0"
                    .to_string()
            )]
        );
    }

    #[test]
    fn sink_failures_are_reported() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut j = job("sshd", 0);
        j.sinks.push(Sink {
            name: "monitor".into(),
            line: 1,
            timeout: Duration::from_secs(2),
            kind: SinkKind::Nsca(config::NscaSink {
                server: "127.0.0.1".into(),
                port,
                password: Vec::new(),
                method: tcpwrap_nsca::Method::None,
                legacy: false,
            }),
        });
        let mut log = Log::default();
        send_to_sinks(&j, &[j.check.clone()], &mut log);
        assert_eq!(
            log.0,
            [(
                Level::Err,
                format!("alert tw: sink monitor: Connection refused by host 127.0.0.1 port {port}")
            )]
        );
    }

    #[test]
    fn dispatcher_summarises_while_jobs_keep_coming() {
        let sent = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
        let rec = sent.clone();
        let d = Dispatcher::with_deliver(
            "/nonexistent",
            Arc::new(MemoryLimiter::new()),
            Arc::new(SystemClock),
            Box::new(Log::default()),
            Box::new(move |_, checks, _| {
                let mut v = rec.lock().unwrap();
                for c in checks {
                    v.push((Instant::now(), show(&c.output)));
                }
            }),
        );
        let start = Instant::now();
        let mut n = 0;
        // Events every 20 ms for 1.6 s, window 1 s: the summary of the first
        // window must not wait for a pause in the stream.
        while start.elapsed() < Duration::from_millis(1600) {
            assert!(d.submit(job(if n % 2 == 0 { "sshd" } else { "ftpd" }, 1)));
            n += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        let v = sent.lock().unwrap().clone();
        assert!(v.len() >= 3, "{v:?}");
        assert_eq!(v[0].1, "Denied sshd-206.182.68.5");
        let (t, text) = &v[1];
        assert!(
            text.ends_with("refused connections from 206.182.68.5 to 2 services in 1 s"),
            "{text}"
        );
        let at = t.duration_since(start);
        assert!(
            at >= Duration::from_millis(950) && at < Duration::from_millis(1400),
            "{at:?}"
        );
        // The next event opened the next window and was sent at once.
        assert!(v[2].1.starts_with("Denied "), "{v:?}");
        drop(d);
        // After the drop nothing more is accepted or sent.
        let len = sent.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(sent.lock().unwrap().len(), len);
    }

    #[test]
    fn bound_covers_window_and_sinks() {
        let mut j = job("sshd", 60);
        assert_eq!(j.bound(), Duration::from_secs(70));
        j.sinks.push(Sink {
            name: "m".into(),
            line: 1,
            timeout: Duration::from_secs(10),
            kind: SinkKind::Nsca(config::NscaSink {
                server: "x".into(),
                port: 1,
                password: Vec::new(),
                method: tcpwrap_nsca::Method::None,
                legacy: false,
            }),
        });
        assert_eq!(j.bound(), Duration::from_secs(90));
    }
}
