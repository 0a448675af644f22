//! Thread stress: many threads calling hosts_ctl, hosts_access, percent_x
//! and the eval_* functions while the tables are replaced under them. No
//! crash, no wrong verdict, no value from another thread. (Debian's library
//! is not thread-safe; this runs with ours only.)

mod common;

use common::{Header, Lib};

#[test]
fn concurrent_checks_on_changing_tables() {
    if !common::require(common::have_gcc(), "gcc") {
        return;
    }
    let dir = common::scratch("threads");
    let prog = dir.join("threads");
    common::compile("threads.c", &prog, Header::Ours, Lib::Ours, &[]);
    let work = dir.join("w");
    std::fs::create_dir_all(&work).unwrap();
    let o = common::run(
        &prog,
        Lib::Ours,
        &[work.to_str().unwrap(), "16", "3000"],
        &dir,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{:?}\n{out}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("errors 0 checks 48000"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
