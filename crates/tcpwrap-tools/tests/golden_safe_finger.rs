//! Golden tests: our `safe_finger` against the outputs of Debian's,
//! captured in tests/golden/safe_finger/ (TOOLS.md). stdout, stderr, exit
//! status and syslog records must be byte-identical.
//!
//! The `-slow-` case waits for the 60-second time limit; it runs in its own
//! test, in parallel with the others. Outside CI, `SKIP_SLOW` skips it.

mod common;

fn cases(slow: bool) -> Vec<String> {
    common::cases("safe_finger")
        .into_iter()
        .filter(|n| n.contains("-slow-") == slow)
        .collect()
}

#[test]
fn safe_finger_matches_debian() {
    if !common::can_run() {
        eprintln!("skipping: needs root and unshare");
        return;
    }
    let cases = cases(false);
    assert!(cases.len() >= 30, "golden corpus missing");
    common::check(
        "check-safe_finger.sh",
        env!("CARGO_BIN_EXE_safe_finger"),
        &cases,
        4,
    );
}

#[test]
fn safe_finger_time_limit_matches_debian() {
    if !common::in_ci() && std::env::var_os("SKIP_SLOW").is_some_and(|v| !v.is_empty()) {
        eprintln!("skipping the 60-second case: SKIP_SLOW is set");
        return;
    }
    if !common::can_run() {
        eprintln!("skipping: needs root and unshare");
        return;
    }
    let cases = cases(true);
    assert!(!cases.is_empty(), "golden corpus missing");
    common::check(
        "check-safe_finger.sh",
        env!("CARGO_BIN_EXE_safe_finger"),
        &cases,
        1,
    );
}
