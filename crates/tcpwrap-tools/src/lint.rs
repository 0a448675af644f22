//! Lint checks for `hosts.allow` / `hosts.deny` (`tcpdchk --lint`).
//!
//! Unlike the Debian-compatible `tcpdchk` listing, the lint reports each
//! problem as a [`Finding`] with a stable code, a precise position and, where
//! one exists, a suggested fix, rendered compiler-style by [`render_text`]
//! or as JSON by [`render_json`]. Every check states what the *run-time*
//! library (Debian's libwrap 7.6.q, as `tcpwrap-core` implements it) does
//! with the text; see the table in [`CODES`].
//!
//! # Positions
//!
//! Tables are read with the exact line model of the library
//! ([`LineReader`]): a physical line ending in backslash-newline is joined
//! with the next one. A finding's `line` is the library's diagnostic line
//! number, i.e. the **last physical line** of the logical line (for a
//! logical line that does not end in a newline, the physical line of the
//! last byte read). `column` and `end_column` are **1-based byte offsets in
//! the logical line** (`source_line`); `end_column` is exclusive and always
//! greater than `column`. A column one past the end of the text points at
//! the place where something is missing (a newline).
//!
//! # I/O
//!
//! The lint itself is pure: the table bytes come in through [`LintTable`],
//! and host-name resolution, `/file` pattern existence and account look-ups
//! go through the small [`LintEnv`] trait ([`SystemLintEnv`] is the real
//! one; tests substitute their own).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use tcpwrap_core::options::{self, OptKind};
use tcpwrap_core::pattern::NetMask;
use tcpwrap_core::reader::{LINE_BUF, LineReader};
use tcpwrap_core::text::{
    chop, eq_ci, is_list_sep, parse_v6, scan_uint_complete, split_at_bracket,
};

pub use tcpwrap_core::Which;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The text makes the library deny requests (or fail) at run time.
    Error,
    /// The text almost certainly does not do what it seems to.
    Warning,
    /// Legal and working, but worth knowing.
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// The stable finding codes.
pub mod code {
    pub const IPV6_WITHOUT_BRACKETS: &str = "ipv6-without-brackets";
    pub const MISSING_FINAL_NEWLINE: &str = "deny-missing-final-newline";
    pub const LINE_TOO_LONG: &str = "line-too-long";
    pub const INDENTED_HASH: &str = "indented-hash";
    pub const EMPTY_OPTION: &str = "empty-option";
    pub const UNREACHABLE_RULE: &str = "unreachable-rule";
    pub const DUPLICATE_RULE: &str = "duplicate-rule";
    pub const MISSING_PATTERN_FILE: &str = "missing-pattern-file";
    pub const UNREADABLE_PATTERN_FILE: &str = "unreadable-pattern-file";
    pub const OPTION_AFTER_FINAL: &str = "option-after-final";
    pub const CONTRADICTING_VERDICT: &str = "contradicting-verdict";
    pub const UNRESOLVABLE_HOST: &str = "unresolvable-host";
    pub const MULTI_ADDRESS_HOST: &str = "multi-address-host";
    pub const IMPLICIT_ALLOW: &str = "implicit-allow";
    pub const OPTION_ERROR: &str = "option-error";
    pub const MISSING_SEPARATOR: &str = "missing-separator";
    pub const COMMENT_CONTINUATION: &str = "comment-continuation";
    pub const BAD_NETMASK: &str = "bad-netmask";
    pub const UNREADABLE_TABLE: &str = "unreadable-table";
    pub const UNDEFINED_ALERT: &str = "undefined-alert";
}

/// Every code with its usual severity and a one-line summary.
pub const CODES: &[(&str, &str, &str)] = &[
    (
        code::IPV6_WITHOUT_BRACKETS,
        "error",
        "bare IPv6 address in a client or daemon@host list: the ':' splits the rule",
    ),
    (
        code::MISSING_FINAL_NEWLINE,
        "error (hosts.deny) / warning (hosts.allow)",
        "last line without newline: the table ends with an error there",
    ),
    (
        code::LINE_TOO_LONG,
        "error (hosts.deny) / warning (hosts.allow)",
        "logical line longer than 2046 characters: the table ends with an error there",
    ),
    (
        code::INDENTED_HASH,
        "warning",
        "'#' after leading blanks: not a comment but a rule",
    ),
    (
        code::EMPTY_OPTION,
        "error",
        "empty option field (a stray ':'): run-time error, matching requests are denied",
    ),
    (
        code::UNREACHABLE_RULE,
        "warning",
        "rule after a rule that matches every request (in the file, or in hosts.allow)",
    ),
    (
        code::DUPLICATE_RULE,
        "warning",
        "same daemons, clients and options as an earlier rule of the file",
    ),
    (
        code::MISSING_PATTERN_FILE,
        "warning",
        "/file pattern that does not exist (or is a directory): never matches",
    ),
    (
        code::UNREADABLE_PATTERN_FILE,
        "warning",
        "/file pattern that cannot be opened: warning at run time, never matches",
    ),
    (
        code::OPTION_AFTER_FINAL,
        "error",
        "option after allow, deny or twist: run-time error, matching requests are denied",
    ),
    (
        code::CONTRADICTING_VERDICT,
        "note",
        "allow in hosts.deny or deny in hosts.allow",
    ),
    (
        code::UNRESOLVABLE_HOST,
        "warning",
        "host name pattern that does not resolve: cannot match a verified name",
    ),
    (
        code::MULTI_ADDRESS_HOST,
        "note",
        "daemon@host whose host name has several addresses",
    ),
    (
        code::IMPLICIT_ALLOW,
        "note",
        "hosts.allow rule that grants without an explicit allow (tcpdchk -a)",
    ),
    (
        code::OPTION_ERROR,
        "error",
        "any other run-time option error: matching requests are denied",
    ),
    (
        code::MISSING_SEPARATOR,
        "warning",
        "line without ':': skipped with a warning at run time",
    ),
    (
        code::COMMENT_CONTINUATION,
        "warning",
        "comment ending in '\\': the next line is part of the comment",
    ),
    (
        code::BAD_NETMASK,
        "warning",
        "net/mask pattern that can never match",
    ),
    (
        code::UNREADABLE_TABLE,
        "error (hosts.deny) / warning (hosts.allow)",
        "table that exists but cannot be opened: the table counts as an error",
    ),
    (
        code::UNDEFINED_ALERT,
        "warning",
        "`alert NAME` whose alert the alerts config does not define (or the config cannot be used): logged, not sent",
    ),
];

/// One problem in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The table's display path.
    pub file: Vec<u8>,
    /// Diagnostic line number (see the module documentation).
    pub line: u32,
    /// 1-based byte column in the logical line.
    pub column: u32,
    /// 1-based byte column one past the flagged text (> `column`). Both
    /// are 0 in a finding about a whole file (line 0, see
    /// [`unreadable_table`]).
    pub end_column: u32,
    pub severity: Severity,
    /// Stable kebab-case id (one of [`code`]).
    pub code: &'static str,
    pub message: String,
    /// The logical line, without its terminating newline.
    pub source_line: Vec<u8>,
    pub suggestion: Option<String>,
}

/// One table to lint.
#[derive(Debug, Clone, Copy)]
pub struct LintTable<'a> {
    /// The path as it should appear in findings.
    pub path: &'a [u8],
    /// The file's bytes (pass an empty table for a missing file).
    pub data: &'a [u8],
    pub which: Which,
}

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// Report hosts.allow rules that grant without `allow` (tcpdchk `-a`).
    pub implicit_allow: bool,
    /// Resolve host-name patterns (unresolvable-host, multi-address-host).
    pub resolve_hosts: bool,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            implicit_allow: false,
            resolve_hosts: true,
        }
    }
}

/// What opening a `/file` pattern would give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Opens and can be read.
    Exists,
    /// `ENOENT`: the token silently never matches.
    Missing,
    /// A directory: opens, reads as empty, never matches (silently).
    Directory,
    /// Any other error, with its `strerror` text: the library logs
    /// `warning: open PATH: ERROR` and the token does not match.
    Unreadable(String),
}

/// The outside world as the lint sees it.
pub trait LintEnv {
    /// Forward resolution of a host name in any family, as tcpdchk's
    /// `find_inet_addr` does it: the distinct addresses, or `None` when the
    /// name does not resolve.
    fn resolve(&self, name: &[u8]) -> Option<Vec<IpAddr>>;
    /// What opening the `/file` pattern `path` gives.
    fn pattern_file(&self, path: &[u8]) -> FileState;
    /// Whether a user exists (the `user` option). Unknown: assume yes.
    fn user_exists(&self, _name: &[u8]) -> bool {
        true
    }
    /// Whether a group exists (`user u.g`, `group`). Unknown: assume yes.
    fn group_exists(&self, _name: &[u8]) -> bool {
        true
    }
    /// Why `alert NAME` would not be sent (the alert is not defined, or the
    /// alerts config cannot be used), or `None`. Unknown: `None`.
    fn alert_problem(&self, _name: &[u8]) -> Option<String> {
        None
    }
}

/// The real environment: the system resolver, the file system, the
/// account database.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemLintEnv;

impl LintEnv for SystemLintEnv {
    fn resolve(&self, name: &[u8]) -> Option<Vec<IpAddr>> {
        let f = tcpwrap::sys::numeric_any(name).or_else(|| tcpwrap::sys::forward_any(name))?;
        let mut v: Vec<IpAddr> = Vec::new();
        for (ip, _) in f.addrs {
            if !v.contains(&ip) {
                v.push(ip);
            }
        }
        Some(v)
    }

    fn pattern_file(&self, path: &[u8]) -> FileState {
        use std::os::unix::ffi::OsStrExt;
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        // Read as the engine reads it: without blocking, FIFOs refused.
        match tcpwrap::cache::read_file(p) {
            Ok(_) => FileState::Exists,
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => FileState::Directory,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Missing,
            Err(e) => FileState::Unreadable(tcpwrap::sys::strerror(&e)),
        }
    }

    fn user_exists(&self, name: &[u8]) -> bool {
        tcpwrap::sys::user_ids(name).is_some()
    }

    fn alert_problem(&self, name: &[u8]) -> Option<String> {
        use tcpwrap::alert;
        let loaded = alert::config::load(std::path::Path::new(alert::ALERTS_CONF));
        alert::check_defined(&loaded, name).err()
    }

    fn group_exists(&self, name: &[u8]) -> bool {
        tcpwrap::sys::group_id(name).is_some()
    }
}

/// Lint a set of tables. The first hosts.allow table given is the one whose
/// rules can make the hosts.deny tables unreachable. Findings come per
/// table in the order given, sorted by line and column within a table.
pub fn lint(tables: &[LintTable<'_>], opts: &LintOptions, env: &dyn LintEnv) -> Vec<Finding> {
    let mut l = Linter {
        opts,
        env,
        hosts: HashMap::new(),
        files: HashMap::new(),
    };
    let mut outs: Vec<TableOut> = tables.iter().map(|t| l.lint_table(t)).collect();

    // hosts.deny is consulted only when hosts.allow does not end the check.
    let aclexec_anywhere = outs.iter().any(|o| o.rules.iter().any(|r| r.aclexec));
    let blocker = tables
        .iter()
        .zip(&outs)
        .find(|(t, _)| t.which == Which::Allow)
        .and_then(|(t, o)| {
            for r in &o.rules[..o.live] {
                if !r.final_when_matched(aclexec_anywhere) {
                    return None;
                }
                if r.always {
                    return Some((t.path.to_vec(), r.line, r.excerpt.clone()));
                }
            }
            None
        });
    if let Some((apath, aline, aexcerpt)) = blocker {
        let aname = show(&apath);
        for (t, o) in tables.iter().zip(outs.iter_mut()) {
            if t.which != Which::Deny {
                continue;
            }
            let masked = format!(
                " (at present {} is never consulted: {aname} line {aline} ends every check first)",
                show(t.path)
            );
            for &i in &o.broken {
                let f = &mut o.findings[i];
                f.severity = Severity::Warning;
                f.message.push_str(&masked);
            }
            if let Some(first) = o.rules.first() {
                let others = o.rules.len() - 1;
                let mut message = format!(
                    "unreachable rule: {} is never consulted, because the rule at {aname} line {aline} (`{aexcerpt}`) matches every request and its outcome is final",
                    show(t.path)
                );
                if others > 0 {
                    let _ = write!(
                        message,
                        "; this rule and the {others} other rule{} of {} are never examined",
                        plural(others),
                        show(t.path)
                    );
                }
                o.findings.push(Finding {
                    file: t.path.to_vec(),
                    line: first.line,
                    column: first.start + 1,
                    end_column: first.end + 1,
                    severity: Severity::Warning,
                    code: code::UNREACHABLE_RULE,
                    message,
                    source_line: first.source.clone(),
                    suggestion: Some(format!(
                        "move these rules into {aname} above line {aline} (with `: deny`), or narrow the rule at {aname} line {aline}"
                    )),
                });
            }
        }
    }

    let mut all = Vec::new();
    for mut o in outs.drain(..) {
        o.findings.sort_by_key(|f| (f.line, f.column));
        all.extend(o.findings);
    }
    all
}

/// The finding for a table that exists but cannot be opened (any error but
/// `ENOENT`, which makes an empty table, and `EISDIR`, which reads as
/// one): the library logs `warning: cannot open PATH: ERROR` and the table
/// counts as an error. It has no position: `line` and `column` are 0, and
/// [`render_text`] shows no source line for it.
pub fn unreadable_table(path: &[u8], which: Which, error: &str) -> Finding {
    let p = show(path);
    let (severity, effect) = match which {
        Which::Deny => (
            Severity::Error,
            "every request that reaches hosts.deny is denied",
        ),
        Which::Allow => (
            Severity::Warning,
            "the table is skipped and the check goes on with hosts.deny",
        ),
    };
    Finding {
        file: path.to_vec(),
        line: 0,
        column: 0,
        end_column: 0,
        severity,
        code: code::UNREADABLE_TABLE,
        message: format!(
            "cannot open {p}: {error}: at run time the library logs `warning: cannot open {p}: {error}`, and {effect}"
        ),
        source_line: Vec::new(),
        suggestion: Some(
            "make the file readable by the services that use it (or remove it: a missing table is an empty one)"
                .to_string(),
        ),
    }
}

/// How the options of a matched rule end (the first exit wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// No option string, or all options run: the rule's match stands
    /// (unless the aclexec flag is set).
    RunsToEnd,
    Allow,
    Deny,
    Twist,
    /// An option error: the request is denied.
    Error,
}

/// What later checks need to know about a rule.
#[derive(Debug, Clone)]
struct RuleSum {
    line: u32,
    /// 0-based byte range of the rule text in the line.
    start: u32,
    end: u32,
    source: Vec<u8>,
    excerpt: String,
    /// Matches every request.
    always: bool,
    has_options: bool,
    outcome: Outcome,
    /// Runs an `aclexec` (before any exit).
    aclexec: bool,
    /// Normalised daemons, clients and options.
    key: Vec<u8>,
}

impl RuleSum {
    /// Whether a match of this rule in hosts.allow always ends the whole
    /// check (so hosts.deny is not consulted). A rule whose options run to
    /// the end is turned into "no match" when the process-global aclexec
    /// flag is set, which only an `aclexec` somewhere can do.
    fn final_when_matched(&self, aclexec_anywhere: bool) -> bool {
        match self.outcome {
            Outcome::Allow | Outcome::Deny | Outcome::Twist | Outcome::Error => true,
            Outcome::RunsToEnd => !(self.has_options && aclexec_anywhere),
        }
    }
}

#[derive(Debug, Default)]
struct TableOut {
    findings: Vec<Finding>,
    rules: Vec<RuleSum>,
    /// Rules before this index are read at run time (the rest follow a line
    /// that ends the table with an error).
    live: usize,
    /// Indices in `findings` of the missing-newline / too-long findings.
    broken: Vec<usize>,
}

struct Linter<'a> {
    opts: &'a LintOptions,
    env: &'a dyn LintEnv,
    hosts: HashMap<Vec<u8>, Option<Vec<IpAddr>>>,
    files: HashMap<Vec<u8>, FileState>,
}

/// The line being linted, for building findings.
struct At<'t> {
    file: &'t [u8],
    which: Which,
    line: u32,
    /// The logical line without its newline.
    source: &'t [u8],
}

impl At<'_> {
    fn finding(
        &self,
        start: usize,
        end: usize,
        severity: Severity,
        code: &'static str,
        message: String,
        suggestion: Option<String>,
    ) -> Finding {
        let end = end.max(start + 1);
        Finding {
            file: self.file.to_vec(),
            line: self.line,
            column: start as u32 + 1,
            end_column: end as u32 + 1,
            severity,
            code,
            message,
            source_line: self.source.to_vec(),
            suggestion,
        }
    }

    fn name(&self) -> String {
        show(self.file)
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Linter<'_> {
    fn lint_table(&mut self, t: &LintTable<'_>) -> TableOut {
        let data = t.data;
        let mut out = TableOut::default();
        let mut live: Option<usize> = None;
        let mut base = 0usize;
        let mut line_base = 0u32;
        'outer: loop {
            let mut rd = LineReader::new(&data[base..]);
            // Physical lines before the current logical line.
            let mut before = line_base;
            loop {
                let start_off = base + rd.offset();
                let Some(l) = rd.next() else { break 'outer };
                let line = line_base + l.line;
                let end_off = base + rd.offset();
                if l.complete {
                    self.lint_line(t, &l.text, line, before + 1, start_off, &mut out);
                    before = line;
                    continue;
                }
                live.get_or_insert(out.rules.len());
                // The physical line of the last byte read.
                let phys = if data[end_off - 1] == b'\n' {
                    line
                } else {
                    line + 1
                };
                let text: &[u8] = &l.text;
                let at = At {
                    file: t.path,
                    which: t.which,
                    line: phys,
                    source: text,
                };
                let masked = out.rules.iter().find(|r| r.always).map(|r| {
                    format!(
                        " (at present never reached: the rule at line {} matches every request first)",
                        r.line
                    )
                });
                let debian_line = if phys != line {
                    format!(" (the library reports it as line {line})")
                } else {
                    String::new()
                };
                let effect = match t.which {
                    Which::Deny => format!(
                        "at run time the scan of {} stops here with `missing newline or line too long`{debian_line}, and that error denies every request that reaches {}, even clients no rule names",
                        at.name(),
                        at.name()
                    ),
                    Which::Allow => format!(
                        "at run time this line and every rule after it are ignored (`missing newline or line too long`{debian_line}), and the check goes on with hosts.deny"
                    ),
                };
                let severity = match (t.which, &masked) {
                    (Which::Deny, None) => Severity::Error,
                    _ => Severity::Warning,
                };
                if text.len() >= LINE_BUF - 1 {
                    let (resume, newlines, rest) = rest_of_logical(data, end_off);
                    let total = text.len() + rest;
                    let mut f = at.finding(
                        LINE_BUF - 2,
                        text.len(),
                        severity,
                        code::LINE_TOO_LONG,
                        format!(
                            "logical line too long: {total} characters, the limit is {} (a {LINE_BUF}-byte buffer); {effect}",
                            LINE_BUF - 2
                        ),
                        Some(
                            "split the rule into several shorter rules (a '\\' continuation does not help: the limit applies to the joined line)"
                                .to_string(),
                        ),
                    );
                    if let Some(m) = &masked {
                        f.message.push_str(m);
                    }
                    out.broken.push(out.findings.len());
                    out.findings.push(f);
                    base = resume;
                    line_base = line + newlines;
                    continue 'outer;
                }
                let backslash =
                    end_off >= 2 && data[end_off - 1] == b'\n' && data[end_off - 2] == b'\\';
                let (what, suggestion) = if backslash {
                    (
                        "the file ends in a '\\' continuation, so its last logical line has no newline",
                        "remove the trailing '\\' (or add an empty line after it)",
                    )
                } else {
                    (
                        "the last line has no newline",
                        "add a newline at the end of the file",
                    )
                };
                let mut f = at.finding(
                    text.len(),
                    text.len() + 1,
                    severity,
                    code::MISSING_FINAL_NEWLINE,
                    format!("{what}: {effect}"),
                    Some(suggestion.to_string()),
                );
                if let Some(m) = &masked {
                    f.message.push_str(m);
                }
                out.broken.push(out.findings.len());
                out.findings.push(f);
                // Lint the line as it will be once the newline is added.
                let mut fixed = text.to_vec();
                fixed.push(b'\n');
                self.lint_line(t, &fixed, phys, before + 1, start_off, &mut out);
                break 'outer;
            }
        }
        out.live = live.unwrap_or(out.rules.len());
        self.lint_relations(t, &mut out);
        out
    }

    /// Unreachable and duplicate rules within one file.
    fn lint_relations(&mut self, t: &LintTable<'_>, out: &mut TableOut) {
        let name = show(t.path);
        let first_always = out.rules.iter().position(|r| r.always);
        if let Some(k) = first_always
            && k + 1 < out.rules.len()
        {
            let a = &out.rules[k];
            let r = &out.rules[k + 1];
            let others = out.rules.len() - k - 2;
            let mut message = format!(
                "unreachable rule: the rule at line {} (`{}`) matches every request, and the scan of {name} stops at the first matching rule",
                a.line, a.excerpt
            );
            if others > 0 {
                let _ = write!(
                    message,
                    "; this rule and the {others} rule{} after it are never examined",
                    plural(others)
                );
            }
            out.findings.push(Finding {
                file: t.path.to_vec(),
                line: r.line,
                column: r.start + 1,
                end_column: r.end + 1,
                severity: Severity::Warning,
                code: code::UNREACHABLE_RULE,
                message,
                source_line: r.source.clone(),
                suggestion: Some(format!(
                    "move the rule at line {} after the rules it should not hide, or remove this rule",
                    a.line
                )),
            });
        }
        let mut seen: HashMap<&[u8], u32> = HashMap::new();
        let mut dups = Vec::new();
        for (i, r) in out.rules.iter().enumerate() {
            match seen.get(r.key.as_slice()) {
                Some(&first) if first_always.is_none_or(|k| i <= k) => dups.push(Finding {
                    file: t.path.to_vec(),
                    line: r.line,
                    column: r.start + 1,
                    end_column: r.end + 1,
                    severity: Severity::Warning,
                    code: code::DUPLICATE_RULE,
                    message: format!(
                        "duplicate rule: same daemons, clients and options as the rule at line {first}, which always matches first, so this one never matches"
                    ),
                    source_line: r.source.clone(),
                    suggestion: Some("remove this rule".to_string()),
                }),
                Some(_) => {}
                None => {
                    seen.insert(&r.key, r.line);
                }
            }
        }
        out.findings.extend(dups);
    }

    /// One complete logical line (`text` ends in a newline).
    fn lint_line(
        &mut self,
        t: &LintTable<'_>,
        text: &[u8],
        line: u32,
        first_phys: u32,
        start_off: usize,
        out: &mut TableOut,
    ) {
        let source = text.strip_suffix(b"\n").unwrap_or(text);
        let at = At {
            file: t.path,
            which: t.which,
            line,
            source,
        };
        if text[0] == b'#' {
            if line > first_phys {
                self.comment_continuation(&at, t.data, first_phys, start_off, out);
            }
            return;
        }
        if text.iter().all(|&b| is_blank(b)) {
            return;
        }
        let first_nb = text
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\r'))
            .unwrap_or(0);
        let indented_hash = first_nb > 0 && text[first_nb] == b'#';
        let Some(p1) = split_at_bracket(text, b':') else {
            let (code, message, suggestion) = if indented_hash {
                (
                    code::INDENTED_HASH,
                    "indented '#' does not start a comment (only a '#' in column 1 does): this line is read as a rule, and as it has no ':' the library logs `missing \":\" separator` and skips it".to_string(),
                    "move the '#' to column 1",
                )
            } else {
                (
                    code::MISSING_SEPARATOR,
                    "no ':' separator: at run time the library logs `missing \":\" separator` and skips this line".to_string(),
                    "write the rule as `DAEMONS: CLIENTS [: OPTIONS]`",
                )
            };
            let (s, e) = if indented_hash {
                (first_nb, first_nb + 1)
            } else {
                trimmed(source)
            };
            out.findings.push(at.finding(
                s,
                e,
                Severity::Warning,
                code,
                message,
                Some(suggestion.to_string()),
            ));
            return;
        };
        let c0 = p1 + 1;
        let p2 = split_at_bracket(&text[c0..], b':').map(|p| c0 + p);
        let dtoks = tokens(text, 0, p1);
        let ctoks = tokens(text, c0, p2.unwrap_or(text.len()));

        if indented_hash {
            let list = |ts: &[(usize, usize)]| {
                ts.iter()
                    .map(|&(s, e)| show(&text[s..e]))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let mut desc = format!(
                "daemon list `{}`, client list `{}`",
                list(&dtoks),
                list(&ctoks)
            );
            if let Some(p2) = p2 {
                let o = chop(&text[p2 + 1..]);
                let _ = write!(desc, ", options `{}`", show(o));
            }
            out.findings.push(at.finding(
                first_nb,
                first_nb + 1,
                Severity::Warning,
                code::INDENTED_HASH,
                format!(
                    "indented '#' does not start a comment (only a '#' in column 1 does): this line is a live rule with {desc}"
                ),
                Some("move the '#' to column 1 to comment the line out".to_string()),
            ));
        }

        let v6 = bare_ipv6(text);
        for h in &v6 {
            out.findings.push(at.finding(
                h.start,
                h.end,
                Severity::Error,
                code::IPV6_WITHOUT_BRACKETS,
                format!(
                    "IPv6 {} without brackets: the ':' inside splits the rule, so it never matches as intended",
                    if h.prefix.is_some() { "network" } else { "address" }
                ),
                Some(h.suggestion(text)),
            ));
        }
        let in_v6 = |s: usize, e: usize| v6.iter().any(|h| s < h.end && h.start < e);

        // Host parts of daemon@host and [user@]host tokens.
        for &(s, e) in &dtoks {
            if in_v6(s, e) || eq_ci(&text[s..e], b"EXCEPT") {
                continue;
            }
            if let Some(h) = host_part(text, s, e) {
                self.host_checks(&at, text, h, e, true, out);
            }
        }
        for &(s, e) in &ctoks {
            if in_v6(s, e) || eq_ci(&text[s..e], b"EXCEPT") {
                continue;
            }
            let h = host_part(text, s, e).unwrap_or(s);
            self.host_checks(&at, text, h, e, false, out);
        }

        let (outcome, aclexec) = match p2 {
            Some(p2) if v6.is_empty() => self.lint_options(&at, text, p2, out),
            // The option text is debris of the split address: what it does
            // at run time still counts, but its findings would be noise.
            Some(p2) => self.lint_options(&at, text, p2, &mut TableOut::default()),
            None => (Outcome::RunsToEnd, false),
        };
        let (rs, re) = trimmed(source);
        if t.which == Which::Allow
            && self.opts.implicit_allow
            && outcome == Outcome::RunsToEnd
            && v6.is_empty()
        {
            let suggestion = if p2.is_some() {
                "end the options with `: allow` to make the grant explicit"
            } else {
                "append `: allow` to make the grant explicit"
            };
            out.findings.push(at.finding(
                rs,
                re,
                Severity::Note,
                code::IMPLICIT_ALLOW,
                "implicit \"allow\" at end of rule: a request that matches this rule is granted without an explicit `allow` option".to_string(),
                Some(suggestion.to_string()),
            ));
        }

        let always =
            list_always(text, &dtoks, daemon_always) && list_always(text, &ctoks, client_always);
        let mut key = Vec::with_capacity(text.len() + 8);
        for &(s, e) in &dtoks {
            norm_daemon(&text[s..e], &mut key);
            key.push(0);
        }
        key.push(1);
        for &(s, e) in &ctoks {
            norm_client(&text[s..e], &mut key);
            key.push(0);
        }
        if let Some(p2) = p2 {
            key.push(2);
            norm_options(&text[p2 + 1..], &mut key);
        }
        out.rules.push(RuleSum {
            line,
            start: rs as u32,
            end: re as u32,
            source: source.to_vec(),
            excerpt: excerpt(source),
            always,
            has_options: p2.is_some(),
            outcome,
            aclexec,
            key,
        });
    }

    fn comment_continuation(
        &mut self,
        at: &At<'_>,
        data: &[u8],
        first_phys: u32,
        start_off: usize,
        out: &mut TableOut,
    ) {
        // The first physical line of the comment ends in backslash-newline;
        // its text (without those two bytes) is where the join happened.
        let Some(nl) = data[start_off..].iter().position(|&b| b == b'\n') else {
            return;
        };
        let joined_at = nl.saturating_sub(1).min(at.source.len());
        let swallowed = chop(&at.source[joined_at..]);
        let lines = if at.line == first_phys + 1 {
            format!("line {}", at.line)
        } else {
            format!("lines {}-{}", first_phys + 1, at.line)
        };
        out.findings.push(at.finding(
            joined_at,
            at.source.len(),
            Severity::Warning,
            code::COMMENT_CONTINUATION,
            format!(
                "this comment ends in '\\', so {lines} {} joined to it and ignored as part of the comment: `{}`",
                if at.line == first_phys + 1 { "is" } else { "are" },
                excerpt(swallowed)
            ),
            Some(format!(
                "remove the trailing '\\' from the comment on line {first_phys}"
            )),
        ));
    }

    /// Checks of one host pattern `text[s..e]` (client host part, or the
    /// host part of daemon@host when `server`).
    fn host_checks(
        &mut self,
        at: &At<'_>,
        text: &[u8],
        s: usize,
        e: usize,
        server: bool,
        out: &mut TableOut,
    ) {
        let h = &text[s..e];
        if h.is_empty() || h[0] == b'@' {
            return;
        }
        if h[0] == b'/' {
            self.file_check(at, h, s, e, out);
            return;
        }
        if [&b"ALL"[..], b"LOCAL", b"KNOWN", b"UNKNOWN", b"PARANOID"]
            .iter()
            .any(|w| eq_ci(h, w))
        {
            return;
        }
        if let Some(p) = split_at_bracket(h, b'/') {
            netmask_check(at, h, p, s, e, out);
            return;
        }
        if h.iter().any(|&b| matches!(b, b'*' | b'?' | b':' | b'['))
            || h[0] == b'.'
            || h[h.len() - 1] == b'.'
            || h.iter().all(|&b| matches!(b, b'0'..=b'9' | b'.'))
            || !self.opts.resolve_hosts
        {
            return;
        }
        let key = h.to_ascii_lowercase();
        let env = self.env;
        let res = self
            .hosts
            .entry(key)
            .or_insert_with(|| env.resolve(h))
            .clone();
        let side = if server {
            "the server's (local) name"
        } else {
            "a client's name"
        };
        match res {
            None => out.findings.push(at.finding(
                s,
                e,
                Severity::Warning,
                code::UNRESOLVABLE_HOST,
                format!(
                    "host name `{}` does not resolve: {side} is only accepted after it resolves back to the address, so this pattern cannot match while the name does not resolve",
                    show(h)
                ),
                Some("check the spelling, or use an address or a net/mask instead".to_string()),
            )),
            Some(addrs) if server && addrs.len() > 1 => {
                let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                out.findings.push(at.finding(
                    s,
                    e,
                    Severity::Note,
                    code::MULTI_ADDRESS_HOST,
                    format!(
                        "host `{}` has {} addresses ({}): this daemon@host pattern matches connections to any of them, not just one server address",
                        show(h),
                        addrs.len(),
                        list.join(", ")
                    ),
                    Some(format!(
                        "use the address of the interface you mean, e.g. @{}",
                        bracket_ip(&addrs[0])
                    )),
                ));
            }
            Some(_) => {}
        }
    }

    fn file_check(&mut self, at: &At<'_>, path: &[u8], s: usize, e: usize, out: &mut TableOut) {
        let env = self.env;
        let st = self
            .files
            .entry(path.to_vec())
            .or_insert_with(|| env.pattern_file(path))
            .clone();
        let (code, message) = match st {
            FileState::Exists => return,
            FileState::Missing => (
                code::MISSING_PATTERN_FILE,
                format!(
                    "pattern file `{}` does not exist: at run time this token silently never matches",
                    show(path)
                ),
            ),
            FileState::Directory => (
                code::MISSING_PATTERN_FILE,
                format!(
                    "pattern file `{}` is a directory: it reads as empty, so this token silently never matches",
                    show(path)
                ),
            ),
            FileState::Unreadable(err) => (
                code::UNREADABLE_PATTERN_FILE,
                format!(
                    "pattern file `{}` cannot be opened ({err}): at run time the library logs `open {}: {err}` and this token does not match",
                    show(path),
                    show(path)
                ),
            ),
        };
        out.findings.push(at.finding(
            s,
            e,
            Severity::Warning,
            code,
            message,
            Some("create the file (one host pattern per word) or fix the path".to_string()),
        ));
    }

    /// The option string after the second `:` at `p2`, checked the way
    /// `process_options` runs it: fields left to right, each with the
    /// library's error order. Returns how a match ends and whether an
    /// `aclexec` runs before that.
    fn lint_options(
        &mut self,
        at: &At<'_>,
        text: &[u8],
        p2: usize,
        out: &mut TableOut,
    ) -> (Outcome, bool) {
        let base = p2 + 1;
        let opts = &text[base..];
        let fields = options::split_fields(opts);
        // Raw extent of each field (up to the ':' that ends it).
        let raws: Vec<&[u8]> = fields
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let end = fields.get(j + 1).map_or(opts.len(), |n| n.offset - 1);
                &opts[f.offset..end]
            })
            .collect();
        let mut outcome: Option<Outcome> = None;
        let mut aclexec = false;
        let blank = |f: &options::Field| chop(&f.text).is_empty();
        let mut i = 0;
        while i < fields.len() {
            let f = &fields[i];
            let more = i + 1 < fields.len();
            // The ':' before this field.
            let colon = base + f.offset - 1;
            let raw = raws[i];
            let kv = options::key_value(&f.text);
            let ks = base + f.offset + kv.key_offset;
            let ke = base
                + f.offset
                + raw
                    .iter()
                    .rposition(|&b| !tcpwrap_core::text::is_c_space(b))
                    .map_or(0, |p| p + 1);
            let ke = ke.max(ks + 1);
            let reached = outcome.is_none();
            let mut error = |out: &mut TableOut,
                             code: &'static str,
                             start: usize,
                             end: usize,
                             msg: String,
                             sugg: String| {
                out.findings
                    .push(at.finding(start, end, Severity::Error, code, msg, Some(sugg)));
                outcome.get_or_insert(Outcome::Error);
            };
            let denied = "so every request that matches this rule is denied";
            if kv.key.is_empty() {
                if blank(f) {
                    let trailing = fields[i..].iter().all(blank);
                    let msg = format!(
                        "empty option{}: at run time `missing option name` is an error, {denied}",
                        if trailing {
                            " after the last ':'"
                        } else {
                            " between two ':'"
                        }
                    );
                    let sugg = if trailing {
                        "remove this ':'"
                    } else {
                        "remove this ':', or write it as '\\:' if it belongs to the option value before it"
                    };
                    error(
                        out,
                        code::EMPTY_OPTION,
                        colon,
                        colon + 1,
                        msg,
                        sugg.to_string(),
                    );
                } else {
                    error(
                        out,
                        code::OPTION_ERROR,
                        ks,
                        ke,
                        format!(
                            "missing option name (the field starts with '='): a run-time error, {denied}"
                        ),
                        "write the option name before the '='".to_string(),
                    );
                }
                i += 1;
                continue;
            }
            let key = show(kv.key);
            let Some(kind) = OptKind::lookup(kv.key) else {
                error(
                    out,
                    code::OPTION_ERROR,
                    ks,
                    ks + kv.key.len(),
                    format!("bad option name: \"{key}\": a run-time error, {denied}"),
                    bad_name_hint(kv.key),
                );
                i += 1;
                continue;
            };
            let name = kind.name();
            if kv.value.is_none() && kind.needs_value() {
                error(
                    out,
                    code::OPTION_ERROR,
                    ks,
                    ke,
                    format!("option \"{key}\" requires value: a run-time error, {denied}"),
                    format!("give it a value, e.g. `{}`", example(kind)),
                );
                i += 1;
                continue;
            }
            if kv.value.is_some() && !kind.permits_value() {
                error(
                    out,
                    code::OPTION_ERROR,
                    ks,
                    ke,
                    format!("option \"{key}\" requires no value: a run-time error, {denied}"),
                    format!("write `{name}` alone"),
                );
                i += 1;
                continue;
            }
            if more && kind.must_be_last() {
                if fields[i + 1..].iter().all(blank) {
                    let c = base + fields[i + 1].offset - 1;
                    error(
                        out,
                        code::EMPTY_OPTION,
                        c,
                        c + 1,
                        format!(
                            "empty option after \"{key}\": at run time `option \"{key}\" must be at end` is an error, {denied}"
                        ),
                        "remove this ':'".to_string(),
                    );
                    break;
                }
                let rest: Vec<String> = raws
                    .iter()
                    .enumerate()
                    .filter(|&(j, r)| j != i && !chop(r).is_empty())
                    .map(|(_, r)| show(chop(r)))
                    .collect();
                let moved = format!("{}: {}", rest.join(": "), show(chop(raw)));
                error(
                    out,
                    code::OPTION_AFTER_FINAL,
                    ks,
                    ks + kv.key.len(),
                    format!(
                        "option \"{key}\" must be at end: the options after it make this a run-time error, {denied}"
                    ),
                    format!("move `{name}` to the end: `{moved}`"),
                );
                i += 1;
                continue;
            }
            if let Some(msg) = self.value_error(kind, kv.value) {
                let hint = value_hint(kind);
                error(
                    out,
                    code::OPTION_ERROR,
                    ks,
                    ke,
                    format!("{msg}: a run-time error, {denied}"),
                    hint,
                );
                i += 1;
                continue;
            }
            if kind == OptKind::Alert {
                // The name is checked when the value holds no expansion.
                let problem = kv
                    .value
                    .filter(|v| !v.contains(&b'%'))
                    .and_then(options::parse_alert)
                    .and_then(|(name, _)| self.env.alert_problem(name));
                if let Some(p) = problem {
                    out.findings.push(at.finding(
                        ks,
                        ke,
                        Severity::Warning,
                        code::UNDEFINED_ALERT,
                        format!(
                            "{p}: at run time the alert is logged as a warning and not sent (the decision is not affected)"
                        ),
                        Some(format!(
                            "define it as an `[alert NAME]` section of {} (see docs/alerts.md), or fix the name",
                            tcpwrap::alert::ALERTS_CONF
                        )),
                    ));
                }
            }
            if reached {
                match kind {
                    OptKind::Allow => outcome = Some(Outcome::Allow),
                    OptKind::Deny => outcome = Some(Outcome::Deny),
                    OptKind::Twist => outcome = Some(Outcome::Twist),
                    OptKind::Aclexec => aclexec = true,
                    _ => {}
                }
                let contra = match (kind, at.which) {
                    (OptKind::Allow, Which::Deny) => Some(("allow", "granted", "denying")),
                    (OptKind::Deny, Which::Allow) => Some(("deny", "denied", "granting")),
                    _ => None,
                };
                if let Some((word, effect, default)) = contra {
                    out.findings.push(at.finding(
                        ks,
                        ks + kv.key.len(),
                        Severity::Note,
                        code::CONTRADICTING_VERDICT,
                        format!(
                            "`{word}` in {}: legal, matching requests are {effect} at once, but it contradicts the file's default of {default}; this works as a one-file setup",
                            at.name()
                        ),
                        Some(
                            "keep all rules in hosts.allow with explicit `: allow` and `: deny` options, and leave hosts.deny empty"
                                .to_string(),
                        ),
                    ));
                }
            }
            i += 1;
        }
        (outcome.unwrap_or(Outcome::RunsToEnd), aclexec)
    }

    /// The value checks the library makes for options whose value is not
    /// `%`-expanded (and for `setenv` values without `%`), with Debian's
    /// error texts.
    fn value_error(&self, kind: OptKind, value: Option<&[u8]>) -> Option<String> {
        let v = value.unwrap_or(b"");
        let r: Result<(), Vec<u8>> = match kind {
            OptKind::Severity => options::parse_severity(v).map(|_| ()),
            OptKind::Rfc931 => match value {
                Some(v) => options::parse_rfc931(v).map(|_| ()),
                None => Ok(()),
            },
            OptKind::Linger => options::parse_linger(v).map(|_| ()),
            OptKind::Nice => options::parse_nice(value).map(|_| ()),
            OptKind::Umask => options::parse_umask(v).map(|_| ()),
            OptKind::Setenv if !v.contains(&b'%') => options::parse_setenv(v).map(|_| ()),
            OptKind::Group => {
                if self.env.group_exists(v) {
                    Ok(())
                } else {
                    Err(options::unknown_group(v))
                }
            }
            OptKind::User => {
                let (u, g) = options::parse_user(v);
                match g {
                    Some(g) if !self.env.group_exists(g) => Err(options::unknown_group(g)),
                    _ if !self.env.user_exists(u) => Err(options::unknown_user(u)),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        };
        r.err().map(|m| show(&m))
    }
}

fn example(kind: OptKind) -> &'static str {
    match kind {
        OptKind::User => "user nobody",
        OptKind::Group => "group nogroup",
        OptKind::Umask => "umask 022",
        OptKind::Linger => "linger 10",
        OptKind::Spawn => "spawn (/usr/bin/logger %c) &",
        OptKind::Twist => "twist /bin/echo refused",
        OptKind::Setenv => "setenv NAME value",
        OptKind::Severity => "severity auth.notice",
        OptKind::Banners => "banners /etc/banners",
        OptKind::Aclexec => "aclexec /usr/local/sbin/check %a",
        OptKind::Alert => "alert tcp-wrappers",
        _ => "",
    }
}

fn value_hint(kind: OptKind) -> String {
    match kind {
        OptKind::Severity => "use [FACILITY.]LEVEL: facilities kern user mail daemon auth lpr news uucp cron local0-local7, levels emerg alert crit err warning notice info debug".to_string(),
        OptKind::Rfc931 => "give a time-out in seconds greater than 0, or no value".to_string(),
        OptKind::Linger => "give a whole number of seconds, 0 or more".to_string(),
        OptKind::Nice => "give a whole number (e.g. `nice 10`), or no value".to_string(),
        OptKind::Umask => "give an octal mask within 0777 (e.g. `umask 022`)".to_string(),
        OptKind::Setenv => "write `setenv NAME value` with a NAME that holds no '='".to_string(),
        OptKind::User | OptKind::Group => "name an account that exists on this system".to_string(),
        _ => String::new(),
    }
}

/// A hint for an unknown option keyword.
fn bad_name_hint(key: &[u8]) -> String {
    if matches!(key.first(), Some(b'/' | b'(' | b'.' | b'$' | b'"' | b'\'')) {
        return "the third field is a list of options, not a shell command: run commands with `spawn` (e.g. `spawn (/usr/bin/foo %h) &`)".to_string();
    }
    let lower = key.to_ascii_lowercase();
    let best = options::OPTIONS
        .iter()
        .map(|(n, _, _)| (edit_distance(n.as_bytes(), &lower), *n))
        .min();
    match best {
        Some((d, n)) if d <= 2 => format!("did you mean `{n}`?"),
        _ => format!(
            "known options: {}",
            options::OPTIONS
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn netmask_check(at: &At<'_>, h: &[u8], p: usize, s: usize, e: usize, out: &mut TableOut) {
    let (net, mask) = (&h[..p], &h[p + 1..]);
    let nm = NetMask::compile(net, mask);
    let message = match (nm.v4, nm.v6) {
        (None, None) => format!(
            "`{}` is not a valid net/mask (IPv4 `NET/MASK` or `NET/1..32`, IPv6 `[NET]/0..128`): at run time it silently never matches",
            show(h)
        ),
        (Some((n, m)), _) if n & !m != 0 => format!(
            "`{}` never matches: the net has bits outside the mask, and the library compares (address AND mask) with the net as written",
            show(h)
        ),
        _ => return,
    };
    let suggestion = match nm.v4 {
        Some((n, m)) if n & !m != 0 => Some(format!(
            "write the network address: {}/{}",
            std::net::Ipv4Addr::from(n & m),
            show(mask)
        )),
        _ => None,
    };
    out.findings.push(at.finding(
        s,
        e,
        Severity::Warning,
        code::BAD_NETMASK,
        message,
        suggestion,
    ));
}

fn bracket_ip(a: &IpAddr) -> String {
    match a {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// Start of the host part of `text[s..e]` when it is `x@host` (the `@` is
/// searched from the token's second character, bracket-aware).
fn host_part(text: &[u8], s: usize, e: usize) -> Option<usize> {
    if e - s < 2 {
        return None;
    }
    split_at_bracket(&text[s + 1..e], b'@').map(|p| s + 1 + p + 1)
}

fn split_user_host(tok: &[u8]) -> (&[u8], Option<&[u8]>) {
    if tok.is_empty() {
        return (tok, None);
    }
    match split_at_bracket(&tok[1..], b'@') {
        Some(p) => (&tok[..p + 1], Some(&tok[p + 2..])),
        None => (tok, None),
    }
}

/// List tokens of `text[from..to]` as byte ranges.
fn tokens(text: &[u8], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut i = from;
    while i < to {
        if is_list_sep(text[i]) {
            i += 1;
            continue;
        }
        let s = i;
        while i < to && !is_list_sep(text[i]) {
            i += 1;
        }
        v.push((s, i));
    }
    v
}

/// The first and one past the last non-blank byte.
fn trimmed(s: &[u8]) -> (usize, usize) {
    let a = s.iter().position(|&b| !is_blank(b)).unwrap_or(0);
    let b = s.iter().rposition(|&b| !is_blank(b)).map_or(a, |p| p + 1);
    (a, b.max(a))
}

/// A short printable form of a rule for messages.
fn excerpt(s: &[u8]) -> String {
    let (a, b) = trimmed(s);
    let t = show(&s[a..b]);
    if t.chars().count() > 60 {
        let mut c: String = t.chars().take(57).collect();
        c.push_str("...");
        c
    } else {
        t
    }
}

/// Bytes for messages: UTF-8 kept, control characters and invalid bytes
/// as `\xNN`.
fn show(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                let _ = write!(s, "\\x{:02x}", c as u32);
            } else {
                s.push(c);
            }
        }
        for &x in chunk.invalid() {
            let _ = write!(s, "\\x{x:02x}");
        }
    }
    s
}

fn str_always(p: &[u8]) -> bool {
    eq_ci(p, b"ALL") || (!p.is_empty() && p.iter().all(|&b| b == b'*'))
}

fn host_always(h: &[u8]) -> bool {
    !matches!(h.first(), Some(b'@' | b'/')) && split_at_bracket(h, b'/').is_none() && str_always(h)
}

/// A daemon token that matches every daemon and server.
fn daemon_always(tok: &[u8]) -> bool {
    let (d, h) = split_user_host(tok);
    str_always(d) && h.is_none_or(host_always)
}

/// A client token that matches every client.
fn client_always(tok: &[u8]) -> bool {
    let (u, h) = split_user_host(tok);
    match h {
        None => host_always(u),
        Some(h) => host_always(h) && str_always(u),
    }
}

/// Whether a list matches every request (§2.2): an always-matching token
/// before the first EXCEPT, and an exception list that never matches
/// (empty, or itself starting with EXCEPT).
fn list_always(text: &[u8], toks: &[(usize, usize)], always: fn(&[u8]) -> bool) -> bool {
    let is_except = |&(s, e): &(usize, usize)| eq_ci(&text[s..e], b"EXCEPT");
    let ex = toks.iter().position(is_except);
    let head = &toks[..ex.unwrap_or(toks.len())];
    if !head.iter().any(|&(s, e)| always(&text[s..e])) {
        return false;
    }
    match ex {
        None => true,
        Some(x) => toks.get(x + 1).is_none_or(is_except),
    }
}

fn norm_host(h: &[u8], key: &mut Vec<u8>) {
    if matches!(h.first(), Some(b'@' | b'/')) {
        key.extend_from_slice(h);
    } else if h.len() >= 2 && h[0] == b'[' && h[h.len() - 1] == b']' {
        match parse_v6(&h[1..h.len() - 1]) {
            Some(a) => key.extend_from_slice(format!("[{a}]").as_bytes()),
            None => key.extend_from_slice(&h.to_ascii_lowercase()),
        }
    } else {
        key.extend_from_slice(&h.to_ascii_lowercase());
    }
}

fn norm_daemon(tok: &[u8], key: &mut Vec<u8>) {
    if eq_ci(tok, b"EXCEPT") {
        key.extend_from_slice(b"\x03EXCEPT");
        return;
    }
    let (d, h) = split_user_host(tok);
    match scan_uint_complete(d) {
        Some(n) if n <= 65535 => key.extend_from_slice(format!("\x03port{n}").as_bytes()),
        _ => key.extend_from_slice(&d.to_ascii_lowercase()),
    }
    if let Some(h) = h {
        key.push(b'@');
        norm_host(h, key);
    }
}

fn norm_client(tok: &[u8], key: &mut Vec<u8>) {
    if eq_ci(tok, b"EXCEPT") {
        key.extend_from_slice(b"\x03EXCEPT");
        return;
    }
    let (u, h) = split_user_host(tok);
    match h {
        None => norm_host(u, key),
        Some(h) => {
            key.extend_from_slice(&u.to_ascii_lowercase());
            key.push(b'@');
            norm_host(h, key);
        }
    }
}

fn norm_options(opts: &[u8], key: &mut Vec<u8>) {
    for f in options::split_fields(opts) {
        let kv = options::key_value(&f.text);
        key.extend_from_slice(&kv.key.to_ascii_lowercase());
        key.push(0);
        if let Some(v) = kv.value {
            if OptKind::lookup(kv.key) == Some(OptKind::Severity) {
                key.extend_from_slice(&v.to_ascii_lowercase());
            } else {
                key.extend_from_slice(v);
            }
        }
        key.push(1);
    }
}

/// After an over-long logical line that ends at `off`: where the rest of
/// that logical line ends (the next newline not preceded by a backslash),
/// the newlines in that rest, and its length without continuations and the
/// final newline.
fn rest_of_logical(data: &[u8], off: usize) -> (usize, u32, usize) {
    let mut pos = off;
    let mut newlines = 0u32;
    let mut len = 0usize;
    loop {
        match data[pos..].iter().position(|&b| b == b'\n') {
            None => return (data.len(), newlines, len + data.len() - pos),
            Some(i) => {
                let nl = pos + i;
                newlines += 1;
                len += i;
                if nl > 0 && data[nl - 1] == b'\\' {
                    // The backslash was counted (in this piece or, at the
                    // buffer boundary, in the text already read).
                    len = len.saturating_sub(1);
                    pos = nl + 1;
                    continue;
                }
                return (nl + 1, newlines, len);
            }
        }
    }
}

/// A bare IPv6 address (or `addr/len`) found in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct V6Hit {
    start: usize,
    end: usize,
    addr: Ipv6Addr,
    /// End of the address part (before `/len`).
    addr_end: usize,
    prefix: Option<u32>,
}

impl V6Hit {
    fn suggestion(&self, text: &[u8]) -> String {
        let a = show(&text[self.start..self.addr_end]);
        match (self.prefix, self.addr.to_ipv4_mapped()) {
            (None, Some(v4)) => format!(
                "write it as the IPv4 address {v4}: IPv4-mapped clients are matched by IPv4 patterns, and [{a}] would never match"
            ),
            (Some(n), Some(v4)) if (97..=128).contains(&n) => format!(
                "write it as the IPv4 network {v4}/{}: IPv4-mapped clients are matched by IPv4 patterns, and a bracketed net never matches them",
                n - 96
            ),
            (Some(n), _) => format!("write the address in brackets: [{a}]/{n}"),
            (None, None) => format!("write it in brackets: [{a}]"),
        }
    }
}

/// Bare IPv6 addresses in the client list and in the host part of
/// daemon@host tokens. The rule is walked word by word (words split at the
/// list separators) following the field the *writer* meant: a word that
/// holds a field-splitting `:` either is an IPv6 address (possibly followed
/// by the `:` that really ends the field), or its `:`s end fields.
fn bare_ipv6(text: &[u8]) -> Vec<V6Hit> {
    // Colons that split fields: at bracket depth 0.
    let mut sep = vec![false; text.len()];
    let mut depth = 0i64;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b':' if depth == 0 => sep[i] = true,
            _ => {}
        }
    }
    let mut hits = Vec::new();
    let mut field = 0;
    for (ws, we) in tokens(text, 0, text.len()) {
        let mut s = ws;
        loop {
            if field >= 2 {
                return hits;
            }
            let first_colon = (s..we).find(|&k| sep[k]);
            let limit = first_colon.unwrap_or(we);
            let at = if limit > s + 1 {
                split_at_bracket(&text[s + 1..limit], b'@').map(|p| s + 1 + p)
            } else {
                None
            };
            let host = match at {
                Some(a) => Some(a + 1),
                None if field == 1 => Some(s),
                None => None,
            };
            if let Some(h) = host
                && let Some((hit, trailing)) = v6_candidate(text, h, we, &sep)
            {
                hits.push(hit);
                if trailing {
                    field += 1;
                }
                break;
            }
            match first_colon {
                Some(c) => {
                    field += 1;
                    s = c + 1;
                    if s >= we {
                        break;
                    }
                }
                None => break,
            }
        }
    }
    hits
}

/// `text[h..we]` (or it without one trailing field-splitting `:`) as a bare
/// IPv6 address or `addr/len`; true when the trailing `:` was left out.
fn v6_candidate(text: &[u8], h: usize, we: usize, sep: &[bool]) -> Option<(V6Hit, bool)> {
    for strip in [true, false] {
        let end = if strip {
            if we > h + 1 && sep[we - 1] {
                we - 1
            } else {
                continue;
            }
        } else {
            we
        };
        let c = &text[h..end];
        if c.first() == Some(&b'[') || !(h..end).any(|k| sep[k]) {
            continue;
        }
        let (a, prefix) = match c.iter().position(|&b| b == b'/') {
            Some(p) => (&c[..p], Some(&c[p + 1..])),
            None => (c, None),
        };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.iter().all(u8::is_ascii_digit) => {
                Some(tcpwrap_core::text::atoi(p) as u32)
            }
            Some(_) => continue,
            None => None,
        };
        if !a.iter().any(u8::is_ascii_hexdigit) {
            continue;
        }
        let Some(addr) = parse_v6(a) else { continue };
        return Some((
            V6Hit {
                start: h,
                end,
                addr,
                addr_end: h + a.len(),
                prefix,
            },
            strip,
        ));
    }
    None
}

// ---------------------------------------------------------------------------
// Rendering

/// Compiler-style text, one block per finding followed by an empty line
/// (a finding with line 0, about a whole file, has no position and no
/// source line):
///
/// ```text
/// hosts.allow:3:7: error[ipv6-without-brackets]: IPv6 address without brackets: …
///     3 | sshd: 3ffe:505:2::1
///       |       ^^^^^^^^^^^^^
///       = help: write it in brackets: [3ffe:505:2::1]
/// ```
///
/// How the source line is shown and the carets placed:
///
/// * the carets cover the bytes `column..end_column` (at least one caret;
///   a column past the end of the text puts the caret after it);
/// * columns are counted in display cells, not bytes: a tab advances to the
///   next multiple of 8 (it is shown expanded to spaces, so the carets line
///   up whatever the terminal's tab stops), a UTF-8 character takes one cell
///   (two for East Asian wide characters and most emoji, zero for combining
///   marks and zero-width characters);
/// * an invalid UTF-8 byte is shown as U+FFFD (one cell per byte), a control
///   character as its Unicode "control picture" (`\r` as `␍`, one cell); a
///   trailing CR (CRLF files) is not shown;
/// * lines wider than 160 cells are shown as a window around the column,
///   cut with `...`.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let num = f.line.to_string();
        let w = num.len().max(5);
        if f.line == 0 {
            // A finding about a whole file.
            let _ = writeln!(
                out,
                "{}: {}[{}]: {}",
                show(&f.file),
                f.severity.as_str(),
                f.code,
                f.message
            );
            if let Some(s) = &f.suggestion {
                let _ = writeln!(out, "{:>w$} = help: {s}", "");
            }
            out.push('\n');
            continue;
        }
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            show(&f.file),
            f.line,
            f.column,
            f.severity.as_str(),
            f.code,
            f.message
        );
        let (src, pad, carets) = snippet(&f.source_line, f.column, f.end_column);
        let _ = writeln!(out, "{num:>w$} | {src}");
        let _ = writeln!(
            out,
            "{:>w$} | {}{}",
            "",
            " ".repeat(pad),
            "^".repeat(carets)
        );
        if let Some(s) = &f.suggestion {
            let _ = writeln!(out, "{:>w$} = help: {s}", "");
        }
        out.push('\n');
    }
    out
}

const TAB_STOP: usize = 8;
const MAX_WIDTH: usize = 160;
const LEFT_CONTEXT: usize = 60;

/// The display form of a source line and the caret position and length
/// (in cells) for the 1-based byte columns `column..end_column`.
fn snippet(source: &[u8], column: u32, end_column: u32) -> (String, usize, usize) {
    let source = source.strip_suffix(b"\r").unwrap_or(source);
    // (byte offset, shown text, width)
    let mut cells: Vec<(usize, String, usize)> = Vec::new();
    let mut col = 0usize;
    let mut off = 0usize;
    for chunk in source.utf8_chunks() {
        for c in chunk.valid().chars() {
            let (shown, w) = match c {
                '\t' => {
                    let w = TAB_STOP - col % TAB_STOP;
                    (" ".repeat(w), w)
                }
                c if (c as u32) < 0x20 => (
                    char::from_u32(0x2400 + c as u32)
                        .unwrap_or('\u{fffd}')
                        .to_string(),
                    1,
                ),
                '\u{7f}' => ('\u{2421}'.to_string(), 1),
                c => (c.to_string(), char_width(c)),
            };
            cells.push((off, shown, w));
            col += w;
            off += c.len_utf8();
        }
        for _ in chunk.invalid() {
            cells.push((off, '\u{fffd}'.to_string(), 1));
            col += 1;
            off += 1;
        }
    }
    let start = column.saturating_sub(1) as usize;
    let end = (end_column.saturating_sub(1) as usize).max(start + 1);
    let pad: usize = cells.iter().filter(|c| c.0 < start).map(|c| c.2).sum();
    let mut carets: usize = cells
        .iter()
        .filter(|c| c.0 >= start && c.0 < end)
        .map(|c| c.2)
        .sum();
    if carets == 0 {
        carets = 1;
    }
    let total = col;
    if total <= MAX_WIDTH {
        let s: String = cells.iter().map(|c| c.1.as_str()).collect();
        return (s, pad, carets);
    }
    // A window around the caret.
    let from = pad.saturating_sub(LEFT_CONTEXT);
    let mut s = String::new();
    let mut skipped = 0usize;
    let mut shown = 0usize;
    let mut cut_right = false;
    let mut at = 0usize;
    for c in &cells {
        if at < from {
            at += c.2;
            skipped = at;
            continue;
        }
        if shown + c.2 > MAX_WIDTH {
            cut_right = true;
            break;
        }
        s.push_str(&c.1);
        shown += c.2;
        at += c.2;
    }
    let mut pad = pad - skipped.min(pad);
    if skipped > 0 {
        s.insert_str(0, "...");
        pad += 3;
    }
    if cut_right {
        s.push_str("...");
    }
    let visible = shown + if skipped > 0 { 3 } else { 0 };
    let carets = carets.min(visible.saturating_sub(pad).max(1));
    (s, pad, carets)
}

/// Display width of a character in a terminal (a small built-in table:
/// combining and zero-width characters 0, East Asian wide and emoji 2).
fn char_width(c: char) -> usize {
    let u = c as u32;
    match u {
        0x0300..=0x036f
        | 0x0483..=0x0489
        | 0x0591..=0x05bd
        | 0x1ab0..=0x1aff
        | 0x1dc0..=0x1dff
        | 0x200b..=0x200f
        | 0x20d0..=0x20ff
        | 0xfe00..=0xfe0f
        | 0xfe20..=0xfe2f
        | 0xfeff => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// The findings as a JSON array of objects with the fields of [`Finding`]
/// (`file`, `line`, `column`, `end_column`, `severity`, `code`, `message`,
/// `source_line`, `suggestion` — the last `null` when absent), one object
/// per line.
///
/// Strings are escaped by [`json_string`]: valid UTF-8 is kept, `"` and `\`
/// are escaped, control characters (and U+2028/U+2029) are written as
/// `\n`, `\t`, … or `\uXXXX`, and **an invalid UTF-8 sequence becomes one
/// replacement character U+FFFD** (per maximal invalid sequence, exactly as
/// `String::from_utf8_lossy` does, and as the tools' other JSON output
/// does). The output is therefore always valid JSON in valid UTF-8; the
/// original bytes of such a line are not recoverable from it, but
/// `column`/`end_column` still count the original bytes.
pub fn render_json(findings: &[Finding]) -> String {
    let mut out = String::from("[");
    for (i, f) in findings.iter().enumerate() {
        out.push_str(if i == 0 { "\n  {" } else { ",\n  {" });
        out.push_str("\"file\":");
        json_string(&mut out, &f.file);
        let _ = write!(
            out,
            ",\"line\":{},\"column\":{},\"end_column\":{},\"severity\":\"{}\",\"code\":",
            f.line,
            f.column,
            f.end_column,
            f.severity.as_str()
        );
        json_string(&mut out, f.code.as_bytes());
        out.push_str(",\"message\":");
        json_string(&mut out, f.message.as_bytes());
        out.push_str(",\"source_line\":");
        json_string(&mut out, &f.source_line);
        out.push_str(",\"suggestion\":");
        match &f.suggestion {
            Some(s) => json_string(&mut out, s.as_bytes()),
            None => out.push_str("null"),
        }
        out.push('}');
    }
    if !findings.is_empty() {
        out.push('\n');
    }
    out.push_str("]\n");
    out
}

/// Append `bytes` as a JSON string literal (see [`render_json`]).
pub fn json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        if !chunk.invalid().is_empty() {
            out.push('\u{fffd}');
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(s: &str) -> Vec<(String, Option<u32>)> {
        let t = format!("{s}\n");
        bare_ipv6(t.as_bytes())
            .into_iter()
            .map(|h| (t[h.start..h.end].to_string(), h.prefix))
            .collect()
    }

    #[test]
    fn bare_ipv6_forms() {
        assert_eq!(
            hits("sshd: 3ffe:505:2::1"),
            [("3ffe:505:2::1".into(), None)]
        );
        assert_eq!(hits("ALL: ::1"), [("::1".into(), None)]);
        assert_eq!(hits("sshd:3ffe::1"), [("3ffe::1".into(), None)]);
        assert_eq!(hits("sshd: ::1: allow"), [("::1".into(), None)]);
        assert_eq!(
            hits("sshd@2001:db8::1: ALL"),
            [("2001:db8::1".into(), None)]
        );
        assert_eq!(
            hits("sshd: 2001:db8::/32"),
            [("2001:db8::/32".into(), Some(32))]
        );
        assert_eq!(
            hits("sshd: 10.0.0.1, ::1 fe80::1%eth0: spawn x"),
            [("::1".into(), None), ("fe80::1%eth0".into(), None)]
        );
        assert_eq!(hits("sshd: root@::1"), [("::1".into(), None)]);
        for ok in [
            "sshd: [3ffe:505:2::1]",
            "sshd: [2001:db8::]/32",
            "ALL: ALL: spawn echo ::1",
            "ALL: ALL :: allow",
            "cafe: 10.0.0.1",
            "sshd: 10.0.0.1: allow",
            "sshd@[::1]: ALL",
            "ALL:ALL:allow",
        ] {
            assert_eq!(hits(ok), [], "{ok}");
        }
    }

    #[test]
    fn always_lists() {
        let t = b"ALL EXCEPT x ALL@ALL *@* in.ftpd EXCEPT EXCEPT";
        let toks = tokens(t, 0, t.len());
        assert!(!list_always(t, &toks[..3], daemon_always));
        assert!(list_always(t, &toks[..2], daemon_always));
        assert!(list_always(t, &toks[3..4], client_always));
        assert!(list_always(t, &toks[4..5], client_always));
        assert!(!list_always(t, &toks[5..6], daemon_always));
        assert!(list_always(t, &toks[3..8], daemon_always));
        assert!(!client_always(b"KNOWN"));
        assert!(!client_always(b"0.0.0.0/0.0.0.0"));
        assert!(daemon_always(b"ALL@*"));
        assert!(!daemon_always(b"ALL@LOCAL"));
    }

    #[test]
    fn widths_and_snippet() {
        assert_eq!(char_width('a'), 1);
        assert_eq!(char_width('é'), 1);
        assert_eq!(char_width('\u{301}'), 0);
        assert_eq!(char_width('漢'), 2);
        // "\tab" : the tab takes 8 cells.
        let (s, pad, n) = snippet(b"\tab", 2, 4);
        assert_eq!((s.as_str(), pad, n), ("        ab", 8, 2));
        // Invalid byte and a control character, one cell each.
        let (s, pad, n) = snippet(b"\xff\x01x", 3, 4);
        assert_eq!((s.as_str(), pad, n), ("\u{fffd}\u{2401}x", 2, 1));
        // Past the end.
        let (_, pad, n) = snippet(b"abc", 4, 5);
        assert_eq!((pad, n), (3, 1));
        // Trailing CR is not shown.
        assert_eq!(snippet(b"a\r", 1, 2).0, "a");
    }

    #[test]
    fn long_line_window() {
        let mut src = vec![b'a'; 3000];
        src[2500] = b'X';
        let (s, pad, n) = snippet(&src, 2501, 2502);
        assert!(s.starts_with("...") && s.ends_with("..."));
        assert_eq!(s.chars().nth(pad), Some('X'));
        assert_eq!(n, 1);
    }

    #[test]
    fn json_escapes() {
        let mut s = String::new();
        json_string(
            &mut s,
            b"a\"b\\c\n\t\x01\x7f\xff\xc3\xa9\xe2\x80\xa8\xe2\x80x",
        );
        assert_eq!(
            s,
            "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\u{fffd}\u{e9}\\u2028\u{fffd}x\""
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance(b"spwan", b"spawn"), 2);
        assert_eq!(edit_distance(b"allow", b"allow"), 0);
        assert_eq!(bad_name_hint(b"alow"), "did you mean `allow`?");
        assert!(bad_name_hint(b"/usr/bin/foo").contains("spawn"));
    }

    #[test]
    fn rest_of_long_line() {
        // After the buffer filled at offset 3: "de\\\nfg\nnext\n".
        let d = b"abcde\\\nfg\nnext\n";
        assert_eq!(rest_of_logical(d, 3), (10, 2, 4));
    }
}
