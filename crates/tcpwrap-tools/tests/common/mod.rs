//! Running the golden check scripts of tests/golden/ (see TOOLS.md there)
//! with our binaries. Not every test uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The namespace runner needs root and unshare; outside CI a machine
/// without them skips, in CI it fails.
pub fn can_run() -> bool {
    let ok = Command::new("unshare")
        .args(["-m", "-n", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok && in_ci() {
        panic!("golden tests need root and unshare(1) in CI");
    }
    ok
}

/// The case directory names of `tool`'s corpus, sorted.
pub fn cases(tool: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(golden().join(tool))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() > 4 && n.as_bytes()[..3].iter().all(u8::is_ascii_digit))
        .collect();
    v.sort();
    v
}

/// Run `script BIN CASE...` in `jobs` parallel groups; panics with the
/// scripts' reports when any case fails or the harness breaks.
pub fn check(script: &str, bin: &str, cases: &[String], jobs: usize) {
    assert!(!cases.is_empty(), "no golden cases");
    let groups: Vec<Vec<String>> = (0..jobs)
        .map(|j| cases.iter().skip(j).step_by(jobs).cloned().collect())
        .filter(|g: &Vec<String>| !g.is_empty())
        .collect();
    let results: Vec<(bool, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .map(|g| {
                s.spawn(move || {
                    let mut c = Command::new(golden().join(script));
                    c.arg(bin).args(g);
                    // The caller decides about the slow cases.
                    c.env_remove("SKIP_SLOW");
                    match c.output() {
                        Ok(o) => (
                            o.status.success(),
                            format!(
                                "{}{}",
                                String::from_utf8_lossy(&o.stdout),
                                String::from_utf8_lossy(&o.stderr)
                            ),
                        ),
                        Err(e) => (false, format!("{script}: {e}")),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failed: Vec<&String> = results.iter().filter(|r| !r.0).map(|r| &r.1).collect();
    assert!(
        failed.is_empty(),
        "golden cases differ:\n{}",
        failed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
