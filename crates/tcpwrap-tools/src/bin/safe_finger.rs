//! safe_finger: a finger client wrapper that passes on only harmless output.
//!
//! Started without Rust's runtime set-up (`no_main`), like tcpd: that
//! set-up would ignore SIGPIPE, and the finger client would inherit that
//! (Debian's passes its dispositions on untouched), and it would reopen
//! closed standard descriptors itself.
// Under `cargo test` the test harness provides `main` instead.
#![cfg_attr(not(test), no_main)]

// SAFETY: the C runtime calls this as `main`; no other symbol of the
// program is named `main`. Rust's standard library still works without
// its own start-up code on this platform (arguments come from glibc).
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    tcpwrap_tools::safe_finger::main()
}
