//! The random generator shared by the differential tests against Debian's
//! libwrap (crates/tcpwrap/tests/differential.rs through the engine,
//! crates/libwrap/tests/differential.rs through libwrap.so.0): a small
//! deterministic PRNG and the pattern, daemon and list generators.
#![allow(dead_code)]

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

pub const ADDRS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.77",
    "10.0.1.1",
    "8.0.0.5",
    "192.0.2.7",
    "206.182.68.5",
    "1.2.3.4",
    "::1",
    "::ffff:10.0.0.1",
    "::ffff:206.182.68.5",
    "2001:db8:1::5",
    "2001:db8::1",
    "3ffe:ffff:100:200::1",
    "fe80::1",
    "010.0.0.1",
    "255.255.255.255",
    "unknown",
    "",
];
pub const NAMES: &[&str] = &[
    "",
    "h.example.com",
    "H.EXAMPLE.COM",
    "example.com",
    "myhost",
    "paranoid",
    "unknown",
    "a.b.example.com",
    "x",
    "host.abc.com",
    "firestorm",
    "localhost",
    "x;y",
];
pub const USERS: &[&str] = &["", "bob", "BOB", "@ng", "unknown", "alice", "root"];
pub const DAEMONS: &[&str] = &[
    "sshd",
    "ftpd",
    "in.ftpd",
    "in.telnetd",
    "22",
    "unknown",
    "nrpe",
    "vsftpd",
    "x y",
    "daytime-stream",
];

pub const HOSTS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.77",
    "8.0.0.5",
    "206.182.68.0",
    "206.182.68.5",
    "1.2.3.",
    "10.0.0.",
    "10.",
    "1.",
    "123.123.",
    "255.255.255.",
    ".example.com",
    ".abc.com",
    ".1",
    ".com",
    "h.example.com",
    "myhost",
    "host.",
    "10.0.0.0/8",
    "10.0.0.0/255.255.255.0",
    "10.0.0.5/24",
    "0.0.0.0/0.0.0.0",
    "10.0.0.0/0",
    "10.0.0.0/33",
    "10.0.0.0/8junk",
    "010.0.0.0/8",
    "10.0/8",
    "10.0.0.0/1.2.3",
    "206.182.68.0/24",
    "123.123.123.0/255.255.255.0",
    "10.0.0.5/255.255.255.255",
    "[2001:db8::]/32",
    "[2001:db8::]/129",
    "[::ffff:0.0.0.0]/96",
    "[3ffe:ffff:100:200::]/64",
    "[3ffe:ffff:100:200::/64]",
    "[x]/8",
    "[2001:db8::]/0",
    "10.0.0.?",
    "*.example.com",
    "h*",
    "*",
    "?",
    "10.0.0.*/24",
    ".exa*.com",
    "[::1]",
    "[0:0::1]",
    "[::ffff:10.0.0.1]",
    "[10.0.0.1]",
    "[::1",
    "::1",
    "KNOWN",
    "UNKNOWN",
    "PARANOID",
    "LOCAL",
    "ALL",
    "all",
    "local",
    "known",
    "@ng",
    "@nosuchgroup",
    "#",
    "a\\b",
    "\u{e9}t\u{e9}",
    "[fe80::1%lo]",
    "fe80::1",
    "10.0.0.1.",
    "0x0a.0.0.1",
    "[2001:db8::1]",
    "2001:db8::1",
];

pub fn gen_host(r: &mut Rng, dir: &str) -> String {
    match r.below(20) {
        0 => format!("{dir}/list{}", r.below(3)),
        1 => format!("{dir}/missing"),
        2 => dir.to_string(),
        3 => format!(
            "{}@{}",
            r.pick(&[
                "bob", "BOB", "b?b", "KNOWN", "UNKNOWN", "@ng", "ALL", "root", "*"
            ]),
            r.pick(HOSTS)
        ),
        _ => r.pick(HOSTS).to_string(),
    }
}

pub fn gen_daemon(r: &mut Rng) -> String {
    let forms: &[&str] = &[
        "sshd",
        "SSHD",
        "ftpd",
        "in.ftpd",
        "ALL",
        "ss*",
        "in.",
        ".ftpd",
        "22",
        "0",
        "022",
        "+22",
        "-0",
        "65536",
        "23",
        "KNOWN",
        "LOCAL",
        "unknown",
        "nrpe",
        "vsftpd",
        "in.telnetd",
        "in.?tpd",
        "@grp",
        "/usr/sbin/sshd",
        "daytime-stream",
    ];
    match r.below(8) {
        0 => format!(
            "{}@{}",
            r.pick(&["sshd", "ALL", "22"]),
            r.pick(&[
                "ALL",
                "10.0.0.9",
                "UNKNOWN",
                "[::1]",
                "10.1.0.0/16",
                "srv",
                "KNOWN",
                "10.1.1.200"
            ])
        ),
        _ => r.pick(forms).to_string(),
    }
}

pub fn gen_list(r: &mut Rng, item: &mut dyn FnMut(&mut Rng) -> String) -> String {
    let n = 1 + r.below(4);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(r.pick(&[" ", ", ", ",", "\t", ",,", " , "]));
        }
        if i > 0 && r.chance(12) {
            s.push_str(r.pick(&["EXCEPT ", "except "]));
        }
        s.push_str(&item(r));
    }
    if r.chance(3) {
        s.push_str(" EXCEPT");
    }
    if r.chance(2) {
        s = format!("EXCEPT {s}");
    }
    s
}

/// Options for a rule; `identity` adds `user`/`group` forms (left out where
/// our real identity switch would differ from Debian's, docs/divergences.md
/// E1).
pub fn gen_options(r: &mut Rng, dir: &str, identity: bool) -> String {
    let mut forms: Vec<String> = [
        "allow",
        "deny",
        "ALLOW",
        "allow yes",
        "deny ",
        "severity mail.info",
        "severity bogus",
        "severity local3.crit",
        "severity =auth.notice",
        "severity emerg",
        "severity mail.",
        "umask 022",
        "umask 8",
        "umask 0x1",
        "nice 5",
        "nice",
        "nice x",
        "nice -3",
        "keepalive",
        "keepalive on",
        "linger 5",
        "linger 0",
        "linger x",
        "rfc931 5",
        "rfc931",
        "rfc931 0",
        "setenv X %a",
        "setenv A=B x",
        "setenv A %a:%d",
        "setenv A %a\\:%d",
        "spawn true",
        "spawn echo %x",
        "spawn",
        "frob",
        "",
        " ",
        "=allow",
        "banners /nonexistent",
        "twist echo %a %h %d",
        "RFC931",
        "aclexec exit 0",
        "aclexec exit 1",
        "spawn echo %u %n %c %s %r %R %%",
        "setenv Y %h %H %N %A",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    forms.push(format!("banners {dir}"));
    if identity {
        forms.extend(
            [
                "user nobody",
                "user nosuchuser",
                "user root.root",
                "group root",
                "group nosuchgroup",
            ]
            .map(String::from),
        );
    }
    let n = 1 + r.below(3);
    let v: Vec<String> = (0..n)
        .map(|_| forms[r.below(forms.len())].clone())
        .collect();
    v.join(r.pick(&[": ", ":", " : "]))
}

pub fn gen_table(r: &mut Rng, dir: &str, identity: bool) -> Vec<u8> {
    let mut t = String::new();
    if r.chance(8) {
        // A DenyHosts-style run long enough to be indexed.
        let daemons = [
            r.pick(&["sshd", "ALL", "sshd, ftpd", "22"]),
            r.pick(&["in.ftpd", "sshd", "ALL"]),
        ];
        for _ in 0..8 + r.below(60) {
            let a = r.pick(&[
                "10.0.0.1",
                "10.0.0.2",
                "206.182.68.5",
                "8.0.0.5",
                "1.2.3.4",
                "10.0.0.77",
                "192.0.2.7",
            ]);
            t.push_str(&format!("{}: {a}\n", daemons[r.below(2)]));
        }
    }
    for _ in 0..r.below(7) {
        match r.below(30) {
            0 => t.push_str("# a comment\n"),
            1 => t.push_str("  # sshd: 10.0.0.1\n"),
            2 => t.push('\n'),
            3 => t.push_str("sshd 10.0.0.1\n"),
            4 => t.push_str("# c \\\n"),
            5 => t.push_str("sshd: 10.0.0.2,\\\n10.0.0.1\n"),
            6 => t.push_str("[sshd:x]: ALL\n"),
            7 => t.push_str(": ALL\n"),
            _ => {
                t.push_str(&gen_list(r, &mut gen_daemon));
                t.push_str(r.pick(&[": ", ":", " : ", "\t:\t"]));
                t.push_str(&gen_list(r, &mut |r| gen_host(r, dir)));
                if r.chance(35) {
                    t.push_str(r.pick(&[": ", ":", " : "]));
                    t.push_str(&gen_options(r, dir, identity));
                }
                t.push_str(if r.chance(5) { "\r\n" } else { "\n" });
            }
        }
    }
    let mut b = t.into_bytes();
    match r.below(60) {
        0 => {
            b.pop();
        }
        1 => b.extend_from_slice(&[b'x'; 2050]),
        2 => b.extend_from_slice(format!("sshd: 10.0.0.1{}\n", " ".repeat(2032)).as_bytes()),
        3 => b.extend_from_slice(b"ss\0hd: 10.0.0.1\nALL: 10.0.0.2\n"),
        _ => {}
    }
    b
}
