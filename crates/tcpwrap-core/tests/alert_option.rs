//! The `alert` option (not in Debian): expanded like `spawn`, carried out
//! as `Action::Alert` with the name and the optional output, never in a
//! dry run, and never part of the decision.

use tcpwrap_core::{
    Action, Ctx, Env, Executor, Outcome, Reason, Request, Settings, Table, TableRef, check,
    options::OptKind,
};

#[derive(Default)]
struct Record(Vec<(Vec<u8>, Option<Vec<u8>>)>, Vec<String>);

impl Executor for Record {
    fn execute(&mut self, a: &Action<'_>, _: &mut Request, _: &mut Ctx<'_>) -> Outcome {
        match *a {
            Action::Alert { name, output } => {
                self.0.push((name.to_vec(), output.map(<[u8]>::to_vec)));
            }
            ref other => self.1.push(format!("{other:?}")),
        }
        Outcome::Done
    }
}

fn run(deny: &str, daemon: &str, addr: &str, dry: bool) -> (tcpwrap_core::Verdict, Record) {
    let t = Table::compile(b"hosts.deny", deny.as_bytes());
    let mut req = Request::from_ctl(daemon.as_bytes(), b"", addr.as_bytes(), b"");
    let mut rec = Record::default();
    let settings = Settings {
        dry_run: dry,
        ..Settings::default()
    };
    let v = check(
        TableRef::Missing,
        TableRef::Compiled(&t),
        &mut req,
        Env::offline(),
        settings,
        &mut rec,
    );
    (v, rec)
}

#[test]
fn name_and_expanded_output() {
    let (v, rec) = run(
        "ALL: ALL: alert tcp-wrappers Denied %d-%h : spawn true\n",
        "sshd2",
        "206.182.68.5",
        false,
    );
    assert!(!v.granted());
    assert_eq!(v.reason, Reason::DenyRule);
    assert_eq!(
        rec.0,
        [(
            b"tcp-wrappers".to_vec(),
            Some(b"Denied sshd2-206.182.68.5".to_vec())
        )]
    );
    assert_eq!(rec.1.len(), 1, "the spawn after it still runs");
    assert_eq!(v.options[0].kind, OptKind::Alert);
    assert_eq!(v.options[0].key, b"alert");
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
}

#[test]
fn name_only_and_forms() {
    for t in [
        "ALL: ALL: alert tw\n",
        "ALL: ALL: ALERT=tw\n",
        "ALL: ALL: alert = tw   \n",
    ] {
        let (_, rec) = run(t, "sshd", "10.0.0.1", false);
        assert_eq!(rec.0, [(b"tw".to_vec(), None)], "{t}");
    }
    // In hosts.allow too: the alert does not change the grant.
    let t = Table::compile(b"hosts.allow", b"sshd: ALL: alert tw: allow\n");
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let mut rec = Record::default();
    let v = check(
        TableRef::Compiled(&t),
        TableRef::Missing,
        &mut req,
        Env::offline(),
        Settings::default(),
        &mut rec,
    );
    assert!(v.granted());
    assert_eq!(rec.0.len(), 1);
}

#[test]
fn dry_run_reports_but_does_not_fire() {
    let (v, rec) = run("ALL: ALL: alert tw %d\n", "sshd", "10.0.0.1", true);
    assert!(rec.0.is_empty());
    assert_eq!(v.options[0].value.as_deref(), Some(&b"tw sshd"[..]));
}

#[test]
fn errors_of_the_option_itself() {
    // Without a value: the usual option error (the request is denied).
    let (v, rec) = run("ALL: ALL: alert\n", "sshd", "10.0.0.1", false);
    assert_eq!(v.reason, Reason::OptionError);
    assert_eq!(
        v.diagnostics[0].to_string(),
        "error: hosts.deny, line 1: option \"alert\" requires value"
    );
    assert!(rec.0.is_empty());
    // A value that expands to nothing: a warning, the rule decides.
    let (v, rec) = run("ALL: ALL: alert %x\n", "sshd", "10.0.0.1", false);
    assert_eq!(v.reason, Reason::DenyRule);
    let d: Vec<String> = v.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        [
            "warning: hosts.deny, line 1: unrecognized %x",
            "warning: hosts.deny, line 1: alert: no alert name"
        ]
    );
    assert!(rec.0.is_empty());
}
