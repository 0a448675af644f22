//! Alerts in tcpwrapd: the `alert NAME` options of the tables and the
//! alert of tripwire services (`tripwire-alert NAME` in tcpwrapd.conf) go
//! through one [`Dispatcher`]. An alert is prepared on the worker that
//! decides the connection (the alerts config is read, the templates are
//! expanded with the request; problems are warnings of the check, logged
//! with the connection's records) and queued; the dispatcher's thread
//! rate-limits per alert and source (in memory), sends, and sends each
//! window's summary when the window ends. Neither the worker nor the event
//! loop ever waits for a monitoring server. The dispatcher's delivery
//! messages (`alert tw: sink monitor: Timeout after 10 seconds (…)`) are
//! handed to the event loop and written to tcpwrapd's log like its other
//! records.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use tcpwrap::alert::limit::{MemoryLimiter, SystemClock};
use tcpwrap::alert::{AlertMode, Dispatcher, Report};
use tcpwrap_core::{Ctx, Diagnostic, Env, Level, Request};

use crate::check::{self, Msg};

/// The alert every tripwire connection raises (`tripwire-alert NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripwireAlert {
    /// The alert's name in the alerts config.
    pub name: Vec<u8>,
    /// Where it was set (tcpwrapd.conf and the line): the warnings of
    /// firing it start with `FILE, line N:`, as those of a table's option.
    pub at: Option<(Arc<[u8]>, u32)>,
}

impl TripwireAlert {
    /// The value of `tripwire-alert`: an alert name, or `none` (off).
    pub fn parse(value: &str, at: Option<(Arc<[u8]>, u32)>) -> Result<Option<Self>, String> {
        if value == "none" {
            return Ok(None);
        }
        if !tcpwrap::alert::config::valid_name(value.as_bytes()) {
            return Err(format!(
                "tripwire-alert: bad alert name \"{value}\" (1 to 64 of A-Z a-z 0-9 _ . -, \
                 not starting with . or -; or none)"
            ));
        }
        Ok(Some(TripwireAlert {
            name: value.as_bytes().to_vec(),
            at,
        }))
    }

    /// `FILE:LINE: ` for configuration messages.
    pub fn origin(&self) -> String {
        match &self.at {
            Some((f, l)) => format!("{}:{l}: ", String::from_utf8_lossy(f)),
            None => String::new(),
        }
    }

    /// Whether the alerts config at `config` defines this alert: `Err` with
    /// the message a connection would log (checked at start, on each
    /// reload and by `--check`, as tcpdchk checks a table's alerts).
    pub fn check(&self, config: &Path) -> Result<(), String> {
        tcpwrap::alert::check_defined(&tcpwrap::alert::config::load(config), &self.name)
    }

    /// Fire it for a tripwire connection, unless an `alert` option of the
    /// tables already fired the same alert for this connection (`fired`):
    /// one connection, one result. The warnings of preparing it.
    pub fn fire(
        &self,
        alerts: &AlertMode,
        fired: &[Vec<u8>],
        req: &mut Request,
        env: Env<'_>,
    ) -> Vec<Diagnostic> {
        if fired.contains(&self.name) {
            return Vec::new();
        }
        let mut ctx = Ctx::new(env);
        ctx.position = self.at.clone();
        alerts.fire(&self.name, None, req, &mut ctx);
        ctx.diagnostics
    }
}

/// The dispatcher's delivery messages, sent to the event loop, which logs
/// them (ident `tcpwrapd`, event `alert`) to tcpwrapd's own targets
/// instead of the C library's syslog.
pub struct LoopReport {
    tx: Sender<Msg>,
    waker: Arc<UnixStream>,
}

impl Report for LoopReport {
    fn report(&mut self, level: Level, message: &str) {
        let m = Msg::AlertReport {
            priority: level as i32,
            message: message.as_bytes().to_vec(),
        };
        if self.tx.send(m).is_ok() {
            check::wake(&self.waker);
        }
    }
}

/// The daemon's dispatcher: the alerts config at `config` (read again for
/// every alert, so a changed file applies from the next alert on), rate
/// limits in memory, delivery messages to the event loop.
pub fn dispatcher(config: &Path, tx: Sender<Msg>, waker: Arc<UnixStream>) -> Dispatcher {
    Dispatcher::with(
        config,
        Arc::new(MemoryLimiter::new()),
        Arc::new(SystemClock),
        Box::new(LoopReport { tx, waker }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tcpwrap::alert::Job;
    use tcpwrap::alert::limit::Limiter;

    #[test]
    fn names() {
        assert_eq!(TripwireAlert::parse("none", None), Ok(None));
        let a = TripwireAlert::parse("tcp-wrappers", Some((Arc::from(&b"t.conf"[..]), 3)))
            .unwrap()
            .unwrap();
        assert_eq!(a.name, b"tcp-wrappers");
        assert_eq!(a.origin(), "t.conf:3: ");
        for bad in ["-x", ".x", "a b", "a;b", "é", &"x".repeat(65)] {
            assert!(TripwireAlert::parse(bad, None).is_err(), "{bad}");
        }
    }

    /// A dispatcher recording what it would send.
    fn recording(config: &Path) -> (Arc<Dispatcher>, Arc<Mutex<Vec<String>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let rec = sent.clone();
        let limiter: Arc<dyn Limiter> = Arc::new(MemoryLimiter::new());
        let d = Dispatcher::with_deliver(
            config,
            limiter,
            Arc::new(SystemClock),
            Box::new(NoReport),
            Box::new(
                move |_: &Job, checks: &[tcpwrap::alert::Check], _: &mut dyn Report| {
                    for c in checks {
                        rec.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&c.output).into_owned());
                    }
                },
            ),
        );
        (Arc::new(d), sent)
    }

    struct NoReport;
    impl Report for NoReport {
        fn report(&mut self, _: Level, _: &str) {}
    }

    #[test]
    fn fires_once_per_connection_and_warns_with_its_position() {
        let dir = std::env::temp_dir().join(format!("tcpwrapd-alert-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let conf = dir.join("alerts.conf");
        std::fs::write(
            &conf,
            "[sink m]\ntype = nsca\nserver = 127.0.0.1\n\n[alert tw]\nsink = m\nhost = h\n\
             service = s\ncode = 2\noutput = Tripwire %d from %a\nwindow = 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (d, sent) = recording(&conf);
        let mode = AlertMode::Dispatch(d.clone());
        let at = Some((Arc::from(&b"/etc/tcpwrapd.conf"[..]), 2));
        let tw = TripwireAlert::parse("tw", at.clone()).unwrap().unwrap();
        let mut req = Request::from_ctl(b"telnet", b"", b"192.0.2.7", b"");
        let w = tw.fire(&mode, &[], &mut req, tcpwrap::Env::offline());
        assert!(w.is_empty(), "{w:?}");
        // Already fired by the rule: nothing more.
        let w = tw.fire(&mode, &[b"tw".to_vec()], &mut req, tcpwrap::Env::offline());
        assert!(w.is_empty());
        // An undefined alert: a warning with the setting's position.
        let nope = TripwireAlert::parse("nope", at).unwrap().unwrap();
        let w = nope.fire(&mode, &[b"tw".to_vec()], &mut req, tcpwrap::Env::offline());
        let texts: Vec<String> = w.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            texts,
            [format!(
                "warning: /etc/tcpwrapd.conf, line 2: alert nope: not defined in {}",
                conf.display()
            )]
        );
        assert_eq!(
            nope.check(&conf),
            Err(format!("alert nope: not defined in {}", conf.display()))
        );
        assert_eq!(tw.check(&conf), Ok(()));
        d.shutdown();
        assert_eq!(*sent.lock().unwrap(), ["Tripwire telnet from 192.0.2.7"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
