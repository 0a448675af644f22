//! `tcpd`: the inetd wrapper (§7). inetd runs it with the accepted
//! connection (or, for `wait` UDP services, the datagram socket) on
//! descriptor 0 and the real daemon's argv; it logs the attempt, applies
//! hosts.allow and hosts.deny with their options, and execs the daemon or
//! refuses.

use std::os::unix::ffi::OsStringExt;

use tcpwrap::exec::SystemExecutor;
use tcpwrap::sys::{self, sock, strerror, syslog};
use tcpwrap::{Checker, Revalidate, Settings};
use tcpwrap_core::{Ctx, Decision, Request, Side};

use crate::endpoint::{Transport, sock_host};

/// Where a daemon named without a path lives (Debian's `REAL_DAEMON_DIR`).
pub const REAL_DAEMON_DIR: &[u8] = b"/usr/sbin";

/// The descriptor inetd hands over.
const FD: i32 = 0;

/// Seconds a refusal or fatal error waits before exiting, so that inetd
/// does not restart a failing `wait` service in a tight loop.
const CLEAN_EXIT_DELAY: u64 = 5;

/// The daemon to run: the path to exec and the argv to pass (argv[0]
/// replaced by its base name when it was absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
}

impl Daemon {
    /// Step 2 of §7: an absolute argv[0] is the path and its base name the
    /// daemon name; otherwise the path is `/usr/sbin/` + argv[0] and the
    /// name is argv[0] as given (it may contain `/`).
    pub fn from_argv(mut argv: Vec<Vec<u8>>) -> Option<Daemon> {
        let arg0 = argv.first()?.clone();
        let path = if arg0.first() == Some(&b'/') {
            let slash = arg0.iter().rposition(|&b| b == b'/').unwrap_or(0);
            argv[0] = arg0[slash + 1..].to_vec();
            arg0
        } else {
            [REAL_DAEMON_DIR, b"/", &arg0].concat()
        };
        Some(Daemon { path, argv })
    }

    /// The name used for matching, `%d` and the syslog ident.
    pub fn name(&self) -> &[u8] {
        &self.argv[0]
    }
}

fn log(priority: i32, message: &[u8]) {
    syslog::log(priority, message);
}

/// `clean_exit()`: discard a pending datagram, wait, exit 0.
fn clean_exit(transport: Transport) -> ! {
    if transport == Transport::Datagram {
        sock::discard_datagram(FD);
    }
    std::thread::sleep(std::time::Duration::from_secs(CLEAN_EXIT_DELAY));
    std::process::exit(0)
}

/// The scan of the original `fix_options()`: whether the option list holds
/// a loose or strict source route. Like the original, the scan starts at
/// byte 4 (the BSD layout, where the first hop address comes first).
pub fn has_source_route(opts: &[u8]) -> bool {
    const ADDR_LEN: usize = 4;
    const EOL: u8 = 0;
    const NOP: u8 = 1;
    const LSRR: u8 = 131;
    const SSRR: u8 = 137;
    let mut i = ADDR_LEN;
    while i < opts.len() {
        let opt = opts[i];
        if opt == LSRR || opt == SSRR {
            return true;
        }
        if opt == EOL {
            break;
        }
        let len = if opt == NOP {
            1
        } else {
            match opts.get(i + 1) {
                Some(&l) if l > 0 => l as usize,
                _ => break,
            }
        };
        i += len;
    }
    false
}

/// The hex dump of the `connect from … with IP options (ignored):` line.
pub fn hex_options(opts: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(opts.len() * 3);
    for b in opts {
        s.extend_from_slice(format!(" {b:02x}").as_bytes());
    }
    s
}

/// Largest option list read (the original's `BUFFER_SIZE / 3`).
const OPTBUF: usize = 512 / 3;

/// `fix_options()` (`KILL_IP_OPTIONS`): refuse source-routed IPv4
/// connections, log and clear other IP options.
fn fix_options(req: &mut Request, ctx: &mut Ctx<'_>, transport: Transport) {
    let family = match sock::sock_name(FD) {
        Ok(n) => n.family,
        Err(e) => {
            log(
                libc::LOG_ERR,
                format!("getpeername: {}", strerror(&e)).as_bytes(),
            );
            clean_exit(transport);
        }
    };
    if family != libc::AF_INET {
        return;
    }
    let Ok(opts) = sock::ip_options(FD, OPTBUF) else {
        return;
    };
    if opts.is_empty() {
        return;
    }
    if has_source_route(&opts) {
        let c = req.client_info(ctx);
        log(
            libc::LOG_WARNING,
            &[
                &b"refused connect from "[..],
                &c,
                b" with IP source routing options",
            ]
            .concat(),
        );
        sock::shutdown(FD);
        return;
    }
    let c = req.client_info(ctx);
    log(
        libc::LOG_NOTICE,
        &[
            &b"connect from "[..],
            &c,
            b" with IP options (ignored):",
            &hex_options(&opts),
        ]
        .concat(),
    );
    if let Err(e) = sock::clear_ip_options(FD) {
        log(
            libc::LOG_ERR,
            format!("setsockopt IP_OPTIONS NULL: {}", strerror(&e)).as_bytes(),
        );
        sock::shutdown(FD);
    }
}

/// `connect from %c (%a)` and friends.
fn connect_line(prefix: &[u8], req: &mut Request, ctx: &mut Ctx<'_>) -> Vec<u8> {
    let c = req.client_info(ctx);
    let a = req.addr(Side::Client, ctx).to_vec();
    [prefix, &c, b" (", &a, b")"].concat()
}

/// Run tcpd with this argv. Returns only when there is nothing to run.
pub fn run(argv: Vec<Vec<u8>>) -> i32 {
    sys::set_umask(0o022);
    let Some(daemon) = Daemon::from_argv(argv) else {
        syslog::open(b"tcpd", libc::LOG_PID, libc::LOG_DAEMON);
        log(
            libc::LOG_ERR,
            b"error: no daemon name (empty argument list)",
        );
        return 1;
    };
    syslog::open(daemon.name(), libc::LOG_PID, libc::LOG_DAEMON);

    let mut req = Request::new();
    req.set_daemon(daemon.name());
    req.fd = FD;
    req.sock_methods = true;
    let transport = sock_host(&mut req, FD);

    // One check per process: nothing to cache, so no change notification.
    let checker = Checker::system().revalidate(Revalidate::Stat);
    {
        let mut ctx = Ctx::new(checker.env());
        fix_options(&mut req, &mut ctx, transport);
        tcpwrap::log::to_syslog(&ctx.diagnostics);
    }

    let mut exec = SystemExecutor::logging();
    let verdict = checker.check(&mut req, Settings::default(), &mut exec);
    exec.log_rest(&verdict.diagnostics);
    if verdict.exit {
        clean_exit(transport);
    }
    let mut ctx = Ctx::new(checker.env());
    if verdict.decision == Decision::Deny {
        let line = connect_line(b"refused connect from ", &mut req, &mut ctx);
        tcpwrap::log::to_syslog(&ctx.diagnostics);
        log(verdict.settings.deny_severity, &line);
        clean_exit(transport);
    }
    let line = connect_line(b"connect from ", &mut req, &mut ctx);
    tcpwrap::log::to_syslog(&ctx.diagnostics);
    log(verdict.settings.allow_severity, &line);
    syslog::close();
    let e = sock::execv(&daemon.path, &daemon.argv);
    // After closelog() the C library logs with its default ident (the base
    // name of the original argv[0]), as Debian's tcpd does.
    log(
        libc::LOG_ERR,
        &[
            &b"error: cannot execute "[..],
            &daemon.path,
            b": ",
            strerror(&e).as_bytes(),
        ]
        .concat(),
    );
    clean_exit(transport)
}

/// The process entry point.
pub fn main() -> i32 {
    run(std::env::args_os().map(|a| a.into_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn daemon_path_and_name() {
        let d = Daemon::from_argv(v(&["/tmp/tw/bin/argvd", "-x", "arg two"])).unwrap();
        assert_eq!(d.path, b"/tmp/tw/bin/argvd");
        assert_eq!(d.argv, v(&["argvd", "-x", "arg two"]));
        let d = Daemon::from_argv(v(&["in.telnetd"])).unwrap();
        assert_eq!(d.path, b"/usr/sbin/in.telnetd");
        assert_eq!(d.name(), b"in.telnetd");
        let d = Daemon::from_argv(v(&["sub/prog"])).unwrap();
        assert_eq!(d.path, b"/usr/sbin/sub/prog");
        assert_eq!(d.name(), b"sub/prog");
        let d = Daemon::from_argv(v(&["/"])).unwrap();
        assert_eq!((d.path.as_slice(), d.name()), (&b"/"[..], &b""[..]));
        assert_eq!(Daemon::from_argv(Vec::new()), None);
    }

    #[test]
    fn source_routes_are_found_from_byte_four() {
        // Record Route as Linux reports it: not a source route.
        let rr = [7, 11, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0];
        assert!(!has_source_route(&rr));
        assert_eq!(
            hex_options(&rr),
            b" 07 0b 0c 7f 00 00 01 7f 00 00 01 00".to_vec()
        );
        // LSRR/SSRR after a 4-byte first-hop address (BSD layout).
        assert!(has_source_route(&[10, 0, 0, 1, 131, 7, 4, 0, 0, 0, 0]));
        assert!(has_source_route(&[10, 0, 0, 1, 1, 137, 7, 4]));
        // In the first four bytes it is missed, as in the original.
        assert!(!has_source_route(&[131, 7, 4, 0, 0, 0, 0]));
        // End of list and zero lengths stop the scan.
        assert!(!has_source_route(&[0, 0, 0, 0, 0, 131]));
        assert!(!has_source_route(&[0, 0, 0, 0, 68, 0, 131]));
        assert!(!has_source_route(&[0, 0, 0, 0, 68]));
    }
}
