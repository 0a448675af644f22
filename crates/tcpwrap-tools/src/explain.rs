//! `tcpdmatch --explain`: every rule considered, in order, with why it did
//! or did not match and which look-ups it caused.
//!
//! Each rule's daemon list and client list are probed with the engine
//! itself (a one-rule table at the rule's own line number, without its
//! options), on a copy of the request that carries the look-up results from
//! one probe to the next exactly as the real scan caches them. So the
//! explanation uses the same matcher as the decision, and the look-ups it
//! lists per rule are the ones the real scan makes there.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use tcpwrap_core::reader::LineReader;
use tcpwrap_core::text::split_at_bracket;
use tcpwrap_core::{Env, Lookup, NoExec, Request, Settings, Table, TableRef, Verdict};

use crate::json::Value;

/// What became of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The daemon list did not match.
    DaemonMismatch,
    /// The daemon list matched, the client list did not.
    ClientMismatch,
    /// Both lists matched: this rule decided (its options ran).
    Decided,
    /// Both lists matched but the scan went on (an `aclexec` failed).
    MatchedNotDecided,
    /// A line without `:` (warned about, skipped).
    NoSeparator,
    /// After the deciding rule: not looked at.
    NotReached,
}

/// One rule of the explanation.
#[derive(Debug, Clone)]
pub struct Step {
    pub file: Vec<u8>,
    pub line: u32,
    pub text: Vec<u8>,
    pub outcome: Outcome,
    pub lookups: Vec<Lookup>,
}

/// Explain the check that gave `verdict` for `req` (the request as it was
/// before the check) over the two table files.
pub fn explain(tables: [&[u8]; 2], req: &Request, env: Env<'_>, verdict: &Verdict) -> Vec<Step> {
    let mut probe_req = req.clone();
    let mut steps = Vec::new();
    let mut decided = false;
    for path in tables {
        let data = match tcpwrap::cache::read_file(std::path::Path::new(OsStr::from_bytes(path))) {
            Ok(d) => d,
            Err(_) => continue,
        };
        for l in LineReader::new(&data) {
            if !l.complete {
                break;
            }
            let text = l.text.as_ref();
            let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
            if text[0] == b'#' || text.iter().all(blank) {
                continue;
            }
            let shown = text.strip_suffix(b"\n").unwrap_or(text).to_vec();
            let step = |outcome, lookups| Step {
                file: path.to_vec(),
                line: l.line,
                text: shown.clone(),
                outcome,
                lookups,
            };
            if decided {
                steps.push(step(Outcome::NotReached, Vec::new()));
                continue;
            }
            let Some(p1) = split_at_bracket(text, b':') else {
                steps.push(step(Outcome::NoSeparator, Vec::new()));
                continue;
            };
            let rest = &text[p1 + 1..];
            let clients = match split_at_bracket(rest, b':') {
                Some(p2) => &rest[..p2],
                None => rest,
            };
            let is_decider = verdict
                .rule
                .as_ref()
                .is_some_and(|r| &*r.file == path && r.line == l.line);
            let daemons_ok = probe(path, l.line, &text[..p1], b"ALL", &mut probe_req, env);
            let mut lookups = daemons_ok.1;
            let outcome = if !daemons_ok.0 {
                Outcome::DaemonMismatch
            } else {
                let c = probe(path, l.line, b"ALL", clients, &mut probe_req, env);
                lookups.extend(c.1);
                if !c.0 {
                    Outcome::ClientMismatch
                } else if is_decider {
                    decided = true;
                    Outcome::Decided
                } else {
                    Outcome::MatchedNotDecided
                }
            };
            steps.push(step(outcome, lookups));
        }
        if verdict
            .rule
            .as_ref()
            .is_some_and(|r| &*r.file == path && r.line == 0)
        {
            decided = true;
        }
    }
    steps
}

/// Whether `DAEMONS: CLIENTS` matches, with the look-ups made.
fn probe(
    path: &[u8],
    line: u32,
    daemons: &[u8],
    clients: &[u8],
    req: &mut Request,
    env: Env<'_>,
) -> (bool, Vec<Lookup>) {
    let mut text = vec![b'\n'; line.saturating_sub(1) as usize];
    text.extend_from_slice(daemons);
    text.push(b':');
    text.extend_from_slice(clients);
    text.push(b'\n');
    let t = Table::compile(path, &text).without_index();
    let settings = Settings {
        dry_run: true,
        ..Settings::default()
    };
    let v = tcpwrap_core::check(
        TableRef::Compiled(&t),
        TableRef::Missing,
        req,
        env,
        settings,
        &mut NoExec,
    );
    (v.rule.is_some(), v.lookups)
}

fn describe(o: &Outcome) -> &'static str {
    match o {
        Outcome::DaemonMismatch => "no match: the daemon list does not match",
        Outcome::ClientMismatch => "no match: the daemon list matches, the client list does not",
        Outcome::Decided => "MATCH: this rule decides",
        Outcome::MatchedNotDecided => {
            "lists match, but an aclexec command failed: the scan goes on"
        }
        Outcome::NoSeparator => "skipped: no \":\" separator",
        Outcome::NotReached => "not reached",
    }
}

/// The text form: `explain:` lines.
pub fn render_text(steps: &[Step], verdict: &Verdict) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for s in steps {
        out.push(
            [
                b"explain:  ".as_slice(),
                &s.file,
                format!(" line {}: ", s.line).as_bytes(),
                &s.text,
            ]
            .concat(),
        );
        out.push([b"explain:    ".as_slice(), describe(&s.outcome).as_bytes()].concat());
        for l in &s.lookups {
            out.push(lookup_line(l));
        }
        if s.outcome == Outcome::Decided && !verdict.options.is_empty() {
            let opts: Vec<Vec<u8>> = verdict
                .options
                .iter()
                .map(|o| match &o.value {
                    Some(v) => [o.key.as_slice(), b" ", v].concat(),
                    None => o.key.clone(),
                })
                .collect();
            out.push([b"explain:    options: ".as_slice(), &opts.join(&b", "[..])].concat());
        }
    }
    if steps.iter().all(|s| s.outcome != Outcome::Decided) {
        let why: &[u8] = match verdict.reason {
            tcpwrap_core::Reason::NoMatch => b"no rule matched: access is granted by default",
            tcpwrap_core::Reason::DenyTableError => {
                b"hosts.deny could not be read to its end: access is denied"
            }
            _ => b"the tables did not decide by a rule",
        };
        out.push([b"explain:  ".as_slice(), why].concat());
    }
    out
}

fn lookup_line(l: &Lookup) -> Vec<u8> {
    let what = format!("{:?}", l.kind);
    let mut v = format!("explain:    look-up {what}").into_bytes();
    if !l.subject.is_empty() {
        v.extend_from_slice(b" ");
        v.extend_from_slice(&l.subject);
    }
    v.extend_from_slice(b" -> ");
    v.extend_from_slice(&l.result);
    v
}

/// The JSON form.
pub fn to_json(steps: &[Step]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|s| {
                Value::Object(vec![
                    ("file", Value::str(&s.file)),
                    ("line", Value::Int(s.line.into())),
                    ("rule", Value::str(&s.text)),
                    ("outcome", Value::str(format!("{:?}", s.outcome))),
                    ("explanation", Value::str(describe(&s.outcome))),
                    (
                        "lookups",
                        Value::Array(
                            s.lookups
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
                    ),
                ])
            })
            .collect(),
    )
}
