//! tests/c/api.c (every exported function, variable and RQ_* key) built
//! against our tcpd.h and Debian's, run with our library and Debian's: the
//! four outputs (results, request fields, variables, every syslog record)
//! must be identical.

mod common;

use common::{Header, Lib};

#[test]
fn api_behaves_like_debian_with_both_headers() {
    if !common::require(common::have_gcc(), "gcc")
        || !common::require(common::have_debian(), "Debian's libwrap0-dev")
    {
        return;
    }
    let dir = common::scratch("c_api");
    let mut outputs = Vec::new();
    for header in [Header::Debian, Header::Ours] {
        // Linked against the library of the header's origin; run with both.
        let link = if header == Header::Ours {
            Lib::Ours
        } else {
            Lib::Debian
        };
        let prog = dir.join(format!("api-{header:?}"));
        common::compile("api.c", &prog, header, link, &[]);
        for lib in [Lib::Debian, Lib::Ours] {
            let work = dir.join(format!("work-{header:?}-{lib:?}"));
            std::fs::create_dir_all(&work).unwrap();
            let o = common::run(&prog, lib, &[work.to_str().unwrap()], &dir);
            let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(
                o.status.success(),
                "api ({header:?} header, {lib:?} library) failed: {:?}\n{}\n{}",
                o.status,
                stdout,
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(stdout.contains("== end"), "incomplete output:\n{stdout}");
            outputs.push(((header, lib), stdout));
        }
    }
    let (base_key, base) = &outputs[0];
    assert_eq!(*base_key, (Header::Debian, Lib::Debian));
    for (key, out) in &outputs[1..] {
        assert!(
            out == base,
            "{key:?} differs from Debian's header and library:\n{}",
            common::diff(base, out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
