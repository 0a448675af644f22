//! The shortcuts of `Table::compile` give what the general path gives:
//!
//! * the fast lane for `<daemons>:<blanks><address text>\n` lines builds the
//!   same table as the general path (`Table::compile_general`), for tables
//!   full of lines that almost have that shape;
//! * the compact address entry (a client list of one token of digits and
//!   dots) decides like the general pattern classification of that token;
//! * and both decide like a linear scan, on the first use of the index
//!   (compared one by one) and on later uses (sorted).

use proptest::prelude::*;
use tcpwrap_core::pattern::{ClientPat, HostPat, StrPat};
use tcpwrap_core::{Env, NoExec, Request, Settings, Table, TableRef, check};

/// A dotted quad, canonical or not.
fn quad() -> impl Strategy<Value = String> {
    let octet = prop_oneof![
        4 => (0u16..256).prop_map(|o| o.to_string()),
        1 => (0u16..256).prop_map(|o| format!("0{o}")),
        1 => (256u16..1000).prop_map(|o| o.to_string()),
        1 => Just("00".to_string()),
        1 => Just(String::new()),
        1 => Just("1234".to_string()),
    ];
    (proptest::collection::vec(octet, 3..=5)).prop_map(|o| o.join("."))
}

/// The client-list part of a line: mostly one address text, often a near
/// miss of the fast lane's shape.
fn client() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => quad(),
        1 => quad().prop_map(|q| format!("{q}.")),
        1 => quad().prop_map(|q| format!(".{q}")),
        1 => quad().prop_map(|q| format!("{q}, 10.9.9.9")),
        1 => quad().prop_map(|q| format!("{q} EXCEPT 10.0.0.1")),
        1 => quad().prop_map(|q| format!("{q}: deny")),
        1 => quad().prop_map(|q| format!("{q}:")),
        1 => quad().prop_map(|q| format!("{q},")),
        1 => quad().prop_map(|q| format!(",{q}")),
        1 => quad().prop_map(|q| format!("{q}/24")),
        1 => quad().prop_map(|q| format!("bob@{q}")),
        1 => Just("ALL".to_string()),
        1 => Just("1".to_string()),
        1 => Just("12345678901234567890".to_string()),
        1 => Just("123456789012345".to_string()),
        1 => Just("1234567890123456".to_string()),
        1 => Just(String::new()),
        1 => Just(".".to_string()),
        1 => Just("[::1]".to_string()),
    ]
}

fn daemons() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => Just("sshd".to_string()),
        2 => Just("ALL".to_string()),
        1 => Just("sshd, vsftpd, in.telnetd".to_string()),
        1 => Just("sshd EXCEPT ftpd".to_string()),
        1 => Just("sshd@10.0.0.1".to_string()),
        1 => Just("22".to_string()),
        1 => Just(String::new()),
        1 => Just(" sshd".to_string()),
        1 => Just("[a:b]".to_string()),
        1 => Just("d".repeat(600)),
    ]
}

fn blanks() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(" ".to_string()),
        2 => Just(String::new()),
        1 => Just("\t".to_string()),
        1 => Just(" \t  ".to_string()),
        1 => Just(" ".repeat(70)),
        1 => Just("\r".to_string()),
    ]
}

fn tail() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => Just("\n".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just(" \n".to_string()),
        1 => Just("\t\n".to_string()),
        1 => Just("\\\n".to_string()),
        1 => Just("\0\n".to_string()),
        1 => Just("\0".to_string()),
        1 => Just(" # x\n".to_string()),
        1 => Just(String::new()),
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (daemons(), blanks(), client(), tail()).prop_map(|(d, b, c, t)| format!("{d}:{b}{c}{t}")),
        1 => Just("# DenyHosts: Mon Jan  1 00:00:00 2024 | sshd: 10.0.0.1\n".to_string()),
        1 => Just("# comment \\\n".to_string()),
        1 => Just("\n".to_string()),
        1 => Just("  \t\n".to_string()),
        1 => Just("broken line\n".to_string()),
        1 => Just(format!("sshd: 10.0.0.1 {}\n", " ".repeat(2040))),
    ]
}

/// Tables where the same daemon text repeats, so the fast lane runs.
fn table() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(line(), 0..80).prop_map(|v| v.concat().into_bytes())
}

/// Client addresses to probe with: the table's own tokens, their mapped
/// form, and a few others.
fn probes(data: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(data);
    let mut v: Vec<Vec<u8>> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| !t.is_empty())
        .take(12)
        .map(|t| t.as_bytes().to_vec())
        .collect();
    let mut more: Vec<Vec<u8>> = v
        .iter()
        .take(3)
        .map(|t| [&b"::FFFF:"[..], t].concat())
        .collect();
    // Near misses: a token without its last character, or with one more.
    more.extend(v.iter().take(6).map(|t| t[..t.len() - 1].to_vec()));
    more.extend(v.iter().take(3).map(|t| [&t[..], b"7"].concat()));
    v.extend(more);
    v.extend([
        b"192.0.2.77".to_vec(),
        b"10.9.9.9".to_vec(),
        b"unknown".to_vec(),
        b"".to_vec(),
    ]);
    v
}

fn decide(t: &Table, daemon: &[u8], addr: &[u8]) -> (tcpwrap_core::Verdict, Request) {
    let mut r = Request::from_ctl(daemon, b"", addr, b"");
    let s = Settings {
        verbose: 2,
        ..Settings::default()
    };
    let v = check(
        TableRef::Missing,
        TableRef::Compiled(t),
        &mut r,
        Env::offline(),
        s,
        &mut NoExec,
    );
    (v, r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    #[test]
    fn fast_lane_equals_general_path(data in table()) {
        let fast = Table::compile(b"hosts.deny", &data);
        let general = Table::compile_general(b"hosts.deny", &data);
        prop_assert_eq!(&fast, &general);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn compiled_decides_like_linear_scan(data in table()) {
        let fast = Table::compile(b"hosts.deny", &data);
        let linear = Table::compile_general(b"hosts.deny", &data).without_index();
        for daemon in [&b"sshd"[..], b"ftpd", b"22"] {
            for addr in probes(&data) {
                let (v, r) = decide(&linear, daemon, &addr);
                // A table whose index was never used compares rule by
                // rule; the shared one sorts from its second use on.
                let unused = fast.clone();
                for t in [&unused, &fast, &fast] {
                    let (v1, r1) = decide(t, daemon, &addr);
                    prop_assert_eq!(&v1, &v);
                    prop_assert_eq!(&r1, &r);
                }
            }
        }
    }

    /// Why `Entry::Addr` may keep the text: the general classification of
    /// a token of digits and dots that neither starts nor ends with a dot
    /// is a plain address pattern (never compared with a name) that
    /// matches exactly the subjects that equal it once `::ffff:` is
    /// stripped.
    #[test]
    fn address_text_matches_by_equality(token in "[0-9][0-9.]{0,14}[0-9]|[0-9]", subject in prop_oneof![
        "[0-9.]{0,16}",
        "(::ffff:|::FFFF:)?[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        ".{0,20}",
    ]) {
        let mut arena = Vec::new();
        let p = ClientPat::classify(&mut arena, token.as_bytes());
        let ClientPat { user: None, host: HostPat::Plain { pat, name_too: false } } = &p else {
            return Err(TestCaseError::fail(format!("{token}: {p:?}")));
        };
        prop_assert!(matches!(pat, StrPat::Ip4(_) | StrPat::Exact(_)), "{}: {:?}", token, pat);
        let s = subject.as_bytes();
        let stripped = tcpwrap_core::text::strip_mapped(s).unwrap_or(s);
        prop_assert_eq!(pat.matches(&arena, s), stripped == token.as_bytes());
        // The subject itself as a token.
        let mut arena = Vec::new();
        if let ClientPat { user: None, host: HostPat::Plain { pat, .. } } = ClientPat::classify(&mut arena, s) {
            if !s.is_empty() && s.iter().all(|b| b.is_ascii_digit() || *b == b'.') && s[0] != b'.' && s[s.len() - 1] != b'.' {
                prop_assert!(pat.matches(&arena, s));
            }
        }
    }
}

#[test]
fn denyhosts_file_takes_the_fast_lane() {
    let mut data = String::new();
    for i in 0..2000u32 {
        data.push_str(&format!(
            "# DenyHosts: Mon Jan  1 00:00:00 2024 | sshd: 10.{}.{}.{}\n",
            i % 7,
            i % 251,
            i % 13
        ));
        data.push_str(&format!("sshd: 10.{}.{}.{}\n", i % 7, i % 251, i % 13));
    }
    let t = Table::compile(b"hosts.deny", data.as_bytes());
    assert_eq!(t, Table::compile_general(b"hosts.deny", data.as_bytes()));
    assert_eq!(t.entries.len(), 2000);
    assert_eq!(t.indexed_rules(), 2000);
    let (v, _) = decide(&t, b"sshd", b"10.3.3.3");
    assert!(!v.granted());
    assert_eq!(v.rule.map(|r| r.line), Some(8));
}

#[test]
fn non_canonical_addresses_keep_their_meaning() {
    // `010.0.0.1` is no canonical quad: it matches only the same text
    // (libwrap compares such a pattern as a string), also in an indexed
    // run, and never 10.0.0.1 or 8.0.0.1.
    let data = "sshd: 10.0.0.2\nsshd: 010.0.0.1\nsshd: 10.0.0.3\nsshd: 10.0.0.4\nsshd: 1.2.3.4\n";
    let t = Table::compile(b"hosts.deny", data.as_bytes());
    assert_eq!(t.indexed_rules(), 5);
    for _ in 0..2 {
        assert!(decide(&t, b"sshd", b"10.0.0.1").0.granted());
        assert!(decide(&t, b"sshd", b"8.0.0.1").0.granted());
        let (v, _) = decide(&t, b"sshd", b"010.0.0.1");
        assert_eq!(v.rule.map(|r| r.line), Some(2));
        let (v, _) = decide(&t, b"sshd", b"::ffff:1.2.3.4");
        assert_eq!(v.rule.map(|r| r.line), Some(5));
    }
}

#[test]
fn crlf_and_missing_newline() {
    let data =
        b"sshd: 10.0.0.1\r\nsshd: 10.0.0.2\r\nsshd: 10.0.0.3\nsshd: 10.0.0.4\nsshd: 10.0.0.5";
    let t = Table::compile(b"hosts.deny", data);
    assert_eq!(t, Table::compile_general(b"hosts.deny", data));
    assert_eq!(t.error_line, Some(4));
    assert_eq!(t.entries.len(), 4);
    let (v, _) = decide(&t, b"sshd", b"10.0.0.2");
    assert_eq!(v.rule.map(|r| r.line), Some(2));
    let (v, _) = decide(&t, b"sshd", b"10.0.0.5");
    assert!(!v.granted());
    assert_eq!(v.rule.map(|r| r.line), Some(4));
}

/// A change to a table file.
#[derive(Debug, Clone)]
enum Edit {
    /// `touch`: the same text.
    Same,
    /// Lines appended (fail2ban, DenyHosts), possibly without a final
    /// newline.
    Append(String),
    /// Cut at a position (per mille of the length).
    Truncate(u16),
    /// One byte replaced (position per mille of the length).
    Replace(u16, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => Just(Edit::Same),
        4 => proptest::collection::vec(line(), 0..6).prop_map(|v| Edit::Append(v.concat())),
        1 => prop_oneof![Just("sshd: 10.1.2.3".to_string()), Just("\n".to_string()), Just("\\".to_string()), Just("1\n".to_string())].prop_map(Edit::Append),
        2 => (0u16..=1000).prop_map(Edit::Truncate),
        2 => ((0u16..1000), prop_oneof![Just(b'\n'), Just(b'\\'), Just(0u8), Just(b' '), Just(b'7'), Just(b'.'), Just(b':'), Just(b'#')]).prop_map(|(p, b)| Edit::Replace(p, b)),
    ]
}

fn apply(e: &Edit, old: &[u8]) -> Vec<u8> {
    let at = |pm: u16| old.len() * usize::from(pm) / 1000;
    let mut v = old.to_vec();
    match e {
        Edit::Same => {}
        Edit::Append(s) => v.extend_from_slice(s.as_bytes()),
        Edit::Truncate(pm) => v.truncate(at(*pm)),
        Edit::Replace(pm, b) => {
            if let Some(x) = v.get_mut(at(*pm)) {
                *x = *b;
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// Recompiling a changed file from where it changed gives the table of
    /// a full compile, also after several changes in a row.
    #[test]
    fn recompile_equals_full_compile(base in table(), edits in proptest::collection::vec(edit(), 1..4)) {
        let name = b"hosts.deny";
        let mut text = base;
        let mut table = Table::compile_owned(name, text.clone());
        for e in &edits {
            text = apply(e, &text);
            table = Table::recompile_owned(table, text.clone());
            let full = Table::compile_owned(name, text.clone());
            prop_assert_eq!(&table, &full);
        }
        // And it decides as the general path does.
        let general = Table::compile_general(name, &text).without_index();
        for addr in probes(&text).into_iter().take(6) {
            let (v1, r1) = decide(&table, b"sshd", &addr);
            let (v2, r2) = decide(&general, b"sshd", &addr);
            prop_assert_eq!(&v1, &v2);
            prop_assert_eq!(r1, r2);
        }
    }
}

#[test]
fn recompile_of_appended_lines() {
    let mut text = String::new();
    for i in 0..3000u32 {
        text.push_str(&format!("sshd: 10.{}.{}.{}\n", i % 7, i % 251, i % 13));
    }
    let t = Table::compile_owned(b"hosts.deny", text.clone().into_bytes());
    assert_eq!(t.indexed_rules(), 3000);
    // A touch, then an appended line that is still being written, then
    // its end.
    let t = Table::recompile_owned(t, text.clone().into_bytes());
    text.push_str("sshd: 192.0.2.");
    let t = Table::recompile_owned(t, text.clone().into_bytes());
    assert_eq!(t.error_line, Some(3000));
    text.push_str("77\n");
    let t = Table::recompile_owned(t, text.clone().into_bytes());
    assert_eq!(
        t,
        Table::compile_owned(b"hosts.deny", text.clone().into_bytes())
    );
    assert_eq!(t.error_line, None);
    assert_eq!(t.indexed_rules(), 3001);
    let (v, _) = decide(&t, b"sshd", b"192.0.2.77");
    assert_eq!(v.rule.map(|r| r.line), Some(3001));
    // A table without its index continues nothing: compiled in full.
    let plain = Table::recompile_owned(t.clone().without_index(), text.clone().into_bytes());
    assert_eq!(plain, t);
    // A changed line: compiled in full.
    let changed = text.replacen("sshd: 10.0.0.0", "sshd: 10.0.0.9", 1);
    let t = Table::recompile_owned(t, changed.clone().into_bytes());
    assert_eq!(t, Table::compile_owned(b"hosts.deny", changed.into_bytes()));
}

/// The fast lane's prefix (daemon text, colon, blanks) is compared in
/// whole also when it is longer than the 16 bytes its word compare sees:
/// a later line that only starts with the first 16 bytes of a long daemon
/// list, followed by digits, has no separator and is no rule. Found by
/// the `table` fuzz target (fast lane != general path).
#[test]
fn long_daemon_list_prefix_is_compared_whole() {
    for data in [
        // (The fast lane reads 16 bytes past an address: a comment follows.)
        &b"sshd, vsftpd, in.telnetd: 10.0.0.1\nsshd, vsftpd, in1.2.3.4\n# padding comment\n"[..],
        b"sshd, in.telnetd: 10.0.0.1\nsshd, in.telnetd1.2.3.4\n# padding comment\n",
        b"abcdefghijklmnopq: 10.0.0.1\nabcdefghijklmnop1.2.3.4\n# padding comment\n",
    ] {
        let t = Table::compile(b"hosts.deny", data);
        assert_eq!(t, Table::compile_general(b"hosts.deny", data));
        assert!(matches!(
            t.entries[1],
            tcpwrap_core::table::Entry::NoSeparator { line: 2 }
        ));
        let (v, _) = decide(&t, b"sshd", b"1.2.3.4");
        assert!(v.granted(), "{:?}", String::from_utf8_lossy(data));
        assert_eq!(
            v.diagnostics[0].to_string(),
            "warning: hosts.deny, line 2: missing \":\" separator"
        );
    }
    // A long list followed by its address is still a rule.
    let data = b"sshd, vsftpd, in.telnetd: 10.0.0.1\nsshd, vsftpd, in.telnetd: 1.2.3.4\n# padding comment\n";
    let t = Table::compile(b"hosts.deny", data);
    assert_eq!(t, Table::compile_general(b"hosts.deny", data));
    assert!(!decide(&t, b"sshd", b"1.2.3.4").0.granted());
}
