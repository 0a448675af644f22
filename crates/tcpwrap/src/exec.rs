//! The option executor shared by tcpd, libwrap.so.0 and tcpwrapd: carries
//! out spawn, twist, aclexec, banners, setenv, umask, nice, keepalive,
//! linger, user and group with the system calls of the original, and
//! `alert` (not in the original) through [`crate::alert`].

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;

use tcpwrap_core::{Action, Ctx, Diagnostic, Executor, Outcome, Request};

use crate::alert::AlertMode;
use crate::sys::{self, strerror};

/// Executes options for real against the request's descriptor.
///
/// Use one per check. With [`SystemExecutor::logging`], the diagnostics of
/// the check are sent to syslog as they arise, before any command runs (so a
/// `spawn`ed `logger` or a `twist`ed program logs after them, as with
/// Debian's libwrap, which logs synchronously); [`SystemExecutor::log_rest`]
/// then sends what came after the last command. A `twist` always sends the
/// diagnostics so far before the process is replaced.
///
/// `alert` options go to a detached background process with the system's
/// alerts config and state directory unless [`SystemExecutor::with_alerts`]
/// says otherwise.
#[derive(Debug, Default, Clone)]
pub struct SystemExecutor {
    live: bool,
    /// How many of the check's diagnostics went to syslog already.
    logged: usize,
    alerts: AlertMode,
}

impl SystemExecutor {
    /// An executor that leaves logging to the caller (except before a
    /// `twist`).
    pub fn new() -> SystemExecutor {
        SystemExecutor::default()
    }

    /// An executor that logs the check's diagnostics to syslog before every
    /// command it runs.
    pub fn logging() -> SystemExecutor {
        SystemExecutor {
            live: true,
            ..SystemExecutor::default()
        }
    }

    /// Carry out `alert` options as `mode` says.
    pub fn with_alerts(mut self, mode: AlertMode) -> SystemExecutor {
        self.alerts = mode;
        self
    }

    /// Diagnostics of the check already sent to syslog (a prefix).
    pub fn logged(&self) -> usize {
        self.logged
    }

    fn flush(&mut self, ctx: &Ctx<'_>) {
        let from = self.logged.min(ctx.diagnostics.len());
        crate::log::to_syslog(&ctx.diagnostics[from..]);
        self.logged = ctx.diagnostics.len();
    }

    fn aclexec(&mut self, command: &[u8], ctx: &mut Ctx<'_>) -> Outcome {
        match sys::run_inherit(command) {
            Ok((pid, st)) => {
                if let Some(sig) = st.signal() {
                    ctx.warn(format!("process {pid} exited with signal {sig}").into_bytes());
                    Outcome::AclexecFailed
                } else if st.code() == Some(0) {
                    Outcome::Done
                } else {
                    Outcome::AclexecFailed
                }
            }
            Err(e) => {
                ctx.warn(format!("aclexec_option: /bin/sh: {}", strerror(&e)).into_bytes());
                Outcome::Exit
            }
        }
    }

    /// Send the diagnostics of a finished check that have not been sent.
    pub fn log_rest(&mut self, diagnostics: &[Diagnostic]) {
        let from = self.logged.min(diagnostics.len());
        crate::log::to_syslog(&diagnostics[from..]);
        self.logged = diagnostics.len();
    }
}

fn msg(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

impl Executor for SystemExecutor {
    fn execute(&mut self, action: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome {
        match *action {
            Action::Spawn { command } => {
                if self.live {
                    self.flush(ctx);
                }
                if let Err(e) = sys::spawn_wait(command) {
                    ctx.warn(format!("cannot fork: {}", strerror(&e)).into_bytes());
                }
                Outcome::Done
            }
            Action::Aclexec { command } => {
                if self.live {
                    self.flush(ctx);
                }
                self.aclexec(command, ctx)
            }
            Action::Twist { command } => {
                let client = req.client_info(ctx);
                let line = msg(&[b"twist ", &client, b" to ", command]);
                // Everything logged so far, with the twist line at the deny
                // severity, must be out before the process is replaced.
                ctx.log_priority(ctx.deny_severity, line);
                self.flush(ctx);
                let (step, e) = sys::exec_twist(req.fd, command);
                ctx.warn(format!("twist_option: {step}: {}", strerror(&e)).into_bytes());
                Outcome::Exit
            }
            Action::Keepalive => {
                if let Err(e) = sys::set_keepalive(req.fd) {
                    ctx.warn(format!("setsockopt SO_KEEPALIVE: {}", strerror(&e)).into_bytes());
                }
                Outcome::Done
            }
            Action::Linger(n) => {
                if let Err(e) = sys::set_linger(req.fd, n) {
                    ctx.warn(format!("setsockopt SO_LINGER {n}: {}", strerror(&e)).into_bytes());
                }
                Outcome::Done
            }
            Action::Nice(n) => {
                if let Err(e) = sys::nice(n) {
                    ctx.warn(format!("nice({n}): {}", strerror(&e)).into_bytes());
                }
                Outcome::Done
            }
            Action::Umask(m) => {
                sys::set_umask(m);
                Outcome::Done
            }
            Action::Setenv { name, value } => match sys::set_env(name, value) {
                Ok(()) => Outcome::Done,
                Err(_) => Outcome::Error(b"memory allocation failure".to_vec()),
            },
            Action::Banners { dir } => {
                let mut path = dir.to_vec();
                path.push(b'/');
                path.extend_from_slice(req.daemon());
                // Read without blocking (a FIFO is not read) and bounded.
                match crate::cache::read_file(std::path::Path::new(std::ffi::OsStr::from_bytes(
                    &path,
                ))) {
                    Ok(content) => {
                        // One write per line as it is expanded, errors
                        // ignored, as Debian's tcpd (see render_each).
                        let fd = req.fd;
                        let mut write = |w: &[u8]| {
                            let _ = sys::write_once(fd, w);
                        };
                        match tcpwrap_core::banner::render_each(&content, req, ctx, &mut write) {
                            Ok(()) => Outcome::Done,
                            Err(_) => Outcome::Exit,
                        }
                    }
                    Err(_) => {
                        if let Err(e) = std::fs::metadata(std::ffi::OsStr::from_bytes(dir)) {
                            ctx.warn(msg(&[dir, b": ", strerror(&e).as_bytes()]));
                        }
                        Outcome::Done
                    }
                }
            }
            Action::Alert { name, output } => {
                // Never an error: the decision does not depend on it.
                self.alerts.fire(name, output, req, ctx);
                Outcome::Done
            }
            Action::Group { group, gid } => match sys::switch_identity(None, gid) {
                Ok(()) => Outcome::Done,
                Err((step, e)) => Outcome::Error(msg(&[
                    step.as_bytes(),
                    b"(",
                    group,
                    b"): ",
                    strerror(&e).as_bytes(),
                ])),
            },
            Action::User {
                user,
                uid,
                gid,
                group,
            } => {
                let g = group.map(|(_, g)| g).unwrap_or(gid);
                match sys::switch_identity(Some((user, uid)), g) {
                    Ok(()) => Outcome::Done,
                    Err((step, e)) => {
                        let who: &[u8] = if step == "setuid" || step == "initgroups" {
                            user
                        } else {
                            group.map(|(n, _)| n).unwrap_or(user)
                        };
                        Outcome::Error(msg(&[
                            step.as_bytes(),
                            b"(",
                            who,
                            b"): ",
                            strerror(&e).as_bytes(),
                        ]))
                    }
                }
            }
        }
    }
}
