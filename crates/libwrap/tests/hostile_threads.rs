//! Concurrency and leaks through libwrap.so.0 from C (issue 8, item 4b):
//! tests/c/tables_race.c runs 16 threads calling `hosts_ctl()` and
//! `hosts_access()` while a writer thread rewrites both tables (hosts.allow
//! renamed over, hosts.deny truncated and rewritten or overwritten in
//! place). The values each probe may take are computed here with the
//! engine over every state the two files pass through; the program checks
//! every verdict against them, that every thread sees the final tables
//! after the writer stops, that its descriptors are the same before and
//! after, and reports its VmRSS, which is bounded here. (Debian's library
//! is not thread-safe; this runs with ours only: docs/divergences.md L1.)

mod common;

use common::{Header, Lib};
use tcpwrap_core::{Env, NoExec, Request, Settings, Table, TableRef};

const ALLOW: [&str; 2] = [
    "sshd: 10.0.0.1\nALL: 10.2.0.0/16\nALL: 10.3.0.0/16: deny\n",
    "sshd: 10.0.0.2\nALL: 10.2.0.0/16\nALL: 10.3.0.0/16: deny\n",
];
const DENY: [&str; 2] = [
    "sshd: 10.0.0.3\nftpd: 10.7.7.7\nALL: 10.0.0.0/8\n",
    "sshd: 10.0.0.1\nftpd: 10.7.7.8\nALL: 10.0.0.0/8\n",
];
const PROBES: [(&str, &str); 7] = [
    ("sshd", "10.0.0.1"),
    ("sshd", "10.0.0.2"),
    ("sshd", "10.0.0.3"),
    ("ftpd", "10.2.3.4"),
    ("ftpd", "10.7.7.7"),
    ("telnetd", "192.0.2.1"),
    ("sshd", "10.3.0.9"),
];

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
    for (i, (a, d)) in ALLOW.iter().zip(DENY).enumerate() {
        std::fs::write(work.join(format!("allow.{i}")), a).unwrap();
        std::fs::write(work.join(format!("deny.{i}")), d).unwrap();
    }
    // States of hosts.deny: every prefix (truncate and write) and every
    // mix of one version's start and the other's end (overwrite in place).
    let mut deny_states: Vec<Vec<u8>> = Vec::new();
    for (x, y) in [(DENY[0], DENY[1]), (DENY[1], DENY[0])] {
        let (x, y) = (x.as_bytes(), y.as_bytes());
        for k in 0..=x.len() {
            deny_states.push(x[..k].to_vec());
            deny_states.push([&x[..k], &y[k..]].concat());
        }
    }
    let mut args = vec![
        work.to_str().unwrap().to_string(),
        "16".into(),
        "4000".into(),
    ];
    let mut fixed = 0;
    for p in PROBES {
        let values: std::collections::BTreeSet<bool> = ALLOW
            .iter()
            .flat_map(|a| deny_states.iter().map(move |d| granted(a.as_bytes(), d, p)))
            .collect();
        let legal = match values.len() {
            1 => {
                fixed += 1;
                if values.contains(&true) { '1' } else { '0' }
            }
            _ => '*',
        };
        let fin = if granted(ALLOW[0].as_bytes(), DENY[0].as_bytes(), p) {
            '1'
        } else {
            '0'
        };
        args.push(format!("{},{},{legal},{fin}", p.0, p.1));
    }
    // Probes whose verdict no change of the tables can alter: one granted
    // by both versions of hosts.allow, one refused by its `deny` option.
    // (A hosts.deny cut in the middle of a line denies everybody else.)
    assert_eq!(fixed, 2, "{args:?}");
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
    assert!(out.contains("errors 0 checks 64000 "), "{out}");
    // "rss A->B": 16 threads × 4000 checks and hundreds of rewrites; a
    // leaked table or buffer per rewrite would be megabytes.
    let rss: Vec<u64> = out
        .split("rss ")
        .nth(1)
        .unwrap()
        .trim()
        .split("->")
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        rss[1] < rss[0] + 16 * 1024,
        "VmRSS {} -> {} KiB",
        rss[0],
        rss[1]
    );
    let rewrites: u64 = out
        .split("rewrites ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(rewrites >= 50, "only {rewrites} rewrites during the checks");
    let _ = std::fs::remove_dir_all(&dir);
}
