//! Support for the hostile-input and leak tests (issue 8, items 3 and 4):
//! running one test alone in a fresh process (so that its descriptor count
//! and peak memory are its own), running one test inside a private mount,
//! network and PID namespace with its own `/etc/hosts` (tests/golden/ns-run),
//! measuring a child program's wall time and peak RSS, a tiny DNS server for
//! the namespace, and process listings.
//!
//! `#[path]`-included by the hostile tests of several crates; it uses no
//! crate of the workspace.
//!
//! A missing prerequisite (root, ns-run's tools, python3, Debian's
//! programs) skips a test with a printed reason, except under `CI=true`,
//! where it fails the test.
#![allow(dead_code)]

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set in the child of [`isolated`]: the name of the test it runs.
const ISOLATED: &str = "TCPWRAP_HOSTILE_ISOLATED";
/// Set inside the namespace of [`namespace`]: the scratch directory.
const INNER: &str = "TCPWRAP_HOSTILE_NS";

pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A missing prerequisite: skip with a reason (fail under CI=true).
pub fn unavailable(why: &str) {
    assert!(!ci(), "{why} (CI=true: this test must run)");
    eprintln!("SKIPPED: {why}");
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

pub fn have(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The workspace root (every crate is at crates/NAME).
pub fn workspace() -> PathBuf {
    // CARGO_MANIFEST_DIR of the crate that includes this module.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory (mode 0755, a path of shell-safe bytes), removed on
/// drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let d = std::env::temp_dir().join(format!(
            "tcpwrap-hostile-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
    pub fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_inner(test: &str, mut cmd: Command) {
    let out = cmd
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .output()
        .expect("run the inner test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- inner run of {test} ---\n{stdout}{stderr}");
    assert!(
        out.status.success(),
        "inner run of {test}: {:?}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "inner run of {test} ran no test"
    );
}

/// Run `test` (the exact name of the calling test) alone in a new process
/// of this test binary: true in that process (do the work), false in the
/// caller (the work was done and passed).
pub fn isolated(test: &str) -> bool {
    if std::env::var(ISOLATED).as_deref() == Ok(test) {
        return true;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env(ISOLATED, test);
    run_inner(test, cmd);
    false
}

/// Inside the namespace of [`namespace`].
pub struct Ns {
    /// The scratch directory made outside (same path inside).
    pub dir: PathBuf,
    /// The syslog file (`FACILITY.LEVEL MESSAGE` lines, see ns-run).
    pub syslog: PathBuf,
}

impl Ns {
    pub fn s(&self) -> &str {
        self.dir.to_str().unwrap()
    }
    pub fn syslog_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.syslog).unwrap_or_default()).into_owned()
    }
}

/// Run `test` again inside a private mount and network namespace made by
/// tests/golden/ns-run (`/etc/hosts` = what `hosts(dir)` returns,
/// `nsswitch.conf` hosts: files, `/dev/log` into a file) and a private PID
/// namespace (every process the test starts dies with it and /proc shows
/// only them). Inside: `Some(Ns)`, with `lo` up. Outside: `None` after the
/// inner run passed, or when the namespace cannot be made (skip; fails
/// under CI=true).
pub fn namespace(test: &str, hosts: impl FnOnce(&Path) -> Vec<u8>) -> Option<Ns> {
    if let Ok(dir) = std::env::var(INNER) {
        let dir = PathBuf::from(dir);
        let st = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("ip");
        assert!(st.success(), "ip link set lo up");
        return Some(Ns {
            syslog: dir.join("syslog"),
            dir,
        });
    }
    if !is_root() {
        unavailable("a private namespace needs root");
        return None;
    }
    for p in ["unshare", "ip", "python3", "mount"] {
        if !have(p) {
            unavailable(&format!("{p} is not installed"));
            return None;
        }
    }
    let dir = Scratch::new(&format!("ns-{test}"));
    let hosts_file = dir.write("etc-hosts", hosts(&dir.0));
    let log = dir.path("syslog");
    let mut cmd = Command::new("bash");
    cmd.arg(workspace().join("tests/golden/ns-run"))
        .arg("--hosts")
        .arg(&hosts_file)
        .arg("--syslog")
        .arg(&log)
        .args(["--", "unshare", "--pid", "--fork", "--mount-proc"])
        .arg(std::env::current_exe().unwrap())
        .env(INNER, &dir.0);
    run_inner(test, cmd);
    if let Ok(l) = std::fs::read(&log) {
        eprintln!("--- syslog of {test} ---\n{}", String::from_utf8_lossy(&l));
    }
    None
}

/// Bind-mount `data` (written to `dir/NAME`) over `target` (namespace only;
/// the target is created first if missing).
pub fn bind_over(dir: &Path, target: &str, data: &[u8]) {
    let name = target.trim_start_matches('/').replace('/', "_");
    let src = dir.join(format!("bind-{name}"));
    std::fs::write(&src, data).unwrap();
    if std::fs::symlink_metadata(target).is_err() {
        std::fs::write(target, b"").unwrap();
    }
    let st = Command::new("mount")
        .arg("--bind")
        .arg(&src)
        .arg(target)
        .status()
        .unwrap();
    assert!(st.success(), "mount --bind over {target}");
}

/// Add `addrs` (IPv4, /32) to `lo`.
pub fn add_addresses(addrs: &[&str]) {
    for a in addrs {
        let st = Command::new("ip")
            .args(["addr", "add", &format!("{a}/32"), "dev", "lo"])
            .status()
            .unwrap();
        assert!(st.success(), "ip addr add {a}");
    }
}

/// Open descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The open descriptors of this process with what they point to.
pub fn fd_list() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|e| {
            format!(
                "{} -> {}",
                e.file_name().to_string_lossy(),
                std::fs::read_link(e.path())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    v.sort();
    v
}

/// A field (in KiB) of /proc/PID/status, e.g. "VmHWM" or "VmRSS".
pub fn status_kib(pid: &str, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Peak resident memory of this process so far, KiB.
pub fn hwm_kib() -> u64 {
    status_kib("self", "VmHWM")
}

/// A finished child program: its output, wall time and peak RSS.
pub struct Measured {
    pub out: Output,
    pub secs: f64,
    pub peak_kib: u64,
}

impl Measured {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
}

/// Run `prog args` in `cwd` and measure its wall time and peak RSS
/// (`getrusage(RUSAGE_CHILDREN).ru_maxrss` of a python3 parent that runs
/// only this child), killing it after `limit` (a failure). The exit status
/// in `out` is the program's (128 + N when killed by signal N).
pub fn measure(prog: &Path, args: &[&str], cwd: &Path, limit: Duration) -> Measured {
    const PY: &str = "import resource, subprocess, sys, time\n\
        t = time.monotonic()\n\
        try:\n    rc = subprocess.run(sys.argv[3:], timeout=float(sys.argv[2])).returncode\n\
        except subprocess.TimeoutExpired:\n    rc = 'timeout'\n\
        open(sys.argv[1], 'w').write('%s %f %d' % (rc, time.monotonic() - t,\n\
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
        sys.exit(0 if rc == 'timeout' else rc if rc >= 0 else 128 - rc)\n";
    let report = cwd.join(format!(
        ".measure-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let out = Command::new("python3")
        .args(["-c", PY])
        .arg(&report)
        .arg(limit.as_secs_f64().to_string())
        .arg(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("python3");
    let rep = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let f: Vec<&str> = rep.split_whitespace().collect();
    assert_eq!(f.len(), 3, "measuring {} failed: {out:?}", prog.display());
    assert_ne!(
        f[0],
        "timeout",
        "{} {args:?} still ran after {limit:?}",
        prog.display()
    );
    Measured {
        out,
        secs: f[1].parse().unwrap(),
        peak_kib: f[2].parse().unwrap(),
    }
}

/// Processes visible in /proc: (pid, ppid, state, command line).
pub fn processes() -> Vec<(i32, i32, char, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        out.push((
            pid,
            rest.get(1).and_then(|p| p.parse().ok()).unwrap_or(0),
            rest.first().and_then(|s| s.chars().next()).unwrap_or('?'),
            cmd.trim_end().to_string(),
        ));
    }
    out
}

/// `f()` every 20 ms until true, at most `limit`: whether it became true.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    loop {
        if f() {
            return true;
        }
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A DNS server on 127.0.0.1:53 (UDP) for the namespace: PTR records for
/// IPv4 addresses and A records for the same names, each name given as raw
/// labels (any bytes: what a hostile zone can put on the wire). Other
/// queries: NXDOMAIN. Runs until the process ends.
pub fn dns_server(records: Vec<(Ipv4Addr, Vec<Vec<u8>>)>) {
    let sock = UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53");
    let wire = |labels: &[Vec<u8>]| {
        let mut w = Vec::new();
        for l in labels {
            w.push(l.len() as u8);
            w.extend_from_slice(l);
        }
        w.push(0);
        w
    };
    let table: Vec<(Ipv4Addr, Vec<u8>)> = records.iter().map(|(a, l)| (*a, wire(l))).collect();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let q = &buf[..n];
            if n < 17 {
                continue;
            }
            // The question name, as wire labels, and its type.
            let mut i = 12;
            let mut labels: Vec<Vec<u8>> = Vec::new();
            while i < n && q[i] != 0 && (q[i] as usize) < 64 {
                let len = q[i] as usize;
                if i + 1 + len > n {
                    break;
                }
                labels.push(q[i + 1..i + 1 + len].to_ascii_lowercase());
                i += 1 + len;
            }
            if i + 5 > n {
                continue;
            }
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let question = &q[12..i + 5];
            let mut answer: Option<(u16, Vec<u8>)> = None;
            let mut exists = false;
            let is_ptr = labels.len() == 6
                && labels[4] == b"in-addr"
                && labels[5] == b"arpa"
                && labels[..4].iter().all(|l| std::str::from_utf8(l).is_ok());
            if is_ptr {
                let ip: Option<Ipv4Addr> = format!(
                    "{}.{}.{}.{}",
                    String::from_utf8_lossy(&labels[3]),
                    String::from_utf8_lossy(&labels[2]),
                    String::from_utf8_lossy(&labels[1]),
                    String::from_utf8_lossy(&labels[0])
                )
                .parse()
                .ok();
                if let Some((_, w)) = table.iter().find(|(a, _)| Some(*a) == ip) {
                    exists = true;
                    if qtype == 12 {
                        answer = Some((12, w.clone()));
                    }
                }
            } else {
                let qw = {
                    let mut w = Vec::new();
                    for l in &labels {
                        w.push(l.len() as u8);
                        w.extend_from_slice(l);
                    }
                    w.push(0);
                    w
                };
                if let Some((a, _)) = table.iter().find(|(_, w)| w.to_ascii_lowercase() == qw) {
                    exists = true;
                    if qtype == 1 {
                        answer = Some((1, a.octets().to_vec()));
                    }
                }
            }
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]);
            // QR, opcode 0, AA, RD copied, RA; rcode NXDOMAIN when the name
            // does not exist.
            let rd = q[2] & 1;
            r.push(0x84 | rd);
            r.push(if exists { 0x80 } else { 0x83 });
            r.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
            r.extend_from_slice(question);
            if let Some((ty, data)) = answer {
                r.extend_from_slice(&[0xc0, 0x0c]);
                r.extend_from_slice(&ty.to_be_bytes());
                r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                r.extend_from_slice(&(data.len() as u16).to_be_bytes());
                r.extend_from_slice(&data);
            }
            let _ = sock.send_to(&r, peer);
        }
    });
}

/// What the `%` expansion filter leaves of `b` (every byte outside
/// `[A-Za-z0-9!@%-_=+:,./]` becomes `_`), computed here independently.
pub fn filtered(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| {
            if c.is_ascii_alphanumeric() || b"!@%-_=+:,./".contains(&c) {
                c
            } else {
                b'_'
            }
        })
        .collect()
}
