//! The lint checks (`tcpwrap_tools::lint`): for each check a table that
//! triggers it and a close one that must not, plus the text and JSON
//! renderings. A fake environment stands in for DNS, the file system and
//! the account database.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;

use tcpwrap_tools::lint::{
    FileState, Finding, LintEnv, LintOptions, LintTable, Severity, Which, code, lint, render_json,
    render_text,
};

struct Fake {
    hosts: HashMap<&'static str, Vec<IpAddr>>,
    files: HashMap<&'static str, FileState>,
    users: Vec<&'static str>,
    groups: Vec<&'static str>,
    resolved: RefCell<Vec<String>>,
}

impl LintEnv for Fake {
    fn resolve(&self, name: &[u8]) -> Option<Vec<IpAddr>> {
        let n = String::from_utf8_lossy(name).into_owned();
        self.resolved.borrow_mut().push(n.clone());
        self.hosts.get(n.to_ascii_lowercase().as_str()).cloned()
    }
    fn pattern_file(&self, path: &[u8]) -> FileState {
        let p = String::from_utf8_lossy(path);
        self.files
            .get(p.as_ref())
            .cloned()
            .unwrap_or(FileState::Missing)
    }
    fn user_exists(&self, name: &[u8]) -> bool {
        self.users.iter().any(|u| u.as_bytes() == name)
    }
    fn group_exists(&self, name: &[u8]) -> bool {
        self.groups.iter().any(|g| g.as_bytes() == name)
    }
    fn alert_problem(&self, name: &[u8]) -> Option<String> {
        (name != b"tcp-wrappers").then(|| {
            format!(
                "alert {}: not defined in /etc/tcpwrap/alerts.conf",
                String::from_utf8_lossy(name)
            )
        })
    }
}

fn fake() -> Fake {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    Fake {
        hosts: HashMap::from([
            ("good.example", vec![ip("192.0.2.1")]),
            ("multi.example", vec![ip("192.0.2.1"), ip("2001:db8::1")]),
            ("localhost", vec![ip("127.0.0.1")]),
        ]),
        files: HashMap::from([
            ("/etc/hosts.list", FileState::Exists),
            ("/etc", FileState::Directory),
            (
                "/root/secret",
                FileState::Unreadable("Permission denied".to_string()),
            ),
        ]),
        users: vec!["nobody", "root"],
        groups: vec!["nogroup", "root"],
        resolved: RefCell::new(Vec::new()),
    }
}

fn lint_env(allow: &[u8], deny: &[u8], opts: &LintOptions, env: &Fake) -> Vec<Finding> {
    let tables = [
        LintTable {
            path: b"hosts.allow",
            data: allow,
            which: Which::Allow,
        },
        LintTable {
            path: b"hosts.deny",
            data: deny,
            which: Which::Deny,
        },
    ];
    lint(&tables, opts, env)
}

fn run(allow: &str, deny: &str) -> Vec<Finding> {
    lint_env(
        allow.as_bytes(),
        deny.as_bytes(),
        &LintOptions::default(),
        &fake(),
    )
}

fn with_code<'a>(f: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.code == code).collect()
}

/// The single finding with `code`.
fn one<'a>(f: &'a [Finding], code: &str) -> &'a Finding {
    let v = with_code(f, code);
    assert_eq!(v.len(), 1, "expected one {code}, got: {f:#?}");
    v[0]
}

fn pos(f: &Finding) -> (&[u8], u32, u32, u32, Severity) {
    (&f.file, f.line, f.column, f.end_column, f.severity)
}

fn help(f: &Finding) -> &str {
    f.suggestion.as_deref().unwrap_or("")
}

// ---------------------------------------------------------------------------
// 1. ipv6-without-brackets

#[test]
fn ipv6_without_brackets() {
    let f = run("ALL: LOCAL\nsshd: 10.0.0.1\nsshd: 3ffe:505:2::1\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 3, 7, 20, Severity::Error));
    assert_eq!(help(x), "write it in brackets: [3ffe:505:2::1]");
    assert_eq!(x.source_line, b"sshd: 3ffe:505:2::1");

    let f = run("", "ALL: ::1\n");
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 1, 6, 9, Severity::Error));
    assert_eq!(help(x), "write it in brackets: [::1]");

    // A network, and the rest of the split line is not reported again as
    // bad options.
    let f = run("sshd: 2001:db8::/32: allow\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    assert_eq!((x.column, x.end_column), (7, 20));
    assert_eq!(help(x), "write the address in brackets: [2001:db8::]/32");
    assert!(x.message.starts_with("IPv6 network without brackets"));

    // daemon@host.
    let f = run("sshd@2001:db8::1: ALL\n", "");
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    assert_eq!((x.column, x.end_column), (6, 17));
    assert_eq!(help(x), "write it in brackets: [2001:db8::1]");

    // Several in one list, and user@host.
    let f = run("sshd: 10.0.0.1 ::1, bob@fe80::1%eth0\n", "");
    let v = with_code(&f, code::IPV6_WITHOUT_BRACKETS);
    assert_eq!(v.iter().map(|x| x.column).collect::<Vec<_>>(), vec![16, 25]);

    // IPv4-mapped: the IPv4 form is what matches.
    let f = run("sshd: ::ffff:10.0.0.1\n", "");
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    assert!(help(x).starts_with("write it as the IPv4 address 10.0.0.1"));
}

#[test]
fn ipv6_in_brackets_is_fine() {
    let f = run(
        "sshd: [3ffe:505:2::1]\nsshd: [2001:db8::]/32\nsshd@[::1]: ALL\nALL: ALL: spawn echo \\:\\:1\n",
        "",
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 2. deny-missing-final-newline

#[test]
fn missing_final_newline() {
    let f = run("", "sshd: 10.0.0.1\nALL: ALL");
    let x = one(&f, code::MISSING_FINAL_NEWLINE);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 2, 9, 10, Severity::Error));
    assert_eq!(help(x), "add a newline at the end of the file");
    assert!(
        x.message
            .contains("denies every request that reaches hosts.deny")
    );

    let f = run("sshd: 10.0.0.1\nALL: ALL", "");
    let x = one(&f, code::MISSING_FINAL_NEWLINE);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 2, 9, 10, Severity::Warning));
    assert!(x.message.contains("the check goes on with hosts.deny"));

    // The very first line: the library says "line 0".
    let f = run("", "ALL: ALL");
    let x = one(&f, code::MISSING_FINAL_NEWLINE);
    assert_eq!((x.line, x.column), (1, 9));
    assert!(x.message.contains("reports it as line 0"), "{}", x.message);

    // Even a final comment without newline is the error.
    let f = run("", "sshd: 10.0.0.1\n# end");
    assert_eq!(
        one(&f, code::MISSING_FINAL_NEWLINE).severity,
        Severity::Error
    );

    // A file that ends in a backslash continuation.
    let f = run("", "sshd: 10.0.0.1 \\\n");
    let x = one(&f, code::MISSING_FINAL_NEWLINE);
    assert_eq!((x.line, x.column), (1, 16));
    assert!(help(x).starts_with("remove the trailing '\\'"));

    // The content of the line is still checked (as if the newline were there).
    let f = run("", "ALL: ALL:");
    one(&f, code::MISSING_FINAL_NEWLINE);
    one(&f, code::EMPTY_OPTION);

    // Masked by an earlier rule that matches everything: only a warning.
    let f = run("", "ALL: ALL\nsshd: 10.0.0.1");
    let x = one(&f, code::MISSING_FINAL_NEWLINE);
    assert_eq!(x.severity, Severity::Warning);
    assert!(x.message.contains("never reached"));
}

#[test]
fn final_newline_present() {
    let f = run("sshd: 10.0.0.1\n", "ALL: ALL\n# end\n");
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 3. line-too-long

fn long_line(len: usize) -> String {
    let mut s = "sshd: 10.0.0.1".to_string();
    while s.len() < len {
        s.push(' ');
    }
    s.push('\n');
    s
}

#[test]
fn line_too_long() {
    let deny = format!("{}ALL: ALL:\n", long_line(2047));
    let f = run("", &deny);
    let x = one(&f, code::LINE_TOO_LONG);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 1, 2047, 2048, Severity::Error));
    assert!(x.message.contains("2047 characters, the limit is 2046"));
    assert!(help(x).starts_with("split the rule"));
    // Linting goes on after the long line, with the right line numbers.
    assert_eq!(one(&f, code::EMPTY_OPTION).line, 2);

    let f = run(&long_line(3000), "");
    let x = one(&f, code::LINE_TOO_LONG);
    assert_eq!(x.severity, Severity::Warning);
    assert!(x.message.contains("3000 characters"));

    // Joined lines count together.
    let joined = format!("sshd: 10.0.0.1 \\\n{}", &long_line(2040)[8..]);
    let f = run("", &joined);
    let x = one(&f, code::LINE_TOO_LONG);
    assert_eq!(x.line, 2);
}

#[test]
fn line_at_the_limit() {
    let f = run("", &long_line(2046));
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 4. indented-hash

#[test]
fn indented_hash() {
    let f = run("  # sshd: 10.0.0.1\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = &f[0];
    assert_eq!(x.code, code::INDENTED_HASH);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 3, 4, Severity::Warning));
    assert!(
        x.message
            .contains("live rule with daemon list `# sshd`, client list `10.0.0.1`"),
        "{}",
        x.message
    );
    assert_eq!(help(x), "move the '#' to column 1 to comment the line out");

    // Without a colon it is skipped with a warning, and said so (once).
    let f = run("", "\t# just a note\n");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::INDENTED_HASH);
    assert_eq!((x.column, x.end_column), (2, 3));
    assert!(x.message.contains("missing \":\" separator"));
}

#[test]
fn comment_in_column_one() {
    let f = run("# sshd: 10.0.0.1\n#\n", "#ALL: ALL\n");
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 5. empty-option

#[test]
fn empty_option() {
    let f = run("", "ALL: ALL:\n");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::EMPTY_OPTION);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 1, 9, 10, Severity::Error));
    assert_eq!(help(x), "remove this ':'");
    assert!(x.message.contains("`missing option name`"));

    // Only blanks after it.
    let f = run("sshd: 10.0.0.1: \t \r\n", "");
    assert_eq!(one(&f, code::EMPTY_OPTION).column, 15);

    // Between two options.
    let f = run("sshd: 10.0.0.1: spawn echo a : : allow\n", "");
    let x = one(&f, code::EMPTY_OPTION);
    assert_eq!(x.column, 30);
    assert!(x.message.contains("between two ':'"));
    assert!(help(x).contains("'\\:'"));

    // A ':' inside an option value splits it.
    let f = run("ALL: ALL EXCEPT 10.0.0.1: spawn echo ::1\n", "");
    let x = one(&f, code::EMPTY_OPTION);
    assert_eq!(x.column, 38);
    assert_eq!(one(&f, code::OPTION_ERROR).column, 40);

    // After "allow" the run-time error is "must be at end": still one
    // finding, about the stray ':'.
    let f = run("sshd: 10.0.0.1: allow:\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::EMPTY_OPTION);
    assert_eq!(x.column, 22);
    assert!(x.message.contains("`option \"allow\" must be at end`"));
}

#[test]
fn no_empty_option() {
    let f = run(
        "sshd: 10.0.0.1: spawn echo a\\: b\nftpd: 10.0.0.2: severity auth.info: allow\nALL: ALL\n",
        "",
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 6. unreachable-rule

#[test]
fn unreachable_in_file() {
    let f = run("", "ALL: ALL\nsshd: 10.0.0.1\nftpd: 10.0.0.2\n");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::UNREACHABLE_RULE);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 2, 1, 15, Severity::Warning));
    assert!(x.message.contains("the rule at line 1 (`ALL: ALL`)"));
    assert!(x.message.contains("this rule and the 1 rule after it"));
    assert!(help(x).contains("line 1"));

    // Options do not matter within a file: the scan stops at the match.
    let f = run(
        "",
        "ALL EXCEPT: all@*: aclexec /bin/false\nsshd: 10.0.0.1\n",
    );
    assert_eq!(one(&f, code::UNREACHABLE_RULE).line, 2);

    // A duplicate after it is not reported again.
    let f = run("", "ALL: ALL\nsshd: a.example\nsshd: a.example\n");
    assert!(with_code(&f, code::DUPLICATE_RULE).is_empty());
}

#[test]
fn unreachable_deny_table() {
    let f = run(
        "sshd: 10.0.0.1\nALL: ALL\n",
        "sshd: 10.0.0.2\nftpd: 10.0.0.3\n",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::UNREACHABLE_RULE);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 1, 1, 15, Severity::Warning));
    assert!(x.message.contains("hosts.allow line 2 (`ALL: ALL`)"));
    assert!(x.message.contains("the 1 other rule of hosts.deny"));

    // A final `deny` ends the check too.
    let f = run("ALL: ALL: deny\n", "sshd: 10.0.0.2\n");
    one(&f, code::UNREACHABLE_RULE);
}

#[test]
fn reachable_rules() {
    // ALL: ALL as the last rule.
    let f = run("sshd: 10.0.0.1\n", "sshd: 10.0.0.2\nALL: ALL\n");
    assert!(f.is_empty(), "{f:#?}");
    // An exception makes it conditional.
    let f = run("ALL: ALL EXCEPT 10.0.0.1\n", "sshd: 10.0.0.2\n");
    assert!(with_code(&f, code::UNREACHABLE_RULE).is_empty(), "{f:#?}");
    // aclexec can fail: the match then counts as none and hosts.deny is read.
    let f = run(
        "ALL: ALL: aclexec /usr/local/bin/check\n",
        "sshd: 10.0.0.2\n",
    );
    assert!(with_code(&f, code::UNREACHABLE_RULE).is_empty(), "{f:#?}");
    // ... also for an earlier rule in hosts.allow.
    let f = run(
        "sshd: 10.0.0.1: aclexec /bin/check\nALL: ALL\n",
        "sshd: 10.0.0.2\n",
    );
    assert!(with_code(&f, code::UNREACHABLE_RULE).is_empty(), "{f:#?}");
    // ... and the process-wide aclexec flag affects any rule with options.
    let f = run(
        "ALL: ALL: spawn /bin/true\n",
        "sshd: 10.0.0.2: aclexec /bin/check\n",
    );
    assert!(with_code(&f, code::UNREACHABLE_RULE).is_empty(), "{f:#?}");
    // A rule after a line that ends hosts.allow with an error is never read.
    let f = run("sshd: 10.0.0.1\nALL: ALL", "sshd: 10.0.0.2\n");
    assert!(with_code(&f, code::UNREACHABLE_RULE).is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 7. duplicate-rule

#[test]
fn duplicate_rule() {
    let f = run("sshd: 10.0.0.1\nftpd: 10.0.0.2\nSSHD , : 10.0.0.1 \n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::DUPLICATE_RULE);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 3, 1, 18, Severity::Warning));
    assert!(x.message.contains("the rule at line 1"));
    assert_eq!(help(x), "remove this rule");

    // Options compared by keyword (any case, any separator) and value.
    let f = run(
        "sshd: a.example: severity=Mail.Info\nsshd: A.EXAMPLE: SEVERITY mail.info\n",
        "",
    );
    assert_eq!(one(&f, code::DUPLICATE_RULE).line, 2);

    // Port numbers are numbers.
    let f = run("022: 10.0.0.1\n22: 10.0.0.1\n", "");
    assert_eq!(one(&f, code::DUPLICATE_RULE).line, 2);
}

#[test]
fn not_duplicates() {
    let f = run(
        concat!(
            "sshd: 10.0.0.1\n",
            "sshd: 10.0.0.2\n",
            "sshd: 10.0.0.1: spawn echo A\n",
            "sshd: 10.0.0.1: spawn echo a\n",
            "sshd: @Grp\n",
            "sshd: @grp\n",
            "sshd: 10.0.0.1 10.0.0.2\n",
            "sshd: 10.0.0.2 10.0.0.1\n",
        ),
        "sshd: 10.0.0.1\n",
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 8. missing-pattern-file

#[test]
fn missing_pattern_file() {
    let f = run("sshd: /etc/missing.list\n", "");
    let x = one(&f, code::MISSING_PATTERN_FILE);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 7, 24, Severity::Warning));
    assert!(x.message.contains("silently never matches"));
    assert!(help(x).starts_with("create the file"));

    // daemon@/file, user@/file, and a directory.
    let f = run("sshd@/srv/x: ALL\nftpd: bob@/srv/y /etc\n", "");
    let v = with_code(&f, code::MISSING_PATTERN_FILE);
    assert_eq!(
        v.iter().map(|x| (x.line, x.column)).collect::<Vec<_>>(),
        vec![(1, 6), (2, 11), (2, 18)]
    );

    // Unreadable: logged at run time.
    let f = run("sshd: /root/secret\n", "");
    let x = one(&f, code::UNREADABLE_PATTERN_FILE);
    assert!(x.message.contains("open /root/secret: Permission denied"));
}

#[test]
fn existing_pattern_file() {
    // A daemon name starting with '/' is a literal name, not a file.
    let f = run("sshd: /etc/hosts.list\n/usr/sbin/sshd: 10.0.0.1\n", "");
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 9. option-after-final

#[test]
fn option_after_final() {
    let f = run("sshd: 10.0.0.1: allow: spawn echo hi\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::OPTION_AFTER_FINAL);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 17, 22, Severity::Error));
    assert!(x.message.starts_with("option \"allow\" must be at end"));
    assert_eq!(help(x), "move `allow` to the end: `spawn echo hi: allow`");

    let f = run(
        "",
        "sshd: 10.0.0.1: twist /bin/echo no: severity auth.info\n",
    );
    let x = one(&f, code::OPTION_AFTER_FINAL);
    assert_eq!(x.column, 17);
    assert_eq!(
        help(x),
        "move `twist` to the end: `severity auth.info: twist /bin/echo no`"
    );

    // Options that need not be last are fine anywhere.
    let f = run(
        "sshd: 10.0.0.1: spawn echo hi: allow\n",
        "sshd: 10.0.0.2: twist /bin/echo no\n",
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 10. contradicting-verdict

#[test]
fn contradicting_verdict() {
    let f = run("sshd: 10.0.0.1: deny\n", "ftpd: 10.0.0.2: allow\n");
    let v = with_code(&f, code::CONTRADICTING_VERDICT);
    assert_eq!(v.len(), 2, "{f:#?}");
    assert_eq!(pos(v[0]), (&b"hosts.allow"[..], 1, 17, 21, Severity::Note));
    assert_eq!(pos(v[1]), (&b"hosts.deny"[..], 1, 17, 22, Severity::Note));
    assert!(v[0].message.contains("one-file setup"));
    assert!(help(v[0]).contains("keep all rules in hosts.allow"));

    let f = run("sshd: 10.0.0.1: allow\n", "ftpd: 10.0.0.2: deny\n");
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 11. unresolvable-host / multi-address-host

#[test]
fn unresolvable_host() {
    let f = run("sshd: good.example nosuch.example\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::UNRESOLVABLE_HOST);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 20, 34, Severity::Warning));
    assert!(x.message.contains("`nosuch.example` does not resolve"));

    // daemon@host and user@host too.
    let f = run("sshd@nosuch.example: ALL\nftpd: bob@nosuch.example\n", "");
    let v = with_code(&f, code::UNRESOLVABLE_HOST);
    assert_eq!(
        v.iter().map(|x| (x.line, x.column)).collect::<Vec<_>>(),
        vec![(1, 6), (2, 11)]
    );
}

#[test]
fn names_that_are_not_resolved() {
    let env = fake();
    let f = lint_env(
        b"sshd: .example.com host. *.example 10.0.0. 10.0.0.1 LOCAL KNOWN UNKNOWN PARANOID ALL @grp [::1] 10.0.0.0/8 EXCEPT localhost\n",
        b"",
        &LintOptions::default(),
        &env,
    );
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(*env.resolved.borrow(), vec!["localhost".to_string()]);

    // No resolution at all when switched off.
    let env = fake();
    let opts = LintOptions {
        resolve_hosts: false,
        ..LintOptions::default()
    };
    let f = lint_env(b"sshd: nosuch.example\n", b"", &opts, &env);
    assert!(f.is_empty());
    assert!(env.resolved.borrow().is_empty());
}

#[test]
fn multi_address_host() {
    let f = run("sshd@multi.example: ALL\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::MULTI_ADDRESS_HOST);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 6, 19, Severity::Note));
    assert!(x.message.contains("2 addresses (192.0.2.1, 2001:db8::1)"));
    assert_eq!(
        help(x),
        "use the address of the interface you mean, e.g. @192.0.2.1"
    );

    // As a client name several addresses change nothing; one address is fine.
    let f = run("sshd: multi.example\nsshd@good.example: ALL\n", "");
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// 12. implicit-allow

#[test]
fn implicit_allow() {
    let opts = LintOptions {
        implicit_allow: true,
        ..LintOptions::default()
    };
    let allow = b"sshd: 10.0.0.1\nftpd: 10.0.0.2: spawn /bin/true\nin.telnetd: 10.0.0.3: allow\nfingerd: 10.0.0.4: twist /bin/echo no\n";
    let f = lint_env(allow, b"sshd: 10.0.0.9\n", &opts, &fake());
    let v = with_code(&f, code::IMPLICIT_ALLOW);
    assert_eq!(v.len(), 2, "{f:#?}");
    assert_eq!(pos(v[0]), (&b"hosts.allow"[..], 1, 1, 15, Severity::Note));
    assert_eq!(help(v[0]), "append `: allow` to make the grant explicit");
    assert_eq!(v[1].line, 2);
    assert_eq!(
        help(v[1]),
        "end the options with `: allow` to make the grant explicit"
    );

    // Only with the option.
    let f = lint_env(allow, b"", &LintOptions::default(), &fake());
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// option-error

#[test]
fn option_errors() {
    let f = run(
        "",
        concat!(
            "ALL: ALL EXCEPT 10.0.0.1: severity mail.infoo\n",
            "sshd: 10.0.0.2: frob\n",
            "sshd: 10.0.0.3: spwan /bin/true\n",
            "sshd: 10.0.0.4: /usr/bin/foo %h\n",
            "sshd: 10.0.0.5: spawn\n",
            "sshd: 10.0.0.6: keepalive 1\n",
            "sshd: 10.0.0.7: umask 8\n",
            "sshd: 10.0.0.8: user nobody.nosuchgroup\n",
            "sshd: 10.0.0.9: user nosuchuser\n",
            "sshd: 10.0.0.10: =x\n",
        ),
    );
    let v = with_code(&f, code::OPTION_ERROR);
    let got: Vec<(u32, u32, &str)> = v
        .iter()
        .map(|x| (x.line, x.column, x.message.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 27, "bad syslog facility or severity"),
            (2, 17, "bad option name"),
            (3, 17, "bad option name"),
            (4, 17, "bad option name"),
            (5, 17, "option \"spawn\" requires value"),
            (6, 17, "option \"keepalive\" requires no value"),
            (7, 17, "bad umask value"),
            (8, 17, "unknown group"),
            (9, 17, "unknown user"),
            (10, 18, "missing option name (the field starts with '=')"),
        ]
    );
    assert!(v.iter().all(|x| x.severity == Severity::Error));
    assert!(v[0].message.contains("\"infoo\""));
    assert_eq!((v[1].column, v[1].end_column), (17, 21));
    assert!(help(v[1]).starts_with("known options: user, group"));
    assert_eq!(help(v[2]), "did you mean `spawn`?");
    assert!(help(v[3]).contains("not a shell command"));
    assert_eq!(
        help(v[4]),
        "give it a value, e.g. `spawn (/usr/bin/logger %c) &`"
    );
    assert_eq!(help(v[5]), "write `keepalive` alone");
}

#[test]
fn undefined_alert() {
    let f = run(
        "",
        "sshd: 10.0.0.1: alert tcp-wrappers Denied %d-%h\nftpd: ALL: severity auth.info: alert nope\nftpd: 10.0.0.2: alert a-%d\n",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::UNDEFINED_ALERT);
    assert_eq!(pos(x), (&b"hosts.deny"[..], 2, 32, 42, Severity::Warning));
    assert_eq!(
        x.message,
        "alert nope: not defined in /etc/tcpwrap/alerts.conf: at run time the alert is logged as a warning and not sent (the decision is not affected)"
    );
    assert!(help(x).contains("[alert NAME]"), "{}", help(x));
    // `alert` needs a value, and is not an option error otherwise.
    let f = run("", "sshd: 10.0.0.1: alert\n");
    let x = one(&f, code::OPTION_ERROR);
    assert_eq!(help(x), "give it a value, e.g. `alert tcp-wrappers`");
}

#[test]
fn valid_options() {
    let f = run(
        "",
        "sshd: 10.0.0.1: severity auth.notice: umask 022: nice: rfc931 5: linger 0: setenv X %a: user nobody.nogroup: group root: banners /etc/banners: keepalive: spawn echo %h: alert tcp-wrappers\n",
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------
// extra checks

#[test]
fn missing_separator() {
    let f = run("sshd 10.0.0.1\n", "");
    let x = one(&f, code::MISSING_SEPARATOR);
    assert_eq!(pos(x), (&b"hosts.allow"[..], 1, 1, 14, Severity::Warning));
}

#[test]
fn comment_continuation() {
    let f = run("# old rules \\\nsshd: 10.0.0.1\n", "");
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = one(&f, code::COMMENT_CONTINUATION);
    assert_eq!((x.line, x.column, x.end_column), (2, 13, 27));
    assert!(x.message.contains("line 2 is joined to it"));
    assert!(x.message.contains("`sshd: 10.0.0.1`"));
    assert_eq!(
        help(x),
        "remove the trailing '\\' from the comment on line 1"
    );

    let f = run("# old rules\nsshd: 10.0.0.1\n", "");
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn bad_netmask() {
    let f = run(
        "sshd: 10.0.0.5/24 10.0.0.0/0 10.0.0.0/24 [2001:db8::1]/64\n",
        "",
    );
    let v = with_code(&f, code::BAD_NETMASK);
    assert_eq!(v.len(), 2, "{f:#?}");
    assert_eq!((v[0].column, v[0].end_column), (7, 18));
    assert_eq!(help(v[0]), "write the network address: 10.0.0.0/24");
    assert_eq!(v[1].column, 19);
}

#[test]
fn crlf_table() {
    let f = run("sshd: 10.0.0.1\r\nALL: ALL: deny\r\n", "");
    assert_eq!(
        f.iter().map(|x| x.code).collect::<Vec<_>>(),
        vec![code::CONTRADICTING_VERDICT]
    );
}

// ---------------------------------------------------------------------------
// render_text

#[test]
fn render_text_example() {
    let f = run("ALL: LOCAL\nsshd: 10.0.0.1\nsshd: 3ffe:505:2::1\n", "");
    assert_eq!(
        render_text(&f),
        concat!(
            "hosts.allow:3:7: error[ipv6-without-brackets]: IPv6 address without brackets: the ':' inside splits the rule, so it never matches as intended\n",
            "    3 | sshd: 3ffe:505:2::1\n",
            "      |       ^^^^^^^^^^^^^\n",
            "      = help: write it in brackets: [3ffe:505:2::1]\n",
            "\n",
        )
    );
}

fn finding(source: &[u8], column: u32, end_column: u32) -> Finding {
    Finding {
        file: b"hosts.deny".to_vec(),
        line: 12,
        column,
        end_column,
        severity: Severity::Warning,
        code: "test",
        message: "m".to_string(),
        source_line: source.to_vec(),
        suggestion: None,
    }
}

/// The caret line of a rendering.
fn carets(f: &Finding) -> String {
    render_text(std::slice::from_ref(f))
        .lines()
        .nth(2)
        .unwrap()
        .to_string()
}

#[test]
fn render_text_carets() {
    // A tab advances to the next multiple of 8 and is shown as spaces.
    let f = finding(b"sshd:\t::1", 7, 10);
    let t = render_text(std::slice::from_ref(&f));
    assert_eq!(
        t,
        "hosts.deny:12:7: warning[test]: m\n   12 | sshd:   ::1\n      |         ^^^\n\n"
    );

    // Multi-byte UTF-8 before the column: one cell per character.
    let f = finding("sshd: é ::1".as_bytes(), 10, 13);
    assert_eq!(carets(&f), "      |         ^^^");
    // East Asian wide characters take two cells.
    let f = finding("sshd: 漢 ::1".as_bytes(), 11, 14);
    assert_eq!(carets(&f), "      |          ^^^");
    // Invalid UTF-8 and control bytes: one cell each.
    let f = finding(b"a\xff\x01b: ::1", 7, 10);
    let t = render_text(std::slice::from_ref(&f));
    assert!(t.contains("   12 | a\u{fffd}\u{2401}b: ::1\n"), "{t}");
    assert_eq!(carets(&f), "      |       ^^^");
    // Pointing past the end (a missing newline).
    let f = finding(b"ALL: ALL", 9, 10);
    assert_eq!(carets(&f), "      |         ^");
    // A tab inside the span is underlined over its width.
    let f = finding(b"a\tb", 2, 3);
    assert_eq!(carets(&f), "      |  ^^^^^^^");
    // With a suggestion, and a wide line number.
    let mut f = finding(b"x", 1, 2);
    f.line = 1234567;
    f.suggestion = Some("do y".into());
    assert_eq!(
        render_text(&[f]),
        "hosts.deny:1234567:1: warning[test]: m\n1234567 | x\n        | ^\n        = help: do y\n\n"
    );
}

#[test]
fn render_text_real_carets_after_tab_and_utf8() {
    let opts = LintOptions {
        resolve_hosts: false,
        ..LintOptions::default()
    };
    let f = lint_env("sshd,\tftpd:  bjørn@::1\n".as_bytes(), b"", &opts, &fake());
    let x = one(&f, code::IPV6_WITHOUT_BRACKETS);
    // Byte column: "sshd,\tftpd:  bjørn@" is 20 bytes.
    assert_eq!((x.column, x.end_column), (21, 24));
    let t = render_text(std::slice::from_ref(x));
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[1], "    1 | sshd,   ftpd:  bjørn@::1");
    assert_eq!(lines[2], "      |                      ^^^");
}

// ---------------------------------------------------------------------------
// render_json

#[test]
fn render_json_fields_and_escapes() {
    let f = Finding {
        file: b"dir \"x\"\\hosts.deny".to_vec(),
        line: 3,
        column: 7,
        end_column: 9,
        severity: Severity::Error,
        code: code::EMPTY_OPTION,
        message: "say \"hi\"\\n".to_string(),
        source_line: b"a\tb\x01\x1f\x7f\xff\xfe\"\\\r\xc3\xa9".to_vec(),
        suggestion: None,
    };
    let mut g = f.clone();
    g.severity = Severity::Note;
    g.suggestion = Some("line\nbreak".into());
    g.source_line = b"ok".to_vec();
    assert_eq!(
        render_json(&[f, g]),
        concat!(
            "[\n",
            "  {\"file\":\"dir \\\"x\\\"\\\\hosts.deny\",\"line\":3,\"column\":7,\"end_column\":9,",
            "\"severity\":\"error\",\"code\":\"empty-option\",\"message\":\"say \\\"hi\\\"\\\\n\",",
            "\"source_line\":\"a\\tb\\u0001\\u001f\\u007f\u{fffd}\u{fffd}\\\"\\\\\\r\u{e9}\",\"suggestion\":null},\n",
            "  {\"file\":\"dir \\\"x\\\"\\\\hosts.deny\",\"line\":3,\"column\":7,\"end_column\":9,",
            "\"severity\":\"note\",\"code\":\"empty-option\",\"message\":\"say \\\"hi\\\"\\\\n\",",
            "\"source_line\":\"ok\",\"suggestion\":\"line\\nbreak\"}\n",
            "]\n",
        )
    );
    assert_eq!(render_json(&[]), "[]\n");
}

#[test]
fn render_json_of_lint_output() {
    let f = run("", "ALL: ALL:\n");
    assert_eq!(
        render_json(&f),
        "[\n  {\"file\":\"hosts.deny\",\"line\":1,\"column\":9,\"end_column\":10,\"severity\":\"error\",\"code\":\"empty-option\",\"message\":\"empty option after the last ':': at run time `missing option name` is an error, so every request that matches this rule is denied\",\"source_line\":\"ALL: ALL:\",\"suggestion\":\"remove this ':'\"}\n]\n"
    );
}

// ---------------------------------------------------------------------------
// unreadable-table

#[test]
fn unreadable_table() {
    let f =
        tcpwrap_tools::lint::unreadable_table(b"/etc/hosts.deny", Which::Deny, "Permission denied");
    assert_eq!(
        (f.code, f.line, f.column, f.severity),
        (code::UNREADABLE_TABLE, 0, 0, Severity::Error)
    );
    assert_eq!(
        render_text(&[f]),
        concat!(
            "/etc/hosts.deny: error[unreadable-table]: cannot open /etc/hosts.deny: Permission denied: at run time the library logs `warning: cannot open /etc/hosts.deny: Permission denied`, and every request that reaches hosts.deny is denied\n",
            "      = help: make the file readable by the services that use it (or remove it: a missing table is an empty one)\n",
            "\n",
        )
    );
    let f = tcpwrap_tools::lint::unreadable_table(
        b"hosts.allow",
        Which::Allow,
        "Too many levels of symbolic links",
    );
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("the check goes on with hosts.deny"));
}

#[test]
fn system_env_files() {
    use tcpwrap_tools::lint::SystemLintEnv;
    let env = SystemLintEnv;
    assert_eq!(env.pattern_file(b"/"), FileState::Directory);
    assert_eq!(
        env.pattern_file(b"/nonexistent/tcpwrap-lint-test"),
        FileState::Missing
    );
    let me = std::env::current_exe().unwrap();
    assert_eq!(
        env.pattern_file(me.to_str().unwrap().as_bytes()),
        FileState::Exists
    );
}
