//! What a user of `tcpwrap` pays per access check, on the tables and
//! requests of `benches/data/cases.tsv` (the ones the Debian harness in
//! `benches/debian` times through libwrap's `hosts_ctl`).
//!
//! Groups (see docs/benchmarks.md):
//!
//! * `warm/<case>`: `Checker::check` with `Request::from_ctl` (the
//!   `hosts_ctl` equivalent), `NoExec`, `Settings::default()`, tables already
//!   cached. Each check still re-validates the table files against the
//!   cache (file-system calls on every check).
//! * `cold/<case>`: the first check after a table changed. `fresh-checker`:
//!   a new `Checker` (empty cache) per check, so the check opens, reads and
//!   compiles both files. `touched`: one long-lived `Checker` whose
//!   `hosts.deny` gets a new mtime before every check (untimed): the check
//!   re-reads the file and finds the same text, so the cached table is
//!   continued instead of compiled again. `changed`: the same, but a digit
//!   of the first rule changes before every check (untimed), so the check
//!   re-reads and compiles the whole file and replaces the cached table.
//! * `warm-breakdown/<case>/{load,check-compiled}`: a warm check split into
//!   the cache hit (`TableCache::load` of both files) and the decision on
//!   the compiled tables; `syscalls/*`: open + fstat + close of one file
//!   versus a path `stat`.
//! * `cold-breakdown/big/<step>`: the steps of a cold `big` check timed
//!   separately: reading the file, line assembly (`LineReader`),
//!   `Table::compile` (from borrowed text), `Table::compile_owned` (what the
//!   table cache runs: the table keeps the file's bytes), the first check
//!   on a newly compiled table, and dropping a compiled table.
//!
//! Nothing here asserts a time. Before timing, every case's verdict and
//! rule are checked against `cases.tsv`.

use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use tcpwrap::cache::{Loaded, TableCache};
use tcpwrap::{Checker, Env, NoExec, Settings, Table, TableRef};
use tcpwrap_bench::{Case, data_dir, load_cases, rule_text};
use tcpwrap_core::reader::LineReader;

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

fn checker(data: &Path, c: &Case) -> Checker {
    Checker::new(bytes(&c.allow(data)), bytes(&c.deny(data)))
}

/// Panics unless the checker gives the case's expected verdict and rule.
fn verify(chk: &Checker, c: &Case) {
    let v = chk.check(&mut c.request(), Settings::default(), &mut NoExec);
    assert_eq!(v.decision, c.expect, "case {}: verdict", c.name);
    assert_eq!(rule_text(&v), c.rule, "case {}: rule", c.name);
}

struct Data {
    dir: PathBuf,
    cases: Vec<Case>,
}

impl Data {
    fn load() -> Data {
        let dir = data_dir().unwrap_or_else(|e| panic!("benchmark data: {e}"));
        let cases = load_cases(&dir).unwrap_or_else(|e| panic!("benchmark data: {e}"));
        for c in &cases {
            verify(&checker(&dir, c), c);
        }
        Data { dir, cases }
    }

    fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("cases.tsv has no case {name}"))
    }
}

/// Warm cache: the steady state of a long-running server.
fn warm(c: &mut Criterion) {
    let data = Data::load();
    let mut g = c.benchmark_group("warm");
    for case in &data.cases {
        let chk = checker(&data.dir, case);
        verify(&chk, case);
        g.bench_function(&case.name, |b| {
            b.iter(|| {
                let mut req = case.request();
                chk.check(&mut req, Settings::default(), &mut NoExec)
            })
        });
    }
    g.finish();
}

/// The first check after a table file changed.
fn cold(c: &mut Criterion) {
    let data = Data::load();
    let mut g = c.benchmark_group("cold");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    for case in &data.cases {
        g.bench_function(format!("{}/fresh-checker", case.name), |b| {
            b.iter_batched(
                || checker(&data.dir, case),
                |chk| {
                    let v = chk.check(&mut case.request(), Settings::default(), &mut NoExec);
                    // Dropped outside the timing: a fresh process or cache
                    // has no old table to free.
                    (chk, v)
                },
                BatchSize::PerIteration,
            )
        });
    }

    // Same Checker throughout; a copy of the big tables gets a new mtime
    // (and so a new ctime) before every timed check.
    let big = data.case("big");
    let tmp = std::env::temp_dir().join(format!("tcpwrap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let (allow, deny) = (tmp.join("allow"), tmp.join("deny"));
    std::fs::copy(big.allow(&data.dir), &allow).expect("copy hosts.allow");
    std::fs::copy(big.deny(&data.dir), &deny).expect("copy hosts.deny");
    let chk = Checker::new(bytes(&allow), bytes(&deny));
    verify(&chk, big);
    let file = std::fs::File::options()
        .write(true)
        .open(&deny)
        .expect("open deny");
    let mut t = SystemTime::now();
    g.bench_function("big/touched", |b| {
        b.iter_batched(
            || {
                t += Duration::from_secs(1);
                file.set_modified(t).expect("set mtime");
            },
            |()| chk.check(&mut big.request(), Settings::default(), &mut NoExec),
            BatchSize::PerIteration,
        )
    });

    // Same Checker; a digit of the first rule of the copy changes before
    // every check (between two addresses that the request does not have),
    // so the whole file is compiled again.
    let text = std::fs::read(&deny).expect("read deny");
    // The last digit of the first rule's address: flipping its lowest bit
    // gives another canonical address.
    let digit = text
        .iter()
        .position(|&b| b == b'\n')
        .and_then(|nl| nl.checked_sub(1))
        .filter(|&i| text[i].is_ascii_digit())
        .expect("a digit at the end of the first rule");
    let mut flip = false;
    g.bench_function("big/changed", |b| {
        b.iter_batched(
            || {
                flip = !flip;
                let d = if flip { text[digit] ^ 1 } else { text[digit] };
                file.write_all_at(&[d], digit as u64)
                    .expect("change a digit");
            },
            |()| chk.check(&mut big.request(), Settings::default(), &mut NoExec),
            BatchSize::PerIteration,
        )
    });
    g.finish();
    drop(file);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Where the time of a warm check goes: the cache hit (`TableCache::load`
/// of both files: identity check + map look-up each) and the decision on
/// the compiled tables (no file system).
fn warm_breakdown(c: &mut Criterion) {
    let data = Data::load();
    let mut g = c.benchmark_group("warm-breakdown");
    for case in &data.cases {
        let (allow_p, deny_p) = (case.allow(&data.dir), case.deny(&data.dir));
        let cache = TableCache::new();
        let (a, d) = (cache.load(bytes(&allow_p)), cache.load(bytes(&deny_p)));
        let (Loaded::Table(allow), Loaded::Table(deny)) = (a, d) else {
            panic!("case {}: tables not loaded", case.name);
        };
        g.bench_function(format!("{}/load", case.name), |b| {
            b.iter(|| (cache.load(bytes(&allow_p)), cache.load(bytes(&deny_p))))
        });
        g.bench_function(format!("{}/check-compiled", case.name), |b| {
            b.iter(|| {
                let mut req = case.request();
                tcpwrap_core::check(
                    TableRef::Compiled(&allow),
                    TableRef::Compiled(&deny),
                    &mut req,
                    Env::offline(),
                    Settings::default(),
                    &mut NoExec,
                )
            })
        });
    }
    // The price of the system calls an identity check can use, on one file:
    // open + fstat + close (identity from the descriptor) and a path stat.
    let seed_allow = data.case("seed-deny").allow(&data.dir);
    g.bench_function("syscalls/open-fstat-close", |b| {
        b.iter(|| {
            let f = std::fs::File::open(black_box(&seed_allow)).expect("open");
            f.metadata().expect("fstat")
        })
    });
    g.bench_function("syscalls/stat", |b| {
        b.iter(|| std::fs::metadata(black_box(&seed_allow)).expect("stat"))
    });
    g.finish();
}

/// Where the time of a cold `big` check goes (besides the check itself,
/// `warm-breakdown/big/check-compiled`).
fn cold_breakdown(c: &mut Criterion) {
    let data = Data::load();
    let big = data.case("big");
    let deny_p = big.deny(&data.dir);
    let deny_text = std::fs::read(&deny_p).expect("read hosts.deny");
    let deny = Table::compile(bytes(&deny_p), &deny_text);

    let mut g = c.benchmark_group("cold-breakdown");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    // open + fstat + read + close of the 1.97 MB hosts.deny (page-cached).
    g.bench_function("big/read", |b| {
        b.iter(|| std::fs::read(black_box(&deny_p)).expect("read"))
    });
    // Logical-line assembly alone (the first pass inside compile).
    g.bench_function("big/lines", |b| {
        b.iter(|| LineReader::new(black_box(&deny_text)).count())
    });
    // The whole compile, including building the address index. Each table
    // is dropped right after its own timing (as in a real reload, the
    // allocator then reuses its memory).
    g.bench_function("big/compile", |b| {
        b.iter_batched(
            || (),
            |()| Table::compile(bytes(&deny_p), black_box(&deny_text)),
            BatchSize::PerIteration,
        )
    });
    // The compile the table cache runs: the table keeps the bytes read
    // (copied untimed) as its address texts.
    g.bench_function("big/compile-owned", |b| {
        b.iter_batched(
            || deny_text.clone(),
            |d| Table::compile_owned(bytes(&deny_p), d),
            BatchSize::PerIteration,
        )
    });
    // The first check on a newly compiled table (compiled untimed): the
    // address index compares the rules one by one on its first use.
    g.bench_function("big/first-check", |b| {
        b.iter_batched(
            || Table::compile_owned(bytes(&deny_p), deny_text.clone()),
            |t| {
                let mut req = big.request();
                let v = tcpwrap_core::check(
                    TableRef::Missing,
                    TableRef::Compiled(&t),
                    &mut req,
                    Env::offline(),
                    Settings::default(),
                    &mut NoExec,
                );
                (t, v)
            },
            BatchSize::PerIteration,
        )
    });
    // Freeing a compiled 100,000-rule table (paid when a changed file
    // replaces a cached table).
    g.bench_function("big/drop", |b| {
        b.iter_batched(|| deny.clone(), drop, BatchSize::PerIteration)
    });
    g.finish();
}

criterion_group!(benches, warm, cold, warm_breakdown, cold_breakdown);
criterion_main!(benches);
