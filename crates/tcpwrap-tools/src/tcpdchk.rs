//! `tcpdchk`: check the access-control tables (§9.3), with Debian's command
//! line, stdout listing and warnings (to syslog, and also to stderr).
//!
//! The checks walk each rule's lists the way the original does, including
//! its quirks (a readable `/file` pattern ends the check of the rest of its
//! list, because the original's `strtok` is not re-entrant). Unlike the
//! original, tcpdchk never changes its own identity for `user`/`group`
//! options, and its exit status says whether the tables hold an error that
//! would deny requests at run time.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use tcpwrap::alert::{
    self,
    config::{Config, ConfigError},
};
use tcpwrap::cache::CachedFiles;
use tcpwrap::exec::SystemExecutor;
use tcpwrap::resolver::{SystemAccounts, SystemNetgroups, SystemResolver};
use tcpwrap_core::eval::OptionRun;
use tcpwrap_core::options::{self, OptKind};
use tcpwrap_core::reader::LineReader;
use tcpwrap_core::text::{atoi, dot_quad, eq_ci, split_at_bracket};
use tcpwrap_core::{Ctx, Env, Executor, NoExec, Offline, Reason, Request, RuleRef, Settings, Side};

use crate::diag::Reporter;
use crate::getopt::{Cli, Opt};
use crate::inetcf::{self, Wrap};
use crate::json::Value;
use crate::tcpdmatch::find_inet_addr;

/// The usage text after "usage: ARGV0" (Debian prints argv[0] as typed).
const USAGE: &str = " [-a] [-d] [-i inet_conf] [-v]\n\t-a: report rules with implicit \"ALLOW\" at end\n\t-d: use allow/deny files in current directory\n\t-i: location of inetd.conf file\n\t-v: list all rules\n";

/// Exit status when the tables hold an error that denies requests at run
/// time (an option error, an unreadable or malformed hosts.deny, an
/// over-long expansion).
pub const EXIT_DENYING_ERROR: i32 = 2;

/// Daemons Debian's tcpdchk knows to be wrapped without inetd.conf.
const DEBIAN_WRAPPED: &[&str] = &[
    "portmap",
    "mountd",
    "statd",
    "ugidd",
    "redir",
    "rlinetd",
    "sshd",
    "atftpd",
    "diald",
    "esound",
    "gdm",
    "gnome-session",
    "icecast",
    "icecast_admin",
    "icecast_client",
    "icecast_source",
    "mysqld",
    "ntop",
    "pptpd",
    "rquotad",
    "sendmail",
    "smail",
];

/// The separators of daemon and client lists (no CR: a CRLF table leaves
/// the CR on the last word, as in the original).
fn is_sep(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'\t' | b'\n')
}

/// Word separators inside `/file` lists.
fn is_wsp(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn words(s: &[u8], sep: fn(u8) -> bool) -> impl Iterator<Item = &[u8]> {
    s.split(move |&b| sep(b)).filter(|w| !w.is_empty())
}

/// `NOT_INADDR`: holds a character other than digits, `.` and `/`.
fn not_inaddr(s: &[u8]) -> bool {
    s.iter().any(|b| !matches!(b, b'0'..=b'9' | b'.' | b'/'))
}

fn reserved_name(s: &[u8]) -> bool {
    [&b"unknown"[..], b"KNOWN", b"paranoid", b"ALL", b"LOCAL"]
        .iter()
        .any(|r| eq_ci(s, r))
}

/// `is_inet6_addr`: `[v6]` whose inside parses as a numeric IPv6 address.
fn is_inet6_addr(s: &[u8]) -> bool {
    s.len() >= 2
        && s[0] == b'['
        && s[s.len() - 1] == b']'
        && tcpwrap::sys::is_numeric(&s[1..s.len() - 1], tcpwrap_core::Family::V6)
}

/// `cidr_mask_addr`: a prefix length 1..32, parsed `atoi`-style.
fn cidr_ok(s: &[u8]) -> bool {
    (1..=32).contains(&atoi(s))
}

/// Whether a pattern check read a `/file` with at least one line: the
/// original's `strtok` state is then used up, and the rest of the list it
/// was walking is not checked.
type Clobbered = bool;

struct Chk<'a> {
    r: Reporter,
    env: Env<'a>,
    svc: inetcf::Services,
    conf_name: Vec<u8>,
    /// The table position for the tools' and the engine's messages.
    file: Vec<u8>,
    line: u32,
    allow_check: bool,
    verbose: u8,
    out: Vec<u8>,
    /// An error that denies requests at run time was found.
    denying_error: bool,
    /// `--json`: the rules as checked (no listing on stdout).
    json: Option<Vec<Value>>,
    /// The alerts config, loaded at the first `alert` option.
    alerts: Option<Result<Config, ConfigError>>,
}

impl Chk<'_> {
    fn warn(&mut self, msg: Vec<u8>) {
        self.r.warn(msg);
    }

    fn set_context(&mut self, file: &[u8], line: u32) {
        self.file = file.to_vec();
        self.line = line;
        self.r.context = Some((file.to_vec(), line));
    }

    fn flush_out(&mut self) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(&self.out);
        let _ = o.flush();
        self.out.clear();
    }

    fn print_list(&mut self, title: &[u8], list: &[u8]) {
        self.out.extend_from_slice(title);
        let ws: Vec<&[u8]> = words(list, is_sep).collect();
        self.out.extend_from_slice(&ws.join(&b' '));
        self.out.push(b'\n');
    }

    fn check_daemon(&mut self, pat: &[u8]) {
        if pat.first() == Some(&b'@') {
            self.warn([pat, b": daemon name begins with \"@\""].concat());
        } else if pat.first() == Some(&b'/') {
            self.warn([pat, b": daemon name begins with \"/\""].concat());
        } else if pat.first() == Some(&b'.') {
            self.warn([pat, b": daemon name begins with dot"].concat());
        } else if pat.last() == Some(&b'.') {
            self.warn([pat, b": daemon name ends in dot"].concat());
        } else if eq_ci(pat, b"ALL") || eq_ci(pat, b"unknown") {
        } else if eq_ci(pat, b"FAIL") {
            self.warn(b"FAIL is no longer recognized".to_vec());
            self.warn(b"(use EXCEPT or DENY instead)".to_vec());
        } else if reserved_name(pat) {
            self.warn([pat, b": daemon name may be reserved word"].concat());
        } else {
            match self.svc.get(pat) {
                Wrap::Unknown => {
                    let m = [pat, b": no such process name in ", &self.conf_name].concat();
                    self.warn(m);
                    self.svc.set(pat, Wrap::Yes);
                }
                Wrap::Not => {
                    self.warn([pat, b": service possibly not wrapped"].concat());
                    self.svc.set(pat, Wrap::Yes);
                }
                _ => {}
            }
        }
    }

    fn check_user(&mut self, pat: &[u8]) {
        if pat.first() == Some(&b'@') {
            self.warn([pat, b": user name begins with \"@\""].concat());
        } else if pat.first() == Some(&b'/') {
            self.warn([pat, b": user name begins with \"/\""].concat());
        } else if pat.first() == Some(&b'.') {
            self.warn([pat, b": user name begins with dot"].concat());
        } else if pat.last() == Some(&b'.') {
            self.warn([pat, b": user name ends in dot"].concat());
        } else if eq_ci(pat, b"ALL") || eq_ci(pat, b"unknown") || eq_ci(pat, b"KNOWN") {
        } else if eq_ci(pat, b"FAIL") {
            self.warn(b"FAIL is no longer recognized".to_vec());
            self.warn(b"(use EXCEPT or DENY instead)".to_vec());
        } else if reserved_name(pat) {
            self.warn([pat, b": user name may be reserved word"].concat());
        }
    }

    /// `check_dns`: resolve a name or address, verify each address's name.
    /// Returns the number of addresses.
    fn check_dns(&mut self, host: &[u8]) -> usize {
        let Some(list) = find_inet_addr(host, &mut self.r) else {
            return 0;
        };
        for sa in &list {
            let mut req = Request::new();
            req.client.sin = Some(*sa);
            req.sock_methods = true;
            let mut ctx = Ctx::new(self.env);
            ctx.position = Some((self.file.as_slice().into(), self.line));
            let unknown = eq_ci(req.name(Side::Client, &mut ctx), b"unknown");
            let addr = req.addr(Side::Client, &mut ctx).to_vec();
            self.r.diagnostics(&ctx.diagnostics);
            if unknown {
                self.warn([b"host address ".as_slice(), &addr, b"->name lookup failed"].concat());
            }
        }
        list.len()
    }

    /// `check_host`: returns the address count (1 unless resolved) and
    /// whether a `/file` was read.
    fn check_host(&mut self, pat: &[u8], depth: usize) -> (usize, Clobbered) {
        if pat.first() == Some(&b'@') {
            if !tcpwrap::sys::netgroup_has_entries(&pat[1..]) {
                self.warn([&pat[1..], b": unknown or empty netgroup"].concat());
            }
            return (1, false);
        }
        if pat.first() == Some(&b'/') {
            return (1, self.check_file(pat, depth));
        }
        if let Some(p) = split_at_bracket(pat, b'/') {
            let (net, mask) = (&pat[..p], &pat[p + 1..]);
            let v4_ok = dot_quad(net).is_some() && (dot_quad(mask).is_some() || cidr_ok(mask));
            let v6_ok = is_inet6_addr(net) && (0..=128).contains(&atoi(mask));
            if !v4_ok && !v6_ok {
                self.warn([net, b"/", mask, b": bad net/mask pattern"].concat());
            }
            return (1, false);
        }
        if eq_ci(pat, b"FAIL") {
            self.warn(b"FAIL is no longer recognized".to_vec());
            self.warn(b"(use EXCEPT or DENY instead)".to_vec());
            return (1, false);
        }
        if reserved_name(pat) || is_inet6_addr(pat) {
            return (1, false);
        }
        if not_inaddr(pat) {
            if pat.last() == Some(&b'.') {
                self.warn([pat, b": domain or host name ends in dot"].concat());
                return (1, false);
            }
            if pat.first() != Some(&b'.') {
                return (self.check_dns(pat), false);
            }
            return (1, false);
        }
        if pat == b"255.255.255.255" || pat == b"0.0.0.0" {
            return (1, false);
        }
        if pat.first() == Some(&b'.') {
            self.warn([pat, b": network number begins with dot"].concat());
        } else if !pat.is_empty() && pat.last() != Some(&b'.') {
            self.check_dns(pat);
        }
        (1, false)
    }

    /// A `/file` host list: every word of every line checked, with the
    /// file's own position. True when at least one line was read.
    fn check_file(&mut self, path: &[u8], depth: usize) -> bool {
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        let data = match tcpwrap::cache::read_file(p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => return false,
            Err(e) => {
                let m = [
                    b"open ".as_slice(),
                    path,
                    b": ",
                    tcpwrap::sys::strerror(&e).as_bytes(),
                ]
                .concat();
                self.warn(m);
                return false;
            }
        };
        if data.is_empty() {
            return false;
        }
        if depth >= tcpwrap_core::eval::MAX_FILE_DEPTH {
            self.warn([path, b": /file patterns nested too deeply"].concat());
            return true;
        }
        let saved = (self.file.clone(), self.line);
        let mut line = 0;
        // fgets() with a BUFSIZ (8192) buffer: long lines come in pieces.
        let mut rest: &[u8] = &data;
        while !rest.is_empty() {
            let n = memchr_nl(rest, 8191);
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            line += 1;
            self.set_context(path, line);
            for w in words(piece, is_wsp) {
                if self.check_host(w, depth + 1).1 {
                    // The nested file used up this line's word scan.
                    break;
                }
            }
        }
        self.set_context(&saved.0, saved.1);
        true
    }

    fn check_daemon_list(&mut self, list: &[u8]) {
        let mut daemons = 0;
        for w in words(list, is_sep) {
            if eq_ci(w, b"EXCEPT") {
                daemons = 0;
                continue;
            }
            daemons += 1;
            let (daemon, host) = match split_at_bracket(&w[1..], b'@') {
                Some(p) => (&w[..p + 1], Some(&w[p + 2..])),
                None => (w, None),
            };
            let mut clobbered = false;
            if let Some(h) = host {
                let (n, c) = self.check_host(h, 0);
                clobbered = c;
                if n > 1 {
                    self.warn([b"host ".as_slice(), h, b" has more than one address"].concat());
                    self.warn(b"(consider using an address instead)".to_vec());
                }
            }
            self.check_daemon(daemon);
            if clobbered {
                return;
            }
        }
        if daemons == 0 {
            self.warn(b"daemon list is empty or ends in EXCEPT".to_vec());
        }
    }

    fn check_client_list(&mut self, list: &[u8]) {
        let mut clients = 0;
        for w in words(list, is_sep) {
            if eq_ci(w, b"EXCEPT") {
                clients = 0;
                continue;
            }
            clients += 1;
            let clobbered = match split_at_bracket(&w[1..], b'@') {
                Some(p) => {
                    self.check_user(&w[..p + 1]);
                    self.check_host(&w[p + 2..], 0).1
                }
                None => self.check_host(w, 0).1,
            };
            if clobbered {
                return;
            }
        }
        if clients == 0 {
            self.warn(b"client list is empty or ends in EXCEPT".to_vec());
        }
    }

    /// Check one table. `granted` is the table's default verdict (true for
    /// hosts.allow). Returns false when the run must end (an over-long
    /// expansion: the original exits).
    /// Warn about `alert` options whose alert the alerts config does not
    /// define, or when the config cannot be used (not in Debian).
    fn check_alerts(&mut self, options: &[OptionRun]) {
        for o in options.iter().filter(|o| o.kind == OptKind::Alert) {
            let Some((name, _)) = o.value.as_deref().and_then(options::parse_alert) else {
                continue;
            };
            let loaded = self.alerts.get_or_insert_with(|| {
                alert::config::load(std::path::Path::new(alert::ALERTS_CONF))
            });
            if let Err(m) = alert::check_defined(loaded, name) {
                self.warn(m.into_bytes());
            }
        }
    }

    fn check_table(&mut self, table: &[u8], granted: bool, req: &mut Request) -> bool {
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(table));
        let data = match tcpwrap::cache::read_file(p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => return true,
            Err(e) => {
                self.r.context = None;
                let m = [
                    b"cannot open ".as_slice(),
                    table,
                    b": ",
                    tcpwrap::sys::strerror(&e).as_bytes(),
                ]
                .concat();
                self.warn(m);
                if !granted {
                    self.denying_error = true;
                }
                return true;
            }
        };
        let lines = LineReader::new(&data);
        for l in lines {
            self.set_context(table, l.line);
            if !l.complete {
                self.warn(b"missing newline or line too long".to_vec());
                if !granted {
                    self.denying_error = true;
                }
                continue;
            }
            let text: &[u8] = &l.text;
            if text[0] == b'#'
                || text
                    .iter()
                    .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            {
                continue;
            }
            let Some(p1) = split_at_bracket(text, b':') else {
                self.warn(b"missing \":\" separator".to_vec());
                continue;
            };
            let sv_list = &text[..p1];
            let rest = &text[p1 + 1..];
            let (cl_list, sh_cmd) = match split_at_bracket(rest, b':') {
                Some(p2) => (&rest[..p2], Some(&rest[p2 + 1..])),
                None => (rest, None),
            };
            if self.verbose > 0 {
                let h = format!(
                    ">>> Rule {} line {}:\n",
                    tcpwrap_core::text::show(table),
                    l.line
                );
                self.out.push(b'\n');
                self.out.extend_from_slice(h.as_bytes());
                self.print_list(b"daemons:  ", sv_list);
            }
            self.check_daemon_list(sv_list);
            if self.verbose > 0 && self.json.is_none() {
                self.print_list(b"clients:  ", cl_list);
            }
            self.check_client_list(cl_list);
            let mut verdict = granted;
            match sh_cmd {
                Some(opts) => {
                    let settings = Settings {
                        dry_run: true,
                        verbose: self.verbose,
                        ..Settings::default()
                    };
                    let pos = RuleRef {
                        file: table.into(),
                        line: l.line,
                    };
                    // Banners are written to standard output directly: put
                    // the listing so far first only when it is a terminal,
                    // as stdio buffering does.
                    if tcpwrap::sys::isatty(1) {
                        self.flush_out();
                    }
                    // With --json, banners are not written to standard
                    // output (it holds the report).
                    let mut system = SystemExecutor::new();
                    let mut none = NoExec;
                    let exec: &mut dyn Executor = if self.json.is_some() {
                        &mut none
                    } else {
                        &mut system
                    };
                    let v = tcpwrap_core::process_options(
                        opts,
                        Some(pos),
                        req,
                        self.env,
                        settings,
                        exec,
                    );
                    self.r.diagnostics(&v.diagnostics);
                    self.check_alerts(&v.options);
                    match v.reason {
                        Reason::AllowOption => verdict = true,
                        Reason::DenyOption => verdict = false,
                        Reason::OptionError => {
                            verdict = false;
                            self.denying_error = true;
                        }
                        Reason::Exit => {
                            self.denying_error = true;
                            return false;
                        }
                        Reason::Twist => {}
                        _ => {
                            if granted && self.allow_check {
                                self.warn(b"implicit \"allow\" at end of rule".to_vec());
                            }
                        }
                    }
                }
                None => {
                    if granted && self.allow_check {
                        self.warn(b"implicit \"allow\" at end of rule".to_vec());
                    }
                }
            }
            let a: &[u8] = if verdict { b"granted" } else { b"denied" };
            if let Some(rules) = &mut self.json {
                let list = |s: &[u8]| Value::Array(words(s, is_sep).map(Value::str).collect());
                rules.push(Value::Object(vec![
                    ("file", Value::str(table)),
                    ("line", Value::Int(l.line.into())),
                    ("daemons", list(sv_list)),
                    ("clients", list(cl_list)),
                    (
                        "options",
                        Value::opt_str(sh_cmd.map(tcpwrap_core::text::chop)),
                    ),
                    ("access", Value::str(a)),
                ]));
            } else if self.verbose > 0 {
                self.out
                    .extend_from_slice(&[b"access:   ".as_slice(), a, b"\n"].concat());
            }
        }
        self.r.context = None;
        true
    }
}

/// Offset just past the first newline within the first `max` bytes (or
/// `max`, or the end).
fn memchr_nl(s: &[u8], max: usize) -> usize {
    let lim = s.len().min(max);
    match s[..lim].iter().position(|&b| b == b'\n') {
        Some(i) => i + 1,
        None => lim,
    }
}

pub fn main() -> i32 {
    let mut cli = Cli::from_env("tcpdchk");
    let json = cli.take_long(b"--json");
    let lint_mode = cli.take_long(b"--lint");
    let usage = |msg: Option<String>| cli.usage(msg, USAGE);
    let (opts, operands) = match cli.getopt("adi:v") {
        Ok(x) => x,
        Err(m) => return usage(Some(m)),
    };
    let mut allow = tcpwrap::HOSTS_ALLOW.as_bytes().to_vec();
    let mut deny = tcpwrap::HOSTS_DENY.as_bytes().to_vec();
    let mut inet_conf: Option<Vec<u8>> = None;
    let (mut allow_check, mut verbose) = (false, 0u8);
    for o in opts {
        match o {
            Opt::Flag('a') => allow_check = true,
            Opt::Flag('d') => {
                allow = b"hosts.allow".to_vec();
                deny = b"hosts.deny".to_vec();
            }
            Opt::Arg('i', v) => inet_conf = Some(v),
            Opt::Flag('v') => verbose = verbose.saturating_add(1),
            _ => return usage(None),
        }
    }
    if !operands.is_empty() {
        return usage(None);
    }
    if lint_mode {
        return run_lint(&allow, &deny, allow_check, json);
    }
    let files = CachedFiles::default();
    let env = Env {
        resolver: &SystemResolver,
        ident: &Offline,
        netgroups: &SystemNetgroups,
        files: &files,
        accounts: &SystemAccounts,
    };
    let mut c = Chk {
        r: Reporter::new(),
        env,
        svc: inetcf::Services::default(),
        conf_name: Vec::new(),
        file: Vec::new(),
        line: 0,
        allow_check,
        verbose,
        out: Vec::new(),
        denying_error: false,
        json: json.then(Vec::new),
        alerts: None,
    };
    c.r.record = json;
    let code = run(&mut c, &allow, &deny, inet_conf.as_deref());
    if let Some(rules) = c.json.take() {
        let report = Value::Object(vec![
            ("tool", Value::str("tcpdchk")),
            (
                "inet_conf",
                Value::opt_str((c.conf_name != b"(null)").then_some(&c.conf_name)),
            ),
            (
                "tables",
                Value::Array(vec![Value::str(&allow), Value::str(&deny)]),
            ),
            ("rules", Value::Array(rules)),
            (
                "diagnostics",
                Value::Array(c.r.records.iter().map(crate::diag::to_json).collect()),
            ),
            ("denying_error", Value::Bool(c.denying_error)),
            ("status", Value::Int(code.into())),
        ]);
        c.out.clear();
        c.out.extend_from_slice(report.render().as_bytes());
        c.out.push(b'\n');
    }
    c.flush_out();
    code
}

/// `--lint`: the checks Debian lacks (crate::lint), each with file, line,
/// column, a caret and a suggestion; JSON with `--json`. Exit status 2 when a
/// finding is an error (the text denies or fails at run time), else 0.
fn run_lint(allow: &[u8], deny: &[u8], implicit_allow: bool, json: bool) -> i32 {
    use crate::lint::{self, LintOptions, LintTable, Severity, SystemLintEnv};
    let mut findings = Vec::new();
    let mut data: Vec<(Vec<u8>, tcpwrap_core::Which)> = Vec::new();
    for (path, which) in [
        (allow, tcpwrap_core::Which::Allow),
        (deny, tcpwrap_core::Which::Deny),
    ] {
        match tcpwrap::cache::read_file(std::path::Path::new(std::ffi::OsStr::from_bytes(path))) {
            Ok(d) => data.push((d, which)),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::EISDIR) =>
            {
                data.push((Vec::new(), which))
            }
            Err(e) => {
                findings.push(lint::unreadable_table(
                    path,
                    which,
                    &tcpwrap::sys::strerror(&e),
                ));
                data.push((Vec::new(), which));
            }
        }
    }
    let tables: Vec<LintTable<'_>> = data
        .iter()
        .zip([allow, deny])
        .map(|((d, which), path)| LintTable {
            path,
            data: d,
            which: *which,
        })
        .collect();
    let opts = LintOptions {
        implicit_allow,
        ..LintOptions::default()
    };
    findings.extend(lint::lint(&tables, &opts, &SystemLintEnv));
    let text = if json {
        lint::render_json(&findings)
    } else {
        lint::render_text(&findings)
    };
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
    if findings.iter().any(|f| f.severity == Severity::Error) {
        EXIT_DENYING_ERROR
    } else {
        0
    }
}

fn run(c: &mut Chk<'_>, allow: &[u8], deny: &[u8], inet_conf: Option<&[u8]>) -> i32 {
    let dir = inetcf::REAL_DAEMON_DIR.as_bytes();
    match inetcf::check_path(dir, &mut c.r) {
        Err(e) => c.warn(
            [
                b"REAL_DAEMON_DIR ".as_slice(),
                dir,
                b": ",
                tcpwrap::sys::strerror(&e).as_bytes(),
            ]
            .concat(),
        ),
        Ok(m) if !m.is_dir() => {
            c.warn([b"REAL_DAEMON_DIR ".as_slice(), dir, b" is not a directory"].concat())
        }
        Ok(_) => {}
    }
    for p in [allow, deny] {
        let _ = inetcf::check_path(p, &mut c.r);
    }
    c.conf_name = match inetcf::inet_cfg(inet_conf, &mut c.svc, &mut c.r) {
        Ok(inetcf::Config::Read(n)) => n,
        Ok(inetcf::Config::None) => b"(null)".to_vec(),
        Err((name, e)) => {
            c.flush_out();
            let _ = writeln!(
                std::io::stderr(),
                "open {}: {}",
                String::from_utf8_lossy(&name),
                tcpwrap::sys::strerror(&e)
            );
            return 1;
        }
    };
    if c.verbose > 0 && c.json.is_none() {
        let conf = c.conf_name.clone();
        c.out.extend_from_slice(
            &[
                b"Using network configuration file: ".as_slice(),
                &conf,
                b"\n",
            ]
            .concat(),
        );
    }
    for d in DEBIAN_WRAPPED {
        c.svc.set(d.as_bytes(), Wrap::Yes);
    }
    let mut req = Request::new();
    req.set_daemon(b"daemon_name");
    req.set_server_name(b"server_hostname");
    req.set_server_addr(b"server_addr");
    req.set_user(b"user_name");
    req.set_client_name(b"client_hostname");
    req.set_client_addr(b"client_addr");
    req.fd = 1;
    if c.check_table(allow, true, &mut req) {
        c.check_table(deny, false, &mut req);
    }
    if c.denying_error {
        EXIT_DENYING_ERROR
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(not_inaddr(b"a.b"));
        assert!(!not_inaddr(b"10.0.0.0/8"));
        assert!(reserved_name(b"local") && reserved_name(b"Paranoid") && !reserved_name(b"FAIL"));
        assert!(cidr_ok(b"24abc") && !cidr_ok(b"0") && !cidr_ok(b"33"));
        assert!(is_inet6_addr(b"[::1]") && !is_inet6_addr(b"[10.1.1.1]") && !is_inet6_addr(b"::1"));
        assert_eq!(memchr_nl(b"ab\ncd", 10), 3);
        assert_eq!(memchr_nl(b"abcd", 2), 2);
    }
}
