//! Concurrency and leaks through libwrap.so.0 from C (issue 8, item 4):
//! tests/c/tables_race.c runs 16 threads calling `hosts_ctl()` and
//! `hosts_access()` while a writer thread changes both tables, first only
//! by `rename()` (every verdict must be that of a pair of whole versions),
//! then with hosts.deny truncated and rewritten or overwritten in place
//! (every verdict must be that of a state the files passed through). The
//! values each probe may take are computed here with the engine. After
//! each phase every thread must see the final tables at once; after the
//! run the program has the descriptors and threads it had after a warm-up
//! round, and its VmRSS is bounded here. (Debian's library is not
//! thread-safe: this runs with ours only, docs/divergences.md L1.)

mod common;

use std::collections::BTreeSet;

use common::{Header, Lib};
use tcpwrap_core::{Env, NoExec, Request, Settings, Table, TableRef};

const THREADS: usize = 16;
/// Checks per thread and phase, at least: threads go on until the writer
/// has made `MIN_REWRITES` rewrites (it competes with them for 2 CPUs).
const CHECKS: usize = 6000;
const MIN_REWRITES: u64 = 300;
/// Allowed growth of VmRSS after the warm-up round. Every hosts.allow
/// version carries 8 KiB of comments: a table leaked per rewrite (hundreds
/// per phase) would be megabytes.
const RSS_SLACK_KIB: u64 = 4 * 1024;

const DENY: [&str; 2] = [
    "sshd: 10.0.0.3\nftpd: 10.7.7.7\nALL: 10.0.0.0/8\n",
    "sshd: 10.0.0.1\nftpd: 10.7.7.8\nALL: 10.0.0.0/8\n",
];
const PROBES: [(&str, &str); 8] = [
    ("sshd", "10.0.0.1"),
    ("sshd", "10.0.0.2"),
    ("sshd", "10.0.0.3"),
    ("ftpd", "10.2.3.4"),
    ("ftpd", "10.7.7.7"),
    ("telnetd", "192.0.2.1"),
    ("sshd", "10.3.0.9"),
    ("sshd", "10.9.9.9"),
];

fn allow_versions() -> [String; 2] {
    let pad: String = (0..128)
        .map(|i| format!("# padding line {i:04} ........................................\n"))
        .collect();
    ["10.0.0.1", "10.0.0.2"]
        .map(|a| format!("sshd: {a}\nALL: 10.2.0.0/16\nALL: 10.3.0.0/16: deny\n{pad}"))
}

fn granted(allow: &[u8], deny: &[u8], probe: (&str, &str)) -> bool {
    let (a, d) = (
        Table::compile(b"hosts.allow", allow),
        Table::compile(b"hosts.deny", deny),
    );
    let mut r = Request::from_ctl(probe.0.as_bytes(), b"", probe.1.as_bytes(), b"");
    tcpwrap_core::check(
        TableRef::Compiled(&a),
        TableRef::Compiled(&d),
        &mut r,
        Env::offline(),
        Settings::default(),
        &mut NoExec,
    )
    .granted()
}

/// '0', '1' or '*': the values of a probe over the pairs of states.
fn legal(allows: &[String; 2], denies: &[Vec<u8>], p: (&str, &str)) -> char {
    let values: BTreeSet<bool> = allows
        .iter()
        .flat_map(|a| denies.iter().map(move |d| granted(a.as_bytes(), d, p)))
        .collect();
    match (values.contains(&false), values.contains(&true)) {
        (true, true) => '*',
        (false, true) => '1',
        _ => '0',
    }
}

/// The number after `key` in `text`.
fn field(text: &str, key: &str) -> u64 {
    text.split(key)
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {key:?} in {text}"))
}

#[test]
fn sixteen_c_threads_on_changing_tables_no_wrong_verdict_no_leak() {
    if !common::require(common::have_gcc(), "gcc") {
        return;
    }
    let dir = common::scratch("tables_race");
    let prog = dir.join("tables_race");
    common::compile("tables_race.c", &prog, Header::Ours, Lib::Ours, &[]);
    let work = dir.join("w");
    std::fs::create_dir_all(&work).unwrap();
    let allow = allow_versions();
    for (i, (a, d)) in allow.iter().zip(DENY).enumerate() {
        std::fs::write(work.join(format!("allow.{i}")), a).unwrap();
        std::fs::write(work.join(format!("deny.{i}")), d).unwrap();
    }
    let whole: Vec<Vec<u8>> = DENY.iter().map(|d| d.as_bytes().to_vec()).collect();
    // In place: every prefix (truncate and write) and every mix of one
    // version's start and the other's end (pwrite over it).
    let mut in_place: Vec<Vec<u8>> = Vec::new();
    for (x, y) in [(DENY[0], DENY[1]), (DENY[1], DENY[0])] {
        let (x, y) = (x.as_bytes(), y.as_bytes());
        for k in 0..=x.len() {
            in_place.push(x[..k].to_vec());
            in_place.push([&x[..k], &y[k..]].concat());
        }
    }
    let mut args = vec![
        work.to_str().unwrap().to_string(),
        THREADS.to_string(),
        CHECKS.to_string(),
        MIN_REWRITES.to_string(),
    ];
    let mut fixed = [0, 0];
    for p in PROBES {
        let (r, i) = (legal(&allow, &whole, p), legal(&allow, &in_place, p));
        fixed[0] += usize::from(r != '*');
        fixed[1] += usize::from(i != '*');
        let fin: String = (0..4)
            .map(|k| {
                if granted(allow[k % 2].as_bytes(), DENY[k / 2].as_bytes(), p) {
                    '1'
                } else {
                    '0'
                }
            })
            .collect();
        args.push(format!("{},{},{r},{i},{fin}", p.0, p.1));
    }
    // Renamed tables fix six probes (two change with the versions); in
    // place, a hosts.deny cut short grants everyone hosts.allow does not
    // refuse, so only the one granted and the one refused by hosts.allow
    // stay fixed.
    assert_eq!(fixed, [6, 2], "{args:?}");
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    let o = common::run(&prog, Lib::Ours, &argv, &dir);
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!(
        "{out}{}in {:?}",
        String::from_utf8_lossy(&o.stderr),
        t.elapsed()
    );
    assert!(o.status.success(), "{:?}", o.status);
    assert!(out.contains("errors 0 checks "), "{out}");
    for phase in ["phase 0 ", "phase 1 "] {
        let line = out.lines().find(|l| l.starts_with(phase)).unwrap();
        assert!(
            field(line, "checks ") >= (THREADS * CHECKS) as u64,
            "{line}"
        );
        assert!(field(line, "rewrites ") >= MIN_REWRITES, "{line}");
        if phase == "phase 0 " {
            // Verdicts outside the whole versions' values: none by rename.
            assert_eq!(field(line, "torn "), 0, "{line}");
        }
    }
    // "rss X->Y"
    let rss: Vec<u64> = out
        .split("rss ")
        .nth(1)
        .and_then(|s| s.lines().next())
        .map(|s| s.split("->").map(|n| n.trim().parse().unwrap()).collect())
        .unwrap();
    let (rss0, rss1) = (rss[0], rss[1]);
    assert!(
        rss1 <= rss0 + RSS_SLACK_KIB,
        "VmRSS {rss0} -> {rss1} KiB (more than {RSS_SLACK_KIB} KiB)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
