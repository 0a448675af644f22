//! `tcpdmatch`: predict how the tables treat a request (§9.2), with
//! Debian's command line and output.

use std::io::Write;
use std::net::SocketAddr;

use tcpwrap::cache::{CachedFiles, TableCache};
use tcpwrap::exec::SystemExecutor;
use tcpwrap::resolver::{SystemAccounts, SystemNetgroups, SystemResolver};
use tcpwrap_core::text::{dot_quad, eq_ci, parse_v6, split_at_bracket};
use tcpwrap_core::{Ctx, Env, Forward, Offline, Request, Settings, Side};

use crate::diag::Reporter;
use crate::getopt::{Cli, Opt};
use crate::inetcf::{self, Wrap};
use crate::json::Value;

/// The usage text after "usage: ARGV0" (Debian prints argv[0] as typed).
const USAGE: &str = " [-d] [-i inet_conf] daemon[@host] [user@]host\n\t-d: use allow/deny files in current directory\n\t-i: location of inetd.conf file\n";

/// Standard output as the original's stdio: fully buffered unless it is a
/// terminal (banners are written directly to descriptor 1 meanwhile).
struct Out {
    buf: Vec<u8>,
    tty: bool,
}

impl Out {
    fn line(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
        self.buf.push(b'\n');
        if self.tty {
            self.flush();
        }
    }
    fn flush(&mut self) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(&self.buf);
        let _ = o.flush();
        self.buf.clear();
    }
}

fn not_inaddr(s: &[u8]) -> bool {
    s.iter().any(|b| !matches!(b, b'0'..=b'9' | b'.' | b'/'))
}

fn hostname_known(s: &[u8]) -> bool {
    !eq_ci(s, b"unknown") && !eq_ci(s, b"paranoid")
}

/// `find_inet_addr` (§9.5): numeric first, then a name with its canonical
/// name; warnings for unknown hosts and aliases.
pub(crate) fn find_inet_addr(host: &[u8], r: &mut Reporter) -> Option<Vec<SocketAddr>> {
    if let Some(f) = tcpwrap::sys::numeric_any(host) {
        return Some(addrs(&f));
    }
    let Some(f) = tcpwrap::sys::forward_any(host) else {
        r.warn([host, b": host not found"].concat());
        return None;
    };
    match &f.canonical {
        None => {
            r.warn([host, b": hostname alias"].concat());
            r.warn(b"(cannot obtain official name)".to_vec());
        }
        Some(c) if !eq_ci(c, host) => {
            r.warn([host, b": hostname alias"].concat());
            r.warn([b"(official name: ", &c[..c.len().min(128)], b")"].concat());
        }
        Some(_) => {}
    }
    Some(addrs(&f))
}

fn addrs(f: &Forward) -> Vec<SocketAddr> {
    f.addrs
        .iter()
        .map(|&(ip, scope)| match ip {
            std::net::IpAddr::V4(a) => SocketAddr::from((a, 0)),
            std::net::IpAddr::V6(a) => SocketAddr::V6(std::net::SocketAddrV6::new(a, 0, 0, scope)),
        })
        .collect()
}

struct Tool<'a> {
    env: Env<'a>,
    tables: TableCache,
    allow: Vec<u8>,
    deny: Vec<u8>,
    out: Out,
    r: Reporter,
    /// `--json`: one report per request instead of the text lines.
    json: Option<Vec<Value>>,
    /// `--explain`: every rule considered, with why.
    explain: bool,
}

impl Tool<'_> {
    /// The report for one request.
    fn report(&mut self, req: &mut Request) {
        let mut ctx = Ctx::new(self.env);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut fields: Vec<(&'static str, Vec<u8>)> = Vec::new();
        let mut show = |label: &str, key: &'static str, v: &[u8]| {
            fields.push((key, v.to_vec()));
            if !eq_ci(v, b"unknown") {
                lines.push([label.as_bytes(), v].concat());
            }
        };
        show(
            "client:   hostname ",
            "client_hostname",
            req.name(Side::Client, &mut ctx),
        );
        show(
            "client:   address  ",
            "client_address",
            req.addr(Side::Client, &mut ctx),
        );
        show("client:   username ", "client_username", req.user(&mut ctx));
        show(
            "server:   hostname ",
            "server_hostname",
            req.name(Side::Server, &mut ctx),
        );
        show(
            "server:   address  ",
            "server_address",
            req.addr(Side::Server, &mut ctx),
        );
        lines.push([b"server:   process  ".as_slice(), req.daemon()].concat());
        self.r.diagnostics(&ctx.diagnostics);
        if self.json.is_none() {
            for l in lines.drain(..) {
                self.out.line(&l);
            }
        }
        let settings = Settings {
            dry_run: true,
            verbose: 2,
            ..Settings::default()
        };
        let (a, d) = (self.tables.load(&self.allow), self.tables.load(&self.deny));
        let before = self.explain.then(|| req.clone());
        // With --json, banners are not written to standard output (it holds
        // the report).
        let (mut system, mut none) = (SystemExecutor::new(), tcpwrap_core::NoExec);
        let exec: &mut dyn tcpwrap_core::Executor = if self.json.is_some() {
            &mut none
        } else {
            &mut system
        };
        let v = tcpwrap::check_loaded(&a, &d, req, self.env, settings, exec);
        let steps =
            before.map(|b| crate::explain::explain([&self.allow, &self.deny], &b, self.env, &v));
        self.r.diagnostics(&v.diagnostics);
        let access: &[u8] = if !v.settings.dry_run {
            b"delegated"
        } else if v.granted() {
            b"granted"
        } else {
            b"denied"
        };
        if let Some(reports) = &mut self.json {
            let mut r = json_report(req, &fields, access, &v);
            if let (Value::Object(m), Some(st)) = (&mut r, &steps) {
                m.push(("explain", crate::explain::to_json(st)));
            }
            reports.push(r);
            return;
        }
        for l in lines {
            self.out.line(&l);
        }
        self.out.line(&[b"access:   ".as_slice(), access].concat());
        if let Some(st) = &steps {
            for l in crate::explain::render_text(st, &v) {
                self.out.line(&l);
            }
        }
    }
}

/// The `--json` report of one request.
fn json_report(
    req: &Request,
    fields: &[(&'static str, Vec<u8>)],
    access: &[u8],
    v: &tcpwrap_core::Verdict,
) -> Value {
    let mut m: Vec<(&'static str, Value)> =
        fields.iter().map(|(k, x)| (*k, Value::str(x))).collect();
    m.push(("process", Value::str(req.daemon())));
    m.push(("access", Value::str(access)));
    m.push(("reason", Value::str(format!("{:?}", v.reason))));
    m.push((
        "rule",
        v.rule.as_ref().map_or(Value::Null, |r| {
            Value::Object(vec![
                ("file", Value::str(&*r.file)),
                ("line", Value::Int(r.line.into())),
            ])
        }),
    ));
    m.push((
        "options",
        Value::Array(
            v.options
                .iter()
                .map(|o| {
                    Value::Object(vec![
                        ("option", Value::str(&o.key)),
                        ("value", Value::opt_str(o.value.as_ref())),
                    ])
                })
                .collect(),
        ),
    ));
    m.push((
        "lookups",
        Value::Array(
            v.lookups
                .iter()
                .map(|l| {
                    Value::Object(vec![
                        ("kind", Value::str(format!("{:?}", l.kind))),
                        ("subject", Value::str(&l.subject)),
                        ("result", Value::str(&l.result)),
                    ])
                })
                .collect(),
        ),
    ));
    m.push((
        "diagnostics",
        Value::Array(v.diagnostics.iter().map(crate::diag::to_json).collect()),
    ));
    Value::Object(m)
}

/// Force the name look-up of an endpoint whose socket address was just set,
/// as Debian's tcpdmatch does, and warn when it gave no name.
///
/// Debian's tcpdmatch then uses (prints and matches) the name through the
/// shell-safety filter of `%` expansion: `x;y.example` from the resolver is
/// `x_y.example` in its report and for the patterns (measured with
/// 7.6.q-32; crates/tcpwrap-tools/tests/hostile_names.rs).
fn force_name(t: &mut Tool<'_>, req: &mut Request, side: Side) {
    let mut ctx = Ctx::new(t.env);
    let mut name = req.name(side, &mut ctx).to_vec();
    let unknown = eq_ci(&name, b"unknown");
    if tcpwrap_core::expand::sanitize(&mut name) {
        match side {
            Side::Client => req.set_client_name(&name),
            Side::Server => req.set_server_name(&name),
        }
    }
    let addr = req.addr(side, &mut ctx).to_vec();
    t.r.diagnostics(&ctx.diagnostics);
    if unknown {
        t.r.warn([b"host address ".as_slice(), &addr, b"->name lookup failed"].concat());
    }
}

pub fn main() -> i32 {
    let mut cli = Cli::from_env("tcpdmatch");
    let json = cli.take_long(b"--json");
    let explain = cli.take_long(b"--explain");
    let usage = |msg: Option<String>| cli.usage(msg, USAGE);
    let (opts, operands) = match cli.getopt("di:") {
        Ok(x) => x,
        Err(m) => return usage(Some(m)),
    };
    let mut allow = tcpwrap::HOSTS_ALLOW.as_bytes().to_vec();
    let mut deny = tcpwrap::HOSTS_DENY.as_bytes().to_vec();
    let mut inetcf: Option<Vec<u8>> = None;
    for o in opts {
        match o {
            Opt::Flag('d') => {
                allow = b"hosts.allow".to_vec();
                deny = b"hosts.deny".to_vec();
            }
            Opt::Arg('i', v) => inetcf = Some(v),
            _ => return usage(None),
        }
    }
    if operands.len() != 2 {
        return usage(None);
    }
    let files = CachedFiles::default();
    let env = Env {
        resolver: &SystemResolver,
        ident: &Offline,
        netgroups: &SystemNetgroups,
        files: &files,
        accounts: &SystemAccounts,
    };
    let mut t = Tool {
        env,
        tables: TableCache::new(),
        allow,
        deny,
        out: Out {
            buf: Vec::new(),
            tty: tcpwrap::sys::isatty(1),
        },
        r: Reporter::new(),
        json: json.then(Vec::new),
        explain,
    };
    t.r.record = json;
    let code = run(&mut t, &operands, inetcf.as_deref());
    if let Some(reports) = t.json.take() {
        let report = Value::Object(vec![
            ("tool", Value::str("tcpdmatch")),
            ("requests", Value::Array(reports)),
            (
                "diagnostics",
                Value::Array(t.r.records.iter().map(crate::diag::to_json).collect()),
            ),
            ("status", Value::Int(code.into())),
        ]);
        t.out.buf.clear();
        t.out.line(report.render().as_bytes());
    }
    t.out.flush();
    code
}

fn run(t: &mut Tool<'_>, operands: &[Vec<u8>], inetcf: Option<&[u8]>) -> i32 {
    // Start-up checks of the tables (§9.1).
    for p in [t.allow.clone(), t.deny.clone()] {
        let _ = inetcf::check_path(&p, &mut t.r);
    }
    let arg0 = &operands[0];
    let (daemon_full, server): (&[u8], &[u8]) = match split_at_bracket(arg0, b'@') {
        Some(p) => (&arg0[..p], &arg0[p + 1..]),
        None => (arg0, b"unknown"),
    };
    let mut daemon = daemon_full;
    if daemon.first() == Some(&b'/') {
        daemon = &daemon[daemon.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1)..];
        t.r.warn([daemon_full, b": daemon name normalized to: ", daemon].concat());
    }
    let arg1 = &operands[1];
    let (user, client): (&[u8], &[u8]) = match split_at_bracket(arg1, b'@') {
        Some(p) => (&arg1[..p], &arg1[p + 1..]),
        None => (b"unknown", arg1),
    };

    let mut svc = inetcf::Services::default();
    let conf = match inetcf::inet_cfg(inetcf, &mut svc, &mut t.r) {
        Ok(inetcf::Config::Read(n)) => n,
        Ok(inetcf::Config::None) => b"(null)".to_vec(),
        Err((name, e)) => {
            let _ = writeln!(
                std::io::stderr(),
                "open {}: {}",
                String::from_utf8_lossy(&name),
                tcpwrap::sys::strerror(&e)
            );
            return 1;
        }
    };
    svc.set(b"portmap", Wrap::Not);
    svc.set(b"rpcbind", Wrap::Not);
    match svc.get(daemon) {
        Wrap::Unknown => {
            t.r.warn([daemon, b": no such process name in ", &conf].concat())
        }
        Wrap::Not => {
            t.r.warn([daemon, b": service possibly not wrapped"].concat())
        }
        _ => {}
    }

    // Debian's tcpdmatch passes the daemon and user through the shell-safety
    // filter of `%` expansion before anything uses them.
    let mut req = Request::new();
    let (mut daemon, mut user) = (daemon.to_vec(), user.to_vec());
    tcpwrap_core::expand::sanitize(&mut daemon);
    tcpwrap_core::expand::sanitize(&mut user);
    req.set_daemon(&daemon);
    req.set_user(&user);
    req.fd = 1;
    req.sock_methods = true;

    if !not_inaddr(server) || hostname_known(server) {
        let Some(a) = find_inet_addr(server, &mut t.r) else {
            return 1;
        };
        if a.len() > 1 {
            let s = String::from_utf8_lossy(server);
            let _ = write!(
                std::io::stderr(),
                "Error: {s} has more than one address\nPlease specify an address instead\n"
            );
            return 1;
        }
        req.server.sin = a.first().copied();
        force_name(t, &mut req, Side::Server);
    } else {
        req.set_server_name(server);
    }

    if !not_inaddr(client) && dot_quad(client).is_some() {
        req.set_client_addr(client);
        t.report(&mut req);
        return 0;
    }
    if parse_v6(client).is_some() && tcpwrap::sys::is_numeric(client, tcpwrap_core::Family::V6) {
        req.set_client_addr(client);
        t.report(&mut req);
        return 0;
    }
    if !hostname_known(client) {
        req.set_client_name(client);
        t.report(&mut req);
        return 0;
    }
    let Some(list) = find_inet_addr(client, &mut t.r) else {
        return 1;
    };
    for (i, sa) in list.iter().enumerate() {
        req.client.sin = Some(*sa);
        // Debian resets the cached name and address, and forces the name
        // look-up, only for addresses that are not IPv6 link-local.
        let link_local = matches!(sa, SocketAddr::V6(a) if a.ip().segments()[0] & 0xffc0 == 0xfe80);
        if !link_local {
            req.set_client_addr(b"");
            req.set_client_name(b"");
            force_name(t, &mut req, Side::Client);
        }
        t.report(&mut req);
        if i + 1 < list.len() {
            t.out.line(b"");
        }
    }
    0
}
