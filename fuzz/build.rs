//! C parts of two targets, each linked into its own binary only:
//!
//! * `differential`: c/debian.c (runs a case in Debian's libwrap, captures
//!   its syslog calls, keeps it from exiting or changing the process) and
//!   Debian's `-lwrap` (package libwrap0-dev);
//! * `capi`: c/capi.c (syslog capture, typed variadic calls, the layout of
//!   crates/libwrap/include/tcpd.h);
//! * `inetd_conf`: c/nolog.c (a syslog() that counts and discards, for
//!   tcpdchk's warnings).
//!
//! The objects are passed to the linker of one binary each, so the
//! interposed C library functions of c/debian.c never reach the other
//! targets.

fn objects(file: &str, include: Option<&str>) -> Vec<std::path::PathBuf> {
    println!("cargo:rerun-if-changed={file}");
    let mut b = cc::Build::new();
    b.file(file)
        .warnings(true)
        .extra_warnings(true)
        .cargo_metadata(false);
    if let Some(dir) = include {
        println!("cargo:rerun-if-changed={dir}/tcpd.h");
        b.include(dir);
    }
    b.compile_intermediates()
}

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    for o in objects("c/debian.c", None) {
        println!("cargo:rustc-link-arg-bin=differential={}", o.display());
    }
    println!("cargo:rustc-link-arg-bin=differential=-lwrap");
    for o in objects(
        "c/capi.c",
        Some(&format!("{dir}/../crates/libwrap/include")),
    ) {
        println!("cargo:rustc-link-arg-bin=capi={}", o.display());
    }
    println!("cargo:rustc-link-arg-bin=capi=-ldl");
    for o in objects("c/nolog.c", None) {
        println!("cargo:rustc-link-arg-bin=inetd_conf={}", o.display());
    }
}
