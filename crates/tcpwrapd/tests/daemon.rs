//! tcpwrapd end to end: the real binary on loopback (the whole 127/8 gives
//! distinct client sources), temporary configurations and tables, the log in
//! a file. The alert tests against Debian's nsca daemon run inside a private
//! mount namespace (tests/golden/ns-run, through the real-peer support of
//! crates/tcpwrap/tests/support/peers.rs) so that nothing reaches the
//! machine's /dev/log.

mod common;
#[path = "../../tcpwrap/tests/support/peers.rs"]
mod peers;

use std::io::{Read, Write};
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn grants_refuses_logs_the_rule_and_dumps_status() {
    let p = free_port();
    let s = Server::start(
        "grant",
        &format!("127.0.0.1,127.0.0.2:{p} stream tcp nowait root internal echo\n"),
        "# allow\necho: 127.0.0.1\n",
        "ALL: ALL\n",
        &["--json-log", "@DIR@/json"],
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"hello\n").unwrap(),
        b"hello\n"
    );
    let t = Instant::now();
    assert!(closed_at_once("127.0.0.2", addr("127.0.0.2", p), 2 * SEC));
    // No tcpd-style 5-second pause.
    assert!(t.elapsed() < SEC, "refusal took {:?}", t.elapsed());
    let allow = s.dir.path("hosts.allow");
    let deny = s.dir.path("hosts.deny");
    let log = s.wait_log("refused connect", 5 * SEC);
    assert!(
        log.contains(&format!(
            " echo[{}]: connect from 127.0.0.1 (127.0.0.1) ({}:2)\n",
            s.pid(),
            path_str(&allow)
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            " echo[{}]: refused connect from 127.0.0.2 (127.0.0.2) ({}:1)\n",
            s.pid(),
            path_str(&deny)
        )),
        "{log}"
    );
    s.signal("USR1");
    let log = s.wait_log("granted 1, refused 1", 5 * SEC);
    assert!(log.contains("status: 1 service(s)"), "{log}");
    let json = std::fs::read_to_string(s.dir.path("json")).unwrap();
    assert!(json.contains("\"event\":\"refuse\""), "{json}");
    assert!(
        json.contains(&format!("\"rule\":\"{}:1\"", path_str(&deny))),
        "{json}"
    );
}

#[test]
fn programs_run_with_tcpd_options_banners_setenv_twist_and_spawn() {
    let p = free_port();
    let dir = TempDir::new("prog-scripts");
    let svc = dir.script(
        "svc.sh",
        "#!/bin/sh\necho \"greeting=$GREETING args=$* uid=$(id -u)\"\n",
    );
    std::fs::create_dir_all(dir.path("banners")).unwrap();
    dir.write("banners/svc.sh", "Hello %a\n");
    let s = Server::start(
        "prog",
        &format!(
            "127.0.0.1,127.0.0.2:{p} stream tcp nowait root /usr/sbin/tcpd {} one two\n",
            path_str(&svc)
        ),
        &format!(
            "svc.sh: 127.0.0.1: setenv GREETING hello : banners {}\n",
            path_str(&dir.path("banners"))
        ),
        "svc.sh: 127.0.0.2: spawn (echo %a %d > @DIR@/spawned) : twist /bin/echo twisted %a\n",
        &[],
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    let out = String::from_utf8(read_all(&mut c, 5 * SEC)).unwrap();
    assert!(
        out.starts_with("Hello 127.0.0.1\r\ngreeting=hello args=one two uid="),
        "{out:?}"
    );
    let mut c = connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap();
    assert_eq!(read_all(&mut c, 5 * SEC), b"twisted 127.0.0.2\n");
    let log = s.wait_log("twist 127.0.0.2 to /bin/echo twisted 127.0.0.2", 5 * SEC);
    // The grant is logged with the pid of the process that serves it.
    assert!(
        log.lines().any(|l| l.contains(" svc.sh[")
            && l.contains("]: connect from 127.0.0.1")
            && !l.contains(&format!("svc.sh[{}]", s.pid()))),
        "{log}"
    );
    let deadline = Instant::now() + 5 * SEC;
    loop {
        if let Ok(t) = std::fs::read_to_string(s.dir.path("spawned")) {
            if t == "127.0.0.2 svc.sh\n" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "spawn did not run");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(s.zombies(), 0, "{:?}", s.children());
}

#[test]
fn missing_and_crashing_programs_are_logged_and_others_still_served() {
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let dir = TempDir::new("crash-scripts");
    let crash = dir.script("crash.sh", "#!/bin/sh\nkill -SEGV $$\n");
    let s = Server::start(
        "crash",
        &format!(
            "127.0.0.1:{p1} stream tcp nowait root /nonexistent/tcpwrapd-prog prog\n\
             127.0.0.1:{p2} stream tcp nowait root {}\n\
             127.0.0.1:{p3} stream tcp nowait root internal echo\n",
            path_str(&crash)
        ),
        "",
        "",
        &[],
    );
    let log = s.log_text();
    assert!(
        log.contains("warning: ") && log.contains("/nonexistent/tcpwrapd-prog: No such file"),
        "{log}"
    );
    // Warm up (the tables are read and watched on first use).
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p3), b"warm").unwrap(),
        b"warm"
    );
    std::thread::sleep(Duration::from_millis(200));
    let fds = s.fds();
    for _ in 0..3 {
        let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p1)).unwrap();
        assert_eq!(read_all(&mut c, 5 * SEC), b"");
        let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p2)).unwrap();
        assert_eq!(read_all(&mut c, 5 * SEC), b"");
    }
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p3), b"still here").unwrap(),
        b"still here"
    );
    let log = s.wait_log_n(
        "error: cannot execute /nonexistent/tcpwrapd-prog: No such file or directory",
        3,
        5 * SEC,
    );
    let log2 = s.wait_log_n("exited on signal 11 (SIGSEGV)", 3, 5 * SEC);
    assert!(
        log.contains(" prog[") || log.contains(" tcpwrapd-prog["),
        "{log}"
    );
    assert!(log2.contains(" crash.sh["), "{log2}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(s.zombies(), 0, "{:?}", s.children());
    assert_eq!(s.children().len(), 0, "{:?}", s.children());
    assert_eq!(s.fds(), fds);
}

#[test]
fn malformed_lines_are_reported_and_the_rest_served() {
    let p = free_port();
    let conf = format!(
        "# a comment\n\
         echo stream tcp nowait\n\
         127.0.0.1:{p} stream tcp nowait root internal echo\n\
         127.0.0.1:{p} stream tcp nowait root internal discard\n\
         x stream tcp nowait root relative/prog\n"
    );
    let s = Server::start("malformed", &conf, "", "", &[]);
    let log = s.log_text();
    let conf_path = path_str(&s.conf).to_string();
    assert!(
        log.contains(&format!("error: {conf_path}:2: incomplete line")),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "error: {conf_path}:4: 127.0.0.1:{p}/tcp is already used by line 3"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("error: {conf_path}:5: server program")),
        "{log}"
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"ok").unwrap(),
        b"ok"
    );
    // --check reports the same and fails.
    let out = Command::new(BIN)
        .arg("--check")
        .arg(&s.conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{conf_path}:2: incomplete line")),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{p}/tcp as \"echo\"")), "{stdout}");
}

#[test]
fn sighup_reload_keeps_unchanged_listeners_and_a_bad_reload_keeps_everything() {
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    // No per-source limits (FreeBSD's fields, 0: none) for the hammering.
    let a = format!("127.0.0.1:{pa} stream tcp nowait/0/0/0 root internal echo\n");
    let b = format!("127.0.0.1:{pb} stream tcp nowait root internal echo\n");
    let c = format!("127.0.0.1:{pc} stream tcp nowait root internal echo\n");
    let s = Server::start("reload", &format!("{a}{b}"), "", "", &[]);
    let inode = listen_inode(pa).expect("listening");
    // A session that must survive the reloads.
    let mut held = connect_from("127.0.0.1", addr("127.0.0.1", pa)).unwrap();
    held.set_read_timeout(Some(5 * SEC)).unwrap();
    held.write_all(b"1").unwrap();
    let mut one = [0u8; 1];
    held.read_exact(&mut one).unwrap();
    // Clients of the kept service keep connecting during the reload.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let hammer = std::thread::spawn(move || {
        let mut n = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            echo_from("127.0.0.3", addr("127.0.0.1", pa), b"x").expect("kept service refused");
            n += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    });
    std::fs::write(&s.conf, format!("{a}{c}")).unwrap();
    // The log was rotated: SIGHUP also reopens it.
    std::fs::rename(&s.log, s.dir.path("log.1")).unwrap();
    s.signal("HUP");
    let log = s.wait_log("reloaded:", 5 * SEC);
    assert!(log.contains("SIGHUP: reading the configuration"), "{log}");
    assert!(log.contains("1 kept, 1 opened, 1 closed"), "{log}");
    assert_eq!(
        listen_inode(pa),
        Some(inode),
        "the kept listener was reopened"
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", pc), b"new").unwrap(),
        b"new"
    );
    let e = connect_from("127.0.0.1", addr("127.0.0.1", pb)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    // A bad configuration: errors with line numbers, nothing changes.
    std::fs::write(&s.conf, format!("{a}not a service\n")).unwrap();
    s.signal("HUP");
    let log = s.wait_log("reload failed", 5 * SEC);
    assert!(
        log.contains(&format!("error: {}:2: incomplete line", path_str(&s.conf))),
        "{log}"
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", pc), b"c").unwrap(),
        b"c"
    );
    assert_eq!(listen_inode(pa), Some(inode));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(hammer.join().unwrap() > 0);
    held.write_all(b"2").unwrap();
    held.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"2");
}

#[test]
fn per_source_concurrency_refuses_only_the_offender() {
    let p = free_port();
    let s = Server::start(
        "persource",
        &format!("127.0.0.1,127.0.0.2,127.0.0.3:{p} stream tcp nowait/0/0/4 root internal echo\n"),
        "",
        "",
        &[],
    );
    let mut held = Vec::new();
    for i in 0..4 {
        let mut c = connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap();
        c.set_read_timeout(Some(5 * SEC)).unwrap();
        c.write_all(&[b'a' + i]).unwrap();
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
        held.push(c);
    }
    for _ in 0..5 {
        assert!(closed_at_once("127.0.0.2", addr("127.0.0.2", p), 2 * SEC));
    }
    assert_eq!(
        echo_from("127.0.0.3", addr("127.0.0.3", p), b"ok").unwrap(),
        b"ok"
    );
    let log = s.wait_log("per-source limit of 4 simultaneous connections", 5 * SEC);
    assert!(
        log.contains("refused connect from 127.0.0.2 (127.0.0.2) (limit: "),
        "{log}"
    );
    drop(held);
    // The slots come back when the sessions end.
    let deadline = Instant::now() + 5 * SEC;
    while echo_from("127.0.0.2", addr("127.0.0.2", p), b"z").is_err() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_flood_of_10000_connections_from_one_source_is_contained() {
    let p = free_port();
    let dir = TempDir::new("flood-conf");
    let settings = dir.write(
        "tcpwrapd.conf",
        "per-source-rate 60\nper-source-max 16\nservice-rate 0\nservice-max 0\n",
    );
    let s = Server::start(
        "flood",
        &format!("127.0.0.1,127.0.0.2,127.0.0.3:{p} stream tcp nowait root internal echo\n"),
        "",
        "",
        &["-c", path_str(&settings)],
    );
    // Warm up so that the baseline includes the worker threads' state.
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"w").unwrap(),
        b"w"
    );
    std::thread::sleep(Duration::from_millis(300));
    let fds = s.fds();
    let start = Instant::now();
    let flooders: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut ok = 0;
                for _ in 0..2500 {
                    if connect_from("127.0.0.2", addr("127.0.0.2", p)).is_ok() {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    // Meanwhile another source is served every time.
    let mut served = 0;
    for i in 0..20u8 {
        let msg = [b'0' + i % 10; 8];
        assert_eq!(
            echo_from("127.0.0.3", addr("127.0.0.3", p), &msg).unwrap(),
            msg,
            "other source refused during the flood"
        );
        served += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let connected: usize = flooders.into_iter().map(|t| t.join().unwrap()).sum();
    let took = start.elapsed();
    assert_eq!(served, 20);
    assert!(connected > 9000, "only {connected} connections got through");
    assert!(took < Duration::from_secs(90), "the flood took {took:?}");
    let log = s.wait_log("per-source limit of 60 connections per minute", 5 * SEC);
    // Records are limited: at most one per source and service every 10 s.
    let limit_records = log.matches("(limit: ").count();
    assert!(limit_records < 20, "{limit_records} limit records");
    // No fd leak, no zombie, bounded memory.
    let deadline = Instant::now() + 10 * SEC;
    while s.fds() > fds {
        assert!(Instant::now() < deadline, "fds {} > {fds}", s.fds());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(s.zombies(), 0);
    assert!(s.rss_kib() < 128 * 1024, "RSS {} KiB", s.rss_kib());
    s.signal("USR1");
    let log = s.wait_log("per-source-rate ", 5 * SEC);
    assert!(log.contains("granted "), "{log}");
}

#[test]
fn sigterm_stops_at_once_and_leaves_children_running() {
    let p = free_port();
    let dir = TempDir::new("term-scripts");
    let svc = dir.script("slow.sh", "#!/bin/sh\necho started\nexec sleep 30\n");
    let mut s = Server::start(
        "term",
        &format!("127.0.0.1:{p} stream tcp nowait root {}\n", path_str(&svc)),
        "",
        "",
        &[],
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    c.set_read_timeout(Some(5 * SEC)).unwrap();
    let mut b = [0u8; 8];
    c.read_exact(&mut b).unwrap();
    let kids = s.children();
    assert_eq!(kids.len(), 1, "{kids:?}");
    let child = kids[0].0;
    s.signal("TERM");
    assert_eq!(s.wait_exit(5 * SEC), Some(0));
    assert!(
        s.log_text()
            .contains("terminating on SIGTERM (1 children left running)")
    );
    let e = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    // The session's process is not killed with the server.
    assert!(std::path::Path::new(&format!("/proc/{child}")).exists());
    let _ = Command::new("kill").arg(child.to_string()).status();
}

#[test]
fn internal_services_over_tcp_and_udp_and_a_stalled_client_stalls_nothing() {
    let p = free_port();
    let q = free_port();
    let r = free_port();
    let t = free_port();
    let s = Server::start(
        "internal",
        &format!(
            "127.0.0.1:\n\
             {p} stream tcp nowait root internal chargen\n\
             {q} stream tcp nowait root internal daytime\n\
             {r} stream tcp nowait root internal time\n\
             {t} dgram udp wait root internal echo\n\
             {r} dgram udp wait root internal time\n\
             {t} stream tcp nowait root internal discard\n"
        ),
        "",
        "",
        &[],
    );
    // A chargen client that never reads.
    let stalled = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    c.set_read_timeout(Some(5 * SEC)).unwrap();
    let mut line = [0u8; 74];
    c.read_exact(&mut line).unwrap();
    assert!(line.starts_with(b" !\"#$%") && line.ends_with(b"\r\n"));
    drop(c);
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", q)).unwrap();
    let day = read_all(&mut c, 5 * SEC);
    assert_eq!(day.len(), 26, "{day:?}");
    assert!(day.ends_with(b"\r\n"));
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", r)).unwrap();
    let time = read_all(&mut c, 5 * SEC);
    assert_eq!(time.len(), 4);
    let now1900 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2_208_988_800;
    let got = u32::from_be_bytes([time[0], time[1], time[2], time[3]]) as u64;
    assert!(got.abs_diff(now1900 & 0xffff_ffff) < 5);
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(5 * SEC)).unwrap();
    u.send_to(b"ping", ("127.0.0.1", t)).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = u.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    u.send_to(b"", ("127.0.0.1", r)).unwrap();
    let (n, _) = u.recv_from(&mut buf).unwrap();
    assert_eq!(n, 4);
    let mut d = connect_from("127.0.0.1", addr("127.0.0.1", t)).unwrap();
    d.write_all(b"into the void").unwrap();
    drop(d);
    drop(stalled);
    let log = s.log_text();
    assert!(log.contains(" chargen["), "{log}");
    assert!(log.contains(" echo["), "{log}");
}

#[test]
fn a_datagram_wait_service_gets_the_socket_after_its_sender_is_checked() {
    let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is needed"
        );
        eprintln!("skipped: no python3");
        return;
    };
    let p = free_port();
    let dir = TempDir::new("dgram-scripts");
    let svc = dir.script(
        "udpsvc",
        &format!(
            "#!{python}\nimport socket\ns = socket.socket(fileno=0)\n\
             data, peer = s.recvfrom(512)\ns.sendto(b'got ' + data, peer)\n"
        ),
    );
    let s = Server::start(
        "dgram",
        &format!(
            "127.0.0.1,127.0.0.2:{p} dgram udp wait root {} udpsvc\n",
            path_str(&svc)
        ),
        "udpsvc: 127.0.0.1\n",
        "ALL: ALL\n",
        &[],
    );
    let ask = |from: &str, to: &str, msg: &[u8]| -> Option<Vec<u8>> {
        let u = UdpSocket::bind((from, 0)).unwrap();
        u.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        u.send_to(msg, (to, p)).unwrap();
        let mut buf = [0u8; 512];
        u.recv_from(&mut buf).ok().map(|(n, _)| buf[..n].to_vec())
    };
    assert_eq!(
        ask("127.0.0.1", "127.0.0.1", b"one"),
        Some(b"got one".to_vec())
    );
    assert_eq!(ask("127.0.0.2", "127.0.0.2", b"two"), None);
    let log = s.wait_log("refused connect from 127.0.0.2", 5 * SEC);
    assert!(log.contains("udpsvc["), "{log}");
    // The listener is polled again after the refusal and after the child.
    let deadline = Instant::now() + 10 * SEC;
    loop {
        if ask("127.0.0.1", "127.0.0.1", b"three") == Some(b"got three".to_vec()) {
            break;
        }
        assert!(Instant::now() < deadline);
    }
}

#[test]
fn systemd_socket_activation_uses_the_passed_socket() {
    let p = free_port();
    let dir = TempDir::new("systemd");
    let conf = dir.write(
        "inetd.conf",
        &format!("127.0.0.1:{p} stream tcp nowait root internal echo\n"),
    );
    dir.write("hosts.allow", "");
    dir.write("hosts.deny", "");
    let log = dir.path("log");
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener.set_reuse_address(true).unwrap();
    listener.bind(&addr("127.0.0.1", p).into()).unwrap();
    listener.listen(16).unwrap();
    listener.set_cloexec(false).unwrap();
    use std::os::fd::AsRawFd;
    let fd = listener.as_raw_fd();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(
        Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\" 3<&{fd}"
            ))
            .arg(BIN)
            .arg("--allow")
            .arg(dir.path("hosts.allow"))
            .arg("--deny")
            .arg(dir.path("hosts.deny"))
            .arg("--log-file")
            .arg(&log)
            .arg(&conf)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    drop(listener);
    let deadline = Instant::now() + 10 * SEC;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("started:")
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("(from systemd)"), "{text}");
    assert!(
        text.contains("socket activation: descriptor 3 is 127.0.0.1:"),
        "{text}"
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"sd").unwrap(),
        b"sd"
    );
}

#[test]
fn the_demo_serves_grants_refusals_and_a_tripwire() {
    // The demo's fixed ports must be free (another demo may be running).
    if std::net::TcpListener::bind("127.0.0.1:7007").is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "port 7007 is busy"
        );
        eprintln!("skipped: port 7007 is in use");
        return;
    }
    let dir = TempDir::new("demo");
    let log = dir.path("log");
    let mut child = Command::new(BIN)
        .args(["--demo", "--log-file"])
        .arg(&log)
        .current_dir(&dir.0)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut stderr = child.stderr.take().unwrap();
    let _g = Kill(&mut child);
    let deadline = Instant::now() + 10 * SEC;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("started:")
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", 7007), b"hi").unwrap(),
        b"hi"
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", 7079)).unwrap();
    let date = String::from_utf8(read_all(&mut c, 5 * SEC)).unwrap();
    assert!(date.contains("UTC"), "{date}");
    assert!(closed_at_once(
        "127.0.0.1",
        addr("127.0.0.1", 7019),
        2 * SEC
    ));
    assert!(closed_at_once(
        "127.0.0.1",
        addr("127.0.0.1", 7023),
        2 * SEC
    ));
    let deadline = Instant::now() + 5 * SEC;
    let text = loop {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if t.contains("(tripwire)") && t.matches("refused connect").count() >= 2 {
            break t;
        }
        assert!(Instant::now() < deadline, "{t}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(text.contains(" echo["), "{text}");
    assert!(text.contains(" date["), "{text}");
    assert!(text.contains(" chargen["), "{text}");
    assert!(text.contains(" telnet["), "{text}");
    // SIGTERM: a clean stop removes the private copies of the tables.
    let pid = _g.0.id();
    let tables = std::env::temp_dir().join(format!("tcpwrapd-demo-{pid}"));
    assert!(tables.join("hosts.allow").exists());
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let deadline = Instant::now() + 5 * SEC;
    while _g.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the demo did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!tables.exists());
    drop(_g);
    let mut banner = String::new();
    stderr.read_to_string(&mut banner).unwrap();
    assert!(banner.contains("nc 127.0.0.1 7007"), "{banner}");
}

#[test]
fn a_slow_ident_lookup_holds_up_no_one_else() {
    // 127.0.0.2's ident server accepts and never answers: its check waits
    // for the rfc931 time-out (10 s) on a worker, not on the event loop.
    let ident = match std::net::TcpListener::bind("127.0.0.2:113") {
        Ok(l) => l,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot bind 127.0.0.2:113: {e}"
            );
            eprintln!("skipped: cannot bind 127.0.0.2:113 ({e})");
            return;
        }
    };
    let p = free_port();
    let s = Server::start(
        "ident",
        &format!("127.0.0.1,127.0.0.2,127.0.0.3:{p} stream tcp nowait root internal echo\n"),
        "echo: 127.0.0.3\necho: nobody@127.0.0.2\n",
        "ALL: ALL\n",
        &[],
    );
    let mut slow = connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    for _ in 0..5 {
        assert_eq!(
            echo_from("127.0.0.3", addr("127.0.0.3", p), b"quick").unwrap(),
            b"quick"
        );
    }
    assert!(t.elapsed() < 2 * SEC, "others waited {:?}", t.elapsed());
    // The slow client is still undecided, then refused.
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut b = [0u8; 1];
    let e = slow.read(&mut b).unwrap_err();
    assert!(matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    let log = s.wait_log("refused connect from 127.0.0.2", 20 * SEC);
    assert!(log.contains("connect from 127.0.0.3"), "{log}");
    assert_eq!(read_all(&mut slow, 5 * SEC), b"");
    drop(ident);
}

#[test]
fn a_stream_wait_service_gets_the_listening_socket() {
    let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is needed"
        );
        eprintln!("skipped: no python3");
        return;
    };
    let p = free_port();
    let dir = TempDir::new("wait-scripts");
    let svc = dir.script(
        "waitsvc",
        &format!(
            "#!{python}\nimport socket\ns = socket.socket(fileno=0)\n\
             c, peer = s.accept()\nc.sendall(b'served by one process\\n')\nc.close()\n"
        ),
    );
    let s = Server::start(
        "waitstream",
        &format!("127.0.0.1:{p} stream tcp wait root {}\n", path_str(&svc)),
        "",
        "",
        &[],
    );
    for _ in 0..2 {
        let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
        assert_eq!(read_all(&mut c, 5 * SEC), b"served by one process\n");
    }
    let log = s.wait_log_n("handed to the service", 2, 5 * SEC);
    assert!(log.contains(" waitsvc["), "{log}");
}

#[test]
fn aclexec_runs_on_the_connection_and_decides() {
    let p = free_port();
    let s = Server::start(
        "aclexec",
        &format!("127.0.0.1,127.0.0.2:{p} stream tcp nowait root internal echo\n"),
        "echo: 127.0.0.1: aclexec test -S /dev/stdin\necho: 127.0.0.2: aclexec exit 1\n",
        "ALL: ALL\n",
        &[],
    );
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"a").unwrap(),
        b"a"
    );
    assert!(closed_at_once("127.0.0.2", addr("127.0.0.2", p), 2 * SEC));
    let log = s.wait_log("refused connect from 127.0.0.2", 5 * SEC);
    assert!(log.contains("aclexec returned 1"), "{log}");
}

#[test]
fn services_run_as_their_user() {
    let root = std::process::Command::new("id").arg("-u").output().unwrap();
    if root.stdout != b"0\n" {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "not root");
        eprintln!("skipped: not root");
        return;
    }
    let p = free_port();
    let q = free_port();
    let dir = TempDir::new("user-scripts");
    let svc = dir.script("whoami.sh", "#!/bin/sh\necho \"$(id -un) $(id -gn)\"\n");
    let s = Server::start(
        "user",
        &format!(
            "127.0.0.1:{p} stream tcp nowait nobody {}\n",
            path_str(&svc)
        ),
        "",
        "",
        &[],
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", p)).unwrap();
    let out = String::from_utf8(read_all(&mut c, 5 * SEC)).unwrap();
    assert!(out.starts_with("nobody "), "{out:?} {}", s.log_text());
    drop(s);
    // A `user` option of the tables switches after the inetd.conf user: as
    // under tcpd, nobody cannot become root, so the service is not run.
    let s = Server::start(
        "user2",
        &format!(
            "127.0.0.1:{q} stream tcp nowait nobody {}\n",
            path_str(&svc)
        ),
        "whoami.sh: ALL: user root\n",
        "",
        &[],
    );
    let mut c = connect_from("127.0.0.1", addr("127.0.0.1", q)).unwrap();
    assert_eq!(read_all(&mut c, 5 * SEC), b"");
    s.wait_log("error: setgid(root): Operation not permitted", 5 * SEC);
}

#[test]
fn ipv6_clients_are_checked_with_their_address() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let p = free_port();
    let s = Server::start(
        "ipv6",
        &format!("[::1]:{p} stream tcp6 nowait root internal echo\n"),
        "echo: [::1]\n",
        "ALL: ALL\n",
        &[],
    );
    let mut c = std::net::TcpStream::connect(("::1", p)).unwrap();
    c.set_read_timeout(Some(5 * SEC)).unwrap();
    c.write_all(b"six").unwrap();
    let mut b = [0u8; 3];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"six");
    let log = s.wait_log("connect from ::1 (::1) (", 5 * SEC);
    assert!(log.contains("hosts.allow:1)"), "{log}");
}

/// An alerts config for an NSCA daemon on 127.0.0.1:`port` (password
/// `secret`, XOR), with `alerts` appended.
fn nsca_alerts(port: u16, alerts: &str) -> String {
    format!(
        "[sink monitor]\ntype = nsca\nserver = 127.0.0.1\nport = {port}\npassword = secret\n\
         encryption_method = 1\ntimeout = 5\n\n{alerts}"
    )
}

/// Wait until the nsca daemon wrote `line`; all its lines.
fn wait_command(cmd: &std::path::Path, line: &str, limit: Duration) -> Vec<String> {
    peers::wait_for(limit, || {
        let c = peers::commands(cmd);
        c.iter().any(|l| l == line).then_some(c)
    })
    .unwrap_or_else(|| panic!("nsca did not write {line:?}: {:?}", peers::commands(cmd)))
}

#[test]
fn a_tripwire_raises_its_alert_at_the_real_nsca_daemon() {
    if peers::namespace("a_tripwire_raises_its_alert_at_the_real_nsca_daemon").is_none() {
        return;
    }
    if !peers::nsca_available() {
        return;
    }
    let scratch = peers::Scratch::new("twd-tripwire");
    let nport = free_port();
    let (_nsca, cmd) = peers::start_nsca(&scratch, "nsca", nport, 1);
    let tripwire = "[alert tripwire]\nsink = monitor\nhost = firestorm\nservice = Tripwires\n\
                    code = 2\noutput = Tripwire %d from %a\nwindow = 0\n";
    let alerts = scratch.private("alerts.conf", &nsca_alerts(nport, tripwire));
    let conf = scratch.private("tcpwrapd.conf", "tripwire-alert tripwire\n");
    let p = free_port();
    let s = Server::start(
        "tw-nsca",
        &format!("127.0.0.1:{p} stream tcp nowait root tripwire telnet\n"),
        "",
        // The rule fires the same alert for 127.0.0.3: sent once, not twice.
        "telnet: 127.0.0.3: alert tripwire Rule %d %a\n",
        &["-c", path_str(&conf), "--alerts", path_str(&alerts)],
    );
    let log = s.log_text();
    assert!(!log.contains("warning"), "{log}");
    let tw = addr("127.0.0.1", p);

    let t = Instant::now();
    assert!(closed_at_once("127.0.0.1", tw, 2 * SEC));
    assert!(
        t.elapsed() < SEC,
        "the tripwire closed after {:?}",
        t.elapsed()
    );
    let first = "PROCESS_SERVICE_CHECK_RESULT;firestorm;Tripwires;2;Tripwire telnet from 127.0.0.1";
    wait_command(&cmd, first, 5 * SEC);
    let log = s.wait_log("alert tripwire: sink monitor: 1 result(s) sent", 5 * SEC);
    assert!(
        log.contains(&format!(
            " telnet[{}]: refused connect from 127.0.0.1 (127.0.0.1) (tripwire)\n",
            s.pid()
        )),
        "{log}"
    );
    // The dispatcher's messages go to tcpwrapd's log, not to syslog.
    assert!(
        log.contains(&format!(
            " tcpwrapd[{}]: alert tripwire: sink monitor: 1 result(s) sent\n",
            s.pid()
        )),
        "{log}"
    );

    // The deciding rule fired the same alert, with its own output: once.
    assert!(closed_at_once("127.0.0.3", tw, 2 * SEC));
    let rule = "PROCESS_SERVICE_CHECK_RESULT;firestorm;Tripwires;2;Rule telnet 127.0.0.3";
    wait_command(&cmd, rule, 5 * SEC);

    // A changed alerts.conf and tripwire-alert apply after SIGHUP (the
    // alerts config is read for every alert).
    std::fs::write(
        &alerts,
        nsca_alerts(
            nport,
            &format!(
                "{tripwire}\n[alert second]\nsink = monitor\nhost = firestorm\n\
                 service = Tripwires\ncode = 1\noutput = Second %d %a\nwindow = 0\n"
            ),
        ),
    )
    .unwrap();
    std::fs::write(&conf, "tripwire-alert = second\n").unwrap();
    s.signal("HUP");
    s.wait_log("reloaded:", 5 * SEC);
    assert!(closed_at_once("127.0.0.4", tw, 2 * SEC));
    let second = "PROCESS_SERVICE_CHECK_RESULT;firestorm;Tripwires;1;Second telnet 127.0.0.4";
    wait_command(&cmd, second, 5 * SEC);
    // Nothing else arrives: no duplicate for 127.0.0.3.
    std::thread::sleep(SEC);
    assert_eq!(peers::commands(&cmd), [first, rule, second]);
}

#[test]
fn a_flood_of_tripwire_connections_gives_one_alert_then_one_summary() {
    if peers::namespace("a_flood_of_tripwire_connections_gives_one_alert_then_one_summary")
        .is_none()
    {
        return;
    }
    if !peers::nsca_available() {
        return;
    }
    let scratch = peers::Scratch::new("twd-flood");
    let nport = free_port();
    let (_nsca, cmd) = peers::start_nsca(&scratch, "nsca", nport, 1);
    let alerts = scratch.private(
        "alerts.conf",
        &nsca_alerts(
            nport,
            "[alert tripwire]\nsink = monitor\nhost = firestorm\nservice = Tripwires\n\
             code = 2\noutput = Tripwire %d from %a\nwindow = 3\n",
        ),
    );
    // No per-source rate limit: every connection reaches the tripwire.
    let conf = scratch.private(
        "tcpwrapd.conf",
        "tripwire-alert tripwire\nper-source-rate 0\n",
    );
    let p = free_port();
    let s = Server::start(
        "tw-flood",
        &format!("127.0.0.1:{p} stream tcp nowait root tripwire telnet\n"),
        "",
        "",
        &["-c", path_str(&conf), "--alerts", path_str(&alerts)],
    );
    let tw = addr("127.0.0.1", p);
    let start = Instant::now();
    for _ in 0..20 {
        assert!(closed_at_once("127.0.0.2", tw, 2 * SEC));
    }
    let burst = start.elapsed();
    assert!(burst < 2 * SEC, "20 connections took {burst:?}");
    let first = "PROCESS_SERVICE_CHECK_RESULT;firestorm;Tripwires;2;Tripwire telnet from 127.0.0.2";
    wait_command(&cmd, first, 5 * SEC);
    assert!(
        start.elapsed() < 3 * SEC,
        "the first alert came only after {:?}",
        start.elapsed()
    );
    s.wait_log_n("(tripwire)", 20, 5 * SEC);
    let summary = "PROCESS_SERVICE_CHECK_RESULT;firestorm;Tripwires;2;20 refused connections from 127.0.0.2 to 1 services in 3 s";
    wait_command(&cmd, summary, 10 * SEC);
    let at = start.elapsed();
    assert!(
        at >= 3 * SEC,
        "the summary came before the window's end: {at:?}"
    );
    assert!(at < 6 * SEC, "the summary came only after {at:?}");
    std::thread::sleep(SEC);
    assert_eq!(peers::commands(&cmd), [first, summary]);
}

#[test]
fn an_alert_option_goes_through_the_dispatcher_and_never_delays_the_refusal() {
    // A sink that accepts (the kernel completes the handshake) and never
    // answers: each delivery waits for the sink's 2-second time-out.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port();
    let scratch = peers::Scratch::new("twd-silent");
    let alerts = scratch.private(
        "alerts.conf",
        &format!(
            "[sink monitor]\ntype = nsca\nserver = 127.0.0.1\nport = {sport}\npassword = secret\n\
             timeout = 2\n\n[alert tw]\nsink = monitor\nhost = firestorm\nservice = TCP Wrappers\n\
             code = 2\noutput = Denied %d-%a\nwindow = 0\n"
        ),
    );
    let p = free_port();
    let s = Server::start(
        "alert-option",
        &format!("127.0.0.1:{p} stream tcp nowait root internal echo\n"),
        "",
        "echo: 127.0.0.2: alert tw\n",
        &["--alerts", path_str(&alerts)],
    );
    let deny = s.dir.path("hosts.deny");
    let refused = format!(
        " echo[{}]: refused connect from 127.0.0.2 (127.0.0.2) ({}:1)\n",
        s.pid(),
        path_str(&deny)
    );
    let start = Instant::now();
    for n in 1..=2 {
        let t = Instant::now();
        assert!(closed_at_once("127.0.0.2", addr("127.0.0.1", p), 2 * SEC));
        assert!(t.elapsed() < SEC, "refusal {n} took {:?}", t.elapsed());
        s.wait_log_n(&refused, n, SEC);
        assert!(
            t.elapsed() < SEC,
            "refusal {n} logged after {:?}",
            t.elapsed()
        );
    }
    // Others are served meanwhile.
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"hi").unwrap(),
        b"hi"
    );
    // The dispatcher did connect to the sink, and gave up after its
    // time-out, one alert after the other; tcpwrapd logged it.
    silent.set_nonblocking(true).unwrap();
    // (Held open, silent, until the end.)
    let _first = peers::wait_for(3 * SEC, || silent.accept().ok());
    assert!(_first.is_some(), "no delivery reached the sink");
    let timeout = format!(
        " tcpwrapd[{}]: alert tw: sink monitor: Timeout after 2 seconds (host 127.0.0.1 port {sport})\n",
        s.pid()
    );
    let log = s.wait_log_n(&timeout, 2, 10 * SEC);
    let at = start.elapsed();
    assert!(at >= 4 * SEC - Duration::from_millis(300), "{at:?}");
    assert!(
        log.find(&refused).unwrap() < log.find(&timeout).unwrap(),
        "{log}"
    );
    assert!(!log.contains("warning"), "{log}");
}

#[test]
fn tripwire_alert_problems_are_logged_with_their_position() {
    let scratch = peers::Scratch::new("twd-nope");
    let alerts = scratch.private(
        "alerts.conf",
        "[sink m]\ntype = nsca\nserver = 127.0.0.1\n\n[alert tw]\nsink = m\nhost = h\ncode = 2\noutput = o\n",
    );
    let conf = scratch.private("tcpwrapd.conf", "# alerts\ntripwire-alert nope\n");
    let p = free_port();
    let inetd = format!("127.0.0.1:{p} stream tcp nowait root tripwire telnet\n");
    let s = Server::start(
        "tw-nope",
        &inetd,
        "",
        "",
        &["-c", path_str(&conf), "--alerts", path_str(&alerts)],
    );
    let why = format!("alert nope: not defined in {}", path_str(&alerts));
    // At start, as tcpdchk would warn about a table's alert ...
    let log = s.log_text();
    assert!(
        log.contains(&format!(
            " tcpwrapd[{}]: warning: {}:2: {why}\n",
            s.pid(),
            path_str(&conf)
        )),
        "{log}"
    );
    // ... and with every tripwire connection, which is still closed at once.
    let t = Instant::now();
    assert!(closed_at_once("127.0.0.1", addr("127.0.0.1", p), 2 * SEC));
    assert!(t.elapsed() < SEC);
    let log = s.wait_log("(tripwire)", 5 * SEC);
    let warning = format!(
        " telnet[{}]: warning: {}, line 2: {why}\n",
        s.pid(),
        path_str(&conf)
    );
    assert!(log.contains(&warning), "{log}");
    assert!(
        log.find(&warning).unwrap() < log.find("(tripwire)").unwrap(),
        "{log}"
    );
    // --check says so too (a warning: the exit status stays 0).
    let out = Command::new(BIN)
        .args([
            "--check",
            "-c",
            path_str(&conf),
            "--alerts",
            path_str(&alerts),
        ])
        .arg(&s.conf)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "tcpwrapd: warning: {}:2: {why}\n",
            path_str(&conf)
        )),
        "{err}"
    );
    // A bad name is an error of its line.
    std::fs::write(&conf, "tripwire-alert -x\n").unwrap();
    let out = Command::new(BIN)
        .args(["--check", "-c", path_str(&conf)])
        .arg(&s.conf)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "tcpwrapd: error: {}:1: tripwire-alert: bad alert name \"-x\"",
            path_str(&conf)
        )),
        "{err}"
    );
}

/// Settings that let one source open many connections at once.
const NO_LIMITS: &str = "per-source-max 0\nper-source-rate 0\nservice-max 0\nservice-rate 0\n";

/// A refused client that speaks first (TLS, NRPE) writes its request into
/// a connection still open and then reads a reset, as under tcpd (which
/// pauses 5 seconds before it exits), but at once; a silent client reads
/// the end of the connection after a short wait; the held connections are
/// bounded and all closed afterwards.
#[test]
fn refused_clients_that_speak_first_read_a_reset_and_silent_ones_the_end() {
    let p = free_port();
    let conf = TempDir::new("refuse-hold-conf");
    let settings = conf.write("tcpwrapd.conf", NO_LIMITS);
    let s = Server::start(
        "refuse-hold",
        &format!("127.0.0.1,127.0.0.2:{p} stream tcp nowait root internal echo\n"),
        "echo: 127.0.0.1\n",
        "ALL: ALL\n",
        &["-c", path_str(&settings)],
    );
    let base = s.fds();
    for _ in 0..5 {
        let t = Instant::now();
        let mut c = connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap();
        c.set_read_timeout(Some(10 * SEC)).unwrap();
        // The request goes out whole: nothing has closed the connection.
        c.write_all(&[0x16; 300]).unwrap();
        let mut b = [0u8; 16];
        match c.read(&mut b) {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => panic!("a speaking refused client read {n} bytes instead of a reset"),
        }
        assert!(t.elapsed() < 3 * SEC, "took {:?}", t.elapsed());
    }
    // A silent client reads the end (EOF, not a reset), without tcpd's pause.
    let t = Instant::now();
    let mut c = connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap();
    c.set_read_timeout(Some(10 * SEC)).unwrap();
    let mut b = [0u8; 16];
    assert_eq!(c.read(&mut b).unwrap(), 0);
    assert!(t.elapsed() < 3 * SEC, "took {:?}", t.elapsed());
    // What it still writes is taken (no reset, no SIGPIPE for it) until it
    // closes its side.
    c.write_all(b"late words\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    c.write_all(b"more late words\n").unwrap();
    drop(c);
    // Many silent refused clients at once: at most 256 held.
    let many: Vec<_> = (0..400)
        .map(|_| connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap())
        .collect();
    s.wait_log_n("refused connect from 127.0.0.2", 406, 20 * SEC);
    let held = s.fds();
    assert!(
        held <= base + 256 + 8,
        "{held} descriptors with 400 refused clients (base {base})"
    );
    // All are closed once the time to hold them (2 s) has passed, even
    // though these clients never close.
    let deadline = Instant::now() + 15 * SEC;
    while s.fds() > base + 2 {
        assert!(
            Instant::now() < deadline,
            "{} descriptors (base {base})",
            s.fds()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for mut c in many {
        c.set_read_timeout(Some(5 * SEC)).unwrap();
        assert_eq!(c.read(&mut b).unwrap(), 0);
    }
    // The granted client is still served.
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", p), b"hi\n").unwrap(),
        b"hi\n"
    );
}

/// `refuse-linger 0` closes refused connections outright.
#[test]
fn refuse_linger_zero_closes_at_once() {
    let p = free_port();
    let conf = TempDir::new("refuse-hold-conf");
    let settings = conf.write("tcpwrapd.conf", &format!("{NO_LIMITS}refuse-linger 0\n"));
    let s = Server::start(
        "refuse-now",
        &format!("127.0.0.2:{p} stream tcp nowait root internal echo\n"),
        "",
        "ALL: ALL\n",
        &["-c", path_str(&settings)],
    );
    let base = s.fds();
    let many: Vec<_> = (0..50)
        .map(|_| connect_from("127.0.0.2", addr("127.0.0.2", p)).unwrap())
        .collect();
    s.wait_log_n("refused connect from 127.0.0.2", 50, 20 * SEC);
    assert!(s.fds() <= base + 2, "{} descriptors (base {base})", s.fds());
    for mut c in many {
        c.set_read_timeout(Some(5 * SEC)).unwrap();
        let mut b = [0u8; 4];
        assert_eq!(c.read(&mut b).unwrap(), 0);
    }
}
