//! `libwrap.so.0`: Debian's TCP Wrappers library (tcp-wrappers 7.6.q-32)
//! rebuilt on the tcpwrap engine, binary compatible with Debian's
//! `libwrap0`: the same exported functions and variables (c/shim.c defines
//! the variables and the variadic functions), the same structure layout
//! (include/tcpd.h), the same decisions and syslog records.
//!
//! Differences from Debian's library are deliberate and listed in
//! docs/divergences.md ("libwrap"): concurrent calls from several threads
//! are safe, a `%` expansion that overflows denies instead of exiting the
//! program, the aclexec flag is per request, `user`/`group` really change
//! identity in real runs.
//!
//! As in Debian's library, the library's own calls of `shell_cmd`,
//! `rfc931`, `clean_exit`, `hosts_access` and `request_init`, and the host
//! methods, go through the dynamic symbols, so a program that defines one
//! of them overrides the library's use of it too.

mod abi;
pub mod api;
mod glue;
mod lock;
mod log;
mod proc;
mod sock;
