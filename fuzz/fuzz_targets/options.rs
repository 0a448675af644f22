//! The option language (options.rs) and `process_options` through the
//! engine, with an executor that records instead of acting.
//!
//! Input (see src/case.rs): the request, world and settings keys of the
//! `table` target (`acct=NAME` makes a user and group name known);
//! section 1 is the option string.
//!
//! Oracle: no panic, and
//! * field splitting and keyword/value separation keep their promises
//!   (offsets inside the string, keys without `=` or blanks, values
//!   trimmed and never empty);
//! * every value parser keeps to its range (umask within 0777, linger
//!   ≥ 0, rfc931 > 0, severity a known facility and level, setenv names
//!   non-empty without `=`);
//! * the invariants of `checks::verdict` (fail closed, consistent
//!   reasons, no side effects in a dry run);
//! * `process_options(S)` agrees with a table rule `ALL: ALL:S`: the same
//!   options run, the same decision, the same actions, settings and
//!   messages (the request may differ: matching the rule's `ALL` looks at
//!   the client address).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpwrap_core::options::{self, OptKind};
use tcpwrap_core::text::is_c_space;
use tcpwrap_core::{
    Decision, Diagnostic, Kind, Level, Reason, Table, TableRef, Verdict, check, process_options,
};
use tcpwrap_fuzz::case::Case;
use tcpwrap_fuzz::checks;
use tcpwrap_fuzz::world::{self, Recorder, World};

const FACILITIES: &[i32] = &[
    0, 8, 16, 24, 32, 48, 56, 64, 72, 128, 136, 144, 152, 160, 168, 176, 184,
];

fn parsers(value: &[u8]) {
    if let Ok(m) = options::parse_umask(value) {
        assert!(m <= 0o777, "umask {m:o}");
    }
    if let Ok(n) = options::parse_linger(value) {
        assert!(n >= 0, "linger {n}");
    }
    if let Ok(n) = options::parse_rfc931(value) {
        assert!(n > 0 && n <= i32::MAX as u32, "rfc931 {n}");
    }
    if let Ok(p) = options::parse_severity(value) {
        assert!(FACILITIES.contains(&(p & !7)), "severity {p}");
    }
    if let Ok((name, v)) = options::parse_setenv(value) {
        assert!(
            !name.is_empty() && !name.contains(&b'='),
            "setenv name {name:?}"
        );
        assert!(
            !name
                .iter()
                .any(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        );
        assert!(v.first().is_none_or(|&b| !is_c_space(b)));
        assert!(v.last().is_none_or(|&b| !is_c_space(b)));
    }
    let _ = options::parse_nice(Some(value));
    let (user, group) = options::parse_user(value);
    assert!(user.len() + group.map_or(0, |g| g.len() + 1) == value.len());
}

fn fields(opts: &[u8]) {
    let mut last = 0;
    for f in options::split_fields(opts) {
        assert!(
            f.offset >= last && f.offset < opts.len().max(1),
            "field offset"
        );
        last = f.offset;
        assert!(f.text.len() <= opts.len() - f.offset);
        let kv = options::key_value(&f.text);
        assert!(kv.key_offset + kv.key.len() <= f.text.len());
        assert_eq!(&f.text[kv.key_offset..kv.key_offset + kv.key.len()], kv.key);
        assert!(
            !kv.key
                .iter()
                .any(|&b| b == b'=' || matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        );
        if let Some(v) = kv.value {
            assert!(!v.is_empty(), "empty value");
            assert!(!is_c_space(v[v.len() - 1]), "value not trimmed");
            parsers(v);
            if let Some(k) = OptKind::lookup(kv.key) {
                assert!(k.permits_value() || !k.needs_value());
            }
        }
        parsers(&f.text);
    }
}

/// The messages of a verdict without positions, and without the lines
/// only a table scan logs.
fn messages(v: &Verdict) -> Vec<(Kind, Level, Vec<u8>)> {
    v.diagnostics
        .iter()
        .filter(|d: &&Diagnostic| {
            !(d.kind == Kind::Plain
                && (d.message.starts_with(b"matched:  ") || d.message == b"aclexec returned 1"))
        })
        .map(|d| (d.kind, d.level, d.message.clone()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);
    let world = World::from_case(&c);
    let settings = world::settings(&c);
    let opts = c.section(0);
    fields(opts);

    let mut text = opts.to_vec();
    text.push(b'\n');
    let mut req = world::request(&c);
    let mut rec = Recorder::default();
    let v = process_options(&text, None, &mut req, world.env(), settings, &mut rec);
    checks::verdict(&v, &req, &rec.did, settings.dry_run);
    assert!(v.rule.is_none());
    if v.reason == Reason::NoMatch {
        assert_eq!(v.decision, Decision::Grant);
        assert!(v.context.is_none());
    }

    // The same options as the third field of a rule that matches.
    // (A line of its own: no newline or NUL inside, no backslash before
    // its newline, short enough.)
    if opts.contains(&b'\n')
        || opts.contains(&0)
        || opts.last() == Some(&b'\\')
        || opts.len() + 10 > tcpwrap_core::reader::LINE_BUF - 1
    {
        return;
    }
    let mut line = b"ALL: ALL:".to_vec();
    line.extend_from_slice(&text);
    let table = Table::compile(b"hosts.allow", &line);
    let mut req2 = world::request(&c);
    let mut rec2 = Recorder::default();
    let w = check(
        TableRef::Compiled(&table),
        TableRef::Missing,
        &mut req2,
        world.env(),
        settings,
        &mut rec2,
    );
    let aclexec_failed = w
        .diagnostics
        .iter()
        .any(|d| d.message == b"aclexec returned 1");
    let want = match v.reason {
        Reason::NoMatch if aclexec_failed => Reason::NoMatch,
        Reason::NoMatch => Reason::AllowRule,
        r => r,
    };
    assert_eq!(
        w.reason, want,
        "process_options and a table rule end differently"
    );
    assert_eq!(w.decision, v.decision);
    assert_eq!(w.options, v.options, "different options ran");
    assert_eq!(rec2.did, rec.did, "different actions");
    assert_eq!(w.settings, v.settings, "different settings");
    assert_eq!(w.twist, v.twist);
    assert_eq!(messages(&w), messages(&v), "different messages");
    // (The requests may differ: matching `ALL` evaluates the address.)
});
