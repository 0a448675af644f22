//! Support for the hostile-input and leak tests (issue 8, items 3 and 4):
//! running one test alone in a fresh process (so that its descriptor count
//! and peak memory are its own), running one test inside a private mount,
//! network and PID namespace with its own `/etc/hosts` (tests/golden/ns-run),
//! measuring a child program's wall time and peak RSS (measure.c, a small C
//! wrapper built with the system compiler), starting tcpd (ours or
//! Debian's) on a real connection as inetd would, a tiny DNS server for the
//! namespace, syslog records of one run, and process listings.
//!
//! `#[path]`-included by the hostile tests of several crates; it uses no
//! crate of the workspace (only `socket2`).
//!
//! A missing prerequisite (root, ns-run's tools, python3, a C compiler,
//! Debian's programs) skips a test with a printed reason, except under
//! `CI=true`, where it fails the test.
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

/// A name unique to this process and call: process ids alone are not (the
/// tests in PID namespaces of their own are all process 2).
pub fn unique() -> String {
    static START: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // Short: paths made of it end up in host names that must stay under
    // 128 bytes.
    let start = START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    });
    format!(
        "{}-{start}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A scratch directory (mode 0755, a path of shell-safe bytes), removed on
/// drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("tcpwrap-hostile-{tag}-{}", unique()));
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

/// Run the test binary `cmd` for `test` alone; what went wrong, if
/// anything.
fn run_inner(test: &str, mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .output()
        .expect("run the inner test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- inner run of {test} ---\n{stdout}{stderr}");
    if !out.status.success() {
        return Err(format!("inner run of {test}: {:?}", out.status));
    }
    if !stdout.contains("1 passed") {
        return Err(format!("inner run of {test} ran no test"));
    }
    Ok(())
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
    if let Err(e) = run_inner(test, cmd) {
        panic!("{e}");
    }
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
    let dir = Scratch::new("ns");
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
    let result = run_inner(test, cmd);
    if let Ok(l) = std::fs::read(&log) {
        eprintln!("--- syslog of {test} ---\n{}", String::from_utf8_lossy(&l));
    }
    if let Err(e) = result {
        panic!("{e}");
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
pub fn add_addresses<S: AsRef<str>>(addrs: &[S]) {
    for a in addrs.iter().map(AsRef::as_ref) {
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

/// Reset this process's peak resident memory to its current size (Linux
/// `clear_refs` 5), so that a following [`hwm_kib`] shows the peak of what
/// runs from now on, not of the test data made before; the new baseline.
pub fn reset_hwm() -> u64 {
    std::fs::write("/proc/self/clear_refs", b"5").expect("reset VmHWM (/proc/self/clear_refs)");
    hwm_kib()
}

/// A finished child program: its output, wall time and peak RSS.
pub struct Measured {
    /// Exit status (128 + N when killed by signal N), captured stdout and
    /// stderr (empty when not piped).
    pub out: Output,
    pub secs: f64,
    /// Peak RSS of the program and its waited-for descendants (KiB).
    pub peak_kib: u64,
    pub pid: i32,
    /// Killed at the time limit.
    pub timed_out: bool,
}

impl Measured {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
}

/// The measuring wrapper (hostile/measure.c), compiled once into cargo's
/// temporary directory of this target. None (after [`unavailable`]) when
/// there is no C compiler.
pub fn measurer() -> Option<PathBuf> {
    static PATH: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        const SRC: &str = include_str!("measure.c");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in SRC.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let exe = dir.join(format!("hostile-measure-{h:016x}"));
        if exe.exists() {
            return Some(exe);
        }
        if !have("cc") {
            unavailable("no C compiler (cc) to build the measuring wrapper");
            return None;
        }
        std::fs::create_dir_all(&dir).unwrap();
        let tag = unique();
        let src = dir.join(format!("hostile-measure-{tag}.c"));
        let tmp = dir.join(format!("hostile-measure-{tag}"));
        std::fs::write(&src, SRC).unwrap();
        let out = Command::new("cc")
            .args(["-O2", "-Wall", "-Werror", "-o"])
            .arg(&tmp)
            .arg(&src)
            .output()
            .expect("cc");
        let _ = std::fs::remove_file(&src);
        assert!(out.status.success(), "cc measure.c: {out:?}");
        std::fs::rename(&tmp, &exe).unwrap();
        Some(exe)
    })
    .clone()
}

/// A program started under the measuring wrapper; [`Watched::finish`] waits
/// for it.
pub struct Watched {
    child: std::process::Child,
    report: PathBuf,
    what: String,
}

/// How to start a [`Watched`] program.
pub struct Watch {
    exe: PathBuf,
    argv0: std::ffi::OsString,
    args: Vec<std::ffi::OsString>,
    cwd: Option<PathBuf>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    limit: Duration,
}

impl Watch {
    /// `exe` with argv[0] = `exe`.
    pub fn new(exe: impl AsRef<Path>) -> Watch {
        Watch {
            exe: exe.as_ref().to_path_buf(),
            argv0: exe.as_ref().as_os_str().to_owned(),
            args: Vec::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            limit: Duration::from_secs(60),
        }
    }
    pub fn argv0(mut self, a: impl AsRef<std::ffi::OsStr>) -> Watch {
        self.argv0 = a.as_ref().to_owned();
        self
    }
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, a: impl IntoIterator<Item = S>) -> Watch {
        self.args
            .extend(a.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }
    pub fn cwd(mut self, d: impl AsRef<Path>) -> Watch {
        self.cwd = Some(d.as_ref().to_path_buf());
        self
    }
    /// Descriptors 0 and 1 (default: /dev/null and a pipe).
    pub fn stdio(mut self, stdin: impl Into<Stdio>, stdout: impl Into<Stdio>) -> Watch {
        self.stdin = Some(stdin.into());
        self.stdout = Some(stdout.into());
        self
    }
    /// Killed (with its process group) after this long.
    pub fn limit(mut self, l: Duration) -> Watch {
        self.limit = l;
        self
    }
    /// Start it. A test calls [`measurer`] first and stops when it gives
    /// None (no C compiler).
    pub fn start(self) -> Watched {
        let m = measurer().expect("the measuring wrapper (call hostile::measurer() first)");
        let report = std::env::temp_dir().join(format!("tcpwrap-hostile-measure-{}", unique()));
        let what = format!("{} {:?}", self.argv0.to_string_lossy(), self.args);
        let mut cmd = Command::new(m);
        cmd.arg(&report)
            .arg(self.limit.as_secs_f64().to_string())
            .arg(&self.exe)
            .arg(&self.argv0)
            .args(&self.args)
            .stdin(self.stdin.unwrap_or_else(Stdio::null))
            .stdout(self.stdout.unwrap_or_else(Stdio::piped))
            .stderr(Stdio::piped());
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        let child = cmd.spawn().expect("start the measuring wrapper");
        Watched {
            child,
            report,
            what,
        }
    }
}

impl Watched {
    /// Wait; the program may have been killed at its time limit.
    pub fn finish_or_timeout(self) -> Measured {
        let out = self.child.wait_with_output().expect("wait");
        let rep = std::fs::read_to_string(&self.report).unwrap_or_default();
        let _ = std::fs::remove_file(&self.report);
        let f: Vec<&str> = rep.split_whitespace().collect();
        assert_eq!(f.len(), 5, "measuring {} failed: {out:?}", self.what);
        Measured {
            out,
            timed_out: f[0] == "timeout",
            secs: f[2].parse().unwrap(),
            peak_kib: f[3].parse().unwrap(),
            pid: f[4].parse().unwrap(),
        }
    }
    /// Wait; a failure when the program had to be killed at its limit.
    pub fn finish(self) -> Measured {
        let what = self.what.clone();
        let m = self.finish_or_timeout();
        assert!(!m.timed_out, "{what} still ran at its time limit");
        m
    }
}

/// Run `prog args` in `cwd` and measure its wall time and peak RSS (see
/// measure.c), killing it after `limit` (a failure). See [`Watch::start`].
pub fn measure(prog: &Path, args: &[&str], cwd: &Path, limit: Duration) -> Measured {
    Watch::new(prog)
        .args(args)
        .cwd(cwd)
        .limit(limit)
        .start()
        .finish()
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

/// The service tcpd starts in the tcpd tests: `DIR/bin/svc`, a script that
/// tells the client it ran. Each run names it by a link of its own
/// (`DIR/bin/NAME`), so that NAME is the daemon name (`%d`, the syslog
/// ident) of that run alone.
pub const SERVICE_RAN: &[u8] = b"service ran\n";

fn service(dir: &Path, name: &str) -> PathBuf {
    let bin = dir.join("bin");
    let svc = bin.join("svc");
    if !svc.exists() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(&svc, b"#!/bin/sh\necho service ran\n").unwrap();
        std::fs::set_permissions(&svc, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let link = bin.join(name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&svc, &link).unwrap();
    link
}

/// A connection from `from` (an address of this namespace) to `listener`:
/// (the client's end, the accepted end).
pub fn connect_from(
    listener: &std::net::TcpListener,
    from: std::net::IpAddr,
) -> (std::net::TcpStream, std::net::TcpStream) {
    let server = listener.local_addr().unwrap();
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(server),
        socket2::Type::STREAM,
        None,
    )
    .unwrap();
    sock.bind(&std::net::SocketAddr::new(from, 0).into())
        .unwrap_or_else(|e| panic!("bind {from}: {e}"));
    sock.connect(&server.into()).unwrap();
    let client: std::net::TcpStream = sock.into();
    let local = client.local_addr().unwrap();
    loop {
        let (accepted, peer) = listener.accept().unwrap();
        if peer == local {
            return (client, accepted);
        }
    }
}

/// tcpd started as inetd starts it: the accepted connection on descriptors
/// 0 and 1, argv[0] the absolute path of the service (`DIR/bin/NAME`).
pub struct TcpdRun {
    pub name: String,
    client: std::net::TcpStream,
    run: Watched,
}

/// What a [`TcpdRun`] gave.
pub struct TcpdResult {
    pub name: String,
    pub m: Measured,
    /// Every byte the client received until EOF.
    pub received: Vec<u8>,
}

impl TcpdResult {
    /// The service ran (tcpd granted and exec'd it).
    pub fn granted(&self) -> bool {
        self.received.ends_with(SERVICE_RAN)
    }
}

/// Start `tcpd` (ours or Debian's) for a connection from `from`, as daemon
/// `name` (see [`SERVICE_RAN`]); killed after `limit`.
pub fn start_tcpd(
    tcpd: &Path,
    dir: &Path,
    name: &str,
    listener: &std::net::TcpListener,
    from: std::net::IpAddr,
    limit: Duration,
) -> TcpdRun {
    let argv0 = service(dir, name);
    let (client, accepted) = connect_from(listener, from);
    let out = accepted.try_clone().unwrap();
    let run = Watch::new(tcpd)
        .argv0(&argv0)
        .cwd("/")
        .stdio(
            std::os::fd::OwnedFd::from(accepted),
            std::os::fd::OwnedFd::from(out),
        )
        .limit(limit)
        .start();
    TcpdRun {
        name: name.to_string(),
        client,
        run,
    }
}

impl TcpdRun {
    /// Wait for tcpd (it must end within its limit), then read what the
    /// client got.
    pub fn finish(self) -> TcpdResult {
        let m = self.run.finish();
        let received = read_to_eof(self.client, Duration::from_secs(5));
        TcpdResult {
            name: self.name,
            m,
            received,
        }
    }
    /// Wait; tcpd may have been killed at its limit (a hang).
    pub fn finish_or_timeout(self) -> TcpdResult {
        let m = self.run.finish_or_timeout();
        let received = read_to_eof(self.client, Duration::from_secs(5));
        TcpdResult {
            name: self.name,
            m,
            received,
        }
    }
}

/// Read until EOF, an error or `limit`.
pub fn read_to_eof(mut s: std::net::TcpStream, limit: Duration) -> Vec<u8> {
    use std::io::Read;
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while t.elapsed() < limit {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    got
}

impl Ns {
    /// The syslog records logged under `ident` (one run's daemon name), as
    /// `LEVEL DAEMON[PID]: MESSAGE` with the name and pid replaced, so that
    /// two runs can be compared.
    pub fn records(&self, ident: &str) -> Vec<String> {
        let tag = format!(" {ident}[");
        self.syslog_text()
            .lines()
            .filter_map(|l| {
                let i = l.find(&tag)?;
                let rest = &l[i + tag.len()..];
                let close = rest.find("]: ")?;
                if !rest[..close].bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Some(format!(
                    "{} DAEMON[PID]: {}",
                    &l[..i],
                    rest[close + 3..].replace(ident, "DAEMON")
                ))
            })
            .collect()
    }
}
