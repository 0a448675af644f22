//! Concurrency and leaks through the Rust API (issue 8, item 4): 16
//! threads share two `Checker`s (change notification, the default, and a
//! `stat()` per check, as libwrap.so.0 and tcpd use) while a writer thread
//! keeps changing both tables, in two phases:
//!
//! 1. **rename**: both tables are only ever replaced whole, by `rename()`.
//!    Every verdict (decision, reason, deciding file and line) must be the
//!    verdict of one pair of whole versions: a grant no version gives fails.
//! 2. **in place**: hosts.allow is still renamed over, hosts.deny is
//!    truncated and rewritten, or overwritten in place with `pwrite()`.
//!    Readers can then see every state the file passes through (a prefix of
//!    a version, or one version's start followed by the other's end), as
//!    Debian's library can; every verdict must be that of such a state.
//!
//! After each phase the writer stops, the final tables are installed, and
//! every thread must see them at once (no stale cached table). Around the
//! whole run the process must have the same descriptors (/proc/self/fd),
//! the same threads (/proc/self/task) and, within a stated tolerance, the
//! same resident size (each hosts.allow version carries 8 KiB of comments,
//! so a table leaked per rewrite would show as megabytes).
//!
//! The only test of this binary: the counts are process-wide.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tcpwrap::{Checker, NoExec, Request, Revalidate, Settings, Table, TableRef, Verdict};
use tcpwrap_core::Env;

const THREADS: usize = 16;
/// Checks per thread and phase, at least: threads go on until the writer
/// has made `MIN_REWRITES` rewrites (it competes with them for 2 CPUs).
const CHECKS: usize = 12_000;
const MIN_REWRITES: usize = 300;
/// Allowed growth of VmRSS over the run, after a warm-up round with the
/// same threads (allocator arenas and thread caches already exist).
const RSS_SLACK_KIB: u64 = 4 * 1024;

/// Decision, reason, deciding file and line.
type Sig = (bool, String, Option<(Vec<u8>, u32)>);

fn sig(v: &Verdict) -> Sig {
    (
        v.granted(),
        format!("{:?}", v.reason),
        v.rule.as_ref().map(|r| (r.file.to_vec(), r.line)),
    )
}

const PROBES: [(&str, &str); 8] = [
    // Granted by hosts.allow version 0, refused by both hosts.deny.
    ("sshd", "10.0.0.1"),
    // Granted by hosts.allow version 1.
    ("sshd", "10.0.0.2"),
    // Refused by hosts.deny version 0 line 1, by line 3 of version 1.
    ("sshd", "10.0.0.3"),
    // Granted by both hosts.allow versions: always granted.
    ("ftpd", "10.2.3.4"),
    // Refused by hosts.deny version 0 line 2, by line 3 of version 1.
    ("ftpd", "10.7.7.7"),
    // No rule in any version: granted (no match).
    ("telnetd", "192.0.2.1"),
    // The `deny` option of hosts.allow: refused in every state.
    ("sshd", "10.3.0.9"),
    // Only hosts.deny's last line refuses it: a cut hosts.deny grants.
    ("sshd", "10.9.9.9"),
];

/// hosts.allow versions: the rules, then 8 KiB of comments.
fn allow_versions() -> [Vec<u8>; 2] {
    let pad: String = (0..128)
        .map(|i| format!("# padding line {i:04} ........................................\n"))
        .collect();
    ["10.0.0.1", "10.0.0.2"]
        .map(|a| format!("sshd: {a}\nALL: 10.2.0.0/16\nALL: 10.3.0.0/16: deny\n{pad}").into_bytes())
}

/// hosts.deny versions, of the same size.
const DENY: [&str; 2] = [
    "sshd: 10.0.0.3\nftpd: 10.7.7.7\nALL: 10.0.0.0/8\n",
    "sshd: 10.0.0.1\nftpd: 10.7.7.8\nALL: 10.0.0.0/8\n",
];

/// Every state an in-place rewrite of hosts.deny passes through: every
/// prefix of a version (truncate, then write) and one version's start
/// followed by the other's end (`pwrite` over it).
fn deny_states_in_place() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (x, y) in [(DENY[0], DENY[1]), (DENY[1], DENY[0])] {
        let (x, y) = (x.as_bytes(), y.as_bytes());
        for k in 0..=x.len() {
            out.push(x[..k].to_vec());
            out.push([&x[..k], &y[k..]].concat());
        }
    }
    out
}

fn engine(allow: &[u8], deny: &[u8], an: &[u8], dn: &[u8]) -> Vec<Sig> {
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

/// Per probe, the verdicts of every pair of states.
fn legal(allows: &[Vec<u8>], denies: &[Vec<u8>], an: &[u8], dn: &[u8]) -> Vec<HashSet<Sig>> {
    let mut out = vec![HashSet::new(); PROBES.len()];
    for a in allows {
        for d in denies {
            for (i, s) in engine(a, d, an, dn).into_iter().enumerate() {
                out[i].insert(s);
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Rename,
    InPlace,
}

struct Tables {
    allow: PathBuf,
    deny: PathBuf,
    versions: [Vec<u8>; 2],
}

impl Tables {
    fn replace(&self, path: &Path, data: &[u8]) {
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, data).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }

    /// Rewrite number `i` of `phase`.
    fn rewrite(&self, phase: Phase, i: usize) {
        self.replace(&self.allow, &self.versions[(i + 1) % 2]);
        let d = DENY[(i / 2 + 1) % 2].as_bytes();
        match (phase, i % 3) {
            (Phase::Rename, _) => self.replace(&self.deny, d),
            (Phase::InPlace, 2) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&self.deny)
                    .unwrap();
                f.write_all_at(d, 0).unwrap();
            }
            (Phase::InPlace, _) => std::fs::write(&self.deny, d).unwrap(),
        }
    }
}

fn fd_list() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some(format!(
                "{}->{}",
                e.file_name().to_string_lossy(),
                target.display()
            ))
        })
        .collect();
    v.sort();
    v
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct PhaseReport {
    checks: usize,
    rewrites: usize,
    /// Verdicts that no pair of whole versions gives.
    torn: usize,
    took: Duration,
}

fn run_phase(
    phase: Phase,
    (checks, min_rewrites): (usize, usize),
    tables: &Arc<Tables>,
    checkers: &[Arc<Checker>; 2],
    legal: &Arc<Vec<HashSet<Sig>>>,
    whole: &Arc<Vec<HashSet<Sig>>>,
    finals: &[Vec<Sig>; 4],
) -> PhaseReport {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, done, tables) = (stop.clone(), done.clone(), tables.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                tables.rewrite(phase, i);
                i += 1;
                done.store(i, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
            }
            i
        })
    };
    let t = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|w| {
            let (c, legal, whole) = (checkers[w % 2].clone(), legal.clone(), whole.clone());
            let done = done.clone();
            std::thread::spawn(move || {
                let (mut n, mut torn) = (0, 0);
                while n < checks || done.load(Ordering::Relaxed) < min_rewrites {
                    let i = (n + w) % PROBES.len();
                    let (dm, ad) = PROBES[i];
                    let mut r = Request::from_ctl(dm.as_bytes(), b"", ad.as_bytes(), b"");
                    let got = sig(&c.check(&mut r, Settings::default(), &mut NoExec));
                    assert!(
                        legal[i].contains(&got),
                        "{phase:?}, thread {w}: {:?} gave {got:?}, which no state of the tables gives",
                        PROBES[i]
                    );
                    torn += usize::from(!whole[i].contains(&got));
                    n += 1;
                }
                (n, torn)
            })
        })
        .collect();
    let (mut checks, mut torn) = (0, 0);
    for w in workers {
        let (n, t) = w.join().expect("a checking thread panicked");
        checks += n;
        torn += t;
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let rewrites = writer.join().expect("the writer panicked");
    // The final tables, installed by rename: both differ from the last
    // versions written (rewrite j writes allow (j + 1) % 2 and deny
    // (j / 2 + 1) % 2), so the caches must notice. Every thread sees them
    // at once.
    let j = rewrites - 1;
    let k = (1 - (j + 1) % 2) + 2 * (1 - (j / 2 + 1) % 2);
    tables.replace(&tables.allow, &tables.versions[k % 2]);
    tables.replace(&tables.deny, DENY[k / 2].as_bytes());
    let seen: Vec<_> = (0..THREADS)
        .map(|w| {
            let c = checkers[w % 2].clone();
            std::thread::spawn(move || {
                PROBES
                    .iter()
                    .map(|(dm, ad)| {
                        let mut r = Request::from_ctl(dm.as_bytes(), b"", ad.as_bytes(), b"");
                        sig(&c.check(&mut r, Settings::default(), &mut NoExec))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (w, s) in seen.into_iter().enumerate() {
        assert_eq!(
            s.join().unwrap(),
            finals[k],
            "{phase:?}: thread {w} saw stale tables after the writer stopped"
        );
    }
    PhaseReport {
        checks,
        rewrites,
        torn,
        took,
    }
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn threads_on_changing_tables_no_wrong_verdict_no_leak() {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("tcpwrap-threads-{}", std::process::id())));
    let dir = &scratch.0;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let tables = Arc::new(Tables {
        allow: dir.join("hosts.allow"),
        deny: dir.join("hosts.deny"),
        versions: allow_versions(),
    });
    std::fs::write(&tables.allow, &tables.versions[0]).unwrap();
    std::fs::write(&tables.deny, DENY[0]).unwrap();
    let (an, dn) = (
        tables.allow.as_os_str().as_bytes(),
        tables.deny.as_os_str().as_bytes(),
    );

    let deny_whole: Vec<Vec<u8>> = DENY.iter().map(|d| d.as_bytes().to_vec()).collect();
    let whole = Arc::new(legal(&tables.versions, &deny_whole, an, dn));
    let in_place = Arc::new(legal(&tables.versions, &deny_states_in_place(), an, dn));
    // Final tables k: hosts.allow version k % 2, hosts.deny version k / 2.
    let finals =
        [0, 1, 2, 3].map(|k| engine(&tables.versions[k % 2], DENY[k / 2].as_bytes(), an, dn));
    // The probes mean what their comments say: the rename phase admits a
    // grant only where a whole version grants.
    let grants = |i: usize| -> HashSet<bool> { whole[i].iter().map(|s| s.0).collect() };
    assert_eq!(grants(0), HashSet::from([true, false]));
    assert_eq!(grants(3), HashSet::from([true]));
    for i in [2, 4, 6, 7] {
        assert_eq!(grants(i), HashSet::from([false]), "{:?}", PROBES[i]);
    }
    assert!(in_place[7].iter().any(|s| s.0), "a cut hosts.deny grants");
    assert!(in_place[6].iter().all(|s| !s.0));

    let checkers = [
        Arc::new(Checker::new(an, dn)),
        Arc::new(Checker::new(an, dn).revalidate(Revalidate::Stat)),
    ];
    // Warm-up with the same threads (worker arenas, the table watcher),
    // then the baseline.
    run_phase(
        Phase::Rename,
        (500, 10),
        &tables,
        &checkers,
        &whole,
        &whole,
        &finals,
    );
    let (fds0, list0, threads0, rss0) = (fd_list().len(), fd_list(), threads(), rss_kib());

    let t = Instant::now();
    let (mut checks, mut rewrites) = (0, 0);
    for (phase, legal) in [(Phase::Rename, &whole), (Phase::InPlace, &in_place)] {
        let r = run_phase(
            phase,
            (CHECKS, MIN_REWRITES),
            &tables,
            &checkers,
            legal,
            &whole,
            &finals,
        );
        eprintln!(
            "{phase:?}: {THREADS} threads, {} checks in {:?} during {} rewrites of both tables; \
             {} verdicts of a state between two versions",
            r.checks, r.took, r.rewrites, r.torn
        );
        assert!(r.checks >= THREADS * CHECKS && r.rewrites >= MIN_REWRITES);
        if phase == Phase::Rename {
            assert_eq!(r.torn, 0);
        }
        checks += r.checks;
        rewrites += r.rewrites;
    }
    let took = t.elapsed();

    // Threads that have been joined may still be listed for a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads() > threads0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (fds, threads1, rss) = (fd_list().len(), threads(), rss_kib());
    eprintln!(
        "total: {checks} checks, {rewrites} rewrites in {took:?}; descriptors {fds0} -> {fds}, \
         threads {threads0} -> {threads1}, VmRSS {rss0} -> {rss} KiB"
    );
    assert_eq!(fds, fds0, "descriptors: {list0:?} -> {:?}", fd_list());
    assert_eq!(threads1, threads0, "threads left running");
    assert!(
        rss <= rss0 + RSS_SLACK_KIB,
        "VmRSS {rss0} -> {rss} KiB (more than {RSS_SLACK_KIB} KiB)"
    );
}
