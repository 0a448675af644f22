//! Hostile host names (issue 8, item 3): names with shell metacharacters,
//! quotes, control and non-ASCII bytes, 255-byte labels and over-long names,
//! delivered by the system resolver (glibc's files backend reading a private
//! /etc/hosts, and its DNS backend asking a DNS server of the test) inside a
//! private namespace, decided by `Checker` for a real connection and with
//! `spawn` commands really run by /bin/sh. Each case asserts the decision,
//! the exact expansions (unsafe bytes replaced by `_`), that no injected
//! command ran (`pwned` marker absent, no stray files), and a time bound;
//! tcpdmatch's output equals Debian's for the same address.
//!
//! What the C library lets through (glibc 2.36, measured here):
//! * files backend: any byte except blanks (space, tab, CR, VT, FF,
//!   newline end a name), `#` (comment) and NUL; a name longer than
//!   `NI_MAXHOST` - 1 (1024) bytes makes getnameinfo fail (EAI_OVERFLOW).
//! * DNS backend: only host-name syntax (letters, digits, `-`, `_`); a PTR
//!   record with `;`, `$`, a backquote, a newline, NUL, a space or a
//!   non-ASCII byte is rejected (the address has no name). DNS cannot carry
//!   a label longer than 63 bytes or a name longer than 255.
//!
//! So newlines and NUL bytes cannot reach us through glibc at all; the
//! second test hands them to the engine through a resolver of its own and
//! runs the spawn commands for real.

mod hostile;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hostile::{Scratch, filtered};
use tcpwrap::exec::SystemExecutor;
use tcpwrap::{Checker, Request, Settings};
use tcpwrap_core::{Family, Forward, Resolver};

const DEBIAN_TCPDMATCH: &str = "/usr/sbin/tcpdmatch";
const TCPDMATCH: &str = env!("CARGO_BIN_EXE_tcpdmatch");

/// How the engine must see a client's name.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Verified: this name.
    Known(Vec<u8>),
    /// Reverse look-up worked, verification failed.
    Paranoid,
    /// No name.
    Unknown,
}

/// The injected command of every payload: create the marker.
fn touch(dir: &Path) -> String {
    format!("touch${{IFS}}{}/pwned", dir.display())
}

/// /etc/hosts entries: (address, name as the file holds it, expectation).
fn files_names(dir: &Path) -> Vec<(&'static str, Vec<u8>, Seen)> {
    let t = touch(dir);
    let mut v: Vec<(&str, Vec<u8>)> = vec![
        ("10.66.0.1", format!("x;{t};x.example").into_bytes()),
        ("10.66.0.2", format!("$({t})").into_bytes()),
        ("10.66.0.3", format!("`{t}`.example").into_bytes()),
        ("10.66.0.4", format!("x|{t}").into_bytes()),
        ("10.66.0.5", format!("x&&{t}&&x").into_bytes()),
        (
            "10.66.0.6",
            format!("'q\"uo'\"te\">{}/pwned", dir.display()).into_bytes(),
        ),
        ("10.66.0.7", format!("back\\\\slash\\$({t})").into_bytes()),
        (
            "10.66.0.8",
            b"h\xc3\xa9\xff\x01\x1b[2J\x7f.example".to_vec(),
        ),
        ("10.66.0.9", b"pct%h%u%c%n.example".to_vec()),
        // A 255-byte label (DNS allows 63; /etc/hosts anything).
        ("10.66.0.10", [&[b'a'; 255][..], b".example"].concat()),
        // Three 255-byte labels: 769 bytes.
        (
            "10.66.0.11",
            [
                &[b'b'; 255][..],
                b".",
                &[b'c'; 255],
                b".",
                &[b'd'; 255],
                b".e",
            ]
            .concat(),
        ),
        // More than NI_MAXHOST: getnameinfo fails.
        ("10.66.0.12", vec![b'f'; 1300]),
    ];
    // Exactly 127 bytes (the original's limit) with a payload: verified.
    let mut n127 = format!("{t};").into_bytes();
    n127.resize(127, b'g');
    v.push(("10.66.0.13", n127));
    // 128 bytes with the payload at the end: cut to 127 before the forward
    // look-up, which then fails.
    let mut n128 = vec![b'h'; 127 - 1];
    n128.extend_from_slice(b";;");
    v.push(("10.66.0.14", n128));
    v.into_iter()
        .map(|(a, n)| {
            let seen = if n.len() > 1024 {
                Seen::Unknown
            } else if n.len() > 127 {
                Seen::Paranoid
            } else {
                Seen::Known(n.clone())
            };
            (a, n, seen)
        })
        .collect()
}

/// DNS records: (address, labels, expectation).
fn dns_names(dir: &Path) -> Vec<(&'static str, Vec<Vec<u8>>, Seen)> {
    let t = touch(dir).into_bytes();
    let ex = b"example".to_vec();
    let known = |labels: &[Vec<u8>]| Seen::Known(labels.join(&b'.'));
    let l63: Vec<Vec<u8>> = vec![
        vec![b'a'; 63],
        vec![b'b'; 63],
        vec![b'c'; 63],
        vec![b'd'; 61],
    ];
    let short = vec![b"under_score".to_vec(), b"x-y".to_vec(), ex.clone()];
    vec![
        ("10.67.0.1", short.clone(), known(&short)),
        // 253 characters: the longest DNS name; cut to 127, not verified.
        ("10.67.0.2", l63, Seen::Paranoid),
        (
            "10.67.0.3",
            vec![[b"x;".as_slice(), &t].concat(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.4",
            vec![b"new\nline".to_vec(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.5",
            vec![b"nul\0byte".to_vec(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.6",
            vec![b"sp ace".to_vec(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.7",
            vec![b"h\xc3\xa9".to_vec(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.8",
            vec![[b"$(".as_slice(), &t, b")"].concat(), ex.clone()],
            Seen::Unknown,
        ),
        (
            "10.67.0.9",
            vec![b"dot.inside".to_vec(), ex.clone()],
            Seen::Unknown,
        ),
        ("10.67.0.10", vec![b"quo'te\"".to_vec(), ex], Seen::Unknown),
    ]
}

/// The expansions `n=%n h=%h c=%c` the engine must produce.
fn expected_line(addr: &str, seen: &Seen) -> Vec<u8> {
    let (n, h) = match seen {
        Seen::Known(name) => (filtered(name), filtered(name)),
        Seen::Paranoid => (b"paranoid".to_vec(), addr.as_bytes().to_vec()),
        Seen::Unknown => (b"unknown".to_vec(), addr.as_bytes().to_vec()),
    };
    // No ident server in the namespace: %c is %h.
    [b"n=".as_slice(), &n, b" h=", &h, b" c=", &h, b"\n"].concat()
}

/// Files the spawn commands may create; anything else is an injection.
fn check_no_injection(dir: &Path, allowed: &[String]) {
    assert!(
        !dir.join("pwned").exists(),
        "an injected command ran: {}/pwned exists",
        dir.display()
    );
    let mut stray = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !allowed.contains(&name) {
            stray.push(name);
        }
    }
    assert!(stray.is_empty(), "unexpected files: {stray:?}");
}

#[test]
fn names_from_etc_hosts_and_dns_are_filtered_and_never_run() {
    const TEST: &str = "names_from_etc_hosts_and_dns_are_filtered_and_never_run";
    let Some(ns) = hostile::namespace(TEST, |dir| {
        let mut h = b"127.0.0.1\tlocalhost\n".to_vec();
        for (a, n, _) in files_names(dir) {
            h.extend_from_slice(a.as_bytes());
            h.push(b'\t');
            h.extend_from_slice(&n);
            h.push(b'\n');
        }
        h
    }) else {
        return;
    };
    let dir = ns.dir.as_path();
    let files = files_names(dir);
    let dns = dns_names(dir);
    // glibc's DNS backend after the files, asking our server.
    hostile::dns_server(
        dns.iter()
            .map(|(a, l, _)| (a.parse::<Ipv4Addr>().unwrap(), l.clone()))
            .collect(),
    );
    hostile::bind_over(
        dir,
        "/etc/resolv.conf",
        b"nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    );
    hostile::bind_over(dir, "/etc/nsswitch.conf", b"hosts: files dns\n");
    let names: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(a, n, _)| (*a, n.clone()))
        .chain(dns.iter().map(|(a, l, _)| (*a, l.join(&b'.'))))
        .collect();
    let cases: Vec<(&str, Seen)> = files
        .iter()
        .map(|(a, _, s)| (*a, s.clone()))
        .chain(dns.iter().map(|(a, _, s)| (*a, s.clone())))
        .collect();
    hostile::add_addresses(&cases.iter().map(|(a, _)| *a).collect::<Vec<_>>());

    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let tables = dir.join("tables");
    std::fs::create_dir(&tables).unwrap();
    let allow = tables.join("hosts.allow");
    let deny = tables.join("hosts.deny");
    std::fs::write(
        &allow,
        format!(
            "ALL: KNOWN: spawn echo n=%n h=%h c=%c > {}/%a.allow\n",
            out.display()
        ),
    )
    .unwrap();
    std::fs::write(
        &deny,
        format!(
            "ALL: ALL: spawn echo n=%n h=%h c=%c > {}/%a.deny\n",
            out.display()
        ),
    )
    .unwrap();
    let checker = Checker::new(allow.to_str().unwrap(), deny.to_str().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let debian = std::path::Path::new(DEBIAN_TCPDMATCH).exists();
    if !debian {
        hostile::unavailable("Debian's tcpdmatch is not installed (package tcpd)");
    }
    let mut allowed_files = vec![];
    let mut report = Vec::new();
    for (addr, seen) in &cases {
        // A real connection from the hostile address.
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let from: SocketAddr = format!("{addr}:0").parse().unwrap();
        sock.bind(&from.into()).unwrap();
        sock.connect(&server.into()).unwrap();
        let client: TcpStream = sock.into();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), client.local_addr().unwrap().ip());
        let mut req = Request::for_connection(b"sshd", peer, Some(server));
        let t = Instant::now();
        let v = checker.check(&mut req, Settings::default(), &mut SystemExecutor::new());
        let took = t.elapsed();
        let granted = matches!(seen, Seen::Known(_));
        assert_eq!(v.granted(), granted, "{addr}: {seen:?}: {v:?}");
        // glibc gives up on our DNS server after its 1-second timeout at
        // most once per look-up; nothing waits longer.
        assert!(
            took < Duration::from_secs(3),
            "{addr}: the check took {took:?}"
        );
        let file = format!("{addr}.{}", if granted { "allow" } else { "deny" });
        let got = std::fs::read(out.join(&file))
            .unwrap_or_else(|e| panic!("{addr}: the spawn wrote no {file}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected_line(addr, seen)),
            "{addr}: {seen:?}"
        );
        allowed_files.push(file);
        // tcpdmatch, ours and Debian's, for the address and for the name:
        // the same output (the name as an argument is looked up forward).
        let name = names
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, n)| n.clone());
        let mut args: Vec<Vec<u8>> = vec![addr.as_bytes().to_vec()];
        args.extend(name.filter(|n| !n.contains(&0)));
        for arg in &args {
            let run = |prog: &str| {
                Command::new(prog)
                    .arg("-d")
                    .arg("sshd")
                    .arg(std::ffi::OsStr::from_bytes(arg))
                    .current_dir(&tables)
                    .output()
                    .unwrap()
            };
            let ours = run(TCPDMATCH);
            assert!(
                ours.stdout.ends_with(b"access:   granted\n")
                    || ours.stdout.ends_with(b"access:   denied\n")
                    || ours.status.code() == Some(1),
                "{addr}: tcpdmatch {arg:?}: {ours:?}"
            );
            // A name found by tcpdmatch's own look-up is reported (and
            // matched) through the expansion filter, as Debian's does.
            if let (true, Seen::Known(n)) = (arg.as_slice() != addr.as_bytes(), seen) {
                let line = [b"client:   hostname ".as_slice(), &filtered(n), b"\n"].concat();
                assert!(
                    ours.stdout
                        .windows(line.len())
                        .any(|w| w == line.as_slice()),
                    "{addr}: {}",
                    String::from_utf8_lossy(&ours.stdout)
                );
            }
            if debian {
                let deb = run(DEBIAN_TCPDMATCH);
                assert_eq!(
                    (String::from_utf8_lossy(&ours.stdout), ours.status.code()),
                    (String::from_utf8_lossy(&deb.stdout), deb.status.code()),
                    "{addr}: tcpdmatch {:?} differs from Debian's",
                    String::from_utf8_lossy(arg)
                );
            }
        }
        report.push(format!(
            "{addr} {:?} {} in {took:?}",
            match seen {
                Seen::Known(n) => format!("known ({} bytes)", n.len()),
                other => format!("{other:?}"),
            },
            if granted { "granted" } else { "denied" }
        ));
    }
    check_no_injection(&out, &allowed_files);
    eprintln!("{}", report.join("\n"));
    drop(listener);
}

/// A resolver that returns names no C library resolver delivers: every
/// address 127.0.0.N has a name, and every name resolves back to its
/// address (so the name is verified and reaches the expansions).
struct Bytes(Vec<(Ipv4Addr, Vec<u8>)>);

impl Resolver for Bytes {
    fn reverse(&self, ip: IpAddr, _scope: u32) -> Option<Vec<u8>> {
        self.0
            .iter()
            .find(|(a, _)| IpAddr::V4(*a) == ip)
            .map(|(_, n)| n.clone())
    }
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward> {
        if family != Family::V4 {
            return None;
        }
        let (a, n) = self
            .0
            .iter()
            .find(|(_, n)| n.len().min(127) == name.len() && n[..name.len()] == *name)?;
        // Names longer than 127 bytes are looked up cut: they do not exist.
        if n.len() > 127 {
            return None;
        }
        Some(Forward {
            canonical: Some(n.clone()),
            addrs: vec![(IpAddr::V4(*a), 0)],
        })
    }
}

#[test]
fn newlines_nul_and_other_bytes_glibc_never_delivers_are_filtered_too() {
    let dir = Scratch::new("bytes");
    let t = touch(&dir.0);
    let mut names: Vec<Vec<u8>> = vec![
        format!("a\n{t}\nb").into_bytes(),
        format!("nul\0;{t}").into_bytes(),
        format!("cr\r\n{t};").into_bytes(),
        format!("sp ace;{t}\t").into_bytes(),
        format!("\"$({t})\"'`{t}`'").into_bytes(),
        b"\xff\xfe\x00\x01\x1b]0;title\x07".to_vec(),
        format!("%n%h%c%u;{t}").into_bytes(),
    ];
    let mut label = vec![b'x'; 255];
    label.extend_from_slice(format!(";{t}").as_bytes());
    names.push(label);
    let mut exact = format!("\n{t}\n").into_bytes();
    exact.resize(127, b'\n');
    names.push(exact);
    let records: Vec<(Ipv4Addr, Vec<u8>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (Ipv4Addr::new(127, 0, 66, i as u8 + 1), n.clone()))
        .collect();
    let resolver = Bytes(records.clone());
    let out = dir.path("out");
    std::fs::create_dir(&out).unwrap();
    let allow = dir.write(
        "hosts.allow",
        format!(
            "ALL: KNOWN: spawn echo n=%n h=%h c=%c > {}/%a.allow\n",
            out.display()
        ),
    );
    let deny = dir.write(
        "hosts.deny",
        format!(
            "ALL: ALL: spawn echo n=%n h=%h > {}/%a.deny\n",
            out.display()
        ),
    );
    // An ident port nothing listens on: refused at once, user unknown.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let checker =
        Checker::new(allow.to_str().unwrap(), deny.to_str().unwrap()).with_ident_port(free);
    let mut files = Vec::new();
    for (a, name) in &records {
        let client = SocketAddr::new(IpAddr::V4(*a), 40000);
        let server: SocketAddr = "127.0.0.1:22".parse().unwrap();
        let mut req = Request::for_connection(b"sshd", client, Some(server));
        let t0 = Instant::now();
        let v = checker.check_with(
            checker.env_with(&resolver),
            &mut req,
            Settings::default(),
            &mut SystemExecutor::new(),
        );
        assert!(t0.elapsed() < Duration::from_secs(3));
        let addr = a.to_string();
        if name.len() > 127 {
            assert!(!v.granted(), "{addr}");
            let got = std::fs::read(out.join(format!("{addr}.deny"))).unwrap();
            assert_eq!(got, format!("n=paranoid h={addr}\n").into_bytes());
            files.push(format!("{addr}.deny"));
        } else {
            assert!(v.granted(), "{addr}: {v:?}");
            let f = filtered(name);
            let got = std::fs::read(out.join(format!("{addr}.allow"))).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(
                    &[b"n=".as_slice(), &f, b" h=", &f, b" c=", &f, b"\n"].concat()
                ),
                "{addr}"
            );
            files.push(format!("{addr}.allow"));
        }
    }
    check_no_injection(&out, &files);
    assert!(!dir.path("pwned").exists());
}
