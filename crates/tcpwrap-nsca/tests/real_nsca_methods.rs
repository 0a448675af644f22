//! Our client against Debian's real `nsca` 2.10.2 daemon, one test per
//! encryption method (reference §2.1, §4.5 B).
//!
//! Each test listens on 127.0.0.1 on a free port, lets `Session::open`
//! connect, accepts the connection and hands it to `nsca -c CFG --inetd`
//! as stdin and stdout, so the daemon serves exactly that connection and
//! exits at its end. The daemon runs under `tests/golden/ns-run` (a
//! private mount and network namespace): its syslog records go to a file
//! of ours instead of the machine's `/dev/log`, and are shown when a test
//! fails. Its command file is a plain file with `append_to_file=1`.
//!
//! - A supported method sends a service result and a host result on one
//!   connection; the command file must hold exactly those two lines.
//! - A method Debian cannot run (7, 12, 19, 22, 24, 25): the daemon closes
//!   the connection before the init packet; `Session::open` reports it.
//! - A method only we cannot run (10, 15, 16, 26): the daemon sends its
//!   init packet and `Session::open` fails with send_nsca's "Failed to
//!   initialize encryption libraries" error.
//!
//! Needs root, unshare(1) and the `nsca` package; skips with a message
//! when they are missing, except with CI=true, where it fails.

use std::fs::{self, File};
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tcpwrap_nsca::{CheckResult, ClientError, Method, Session, Target, Unsupported};

const NSCA: &str = "/usr/sbin/nsca";
const SERVICE_LINE: &str = "PROCESS_SERVICE_CHECK_RESULT;web01;sshd;2;REFUSED sshd from 10.1.2.3";
const HOST_LINE: &str = "PROCESS_HOST_CHECK_RESULT;web01;1;second";
/// Bound on everything one test waits for (ns-run start-up, the daemon's
/// processing, its exit).
const PATIENCE: Duration = Duration::from_secs(20);

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn ns_run() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/ns-run")
}

/// Whether the real daemon can be run here. Prints why not and returns
/// false outside CI; panics in CI.
fn ready() -> bool {
    let why = if !Path::new(NSCA).exists() {
        Some(format!("{NSCA} is missing (apt-get install nsca)"))
    } else if !Command::new("unshare")
        .args(["-m", "-n", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some("ns-run needs root and unshare(1)".to_owned())
    } else {
        None
    };
    match why {
        None => true,
        Some(w) if in_ci() => panic!("real nsca tests cannot run in CI: {w}"),
        Some(w) => {
            eprintln!("skipping the real nsca test: {w}");
            false
        }
    }
}

/// A private scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tcpwrap-nsca-real-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn read(&self, name: &str) -> String {
        fs::read(self.path(name))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The ns-run process (leader of its own process group, which holds the
/// daemon too). Dropping it stops whatever still runs, by that group id.
struct Daemon(Child);

impl Daemon {
    /// Wait up to `until` for the daemon to finish; true if it did.
    fn wait_exit(&mut self, until: Instant) -> bool {
        loop {
            if let Ok(Some(_)) = self.0.try_wait() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal_group(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return;
        }
        // TERM first so that ns-run removes its temporary directory.
        self.signal_group("-TERM");
        if !self.wait_exit(Instant::now() + Duration::from_secs(3)) {
            self.signal_group("-KILL");
            let _ = self.0.wait();
        }
    }
}

fn write_config(s: &Scratch, method: Method, password: &str) -> PathBuf {
    let cmd = s.path("cmd");
    File::create(&cmd).unwrap();
    // `password=` with no value is a config error: no password means no
    // password line.
    let password = match password {
        "" => String::new(),
        p => format!("password={p}\n"),
    };
    let cfg = s.path("nsca.cfg");
    fs::write(
        &cfg,
        format!(
            "command_file={}\nalternate_dump_file={}\nappend_to_file=1\naggregate_writes=0\n\
             {password}decryption_method={}\nmax_packet_age=30\ndebug=1\n",
            cmd.display(),
            s.path("dump").display(),
            method.number()
        ),
    )
    .unwrap();
    cfg
}

/// Accept one connection on `listener` and start the daemon on it.
fn serve_one(
    listener: TcpListener,
    s: &Scratch,
    cfg: PathBuf,
) -> JoinHandle<Result<Daemon, String>> {
    let log = s.path("syslog");
    let err = s.path("ns-run.stderr");
    thread::spawn(move || {
        let until = Instant::now() + PATIENCE;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let conn = loop {
            match listener.accept() {
                Ok((c, _)) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= until {
                        return Err("no connection arrived".to_owned());
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        conn.set_nonblocking(false).map_err(|e| e.to_string())?;
        let out = conn.try_clone().map_err(|e| e.to_string())?;
        let stderr = File::create(&err).map_err(|e| e.to_string())?;
        // The Command (and with it our copies of the connection) is dropped
        // at the end of this statement: only the daemon holds it then.
        let child = Command::new(ns_run())
            .arg("--syslog")
            .arg(&log)
            .args(["--", NSCA, "-c"])
            .arg(&cfg)
            .arg("--inetd")
            .stdin(Stdio::from(OwnedFd::from(conn)))
            .stdout(Stdio::from(OwnedFd::from(out)))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start ns-run: {e}"))?;
        Ok(Daemon(child))
    })
}

/// Run one connection against a fresh daemon configured with `method`;
/// `client` gets the outcome of `Session::open` with the same method and
/// password. Returns the scratch dir (command file, logs) and the daemon.
fn connect<T>(
    method: Method,
    password: &str,
    client: impl FnOnce(Result<Session, ClientError>) -> T,
) -> (Scratch, Daemon, T) {
    let s = Scratch::new(&method.number().to_string());
    let cfg = write_config(&s, method, password);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_one(listener, &s, cfg);
    let target = Target {
        host: "127.0.0.1".to_owned(),
        port,
        method,
        password: password.as_bytes().to_vec(),
        legacy: false,
    };
    let out = client(Session::open(&target, Instant::now() + PATIENCE));
    let daemon = match server.join().expect("server thread") {
        Ok(d) => d,
        Err(e) => panic!("{method}: {e}; ns-run said: {}", s.read("ns-run.stderr")),
    };
    (s, daemon, out)
}

fn diagnostics(s: &Scratch) -> String {
    format!(
        "\n--- command file:\n{}--- dump file:\n{}--- nsca syslog:\n{}--- ns-run stderr:\n{}",
        s.read("cmd"),
        s.read("dump"),
        s.read("syslog"),
        s.read("ns-run.stderr")
    )
}

/// The command file's lines without their `[<time>] ` prefix (which must
/// be there).
fn results(cmd: &str) -> Vec<String> {
    cmd.lines()
        .map(|l| {
            let rest = l.strip_prefix('[').expect("line starts with [");
            let (ts, text) = rest.split_once("] ").expect("[ts] prefix");
            assert!(
                !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit()),
                "timestamp in {l:?}"
            );
            text.to_owned()
        })
        .collect()
}

fn service() -> CheckResult {
    CheckResult {
        host: b"web01".to_vec(),
        service: Some(b"sshd".to_vec()),
        code: 2,
        output: b"REFUSED sshd from 10.1.2.3".to_vec(),
    }
}

fn host() -> CheckResult {
    CheckResult {
        host: b"web01".to_vec(),
        service: None,
        code: 1,
        output: b"second".to_vec(),
    }
}

/// A supported method: two results on one connection reach the command
/// file.
fn delivers(method: Method, password: &str) {
    if !ready() {
        return;
    }
    assert!(method.supported(), "{method}");
    let (s, mut daemon, sent) = connect(method, password, |open| {
        let mut session = open.map_err(|e| format!("open: {e}"))?;
        session
            .send(&service())
            .map_err(|e| format!("send 1: {e}"))?;
        session.send(&host()).map_err(|e| format!("send 2: {e}"))?;
        Ok::<usize, String>(session.close())
    });
    if let Err(e) = sent {
        panic!("{method}: {e}{}", diagnostics(&s));
    }
    assert_eq!(sent, Ok(2));
    // The daemon exits at the end of the connection; poll the command
    // file until both lines are there or the daemon is gone.
    let until = Instant::now() + PATIENCE;
    loop {
        let exited = daemon.wait_exit(Instant::now());
        if s.read("cmd").lines().count() >= 2 || exited || Instant::now() >= until {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        daemon.wait_exit(until),
        "{method}: nsca did not exit{}",
        diagnostics(&s)
    );
    assert_eq!(
        results(&s.read("cmd")),
        [SERVICE_LINE, HOST_LINE],
        "{method}{}",
        diagnostics(&s)
    );
    assert_eq!(s.read("dump"), "", "{method}");
}

/// A method that Debian's nsca cannot run either: it closes the connection
/// before sending its init packet.
fn server_refuses(method: Method) {
    if !ready() {
        return;
    }
    assert!(!method.supported(), "{method}");
    let (s, mut daemon, err) = connect(method, "secret", |open| open.err());
    match &err {
        Some(e @ ClientError::ClosedBeforeInit) => assert_eq!(
            e.to_string(),
            "Server closed connection before init packet was received"
        ),
        other => panic!("{method}: {other:?}{}", diagnostics(&s)),
    }
    assert!(daemon.wait_exit(Instant::now() + PATIENCE), "{method}");
    assert_eq!(s.read("cmd"), "", "{method}");
}

/// A method Debian's nsca runs but we do not: the init packet arrives, and
/// the client fails before sending anything, as send_nsca does for a
/// method its libmcrypt lacks.
fn client_refuses(method: Method) {
    if !ready() {
        return;
    }
    assert!(!method.supported(), "{method}");
    let (s, mut daemon, err) = connect(method, "secret", |open| open.err());
    match &err {
        Some(e @ ClientError::Cipher(u)) => {
            assert_eq!(*u, Unsupported(method));
            assert_eq!(
                e.to_string(),
                format!(
                    "Failed to initialize encryption libraries for method {}",
                    method.number()
                )
            );
        }
        other => panic!("{method}: {other:?}{}", diagnostics(&s)),
    }
    assert!(daemon.wait_exit(Instant::now() + PATIENCE), "{method}");
    assert_eq!(s.read("cmd"), "", "{method}");
}

macro_rules! method_tests {
    ($($name:ident: $check:ident($method:expr $(, $pw:expr)?);)*) => {
        $(
            #[test]
            fn $name() {
                $check($method $(, $pw)?);
            }
        )*
        /// Every method the tests above cover.
        const COVERED: &[Method] = &[$($method),*];
    };
}

method_tests! {
    none_0: delivers(Method::None, "secret");
    xor_1: delivers(Method::Xor, "secret");
    xor_1_no_password: delivers(Method::Xor, "");
    des_2: delivers(Method::Des, "secret");
    tdes_3: delivers(Method::TripleDes, "secret");
    tdes_3_long_password: delivers(Method::TripleDes, "correct horse battery staple");
    cast128_4: delivers(Method::Cast128, "secret");
    cast256_5: delivers(Method::Cast256, "secret");
    xtea_6: delivers(Method::Xtea, "secret");
    threeway_7: server_refuses(Method::ThreeWay);
    blowfish_8: delivers(Method::Blowfish, "secret");
    blowfish_8_long_password: delivers(Method::Blowfish, "correct horse battery staple");
    twofish_9: delivers(Method::Twofish, "secret");
    loki97_10: client_refuses(Method::Loki97);
    rc2_11: delivers(Method::Rc2, "secret");
    arcfour_12: server_refuses(Method::Arcfour);
    rijndael128_14: delivers(Method::Rijndael128, "secret");
    rijndael128_14_long_password: delivers(Method::Rijndael128, "correct horse battery staple");
    rijndael192_15: client_refuses(Method::Rijndael192);
    rijndael256_16: client_refuses(Method::Rijndael256);
    wake_19: server_refuses(Method::Wake);
    serpent_20: delivers(Method::Serpent, "secret");
    enigma_22: server_refuses(Method::Enigma);
    gost_23: delivers(Method::Gost, "secret");
    gost_23_long_password: delivers(Method::Gost, "correct horse battery staple");
    safer64_24: server_refuses(Method::Safer64);
    safer128_25: server_refuses(Method::Safer128);
    saferplus_26: client_refuses(Method::SaferPlus);
}

/// Every method number has a test above.
#[test]
fn every_method_is_covered() {
    for m in Method::all() {
        assert!(COVERED.contains(&m), "no real-nsca test for {m}");
    }
}
