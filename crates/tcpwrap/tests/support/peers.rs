//! Support for tests against real peers (Debian's `nsca` daemon, Icinga 2),
//! shared by the test crates that need it (`#[path]`-included by
//! crates/tcpwrap/tests/alerts.rs and crates/tcpwrapd/tests/daemon.rs).
//!
//! A test calls [`namespace`] first: outside, that runs the test binary
//! again, for this one test, inside a private mount namespace
//! (tests/golden/ns-run --host-net --syslog FILE) whose `/dev/log` writes
//! to a file of the test, so that nothing the test starts (the nsca
//! daemon, background alert processes) reaches the machine's syslog.
//! Missing prerequisites skip the test with a reason, except with CI=true,
//! where they fail it.
#![allow(dead_code)]

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set inside the namespace: the syslog file of the test.
const INNER: &str = "TCPWRAP_ALERTS_SYSLOG";

/// Debian's NSCA daemon.
pub const NSCA: &str = "/usr/sbin/nsca";

pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A missing prerequisite: skip (fail under CI).
pub fn unavailable(why: &str) {
    assert!(!ci(), "{why} (CI=true: this real-peer test must run)");
    eprintln!("SKIPPED: {why}");
}

/// Whether Debian's nsca is installed; if not, say so (fail under CI).
pub fn nsca_available() -> bool {
    if Path::new(NSCA).exists() {
        return true;
    }
    unavailable("Debian's nsca is not installed (apt-get install -y nsca)");
    false
}

/// Inside the namespace: the syslog file. Outside: run `test` (the exact
/// name of the calling test) there, check it passed, then `None`.
pub fn namespace(test: &str) -> Option<PathBuf> {
    if let Ok(log) = std::env::var(INNER) {
        return Some(PathBuf::from(log));
    }
    if tcpwrap::sys::euid() != 0 {
        unavailable("a private mount namespace needs root");
        return None;
    }
    // Every crate of the workspace is at crates/NAME.
    let ns_run = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/ns-run");
    let dir = Scratch::new(&format!("ns-{test}"));
    let log = dir.0.join("syslog");
    let out = Command::new("bash")
        .arg(&ns_run)
        .args(["--host-net", "--syslog"])
        .arg(&log)
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INNER, &log)
        .stdin(Stdio::null())
        .output()
        .expect("run ns-run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- inner run of {test} ---\n{stdout}{stderr}");
    if let Ok(l) = fs::read_to_string(&log) {
        eprintln!("--- syslog of {test} ---\n{l}");
    }
    assert!(out.status.success(), "inner run of {test} failed");
    assert!(
        stdout.contains("1 passed"),
        "inner run of {test} ran no test"
    );
    None
}

/// A private scratch directory (mode 0700), removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let d = std::env::temp_dir().join(format!(
            "tcpwrap-alerts-{tag}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        Scratch(d)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Write a file readable only by us (an alerts config must be).
    pub fn private(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, content).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A daemon we started, stopped with SIGTERM (then SIGKILL) by its pid.
pub struct Daemon {
    pub child: Child,
    pub what: &'static str,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} (pid {pid}) ignored SIGTERM: killing it", self.what);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `f()` every 50 ms until it gives something, at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if t.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something listens on 127.0.0.1:`port` within `limit`.
pub fn wait_port(port: u16, limit: Duration) -> bool {
    wait_for(limit, || TcpStream::connect(("127.0.0.1", port)).ok()).is_some()
}

/// Lines of the syslog file.
pub fn syslog(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The external commands the nsca daemon wrote, without their `[time] `.
pub fn commands(file: &Path) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| match l.find("] ") {
            Some(p) if l.starts_with('[') => l[p + 2..].to_string(),
            _ => l.to_string(),
        })
        .collect()
}

/// `nsca -c CFG -f --single` on 127.0.0.1:`port` (password `secret`,
/// decryption method `method`) writing to a plain command file: the
/// daemon and the file.
pub fn start_nsca(dir: &Scratch, tag: &str, port: u16, method: u8) -> (Daemon, PathBuf) {
    let cmd = dir.path(&format!("{tag}.cmd"));
    fs::write(&cmd, "").unwrap();
    let cfg = dir.private(
        &format!("{tag}.cfg"),
        &format!(
            "server_address=127.0.0.1\nserver_port={port}\ncommand_file={}\nalternate_dump_file={}\n\
             password=secret\ndecryption_method={method}\nmax_packet_age=30\naggregate_writes=0\n\
             append_to_file=1\ndebug=1\n",
            cmd.display(),
            dir.path(&format!("{tag}.dump")).display()
        ),
    );
    let child = Command::new(NSCA)
        .arg("-c")
        .arg(&cfg)
        .args(["-f", "--single"])
        .stdin(Stdio::null())
        .spawn()
        .expect("start nsca");
    let d = Daemon {
        child,
        what: "nsca",
    };
    assert!(
        wait_port(port, Duration::from_secs(10)),
        "nsca did not listen on {port}"
    );
    (d, cmd)
}
