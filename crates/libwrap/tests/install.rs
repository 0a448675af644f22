//! scripts/install-libwrap.sh puts the library, its symbolic links, the
//! header and the manual pages at Debian's places under --destdir, and the
//! installed library is usable under its SONAME.

mod common;

use std::process::Command;

#[test]
fn install_script_layout() {
    let lib = common::our_lib_dir();
    let root = common::manifest_dir().join("../..");
    let dir = common::scratch("install");
    // The script installs target/release/libwrap.so: point it at this build.
    let fake_target = dir.join("target");
    std::fs::create_dir_all(fake_target.join("release")).unwrap();
    std::os::unix::fs::symlink(
        lib.join("libwrap.so"),
        fake_target.join("release/libwrap.so"),
    )
    .unwrap();
    let stage = dir.join("stage");
    let o = Command::new("bash")
        .arg(root.join("scripts/install-libwrap.sh"))
        .args([
            "--no-build",
            "--prefix",
            "/usr",
            "--libdir",
            "/usr/lib/x86_64-linux-gnu",
            "--destdir",
        ])
        .arg(&stage)
        .env("CARGO_TARGET_DIR", &fake_target)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let l = stage.join("usr/lib/x86_64-linux-gnu");
    assert!(l.join("libwrap.so.0.7.6").is_file());
    assert_eq!(
        std::fs::read_link(l.join("libwrap.so.0")).unwrap().to_str(),
        Some("libwrap.so.0.7.6")
    );
    assert_eq!(
        std::fs::read_link(l.join("libwrap.so")).unwrap().to_str(),
        Some("libwrap.so.0")
    );
    assert_eq!(
        std::fs::read(stage.join("usr/include/tcpd.h")).unwrap(),
        std::fs::read(common::manifest_dir().join("include/tcpd.h")).unwrap()
    );
    let man = stage.join("usr/share/man/man3");
    assert!(
        std::fs::read_to_string(man.join("hosts_access.3"))
            .unwrap()
            .contains(".TH HOSTS_ACCESS 3")
    );
    for alias in ["hosts_ctl.3", "request_init.3", "request_set.3"] {
        assert_eq!(
            std::fs::read_to_string(man.join(alias)).unwrap(),
            ".so man3/hosts_access.3\n"
        );
    }
    // A program linked against the installed files runs with them.
    if common::require(common::have_gcc(), "gcc") {
        let prog = dir.join("layout");
        let o = Command::new("gcc")
            .arg("-I")
            .arg(stage.join("usr/include"))
            .arg("-o")
            .arg(&prog)
            .arg(common::manifest_dir().join("tests/c/layout.c"))
            .arg("-L")
            .arg(&l)
            .arg("-lwrap")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = Command::new(&prog)
            .env("LD_LIBRARY_PATH", &l)
            .output()
            .unwrap();
        assert!(o.status.success());
        assert!(String::from_utf8_lossy(&o.stdout).contains("request_info 872 8"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
