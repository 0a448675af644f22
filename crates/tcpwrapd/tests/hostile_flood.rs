//! tcpwrapd under a 10,000-connection flood with 20 SIGHUP reloads during
//! it, alternately of a valid and of an invalid configuration (issue 8,
//! item 4c). No limits are set, so every flood connection is accepted,
//! checked and served (an internal echo session, or a forked program).
//! Meanwhile another source must be served every time. Afterwards the
//! daemon has the descriptors it had before the flood (/proc/PID/fd), no
//! child and no zombie, and a bounded resident size; every reload was
//! logged as done or refused.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

const SEC: Duration = Duration::from_secs(1);
/// The flood takes about 7 s on a 2-CPU machine: reloads spread over it.
const RELOAD_EVERY: Duration = Duration::from_millis(300);

#[test]
fn flood_of_10000_with_20_reloads_leaks_nothing() {
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let a = format!("127.0.0.1,127.0.0.2,127.0.0.3:{pa} stream tcp nowait root internal echo\n");
    let b = format!("127.0.0.1,127.0.0.2:{pb} stream tcp nowait root /bin/uname uname -s\n");
    let c = format!("127.0.0.1:{pc} stream tcp nowait root internal echo\n");
    let dir = TempDir::new("flood-reload-conf");
    let settings = dir.write(
        "tcpwrapd.conf",
        "per-source-rate 0\nper-source-max 0\nservice-rate 0\nservice-max 0\nbacklog 1024\n",
    );
    let s = Server::start(
        "flood-reload",
        &format!("{a}{b}{c}"),
        // A spawn on every grant of the program service: the check's own
        // children must be reaped too.
        "echo: ALL\nuname: ALL: spawn echo %d %a >> @DIR@/spawned\n",
        "ALL: ALL\n",
        &["-c", path_str(&settings)],
    );
    // Warm-up: both services once (worker threads, spawn machinery).
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", pa), b"w").unwrap(),
        b"w"
    );
    let mut w = connect_from("127.0.0.1", addr("127.0.0.1", pb)).unwrap();
    assert_eq!(read_all(&mut w, 5 * SEC), b"Linux\n");
    drop(w);
    assert!(
        wait(10 * SEC, || s.children().is_empty()),
        "{:?}",
        s.children()
    );
    std::thread::sleep(Duration::from_millis(300));
    let fds0 = s.fds();
    let rss0 = s.rss_kib();

    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    // 4 × 2,450 connections to the internal service, half of them closed
    // with a reset, and 200 to the program service: 10,000.
    let flooders: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut ok = 0;
                for i in 0..2450 {
                    if let Ok(c) = connect_from("127.0.0.2", addr("127.0.0.2", pa)) {
                        ok += 1;
                        if (i + t) % 2 == 0 {
                            let _ = socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO));
                        }
                    }
                }
                eprintln!("flooder {t}: {ok} connections in {:?}", start.elapsed());
                ok
            })
        })
        .collect();
    let forked = std::thread::spawn(move || {
        let start = Instant::now();
        let mut ok = 0;
        for _ in 0..200 {
            if let Ok(mut c) = connect_from("127.0.0.2", addr("127.0.0.2", pb)) {
                let _ = c.set_read_timeout(Some(5 * SEC));
                let mut out = Vec::new();
                let _ = (&mut c).take(100).read_to_end(&mut out);
                if out == b"Linux\n" {
                    ok += 1;
                }
            }
        }
        eprintln!("program service: {ok} answers in {:?}", start.elapsed());
        ok
    });
    // Another source is served all along.
    let served = Arc::new(AtomicUsize::new(0));
    let other = {
        let (done, served) = (done.clone(), served.clone());
        std::thread::spawn(move || {
            let mut i = 0u8;
            while !done.load(Ordering::Relaxed) {
                let msg = [b'a' + i % 26; 4];
                let got = echo_from("127.0.0.3", addr("127.0.0.3", pa), &msg);
                assert_eq!(
                    got.ok().as_deref(),
                    Some(&msg[..]),
                    "other source not served"
                );
                served.fetch_add(1, Ordering::Relaxed);
                i = i.wrapping_add(1);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    // 20 reloads spread over the flood: a valid configuration (closing or
    // opening a third listener) and an invalid one, alternately; the last
    // valid one is the configuration of the start.
    for r in 0..20 {
        std::thread::sleep(RELOAD_EVERY);
        let valid = r % 2 == 0;
        let conf = match (valid, (r / 2) % 2) {
            (true, 0) => format!("{a}{b}"),
            (true, _) => format!("{a}{b}{c}"),
            (false, _) => format!("{a}{b}not a service\n"),
        };
        std::fs::write(&s.conf, conf).unwrap();
        s.signal("HUP");
        let needle = if valid { "reloaded:" } else { "reload failed" };
        s.wait_log_n(needle, r / 2 + 1, 20 * SEC);
    }
    let reloads_done = start.elapsed();
    let connected: usize = flooders.into_iter().map(|t| t.join().unwrap()).sum();
    let forked_ok = forked.join().unwrap();
    done.store(true, Ordering::Relaxed);
    other.join().expect("the other source was refused");
    let took = start.elapsed();
    eprintln!(
        "flood: {connected} + {forked_ok} connections in {took:?} (20 reloads in {reloads_done:?}), \
         other source served {} times",
        served.load(Ordering::Relaxed)
    );
    assert_eq!(connected, 9800, "flood connections refused at connect()");
    assert_eq!(forked_ok, 200, "program service answers");
    assert!(served.load(Ordering::Relaxed) >= 5);
    // The last reload was of the invalid configuration: the valid one
    // before it (with the third service) is still in force.
    assert_eq!(
        echo_from("127.0.0.1", addr("127.0.0.1", pc), b"c").unwrap(),
        b"c"
    );
    let log = s.log_text();
    assert_eq!(log.matches("reloaded:").count(), 10, "{log}");
    assert_eq!(log.matches("reload failed").count(), 10);

    // Every grant of the program service ran its spawn.
    let spawned = std::fs::read_to_string(s.dir.path("spawned")).unwrap_or_default();
    assert_eq!(spawned.lines().count(), 201, "spawn commands run");

    // Nothing left behind.
    assert!(
        wait(20 * SEC, || s.fds() <= fds0),
        "descriptors {fds0} -> {}",
        s.fds()
    );
    assert!(
        wait(10 * SEC, || s.children().is_empty()),
        "children left: {:?}",
        s.children()
    );
    assert_eq!(s.zombies(), 0);
    let rss = s.rss_kib();
    eprintln!(
        "descriptors {fds0} -> {}; VmRSS {rss0} -> {rss} KiB",
        s.fds()
    );
    // 10,000 finished sessions and 20 configurations must not stay in
    // memory: allow allocator slack and thread caches, not a per-connection
    // or per-reload leak (10,000 × 1 KiB alone would be 10 MiB).
    assert!(rss < rss0 + 24 * 1024, "VmRSS {rss0} -> {rss} KiB");
    // Still serving.
    let mut c2 = connect_from("127.0.0.1", addr("127.0.0.1", pa)).unwrap();
    c2.write_all(b"end").unwrap();
    let mut buf = [0u8; 3];
    c2.set_read_timeout(Some(5 * SEC)).unwrap();
    c2.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"end");
}

fn wait(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while !f() {
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}
