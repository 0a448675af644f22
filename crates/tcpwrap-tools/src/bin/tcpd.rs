//! tcpd: the inetd wrapper.
//!
//! Started without Rust's runtime set-up (`no_main`): that set-up would
//! ignore SIGPIPE and reopen closed standard descriptors, and both would be
//! inherited by the daemon tcpd execs. Debian's tcpd passes dispositions and
//! descriptors through untouched, and so does this one.
// Under `cargo test` the test harness provides `main` instead (otherwise
// the test binary would run tcpd itself, logging to the real /dev/log).
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
    tcpwrap_tools::tcpd::main()
}
