//! A program that defines shell_cmd, rfc931 and clean_exit, and a host-name
//! method of its own: the library's internal calls must reach them (they go
//! through the dynamic symbols, as in Debian's library).

mod common;

use common::{Header, Lib};

#[test]
fn program_definitions_take_over_internal_calls() {
    if !common::require(common::have_gcc(), "gcc") {
        return;
    }
    let dir = common::scratch("interpose");
    let prog = dir.join("interpose");
    common::compile("interpose.c", &prog, Header::Ours, Lib::Ours, &[]);
    let work = dir.join("w-ours");
    std::fs::create_dir_all(&work).unwrap();
    let o = common::run(&prog, Lib::Ours, &[work.to_str().unwrap()], &dir);
    let ours = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{ours}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for want in [
        "program shell_cmd echo spawnd from 10.0.0.1",
        "spawn -> 1",
        "program rfc931 families=2,2",
        "ident -> 1 user=alice",
        "eval_user=alice",
        "program hostname method (request client)",
        "method -> 1 name=host.custom.example",
        "program hostname method (request server)",
        "eval_hostname=host.custom.example",
        "log 4 twist 10.0.0.1 to echo twistd",
        "program clean_exit daemon=twistd",
        "log 4 refused connect from 10.0.0.9 (10.0.0.9)",
        "program clean_exit daemon=refused",
        "done",
    ] {
        assert!(
            ours.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours}"
        );
    }
    if common::require(common::have_debian(), "Debian's libwrap0-dev") {
        let work = dir.join("w-debian");
        std::fs::create_dir_all(&work).unwrap();
        let o = common::run(&prog, Lib::Debian, &[work.to_str().unwrap()], &dir);
        let theirs = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(
            theirs,
            ours,
            "Debian's library behaves otherwise:\n{}",
            common::diff(&theirs, &ours)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
