//! Hostile ident (RFC 1413) servers (issue 8, item 3), inside a private
//! mount, network and PID namespace: each case is a client address on `lo`
//! (10.68.0.N) whose port 113 is a server of the test that stalls,
//! trickles a byte at a time, floods without end (with and without
//! newlines), replies for other ports, sends NUL bytes, shell
//! metacharacters, control bytes or over-long lines. A real connection from
//! each address is decided
//!
//! * by `Checker` (the library tcpwrapd and libwrap.so.0 use; `rfc931`
//!   time-out 2 s), with `spawn` commands really run;
//! * by our tcpd and by Debian's tcpd, started as inetd starts them (the
//!   connection on descriptors 0 and 1; default time-out, 10 s), all at
//!   once, each measured by hostile/measure.c.
//!
//! Each case asserts the decision (`KNOWN@ALL` grants), the `%u` and `%c`
//! expansions a real `spawn` wrote (unsafe bytes replaced), that our tcpd
//! gives the client, the spawn and syslog exactly what Debian's gives, that
//! no injected command ran, the time taken (a stall costs the time-out,
//! no more) and the memory: the test's own peak RSS over all `Checker`
//! cases (floods send megabytes; at most one 511-byte line is read) and
//! every tcpd's. Every ident connection is closed afterwards.
//!
//! tcpd under real openbsd-inetd and xinetd meets such servers in
//! tests/tcpd/scenarios/ident-* too (compared with Debian's tcpd).

mod hostile;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hostile::filtered;
use tcpwrap::exec::SystemExecutor;
use tcpwrap::{Checker, Request, Settings};

const TCPD: &str = env!("CARGO_BIN_EXE_tcpd");
const DEBIAN_TCPD: &str = "/usr/sbin/tcpd";

/// `Checker`'s `rfc931` time-out in this test (tcpd keeps its default).
const CHECKER_TIMEOUT: u64 = 2;
/// tcpd's (and Debian's) default `rfc931` time-out.
const TCPD_TIMEOUT: f64 = 10.0;
/// tcpd sleeps this long after a refusal (Debian's `clean_exit()`).
const REFUSAL_SLEEP: f64 = 5.0;
/// Slack for a loaded 2-CPU machine, on top of the waits above.
const SLACK: f64 = 4.0;
/// Peak RSS of one tcpd run with its spawn shell, KiB.
const TCPD_PEAK_KIB: u64 = 32 * 1024;
/// Growth of the test process's peak RSS over all `Checker` cases, KiB.
const CHECKER_GROWTH_KIB: u64 = 16 * 1024;

/// What the fake ident server does after reading the query `C , S`.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// Send this reply (`{C}`/`{S}` = the ports, `{C+65536}`) and close.
    Reply(&'static [u8]),
    /// Never answer; keep the connection open.
    Stall,
    /// One byte of a valid reply every 300 ms, never the newline.
    Trickle,
    /// Bytes without a newline as fast as possible, never closing.
    Flood,
    /// `garbage\r\n` lines as fast as possible, never closing.
    FloodLines,
}

struct Server {
    addr: Ipv4Addr,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect((self.addr, 113));
    }
}

/// Fill in `{C}`, `{S}` and `{C+65536}` from the query.
fn fill(r: &[u8], query: &[u8]) -> Vec<u8> {
    let q = String::from_utf8_lossy(query).into_owned();
    let (cp, sp) = q.trim_end().split_once(',').unwrap_or(("0", "0"));
    let (cp, sp) = (cp.trim().to_string(), sp.trim().to_string());
    let plus = cp
        .parse::<u32>()
        .map(|p| p + 65536)
        .unwrap_or(0)
        .to_string();
    let mut r = r.to_vec();
    for (k, v) in [("{C+65536}", &plus), ("{C}", &cp), ("{S}", &sp)] {
        while let Some(i) = r.windows(k.len()).position(|w| w == k.as_bytes()) {
            r.splice(i..i + k.len(), v.bytes());
        }
    }
    r
}

/// An ident server on `addr`:113 doing `peer` on every connection.
fn serve(addr: Ipv4Addr, peer: Peer) -> Server {
    let l = TcpListener::bind((addr, 113)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let (stop2, sent2) = (stop.clone(), sent.clone());
    std::thread::spawn(move || {
        for s in l.incoming() {
            if stop2.load(Ordering::Relaxed) {
                return;
            }
            let Ok(s) = s else { continue };
            let (stop3, sent3) = (stop2.clone(), sent2.clone());
            std::thread::spawn(move || session(s, peer, &stop3, &sent3));
        }
    });
    Server { addr, stop, sent }
}

fn session(mut s: TcpStream, peer: Peer, stop: &AtomicBool, sent: &AtomicU64) {
    let mut q = Vec::new();
    let mut b = [0u8; 64];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while !q.ends_with(b"\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => q.extend_from_slice(&b[..n]),
        }
    }
    let count = |n: usize| {
        sent.fetch_add(n as u64, Ordering::Relaxed);
    };
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    match peer {
        Peer::Reply(r) => {
            let r = fill(r, &q);
            if s.write_all(&r).is_ok() {
                count(r.len());
            }
        }
        Peer::Stall => {
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(0) = s.read(&mut b) {
                    return;
                }
            }
        }
        Peer::Trickle => {
            for byte in fill(b"{C} , {S} : USERID : UNIX : alice", &q) {
                if stop.load(Ordering::Relaxed) || s.write_all(&[byte]).is_err() {
                    return;
                }
                count(1);
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        Peer::Flood | Peer::FloodLines => {
            let chunk: Vec<u8> = if matches!(peer, Peer::Flood) {
                vec![b'x'; 65536]
            } else {
                b"garbage\r\n".repeat(7000)
            };
            let t = Instant::now();
            while !stop.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(30) {
                match s.write(&chunk) {
                    Ok(n) => count(n),
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return,
                }
            }
        }
    }
}

struct Case {
    name: &'static str,
    peer: Peer,
    /// The user the engine must see (None: unknown).
    user: Option<Vec<u8>>,
    /// The server makes the client wait for the time-out.
    waits: bool,
}

fn cases(touch: &str) -> Vec<Case> {
    let leak = |s: String| -> &'static [u8] { Box::leak(s.into_bytes().into_boxed_slice()) };
    let hostile_user = format!("al;ice$({touch})`{touch}`|x");
    let reply = |user: &str| leak(format!("{{C}} , {{S}} : USERID : UNIX : {user}\r\n"));
    let case = |name, peer, user: Option<&[u8]>| Case {
        name,
        peer,
        user: user.map(<[u8]>::to_vec),
        waits: matches!(peer, Peer::Stall | Peer::Trickle),
    };
    vec![
        case(
            "plain",
            Peer::Reply(b"{C} , {S} : USERID : UNIX : alice\r\n"),
            Some(b"alice"),
        ),
        case("stall", Peer::Stall, None),
        case("trickle", Peer::Trickle, None),
        case("flood", Peer::Flood, None),
        case("flood-lines", Peer::FloodLines, None),
        case(
            "ports-swapped",
            Peer::Reply(b"{S} , {C} : USERID : UNIX : root\r\n"),
            None,
        ),
        case(
            "ports-other",
            Peer::Reply(b"1 , 2 : USERID : UNIX : root\r\n"),
            None,
        ),
        case(
            "ports-plus-65536",
            Peer::Reply(b"{C+65536} , {S} : USERID : UNIX : root\r\n"),
            None,
        ),
        // A C string ends at the NUL (Debian's fgets and sscanf): "al".
        case(
            "nul-in-user",
            Peer::Reply(b"{C} , {S} : USERID : UNIX : al\0ice\r\n"),
            Some(b"al"),
        ),
        case(
            "nul-first",
            Peer::Reply(b"\0{C} , {S} : USERID : UNIX : root\r\n"),
            None,
        ),
        case(
            "nul-in-ports",
            Peer::Reply(b"{C}\0 , {S} : USERID : UNIX : root\r\n"),
            None,
        ),
        case(
            "no-newline-then-close",
            Peer::Reply(b"{C} , {S} : USERID : UNIX : root"),
            None,
        ),
        // Cut to 127 bytes (the original's STRING_LENGTH).
        case(
            "shell-metacharacters",
            Peer::Reply(reply(&hostile_user)),
            Some(&hostile_user.as_bytes()[..hostile_user.len().min(127)]),
        ),
        case(
            "control-bytes",
            Peer::Reply(b"{C} , {S} : USERID : UNIX : a\x1b[2J\x7f\xff\x01b\r\n"),
            Some(b"a\x1b[2J\x7f\xff\x01b"),
        ),
        case(
            "300-byte-user",
            Peer::Reply(reply(&"u".repeat(300))),
            Some(&[b'u'; 127]),
        ),
        // 2000 bytes before the newline: the first 511 parse as a reply
        // without one (Debian's fgets into 512 bytes; tests/tcpd/scenarios/
        // ident-long-line-no-newline).
        case(
            "2000-byte-line",
            Peer::Reply(reply(&"x".repeat(2000))),
            Some(&[b'x'; 127]),
        ),
    ]
}

/// `u=%u c=%c` as the spawn must write it for a client at `addr`.
fn expected_line(addr: &str, user: &Option<Vec<u8>>) -> String {
    let line = match user {
        Some(u) => {
            let u = filtered(u);
            [
                b"u=".as_slice(),
                &u,
                b" c=",
                &u,
                b"@",
                addr.as_bytes(),
                b"\n",
            ]
            .concat()
        }
        None => format!("u=unknown c={addr}\n").into_bytes(),
    };
    String::from_utf8_lossy(&line).into_owned()
}

fn tables(out: &Path) -> (String, String) {
    (
        format!(
            "ALL: KNOWN@ALL: spawn echo u=%u c=%c > {}/%d.allow\n",
            out.display()
        ),
        format!(
            "ALL: ALL: spawn echo u=%u c=%c > {}/%d.deny\n",
            out.display()
        ),
    )
}

fn stray_files(dir: &Path, expected: &[String]) -> Vec<String> {
    let mut stray: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !expected.contains(n))
        .collect();
    stray.sort();
    stray
}

#[test]
fn hostile_ident_servers_are_bounded_and_never_injected() {
    const TEST: &str = "hostile_ident_servers_are_bounded_and_never_injected";
    let Some(ns) = hostile::namespace(TEST, |_| b"127.0.0.1\tlocalhost\n".to_vec()) else {
        return;
    };
    if hostile::measurer().is_none() {
        return;
    }
    let debian = Path::new(DEBIAN_TCPD).exists();
    if !debian {
        hostile::unavailable("Debian's tcpd is not installed (package tcpd)");
    }
    let dir = ns.dir.as_path();
    let touch = format!("touch${{IFS}}{}/pwned", dir.display());
    let cases = cases(&touch);
    let addrs: Vec<Ipv4Addr> = (0..cases.len())
        .map(|i| Ipv4Addr::new(10, 68, 0, i as u8 + 1))
        .collect();
    hostile::add_addresses(&addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    let servers: Vec<Server> = cases
        .iter()
        .zip(&addrs)
        .map(|(c, a)| serve(*a, c.peer))
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let mut report = Vec::new();

    // 1. Checker, one case after the other.
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let (allow_text, deny_text) = tables(&out);
    let allow = dir.join("hosts.allow");
    let deny = dir.join("hosts.deny");
    std::fs::write(&allow, &allow_text).unwrap();
    std::fs::write(&deny, &deny_text).unwrap();
    let checker = Checker::new(allow.to_str().unwrap(), deny.to_str().unwrap());
    // Descriptors before the checks: the servers' and ours; afterwards at
    // most one more may remain, the process-wide table watcher's inotify
    // descriptor. The memory baseline is taken after the first case.
    let fds0 = hostile::fd_count();
    let list0 = hostile::fd_list();
    let mut hwm0 = 0;
    let mut files = Vec::new();
    for ((case, addr), srv) in cases.iter().zip(&addrs).zip(&servers) {
        let (client, accepted) = hostile::connect_from(&listener, IpAddr::V4(*addr));
        let peer = client.local_addr().unwrap();
        let mut req = Request::for_connection(case.name.as_bytes(), peer, Some(server_addr));
        let settings = Settings {
            rfc931_timeout: CHECKER_TIMEOUT as u32,
            ..Settings::default()
        };
        let t = Instant::now();
        let v = checker.check(&mut req, settings, &mut SystemExecutor::new());
        let took = t.elapsed().as_secs_f64();
        drop((client, accepted));
        let timeout = CHECKER_TIMEOUT as f64;
        if case.waits {
            assert!(
                took >= timeout - 0.1 && took < timeout + SLACK,
                "{}: the check took {took:.3} s",
                case.name
            );
        } else {
            assert!(took < SLACK, "{}: the check took {took:.3} s", case.name);
        }
        assert_eq!(v.granted(), case.user.is_some(), "{}: {v:?}", case.name);
        let file = format!(
            "{}.{}",
            case.name,
            if v.granted() { "allow" } else { "deny" }
        );
        let got = std::fs::read(out.join(&file))
            .unwrap_or_else(|e| panic!("{}: no {file}: {e}", case.name));
        assert_eq!(
            String::from_utf8_lossy(&got),
            expected_line(&addr.to_string(), &case.user),
            "{}",
            case.name
        );
        files.push(file);
        if hwm0 == 0 {
            hwm0 = hostile::reset_hwm();
        }
        report.push(format!(
            "{:22} Checker {:7} in {took:6.3} s (server sent {} bytes)",
            case.name,
            if v.granted() { "granted" } else { "denied" },
            srv.sent.load(Ordering::Relaxed)
        ));
    }
    drop(checker);
    let stray = stray_files(&out, &files);
    assert!(stray.is_empty(), "unexpected files: {stray:?}");
    // The floods sent megabytes; the client read at most a 511-byte line.
    let hwm = hostile::hwm_kib();
    report.push(format!(
        "Checker: peak RSS of the test process {hwm0} -> {hwm} KiB"
    ));
    assert!(
        hwm < hwm0 + CHECKER_GROWTH_KIB,
        "peak RSS grew from {hwm0} to {hwm} KiB"
    );
    // Every ident connection of the checks is closed (the servers' threads
    // may still be winding down: give them a moment).
    assert!(
        hostile::wait_until(Duration::from_secs(5), || hostile::fd_count() <= fds0 + 1),
        "descriptors {fds0} -> {}: {list0:?} -> {:?}",
        hostile::fd_count(),
        hostile::fd_list()
    );

    // 2. tcpd, ours and Debian's, every case at once.
    let tout = dir.join("tcpd-out");
    std::fs::create_dir(&tout).unwrap();
    let (allow_text, deny_text) = tables(&tout);
    std::fs::write("/etc/hosts.allow", &allow_text).unwrap();
    std::fs::write("/etc/hosts.deny", &deny_text).unwrap();
    let mut tcpds = vec![("ours", TCPD)];
    if debian {
        tcpds.push(("debian", DEBIAN_TCPD));
    }
    let mut runs = Vec::new();
    for (case, addr) in cases.iter().zip(&addrs) {
        for (who, tcpd) in &tcpds {
            runs.push(hostile::start_tcpd(
                Path::new(tcpd),
                dir,
                &format!("{who}-{}", case.name),
                &listener,
                IpAddr::V4(*addr),
                Duration::from_secs(60),
            ));
        }
    }
    let results: Vec<hostile::TcpdResult> = runs.into_iter().map(|r| r.finish()).collect();
    let mut tcpd_files = Vec::new();
    for (case, addr) in cases.iter().zip(&addrs) {
        let granted = case.user.is_some();
        let mut seen_by = Vec::new();
        for (who, _) in &tcpds {
            let name = format!("{who}-{}", case.name);
            let r = results.iter().find(|r| r.name == name).unwrap();
            assert_eq!(
                r.granted(),
                granted,
                "{name}: received {:?}",
                String::from_utf8_lossy(&r.received)
            );
            let least = if case.waits { TCPD_TIMEOUT } else { 0.0 }
                + if granted { 0.0 } else { REFUSAL_SLEEP };
            assert!(
                r.m.secs >= least - 0.1 && r.m.secs < least + SLACK,
                "{name}: {:.3} s",
                r.m.secs
            );
            assert!(
                r.m.peak_kib < TCPD_PEAK_KIB,
                "{name}: peak RSS {} KiB",
                r.m.peak_kib
            );
            let file = format!("{name}.{}", if granted { "allow" } else { "deny" });
            let got = std::fs::read(tout.join(&file))
                .unwrap_or_else(|e| panic!("{name}: no {file}: {e}"));
            assert_eq!(
                String::from_utf8_lossy(&got),
                expected_line(&addr.to_string(), &case.user),
                "{name}"
            );
            tcpd_files.push(file);
            let records = ns.records(&name);
            let verdict = if granted {
                "connect from "
            } else {
                "refused connect from "
            };
            assert!(
                records
                    .last()
                    .is_some_and(|l| l.contains(&format!("DAEMON[PID]: {verdict}"))),
                "{name}: {records:?}"
            );
            report.push(format!(
                "{name:29} tcpd {} in {:6.3} s, peak RSS {} KiB",
                if granted { "granted" } else { "refused" },
                r.m.secs,
                r.m.peak_kib
            ));
            seen_by.push((
                String::from_utf8_lossy(&r.received).into_owned(),
                String::from_utf8_lossy(&got).into_owned(),
                records,
            ));
        }
        if let [ours, deb] = &seen_by[..] {
            assert_eq!(
                ours, deb,
                "{}: our tcpd and Debian's differ (client bytes, spawn output, syslog)",
                case.name
            );
        }
    }
    let stray = stray_files(&tout, &tcpd_files);
    assert!(stray.is_empty(), "unexpected files: {stray:?}");
    assert!(!dir.join("pwned").exists(), "an injected command ran");
    drop(servers);
    eprintln!("{}", report.join("\n"));
}
