//! Where tcpwrapd must do what openbsd-inetd + Debian's tcpd do: the
//! differences tests/tcpwrapd (the comparison under real peers) found,
//! each checked here on loopback without namespaces.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SEC: Duration = Duration::from_secs(1);

/// Like `Server::start`, but tcpwrapd runs with umask 077.
fn start_with_umask_077(tag: &str, conf: &str, allow: &str, deny: &str) -> Server {
    let dir = TempDir::new(tag);
    let fill = |s: &str| s.replace("@DIR@", dir.0.to_str().unwrap());
    let conf_path = dir.write("inetd.conf", &fill(conf));
    dir.write("hosts.allow", &fill(allow));
    dir.write("hosts.deny", &fill(deny));
    let log = dir.path("log");
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 077; exec \"$0\" \"$@\"")
        .arg(BIN)
        .arg("--allow")
        .arg(dir.path("hosts.allow"))
        .arg("--deny")
        .arg(dir.path("hosts.deny"))
        .arg("--log-file")
        .arg(&log)
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = Server {
        child,
        dir,
        log,
        conf: conf_path,
    };
    s.wait_log("started:", 20 * SEC);
    s
}

fn wait_file(p: &std::path::Path, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(t) = std::fs::read_to_string(p) {
            if t.ends_with('\n') {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "{} was not written", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// tcpd sets umask 022 before anything else: the daemon of a tcpd entry
/// and the commands of its rules start with it; other programs get
/// tcpwrapd's own umask, as under inetd.
#[test]
fn tcpd_entries_run_with_tcpds_umask() {
    let (p1, p2) = (free_port(), free_port());
    let scripts = TempDir::new("umask-scripts");
    let svc = scripts.script("umasksvc", "#!/bin/sh\numask\n");
    let s = start_with_umask_077(
        "umask",
        &format!(
            "127.0.0.1:{p1} stream tcp nowait root /usr/sbin/tcpd {svc}\n\
             127.0.0.1:{p2} stream tcp nowait root {svc}\n",
            svc = path_str(&svc)
        ),
        "umasksvc: ALL: spawn (umask > @DIR@/spawned)\n",
        "",
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p1)).unwrap();
    assert_eq!(read_all(&mut c, 5 * SEC), b"0022\n");
    assert_eq!(wait_file(&s.dir.path("spawned"), 5 * SEC), "0022\n");
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p2)).unwrap();
    assert_eq!(read_all(&mut c, 5 * SEC), b"0077\n");
}

/// `banners` in the rule that refuses: tcpd writes the banner, then
/// refuses; so does tcpwrapd (without tcpd's pause).
#[test]
fn refused_clients_get_their_banners() {
    let p = free_port();
    let scripts = TempDir::new("banner-scripts");
    let svc = scripts.script("bannersvc", "#!/bin/sh\necho served\n");
    std::fs::create_dir_all(scripts.path("banners")).unwrap();
    scripts.write("banners/bannersvc", "Refused: %a to %d\n");
    let s = Server::start(
        "banners",
        &format!(
            "127.0.0.1:{p} stream tcp nowait root /usr/sbin/tcpd {}\n",
            path_str(&svc)
        ),
        "",
        &format!(
            "bannersvc: ALL: banners {}\n",
            path_str(&scripts.path("banners"))
        ),
        &[],
    );
    let t = Instant::now();
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    let got = read_all(&mut c, 5 * SEC);
    assert_eq!(got, b"Refused: 127.0.0.1 to bannersvc\r\n");
    assert!(t.elapsed() < 2 * SEC, "refusal took {:?}", t.elapsed());
    s.wait_log("bannersvc[", 5 * SEC);
    let log = s.wait_log("refused connect from 127.0.0.1", 5 * SEC);
    assert!(!log.contains("served"), "{log}");
}

/// A daemon tcpd cannot execute: tcpd logs the error after closelog(),
/// with the C library's default ident, the base name of its argv[0]
/// (`sub/prog` grants as `sub/prog`, fails as `prog`).
#[test]
fn exec_errors_of_tcpd_entries_carry_tcpds_ident() {
    let p = free_port();
    let s = Server::start(
        "execident",
        &format!("127.0.0.1:{p} stream tcp nowait root /usr/sbin/tcpd sub/tw-nonexistent-prog\n"),
        "ALL: ALL\n",
        "",
        &[],
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    assert_eq!(read_all(&mut c, 5 * SEC), b"");
    let log = s.wait_log("cannot execute", 5 * SEC);
    assert!(
        log.contains(" sub/tw-nonexistent-prog[")
            && log.contains("]: connect from 127.0.0.1 (127.0.0.1)"),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l.contains(" tw-nonexistent-prog[")
            && l.ends_with(
                "]: error: cannot execute /usr/sbin/sub/tw-nonexistent-prog: No such file or directory"
            )),
        "{log}"
    );
}

/// A connection the client reset before tcpwrapd accepted it: as
/// openbsd-inetd ("could not getpeername"), nothing is checked or run.
#[test]
fn connections_reset_before_accept_are_not_served() {
    let p = free_port();
    let scripts = TempDir::new("reset-scripts");
    let marker = scripts.path("ran");
    let svc = scripts.script(
        "resetsvc",
        &format!("#!/bin/sh\necho run >> {}\n", path_str(&marker)),
    );
    let s = Server::start(
        "reset",
        &format!(
            "127.0.0.1:{p} stream tcp nowait root /usr/sbin/tcpd {}\n",
            path_str(&svc)
        ),
        "ALL: ALL\n",
        "",
        &[],
    );
    s.signal("STOP");
    let c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    socket2::SockRef::from(&c)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(c); // RST while the connection waits in the accept queue
    std::thread::sleep(Duration::from_millis(100));
    s.signal("CONT");
    let log = s.wait_log("could not getpeername", 5 * SEC);
    assert!(!log.contains("connect from"), "{log}");
    // A connection that stays is served (the service does run here).
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    let mut sink = Vec::new();
    let _ = c.read_to_end(&mut sink);
    assert_eq!(wait_file(&marker, 5 * SEC), "run\n");
    let log = s.wait_log("connect from", 5 * SEC);
    assert_eq!(log.matches("connect from").count(), 1, "{log}");
}
