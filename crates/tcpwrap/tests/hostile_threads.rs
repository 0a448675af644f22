//! Concurrency and leaks through the Rust API (issue 8, item 4a): 16
//! threads share one `Checker` while another thread rewrites both tables
//! (hosts.allow renamed over, hosts.deny truncated and rewritten or
//! overwritten in place). Every verdict must be the verdict of a state the
//! two files really had (computed for every such state with the engine);
//! when the writer stops, every thread sees the final tables; no thread
//! panics; the process has the same descriptors at the end as after the
//! first check, and its memory does not grow with the number of rewrites.
//! Runs alone in its own process (descriptor and memory counts are
//! process-wide).

#[path = "../../tcpwrap-tools/tests/hostile/mod.rs"]
mod hostile;

use std::collections::HashSet;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tcpwrap::{Checker, NoExec, Request, Settings, Table, Verdict};
use tcpwrap_core::{Env, TableRef};

/// Decision, reason, deciding file and line.
type Sig = (bool, String, Option<(Vec<u8>, u32)>);

fn sig(v: &Verdict) -> Sig {
    (
        v.granted(),
        format!("{:?}", v.reason),
        v.rule.as_ref().map(|r| (r.file.to_vec(), r.line)),
    )
}

const PROBES: [(&str, &str); 6] = [
    ("sshd", "10.0.0.1"),
    ("sshd", "10.0.0.2"),
    ("sshd", "10.0.0.3"),
    ("ftpd", "10.2.3.4"),
    ("ftpd", "10.7.7.7"),
    ("telnetd", "192.0.2.1"),
];

// Versions of the same size per table.
const ALLOW: [&str; 2] = [
    "sshd: 10.0.0.1\nALL: 10.2.0.0/16\n",
    "sshd: 10.0.0.2\nALL: 10.2.0.0/16\n",
];
const DENY: [&str; 2] = [
    "sshd: 10.0.0.3\nftpd: 10.7.7.7\nALL: 10.0.0.0/8\n",
    "sshd: 10.0.0.1\nftpd: 10.7.7.8\nALL: 10.0.0.0/8\n",
];

fn check_states(allow: &[u8], deny: &[u8], an: &[u8], dn: &[u8]) -> Vec<Sig> {
    let (a, d) = (Table::compile(an, allow), Table::compile(dn, deny));
    PROBES
        .iter()
        .map(|(dm, ad)| {
            let mut r = Request::from_ctl(dm.as_bytes(), b"", ad.as_bytes(), b"");
            sig(&tcpwrap_core::check(
                TableRef::Compiled(&a),
                TableRef::Compiled(&d),
                &mut r,
                Env::offline(),
                Settings::default(),
                &mut NoExec,
            ))
        })
        .collect()
}

#[test]
fn sixteen_threads_on_changing_tables_no_wrong_verdict_no_leak() {
    const TEST: &str = "sixteen_threads_on_changing_tables_no_wrong_verdict_no_leak";
    if !hostile::isolated(TEST) {
        return;
    }
    let dir = hostile::Scratch::new("threads");
    let allow = dir.write("hosts.allow", ALLOW[0]);
    let deny = dir.write("hosts.deny", DENY[0]);
    let (an, dn) = (allow.to_str().unwrap(), deny.to_str().unwrap());
    // Every state the files pass through: hosts.allow is replaced by
    // rename (only whole versions); hosts.deny is truncated and written
    // (every prefix of a version) or overwritten in place (a prefix of one
    // version followed by the rest of the other).
    let mut deny_states: Vec<Vec<u8>> = Vec::new();
    for (x, y) in [(DENY[0], DENY[1]), (DENY[1], DENY[0])] {
        let (x, y) = (x.as_bytes(), y.as_bytes());
        for k in 0..=x.len() {
            deny_states.push(x[..k].to_vec());
            deny_states.push([&x[..k], &y[k..]].concat());
        }
    }
    let mut legal: Vec<HashSet<Sig>> = vec![HashSet::new(); PROBES.len()];
    for a in ALLOW {
        for d in &deny_states {
            for (i, s) in check_states(a.as_bytes(), d, an.as_bytes(), dn.as_bytes())
                .into_iter()
                .enumerate()
            {
                legal[i].insert(s);
            }
        }
    }
    let checker = Arc::new(Checker::new(an, dn));
    let decide = |c: &Checker, i: usize| {
        let (dm, ad) = PROBES[i];
        let mut r = Request::from_ctl(dm.as_bytes(), b"", ad.as_bytes(), b"");
        sig(&c.check(&mut r, Settings::default(), &mut NoExec))
    };
    // Baseline after a first check (the table watcher exists).
    for i in 0..PROBES.len() {
        decide(&checker, i);
    }
    let fds0 = hostile::fd_count();
    let list0 = hostile::fd_list();
    let rss0 = hostile::status_kib("self", "VmRSS");

    let stop = Arc::new(AtomicBool::new(false));
    let rewrites = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, rewrites) = (stop.clone(), rewrites.clone());
        let (allow, deny) = (allow.clone(), deny.clone());
        std::thread::spawn(move || {
            let mut i = 0usize;
            let tmp = allow.with_extension("new");
            while !stop.load(Ordering::Relaxed) {
                std::fs::write(&tmp, ALLOW[(i + 1) % 2]).unwrap();
                std::fs::rename(&tmp, &allow).unwrap();
                let d = DENY[(i + 1) % 2].as_bytes();
                if i % 3 == 2 {
                    let f = std::fs::OpenOptions::new().write(true).open(&deny).unwrap();
                    f.write_all_at(d, 0).unwrap();
                } else {
                    std::fs::write(&deny, d).unwrap();
                }
                i += 1;
                rewrites.store(i, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
            }
            i
        })
    };
    const CHECKS: usize = 20_000;
    let t = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let (c, legal) = (checker.clone(), legal.clone());
            std::thread::spawn(move || {
                let mut unusual = 0usize;
                for n in 0..CHECKS {
                    let i = (n + w) % PROBES.len();
                    let got = decide(&c, i);
                    assert!(
                        legal[i].contains(&got),
                        "thread {w}: {:?} gave {got:?}, which no state of the tables gives",
                        PROBES[i]
                    );
                    if got.1 == "DenyTableError" {
                        unusual += 1;
                    }
                }
                unusual
            })
        })
        .collect();
    let mut cut = 0;
    for w in workers {
        cut += w.join().expect("a worker thread panicked");
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let n = writer.join().expect("the writer panicked");
    // The last versions written are what every thread sees next.
    let last = n.saturating_sub(1);
    let want = check_states(
        ALLOW[(last + 1) % 2].as_bytes(),
        DENY[(last + 1) % 2].as_bytes(),
        an.as_bytes(),
        dn.as_bytes(),
    );
    let finals: Vec<_> = (0..16)
        .map(|_| {
            let c = checker.clone();
            std::thread::spawn(move || (0..PROBES.len()).map(|i| decide(&c, i)).collect::<Vec<_>>())
        })
        .collect();
    for f in finals {
        assert_eq!(f.join().unwrap(), want, "a thread saw stale tables");
    }
    let fds = hostile::fd_count();
    let rss = hostile::status_kib("self", "VmRSS");
    eprintln!(
        "16 threads × {CHECKS} checks in {took:?} during {n} rewrites of both tables \
         ({cut} verdicts from a half-written hosts.deny); descriptors {fds0} -> {fds}; \
         VmRSS {rss0} -> {rss} KiB"
    );
    assert_eq!(
        fds,
        fds0,
        "descriptors: {list0:?} -> {:?}",
        hostile::fd_list()
    );
    // Sixteen thread stacks come and go; the tables are tiny. A leak of one
    // compiled table (or file buffer) per rewrite would show as megabytes.
    assert!(rss < rss0 + 16 * 1024, "VmRSS {rss0} -> {rss} KiB");
    assert!(n >= 100, "only {n} rewrites happened during the checks");
}
