//! `try-from` (§11.1): report what TCP Wrappers finds out about the
//! connection on standard input. Run it through a super-server or a remote
//! shell (`rsh host /usr/sbin/try-from`) to see the client and server
//! addresses, the verified host names, the ident user name and the daemon
//! name exactly as `tcpd` and the library would see them.
//!
//! Like Debian's: no options (every argument is ignored), the daemon name is
//! the base name of argv[0], the eight report lines are `%` expansions of
//! fixed patterns (so the shell-safety filter applies), warnings go to
//! syslog only (facility `user`, ident = base name of argv[0], no pid), and
//! the exit status is 0.

use std::io::Write;
use std::os::unix::ffi::OsStringExt;

use tcpwrap::ident::IdentClient;
use tcpwrap::resolver::{SystemAccounts, SystemNetgroups, SystemResolver};
use tcpwrap_core::expand::{OPTION_LIMIT, expand};
use tcpwrap_core::{Ctx, Env, Offline, Request};

use crate::endpoint::sock_host;

/// The descriptor examined.
const FD: i32 = 0;

/// The report, in Debian's order: each line is `%`-expanded (`%%` prints
/// `%`).
pub const REPORT: [&[u8]; 8] = [
    b"client address  (%%a): %a",
    b"client hostname (%%n): %n",
    b"client username (%%u): %u",
    b"client info     (%%c): %c",
    b"server address  (%%A): %A",
    b"server hostname (%%N): %N",
    b"server process  (%%d): %d",
    b"server info     (%%s): %s",
];

/// The daemon name: argv[0] after its last `/`.
pub fn daemon_name(argv0: &[u8]) -> &[u8] {
    match argv0.iter().rposition(|&b| b == b'/') {
        Some(p) => &argv0[p + 1..],
        None => argv0,
    }
}

/// Seconds an over-long expansion waits before exiting (the library's
/// `percent_x` overflow; cannot happen with these patterns and 127-byte
/// fields, kept for fidelity).
const OVERFLOW_DELAY: u64 = 5;

/// Run try-from for argv[0] = `argv0` on descriptor 0; the exit status.
pub fn run(argv0: &[u8]) -> i32 {
    let mut req = Request::new();
    req.set_daemon(daemon_name(argv0));
    req.fd = FD;
    req.sock_methods = true;
    sock_host(&mut req, FD);

    let resolver = SystemResolver;
    let ident = IdentClient::default();
    let env = Env {
        resolver: &resolver,
        ident: &ident,
        netgroups: &SystemNetgroups,
        files: &Offline,
        accounts: &SystemAccounts,
    };
    let mut ctx = Ctx::new(env);
    let mut out = std::io::stdout().lock();
    for pattern in REPORT {
        let line = expand(pattern, OPTION_LIMIT, &mut req, &mut ctx);
        tcpwrap::log::to_syslog(&ctx.diagnostics);
        ctx.diagnostics.clear();
        let Ok(mut line) = line else {
            let _ = out.flush();
            std::thread::sleep(std::time::Duration::from_secs(OVERFLOW_DELAY));
            return 0;
        };
        line.push(b'\n');
        // Like puts(): output errors do not change the exit status.
        let _ = out.write_all(&line);
    }
    let _ = out.flush();
    0
}

/// The process entry point.
pub fn main() -> i32 {
    // Debian's try-from dereferences a missing argv[0]; an empty name is
    // used instead (divergence T7).
    let argv0 = std::env::args_os()
        .next()
        .map(|a| a.into_vec())
        .unwrap_or_default();
    run(&argv0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_name_is_the_base_name() {
        assert_eq!(daemon_name(b"try-from"), b"try-from");
        assert_eq!(daemon_name(b"/usr/sbin/in.telnetd"), b"in.telnetd");
        assert_eq!(daemon_name(b"dir/"), b"");
        assert_eq!(daemon_name(b"my;daemon %d"), b"my;daemon %d");
    }

    #[test]
    fn report_without_a_socket() {
        let mut req = Request::new();
        req.set_daemon(b"my;daemon %d");
        req.sock_methods = true;
        let mut ctx = Ctx::new(Env::offline());
        let lines: Vec<Vec<u8>> = REPORT
            .iter()
            .map(|p| expand(p, OPTION_LIMIT, &mut req, &mut ctx).unwrap())
            .collect();
        assert_eq!(lines[0], b"client address  (%a): unknown");
        assert_eq!(lines[3], b"client info     (%c): unknown");
        assert_eq!(lines[6], b"server process  (%d): my_daemon_%d");
        assert_eq!(lines[7], b"server info     (%s): my_daemon_%d");
        assert!(ctx.diagnostics.is_empty());
    }
}
