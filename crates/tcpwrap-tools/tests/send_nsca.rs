//! send_nsca against Debian's: both clients run with the same arguments and
//! input against Debian's real `nsca` daemon (tests/nsca_lab), and their
//! standard output, standard error, exit status and the lines the daemon
//! writes to its command file (without the timestamp) must be the same.
//! The banner and licence text name our implementation and are compared
//! separately. The deliberate differences of docs/divergences.md
//! ("send_nsca") are asserted as such.
//!
//! Needs root (private mount namespace for the daemon's syslog) and the
//! Debian packages nsca and nsca-client; outside CI the tests skip without
//! them, with CI=true they fail.

mod nsca_lab;

use std::time::Duration;

use nsca_lab::{DEBIAN_CLIENT, Fake, FakeServer, Nsca, OURS, Outcome, Scratch};
use tcpwrap_tools::send_nsca::{LICENSE, banner};

const DEBIAN_BANNER: &str = "\nNSCA Client 2.10.2\nCopyright (c) 2000-2007 Ethan Galstad (www.nagios.org)\n\
Last Modified: 2022-06-06\nLicense: GPL v2\nEncryption Routines: AVAILABLE\n\n";

/// Debian's `-l` text starts with this line and ends with this one.
const DEBIAN_LICENSE_START: &str = "This program is free software; you can redistribute it and/or modify\n\
it under the terms of the GNU General Public License";
const DEBIAN_LICENSE_END: &str = "Foundation, Inc., 675 Mass Ave, Cambridge, MA 02139, USA.\n\n";

/// Standard output with the banner and licence replaced by markers.
fn normalise(out: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(out).into_owned();
    s = s
        .replace(DEBIAN_BANNER, "<BANNER>")
        .replace(&banner(), "<BANNER>");
    if let (Some(a), Some(b)) = (s.find(DEBIAN_LICENSE_START), s.find(DEBIAN_LICENSE_END)) {
        s.replace_range(a..b + DEBIAN_LICENSE_END.len(), "<LICENSE>");
    }
    s.replace(LICENSE, "<LICENSE>")
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn lines(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| b(s)).collect()
}

fn show(cmds: &[Vec<u8>]) -> Vec<String> {
    cmds.iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Both clients on the same daemon; everything must match. Returns our
/// outcome and the commands written for it.
fn same(n: &mut Nsca, args: &[Vec<u8>], input: &[u8]) -> (Outcome, Vec<Vec<u8>>) {
    same_with(n, &[], args, input)
}

/// [`same`] with the lab's standard arguments and `extra`.
fn samex(n: &mut Nsca, extra: &[&str], input: &[u8]) -> (Outcome, Vec<Vec<u8>>) {
    let a = n.args(extra);
    same(n, &a, input)
}

fn same_with(
    n: &mut Nsca,
    prefix: &[String],
    args: &[Vec<u8>],
    input: &[u8],
) -> (Outcome, Vec<Vec<u8>>) {
    let (d, dc) = n.run(prefix, DEBIAN_CLIENT, args, input);
    let (o, oc) = n.run(prefix, OURS, args, input);
    let ctx = format!(
        "args {:?}, input {:?}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&input[..input.len().min(200)])
    );
    assert_eq!(
        o.status, d.status,
        "exit status differs; {ctx}\nours: {o:?}\ndebian: {d:?}"
    );
    assert_eq!(
        normalise(&o.stdout),
        normalise(&d.stdout),
        "stdout differs; {ctx}"
    );
    assert_eq!(o.err(), d.err(), "stderr differs; {ctx}");
    assert_eq!(show(&oc), show(&dc), "commands differ; {ctx}");
    (o, oc)
}

fn ok_line(n: usize) -> String {
    format!("{n} data packet(s) sent to host successfully.\n")
}

#[test]
fn results_and_sets() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let a = n.args(&[]);

    // A service result and a host result (the classic scripts' input).
    let (o, c) = same(&mut n, &a, b"web01\tsshd\t2\tREFUSED sshd from 10.1.2.3\n");
    assert_eq!(o.status, Some(0));
    assert_eq!(o.out(), ok_line(1));
    assert_eq!(
        c,
        lines(&["PROCESS_SERVICE_CHECK_RESULT;web01;sshd;2;REFUSED sshd from 10.1.2.3"])
    );
    let (_, c) = same(&mut n, &a, b"web01\t1\thost down-ish\n\n");
    assert_eq!(
        c,
        lines(&["PROCESS_HOST_CHECK_RESULT;web01;1;host down-ish"])
    );

    // Several sets with ETB, empty sets skipped; a newline is not a separator.
    let (o, c) = same(
        &mut n,
        &a,
        b"\x17h1\ts1\t0\tone\x17\x17h2\t1\ttwo\n\x17h3\ts3\t2\tthree\nh4\ts4\t1\tfour\n\x17 \n\x17",
    );
    assert_eq!(o.out(), ok_line(3));
    assert_eq!(
        c,
        lines(&[
            "PROCESS_SERVICE_CHECK_RESULT;h1;s1;0;one",
            "PROCESS_HOST_CHECK_RESULT;h2;1;two",
            "PROCESS_SERVICE_CHECK_RESULT;h3;s3;2;three\\nh4\ts4\t1\tfour",
        ])
    );

    // -ds 0x0a and -ds 10: one result per line.
    for ds in ["0x0a", "10"] {
        let (o, c) = samex(&mut n, &["-ds", ds], b"h1\ts1\t0\tone\nh2\ts2\t1\ttwo\n");
        assert_eq!(o.out(), ok_line(2));
        assert_eq!(c.len(), 2);
    }
    // A NUL set separator; a NUL in a set ends it.
    samex(&mut n, &["-ds", "00"], b"h\ts\t0\to\0h2\ts2\t1\tp\n");
    same(&mut n, &a, b"h\ts\t0\to\0h2\ts2\t1\tp\n");

    // strtok collapsing and the host-result traps.
    for input in [
        &b"h1\t\t2\tout"[..],
        b"h1\tsvc\t2\t",
        b"\th\t\ts\t\t0\t\to\t\tp",
        b"h\ts\t0\t\n\n \no",
        b"  h \t s \t 0 \t o \t\r\n",
        b"h\ts\t0\to\x0b",
    ] {
        same(&mut n, &a, input);
    }

    // --quiet: nothing on stdout when something was sent.
    let (o, _) = samex(&mut n, &["--quiet"], b"h\ts\t0\tquiet");
    assert_eq!(o.out(), "");
    // Positional host (the old syntax of the Icinga 1.x docs).
    let p = n.port.to_string();
    let cfg = n.send_cfg();
    let pos: Vec<Vec<u8>> = ["127.0.0.1", "-p", &p, "-c", &cfg]
        .iter()
        .map(|s| b(s))
        .collect();
    let (o, c) = same(
        &mut n,
        &pos,
        b"web01\tTCP Wrappers\t2\tDenied sshd2-client\n\n",
    );
    assert_eq!(o.out(), ok_line(1));
    assert_eq!(c.len(), 1);
    // Options before the host, argv[1] an option.
    let pre: Vec<Vec<u8>> = ["-p", &p, "-c", &cfg, "-H", "127.0.0.1", "-to", "5x"]
        .iter()
        .map(|s| b(s))
        .collect();
    same(&mut n, &pre, b"h\ts\t0\tx");
}

/// `-d`: each argument against an input built with the delimiter Debian
/// takes it for (so both must split the same way and the daemon's line
/// proves which byte it was); a NUL delimiter leaves one field.
#[test]
fn delimiters() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    for (arg, c) in [
        (";", b';'),
        ("59", b';'),
        ("0x3b", b';'),
        ("0X3B", b';'),
        ("073", b';'),
        ("+59", b';'),
        ("59x", b';'),
        ("315", b';'),
        ("9", b'9'),
        ("0", b'0'),
        ("ab", b'a'),
        ("a;", b'a'),
        (" 59", b' '),
        ("-1", 0xff),
        ("300", b','),
        ("-0x3b", 0xc5),
        ("99999999999", 0xff),
        ("0x09", b'\t'),
        ("011", b'\t'),
    ] {
        let mut input = vec![b'h', c, b's', c, b'2', c];
        input.extend_from_slice(b"out 9 0 a ; ,\t");
        input.extend_from_slice(&[c, c]);
        input.extend_from_slice(b"tail");
        let (o, cmds) = samex(&mut n, &["-d", arg], &input);
        assert_eq!(o.status, Some(0), "-d {arg:?}");
        let mut want = b"PROCESS_SERVICE_CHECK_RESULT;h;s;2;out 9 0 a ; ,\t".to_vec();
        want.extend_from_slice(&[c, c]);
        want.extend_from_slice(b"tail");
        assert_eq!(cmds, vec![want], "-d {arg:?}");
    }
    for arg in ["", "00", "0x", "08"] {
        let (o, _) = samex(&mut n, &["-d", arg], b"h\ts\t0\to\x00");
        assert_eq!(o.status, Some(2), "-d {arg:?}");
    }
    // A trailing delimiter that is not white space: three fields and an
    // empty rest make a host result; one more makes the rest ";".
    let (_, c) = samex(&mut n, &["-d", ";"], b"h;s;0;");
    assert_eq!(show(&c), vec!["PROCESS_HOST_CHECK_RESULT;h;0;0"]);
    let (_, c) = samex(&mut n, &["-d", ";"], b"h;s;0;;");
    assert_eq!(show(&c), vec!["PROCESS_SERVICE_CHECK_RESULT;h;s;0;;"]);
}

#[test]
fn fields_codes_and_bytes() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let a = n.args(&[]);

    // Over-long fields: 63/127/4095 bytes arrive.
    let long = format!(
        "{}\t{}\t2\t{}",
        "h".repeat(100),
        "s".repeat(200),
        "o".repeat(4200)
    );
    let (_, c) = same(&mut n, &a, long.as_bytes());
    let want = format!(
        "PROCESS_SERVICE_CHECK_RESULT;{};{};2;{}",
        "h".repeat(63),
        "s".repeat(127),
        "o".repeat(4095)
    );
    assert_eq!(show(&c), vec![want]);
    // Legacy mode: 511 bytes of output (one packet per connection works
    // with a 2.10 daemon), from the option or the config file.
    let legacy = format!("h\ts\t1\t{}", "o".repeat(600));
    let (_, c) = samex(&mut n, &["--legacy-2-7-mode"], legacy.as_bytes());
    assert_eq!(
        show(&c),
        vec![format!(
            "PROCESS_SERVICE_CHECK_RESULT;h;s;1;{}",
            "o".repeat(511)
        )]
    );
    let s = Scratch::new("legacy");
    let cfg = s.file("legacy.cfg", b"password=secret\nlegacy_2_7_mode=yes\n");
    let p = n.port.to_string();
    let la: Vec<Vec<u8>> = ["-H", "127.0.0.1", "-p", &p, "-c", &cfg]
        .iter()
        .map(|x| b(x))
        .collect();
    let (_, c) = same(&mut n, &la, legacy.as_bytes());
    assert_eq!(
        c[0].len(),
        "PROCESS_SERVICE_CHECK_RESULT;h;s;1;".len() + 511
    );
    // Two legacy packets on one connection are lost by a 2.10 daemon, for
    // both clients.
    let (o, c) = samex(&mut n, &["--legacy-2-7-mode"], b"h\ts\t0\ta\x17h\ts\t0\tb");
    assert_eq!(o.out(), ok_line(2));
    assert!(c.is_empty());

    // Return codes: atoi, then 16 bits.
    let (_, c) = same(
        &mut n,
        &a,
        b"h\ts\t-1\tminus\x17h\ts\t70000\twrap\x17h\ts\tCRIT\ttext\x17h\ts\t65535\tx\x17h\ts\t 5abc\ty\x17h\ts\t99999999999999999999\tz",
    );
    assert_eq!(
        show(&c),
        vec![
            "PROCESS_SERVICE_CHECK_RESULT;h;s;-1;minus",
            "PROCESS_SERVICE_CHECK_RESULT;h;s;4464;wrap",
            "PROCESS_SERVICE_CHECK_RESULT;h;s;0;text",
            "PROCESS_SERVICE_CHECK_RESULT;h;s;-1;x",
            "PROCESS_SERVICE_CHECK_RESULT;h;s;5;y",
            "PROCESS_SERVICE_CHECK_RESULT;h;s;-1;z",
        ]
    );

    // Binary bytes in the output and non-ASCII bytes in names pass; the
    // daemon escapes only backslash and newline in the output.
    let mut bin = b"h\xc3\xa9\xff\ts\x80\t2\t".to_vec();
    bin.extend((1u8..=255).filter(|&c| c != 0x17));
    let (_, c) = same(&mut n, &a, &bin);
    assert_eq!(c.len(), 1);
    let (_, c) = same(&mut n, &a, b"h\ts\t1\tline1\nline2\\path\\\\x\r\n");
    assert_eq!(
        show(&c),
        vec!["PROCESS_SERVICE_CHECK_RESULT;h;s;1;line1\\nline2\\\\path\\\\\\\\x"]
    );
    // An output trying to start a second command stays one line; a `;` in
    // the last field does not matter.
    let (_, c) = same(
        &mut n,
        &a,
        b"h\ts\t0\tok\n[0] PROCESS_HOST_CHECK_RESULT;evil;0;pwned;x",
    );
    assert_eq!(
        show(&c),
        vec![
            "PROCESS_SERVICE_CHECK_RESULT;h;s;0;ok\\n[0] PROCESS_HOST_CHECK_RESULT;evil;0;pwned;x"
        ]
    );
    // A newline in a host name (possible with another delimiter) is cut,
    // by the daemon for Debian's client and by ours before sending.
    let (_, c) = samex(
        &mut n,
        &["-d", ";", "-ds", "0x17"],
        b"h\n[0] PROCESS_HOST_CHECK_RESULT\tevil;s;0;o",
    );
    assert_eq!(show(&c), vec!["PROCESS_SERVICE_CHECK_RESULT;h;s;0;o"]);
}

#[test]
fn empty_invalid_and_too_long_input() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let a = n.args(&[]);
    for input in [
        &b""[..],
        b"\n\n",
        b"\x17\x17",
        b"h\t0",
        b"only one field\n",
        b"\0h\ts\t0\to",
    ] {
        let (o, c) = same(&mut n, &a, input);
        assert_eq!(o.status, Some(2));
        assert_eq!(o.out(), ok_line(0));
        assert!(c.is_empty());
    }
    // 0 packets is reported even with --quiet.
    let (o, _) = samex(&mut n, &["--quiet"], b"");
    assert_eq!(o.out(), ok_line(0));

    // The set limit: 5120 bytes at the end of the input are fine, one byte
    // more (the separator too) is an error (exit 255); earlier sets were
    // sent and arrive.
    let set = |len: usize| {
        let mut v = b"h\ts\t0\t".to_vec();
        v.resize(len, b'o');
        v
    };
    let (o, _) = same(&mut n, &a, &set(5120));
    assert_eq!(o.status, Some(0));
    for tail in [&b"\x17"[..], b"\n", b"o"] {
        let mut input = b"first\tsvc\t1\tfoo\x17".to_vec();
        input.extend(set(5120));
        input.extend_from_slice(tail);
        input.extend_from_slice(b"\x17after\ts\t0\tx");
        let (o, c) = same(&mut n, &a, &input);
        assert_eq!(o.status, Some(255));
        assert_eq!(o.out(), "Error: Input set is longer than max allowed.\n");
        assert_eq!(
            show(&c),
            vec!["PROCESS_SERVICE_CHECK_RESULT;first;svc;1;foo"]
        );
    }
    let mut input = set(5119);
    input.extend_from_slice(b"\x17h\ts\t0\tz");
    let (o, _) = same(&mut n, &a, &input);
    assert_eq!(o.out(), ok_line(2));
}

#[test]
fn command_line() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let bs = |v: &[&str]| -> Vec<Vec<u8>> { v.iter().map(|s| b(s)).collect() };
    for args in [
        &[][..],
        &["-h"],
        &["--help"],
        &["-V"],
        &["--version"],
        &["-l"],
        &["--license"],
        &["x", "-l", "-q"],
        &["x", "-q", "-l"],
        &["-l", "x"],
        &["-h", "x"],
        &["x", "-V", "-h"],
        &["127.0.0.1", "-v"],
        &["127.0.0.1", "-b"],
        &["127.0.0.1", ""],
        &["127.0.0.1", "extra"],
        &["--quiet", "127.0.0.1"],
        &["127.0.0.1", "-H"],
        &["127.0.0.1", "-p"],
        &["127.0.0.1", "-c"],
        &["127.0.0.1", "-to"],
        &["127.0.0.1", "-to", "0"],
        &["127.0.0.1", "-to", "-5"],
        &["127.0.0.1", "-to", "abc"],
        &["127.0.0.1", "-to", "4294967296"],
        &["127.0.0.1", "--"],
        &["127.0.0.1", "-"],
    ] {
        let (o, _) = same(&mut n, &bs(args), b"h\ts\t0\to");
        assert_eq!(o.status, Some(3), "{args:?}");
    }
    // Our banner names this implementation, in Debian's layout.
    let o = nsca_lab::run_client(&[], OURS, &bs(&["-V"]), b"");
    assert_eq!(o.out(), banner());
    assert!(banner().starts_with("\nNSCA Client 2.10.2 (tcpwrap "));
    assert_eq!(banner().lines().count(), DEBIAN_BANNER.lines().count());
    let o = nsca_lab::run_client(&[], OURS, &bs(&["-h"]), b"");
    assert!(
        o.out()
            .contains("\nUsage: send_nsca [--quiet] -H <host_address> [-p port]")
    );
}

#[test]
fn config_files() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let s = Scratch::new("cfg");
    let p = n.port.to_string();
    let run = |n: &mut Nsca, cfg: &str| {
        let a: Vec<Vec<u8>> = ["-H", "127.0.0.1", "-p", &p, "-c", cfg]
            .iter()
            .map(|x| b(x))
            .collect();
        same(n, &a, b"h\ts\t0\tfrom config test")
    };
    let missing = s.path("missing.cfg");
    let (o, _) = run(&mut n, missing.to_str().unwrap());
    assert_eq!(o.status, Some(2));
    assert!(o.out().starts_with("Could not open config file '"));
    let dir = s.path("");
    run(&mut n, dir.to_str().unwrap());
    for (i, body) in [
        &b"password=secret\nfoo=bar\n"[..],
        b"password=\n",
        b"password\n",
        b"===",
        b"  # indented\n",
        b"password=secret\nencryption_method=13\n",
        b"encryption_method=21\n",
        b"encryption_method=99999999999\n",
        b"encryption_method=-1\n",
    ]
    .iter()
    .enumerate()
    {
        let cfg = s.file(&format!("bad{i}.cfg"), body);
        let (o, c) = run(&mut n, &cfg);
        assert_eq!(o.status, Some(2), "{}", String::from_utf8_lossy(body));
        assert!(o.out().contains("contained errors..."));
        assert!(c.is_empty());
    }
    // Accepted files; whether the password is right shows in the command
    // file (wrong ones still exit 0: NSCA has no acknowledgement).
    for (i, (body, delivered)) in [
        (&b"password=secret\nencryption_method=1\n"[..], true),
        (b"# c\n\npassword=secret", true),
        (b"xpasswordx=secret\n", true),
        (b"==password=secret\n", true),
        (b"password=secret\nlegacy_2_7_mode=maybe\n", true),
        (b"password=wrong\npassword=secret\n", true),
        (b"password=secret\n\0encryption_method=0\n", true),
        (b"password = secret\n", false),
        (b"password=secret\r\n", false),
        (b"password==secret\n", false),
        (b"password=wrong\n", false),
        (b"", false),
        (b"password=secret\nencryption_method=abc\n", false),
    ]
    .iter()
    .enumerate()
    {
        let cfg = s.file(&format!("good{i}.cfg"), body);
        let (o, c) = run(&mut n, &cfg);
        assert_eq!(o.status, Some(0), "{}", String::from_utf8_lossy(body));
        assert_eq!(
            c.len(),
            usize::from(*delivered),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // A long password line is read in two pieces.
    let mut long = b"password=".to_vec();
    long.extend(std::iter::repeat_n(b'p', 5110));
    long.push(b'\n');
    let cfg = s.file("long.cfg", &long);
    let (o, _) = run(&mut n, &cfg);
    assert!(o.out().contains("Line 2"));
    // Method 12 is valid in the file but cannot be used: after connecting.
    let cfg = s.file("m12.cfg", b"password=secret\nencryption_method=12\n");
    let (o, c) = run(&mut n, &cfg);
    assert_eq!(o.status, Some(2));
    assert_eq!(
        o.err(),
        "Error: Failed to initialize encryption libraries for method 12\n"
    );
    assert!(c.is_empty());
    // Rijndael-192 runs in Debian's build but not in ours: the same
    // failure, and the second line names the method (divergence N8).
    let cfg = s.file("m15.cfg", b"password=secret\nencryption_method=15\n");
    let a: Vec<Vec<u8>> = ["-H", "127.0.0.1", "-p", &n.port.to_string(), "-c", &cfg]
        .iter()
        .map(|x| b(x))
        .collect();
    let (o, c) = n.run(&[], OURS, &a, b"h\ts\t0\tfrom config test");
    assert_eq!(o.status, Some(2));
    assert!(
        o.err()
            .ends_with("Error: encryption method 15 (RIJNDAEL-192) is not supported in this build of send_nsca\n"),
        "{}",
        o.err()
    );
    assert!(c.is_empty());
}

#[test]
fn connection_failures() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let cfg = n.send_cfg();
    let bs = |v: &[&str]| -> Vec<Vec<u8>> { v.iter().map(|s| b(s)).collect() };

    // Refused: a port nobody listens on; port 0 and -1 as Debian treats them.
    let closed = nsca_lab::free_port().to_string();
    for port in [closed.as_str(), "0", "-1", "abc"] {
        let (o, _) = same(
            &mut n,
            &bs(&["-H", "127.0.0.1", "-p", port, "-c", &cfg]),
            b"h\ts\t0\to",
        );
        assert_eq!(o.status, Some(2), "port {port}");
        assert!(
            o.err()
                .contains("Error: Could not connect to host 127.0.0.1 on port ")
        );
    }
    // A port above 65535 wraps (glibc's getaddrinfo).
    let wrapped = (u32::from(n.port) + 65536).to_string();
    let (o, c) = same(
        &mut n,
        &bs(&["-H", "127.0.0.1", "-p", &wrapped, "-c", &cfg]),
        b"h\ts\t0\twrapped",
    );
    assert_eq!(o.status, Some(0));
    assert_eq!(c.len(), 1);

    // Name look-up failure, in a namespace whose resolver reads only
    // /etc/hosts (no DNS traffic leaves the machine).
    let ns = vec![
        nsca_lab::ns_run().to_str().unwrap().to_owned(),
        "--host-net".into(),
    ];
    let p = n.port.to_string();
    let (o, _) = same_with(
        &mut n,
        &ns,
        &bs(&["-H", "no-such-host.invalid", "-p", &p, "-c", &cfg]),
        b"h\ts\t0\to",
    );
    assert_eq!(o.status, Some(2));
    assert_eq!(
        o.err(),
        format!(
            "Host name lookup failed: 'no-such-host.invalid'\n\
             Error: Could not connect to host no-such-host.invalid on port {p}\n"
        )
    );
    // An empty host, and argv[1] taken as the host.
    same_with(&mut n, &ns, &bs(&["", "-p", &p, "-c", &cfg]), b"h\ts\t0\to");
    same_with(&mut n, &ns, &bs(&["-p", &p, "-c", &cfg]), b"h\ts\t0\to");
}

#[test]
fn servers_that_misbehave() {
    if !nsca_lab::peers_available() {
        return;
    }
    let s = Scratch::new("fake");
    let cfg = s.file("send.cfg", b"password=secret\n");
    let bs = |v: &[&str]| -> Vec<Vec<u8>> { v.iter().map(|s| b(s)).collect() };
    let run = |bin: &str, port: u16, to: &str| {
        nsca_lab::run_client(
            &[],
            bin,
            &bs(&[
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-c",
                &cfg,
                "-to",
                to,
            ]),
            b"h\ts\t0\to",
        )
    };
    // Closes before the init packet, or after part of it.
    for mode in [Fake::Close, Fake::Short(100)] {
        let f = FakeServer::start(mode);
        let d = run(DEBIAN_CLIENT, f.port, "5");
        let o = run(OURS, f.port, "5");
        assert_eq!(
            (o.status, o.out(), o.err()),
            (d.status, d.out(), d.err()),
            "{mode:?}"
        );
        assert_eq!(o.status, Some(2));
        assert_eq!(
            o.err(),
            "Error: Server closed connection before init packet was received\n\
             Error: Could not read init packet from server\n"
        );
        assert_eq!(f.accepted(), 2);
    }
    // Accepts and never sends the init packet: bounded by -to.
    let f = FakeServer::start(Fake::Silent);
    std::thread::scope(|sc| {
        let d = sc.spawn(|| run(DEBIAN_CLIENT, f.port, "1"));
        let o = run(OURS, f.port, "1");
        let d = d.join().unwrap();
        assert_eq!((o.status, o.out(), o.err()), (d.status, d.out(), d.err()));
        assert_eq!(o.err(), "Error: Timeout after 1 seconds\n");
        assert_eq!(o.status, Some(2));
        assert!(o.elapsed >= Duration::from_millis(900), "{:?}", o.elapsed);
        assert!(o.elapsed < Duration::from_secs(4), "{:?}", o.elapsed);
    });
}

/// The `-to` deadline covers reading standard input: a producer that
/// stalls makes both clients time out, and the set sent before the stall
/// still arrives.
#[test]
fn stdin_stall_times_out() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let args = n.args(&["-to", "1"]);
    let mut results = Vec::new();
    for bin in [DEBIAN_CLIENT, OURS] {
        use std::io::Write;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        let before = n.commands().len();
        let start = std::time::Instant::now();
        let mut child = Command::new(bin)
            .arg0("send_nsca")
            .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The pipe stays open (held here) until the client has exited.
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"web01\tsshd\t2\tfirst set\x17web01\tsshd\t2\tsecond, never finished")
            .unwrap();
        stdin.flush().unwrap();
        let (status, out, err) = nsca_lab::wait_output(child, Duration::from_secs(20));
        let elapsed = start.elapsed();
        drop(stdin);
        n.settle(1);
        let cmds = n.commands()[before..].to_vec();
        assert_eq!(status, Some(2), "{bin}");
        assert_eq!(
            String::from_utf8_lossy(&err),
            "Error: Timeout after 1 seconds\n",
            "{bin}"
        );
        assert!(out.is_empty(), "{bin}");
        assert!(
            elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
            "{bin}: {elapsed:?}"
        );
        assert_eq!(
            show(&cmds),
            vec!["PROCESS_SERVICE_CHECK_RESULT;web01;sshd;2;first set"],
            "{bin}"
        );
        results.push((status, out, err, cmds));
    }
    assert_eq!(results[0], results[1]);
}

/// Docs/divergences.md N1: `;` and control bytes in host and service names
/// become `_` in our client, so no field can be shifted; Debian's client
/// lets the daemon write them raw.
#[test]
fn names_are_sanitised() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let a = n.args(&[]);
    let input = b"semi;host\tsvc;x\t0\tout;put\x17ctl\x01host\tsvc\rname\t1\tx";
    let (d, dc) = n.run(&[], DEBIAN_CLIENT, &a, input);
    let (o, oc) = n.run(&[], OURS, &a, input);
    assert_eq!((o.status, o.out(), o.err()), (d.status, d.out(), d.err()));
    assert_eq!(
        show(&dc),
        vec![
            "PROCESS_SERVICE_CHECK_RESULT;semi;host;svc;x;0;out;put",
            "PROCESS_SERVICE_CHECK_RESULT;ctl\u{1}host;svc\rname;1;x",
        ]
    );
    assert_eq!(
        show(&oc),
        vec![
            "PROCESS_SERVICE_CHECK_RESULT;semi_host;svc_x;0;out;put",
            "PROCESS_SERVICE_CHECK_RESULT;ctl_host;svc_name;1;x",
        ]
    );
    // Exactly the five fields of a service result before the output.
    for c in &oc {
        let s = String::from_utf8_lossy(c);
        assert_eq!(s.lines().count(), 1);
        let f: Vec<&str> = s.splitn(5, ';').collect();
        assert_eq!(f.len(), 5);
        assert!(!f[1].contains(';') && !f[2].contains(';'));
    }
}

/// Docs/divergences.md N2: every address of the server name is tried;
/// Debian's client gives up after the first.
#[test]
fn every_address_is_tried() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(1);
    let s = Scratch::new("hosts");
    let hosts = s.file("hosts", b"::1 multi\n127.0.0.1 multi\n");
    let ns = vec![
        nsca_lab::ns_run().to_str().unwrap().to_owned(),
        "--host-net".into(),
        "--hosts".into(),
        hosts,
    ];
    let p = n.port.to_string();
    let cfg = n.send_cfg();
    let args: Vec<Vec<u8>> = ["-H", "multi", "-p", &p, "-c", &cfg]
        .iter()
        .map(|x| b(x))
        .collect();
    let (o, c) = n.run(&ns, OURS, &args, b"h\ts\t0\tvia the second address");
    assert_eq!(o.status, Some(0), "{o:?}");
    assert_eq!(
        show(&c),
        vec!["PROCESS_SERVICE_CHECK_RESULT;h;s;0;via the second address"]
    );
}

#[test]
fn no_encryption_method() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut n = Nsca::start(0);
    let a = n.args(&[]);
    let (o, c) = same(&mut n, &a, b"h\ts\t2\tplain\x17h\t0\tup");
    assert_eq!(o.out(), ok_line(2));
    assert_eq!(c.len(), 2);
}

/// Every method our build can run: Debian's send_nsca and ours, each
/// against the real daemon configured with that method, deliver the same
/// results (several packets on one connection, so the cipher stream must
/// continue across packets) with the same messages.
#[test]
fn every_supported_method_matches_debian() {
    if !nsca_lab::peers_available() {
        return;
    }
    let mut tried = Vec::new();
    for m in tcpwrap_nsca::Method::all().filter(|m| m.supported()) {
        let mut n = Nsca::start(m.number());
        let a = n.args(&[]);
        let (o, c) = same(
            &mut n,
            &a,
            b"web01\tsshd\t2\tREFUSED sshd from 10.1.2.3\x17web01\t1\tsecond\x17h\tTCP Wrappers\t2\tline1\nline2\\x",
        );
        assert_eq!(o.status, Some(0), "method {m}");
        assert_eq!(o.out(), ok_line(3), "method {m}");
        assert_eq!(
            c,
            lines(&[
                "PROCESS_SERVICE_CHECK_RESULT;web01;sshd;2;REFUSED sshd from 10.1.2.3",
                "PROCESS_HOST_CHECK_RESULT;web01;1;second",
                "PROCESS_SERVICE_CHECK_RESULT;h;TCP Wrappers;2;line1\\nline2\\\\x",
            ]),
            "method {m}"
        );
        tried.push(m.number());
    }
    assert_eq!(tried, [0, 1, 2, 3, 4, 5, 6, 8, 9, 11, 14, 20, 23]);
}
