//! Golden tests: our `tcpdmatch` against the outputs of Debian's, captured
//! in tests/golden/ (see its README). stdout, exit status and syslog records
//! must be identical; standard error must be Debian's plus our copies of the
//! syslog records (the documented improvement).

mod common;

use common::{can_run, golden};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

fn run_case(dir: &Path) -> Result<(), String> {
    let g = golden();
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let tmp = std::env::temp_dir().join(format!(
        "tcpwrap-golden-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&tmp);
    let out = Command::new(g.join("ns-run"))
        .current_dir(dir)
        .arg("--hosts")
        .arg(g.join("hosts"))
        .arg("--netgroup")
        .arg(g.join("netgroup"))
        .arg("--syslog")
        .arg(&tmp)
        .args(["--argv0", "tcpdmatch", "--"])
        .arg(env!("CARGO_BIN_EXE_tcpdmatch"))
        .args(&args)
        .output()
        .map_err(|e| format!("ns-run: {e}"))?;
    let syslog = std::fs::read_to_string(&tmp).unwrap_or_default();
    let _ = std::fs::remove_file(&tmp);
    let want = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let mut bad = Vec::new();
    if out.stdout != want("expected.stdout") {
        bad.push(format!(
            "stdout:\n--- expected\n{}\n--- got\n{}",
            String::from_utf8_lossy(&want("expected.stdout")),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let status = format!("{}\n", out.status.code().unwrap_or(-1));
    if status.as_bytes() != want("expected.status") {
        bad.push(format!("status: got {status}"));
    }
    let want_syslog = String::from_utf8_lossy(&want("expected.syslog")).into_owned();
    if syslog != want_syslog {
        bad.push(format!(
            "syslog:\n--- expected\n{want_syslog}--- got\n{syslog}"
        ));
    }
    // Standard error: drop our copies of the syslog records.
    let records: Vec<&str> = syslog
        .lines()
        .filter_map(|l| l.split_once(" tcpdmatch: ").map(|(_, m)| m))
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut rest = String::new();
    let mut next = 0;
    for line in stderr.lines() {
        if next < records.len() && line == records[next] {
            next += 1;
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    if next != records.len() {
        bad.push(format!(
            "stderr lacks syslog records from #{next}:\n{stderr}"
        ));
    }
    if rest.as_bytes() != want("expected.stderr") {
        bad.push(format!(
            "stderr:\n--- expected\n{}--- got\n{rest}",
            String::from_utf8_lossy(&want("expected.stderr"))
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

#[test]
fn tcpdmatch_matches_debian() {
    if !can_run() {
        eprintln!("skipping: needs root and unshare");
        return;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden().join("tcpdmatch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 50, "golden corpus missing");
    let queue = Mutex::new(dirs.clone());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some(d) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(e) = run_case(&d) {
                        failures.lock().unwrap().push(format!(
                            "== {}\n{e}",
                            d.file_name().unwrap().to_string_lossy()
                        ));
                    }
                }
            });
        }
    });
    let mut f = failures.into_inner().unwrap();
    f.sort();
    assert!(
        f.is_empty(),
        "{} of {} cases differ:\n{}",
        f.len(),
        dirs.len(),
        f.join("\n")
    );
}
