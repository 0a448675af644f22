//! Invariants of a verdict that hold for every input: the engine fails
//! closed, reports consistently, truncates request fields, and a dry run
//! carries out nothing that runs commands or touches the connection.

use tcpwrap_core::{Decision, Kind, Reason, Request, Verdict};

use crate::world::Did;

/// Panics (a fuzz finding) when `v` breaks an invariant.
pub fn verdict(v: &Verdict, req: &Request, did: &[Did], dry_run: bool) {
    for d in &v.diagnostics {
        // Every diagnostic renders.
        let _ = d.text();
    }
    if v.diagnostics.iter().any(|d| d.kind == Kind::Error) {
        assert!(
            !v.granted(),
            "an error was logged but the request was granted: {v:?}"
        );
    }
    let want = match v.reason {
        Reason::AllowRule | Reason::NoMatch | Reason::AllowOption => Some(Decision::Grant),
        Reason::DenyRule
        | Reason::DenyTableError
        | Reason::DenyOption
        | Reason::OptionError
        | Reason::Exit => Some(Decision::Deny),
        Reason::Twist => None,
    };
    if let Some(d) = want {
        assert_eq!(v.decision, d, "decision does not fit the reason: {v:?}");
    }
    assert_eq!(v.exit, v.reason == Reason::Exit, "exit flag: {v:?}");
    if dry_run {
        for d in did {
            assert!(
                !d.forbidden_in_dry_run(),
                "a dry run carried out {d:?}: {v:?}"
            );
        }
    }
    request(req);
}

/// Request fields never exceed the original's 128-byte buffers.
pub fn request(req: &Request) {
    let max = tcpwrap_core::request::FIELD_MAX;
    for f in [
        req.client.cached_name(),
        req.client.cached_addr(),
        req.server.cached_name(),
        req.server.cached_addr(),
        req.cached_user(),
        Some(req.daemon()),
    ]
    .into_iter()
    .flatten()
    {
        assert!(f.len() <= max, "request field of {} bytes", f.len());
    }
    assert!(
        req.pid().len() <= 9,
        "pid field of {} bytes",
        req.pid().len()
    );
}
