//! Differential: random tables and requests decided by tcpwrap's engine
//! and by Debian's libwrap (`-lwrap`, package libwrap0-dev) in the same
//! process. Any difference in the verdict, the syslog records (priority
//! and text), the request fields cached after the check, the settings
//! left behind, or a `%` expansion made after the check is a finding,
//! unless docs/divergences.md lists it (those cases are kept out below).
//!
//! Input (see src/case.rs): `daemon`, `cname`, `caddr`, `user`, `sname`,
//! `saddr` (request strings, cut at a NUL as C strings are), `mode=req`
//! (request_init/request_set/hosts_access instead of hosts_ctl),
//! `verbose=N`, `dry=1`, `expand=PATTERN` (req mode: percent_x after the
//! check), `allow=`/`deny=` `missing` or `dir`; section 1 is hosts.allow,
//! section 2 hosts.deny. `$DIR` in a table stands for the target's
//! directory, which holds the `/file` lists `list0` (addresses and a
//! suffix), `list1` (naming list0, a netgroup, KNOWN, a v6 address and a
//! network), the directory `list2`, and the banner file `sshd`.
//!
//! Kept out (docs/divergences.md): `alert` options (E9: not an option of
//! Debian's); `user`/`group` options in dry runs
//! (E1: Debian switches the identity of the checking process); the
//! aclexec flag across requests (E2: every case starts afresh, and aclexec
//! commands succeed); over-long expansions end Debian's process (E3): when
//! tcpwrap predicts it, Debian runs in a forked child and must end there;
//! `/file` loops (E5: no list names itself); FIFOs, devices and other
//! files outside the target's directory (E6): tables whose paths leave it
//! are not run, and the process works in that directory (a relative
//! `banners` directory is inside it). Lines with more than four `*` are
//! not run either: Debian's wildcard match takes exponential time (seven
//! stars against a 120-byte host name: 37 s per check; tcpwrap's match is
//! linear), so such cases only time out. Neither are link-local IPv6
//! addresses with a `%scope` naming an interface that does not exist
//! (Debian's library looks the name up; the engine does no I/O).
//!
//! Debian's library is kept from acting on the process (c/debian.c): no
//! command is executed, identity, priority, umask and environment stay as
//! they are, nothing reaches syslog. tcpwrap's side uses an executor that
//! reproduces what those stand-ins make Debian observe.

#![no_main]

use std::ffi::{CString, c_char, c_int};
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tcpwrap::cache::{CachedFiles, Loaded, TableCache};
use tcpwrap::resolver::{SystemAccounts, SystemNetgroups};
use tcpwrap_core::options::{self, OptKind};
use tcpwrap_core::reader::LineReader;
use tcpwrap_core::text::split_at_bracket;
use tcpwrap_core::{
    Action, Ctx, Env, Executor, Offline, Outcome, Request, Settings, Table, TableRef, check,
};
use tcpwrap_fuzz::case::Case;

#[repr(C)]
struct FzCase {
    allow: *const c_char,
    deny: *const c_char,
    req_mode: c_int,
    field: [*const c_char; 6],
    verbose: c_int,
    dry: c_int,
    expand: *const c_char,
}

#[repr(C)]
struct FzResult {
    verdict: c_int,
    exited: c_int,
    pid: c_int,
    state: [[c_char; 128]; 6],
    allow_sev: c_int,
    deny_sev: c_int,
    dry_run: c_int,
    rfc931_timeout: c_int,
    has_expand: c_int,
    expand: [c_char; 1024],
}

unsafe extern "C" {
    fn fz_debian_run(c: *const FzCase, out: *mut FzResult);
    fn fz_debian_run_forked(c: *const FzCase, out: *mut FzResult) -> c_int;
    fn fz_debian_log(len: *mut usize) -> *const c_char;
}

const FIELDS: [&str; 6] = ["daemon", "cname", "caddr", "user", "sname", "saddr"];

struct Setup {
    dir: PathBuf,
    dir_bytes: Vec<u8>,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        // A tmpfs when there is one: the tables are written for every input.
        let base = ["/dev/shm", "/run/shm"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("tcpwrap-fuzz-diff-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("list2")).expect("directory");
        std::fs::create_dir_all(dir.join("adir")).expect("directory");
        let d = dir.to_str().expect("UTF-8 directory").to_string();
        std::fs::write(
            dir.join("list0"),
            "10.0.0.1 10.0.0.2\n.example.com\n# 10.0.0.3\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("list1"),
            format!("10.9.9.9 {d}/list0 @ng KNOWN\n[::1] 10.0.0.0/8"),
        )
        .expect("write");
        std::fs::write(dir.join("sshd"), "Hello %a from %d\n").expect("write");
        // Relative paths (a banners directory) resolve in here.
        std::env::set_current_dir(&dir).expect("chdir");
        Setup {
            dir_bytes: d.into_bytes(),
            dir,
        }
    })
}

/// What a table may name without leaving the target's directory: no
/// `..`, and every `/` that could start a path is the start of the
/// directory's own path (a `/` after a letter, digit, dot or `]` is part
/// of a word such as `10.0.0.0/8`).
fn stays_inside(s: &Setup, line: &[u8]) -> bool {
    if memchr::memmem::find(line, b"..").is_some() {
        return false;
    }
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'/' {
            if line[i..].starts_with(&s.dir_bytes) {
                i += s.dir_bytes.len();
                continue;
            }
            let prev = if i == 0 { b' ' } else { line[i - 1] };
            if !(prev.is_ascii_alphanumeric() || prev == b'.' || prev == b']') {
                return false;
            }
        }
        i += 1;
    }
    true
}

/// Whether `text` holds a link-local IPv6 address whose `%scope` names an
/// interface other than `lo` (the only one in the target's network
/// namespace). Debian's library looks such names up and fails; tcpwrap's
/// engine does no I/O and takes any name (docs/security.md).
fn unknown_interface(text: &[u8]) -> bool {
    let stop = |b: &u8| matches!(b, b']' | b'/' | b',' | b' ' | b'\t' | b'\r' | b'\n');
    for p in memchr::memchr_iter(b'%', text) {
        let rest = &text[p + 1..];
        let scope = &rest[..rest.iter().position(stop).unwrap_or(rest.len())];
        if scope == b"lo" || (!scope.is_empty() && scope.iter().all(u8::is_ascii_digit)) {
            continue;
        }
        let start = text[..p]
            .iter()
            .rposition(|b| stop(b) || *b == b'[' || *b == b'@' || *b == b'=')
            .map_or(0, |i| i + 1);
        let Ok(a) = std::str::from_utf8(&text[start..p])
            .unwrap_or("")
            .parse::<std::net::Ipv6Addr>()
        else {
            continue;
        };
        let o = a.octets();
        if (o[0] == 0xfe && o[1] & 0xc0 == 0x80) || (o[0] == 0xff && o[1] & 0x0f == 0x02) {
            return true;
        }
    }
    false
}

/// Whether Debian's library may run this case here (see the module
/// comment): the patterns of every rule, and the directory of a
/// `banners` option, stay inside the target's directory; there is no
/// `alert` option, and a dry run has no `user` or `group` option. The logical lines and their fields are taken
/// apart as both libraries do (commands of `spawn`, `twist` and `aclexec`
/// are never run, so they are not looked at).
fn runnable(s: &Setup, c: &Case, tables: &[Vec<u8>; 2], dry: bool) -> bool {
    for t in tables {
        for l in LineReader::new(t) {
            let text = &l.text[..];
            let Some(p1) = split_at_bracket(text, b':') else {
                continue;
            };
            let rest = &text[p1 + 1..];
            let (clients, opts) = match split_at_bracket(rest, b':') {
                Some(p2) => (&rest[..p2], &rest[p2 + 1..]),
                None => (rest, &b""[..]),
            };
            if !stays_inside(s, &text[..p1]) || !stays_inside(s, clients) {
                return false;
            }
            if unknown_interface(&text[..p1]) || unknown_interface(clients) {
                return false;
            }
            // Debian's wildcard match backtracks exponentially: seven `*`
            // against a 120-byte name take 37 s (tcpwrap's is linear).
            // Up to four stay within milliseconds.
            if text.iter().filter(|&&b| b == b'*').count() > 4 {
                return false;
            }
            for f in options::split_fields(opts) {
                let kv = options::key_value(&f.text);
                match OptKind::lookup(kv.key) {
                    Some(OptKind::Banners) if !stays_inside(s, kv.value.unwrap_or(b"")) => {
                        return false;
                    }
                    Some(OptKind::User | OptKind::Group) if dry => return false,
                    // E9: `alert` is an option of tcpwrap only.
                    Some(OptKind::Alert) => return false,
                    _ => {}
                }
            }
        }
    }
    FIELDS
        .iter()
        .all(|k| c.get(k).is_none_or(|v| !unknown_interface(v)))
        && c.get("daemon")
            .is_none_or(|d| memchr::memmem::find(d, b"..").is_none())
}

/// What Debian's library observes with the stand-ins of c/debian.c, on a
/// request without a descriptor (fd -1). `forks`: a `spawn` or `aclexec`
/// ran, for which Debian's library forks and waits.
#[derive(Default)]
struct DiffExec {
    forks: bool,
}

impl Executor for DiffExec {
    fn execute(&mut self, a: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome {
        match *a {
            Action::Spawn { .. } | Action::Aclexec { .. } => self.forks = true,
            Action::Keepalive => ctx.warn(b"setsockopt SO_KEEPALIVE: Bad file descriptor".to_vec()),
            Action::Linger(n) => {
                ctx.warn(format!("setsockopt SO_LINGER {n}: Bad file descriptor").into_bytes())
            }
            Action::Twist { command } => {
                let client = req.client_info(ctx);
                ctx.log_priority(
                    ctx.deny_severity,
                    [b"twist ".as_slice(), &client, b" to ", command].concat(),
                );
                ctx.warn(b"twist_option: dup: Bad file descriptor".to_vec());
                return Outcome::Exit;
            }
            Action::Banners { .. } => {
                return tcpwrap::exec::SystemExecutor::new().execute(a, req, ctx);
            }
            // nice(), umask(), setenv() change nothing; spawn and aclexec
            // commands "succeed" (their child exits 0); user and group are
            // only validated in real runs (E1).
            _ => {}
        }
        Outcome::Done
    }
}

#[derive(Debug, PartialEq)]
struct Observed {
    /// None: the process ended during the check.
    verdict: Option<bool>,
    exited: bool,
    logs: Vec<(i32, String)>,
    state: Vec<(&'static str, String)>,
    expand: Option<String>,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn c_field(b: &[c_char]) -> Vec<u8> {
    b.iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect()
}

fn cut(v: &[u8]) -> &[u8] {
    &v[..memchr::memchr(0, v).unwrap_or(v.len())]
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let c = Case::parse(data);
    let dry = c.flag("dry");
    let req_mode = c.get("mode") == Some(b"req");
    let verbose = c.num("verbose", 0).min(2) as u8;
    let dir = &s.dir_bytes;
    let subst = |t: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(t.len());
        let mut rest = t;
        while let Some(p) = memchr::memmem::find(rest, b"$DIR") {
            out.extend_from_slice(&rest[..p]);
            out.extend_from_slice(dir);
            rest = &rest[p + 4..];
        }
        out.extend_from_slice(rest);
        out
    };
    let texts = [subst(c.section(0)), subst(c.section(1))];
    if !runnable(s, &c, &texts, dry) {
        return;
    }
    let fields: Vec<Option<Vec<u8>>> = FIELDS
        .iter()
        .map(|k| c.get(k).map(|v| cut(v).to_vec()))
        .collect();
    let expand = if req_mode {
        c.get("expand").map(|v| cut(v).to_vec())
    } else {
        None
    };

    // The tables on disk.
    let cache = TableCache::new();
    let mut paths = Vec::new();
    let mut ours: Vec<Option<Table>> = Vec::new();
    let mut dirs: Vec<Loaded> = Vec::new();
    for (i, (which, t)) in ["allow", "deny"].iter().zip(&texts).enumerate() {
        let p = match c.get(which) {
            Some(b"missing") => s.dir.join(format!("missing{i}")),
            Some(b"dir") => s.dir.join("adir"),
            _ => {
                let p = s.dir.join(which);
                std::fs::write(&p, t).expect("write table");
                p
            }
        };
        let pb = p.to_str().expect("UTF-8").as_bytes().to_vec();
        match c.get(which) {
            Some(b"missing") => ours.push(None),
            Some(b"dir") => {
                ours.push(None);
                dirs.push(cache.load(&pb));
            }
            _ => ours.push(Some(Table::compile(&pb, t))),
        }
        paths.push(pb);
    }
    let mut di = dirs.iter();
    let refs: Vec<TableRef<'_>> = (0..2)
        .map(|i| match (&ours[i], c.get(["allow", "deny"][i])) {
            (Some(t), _) => TableRef::Compiled(t),
            (None, Some(b"dir")) => match di.next() {
                Some(Loaded::Table(t)) => TableRef::Compiled(t),
                Some(Loaded::Unreadable { path, error }) => TableRef::Unreadable { path, error },
                _ => TableRef::Missing,
            },
            _ => TableRef::Missing,
        })
        .collect();

    // tcpwrap.
    let mut req = if req_mode {
        let mut r = Request::new();
        for (k, v) in FIELDS.iter().zip(&fields) {
            let Some(v) = v else { continue };
            match *k {
                "daemon" => r.set_daemon(v),
                "cname" => r.set_client_name(v),
                "caddr" => r.set_client_addr(v),
                "user" => r.set_user(v),
                "sname" => r.set_server_name(v),
                _ => r.set_server_addr(v),
            }
        }
        r
    } else {
        let f = |i: usize| fields[i].as_deref().unwrap_or(b"");
        Request::from_ctl(f(0), f(1), f(2), f(3))
    };
    let files = CachedFiles::default();
    let env = Env {
        resolver: &Offline,
        ident: &Offline,
        netgroups: &SystemNetgroups,
        files: &files,
        accounts: &SystemAccounts,
    };
    let settings = Settings {
        dry_run: dry,
        verbose,
        ..Settings::default()
    };
    let mut exec = DiffExec::default();
    let v = check(refs[0], refs[1], &mut req, env, settings, &mut exec);
    let mut mine = Observed {
        verdict: (!v.exit).then(|| v.granted()),
        exited: v.exit,
        logs: v
            .diagnostics
            .iter()
            .map(|d| (d.priority(), text(&d.text())))
            .collect(),
        state: Vec::new(),
        expand: None,
    };
    if !v.exit {
        let f = |o: Option<&[u8]>| text(o.unwrap_or(b""));
        if req_mode {
            mine.state = vec![
                ("cname", f(req.client.cached_name())),
                ("caddr", f(req.client.cached_addr())),
                ("user", f(req.cached_user())),
                ("sname", f(req.server.cached_name())),
                ("saddr", f(req.server.cached_addr())),
                ("daemon", text(req.daemon())),
            ];
        }
        mine.state.extend([
            ("allow_sev", v.settings.allow_severity.to_string()),
            ("deny_sev", v.settings.deny_severity.to_string()),
            ("dry_run", (v.settings.dry_run as i32).to_string()),
            ("rfc931_timeout", v.settings.rfc931_timeout.to_string()),
        ]);
        if let Some(e) = &expand {
            let mut ctx = Ctx::new(env);
            ctx.position = v.context.as_ref().map(|r| (r.file.clone(), r.line));
            match tcpwrap_core::expand::expand(e, 1024, &mut req, &mut ctx) {
                Ok(x) => mine.expand = Some(text(&x)),
                Err(_) => mine.exited = true,
            }
            mine.logs.extend(
                ctx.diagnostics
                    .iter()
                    .map(|d| (d.priority(), text(&d.text()))),
            );
        }
    }

    // Debian.
    let cstr = |v: &[u8]| CString::new(v).expect("cut at NUL");
    let cpaths: Vec<CString> = paths.iter().map(|p| cstr(p)).collect();
    let cfields: Vec<Option<CString>> = fields.iter().map(|f| f.as_deref().map(cstr)).collect();
    let cexpand = expand.as_deref().map(cstr);
    let fc = FzCase {
        allow: cpaths[0].as_ptr(),
        deny: cpaths[1].as_ptr(),
        req_mode: req_mode as c_int,
        field: std::array::from_fn(|i| {
            cfields[i].as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
        }),
        verbose: c_int::from(verbose),
        dry: dry as c_int,
        expand: cexpand.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
    };
    // SAFETY: all-zero is a valid FzResult (integers and char arrays).
    let mut out: FzResult = unsafe { std::mem::zeroed() };
    // SAFETY: fc's pointers are NULL or C strings that outlive the call;
    // out is writable. The forked variant is used when tcpwrap predicts
    // that Debian's library ends the process, and when it forks commands
    // itself: it waits for them with wait(), which libFuzzer's timer
    // signal would interrupt here (and any other child of this process
    // could be reaped instead), not in a fresh child.
    let crashed = unsafe {
        if mine.exited || exec.forks {
            fz_debian_run_forked(&fc, &mut out) != 0
        } else {
            fz_debian_run(&fc, &mut out);
            false
        }
    };
    assert!(
        !crashed,
        "Debian's libwrap crashed on this case (wait status {:#x})",
        out.verdict
    );
    let mut len = 0usize;
    // SAFETY: the C side returns its log buffer and its length.
    let log = unsafe {
        let p = fz_debian_log(&mut len);
        if p.is_null() {
            &[][..]
        } else {
            std::slice::from_raw_parts(p as *const u8, len)
        }
    };
    let mut logs = Vec::new();
    let mut at = 0;
    while at + 8 <= log.len() {
        let pri = i32::from_ne_bytes(log[at..at + 4].try_into().expect("4 bytes"));
        let n = u32::from_ne_bytes(log[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let m = &log[at + 8..at + 8 + n];
        logs.push((pri, text(m)));
        at += 8 + n;
    }
    let exited = out.exited != 0;
    let mut theirs = Observed {
        verdict: None,
        exited,
        logs,
        state: Vec::new(),
        expand: None,
    };
    // -1: the process ended during the check.
    if out.verdict != -1 {
        theirs.verdict = Some(out.verdict == 1);
    }
    if !exited {
        if req_mode {
            theirs.state = ["cname", "caddr", "user", "sname", "saddr", "daemon"]
                .iter()
                .zip(out.state.iter())
                .map(|(k, v)| (*k, text(&c_field(v))))
                .collect();
        }
        theirs.state.extend([
            ("allow_sev", out.allow_sev.to_string()),
            ("deny_sev", out.deny_sev.to_string()),
            ("dry_run", out.dry_run.to_string()),
            ("rfc931_timeout", out.rfc931_timeout.to_string()),
        ]);
        if out.has_expand != 0 {
            theirs.expand = Some(text(&c_field(&out.expand)));
        }
    } else if mine.verdict.is_some() {
        // Ended in the expansion: the check's state is not reported.
        mine.state.clear();
    }
    if mine != theirs {
        panic!(
            "tcpwrap and Debian's libwrap differ\ncase: {}\nallow: {:?}\ndeny: {:?}\n debian: {theirs:#?}\n ours:   {mine:#?}",
            text(&c.to_bytes()),
            text(&texts[0]),
            text(&texts[1]),
        );
    }
});
