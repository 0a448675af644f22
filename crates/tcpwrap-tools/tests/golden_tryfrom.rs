//! Golden tests: our `try-from` against the outputs of Debian's, captured
//! in tests/golden/try-from/ (TOOLS.md). stdout, stderr, exit status and
//! syslog records must be byte-identical.

mod common;

#[test]
fn try_from_matches_debian() {
    if !common::can_run() {
        eprintln!("skipping: needs root and unshare");
        return;
    }
    let cases = common::cases("try-from");
    assert!(cases.len() >= 34, "golden corpus missing");
    common::check(
        "check-try-from.sh",
        env!("CARGO_BIN_EXE_try-from"),
        &cases,
        4,
    );
}
