//! The side effects of options, as requests to an [`Executor`].
//!
//! The engine decides *which* options take effect and in which order (with
//! the dry-run rules of §4.2); an executor carries them out. `tcpd`,
//! `libwrap.so.0` and `tcpwrapd` share the system executor of the `tcpwrap`
//! crate; tools and tests use [`NoExec`] or their own.

use crate::ctx::Ctx;
use crate::request::Request;

/// An option's effect to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Run `/bin/sh -c CMD` with stdio on /dev/null and wait for it.
    Spawn {
        command: &'a [u8],
    },
    /// Log `twist CLIENT to CMD`, then replace the process by `/bin/sh -c CMD`
    /// with fds 0-2 on the connection.
    Twist {
        command: &'a [u8],
    },
    /// Run `/bin/sh -c CMD` with inherited descriptors and wait; a non-zero
    /// status makes the rule not match.
    Aclexec {
        command: &'a [u8],
    },
    Keepalive,
    Linger(i32),
    Nice(i32),
    Umask(u32),
    Setenv {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// Copy `DIR/DAEMON` to the connection (see [`crate::banner::render`]).
    Banners {
        dir: &'a [u8],
    },
    /// Switch to a user (uid, primary gid) and optionally a group.
    User {
        user: &'a [u8],
        uid: u32,
        gid: u32,
        group: Option<(&'a [u8], u32)>,
    },
    /// Switch the group.
    Group {
        group: &'a [u8],
        gid: u32,
    },
    /// Submit the passive check result of alert `name` (defined in the
    /// alerts config), in the background: the decision never waits for it
    /// and a failure never changes it. `output`, when given, replaces the
    /// alert's output template (already `%`-expanded).
    Alert {
        name: &'a [u8],
        output: Option<&'a [u8]>,
    },
}

/// What carrying out an action gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `aclexec` command failed (non-zero exit or signal).
    AclexecFailed,
    /// An `error:` (the request is denied), e.g. `setuid(nobody): …`.
    Error(Vec<u8>),
    /// The original would `clean_exit()` here (twist could not run).
    Exit,
}

/// Carries out option side effects. Warnings go to `ctx.warn`.
pub trait Executor {
    fn execute(&mut self, action: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome;
}

/// Carries out nothing (every action succeeds). A `twist` is then reported
/// in the verdict for the caller to run.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExec;

impl Executor for NoExec {
    fn execute(&mut self, _: &Action<'_>, _: &mut Request, _: &mut Ctx<'_>) -> Outcome {
        Outcome::Done
    }
}
