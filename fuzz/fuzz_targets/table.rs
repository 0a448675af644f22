//! The table language end to end: line assembly, compilation (fast lane,
//! general path, owned and incremental compilation) and evaluation of a
//! request against the compiled tables, with DNS, ident, netgroup and
//! `/file` answers chosen by the input.
//!
//! Input (see src/case.rs): header keys of the request (`daemon`, `cname`,
//! `caddr`, `user`, `sname`, `saddr`, `csin`, `ssin`, `mode=req`,
//! `methods=1`, `datagram=1`), settings (`dry`, `verbose`, `resident`),
//! the world (`rev`, `canon`, `fwd`, `ident`, `ng`, `pfile`, `acct`),
//! `allow=`/`deny=` `missing` or `unreadable`, `cut=N` and `edit=N,B` for
//! the incremental compiles; section 1 is hosts.allow, section 2
//! hosts.deny.
//!
//! Oracle: no panic, no hang, and
//! * `compile` (fast lane) == `compile_general`;
//! * `recompile_owned` of an earlier text (a cut, a touch, an edit) ==
//!   `compile_owned` of the new text;
//! * the indexed table decides exactly like the linear scan, on the
//!   index's first use and later ones, and like the owned compilation:
//!   same verdict (diagnostics, look-ups, options), same request after;
//! * the invariants of `checks::verdict` (fail closed, consistent
//!   reasons, no side effects in a dry run, bounded request fields).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpwrap_core::reader::LineReader;
use tcpwrap_core::table::Entry;
use tcpwrap_core::{Table, TableRef, Verdict, check};
use tcpwrap_fuzz::case::Case;
use tcpwrap_fuzz::checks;
use tcpwrap_fuzz::world::{self, Did, Recorder, World};

fn recompile_checks(c: &Case, name: &[u8], text: &[u8]) {
    let full = Table::compile_owned(name, text.to_vec());
    // A file that grew (or shrank) from a prefix of itself.
    let cut = text.len() * c.num("cut", 500).min(1000) as usize / 1000;
    let grown = Table::recompile_owned(
        Table::compile_owned(name, text[..cut].to_vec()),
        text.to_vec(),
    );
    assert_eq!(grown, full, "recompile from a prefix of {cut} bytes");
    // A touch.
    let touched = Table::recompile_owned(full.clone(), text.to_vec());
    assert_eq!(touched, full, "recompile of the same text");
    // One byte changed.
    if let Some(e) = c.get("edit") {
        let s = String::from_utf8_lossy(e);
        if let Some((at, b)) = s.split_once(',') {
            let at: usize = at.trim().parse().unwrap_or(0);
            let b: u8 = b.trim().parse().unwrap_or(b'\n');
            if !text.is_empty() {
                let mut changed = text.to_vec();
                changed[at % text.len()] = b;
                let re = Table::recompile_owned(full.clone(), changed.clone());
                assert_eq!(
                    re,
                    Table::compile_owned(name, changed),
                    "recompile after an edit"
                );
            }
        }
    }
}

/// `missing` and `unreadable` tables instead of the compiled text.
fn pick<'t>(kind: Option<&[u8]>, path: &'t [u8], table: &'t Table) -> TableRef<'t> {
    match kind {
        Some(b"missing") => TableRef::Missing,
        Some(b"unreadable") => TableRef::Unreadable {
            path,
            error: "Permission denied",
        },
        _ => TableRef::Compiled(table),
    }
}

/// Every accessor of a compiled table, on every entry (slices into the
/// arena and the address texts must stay in bounds).
fn walk(t: &Table) {
    for e in &t.entries {
        let _ = t.line_of(e);
        match *e {
            Entry::Rule(i) => {
                let r = t.rule(i);
                let _ = (t.daemon_text(r), t.client_text(r), t.options(r));
                let _ = (t.daemon_items(r).len(), t.client_items(r).len());
            }
            Entry::Addr { list, .. } => {
                let a = t.addr_text(e);
                assert!(!a.is_empty() && a.iter().all(|&b| b == b'.' || b.is_ascii_digit()));
                let _ = t.list_items(list);
            }
            Entry::NoSeparator { .. } => {}
        }
    }
    assert!(t.indexed_rules() <= t.entries.len());
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);
    let world = World::from_case(&c);
    let settings = world::settings(&c);
    let texts = [c.section(0), c.section(1)];
    let names: [&[u8]; 2] = [b"hosts.allow", b"hosts.deny"];

    let mut fast = Vec::new();
    let mut linear = Vec::new();
    let mut owned = Vec::new();
    for (name, text) in names.iter().zip(texts) {
        let f = Table::compile(name, text);
        let g = Table::compile_general(name, text);
        assert_eq!(f, g, "fast lane and general path differ");
        walk(&f);
        // The reader with inetd.conf's buffer.
        for l in LineReader::with_buffer(text, 8192) {
            assert!(l.text.len() < 8192);
        }
        recompile_checks(&c, name, text);
        fast.push(f);
        linear.push(g.without_index());
        owned.push(Table::compile_owned(name, text.to_vec()));
    }

    let run = |tables: &[Table]| -> (Verdict, tcpwrap_core::Request, Vec<Did>) {
        let mut req = world::request(&c);
        let mut rec = Recorder::default();
        let v = check(
            pick(c.get("allow"), b"hosts.allow", &tables[0]),
            pick(c.get("deny"), b"hosts.deny", &tables[1]),
            &mut req,
            world.env(),
            settings,
            &mut rec,
        );
        (v, req, rec.did)
    };

    let reference = run(&linear);
    checks::verdict(&reference.0, &reference.1, &reference.2, settings.dry_run);
    // The index's first use compares rule by rule, later ones search the
    // sorted keys.
    for i in 0..3 {
        let got = run(&fast);
        assert_eq!(
            got.0, reference.0,
            "indexed table, use {i}: verdict differs"
        );
        assert_eq!(
            got.1, reference.1,
            "indexed table, use {i}: request differs"
        );
        assert_eq!(got.2, reference.2, "indexed table, use {i}: actions differ");
    }
    let got = run(&owned);
    assert_eq!(got.0, reference.0, "owned table: verdict differs");
    assert_eq!(got.1, reference.1, "owned table: request differs");
});
