//! Rate limiting with a summary, per alert and source (the client
//! address).
//!
//! The first event of a window is sent at once and its sender owns the
//! window; later events from the same source within the window are counted
//! (with the set of daemon names) and not sent. At the window's end the
//! owner asks for the summary: if anything was suppressed it sends one
//! result, `17 refused connections from 206.182.68.5 to 9 services in 60 s`.
//!
//! If the owner died, the next event of the window adopts it (and sends
//! the summary at its end); an event after the end of a window whose
//! summary was never taken sends that summary first. So a dead owner costs
//! at most the rest of one window, never more.
//!
//! [`admit`] and [`finish`] are the pure logic, with the time passed in.
//! [`FileLimiter`] shares the state between processes through one small
//! `flock`ed file per alert and source; [`MemoryLimiter`] keeps it in a
//! map for a long-running process.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinct daemon names recorded per window (more are counted as events
/// but not as services).
pub const MAX_SERVICES: usize = 256;
/// Longest daemon name recorded (longer ones are cut).
pub const MAX_SERVICE_NAME: usize = 255;
/// Largest state file read; a larger one is treated as damaged.
pub const MAX_STATE_BYTES: u64 = 128 * 1024;

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> u64;
    /// Wait until `ms` (ms since the epoch).
    fn sleep_until(&self, ms: u64) {
        let now = self.now_ms();
        if ms > now {
            std::thread::sleep(std::time::Duration::from_millis(ms - now));
        }
    }
}

/// The system's wall clock (shared by separate processes).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Who owns a window: a process (its pid and start time, so that a
/// recycled pid is not taken for the owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

/// One open window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Start and end, in ms since the epoch.
    pub start: u64,
    pub end: u64,
    /// The configured length in seconds (for the summary text).
    pub seconds: u64,
    /// Events so far, the first included.
    pub events: u64,
    /// Distinct daemon names, in order of arrival (at most [`MAX_SERVICES`]).
    pub services: Vec<Vec<u8>>,
    pub owner: Owner,
}

/// What to send at the end of a window in which events were suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Events in the window, the first included.
    pub events: u64,
    /// Distinct daemon names.
    pub services: usize,
    pub source: Vec<u8>,
    pub seconds: u64,
}

impl Summary {
    /// `17 refused connections from 206.182.68.5 to 9 services in 60 s`.
    pub fn text(&self) -> Vec<u8> {
        let mut t = format!("{} refused connections from ", self.events).into_bytes();
        t.extend_from_slice(&self.source);
        t.extend_from_slice(
            format!(" to {} services in {} s", self.services, self.seconds).as_bytes(),
        );
        t
    }
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// No rate limit (window 0): send it.
    Unlimited,
    /// The first event of a new window: send it, then at `until` (ms) call
    /// `finish`. `stale`: the summary of an earlier window that its owner
    /// never sent, to send first.
    First { until: u64, stale: Option<Summary> },
    /// Counted, not sent.
    Suppressed,
    /// Counted, not sent; the window's owner is gone and this caller owns
    /// it now: call `finish` at `until`.
    Adopted { until: u64 },
}

/// What `finish` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// The window lasts until `until` (the clock moved): try again then.
    NotYet { until: u64 },
    /// The window is closed; the summary, if events were suppressed (`None`
    /// also when another process took the window over).
    Done(Option<Summary>),
}

fn summary_of(w: &Window, source: &[u8]) -> Option<Summary> {
    (w.events > 1).then(|| Summary {
        events: w.events,
        services: w.services.len(),
        source: source.to_vec(),
        seconds: w.seconds,
    })
}

fn add_service(w: &mut Window, daemon: &[u8]) {
    let d = &daemon[..daemon.len().min(MAX_SERVICE_NAME)];
    if w.services.len() < MAX_SERVICES && !w.services.iter().any(|s| s == d) {
        w.services.push(d.to_vec());
    }
}

/// Account for one event of `source` to `daemon` at `now` (ms), with a
/// window of `seconds`, on behalf of `me`.
pub fn admit(
    state: &mut Option<Window>,
    now: u64,
    seconds: u64,
    daemon: &[u8],
    source: &[u8],
    me: Owner,
    owner_alive: &dyn Fn(&Owner) -> bool,
) -> Admission {
    if seconds == 0 {
        return Admission::Unlimited;
    }
    if let Some(w) = state.as_mut() {
        // A window that started "in the future" is left from a clock that
        // was set back: it is over.
        if now < w.end && now >= w.start {
            w.events += 1;
            add_service(w, daemon);
            if w.owner != me && !owner_alive(&w.owner) {
                w.owner = me;
                return Admission::Adopted { until: w.end };
            }
            return Admission::Suppressed;
        }
    }
    let stale = state.take().and_then(|w| summary_of(&w, source));
    let mut w = Window {
        start: now,
        end: now.saturating_add(seconds.saturating_mul(1000)),
        seconds,
        events: 1,
        services: Vec::new(),
        owner: me,
    };
    add_service(&mut w, daemon);
    let until = w.end;
    *state = Some(w);
    Admission::First { until, stale }
}

/// Close the window of `me` once it is over and give its summary.
pub fn finish(state: &mut Option<Window>, now: u64, me: Owner, source: &[u8]) -> Finish {
    match state {
        None => Finish::Done(None),
        Some(w) if w.owner != me => Finish::Done(None),
        Some(w) if now < w.end && now >= w.start => Finish::NotYet { until: w.end },
        Some(_) => {
            let w = state.take().expect("checked above");
            Finish::Done(summary_of(&w, source))
        }
    }
}

/// Which rate-limit state an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub alert: String,
    /// The client address.
    pub source: Vec<u8>,
}

/// Shared rate-limit state.
pub trait Limiter: Send + Sync {
    /// Account for an event (see [`admit`]).
    fn admit(&self, key: &Key, daemon: &[u8], seconds: u64) -> io::Result<Admission>;
    /// Close the caller's window (see [`finish`]).
    fn finish(&self, key: &Key) -> io::Result<Finish>;
}

/// State in memory, for one long-running process.
pub struct MemoryLimiter<C: Clock = SystemClock> {
    clock: C,
    windows: Mutex<HashMap<Key, Window>>,
}

/// Entries kept before expired ones are dropped.
const MEMORY_CAP: usize = 65536;

impl MemoryLimiter<SystemClock> {
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }
}

impl Default for MemoryLimiter<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> MemoryLimiter<C> {
    pub fn with_clock(clock: C) -> Self {
        MemoryLimiter {
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn me() -> Owner {
        Owner {
            pid: std::process::id(),
            start: 0,
        }
    }

    /// Open windows (for tests and statistics).
    pub fn open_windows(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl<C: Clock> Limiter for MemoryLimiter<C> {
    fn admit(&self, key: &Key, daemon: &[u8], seconds: u64) -> io::Result<Admission> {
        let now = self.clock.now_ms();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MEMORY_CAP {
            map.retain(|_, w| w.end > now);
        }
        let mut state = map.remove(key);
        let a = admit(
            &mut state,
            now,
            seconds,
            daemon,
            &key.source,
            Self::me(),
            &|_| true,
        );
        if let Some(w) = state {
            map.insert(key.clone(), w);
        }
        Ok(a)
    }

    fn finish(&self, key: &Key) -> io::Result<Finish> {
        let now = self.clock.now_ms();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = map.remove(key);
        let f = finish(&mut state, now, Self::me(), &key.source);
        if let Some(w) = state {
            map.insert(key.clone(), w);
        }
        Ok(f)
    }
}

/// State in a directory shared by separate processes (tcpd instances):
/// one file per alert and source, `flock`ed while it is read and written,
/// removed when its window closes.
#[derive(Debug)]
pub struct FileLimiter<C: Clock = SystemClock> {
    dir: PathBuf,
    clock: C,
}

impl FileLimiter<SystemClock> {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_clock(dir, SystemClock)
    }
}

impl<C: Clock> FileLimiter<C> {
    pub fn with_clock(dir: impl Into<PathBuf>, clock: C) -> Self {
        FileLimiter {
            dir: dir.into(),
            clock,
        }
    }

    /// The state file of `key`.
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(file_name(key))
    }

    /// Create the directory (mode 0700) if needed, and refuse one that
    /// others could write or that is not ours.
    fn ensure_dir(&self) -> io::Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let m = std::fs::symlink_metadata(&self.dir)?;
        let euid = crate::sys::euid();
        if !m.is_dir() {
            return Err(io::Error::other(format!(
                "state directory {} is not a directory",
                self.dir.display()
            )));
        }
        if m.uid() != euid || m.mode() & 0o077 != 0 {
            return Err(io::Error::other(format!(
                "state directory {} must be owned by uid {euid} with mode 0700 (it is uid {}, mode {:04o})",
                self.dir.display(),
                m.uid(),
                m.mode() & 0o7777
            )));
        }
        Ok(())
    }

    /// Run `f` on the locked state of `key`, then store what it left.
    fn with_state<T>(
        &self,
        key: &Key,
        f: impl FnOnce(&mut Option<Window>, u64) -> T,
    ) -> io::Result<T> {
        self.ensure_dir()?;
        let path = self.path(key);
        // Another process may remove the file between our open and our
        // lock; then the lock is on a dead file: open again.
        for _ in 0..16 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)?;
            crate::sys::flock_exclusive(&file)?;
            let held = file.metadata()?;
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.dev() == held.dev() && m.ino() == held.ino() => {}
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            if !held.is_file() || held.nlink() != 1 {
                return Err(io::Error::other(format!(
                    "state file {} is not a plain file",
                    path.display()
                )));
            }
            let mut data = Vec::new();
            (&mut file)
                .take(MAX_STATE_BYTES + 1)
                .read_to_end(&mut data)?;
            let mut state = decode(&data);
            let now = self.clock.now_ms();
            let out = f(&mut state, now);
            match &state {
                None => std::fs::remove_file(&path)?,
                Some(w) => {
                    file.set_len(0)?;
                    file.rewind()?;
                    file.write_all(&encode(w))?;
                }
            }
            // Closing the file releases the lock.
            return Ok(out);
        }
        Err(io::Error::other(format!(
            "state file {} keeps being replaced",
            path.display()
        )))
    }
}

impl<C: Clock> Limiter for FileLimiter<C> {
    fn admit(&self, key: &Key, daemon: &[u8], seconds: u64) -> io::Result<Admission> {
        if seconds == 0 {
            return Ok(Admission::Unlimited);
        }
        let me = current_owner();
        self.with_state(key, |state, now| {
            admit(state, now, seconds, daemon, &key.source, me, &owner_alive)
        })
    }

    fn finish(&self, key: &Key) -> io::Result<Finish> {
        let me = current_owner();
        self.with_state(key, |state, now| finish(state, now, me, &key.source))
    }
}

/// This process as a window owner.
pub fn current_owner() -> Owner {
    let pid = std::process::id();
    Owner {
        pid,
        start: process_start(pid).unwrap_or(0),
    }
}

/// Whether the process `o` still runs (the same process: pid and start
/// time). Without `/proc` nobody can tell: assume it does (its window then
/// ends on time anyway).
pub fn owner_alive(o: &Owner) -> bool {
    match process_start(o.pid) {
        Some(s) => s == o.start,
        None => !Path::new("/proc/self/stat").exists(),
    }
}

/// Start time of a process (field 22 of `/proc/PID/stat`, clock ticks
/// since boot).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: count
    // the fields after its last ')'. Field 3 is the first one there.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let field = stat[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .nth(22 - 3)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// The state file name of `key`: `a.ALERT@SOURCE`, every byte outside
/// `A-Z a-z 0-9 . _ -` written `%XX`; an over-long source is cut and
/// followed by a hash of the whole.
pub fn file_name(key: &Key) -> String {
    fn esc(out: &mut String, b: &[u8]) {
        for &c in b {
            if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-') {
                out.push(c as char);
            } else {
                out.push_str(&format!("%{c:02X}"));
            }
        }
    }
    let mut name = String::from("a.");
    esc(&mut name, key.alert.as_bytes());
    name.push('@');
    let mut src = String::new();
    esc(&mut src, &key.source);
    if src.len() > 150 {
        let mut h: u64 = 0xcbf29ce484222325;
        for &b in &key.source {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        let mut cut = 150;
        while !src.is_char_boundary(cut) {
            cut -= 1;
        }
        src.truncate(cut);
        src.push_str(&format!("~{h:016x}"));
    }
    name.push_str(&src);
    name
}

const MAGIC: &str = "tcpwrap-alert-window 1";

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// The state file's text.
pub fn encode(w: &Window) -> Vec<u8> {
    let mut s = format!(
        "{MAGIC}\nstart {}\nend {}\nseconds {}\nevents {}\nowner {} {}\n",
        w.start, w.end, w.seconds, w.events, w.owner.pid, w.owner.start
    );
    for svc in &w.services {
        s.push_str("service ");
        s.push_str(&hex(svc));
        s.push('\n');
    }
    s.into_bytes()
}

/// Parse a state file. Empty or damaged: no window (the next event starts
/// a new one).
pub fn decode(data: &[u8]) -> Option<Window> {
    if data.len() as u64 > MAX_STATE_BYTES {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut field = |name: &str| -> Option<Vec<u64>> {
        let l = lines.next()?;
        let mut words = l.split(' ');
        if words.next()? != name {
            return None;
        }
        words.map(|w| w.parse().ok()).collect()
    };
    let one = |v: Option<Vec<u64>>| v.filter(|v| v.len() == 1).map(|v| v[0]);
    let start = one(field("start"))?;
    let end = one(field("end"))?;
    let seconds = one(field("seconds"))?;
    let events = one(field("events"))?;
    let owner = field("owner").filter(|v| v.len() == 2)?;
    let mut services = Vec::new();
    for l in lines {
        let h = l.strip_prefix("service ")?;
        if services.len() >= MAX_SERVICES {
            return None;
        }
        services.push(unhex(h.as_bytes())?);
    }
    if end < start || events == 0 {
        return None;
    }
    Some(Window {
        start,
        end,
        seconds,
        events,
        services,
        owner: Owner {
            pid: u32::try_from(owner[0]).ok()?,
            start: owner[1],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Clone, Default)]
    struct FakeClock(Arc<AtomicU64>);
    impl FakeClock {
        fn set(&self, ms: u64) {
            self.0.store(ms, Ordering::SeqCst);
        }
    }
    impl Clock for FakeClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    const A: Owner = Owner { pid: 10, start: 1 };
    const B: Owner = Owner { pid: 20, start: 2 };
    const SRC: &[u8] = b"206.182.68.5";

    fn alive(_: &Owner) -> bool {
        true
    }
    fn dead(_: &Owner) -> bool {
        false
    }

    #[test]
    fn summary_wording() {
        let s = Summary {
            events: 17,
            services: 9,
            source: SRC.to_vec(),
            seconds: 60,
        };
        assert_eq!(
            s.text(),
            b"17 refused connections from 206.182.68.5 to 9 services in 60 s"
        );
    }

    #[test]
    fn window_with_suppressed_events() {
        let mut st = None;
        let t0 = 1_000_000;
        assert_eq!(
            admit(&mut st, t0, 60, b"sshd", SRC, A, &alive),
            Admission::First {
                until: t0 + 60_000,
                stale: None
            }
        );
        for (i, d) in ["ftpd", "sshd", "telnetd", "ftpd"].iter().enumerate() {
            assert_eq!(
                admit(
                    &mut st,
                    t0 + 1000 * i as u64,
                    60,
                    d.as_bytes(),
                    SRC,
                    B,
                    &alive
                ),
                Admission::Suppressed
            );
        }
        let w = st.as_ref().unwrap();
        assert_eq!(w.events, 5);
        assert_eq!(
            w.services,
            [b"sshd".to_vec(), b"ftpd".to_vec(), b"telnetd".to_vec()]
        );
        // Too early, or not the owner.
        assert_eq!(
            finish(&mut st, t0 + 59_999, A, SRC),
            Finish::NotYet { until: t0 + 60_000 }
        );
        assert_eq!(finish(&mut st, t0 + 60_000, B, SRC), Finish::Done(None));
        assert!(st.is_some());
        let s = match finish(&mut st, t0 + 60_000, A, SRC) {
            Finish::Done(Some(s)) => s,
            f => panic!("{f:?}"),
        };
        assert_eq!(
            s.text(),
            b"5 refused connections from 206.182.68.5 to 3 services in 60 s"
        );
        assert!(st.is_none());
        assert_eq!(finish(&mut st, t0 + 60_000, A, SRC), Finish::Done(None));
    }

    #[test]
    fn lone_event_needs_no_summary() {
        let mut st = None;
        assert!(matches!(
            admit(&mut st, 5, 10, b"sshd", SRC, A, &alive),
            Admission::First { .. }
        ));
        assert_eq!(finish(&mut st, 10_005, A, SRC), Finish::Done(None));
        assert!(st.is_none());
    }

    #[test]
    fn no_window() {
        let mut st = None;
        for _ in 0..3 {
            assert_eq!(
                admit(&mut st, 5, 0, b"sshd", SRC, A, &alive),
                Admission::Unlimited
            );
        }
        assert!(st.is_none());
    }

    #[test]
    fn dead_owner_is_adopted() {
        let mut st = None;
        admit(&mut st, 0, 60, b"sshd", SRC, A, &alive);
        assert_eq!(
            admit(&mut st, 1000, 60, b"ftpd", SRC, B, &dead),
            Admission::Adopted { until: 60_000 }
        );
        // B owns it now; A (if it came back) does not.
        assert_eq!(
            admit(&mut st, 2000, 60, b"ftpd", SRC, A, &alive),
            Admission::Suppressed
        );
        assert_eq!(finish(&mut st, 60_000, A, SRC), Finish::Done(None));
        match finish(&mut st, 60_000, B, SRC) {
            Finish::Done(Some(s)) => {
                assert_eq!(s.events, 3);
                assert_eq!(s.services, 2);
            }
            f => panic!("{f:?}"),
        }
        // An owner that checks itself is never "dead".
        let mut st = None;
        admit(&mut st, 0, 60, b"sshd", SRC, A, &alive);
        assert_eq!(
            admit(&mut st, 1, 60, b"sshd", SRC, A, &dead),
            Admission::Suppressed
        );
    }

    #[test]
    fn stale_window_is_summarised_by_the_next_event() {
        let mut st = None;
        admit(&mut st, 0, 60, b"sshd", SRC, A, &alive);
        admit(&mut st, 1, 60, b"sshd", SRC, B, &alive);
        // The owner never finished; a new event after the end.
        match admit(&mut st, 120_000, 60, b"ftpd", SRC, B, &alive) {
            Admission::First {
                until,
                stale: Some(s),
            } => {
                assert_eq!(until, 180_000);
                assert_eq!(
                    s.text(),
                    b"2 refused connections from 206.182.68.5 to 1 services in 60 s"
                );
            }
            a => panic!("{a:?}"),
        }
        // The old owner's finish finds a window that is not its own.
        assert_eq!(finish(&mut st, 120_001, A, SRC), Finish::Done(None));
        // A stale window without suppressed events has no summary.
        let mut st = None;
        admit(&mut st, 0, 60, b"sshd", SRC, A, &alive);
        assert_eq!(
            admit(&mut st, 60_000, 60, b"sshd", SRC, B, &alive),
            Admission::First {
                until: 120_000,
                stale: None
            }
        );
    }

    #[test]
    fn clock_set_back() {
        let mut st = None;
        admit(&mut st, 1_000_000, 60, b"sshd", SRC, A, &alive);
        admit(&mut st, 1_000_001, 60, b"sshd", SRC, B, &alive);
        // Now is before the window's start: the window is over.
        match admit(&mut st, 10, 60, b"sshd", SRC, B, &alive) {
            Admission::First {
                until: 60_010,
                stale: Some(s),
            } => assert_eq!(s.events, 2),
            a => panic!("{a:?}"),
        }
        assert_eq!(finish(&mut st, 5, B, SRC), Finish::Done(None));
        assert!(st.is_none());
    }

    #[test]
    fn bounded_services() {
        let mut st = None;
        admit(&mut st, 0, 60, &[b'x'; 1000], SRC, A, &alive);
        for i in 0..1000 {
            admit(&mut st, 1, 60, format!("d{i}").as_bytes(), SRC, A, &alive);
        }
        let w = st.as_ref().unwrap();
        assert_eq!(w.events, 1001);
        assert_eq!(w.services.len(), MAX_SERVICES);
        assert_eq!(w.services[0].len(), MAX_SERVICE_NAME);
        assert!(encode(w).len() < MAX_STATE_BYTES as usize);
        assert_eq!(decode(&encode(w)).as_ref(), Some(w));
    }

    #[test]
    fn state_file_format() {
        let w = Window {
            start: 5,
            end: 60_005,
            seconds: 60,
            events: 3,
            services: vec![b"in.ftpd".to_vec(), b"a b\n;".to_vec()],
            owner: Owner {
                pid: 77,
                start: 123456,
            },
        };
        let e = encode(&w);
        assert_eq!(
            String::from_utf8(e.clone()).unwrap(),
            "tcpwrap-alert-window 1\nstart 5\nend 60005\nseconds 60\nevents 3\nowner 77 123456\n\
             service 696e2e66747064\nservice 6120620a3b\n"
        );
        assert_eq!(decode(&e), Some(w));
        for bad in [
            &b""[..],
            b"garbage",
            b"tcpwrap-alert-window 1\nstart 5\n",
            b"tcpwrap-alert-window 1\nstart 9\nend 5\nseconds 1\nevents 1\nowner 1 1\n",
            b"tcpwrap-alert-window 1\nstart 1\nend 5\nseconds 1\nevents 0\nowner 1 1\n",
            b"tcpwrap-alert-window 1\nstart 1\nend 5\nseconds 1\nevents 1\nowner 1\n",
            b"tcpwrap-alert-window 1\nstart 1\nend 5\nseconds 1\nevents 1\nowner 1 1\nservice 6\n",
            b"tcpwrap-alert-window 1\nstart 1\nend 5\nseconds 1\nevents 1\nowner 1 1\nother\n",
            b"tcpwrap-alert-window 1\nstart x\nend 5\nseconds 1\nevents 1\nowner 1 1\n",
        ] {
            assert_eq!(decode(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn file_names() {
        let k = |a: &str, s: &[u8]| Key {
            alert: a.into(),
            source: s.to_vec(),
        };
        assert_eq!(
            file_name(&k("tcp-wrappers", b"206.182.68.5")),
            "a.tcp-wrappers@206.182.68.5"
        );
        assert_eq!(
            file_name(&k("x", b"fe80::1%eth0")),
            "a.x@fe80%3A%3A1%25eth0"
        );
        assert_eq!(
            file_name(&k("x", b"../../etc/passwd")),
            "a.x@..%2F..%2Fetc%2Fpasswd"
        );
        assert_eq!(file_name(&k("x", b"a@b")), "a.x@a%40b");
        let long = file_name(&k("x", &[b'/'; 400]));
        assert!(long.len() < 200, "{long}");
        assert_ne!(long, file_name(&k("x", &[b'/'; 401])));
    }

    #[test]
    fn process_identity() {
        let me = current_owner();
        assert_eq!(me.pid, std::process::id());
        assert!(me.start > 0);
        assert!(owner_alive(&me));
        assert!(!owner_alive(&Owner {
            pid: me.pid,
            start: me.start + 1
        }));
        assert!(!owner_alive(&Owner {
            pid: u32::MAX - 1,
            start: 1
        }));
    }

    #[test]
    fn memory_limiter() {
        let clock = FakeClock::default();
        clock.set(1_000);
        let l = MemoryLimiter::with_clock(clock.clone());
        let key = Key {
            alert: "tw".into(),
            source: SRC.to_vec(),
        };
        let other = Key {
            alert: "tw".into(),
            source: b"10.0.0.1".to_vec(),
        };
        assert!(matches!(
            l.admit(&key, b"sshd", 60).unwrap(),
            Admission::First { until: 61_000, .. }
        ));
        assert!(matches!(
            l.admit(&other, b"sshd", 60).unwrap(),
            Admission::First { .. }
        ));
        for d in ["sshd", "ftpd", "ftpd"] {
            assert_eq!(
                l.admit(&key, d.as_bytes(), 60).unwrap(),
                Admission::Suppressed
            );
        }
        assert_eq!(l.open_windows(), 2);
        assert_eq!(l.finish(&key).unwrap(), Finish::NotYet { until: 61_000 });
        clock.set(61_000);
        match l.finish(&key).unwrap() {
            Finish::Done(Some(s)) => assert_eq!(
                s.text(),
                b"4 refused connections from 206.182.68.5 to 2 services in 60 s"
            ),
            f => panic!("{f:?}"),
        }
        assert_eq!(l.finish(&other).unwrap(), Finish::Done(None));
        assert_eq!(l.open_windows(), 0);
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tcpwrap-limit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn file_limiter() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("file");
        let clock = FakeClock::default();
        clock.set(1_000);
        let l = FileLimiter::with_clock(dir.join("alerts"), clock.clone());
        let key = Key {
            alert: "tw".into(),
            source: SRC.to_vec(),
        };
        assert!(matches!(
            l.admit(&key, b"sshd", 60).unwrap(),
            Admission::First {
                until: 61_000,
                stale: None
            }
        ));
        let m = std::fs::metadata(dir.join("alerts")).unwrap();
        assert_eq!(m.mode() & 0o777, 0o700);
        let f = l.path(&key);
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        for d in ["ftpd", "sshd"] {
            assert_eq!(
                l.admit(&key, d.as_bytes(), 60).unwrap(),
                Admission::Suppressed
            );
        }
        let w = decode(&std::fs::read(&f).unwrap()).unwrap();
        assert_eq!(w.events, 3);
        assert_eq!(w.owner, current_owner());
        assert_eq!(l.finish(&key).unwrap(), Finish::NotYet { until: 61_000 });
        clock.set(61_000);
        match l.finish(&key).unwrap() {
            Finish::Done(Some(s)) => assert_eq!(
                s.text(),
                b"3 refused connections from 206.182.68.5 to 2 services in 60 s"
            ),
            f => panic!("{f:?}"),
        }
        assert!(!f.exists(), "a closed window leaves no file");
        // A window whose owner is dead (a pid that does not run) is adopted.
        let dead_owner = Window {
            start: 61_000,
            end: 121_000,
            seconds: 60,
            events: 1,
            services: vec![b"sshd".to_vec()],
            owner: Owner {
                pid: u32::MAX - 1,
                start: 5,
            },
        };
        std::fs::write(&f, encode(&dead_owner)).unwrap();
        assert_eq!(
            l.admit(&key, b"sshd", 60).unwrap(),
            Admission::Adopted { until: 121_000 }
        );
        clock.set(121_000);
        assert!(matches!(
            l.finish(&key).unwrap(),
            Finish::Done(Some(Summary { events: 2, .. }))
        ));
        // A damaged file counts as no window.
        std::fs::write(&f, b"junk").unwrap();
        assert!(matches!(
            l.admit(&key, b"sshd", 60).unwrap(),
            Admission::First { stale: None, .. }
        ));
        // A symlink in place of the state file is not followed.
        std::fs::remove_file(&f).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &f).unwrap();
        assert!(l.admit(&key, b"sshd", 60).is_err());
        std::fs::remove_file(&f).unwrap();
        // A directory that others can write is refused.
        std::fs::set_permissions(dir.join("alerts"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let e = l.admit(&key, b"sshd", 60).unwrap_err().to_string();
        assert!(
            e.contains("must be owned by uid") && e.contains("mode 0755"),
            "{e}"
        );
        // No window, no file at all.
        std::fs::set_permissions(dir.join("alerts"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        assert_eq!(l.admit(&key, b"sshd", 0).unwrap(), Admission::Unlimited);
        assert!(!f.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_limiter_across_processes_is_serialised() {
        // Threads stand in for processes here: each admit locks the file,
        // so N concurrent events give exactly one First and N-1 counted.
        let dir = temp_dir("threads");
        let l = Arc::new(FileLimiter::new(&dir));
        let key = Key {
            alert: "tw".into(),
            source: SRC.to_vec(),
        };
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (l, key) = (l.clone(), key.clone());
                std::thread::spawn(move || {
                    l.admit(&key, format!("d{}", i % 3).as_bytes(), 60).unwrap()
                })
            })
            .collect();
        let got: Vec<Admission> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            got.iter()
                .filter(|a| matches!(a, Admission::First { .. }))
                .count(),
            1
        );
        assert_eq!(
            got.iter().filter(|a| **a == Admission::Suppressed).count(),
            7
        );
        let w = decode(&std::fs::read(l.path(&key)).unwrap()).unwrap();
        assert_eq!(w.events, 8);
        assert_eq!(w.services.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
