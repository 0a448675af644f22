//! tcpdchk and `alert` options (not in Debian): it warns when the alert is
//! not defined in /etc/tcpwrap/alerts.conf or the config cannot be used,
//! in the normal mode and with --lint. The config is made inside a private
//! mount namespace (tests/golden/ns-run shadows /etc).

mod common;

use std::process::Command;

fn stderr_of(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn tcpdchk_warns_about_undefined_alerts() {
    if !common::can_run() {
        eprintln!("SKIPPED: needs root and unshare(1)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcpwrap-alerts-tcpdchk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hosts.deny"),
        "ALL: ALL: alert tcp-wrappers Denied %d\nsshd: ALL: alert nope\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_tcpdchk");
    let script = format!(
        "set -e\ncd '{d}'\n\
         '{bin}' -d 2> missing.err\n\
         mkdir -p /etc/tcpwrap\n\
         printf '[sink m]\\ntype=nsca\\nserver=127.0.0.1\\n[alert tcp-wrappers]\\nsink=m\\nhost=h\\ncode=2\\noutput=o\\n' > /etc/tcpwrap/alerts.conf\n\
         chmod 600 /etc/tcpwrap/alerts.conf\n\
         '{bin}' -d 2> good.err\n\
         '{bin}' -d --lint > lint.out 2>&1 || true\n\
         chmod 666 /etc/tcpwrap/alerts.conf\n\
         '{bin}' -d 2> writable.err\n\
         printf '[alert x]\\nsink=none\\n' > /etc/tcpwrap/alerts.conf\n\
         chmod 600 /etc/tcpwrap/alerts.conf\n\
         '{bin}' -d 2> broken.err\n",
        d = dir.display()
    );
    let st = Command::new("bash")
        .arg(common::golden().join("ns-run"))
        .args(["--", "bash", "-c", &script])
        .status()
        .expect("ns-run");
    assert!(st.success());
    let conf = "/etc/tcpwrap/alerts.conf";
    assert_eq!(
        stderr_of(&dir, "missing.err"),
        format!(
            "warning: hosts.deny, line 1: alert tcp-wrappers: {conf}: No such file or directory\n\
             warning: hosts.deny, line 2: alert nope: {conf}: No such file or directory\n"
        )
    );
    assert_eq!(
        stderr_of(&dir, "good.err"),
        format!("warning: hosts.deny, line 2: alert nope: not defined in {conf}\n")
    );
    let lint = stderr_of(&dir, "lint.out");
    assert!(
        lint.contains("hosts.deny:2:12: warning[undefined-alert]: alert nope: not defined in /etc/tcpwrap/alerts.conf"),
        "{lint}"
    );
    assert!(!lint.contains("hosts.deny:1:"), "{lint}");
    let why = "group- or world-writable (mode 0666): refused because it holds passwords";
    assert_eq!(
        stderr_of(&dir, "writable.err"),
        format!(
            "warning: hosts.deny, line 1: alert tcp-wrappers: {conf}: {why}\n\
             warning: hosts.deny, line 2: alert nope: {conf}: {why}\n"
        )
    );
    let broken = stderr_of(&dir, "broken.err");
    assert!(
        broken.starts_with(&format!(
            "warning: hosts.deny, line 1: alert tcp-wrappers: {conf}:2: sink \"none\" is not defined"
        )),
        "{broken}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
