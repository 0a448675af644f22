//! Hostile ident (RFC 1413) servers (issue 8, item 3), through `Checker`
//! for a real loopback connection with the ident port pointed at a server
//! of the test: one that stalls, one that trickles a byte at a time, floods
//! that never end (with and without newlines), replies for other ports,
//! NUL bytes, shell metacharacters and over-long user names. Each case
//! asserts the decision, the `%u` expansion a real `spawn` wrote (unsafe
//! bytes replaced), that no injected command ran, and the time taken; the
//! whole test runs alone in its own process so that its peak memory and
//! descriptor count are its own, and both are checked at the end.
//!
//! tcpd under real openbsd-inetd meets stalling, lying, garbage and
//! hostile-user servers in tests/tcpd/scenarios/ident-* (compared with
//! Debian's tcpd); ident-nul-in-user there is the NUL case.

mod hostile;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hostile::{Scratch, filtered};
use tcpwrap::exec::SystemExecutor;
use tcpwrap::{Checker, Request, Settings};

/// What the fake ident server does after reading the query `C , S`.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// Send this reply (`{C}`/`{S}` = the ports) and close.
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
    port: u16,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(peer: Peer) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let (stop2, sent2) = (stop.clone(), sent.clone());
    std::thread::spawn(move || {
        for s in l.incoming() {
            if stop2.load(Ordering::Relaxed) {
                return;
            }
            let Ok(mut s) = s else { continue };
            let (stop3, sent3) = (stop2.clone(), sent2.clone());
            std::thread::spawn(move || {
                let mut q = Vec::new();
                let mut b = [0u8; 64];
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                while !q.ends_with(b"\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => q.extend_from_slice(&b[..n]),
                    }
                }
                let q = String::from_utf8_lossy(&q).into_owned();
                let (cp, sp) = q.trim_end().split_once(',').unwrap_or(("0", "0"));
                let (cp, sp) = (cp.trim().to_string(), sp.trim().to_string());
                let plus = cp
                    .parse::<u32>()
                    .map(|p| p + 65536)
                    .unwrap_or(0)
                    .to_string();
                let fill = |r: &[u8]| -> Vec<u8> {
                    let mut r = r.to_vec();
                    for (k, v) in [("{C+65536}", &plus), ("{C}", &cp), ("{S}", &sp)] {
                        while let Some(i) = r.windows(k.len()).position(|w| w == k.as_bytes()) {
                            r.splice(i..i + k.len(), v.bytes());
                        }
                    }
                    r
                };
                let count = |n: usize| {
                    sent3.fetch_add(n as u64, Ordering::Relaxed);
                };
                let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                match peer {
                    Peer::Reply(r) => {
                        let r = fill(r);
                        if s.write_all(&r).is_ok() {
                            count(r.len());
                        }
                    }
                    Peer::Stall => {
                        while !stop3.load(Ordering::Relaxed) {
                            match s.read(&mut b) {
                                Ok(0) => return,
                                _ => std::thread::sleep(Duration::from_millis(50)),
                            }
                        }
                    }
                    Peer::Trickle => {
                        let r = fill(b"{C} , {S} : USERID : UNIX : alice");
                        for byte in r {
                            if stop3.load(Ordering::Relaxed) || s.write_all(&[byte]).is_err() {
                                return;
                            }
                            count(1);
                            std::thread::sleep(Duration::from_millis(300));
                        }
                        std::thread::sleep(Duration::from_secs(5));
                    }
                    Peer::Flood | Peer::FloodLines => {
                        let chunk: Vec<u8> = if matches!(peer, Peer::Flood) {
                            vec![b'x'; 65536]
                        } else {
                            b"garbage\r\n".repeat(7000)
                        };
                        let t = Instant::now();
                        while !stop3.load(Ordering::Relaxed)
                            && t.elapsed() < Duration::from_secs(20)
                        {
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
            });
        }
    });
    Server { port, stop, sent }
}

struct Case {
    name: &'static str,
    peer: Peer,
    /// The user the engine must see (None: unknown).
    user: Option<&'static [u8]>,
    /// Longest acceptable check.
    within: Duration,
    /// Shortest (the time-out must really be waited for).
    at_least: Duration,
}

#[test]
fn hostile_ident_servers_are_bounded_and_never_injected() {
    const TEST: &str = "hostile_ident_servers_are_bounded_and_never_injected";
    if !hostile::isolated(TEST) {
        return;
    }
    let dir = Scratch::new("ident");
    let touch = format!("touch${{IFS}}{}/pwned", dir.s());
    let hostile_user: &'static [u8] = Box::leak(
        format!("{{C}} , {{S}} : USERID : UNIX : al;ice$({touch})`{touch}`|x\r\n")
            .into_bytes()
            .into_boxed_slice(),
    );
    let long_user: &'static [u8] = Box::leak(
        format!("{{C}} , {{S}} : USERID : UNIX : {}\r\n", "u".repeat(300))
            .into_bytes()
            .into_boxed_slice(),
    );
    // 2000 bytes before the newline: the first 511 parse as a reply without
    // one (Debian's fgets into 512 bytes; tests/tcpd/scenarios/
    // ident-long-line-no-newline).
    let long_line: &'static [u8] = Box::leak(
        format!("{{C}} , {{S}} : USERID : UNIX : {}\r\n", "x".repeat(2000))
            .into_bytes()
            .into_boxed_slice(),
    );
    let ms = Duration::from_millis;
    let s = Duration::from_secs;
    // rfc931 time-out of the checks: 2 seconds.
    let cases = [
        Case {
            name: "plain",
            peer: Peer::Reply(b"{C} , {S} : USERID : UNIX : alice\r\n"),
            user: Some(b"alice"),
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "stall",
            peer: Peer::Stall,
            user: None,
            within: ms(3500),
            at_least: ms(1900),
        },
        Case {
            name: "trickle",
            peer: Peer::Trickle,
            user: None,
            within: ms(3500),
            at_least: ms(1900),
        },
        Case {
            name: "flood",
            peer: Peer::Flood,
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "flood-lines",
            peer: Peer::FloodLines,
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "ports-swapped",
            peer: Peer::Reply(b"{S} , {C} : USERID : UNIX : root\r\n"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "ports-other",
            peer: Peer::Reply(b"1 , 2 : USERID : UNIX : root\r\n"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "ports-plus-65536",
            peer: Peer::Reply(b"{C+65536} , {S} : USERID : UNIX : root\r\n"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        // A C string ends at the NUL (Debian's sscanf): the user is "al".
        Case {
            name: "nul-in-user",
            peer: Peer::Reply(b"{C} , {S} : USERID : UNIX : al\0ice\r\n"),
            user: Some(b"al"),
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "nul-first",
            peer: Peer::Reply(b"\0{C} , {S} : USERID : UNIX : root\r\n"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "nul-in-ports",
            peer: Peer::Reply(b"{C}\0 , {S} : USERID : UNIX : root\r\n"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "no-newline-then-close",
            peer: Peer::Reply(b"{C} , {S} : USERID : UNIX : root"),
            user: None,
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "shell-metacharacters",
            peer: Peer::Reply(hostile_user),
            user: Some(b""),
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "control-bytes",
            peer: Peer::Reply(b"{C} , {S} : USERID : UNIX : a\x1b[2J\x7f\xff\x01b\r\n"),
            user: Some(b"a\x1b[2J\x7f\xff\x01b"),
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "300-byte-user",
            peer: Peer::Reply(long_user),
            user: Some(b""),
            within: s(1),
            at_least: ms(0),
        },
        Case {
            name: "2000-byte-line",
            peer: Peer::Reply(long_line),
            user: Some(b""),
            within: s(1),
            at_least: ms(0),
        },
    ];
    let out = dir.path("out");
    std::fs::create_dir(&out).unwrap();
    let allow = dir.write(
        "hosts.allow",
        format!(
            "ALL: KNOWN@ALL: spawn echo u=%u c=%c > {}/%d.allow\n",
            out.display()
        ),
    );
    let deny = dir.write(
        "hosts.deny",
        format!(
            "ALL: ALL: spawn echo u=%u c=%c > {}/%d.deny\n",
            out.display()
        ),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    // The baseline is taken after the first case (`plain`), when the
    // process-wide table watcher (an inotify descriptor) exists.
    let (mut fds0, mut hwm0, mut list0) = (0, 0, Vec::new());
    let mut files = Vec::new();
    let mut report = Vec::new();
    for case in &cases {
        let srv = serve(case.peer);
        let checker =
            Checker::new(allow.to_str().unwrap(), deny.to_str().unwrap()).with_ident_port(srv.port);
        let client = TcpStream::connect(server_addr).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let mut req = Request::for_connection(case.name.as_bytes(), peer, Some(server_addr));
        // The ident time-out (Debian's `rfc931_timeout`, 10 s by default).
        let settings = Settings {
            rfc931_timeout: 2,
            ..Settings::default()
        };
        let t = Instant::now();
        let v = checker.check(&mut req, settings, &mut SystemExecutor::new());
        let took = t.elapsed();
        drop((client, accepted));
        let sent = srv.sent.load(Ordering::Relaxed);
        drop(srv);
        assert!(
            took <= case.within && took >= case.at_least,
            "{}: the check took {took:?}",
            case.name
        );
        let user = case.user.map(|u| {
            if u.is_empty() {
                // Filled in below from the reply.
                Vec::new()
            } else {
                u.to_vec()
            }
        });
        let expect_user: Option<Vec<u8>> = match case.name {
            // Cut to 127 bytes (the original's STRING_LENGTH).
            "shell-metacharacters" => Some(
                format!("al;ice$({touch})`{touch}`|x").as_bytes()[..127.min(24 + 2 * touch.len())]
                    .to_vec(),
            ),
            "300-byte-user" => Some(vec![b'u'; 127]),
            "2000-byte-line" => Some(vec![b'x'; 127]),
            _ => user,
        };
        assert_eq!(v.granted(), expect_user.is_some(), "{}: {v:?}", case.name);
        let file = format!(
            "{}.{}",
            case.name,
            if v.granted() { "allow" } else { "deny" }
        );
        let got = std::fs::read(out.join(&file))
            .unwrap_or_else(|e| panic!("{}: no {file}: {e}", case.name));
        let u = expect_user
            .as_deref()
            .map(filtered)
            .unwrap_or_else(|| b"unknown".to_vec());
        let c = if expect_user.is_some() {
            [u.as_slice(), b"@127.0.0.1"].concat()
        } else {
            b"127.0.0.1".to_vec()
        };
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&[b"u=".as_slice(), &u, b" c=", &c, b"\n"].concat()),
            "{}",
            case.name
        );
        files.push(file);
        if fds0 == 0 {
            assert!(hostile::wait_until(Duration::from_secs(5), || {
                fds0 = hostile::fd_count();
                fds0 <= 8
            }));
            hwm0 = hostile::hwm_kib();
            list0 = hostile::fd_list();
        }
        report.push(format!(
            "{:22} {:7} in {:>8.3?} (server sent {sent} bytes)",
            case.name,
            if v.granted() { "granted" } else { "denied" },
            took
        ));
    }
    assert!(!dir.path("pwned").exists(), "an injected command ran");
    let mut stray: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !files.contains(n))
        .collect();
    stray.sort();
    assert!(stray.is_empty(), "unexpected files: {stray:?}");
    // The floods sent megabytes; the client read at most a 511-byte line.
    let hwm = hostile::hwm_kib();
    eprintln!("{}\npeak RSS {hwm0} -> {hwm} KiB", report.join("\n"));
    assert!(
        hwm < hwm0 + 16 * 1024,
        "peak RSS grew from {hwm0} to {hwm} KiB"
    );
    // Every ident connection closed (the servers' threads may still be
    // winding down: give them a moment).
    assert!(
        hostile::wait_until(Duration::from_secs(5), || hostile::fd_count() <= fds0),
        "descriptors {fds0} -> {}: {list0:?} -> {:?}",
        hostile::fd_count(),
        hostile::fd_list()
    );
}
