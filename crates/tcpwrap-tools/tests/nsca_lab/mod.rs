//! A laboratory for NSCA clients: Debian's `nsca` daemon on 127.0.0.1 in
//! the foreground (`-f --single`), inside a private mount namespace whose
//! `/dev/log` is a listener of ours (tests/golden/ns-run), so nothing
//! reaches the machine's syslog; plus fake servers and client runners.
//!
//! The daemon writes results to a plain command file (`append_to_file=1`)
//! and logs with `debug=1`; a run is complete when the daemon has logged
//! the end of every connection made so far ([`Nsca::settle`]).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEBIAN_CLIENT: &str = "/usr/sbin/send_nsca";
pub const DEBIAN_DAEMON: &str = "/usr/sbin/nsca";
pub const OURS: &str = env!("CARGO_BIN_EXE_send_nsca");
/// The password of the lab's daemon and of `send.cfg`.
pub const PASSWORD: &str = "secret";

pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

pub fn ns_run() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/ns-run")
}

/// Whether the real peers can run here. Outside CI a missing peer skips
/// the test (with the reason printed); with CI=true it fails.
pub fn peers_available() -> bool {
    let mut missing = Vec::new();
    for p in [DEBIAN_CLIENT, DEBIAN_DAEMON] {
        if !Path::new(p).exists() {
            missing.push(format!("{p} (apt-get install nsca nsca-client)"));
        }
    }
    let ns = Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ns {
        missing.push("root and unshare(1) for a private mount namespace".into());
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("send_nsca tests need: {}", missing.join(", "));
    if in_ci() {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
    false
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!(
            "send_nsca-test-{}-{}-{tag}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Write `name` and return its path as a string.
    pub fn file(&self, name: &str, data: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn kill(sig: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn wait_for(mut cond: impl FnMut() -> bool, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// What a client run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Whether the client got as far as connecting (usage, config and
    /// connect failures do not).
    pub fn connected(&self) -> bool {
        let (o, e) = (self.out(), self.err());
        !(e.contains("Could not connect")
            || o.contains("contained errors")
            || o.contains("NSCA Client"))
    }
}

/// Run a client: `prefix` (e.g. ns-run) then `bin` with argv[0]
/// `send_nsca`, `input` on standard input; killed after 30 s.
pub fn run_client(prefix: &[String], bin: &str, args: &[Vec<u8>], input: &[u8]) -> Outcome {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let mut c = if prefix.is_empty() {
        let mut c = Command::new(bin);
        c.arg0("send_nsca");
        c
    } else {
        let mut c = Command::new(&prefix[0]);
        c.args(&prefix[1..])
            .args(["--argv0", "send_nsca", "--", bin]);
        c
    };
    c.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = wait_output(child, Duration::from_secs(30));
    let _ = writer.join();
    Outcome {
        status: out.0,
        stdout: out.1,
        stderr: out.2,
        elapsed: start.elapsed(),
    }
}

/// Wait for `child` (stdout and stderr piped), killing it after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            kill("-KILL", child.id());
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.code(), t1.join().unwrap(), t2.join().unwrap())
}

/// Debian's `nsca` daemon, started by the test and stopped (by pid) on
/// drop.
pub struct Nsca {
    pub dir: Scratch,
    pub port: u16,
    runner: Child,
    pid: u32,
    /// Connections whose end the daemon must have logged.
    expected: usize,
}

/// Log lines that end a connection: a normal end, or one of the two
/// rejections after which the daemon closes without saying so.
const CONNECTION_ENDS: [&str; 3] = [
    "End of connection...",
    "Received invalid packet type/version",
    "Dropping packet with invalid CRC32",
];

impl Nsca {
    /// Start a daemon with `decryption_method` = `method` and the lab
    /// password.
    pub fn start(method: u8) -> Nsca {
        for _ in 0..5 {
            if let Some(d) = Nsca::try_start(method) {
                return d;
            }
        }
        panic!("could not start nsca");
    }

    fn try_start(method: u8) -> Option<Nsca> {
        let dir = Scratch::new("nsca");
        let port = free_port();
        let d = dir.0.display();
        dir.file(
            "nsca.cfg",
            format!(
                "server_address=127.0.0.1\nserver_port={port}\ncommand_file={d}/cmd\n\
                 alternate_dump_file={d}/dump\npassword={PASSWORD}\ndecryption_method={method}\n\
                 max_packet_age=30\naggregate_writes=0\nappend_to_file=1\ndebug=1\n\
                 pid_file={d}/nsca.pid\n"
            )
            .as_bytes(),
        );
        dir.file("cmd", b"");
        dir.file(
            "send.cfg",
            format!("password={PASSWORD}\nencryption_method={method}\n").as_bytes(),
        );
        let err = std::fs::File::create(dir.path("ns-run.err")).unwrap();
        let runner = Command::new(ns_run())
            .arg("--host-net")
            .arg("--syslog")
            .arg(dir.path("log"))
            .arg("--")
            .arg(DEBIAN_DAEMON)
            .arg("-c")
            .arg(dir.path("nsca.cfg"))
            .args(["-f", "--single"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        let mut n = Nsca {
            dir,
            port,
            runner,
            pid: 0,
            expected: 0,
        };
        let listening = format!("Listening for connections on port {port}");
        let up = wait_for(
            || n.log().contains(&listening) && n.read_pid().is_some(),
            Duration::from_secs(10),
        );
        n.pid = n.read_pid().unwrap_or(0);
        if !up {
            // Most likely the port was taken meanwhile: try another.
            return None;
        }
        Some(n)
    }

    fn read_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path("nsca.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The daemon's syslog records so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path("log")).unwrap_or_default())
            .into_owned()
    }

    /// The client config matching the daemon (`password=secret`, same
    /// method).
    pub fn send_cfg(&self) -> String {
        self.dir.path("send.cfg").to_str().unwrap().to_owned()
    }

    /// `-H 127.0.0.1 -p PORT -c send.cfg` and `extra`.
    pub fn args(&self, extra: &[&str]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = [
            "-H",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-c",
            &self.send_cfg(),
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        v.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
        v
    }

    fn ended(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| CONNECTION_ENDS.iter().any(|e| l.contains(e)))
            .count()
    }

    /// Wait until the daemon has finished every connection made so far,
    /// `more` of them new.
    pub fn settle(&mut self, more: usize) {
        self.expected += more;
        let want = self.expected;
        if !wait_for(|| self.ended() >= want, Duration::from_secs(15)) {
            panic!(
                "nsca did not finish {want} connections; log:\n{}",
                self.log()
            );
        }
    }

    /// The command file's lines so far, without the `[timestamp] ` prefix.
    pub fn commands(&self) -> Vec<Vec<u8>> {
        let data = std::fs::read(self.dir.path("cmd")).unwrap();
        data.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                assert!(l.starts_with(b"["), "command line without timestamp: {l:?}");
                let p = l.iter().position(|&b| b == b' ').unwrap();
                l[p + 1..].to_vec()
            })
            .collect()
    }

    /// Run a client against this daemon and return its outcome and the
    /// commands the daemon wrote for it.
    pub fn run(
        &mut self,
        prefix: &[String],
        bin: &str,
        args: &[Vec<u8>],
        input: &[u8],
    ) -> (Outcome, Vec<Vec<u8>>) {
        let before = self.commands().len();
        let o = run_client(prefix, bin, args, input);
        self.settle(usize::from(o.connected()));
        let cmds = self.commands()[before..].to_vec();
        (o, cmds)
    }
}

impl Drop for Nsca {
    fn drop(&mut self) {
        if self.pid != 0 {
            kill("-TERM", self.pid);
        }
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(_)) = self.runner.try_wait() {
                break;
            }
            if Instant::now() > end {
                if self.pid != 0 {
                    kill("-KILL", self.pid);
                }
                kill("-KILL", self.runner.id());
                let _ = self.runner.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What a fake server does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fake {
    /// Accept and never send anything (held open until the server is
    /// dropped).
    Silent,
    /// Accept and close at once.
    Close,
    /// Send `n` bytes of an init packet, then close.
    Short(usize),
}

/// A fake NSCA server on 127.0.0.1.
pub struct FakeServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(mode: Fake) -> FakeServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (s, a, h) = (stop.clone(), accepted.clone(), held.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        a.fetch_add(1, Ordering::SeqCst);
                        match mode {
                            Fake::Silent => h.lock().unwrap().push(c),
                            Fake::Close => drop(c),
                            Fake::Short(n) => {
                                let _ = c.write_all(&vec![0u8; n]);
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer {
            port,
            stop,
            accepted,
            held,
            thread: Some(thread),
        }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.held.lock().unwrap().clear();
    }
}
