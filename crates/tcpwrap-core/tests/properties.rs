//! Properties over arbitrary input: the parser and matcher never panic on
//! any bytes, and the address index decides exactly like a linear scan
//! (same verdict, same diagnostics, same look-ups).

mod common;

use proptest::prelude::*;
use tcpwrap_core::{Env, NoExec, Request, Settings, Table, TableRef, check};

fn env() -> Env<'static> {
    Env::offline()
}

/// Bytes biased towards the language's syntax.
fn table_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"sshd".to_vec()),
        Just(b"ALL".to_vec()),
        Just(b"EXCEPT".to_vec()),
        Just(b": ".to_vec()),
        Just(b":".to_vec()),
        Just(b", ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\\\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"10.0.0.1".to_vec()),
        Just(b"10.0.0.0/8".to_vec()),
        Just(b"[::1]".to_vec()),
        Just(b"[2001:db8::]/32".to_vec()),
        Just(b"@grp".to_vec()),
        Just(b"/nonexistent".to_vec()),
        Just(b"bob@".to_vec()),
        Just(b"*.example.com".to_vec()),
        Just(b"spawn echo %a %n %u %x".to_vec()),
        Just(b"twist echo %c".to_vec()),
        Just(b"allow".to_vec()),
        Just(b"deny".to_vec()),
        Just(b"severity local0.info".to_vec()),
        Just(b"setenv A %a\\:%d".to_vec()),
        Just(b"#".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(vec![0u8]),
        Just(vec![0xff, 0xfe]),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    proptest::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"".to_vec()),
        Just(b"10.0.0.1".to_vec()),
        Just(b"::ffff:10.0.0.1".to_vec()),
        Just(b"unknown".to_vec()),
        Just(b"h.example.com".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn never_panics(allow in table_bytes(), deny in proptest::collection::vec(any::<u8>(), 0..300),
                    daemon in text(), name in text(), addr in text(), user in text(), dry in any::<bool>()) {
        let a = Table::compile(b"hosts.allow", &allow);
        let d = Table::compile(b"hosts.deny", &deny);
        let mut req = Request::from_ctl(&daemon, &name, &addr, &user);
        let settings = Settings { dry_run: dry, verbose: 2, ..Settings::default() };
        let v = check(TableRef::Compiled(&a), TableRef::Compiled(&d), &mut req, env(), settings, &mut NoExec);
        // Every diagnostic renders; an error always means a denial.
        for x in &v.diagnostics {
            let _ = x.text();
        }
        if v.diagnostics.iter().any(|x| x.kind == tcpwrap_core::Kind::Error) {
            prop_assert!(!v.granted());
        }
    }

    #[test]
    fn expansion_never_panics(p in proptest::collection::vec(any::<u8>(), 0..3000), name in text()) {
        let mut req = Request::from_ctl(b"d", &name, b"10.0.0.1", b"");
        let mut ctx = tcpwrap_core::Ctx::new(env());
        if let Ok(out) = tcpwrap_core::expand::expand(&p, 1024, &mut req, &mut ctx) {
            prop_assert!(out.len() <= 1022);
        }
    }

    #[test]
    fn ident_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Some(u) = tcpwrap_core::ident::parse_reply(&line, 1, 2) {
            prop_assert!(!u.is_empty() && u.len() <= 255);
        }
    }
}

/// A table of `n` single-address rules with a few other rules mixed in.
fn big_table(seed: u64, n: usize) -> (Vec<u8>, Vec<String>) {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut s = String::new();
    let mut addrs = Vec::new();
    for i in 0..n {
        let a = format!("10.{}.{}.{}", next() % 4, next() % 8, next() % 32);
        addrs.push(a.clone());
        let d = ["sshd", "ALL", "ftpd", "sshd, ftpd", "22"][(next() % 5) as usize];
        match next() % 50 {
            0 => s.push_str("sshd: .example.com: severity mail.info\n"),
            1 => s.push_str("# comment\n"),
            2 => s.push_str("broken line\n"),
            3 => s.push_str(&format!("{d}: {a}, 10.9.9.9: deny\n")),
            4 => s.push_str(&format!("{d}: ALL EXCEPT {a}\n")),
            // Not a canonical quad: compared as text.
            5 => s.push_str(&format!("{d}: 0{a}\n")),
            _ => s.push_str(&format!("{d}: {a}\n")),
        }
        if i % 97 == 96 {
            s.push_str("ALL: KNOWN@10.0.0.0/8\n");
        }
    }
    (s.into_bytes(), addrs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn index_equals_linear_scan(seed in any::<u64>(), n in 1usize..600, probes in proptest::collection::vec((any::<u16>(), 0usize..5), 1..40)) {
        let (data, addrs) = big_table(seed, n);
        let indexed = Table::compile(b"hosts.deny", &data);
        let linear = Table::compile(b"hosts.deny", &data).without_index();
        let daemons: [&[u8]; 5] = [b"sshd", b"ftpd", b"telnetd", b"22", b"unknown"];
        for (p, d) in probes {
            let addr = if p % 3 == 0 { format!("::ffff:{}", addrs[p as usize % addrs.len()]) }
                else if p % 3 == 1 { addrs[p as usize % addrs.len()].clone() }
                else if p % 7 == 2 { format!("0{}", addrs[p as usize % addrs.len()]) }
                else { format!("10.0.{}.{}", p % 8, p % 40) };
            let mut r1 = Request::from_ctl(daemons[d], b"", addr.as_bytes(), b"bob");
            let mut r2 = r1.clone();
            let s = Settings { verbose: 2, ..Settings::default() };
            let v1 = check(TableRef::Missing, TableRef::Compiled(&indexed), &mut r1, env(), s, &mut NoExec);
            let v2 = check(TableRef::Missing, TableRef::Compiled(&linear), &mut r2, env(), s, &mut NoExec);
            prop_assert_eq!(&v1, &v2);
            prop_assert_eq!(r1, r2);
        }
    }
}

#[test]
fn big_tables_are_indexed() {
    let (data, _) = big_table(7, 5000);
    let t = Table::compile(b"hosts.deny", &data);
    assert!(
        t.indexed_rules() > 2500,
        "{} rules indexed",
        t.indexed_rules()
    );
}
