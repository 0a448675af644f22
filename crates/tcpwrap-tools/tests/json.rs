//! `--json` reports: valid JSON with the rules, verdicts, diagnostics and
//! status a configuration-management or monitoring system needs. Run in
//! tests/golden/ns-run (own /etc/hosts, no network) for stable look-ups.

mod common;

use common::{can_run, golden};

use std::process::Command;

/// Run a tool with `-d` tables in a fresh directory; stdout as text.
fn run(tool: &str, allow: &str, deny: &str, args: &[&str]) -> (String, i32) {
    // One directory per call: the tests run in parallel.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("tcpwrap-json-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("hosts.allow"), allow).unwrap();
    std::fs::write(d.join("hosts.deny"), deny).unwrap();
    let out = Command::new(golden().join("ns-run"))
        .current_dir(&d)
        .arg("--hosts")
        .arg(golden().join("hosts"))
        .arg("--")
        .arg(tool)
        .args(args)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&d);
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// A minimal JSON check: parse with python3's json module and print the
/// requested expressions (python3 is a test dependency already).
fn query(json: &str, exprs: &[&str]) -> Vec<String> {
    let prog = format!(
        "import json,sys\nd=json.load(sys.stdin)\n{}",
        exprs
            .iter()
            .map(|e| format!("print(json.dumps({e}))"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut c = Command::new("python3")
        .args(["-c", &prog])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "not JSON: {json}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn tcpdchk_json_reports_rules_diagnostics_and_status() {
    if !can_run() {
        return;
    }
    let (out, code) = run(
        env!("CARGO_BIN_EXE_tcpdchk"),
        "sshd: 127.0.0.1 : spawn echo %a\nsshd: 3ffe:505:2::1\n",
        "ALL: ALL\n",
        &["-d", "--json"],
    );
    assert_eq!(code, 2, "an option error denies at run time: {out}");
    let q = query(
        &out,
        &[
            "[r['line'] for r in d['rules']]",
            "d['rules'][0]['options']",
            "d['rules'][1]['clients']",
            "d['rules'][1]['access']",
            "d['rules'][2]['access']",
            "[x['text'] for x in d['diagnostics'] if x['kind']=='error']",
            "d['status']",
        ],
    );
    assert_eq!(q[0], "[1, 2, 1]");
    assert_eq!(q[1], "\"spawn echo %a\"");
    assert_eq!(q[2], "[\"3ffe\"]");
    assert_eq!(q[3], "\"denied\"");
    assert_eq!(q[4], "\"denied\"");
    assert_eq!(
        q[5],
        "[\"error: hosts.allow, line 2: bad option name: \\\"505\\\"\"]"
    );
    assert_eq!(q[6], "2");

    // A clean configuration: status 0, no errors.
    let (out, code) = run(
        env!("CARGO_BIN_EXE_tcpdchk"),
        "sshd: 127.0.0.1\n",
        "ALL: ALL\n",
        &["-d", "--json"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(query(&out, &["d['denying_error']"]), ["false"]);
}

#[test]
fn tcpdmatch_json_reports_the_decision() {
    if !can_run() {
        return;
    }
    let (out, code) = run(
        env!("CARGO_BIN_EXE_tcpdmatch"),
        "sshd: 192.0.2.9 : severity auth.notice : deny\nsshd: 127.0.0.1\n",
        "ALL: ALL\n",
        &["-d", "--json", "sshd", "192.0.2.9"],
    );
    assert_eq!(code, 0, "{out}");
    let q = query(
        &out,
        &[
            "len(d['requests'])",
            "d['requests'][0]['access']",
            "d['requests'][0]['rule']",
            "[o['option'] for o in d['requests'][0]['options']]",
            "d['requests'][0]['client_address']",
            "d['requests'][0]['process']",
        ],
    );
    assert_eq!(q[0], "1");
    assert_eq!(q[1], "\"denied\"");
    assert_eq!(q[2], "{\"file\": \"hosts.allow\", \"line\": 1}");
    assert_eq!(q[3], "[\"severity\", \"deny\"]");
    assert_eq!(q[4], "\"192.0.2.9\"");
    assert_eq!(q[5], "\"sshd\"");
    // No rule: default grant, no rule reported.
    let (out, _) = run(
        env!("CARGO_BIN_EXE_tcpdmatch"),
        "",
        "",
        &["-d", "--json", "ftpd", "192.0.2.10"],
    );
    assert_eq!(
        query(
            &out,
            &["d['requests'][0]['access']", "d['requests'][0]['rule']"]
        ),
        ["\"granted\"", "null"]
    );
}

#[test]
fn tcpdmatch_explain_walks_every_rule() {
    if !can_run() {
        return;
    }
    let allow = "ftpd: ALL\nsshd: 10.0.0.0/8\nbad line\nsshd: 192.0.2.9 : deny\nsshd: ALL\n";
    let (out, _) = run(
        env!("CARGO_BIN_EXE_tcpdmatch"),
        allow,
        "ALL: ALL\n",
        &["-d", "--explain", "sshd", "192.0.2.9"],
    );
    let explain: Vec<&str> = out.lines().filter(|l| l.starts_with("explain:")).collect();
    assert_eq!(
        explain,
        [
            "explain:  hosts.allow line 1: ftpd: ALL",
            "explain:    no match: the daemon list does not match",
            "explain:  hosts.allow line 2: sshd: 10.0.0.0/8",
            "explain:    no match: the daemon list matches, the client list does not",
            "explain:  hosts.allow line 3: bad line",
            "explain:    skipped: no \":\" separator",
            "explain:  hosts.allow line 4: sshd: 192.0.2.9 : deny",
            "explain:    MATCH: this rule decides",
            "explain:    options: deny",
            "explain:  hosts.allow line 5: sshd: ALL",
            "explain:    not reached",
            "explain:  hosts.deny line 1: ALL: ALL",
            "explain:    not reached",
        ]
    );
    // The same in JSON, and a default grant explained.
    let (out, _) = run(
        env!("CARGO_BIN_EXE_tcpdmatch"),
        "ftpd: ALL\n",
        "in.telnetd: ALL\n",
        &["-d", "--json", "--explain", "sshd", "192.0.2.9"],
    );
    assert_eq!(
        query(
            &out,
            &["[s['outcome'] for s in d['requests'][0]['explain']]"]
        ),
        ["[\"DaemonMismatch\", \"DaemonMismatch\"]"]
    );
    let (out, _) = run(
        env!("CARGO_BIN_EXE_tcpdmatch"),
        "",
        "",
        &["-d", "--explain", "sshd", "192.0.2.9"],
    );
    assert!(
        out.contains("explain:  no rule matched: access is granted by default"),
        "{out}"
    );
}

#[test]
fn tcpdchk_lint_mode() {
    if !can_run() {
        return;
    }
    let (out, code) = run(
        env!("CARGO_BIN_EXE_tcpdchk"),
        "sshd: 3ffe:505:2::1\n",
        "ALL: ALL\n",
        &["-d", "--lint", "--json"],
    );
    assert_eq!(code, 2, "an error finding: {out}");
    assert_eq!(
        query(&out, &["[(f['code'], f['line'], f['column']) for f in d]"]),
        ["[[\"ipv6-without-brackets\", 1, 7]]"]
    );
    let (out, code) = run(
        env!("CARGO_BIN_EXE_tcpdchk"),
        "sshd: [3ffe:505:2::1]\n",
        "ALL: ALL\n",
        &["-d", "--lint"],
    );
    assert_eq!((out.as_str(), code), ("", 0));
}
