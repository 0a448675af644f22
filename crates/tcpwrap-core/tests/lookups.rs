//! Lazy, cached look-ups (§2.5): names, users and addresses are computed at
//! most once per request and only when a pattern, an option or an expansion
//! needs them. The test services count every call.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use common::{Services, ShellExec};
use tcpwrap_core::{LookupKind, Request, Settings, Table, TableRef, check};

fn run(s: &Services, allow: &str, req: &mut Request) -> tcpwrap_core::Verdict {
    let a = Table::compile(b"allow", allow.as_bytes());
    let d = Table::compile(b"deny", b"ALL: ALL\n");
    check(
        TableRef::Compiled(&a),
        TableRef::Compiled(&d),
        req,
        s.env(),
        Settings::default(),
        &mut ShellExec::default(),
    )
}

fn conn() -> Request {
    let c: SocketAddr = "10.1.1.1:4000".parse().unwrap();
    let s: SocketAddr = "10.1.1.200:22".parse().unwrap();
    Request::for_connection(b"sshd", c, Some(s))
}

fn counts(s: &Services) -> (usize, usize, usize) {
    (
        s.resolver.reverse_calls.load(Ordering::Relaxed),
        s.resolver.forward_calls.load(Ordering::Relaxed),
        s.ident.1.load(Ordering::Relaxed),
    )
}

#[test]
fn address_patterns_never_look_up_names() {
    let s = Services::new(Some("bob"));
    let mut r = conn();
    let v = run(
        &s,
        "sshd: 10.0.0.1, 10.1.0.0/16, 10.1.1., [::1]/128\n",
        &mut r,
    );
    assert!(v.granted());
    assert_eq!(counts(&s), (0, 0, 0));
    assert!(v.lookups.is_empty());
    assert_eq!(r.client.cached_name(), None);
    assert_eq!(r.client.cached_addr(), Some(&b"10.1.1.1"[..]));
}

#[test]
fn a_name_is_looked_up_once_for_many_patterns() {
    let s = Services::new(None);
    let mut r = conn();
    let v = run(
        &s,
        "sshd: .nowhere.org, other.example.com\nsshd: KNOWN@nomatch LOCAL\nsshd: good.example.com\n",
        &mut r,
    );
    assert!(v.granted());
    assert_eq!(v.rule.as_ref().unwrap().line, 3);
    assert_eq!(counts(&s), (1, 1, 0), "one reverse and one forward look-up");
    assert_eq!(v.lookups.len(), 1);
    assert_eq!(v.lookups[0].kind, LookupKind::ClientName);
    assert_eq!(v.lookups[0].result, b"good.example.com");
}

#[test]
fn ident_only_after_the_host_part_matched() {
    let s = Services::new(Some("bob"));
    let mut r = conn();
    let v = run(&s, "sshd: bob@10.9.9.9\n", &mut r);
    assert!(!v.granted());
    assert_eq!(counts(&s).2, 0, "host part did not match: no ident query");
    let mut r = conn();
    let v = run(&s, "sshd: bob@10.1.1.1\nsshd: alice@ALL\n", &mut r);
    assert!(v.granted());
    assert_eq!(counts(&s).2, 1, "one query, cached for the second rule");
    assert_eq!(r.cached_user(), Some(&b"bob"[..]));
}

#[test]
fn all_at_all_asks_ident_but_udp_never_does() {
    let s = Services::new(Some("carol"));
    let mut r = conn();
    assert!(run(&s, "ALL: ALL@ALL\n", &mut r).granted());
    assert_eq!(counts(&s).2, 1);
    let mut r = conn();
    r.datagram = true;
    assert!(!run(&s, "ALL: KNOWN@ALL\n", &mut r).granted());
    assert_eq!(counts(&s).2, 1, "no ident for datagram requests");
}

#[test]
fn a_daemon_mismatch_looks_up_nothing() {
    let s = Services::new(Some("bob"));
    let mut r = conn();
    let a = Table::compile(b"allow", b"ftpd: KNOWN, bob@ALL, .example.com\n");
    let v = check(
        TableRef::Compiled(&a),
        TableRef::Missing,
        &mut r,
        s.env(),
        Settings::default(),
        &mut ShellExec::default(),
    );
    assert!(v.granted());
    assert_eq!(counts(&s), (0, 0, 0));
    assert_eq!(r.client.cached_addr(), None, "not even the address");
}

#[test]
fn expansion_uses_what_is_known_and_forces_only_what_it_names() {
    let s = Services::new(Some("bob"));
    let mut r = conn();
    let v = run(&s, "ALL: ALL: setenv A %h %c: allow\n", &mut r);
    assert!(v.granted());
    assert_eq!(counts(&s), (0, 0, 0), "%h and %c never look anything up");
    assert_eq!(
        v.options[0].value.as_deref(),
        Some(&b"A 10.1.1.1 10.1.1.1"[..])
    );
    let mut r = conn();
    let v = run(&s, "ALL: ALL: setenv A %n %u %c: allow\n", &mut r);
    assert_eq!(counts(&s), (1, 1, 1));
    assert_eq!(
        v.options[0].value.as_deref(),
        Some(&b"A good.example.com bob bob@good.example.com"[..])
    );
}
