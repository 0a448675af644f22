//! Evaluation (§2): allow table, then deny table, first match, default grant,
//! with the options of the matched rule and their early exits.

use std::sync::Arc;

use crate::ctx::{Ctx, Lookup, LookupKind};
use crate::diag::{Diagnostic, Level};
use crate::env::{Env, FileContent};
use crate::exec::{Action, Executor, Outcome};
use crate::expand::{OPTION_LIMIT, expand};
use crate::options::{self, OptKind};
use crate::pattern::{ClientPat, DaemonPat, HostPat};
use crate::request::{PARANOID, Request, Side, UNKNOWN};
use crate::table::{Entry, Item, Rule, Table};
use crate::text::{chop, eq_ci, is_c_space, strip_mapped};

/// Process-wide settings that an evaluation reads and options may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// syslog priority of grants (`allow_severity`, LOG_INFO by default).
    pub allow_severity: i32,
    /// syslog priority of refusals (`deny_severity`, LOG_WARNING by default).
    pub deny_severity: i32,
    /// RFC 931 time-out in seconds.
    pub rfc931_timeout: u32,
    /// Dry run (tcpdmatch, tcpdchk): options with lasting effects are not run.
    pub dry_run: bool,
    /// A long-running process: `twist` is refused.
    pub resident: bool,
    /// `hosts_access_verbose`: 1 logs `option:` lines, 2 also `matched:`.
    pub verbose: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_severity: Level::Info as i32,
            deny_severity: Level::Warning as i32,
            rfc931_timeout: 10,
            dry_run: false,
            resident: false,
            verbose: 0,
        }
    }
}

/// A table as found on disk.
#[derive(Debug, Clone, Copy)]
pub enum TableRef<'t> {
    /// `ENOENT`: an empty table.
    Missing,
    /// Could not be opened for another reason: `warning: cannot open PATH: ERROR`
    /// and the table's result is ERROR.
    Unreadable {
        path: &'t [u8],
        error: &'t str,
    },
    Compiled(&'t Table),
}

/// Grant or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Grant,
    Deny,
}

/// Why the decision was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A hosts.allow rule matched.
    AllowRule,
    /// A hosts.deny rule matched.
    DenyRule,
    /// No rule matched: default grant.
    NoMatch,
    /// The deny table could not be read completely (unreadable, missing
    /// final newline, over-long line): everyone not allowed is denied.
    DenyTableError,
    /// An `allow` option.
    AllowOption,
    /// A `deny` option.
    DenyOption,
    /// An option error (`error:` logged).
    OptionError,
    /// A `twist` option took over (or, in a dry run, would take over).
    Twist,
    /// The original would have exited here (expansion overflow, failed twist).
    Exit,
}

/// A rule's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub file: Arc<[u8]>,
    pub line: u32,
}

/// An option that took effect (or would have, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRun {
    pub kind: OptKind,
    /// The keyword as written.
    pub key: Vec<u8>,
    /// The value after expansion.
    pub value: Option<Vec<u8>>,
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub reason: Reason,
    /// The deciding rule (or the erroneous line of the deny table).
    pub rule: Option<RuleRef>,
    /// Options of matched rules, in order.
    pub options: Vec<OptionRun>,
    /// External look-ups made, in order.
    pub lookups: Vec<Lookup>,
    /// Everything the original would log, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// Settings after the options ran (severities, rfc931 time-out, dry run
    /// cleared by `twist`).
    pub settings: Settings,
    /// The command of a `twist` that the executor did not replace the
    /// process with (dry runs and non-executing callers).
    pub twist: Option<Vec<u8>>,
    /// The original would `sleep(5); exit(0)` here.
    pub exit: bool,
    /// The table context (`FILE, line N:`) the original leaves in effect
    /// after the check: set when options ended the check early (`allow`,
    /// `deny`, an error), `None` after a normal scan. Later diagnostics of
    /// the same process (e.g. `%` expansion by the caller) carry it.
    pub context: Option<RuleRef>,
}

impl Verdict {
    pub fn granted(&self) -> bool {
        self.decision == Decision::Grant
    }
}

/// Outcome of a table scan or of options.
enum Flow {
    NoMatch,
    Match(RuleRef),
    Error(RuleRef),
    /// Early exit with a final decision.
    Final(Decision, Reason, RuleRef),
}

/// Maximum nesting of `/file` pattern lists (the original recurses without
/// bound and crashes on a loop).
pub const MAX_FILE_DEPTH: usize = 16;

/// A fatal problem while matching: the request is denied.
struct Abort;

type M = Result<bool, Abort>;

struct Eval<'a, 'e> {
    req: &'a mut Request,
    ctx: Ctx<'e>,
    settings: Settings,
    exec: &'a mut dyn Executor,
    options: Vec<OptionRun>,
    aclexec_failed: bool,
    twist: Option<Vec<u8>>,
}

/// Decide a request: `hosts_access()`.
pub fn check(
    allow: TableRef<'_>,
    deny: TableRef<'_>,
    req: &mut Request,
    env: Env<'_>,
    settings: Settings,
    exec: &mut dyn Executor,
) -> Verdict {
    check_tables(
        &mut |t| if t == Which::Allow { allow } else { deny },
        req,
        env,
        settings,
        exec,
    )
}

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Allow,
    Deny,
}

/// Decide a request, asking for each table only when it is consulted (the
/// deny table is not needed when the allow table decides, and the original
/// does not open it then either).
pub fn check_tables<'t>(
    tables: &mut dyn FnMut(Which) -> TableRef<'t>,
    req: &mut Request,
    env: Env<'_>,
    settings: Settings,
    exec: &mut dyn Executor,
) -> Verdict {
    let mut ev = Eval::new(req, env, settings, exec);
    let (decision, reason, rule) = match ev.scan(tables(Which::Allow)) {
        Flow::Match(r) => (Decision::Grant, Reason::AllowRule, Some(r)),
        Flow::Final(d, why, r) => (d, why, Some(r)),
        Flow::NoMatch | Flow::Error(_) => match ev.scan(tables(Which::Deny)) {
            Flow::NoMatch => (Decision::Grant, Reason::NoMatch, None),
            Flow::Match(r) => (Decision::Deny, Reason::DenyRule, Some(r)),
            Flow::Error(r) => (Decision::Deny, Reason::DenyTableError, Some(r)),
            Flow::Final(d, why, r) => (d, why, Some(r)),
        },
    };
    let mut settings = ev.settings;
    settings.rfc931_timeout = ev.ctx.rfc931_timeout;
    let context = ev
        .ctx
        .position
        .take()
        .map(|(file, line)| RuleRef { file, line });
    let reason = if ev.twist.is_some() && reason != Reason::OptionError {
        Reason::Twist
    } else {
        reason
    };
    Verdict {
        decision,
        reason,
        rule,
        options: ev.options,
        lookups: ev.ctx.lookups,
        diagnostics: ev.ctx.diagnostics,
        settings,
        twist: ev.twist,
        exit: reason == Reason::Exit,
        context,
    }
}

/// Run an option string outside a table scan: the original's
/// `process_options()`, as tcpdchk and applications call it. `position` is
/// the diagnostic context (`FILE, line N:`) in effect. The verdict's reason
/// tells how the options ended: [`Reason::AllowOption`],
/// [`Reason::DenyOption`], [`Reason::OptionError`], [`Reason::Exit`] (the
/// original would exit), or [`Reason::NoMatch`] when they ran to the end
/// (decision Grant). `rule` is `None`; `context` is the position when the
/// options ended early.
pub fn process_options(
    options: &[u8],
    position: Option<RuleRef>,
    req: &mut Request,
    env: Env<'_>,
    settings: Settings,
    exec: &mut dyn Executor,
) -> Verdict {
    let mut ev = Eval::new(req, env, settings, exec);
    ev.ctx.position = position.map(|r| (r.file, r.line));
    let (decision, reason) = ev
        .run_options(options, 0)
        .unwrap_or((Decision::Grant, Reason::NoMatch));
    let mut settings = ev.settings;
    settings.rfc931_timeout = ev.ctx.rfc931_timeout;
    let context = if reason == Reason::NoMatch {
        None
    } else {
        ev.ctx
            .position
            .take()
            .map(|(file, line)| RuleRef { file, line })
    };
    let reason = if ev.twist.is_some() && reason == Reason::NoMatch {
        Reason::Twist
    } else {
        reason
    };
    Verdict {
        decision,
        reason,
        rule: None,
        options: ev.options,
        lookups: ev.ctx.lookups,
        diagnostics: ev.ctx.diagnostics,
        settings,
        twist: ev.twist,
        exit: reason == Reason::Exit,
        context,
    }
}

impl<'a, 'e> Eval<'a, 'e> {
    /// An evaluation with the process-wide settings applied to its context.
    fn new(
        req: &'a mut Request,
        env: Env<'e>,
        settings: Settings,
        exec: &'a mut dyn Executor,
    ) -> Self {
        let mut ctx = Ctx::new(env);
        ctx.rfc931_timeout = settings.rfc931_timeout;
        ctx.deny_severity = settings.deny_severity;
        Eval {
            req,
            ctx,
            settings,
            exec,
            options: Vec::new(),
            aclexec_failed: false,
            twist: None,
        }
    }

    fn scan(&mut self, table: TableRef<'_>) -> Flow {
        let t = match table {
            TableRef::Missing => return Flow::NoMatch,
            TableRef::Unreadable { path, error } => {
                let mut m = b"cannot open ".to_vec();
                m.extend_from_slice(path);
                m.extend_from_slice(b": ");
                m.extend_from_slice(error.as_bytes());
                self.ctx.position = None;
                self.ctx.warn(m);
                return Flow::Error(RuleRef {
                    file: path.into(),
                    line: 0,
                });
            }
            TableRef::Compiled(t) => t,
        };
        let flow = self.scan_table(t);
        if !matches!(flow, Flow::Final(..)) {
            self.ctx.position = None;
            self.ctx.column = None;
        }
        flow
    }

    fn scan_table(&mut self, t: &Table) -> Flow {
        let mut i = 0usize;
        let mut run_idx = 0usize;
        let n = t.entries.len();
        while i < n {
            // An indexed run starting here?
            while run_idx < t.runs.len() && (t.runs[run_idx].first as usize) < i {
                run_idx += 1;
            }
            if let Some(run) = t.runs.get(run_idx).filter(|r| r.first as usize == i) {
                match self.match_run(t, run) {
                    Ok(Some(e)) => return self.matched(t, e),
                    Ok(None) => {
                        i += run.count as usize;
                        continue;
                    }
                    Err(Abort) => return self.abort(t, &t.entries[i]),
                }
            }
            match &t.entries[i] {
                Entry::NoSeparator { line } => {
                    self.at(t, *line, None);
                    self.ctx.warn(b"missing \":\" separator".to_vec());
                }
                e @ Entry::Addr { line, list, .. } => {
                    self.at(t, *line, None);
                    match self.addr_rule_matches(t, *list, t.addr_text(e)) {
                        Ok(true) => return self.matched(t, i),
                        Ok(false) => {}
                        Err(Abort) => return self.abort(t, &t.entries[i]),
                    }
                }
                Entry::Rule(r) => {
                    let r = t.rule(*r);
                    self.at(t, r.line, None);
                    match self.rule_matches(t, r) {
                        Ok(true) => return self.matched(t, i),
                        Ok(false) => {}
                        Err(Abort) => return self.abort(t, &t.entries[i]),
                    }
                }
            }
            i += 1;
        }
        if let Some(line) = t.error_line {
            self.at(t, line, None);
            self.ctx.warn(b"missing newline or line too long".to_vec());
            self.ctx
                .warn(b"all the subsequent rules will be ignored".to_vec());
            return Flow::Error(RuleRef {
                file: t.name.clone(),
                line,
            });
        }
        Flow::NoMatch
    }

    fn abort(&mut self, t: &Table, e: &Entry) -> Flow {
        let line = t.line_of(e);
        Flow::Final(
            Decision::Deny,
            Reason::OptionError,
            RuleRef {
                file: t.name.clone(),
                line,
            },
        )
    }

    fn at(&mut self, t: &Table, line: u32, column: Option<u32>) {
        self.ctx.position = Some((t.name.clone(), line));
        self.ctx.column = column;
    }

    /// Entry index of the first rule of an indexed run that matches.
    fn match_run(&mut self, t: &Table, run: &crate::table::Run) -> Result<Option<usize>, Abort> {
        let mut matched: u64 = 0;
        for (id, list) in run.daemon_lists.iter().enumerate() {
            let items = &t.daemons[list.start as usize..(list.start + list.len) as usize];
            if self.list_match(items, &mut |ev, p| ev.daemon_match(t.arena(), p))? {
                matched |= 1 << id;
            }
        }
        if matched == 0 {
            return Ok(None);
        }
        let first_line = t.line_of(&t.entries[run.first as usize]);
        self.at(t, first_line, None);
        let addr = self.req.addr(Side::Client, &mut self.ctx);
        let found = t.run_find(run, addr, |e| matched & (1 << run.list_of(e)) != 0);
        Ok(found.map(|e| e as usize))
    }

    fn rule_matches(&mut self, t: &Table, r: &Rule) -> M {
        let arena = t.arena();
        if !self.list_match(t.daemon_items(r), &mut |ev, p| ev.daemon_match(arena, p))? {
            return Ok(false);
        }
        self.list_match(t.client_items(r), &mut |ev, p| ev.client_match(arena, p))
    }

    /// A compact single-address rule: the daemon list, then the address
    /// (`::ffff:`-stripped, as every string pattern sees it) against the
    /// rule's address text.
    fn addr_rule_matches(&mut self, t: &Table, list: u32, text: &[u8]) -> M {
        let arena = t.arena();
        if !self.list_match(t.list_items(list), &mut |ev, p| ev.daemon_match(arena, p))? {
            return Ok(false);
        }
        let addr = self.req.addr(Side::Client, &mut self.ctx);
        Ok(strip_mapped(addr).unwrap_or(addr) == text)
    }

    /// A rule matched: run its options and apply the aclexec result.
    fn matched(&mut self, t: &Table, i: usize) -> Flow {
        let (line, opts) = match &t.entries[i] {
            Entry::Rule(r) => {
                let r = t.rule(*r);
                (r.line, t.options(r).map(|o| (o, r.options_column)))
            }
            Entry::Addr { line, .. } => (*line, None),
            Entry::NoSeparator { .. } => return Flow::NoMatch,
        };
        let here = RuleRef {
            file: t.name.clone(),
            line,
        };
        self.at(t, line, None);
        if self.settings.verbose > 1 {
            let mut m = b"matched:  ".to_vec();
            m.extend_from_slice(&t.name);
            m.extend_from_slice(format!(" line {line}").as_bytes());
            self.ctx.log(Level::Debug, m);
        }
        if let Some((opts, column)) = opts {
            if let Some((d, why)) = self.run_options(opts, column) {
                return Flow::Final(d, why, here);
            }
            if self.aclexec_failed {
                self.ctx.column = None;
                self.ctx.log(Level::Info, b"aclexec returned 1".to_vec());
                return Flow::NoMatch;
            }
        }
        Flow::Match(here)
    }

    fn list_match<P>(&mut self, items: &[Item<P>], m: &mut dyn FnMut(&mut Self, &P) -> M) -> M {
        for (i, it) in items.iter().enumerate() {
            match it {
                Item::Except => return Ok(false),
                Item::Pat(p) => {
                    if m(self, p)? {
                        let rest = &items[i + 1..];
                        return match rest.iter().position(|x| matches!(x, Item::Except)) {
                            None => Ok(true),
                            Some(e) => Ok(!self.list_match(&rest[e + 1..], m)?),
                        };
                    }
                }
            }
        }
        Ok(false)
    }

    fn daemon_match(&mut self, arena: &[u8], p: &DaemonPat) -> M {
        let name_ok = match p.port {
            Some(port) => self.req.server.sin.is_some_and(|s| s.port() == port),
            None => p.name.matches(arena, self.req.daemon()),
        };
        if !name_ok {
            return Ok(false);
        }
        match &p.host {
            None => Ok(true),
            Some(h) => self.host_match(arena, h, Side::Server, 0),
        }
    }

    fn client_match(&mut self, arena: &[u8], p: &ClientPat) -> M {
        if !self.host_match(arena, &p.host, Side::Client, 0)? {
            return Ok(false);
        }
        match &p.user {
            None => Ok(true),
            Some(u) => {
                let user = self.req.user(&mut self.ctx).to_vec();
                Ok(u.matches(arena, &user))
            }
        }
    }

    fn host_match(&mut self, arena: &[u8], p: &HostPat, side: Side, depth: usize) -> M {
        Ok(match p {
            HostPat::Netgroup(g) => {
                let name = self.req.name(side, &mut self.ctx).to_vec();
                let group = g.get(arena);
                let yes = self.ctx.env.netgroups.innetgr(group, &name);
                self.ctx.record_subject(
                    LookupKind::Netgroup,
                    group,
                    if yes { b"yes" } else { b"no" },
                );
                yes
            }
            HostPat::File(path) => return self.file_match(path.get(arena), side, depth),
            HostPat::Known => {
                let name = self.req.name(side, &mut self.ctx).to_vec();
                let addr = self.req.addr(side, &mut self.ctx);
                !eq_ci(addr, UNKNOWN) && known(&name)
            }
            HostPat::Local => {
                let name = self.req.name(side, &mut self.ctx);
                !name.contains(&b'.') && known(name)
            }
            HostPat::NetMask(nm) => {
                let addr = self.req.addr(side, &mut self.ctx);
                nm.matches(addr)
            }
            HostPat::Plain { pat, name_too } => {
                let addr = self.req.addr(side, &mut self.ctx);
                if pat.matches(arena, addr) {
                    true
                } else if *name_too {
                    let name = self.req.name(side, &mut self.ctx);
                    pat.matches(arena, name)
                } else {
                    false
                }
            }
        })
    }

    /// A `/file` pattern list: whitespace-separated host patterns, first
    /// match wins.
    fn file_match(&mut self, path: &[u8], side: Side, depth: usize) -> M {
        if depth >= MAX_FILE_DEPTH {
            let mut m = b"pattern file nesting too deep (loop?): ".to_vec();
            m.extend_from_slice(path);
            self.ctx.error(m);
            return Err(Abort);
        }
        let content = self.ctx.env.files.read(path);
        let data = match content {
            FileContent::Data(d) => d,
            FileContent::Missing | FileContent::Directory => return Ok(false),
            FileContent::Error(e) => {
                let mut m = b"open ".to_vec();
                m.extend_from_slice(path);
                m.extend_from_slice(b": ");
                m.extend_from_slice(e.as_bytes());
                self.ctx.warn(m);
                return Ok(false);
            }
        };
        self.ctx
            .record_subject(LookupKind::PatternFile, path, b"read");
        for word in data.split(|&b| is_c_space(b)).filter(|w| !w.is_empty()) {
            let mut arena = Vec::new();
            let p = HostPat::classify(&mut arena, word);
            if self.host_match(&arena, &p, side, depth + 1)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Run an option string. Returns a final decision on an early exit.
    fn run_options(&mut self, opts: &[u8], column: u32) -> Option<(Decision, Reason)> {
        let fields = options::split_fields(opts);
        let col_of = |off: usize| {
            if column == 0 {
                None
            } else {
                Some(column + off as u32)
            }
        };
        if let Some(f) = fields.first().filter(|f| f.ends_in_colon) {
            self.ctx.column = col_of(f.offset);
            self.ctx.warn(b"rule ends in \":\"".to_vec());
        }
        for (i, f) in fields.iter().enumerate() {
            let next = fields.get(i + 1);
            if let Some(nf) = next.filter(|nf| nf.ends_in_colon) {
                self.ctx.column = col_of(nf.offset);
                self.ctx.warn(b"rule ends in \":\"".to_vec());
            }
            let kv = options::key_value(&f.text);
            self.ctx.column = col_of(f.offset + kv.key_offset);
            if let Some(flow) = self.run_option(&kv, next.is_some()) {
                return Some(flow);
            }
        }
        None
    }

    fn fail(&mut self, msg: Vec<u8>) -> Option<(Decision, Reason)> {
        self.ctx.error(msg);
        Some((Decision::Deny, Reason::OptionError))
    }

    fn run_option(&mut self, kv: &options::KeyValue<'_>, more: bool) -> Option<(Decision, Reason)> {
        let key = kv.key;
        if key.is_empty() {
            return self.fail(b"missing option name".to_vec());
        }
        let quoted = |pre: &str, post: &str| {
            let mut m = pre.as_bytes().to_vec();
            m.extend_from_slice(key);
            m.extend_from_slice(post.as_bytes());
            m
        };
        let Some(kind) = OptKind::lookup(key) else {
            return self.fail(quoted("bad option name: \"", "\""));
        };
        if kv.value.is_none() && kind.needs_value() {
            return self.fail(quoted("option \"", "\" requires value"));
        }
        if kv.value.is_some() && !kind.permits_value() {
            return self.fail(quoted("option \"", "\" requires no value"));
        }
        if more && kind.must_be_last() {
            return self.fail(quoted("option \"", "\" must be at end"));
        }
        let value: Option<Vec<u8>> = match kv.value {
            Some(v) if kind.expands() => match expand(v, OPTION_LIMIT, self.req, &mut self.ctx) {
                Ok(x) => Some(chop(&x).to_vec()),
                Err(_) => return Some((Decision::Deny, Reason::Exit)),
            },
            Some(v) => Some(v.to_vec()),
            None => None,
        };
        if self.settings.verbose >= 1 {
            let mut m = b"option:   ".to_vec();
            m.extend_from_slice(key);
            m.push(b' ');
            m.extend_from_slice(value.as_deref().unwrap_or(b""));
            self.ctx.log(Level::Debug, m);
        }
        self.options.push(OptionRun {
            kind,
            key: key.to_vec(),
            value: value.clone(),
        });
        let v = value.as_deref().unwrap_or(b"");
        let dry = self.settings.dry_run;
        match kind {
            OptKind::Allow => return Some((Decision::Grant, Reason::AllowOption)),
            OptKind::Deny => return Some((Decision::Deny, Reason::DenyOption)),
            OptKind::Severity => match options::parse_severity(v) {
                Ok(p) => {
                    self.settings.allow_severity = p;
                    self.settings.deny_severity = p;
                    self.ctx.deny_severity = p;
                }
                Err(m) => return self.fail(m),
            },
            OptKind::Rfc931 => {
                if let Some(val) = value.as_deref() {
                    match options::parse_rfc931(val) {
                        Ok(n) => self.ctx.rfc931_timeout = n,
                        Err(m) => return self.fail(m),
                    }
                }
                self.req.user(&mut self.ctx);
            }
            OptKind::Keepalive => {
                if !dry {
                    return self.act(&Action::Keepalive);
                }
            }
            OptKind::Linger => match options::parse_linger(v) {
                Ok(n) if !dry => return self.act(&Action::Linger(n)),
                Ok(_) => {}
                Err(m) => return self.fail(m),
            },
            OptKind::Nice => match options::parse_nice(value.as_deref()) {
                Ok(n) if !dry => return self.act(&Action::Nice(n)),
                Ok(_) => {}
                Err(m) => return self.fail(m),
            },
            OptKind::Umask => match options::parse_umask(v) {
                Ok(m) => return self.act(&Action::Umask(m)),
                Err(m) => return self.fail(m),
            },
            OptKind::Setenv => match options::parse_setenv(v) {
                Ok((name, value)) => return self.act(&Action::Setenv { name, value }),
                Err(m) => return self.fail(m),
            },
            OptKind::Banners => return self.act(&Action::Banners { dir: v }),
            OptKind::Spawn => {
                if !dry {
                    return self.act(&Action::Spawn { command: v });
                }
            }
            OptKind::Aclexec => {
                if !dry {
                    return self.act(&Action::Aclexec { command: v });
                }
            }
            OptKind::Alert => match options::parse_alert(v) {
                Some((name, output)) if !dry => return self.act(&Action::Alert { name, output }),
                Some(_) => {}
                // Never an error: an alert does not change the decision.
                None => self.ctx.warn(b"alert: no alert name".to_vec()),
            },
            OptKind::Twist => {
                if dry {
                    self.settings.dry_run = false;
                    self.twist = Some(v.to_vec());
                } else if self.settings.resident {
                    return self.fail(b"twist option in resident process".to_vec());
                } else {
                    let r = self.act(&Action::Twist { command: v });
                    if r.is_none() {
                        self.twist = Some(v.to_vec());
                    }
                    return r;
                }
            }
            OptKind::Group => {
                let Some(gid) = self.ctx.env.accounts.group(v) else {
                    return self.fail(options::unknown_group(v));
                };
                if !dry {
                    return self.act(&Action::Group { group: v, gid });
                }
            }
            OptKind::User => {
                let (user, group) = options::parse_user(v);
                let group = match group {
                    Some(g) => match self.ctx.env.accounts.group(g) {
                        Some(gid) => Some((g, gid)),
                        None => return self.fail(options::unknown_group(g)),
                    },
                    None => None,
                };
                let Some((uid, gid)) = self.ctx.env.accounts.user(user) else {
                    return self.fail(options::unknown_user(user));
                };
                if !dry {
                    return self.act(&Action::User {
                        user,
                        uid,
                        gid,
                        group,
                    });
                }
            }
        }
        None
    }

    fn act(&mut self, a: &Action<'_>) -> Option<(Decision, Reason)> {
        match self.exec.execute(a, self.req, &mut self.ctx) {
            Outcome::Done => {
                if matches!(a, Action::Aclexec { .. }) {
                    self.aclexec_failed = false;
                }
                None
            }
            Outcome::AclexecFailed => {
                self.aclexec_failed = true;
                None
            }
            Outcome::Error(m) => self.fail(m),
            Outcome::Exit => Some((Decision::Deny, Reason::Exit)),
        }
    }
}

fn known(name: &[u8]) -> bool {
    !eq_ci(name, UNKNOWN) && !eq_ci(name, PARANOID)
}
