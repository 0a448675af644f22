//! The C shim of crates/libwrap (data symbols, variadic request_init and
//! request_set, setjmp guards), built as crates/libwrap/build.rs builds it,
//! linked whole into the program instead of into a shared object.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let lib = format!("{dir}/../../crates/libwrap");
    println!("cargo:rerun-if-changed={lib}/c/shim.c");
    println!("cargo:rerun-if-changed={lib}/include/tcpd.h");
    cc::Build::new()
        .file(format!("{lib}/c/shim.c"))
        .include(format!("{lib}/include"))
        .flag("-fno-common")
        .warnings(true)
        .extra_warnings(true)
        .link_lib_modifier("+whole-archive")
        .compile("tcpwrap_shim_static");
}
