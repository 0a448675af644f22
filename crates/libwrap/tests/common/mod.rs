//! Shared by the libwrap integration tests: our libwrap.so.0 (built on
//! demand: cargo does not build a cdylib for integration tests), Debian's
//! library and header, and gcc.
//!
//! A test that lacks something it needs (gcc, Debian's libwrap0-dev, root
//! for namespaces, socat …) is skipped with a message, except under
//! `CI=true`, where it fails instead.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/libwrap.so.0";
pub const DEBIAN_HEADER: &str = "/usr/include/tcpd.h";

/// Whether missing prerequisites must fail the test.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Skip (return false) or, in CI, fail.
pub fn require(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(!ci(), "CI=true: {what} is required by this test");
        eprintln!("skipping: {what} is not available");
    }
    ok
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile> of this test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// A directory holding our library as libwrap.so.0 (for LD_LIBRARY_PATH)
/// and libwrap.so (for -lwrap), built first if needed.
pub fn our_lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile = profile_dir();
        let target = profile.parent().expect("target dir").to_path_buf();
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "libwrap", "--quiet"])
            .env("CARGO_TARGET_DIR", &target);
        if profile.file_name().and_then(|n| n.to_str()) == Some("release") {
            cmd.arg("--release");
        }
        let st = cmd.status().expect("cargo build -p libwrap");
        assert!(st.success(), "building libwrap.so failed");
        let so = profile.join("libwrap.so");
        assert!(so.exists(), "{} was not built", so.display());
        let dir = profile.join("libwrap-test-lib");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["libwrap.so.0", "libwrap.so"] {
            let link = dir.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&so, &link).unwrap();
        }
        dir
    })
    .clone()
}

/// Debian's library and header are installed.
pub fn have_debian() -> bool {
    Path::new(DEBIAN_LIB).exists() && Path::new(DEBIAN_HEADER).exists()
}

pub fn have_gcc() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn is_root() -> bool {
    // Effective uid from /proc, without unsafe code.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Which header a C program is compiled against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Ours,
    Debian,
}

/// Which library a program is linked against or run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lib {
    Ours,
    Debian,
}

/// A scratch directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let d = profile_dir()
        .join("libwrap-test")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compile tests/c/SRC into OUT with gcc (`-rdynamic`, so the program's
/// syslog/sleep/clean_exit/shell_cmd definitions take over the library's
/// calls), against `header` and linked with `lib`.
pub fn compile(src: &str, out: &Path, header: Header, lib: Lib, extra: &[&str]) {
    let c = manifest_dir().join("tests/c");
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-O1",
        "-g",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-U_FORTIFY_SOURCE",
        "-rdynamic",
    ]);
    cmd.arg("-I").arg(&c);
    if header == Header::Ours {
        cmd.arg("-I").arg(manifest_dir().join("include"));
    }
    cmd.arg("-o").arg(out).arg(c.join(src));
    if lib == Lib::Ours {
        cmd.arg("-L").arg(our_lib_dir());
    }
    cmd.args(["-lwrap", "-ldl", "-lpthread"]);
    cmd.args(extra);
    let o = cmd.output().expect("gcc");
    assert!(
        o.status.success(),
        "gcc {src} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Run a program with our library (LD_LIBRARY_PATH) or Debian's.
pub fn run(prog: &Path, lib: Lib, args: &[&str], cwd: &Path) -> Output {
    let mut cmd = Command::new(prog);
    cmd.args(args).current_dir(cwd).env_remove("LD_PRELOAD");
    match lib {
        Lib::Ours => cmd.env("LD_LIBRARY_PATH", our_lib_dir()),
        Lib::Debian => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    cmd.output().expect("run C program")
}

/// Line-by-line difference for assertion messages.
pub fn diff(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i).copied(), lb.get(i).copied());
        if x != y {
            out.push_str(&format!(
                "line {}:\n  debian: {x:?}\n  ours:   {y:?}\n",
                i + 1
            ));
            if out.len() > 4000 {
                break;
            }
        }
    }
    out
}
