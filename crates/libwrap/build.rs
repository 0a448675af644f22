//! Builds the C shim (data symbols, weak severities, the variadic
//! request_init/request_set/tcpd_warn/tcpd_jump, setjmp guards) and links
//! libwrap.so with Debian's SONAME and exactly Debian's exported symbols.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=c/shim.c");
    println!("cargo:rerun-if-changed=include/tcpd.h");
    println!("cargo:rerun-if-changed=libwrap.map");
    cc::Build::new()
        .file("c/shim.c")
        .include("include")
        .flag("-fPIC")
        .flag("-fno-common")
        .warnings(true)
        .extra_warnings(true)
        // Pulled in whole: nothing in Rust refers to the data symbols.
        .link_lib_modifier("+whole-archive")
        .compile("tcpwrap_shim");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwrap.so.0");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/libwrap.map");
    // Like Debian's library: resolve everything at load time.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,now");
}
