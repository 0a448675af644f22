//! Golden tests: our tcpdchk against Debian's, case by case
//! (tests/golden/tcpdchk, see tests/golden/TOOLS.md). stdout, syslog and
//! exit status must equal Debian's, except where a case holds
//! `expected.tcpwrap.*` files and a `divergence` file naming rows of
//! docs/divergences.md. Standard error must be Debian's plus every syslog
//! record (our improvement T1).

mod common;

use common::{can_run, golden};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Lines split on '\n' only (records may hold a raw CR).
fn lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    if v.last() == Some(&&b""[..]) {
        v.pop();
    }
    v
}

fn run_case(dir: &Path, divergences: &str) -> Result<(), String> {
    let out = tempdir(dir);
    let st = Command::new(golden().join("tcpdchk/run-case.sh"))
        .arg(dir)
        .arg(env!("CARGO_BIN_EXE_tcpdchk"))
        .arg(&out)
        .status()
        .map_err(|e| format!("run-case.sh: {e}"))?;
    if !st.success() {
        return Err(format!("run-case.sh failed: {st}"));
    }
    let got = |f: &str| std::fs::read(out.join(f)).unwrap_or_default();
    let mut used = Vec::new();
    let mut want = |f: &str| {
        let ours = dir.join(format!("expected.tcpwrap.{f}"));
        if ours.exists() {
            used.push(f.to_string());
            std::fs::read(ours).unwrap()
        } else {
            std::fs::read(dir.join(format!("expected.{f}"))).unwrap()
        }
    };
    let mut bad = Vec::new();
    for f in ["stdout", "syslog", "status"] {
        let (w, g) = (want(f), got(f));
        if w != g {
            bad.push(format!(
                "{f}:\n--- expected\n{}--- got\n{}",
                String::from_utf8_lossy(&w),
                String::from_utf8_lossy(&g)
            ));
        }
    }
    // stderr = Debian's stderr with our copies of the syslog records.
    let syslog = got("syslog");
    let records: Vec<&[u8]> = lines(&syslog)
        .into_iter()
        .filter_map(|l| {
            let p = l.windows(10).position(|w| w == b" tcpdchk: ")?;
            Some(&l[p + 10..])
        })
        .collect();
    let stderr = got("stderr");
    let mut rest = Vec::new();
    let mut next = 0;
    for l in lines(&stderr) {
        if next < records.len() && l == records[next] {
            next += 1;
        } else {
            rest.extend_from_slice(l);
            rest.push(b'\n');
        }
    }
    if next != records.len() {
        bad.push(format!(
            "stderr lacks syslog records from #{next}:\n{}",
            String::from_utf8_lossy(&stderr)
        ));
    }
    if rest != want("stderr") {
        bad.push(format!("stderr:\n{}", String::from_utf8_lossy(&rest)));
    }
    if !used.is_empty() {
        let keys = std::fs::read_to_string(dir.join("divergence")).unwrap_or_default();
        if keys.split_whitespace().next().is_none() {
            bad.push("expected.tcpwrap.* without a divergence file".into());
        }
        for k in keys.split_whitespace() {
            if !divergences.contains(&format!("| {k} |")) {
                bad.push(format!("divergence {k} is not in docs/divergences.md"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

fn tempdir(case: &Path) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tcpwrap-golden-tcpdchk-{}-{}",
        std::process::id(),
        case.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn tcpdchk_matches_debian() {
    if !can_run() {
        eprintln!("skipping: needs root and unshare");
        return;
    }
    let divergences = std::fs::read_to_string(golden().join("../../docs/divergences.md")).unwrap();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden().join("tcpdchk"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 100, "golden corpus missing");
    let queue = Mutex::new(dirs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some(d) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(e) = run_case(&d, &divergences) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}:\n{e}", d.display()));
                    }
                }
            });
        }
    });
    let f = failures.into_inner().unwrap();
    assert!(
        f.is_empty(),
        "{} case(s) differ:\n{}",
        f.len(),
        f.join("\n\n")
    );
}
