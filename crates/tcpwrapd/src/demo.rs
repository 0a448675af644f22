//! The demo: a built-in configuration on 127.0.0.1's unprivileged ports
//! (examples/demo/ in the repository), logging to standard error, so that
//! a newcomer sees granted and refused connections within a minute.

use std::net::SocketAddr;
use std::path::Path;

use crate::daemon::Options;

pub const INETD_CONF: &[u8] = include_bytes!("../../../examples/demo/inetd.conf");
pub const HOSTS_ALLOW: &[u8] = include_bytes!("../../../examples/demo/hosts.allow");
pub const HOSTS_DENY: &[u8] = include_bytes!("../../../examples/demo/hosts.deny");

/// The demo's tables: `examples/demo/hosts.{allow,deny}` when run from the
/// repository (edit them and the next connection sees the change), else the
/// built-in copies written to a private directory.
pub fn tables() -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let (a, d) = ("examples/demo/hosts.allow", "examples/demo/hosts.deny");
    if Path::new(a).is_file() && Path::new(d).is_file() {
        return Ok((a.as_bytes().to_vec(), d.as_bytes().to_vec()));
    }
    let dir = std::env::temp_dir().join(format!("tcpwrapd-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (pa, pd) = (dir.join("hosts.allow"), dir.join("hosts.deny"));
    std::fs::write(&pa, HOSTS_ALLOW)?;
    std::fs::write(&pd, HOSTS_DENY)?;
    let bytes = |p: std::path::PathBuf| p.into_os_string().into_encoded_bytes();
    Ok((bytes(pa), bytes(pd)))
}

/// Remove the private copies of the tables written by [`tables`].
pub fn clean_up(opts: &Options) {
    let dir = std::env::temp_dir().join(format!("tcpwrapd-demo-{}", std::process::id()));
    if opts.allow.starts_with(dir.as_os_str().as_encoded_bytes()) {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What to try, printed at start.
pub fn banner(opts: &Options, listening: &[(String, SocketAddr)]) {
    let port = |p: u16| listening.iter().any(|(_, a)| a.port() == p);
    let mut out = String::new();
    out.push_str(&format!(
        "tcpwrapd demo: serving the built-in configuration on 127.0.0.1\n  \
         tables: {} and {}\n  try:\n",
        String::from_utf8_lossy(&opts.allow),
        String::from_utf8_lossy(&opts.deny)
    ));
    for (p, what) in [
        (
            7007,
            "echo: granted by hosts.allow (type a line, Ctrl-D to end)",
        ),
        (7013, "daytime: granted"),
        (
            7079,
            "/bin/date -u behind the built-in tcpd: granted, with setenv",
        ),
        (7019, "chargen: refused by hosts.deny, closed at once"),
        (
            7023,
            "a tripwire (telnet trap): logged as an attack, closed",
        ),
    ] {
        if port(p) {
            out.push_str(&format!("    nc 127.0.0.1 {p}    # {what}\n"));
        }
    }
    out.push_str("  every decision is logged below; Ctrl-C stops.\n");
    eprint!("{out}");
}
