//! The verified vectors of the behaviour reference: §13.1 (decisions and
//! log lines), §13.3 (`%` expansion) and §13.5 (option parsing). Each row
//! was observed with Debian's libwrap 7.6.q-32.

mod common;

use std::net::SocketAddr;

use common::{Services, ShellExec};
use tcpwrap_core::{Request, Settings, Table, TableRef, check};

struct Row {
    n: u32,
    allow: &'static str,
    deny: &'static str,
    daemon: &'static str,
    cname: &'static str,
    caddr: &'static str,
    user: &'static str,
    grant: bool,
    log: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn r(
    n: u32,
    allow: &'static str,
    deny: &'static str,
    daemon: &'static str,
    cname: &'static str,
    caddr: &'static str,
    user: &'static str,
    grant: bool,
    log: &'static [&'static str],
) -> Row {
    Row {
        n,
        allow,
        deny,
        daemon,
        cname,
        caddr,
        user,
        grant,
        log,
    }
}

const G: bool = true;
const D: bool = false;
const N: &[&str] = &[];

#[rustfmt::skip]
const ROWS: &[Row] = &[
    r(1, "", "", "sshd", "h.example.com", "10.0.0.1", "", G, N),
    r(2, "", "ALL: ALL\n", "sshd", "h.example.com", "10.0.0.1", "", D, N),
    r(3, "sshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "h.example.com", "10.0.0.1", "", G, N),
    r(4, "sshd: 10.0.0.2\n", "sshd: 10.0.0.1\n", "sshd", "", "10.0.0.1", "", D, N),
    r(5, "sshd: 10.0.0.2\n", "sshd: 10.0.0.2\n", "sshd", "", "10.0.0.1", "", G, N),
    r(6, "sshd: 10.0.0.9\nsshd: 10.0.0.1: deny\nsshd: ALL\n", "", "sshd", "", "10.0.0.1", "", D, N),
    r(7, "SSHD: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(8, "ALL EXCEPT sshd: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(9, "ALL EXCEPT sshd: ALL\n", "ALL: ALL\n", "ftpd", "", "10.0.0.1", "", G, N),
    r(10, "ss*: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(11, "in.: ALL\n", "ALL: ALL\n", "in.ftpd", "", "10.0.0.1", "", G, N),
    r(12, ".ftpd: ALL\n", "ALL: ALL\n", "in.ftpd", "", "10.0.0.1", "", G, N),
    r(13, "22: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(14, "22: ALL\n", "ALL: ALL\n", "22", "", "10.0.0.1", "", D, N),
    r(15, "sshd,,ftpd: ALL\n", "ALL: ALL\n", "ftpd", "", "10.0.0.1", "", G, N),
    r(16, ": ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(17, "sshd: h.example.com\n", "ALL: ALL\n", "sshd", "H.EXAMPLE.COM", "10.0.0.1", "", G, N),
    r(18, "sshd: .example.com\n", "ALL: ALL\n", "sshd", "h.example.com", "10.0.0.1", "", G, N),
    r(19, "sshd: .example.com\n", "ALL: ALL\n", "sshd", "example.com", "10.0.0.1", "", D, N),
    r(20, "sshd: .1\n", "ALL: ALL\n", "sshd", "x", "10.0.0.1", "", G, N),
    r(21, "sshd: 10.0.0.\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(22, "sshd: 10.0.0\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(23, "sshd: 1.\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(24, "sshd: host.\n", "ALL: ALL\n", "sshd", "host.example.com", "10.0.0.1", "", G, N),
    r(25, "sshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "::ffff:10.0.0.1", "", G, N),
    r(26, "sshd: 10.0.0.0/255.255.255.0\n", "ALL: ALL\n", "sshd", "", "10.0.0.77", "", G, N),
    r(27, "sshd: 10.0.0.0/24\n", "ALL: ALL\n", "sshd", "", "10.0.0.77", "", G, N),
    r(28, "sshd: 10.0.0.0/24\n", "ALL: ALL\n", "sshd", "", "10.0.1.1", "", D, N),
    r(29, "sshd: 10.0.0.5/24\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", D, N),
    r(30, "sshd: 10.0.0.5/255.255.255.255\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", D, N),
    r(31, "sshd: 10.0.0.5/32\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", G, N),
    r(32, "sshd: 0.0.0.0/0\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", D, N),
    r(33, "sshd: 0.0.0.0/0.0.0.0\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", G, N),
    r(34, "sshd: 10.0.0.0/8junk\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", G, N),
    r(35, "sshd: 010.0.0.0/8\n", "ALL: ALL\n", "sshd", "", "8.0.0.5", "", G, N),
    r(36, "sshd: 10.0/8\n", "ALL: ALL\n", "sshd", "", "10.0.0.5", "", D, N),
    r(37, "sshd: 10.0.0.0/8\n", "ALL: ALL\n", "sshd", "", "::ffff:10.0.0.5", "", G, N),
    r(38, "sshd: 10.0.0.0/8\n", "ALL: ALL\n", "sshd", "x", "", "", D, N),
    r(39, "sshd: [::1]\n", "ALL: ALL\n", "sshd", "", "::1", "", G, N),
    r(40, "sshd: [0:0::1]\n", "ALL: ALL\n", "sshd", "", "::1", "", G, N),
    r(41, "sshd: ::1\n", "ALL: ALL\n", "sshd", "", "::1", "", D, N),
    r(42, "sshd: [2001:db8::]/32\n", "ALL: ALL\n", "sshd", "", "2001:db8:1::5", "", G, N),
    r(43, "sshd: [2001:db8::]/33\n", "ALL: ALL\n", "sshd", "", "2001:db8:8000::5", "", D, N),
    r(44, "sshd: [2001:db8::]/0\n", "ALL: ALL\n", "sshd", "", "fe80::1", "", G, N),
    r(45, "sshd: [2001:db8::]/0\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(46, "sshd: [::ffff:10.0.0.1]\n", "ALL: ALL\n", "sshd", "", "::ffff:10.0.0.1", "", D, N),
    r(47, "sshd: [::ffff:0.0.0.0]/96\n", "ALL: ALL\n", "sshd", "", "::ffff:10.0.0.1", "", D, N),
    r(48, "sshd: [2001:db8::]/129\n", "ALL: ALL\n", "sshd", "", "2001:db8::1", "", D, N),
    r(49, "sshd: *.example.com\n", "ALL: ALL\n", "sshd", "a.b.EXAMPLE.com", "10.0.0.1", "", G, N),
    r(50, "sshd: 10.0.0.?\n", "ALL: ALL\n", "sshd", "", "10.0.0.7", "", G, N),
    r(51, "sshd: 10.0.0.?\n", "ALL: ALL\n", "sshd", "", "10.0.0.17", "", D, N),
    r(52, "sshd: .exa*.com\n", "ALL: ALL\n", "sshd", "h.example.com", "10.0.0.1", "", D, N),
    r(53, "sshd: 10.0.0.*/24\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(54, "sshd: ALL\n", "ALL: ALL\n", "sshd", "", "", "", G, N),
    r(55, "sshd: LOCAL\n", "ALL: ALL\n", "sshd", "myhost", "10.0.0.1", "", G, N),
    r(56, "sshd: LOCAL\n", "ALL: ALL\n", "sshd", "myhost.lan", "10.0.0.1", "", D, N),
    r(57, "sshd: LOCAL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(58, "sshd: KNOWN\n", "ALL: ALL\n", "sshd", "h.x", "10.0.0.1", "", G, N),
    r(59, "sshd: KNOWN\n", "ALL: ALL\n", "sshd", "h.x", "", "", D, N),
    r(60, "sshd: KNOWN\n", "ALL: ALL\n", "sshd", "paranoid", "10.0.0.1", "", D, N),
    r(61, "sshd: UNKNOWN\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(62, "sshd: UNKNOWN\n", "ALL: ALL\n", "sshd", "h.x", "10.0.0.1", "", D, N),
    r(63, "sshd: PARANOID\n", "ALL: ALL\n", "sshd", "paranoid", "10.0.0.1", "", G, N),
    r(64, "sshd: paranoid\n", "ALL: ALL\n", "sshd", "h.x", "10.0.0.1", "", D, N),
    r(65, "sshd: local, known\n", "ALL: ALL\n", "sshd", "h.x", "10.0.0.1", "", G, N),
    r(66, "sshd: ALL EXCEPT 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(67, "sshd: ALL EXCEPT 10.0.0.0/8 EXCEPT 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(68, "sshd: ALL EXCEPT 10.0.0.0/8 EXCEPT 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.2", "", D, N),
    r(69, "sshd: ALL except 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(70, "sshd: ALL EXCEPT\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(71, "sshd: EXCEPT 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(72, "sshd: bob@ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "bob", G, N),
    r(73, "sshd: BOB@ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "bob", G, N),
    r(74, "sshd: KNOWN@ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(75, "sshd: UNKNOWN@ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(76, "sshd: b?b@10.0.0.0/8\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "bob", G, N),
    r(77, "sshd: bob@10.0.0.2\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "bob", D, N),
    r(78, "sshd: @ng@ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "@ng", G, N),
    r(79, "sshd@ALL: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(80, "sshd@10.0.0.9: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(81, "sshd@UNKNOWN: ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(82, "sshd: <dir>/list\n", "ALL: ALL\n", "sshd", "", "10.0.0.2", "", G, N),
    r(83, "sshd: <dir>/list\n", "ALL: ALL\n", "sshd", "a.example.com", "10.5.5.5", "", G, N),
    r(84, "sshd: <dir>/list\n", "ALL: ALL\n", "sshd", "", "10.0.0.3", "", G, N),
    r(85, "sshd: <dir>/list\n", "ALL: ALL\n", "sshd", "", "10.9.9.9", "", G, N),
    r(86, "sshd: <dir>/missing\n", "ALL: ALL\n", "sshd", "", "10.0.0.2", "", D, N),
    r(87, "sshd: /etc/passwd/x\n", "ALL: ALL\n", "sshd", "", "10.0.0.2", "", D, &["warning: allow, line 1: open /etc/passwd/x: Not a directory"]),
    r(88, "sshd: ALL EXCEPT <dir>/list\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(89, "sshd: 10.0.0.2,\\\n10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(90, "# c \\\nsshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, N),
    r(91, "  # sshd: 10.0.0.1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(92, "sshd ALL\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, &["warning: allow, line 1: missing \":\" separator"]),
    r(93, "sshd: 10.0.0.1", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, &["warning: allow, line 0: missing newline or line too long", "warning: allow, line 0: all the subsequent rules will be ignored"]),
    r(94, "sshd: 10.0.0.9\n", "sshd: 10.0.0.9", "sshd", "", "10.0.0.1", "", D, &["warning: deny, line 0: missing newline or line too long", "warning: deny, line 0: all the subsequent rules will be ignored"]),
    r(97, "sshd: 10.0.0.1\r\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(98, "ALL: ALL: deny\n", "", "sshd", "", "10.0.0.1", "", D, N),
    r(99, "", "ALL: ALL: allow\n", "sshd", "", "10.0.0.1", "", G, N),
    r(100, "ALL: ALL: ALLOW\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(101, "ALL: ALL:\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: missing option name"]),
    r(102, "ALL: ALL: allow: spawn true\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: option \"allow\" must be at end"]),
    r(103, "ALL: ALL: frob\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: bad option name: \"frob\""]),
    r(104, "ALL: 10.0.0.9: frob\n", "", "sshd", "", "10.0.0.1", "", G, N),
    r(105, "ALL: ALL: severity mail.info: allow\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(106, "ALL: ALL: severity bogus\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: bad syslog facility or severity: \"bogus\""]),
    r(107, "ALL: ALL: umask 022: nice 0: keepalive: linger 0: rfc931 5: setenv X y\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, &["warning: allow, line 1: setsockopt SO_KEEPALIVE: Bad file descriptor", "warning: allow, line 1: setsockopt SO_LINGER 0: Bad file descriptor"]),
    r(108, "ALL: ALL: aclexec exit 0\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(109, "ALL: ALL: aclexec exit 1\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", D, &["aclexec returned 1"]),
    r(110, "ALL: ALL: aclexec exit 1\n", "", "sshd", "", "10.0.0.1", "", G, &["aclexec returned 1"]),
    r(111, "", "ALL: ALL: aclexec exit 1\n", "sshd", "", "10.0.0.1", "", G, &["aclexec returned 1"]),
    r(113, "ALL: ALL: setenv A %a:%d\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: bad option name: \"%d\""]),
    r(114, "ALL: ALL: setenv A %a\\:%d: allow\n", "ALL: ALL\n", "sshd", "", "10.0.0.1", "", G, N),
    r(115, "ALL: ALL: user nosuchuser\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: unknown user: \"nosuchuser\""]),
    r(116, "ALL: ALL: umask 8\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: bad umask value: \"8\""]),
    r(117, "ALL: ALL: rfc931 x\n", "", "sshd", "", "10.0.0.1", "", D, &["error: allow, line 1: bad rfc931 timeout: \"x\""]),
];

struct Dir(std::path::PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pattern_dir() -> Dir {
    let d = std::env::temp_dir().join(format!("tcpwrap-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let dir = d.to_str().unwrap();
    std::fs::write(
        d.join("list"),
        format!("10.0.0.1 10.0.0.2\n.example.com\n# 10.0.0.3\n{dir}/list2\n"),
    )
    .unwrap();
    std::fs::write(d.join("list2"), "10.9.9.9\n").unwrap();
    Dir(d)
}

fn run_ctl(
    allow: &str,
    deny: &str,
    req: &mut Request,
    settings: Settings,
) -> tcpwrap_core::Verdict {
    let s = Services::new(None);
    let a = Table::compile(b"allow", allow.as_bytes());
    let d = Table::compile(b"deny", deny.as_bytes());
    let aref = if allow.is_empty() {
        TableRef::Missing
    } else {
        TableRef::Compiled(&a)
    };
    let dref = if deny.is_empty() {
        TableRef::Missing
    } else {
        TableRef::Compiled(&d)
    };
    check(
        aref,
        dref,
        req,
        s.env(),
        settings,
        &mut ShellExec::default(),
    )
}

/// Record a row whose verdict or log lines differ from the reference.
fn compare(
    n: u32,
    v: &tcpwrap_core::Verdict,
    grant: bool,
    log: &[&str],
    failures: &mut Vec<String>,
) {
    let logs = texts(v);
    if v.granted() != grant || logs != log {
        failures.push(format!("row {n}: granted={} logs={logs:?}", v.granted()));
    }
}

fn texts(v: &tcpwrap_core::Verdict) -> Vec<String> {
    v.diagnostics.iter().map(|d| d.to_string()).collect()
}

#[test]
fn reference_rows_hosts_ctl() {
    let dir = pattern_dir();
    let dirs = dir.0.to_str().unwrap();
    let mut failures = Vec::new();
    for row in ROWS {
        let allow = row.allow.replace("<dir>", dirs);
        let deny = row.deny.replace("<dir>", dirs);
        let mut req = Request::from_ctl(
            row.daemon.as_bytes(),
            row.cname.as_bytes(),
            row.caddr.as_bytes(),
            row.user.as_bytes(),
        );
        let v = run_ctl(&allow, &deny, &mut req, Settings::default());
        compare(row.n, &v, row.grant, row.log, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn line_length_limit_rows_95_96() {
    let ok = format!("sshd: 10.0.0.1{}\n", " ".repeat(2032));
    let bad = format!("sshd: 10.0.0.1{}\n", " ".repeat(2033));
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    assert!(run_ctl(&ok, "ALL: ALL\n", &mut req, Settings::default()).granted());
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let v = run_ctl(&bad, "ALL: ALL\n", &mut req, Settings::default());
    assert!(!v.granted());
    assert_eq!(
        texts(&v),
        [
            "warning: allow, line 0: missing newline or line too long",
            "warning: allow, line 0: all the subsequent rules will be ignored"
        ]
    );
}

#[test]
fn twist_in_resident_process_row_112() {
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let settings = Settings {
        resident: true,
        ..Settings::default()
    };
    let v = run_ctl("ALL: ALL: twist echo x\n", "", &mut req, settings);
    assert!(!v.granted());
    assert_eq!(
        texts(&v),
        ["error: allow, line 1: twist option in resident process"]
    );
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct ReqRow {
    n: u32,
    allow: &'static str,
    client: &'static str,
    server: Option<&'static str>,
    grant: bool,
    log: &'static [&'static str],
}

#[rustfmt::skip]
const REQ_ROWS: &[ReqRow] = &[
    ReqRow { n: 118, allow: "22: ALL\n", client: "10.1.1.1:4000", server: Some("10.1.1.200:22"), grant: G, log: N },
    ReqRow { n: 119, allow: "23: ALL\n", client: "10.1.1.1:4000", server: Some("10.1.1.200:22"), grant: D, log: N },
    ReqRow { n: 120, allow: "sshd@10.1.1.200: ALL\n", client: "10.1.1.1:4000", server: Some("10.1.1.200:22"), grant: G, log: N },
    ReqRow { n: 121, allow: "sshd@good.example.com: ALL\n", client: "10.1.1.9:4000", server: Some("10.1.1.1:22"), grant: G, log: N },
    ReqRow { n: 122, allow: "sshd: .example.com\n", client: "10.1.1.1:4000", server: None, grant: G, log: N },
    ReqRow { n: 123, allow: "sshd: LOCAL\n", client: "10.1.1.4:4000", server: None, grant: G, log: N },
    ReqRow { n: 124, allow: "sshd: UNKNOWN\n", client: "10.1.1.77:4000", server: None, grant: G, log: N },
    ReqRow { n: 125, allow: "sshd: PARANOID\n", client: "10.1.1.40:4000", server: None, grant: G, log: &["warning: allow, line 1: host name/name mismatch: bad.example.com != real.example.com"] },
    ReqRow { n: 126, allow: "sshd: .example.com\n", client: "10.1.1.40:4000", server: None, grant: D, log: &["warning: allow, line 1: host name/name mismatch: bad.example.com != real.example.com"] },
    ReqRow { n: 127, allow: "sshd: [::ffff:10.1.1.1]\n", client: "[::ffff:10.1.1.1]:4000", server: None, grant: D, log: N },
    ReqRow { n: 128, allow: "sshd: 10.1.1.1\n", client: "[::ffff:10.1.1.1]:4000", server: None, grant: G, log: N },
];

#[test]
fn reference_rows_request_api() {
    let mut failures = Vec::new();
    for row in REQ_ROWS {
        let mut req = Request::for_connection(b"sshd", sa(row.client), row.server.map(sa));
        let v = run_ctl(
            row.allow,
            "ALL: ALL
",
            &mut req,
            Settings::default(),
        );
        compare(row.n, &v, row.grant, row.log, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn expansion_vector_13_3() {
    let s = Services::new(None);
    let env = s.env();
    let mut req = Request::for_connection(b"sshd", sa("10.1.1.1:4000"), Some(sa("10.1.1.200:22")));
    req.set_pid(b"4242");
    let mut ctx = tcpwrap_core::Ctx::new(env);
    let out = tcpwrap_core::expand::expand(
        b"%a %A %h %H %n %N %r %R %s %c %d %p %% %x %",
        1024,
        &mut req,
        &mut ctx,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "10.1.1.1 10.1.1.200 10.1.1.1 10.1.1.200 good.example.com unknown 4000 22 sshd@10.1.1.200 good.example.com sshd 4242 %  %"
    );
    assert_eq!(ctx.diagnostics.len(), 1);
    assert_eq!(ctx.diagnostics[0].to_string(), "warning: unrecognized %x");
}

#[test]
fn expansion_sanitises_in_place() {
    let s = Services::new(None);
    let mut ctx = tcpwrap_core::Ctx::new(s.env());
    let mut req = Request::from_ctl(b"x y", b"a b;c|d", b"10.0.0.1", b"al;ice$");
    let out = tcpwrap_core::expand::expand(b"%n %d %u", 1024, &mut req, &mut ctx).unwrap();
    assert_eq!(out, b"a_b_c_d x_y al_ice_");
    assert_eq!(req.client.cached_name(), Some(&b"a_b_c_d"[..]));
    assert_eq!(req.cached_user(), Some(&b"al_ice_"[..]));
    assert_eq!(req.client_info(&mut ctx), b"al_ice_@a_b_c_d");
    let mut req = Request::from_ctl(b"d", b"A-Z_az09!@%-_=+:,./", b"", b"");
    let out = tcpwrap_core::expand::expand(b"%n", 1024, &mut req, &mut ctx).unwrap();
    assert_eq!(out, b"A-Z_az09!@%-_=+:,./");
}

#[test]
fn expansion_limit() {
    let s = Services::new(None);
    let mut ctx = tcpwrap_core::Ctx::new(s.env());
    let mut req = Request::new();
    assert!(tcpwrap_core::expand::expand(&[b'A'; 1022], 1024, &mut req, &mut ctx).is_ok());
    assert!(tcpwrap_core::expand::expand(&[b'A'; 1023], 1024, &mut req, &mut ctx).is_err());
    assert_eq!(
        ctx.diagnostics[0].to_string(),
        format!(
            "warning: percent_x: expansion too long: {}...",
            "A".repeat(30)
        )
    );
}

/// §13.5: option-string parsing, dry run.
#[test]
fn option_parsing_13_5() {
    let cases: &[(&str, bool, Option<&str>)] = &[
        ("severity =mail.info", true, None),
        ("severity Mail.Info", true, None),
        (
            "severity mail.",
            false,
            Some("bad syslog facility or severity: \"\""),
        ),
        (
            "severity .info",
            false,
            Some("bad syslog facility or severity: \"\""),
        ),
        (
            "severity authpriv.info",
            false,
            Some("bad syslog facility or severity: \"authpriv\""),
        ),
        (
            "severity warn",
            false,
            Some("bad syslog facility or severity: \"warn\""),
        ),
        ("setenv A=B", false, Some("memory allocation failure")),
        ("setenv =x", true, None),
        ("umask 0", true, None),
        ("umask 0x1", false, Some("bad umask value: \"0x1\"")),
        ("linger 5x", false, Some("bad linger value: \"5x\"")),
        ("rfc931 +3", true, None),
        ("keepalive=", true, None),
        ("allow=", true, None),
        ("deny =  ", false, None),
        ("spawn   ", false, Some("option \"spawn\" requires value")),
        ("banners", false, Some("option \"banners\" requires value")),
        ("user", false, Some("option \"user\" requires value")),
        ("aclexec", false, Some("option \"aclexec\" requires value")),
        ("twist", false, Some("option \"twist\" requires value")),
        ("=allow", false, Some("missing option name")),
        ("nice 5 : : allow", false, Some("missing option name")),
        (
            "twist echo a: allow",
            false,
            Some("option \"twist\" must be at end"),
        ),
        ("twist x : ", false, Some("option \"twist\" must be at end")),
        (
            "allow yes",
            false,
            Some("option \"allow\" requires no value"),
        ),
        (
            "keepalive on",
            false,
            Some("option \"keepalive\" requires no value"),
        ),
    ];
    for (opt, grant, err) in cases {
        let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
        let settings = Settings {
            dry_run: true,
            ..Settings::default()
        };
        let v = run_ctl(&format!("ALL: ALL: {opt}\n"), "", &mut req, settings);
        assert_eq!(v.granted(), *grant, "{opt}: {:?}", texts(&v));
        let errors: Vec<String> = texts(&v)
            .into_iter()
            .filter(|t| t.starts_with("error:"))
            .collect();
        match err {
            Some(e) => assert_eq!(errors, [format!("error: allow, line 1: {e}")], "{opt}"),
            None => assert!(errors.is_empty(), "{opt}: {errors:?}"),
        }
    }
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let v = run_ctl(
        "ALL: ALL: severity =mail.info\n",
        "",
        &mut req,
        Settings::default(),
    );
    assert_eq!(
        (v.settings.allow_severity, v.settings.deny_severity),
        (22, 22)
    );
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let v = run_ctl("ALL: ALL: rfc931 +3\n", "", &mut req, Settings::default());
    assert_eq!(v.settings.rfc931_timeout, 3);
}
