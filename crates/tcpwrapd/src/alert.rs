//! The hook through which a tripwire raises an alert. The native alerts
//! (NSCA, Icinga 2) plug in here; until they are configured the hook does
//! nothing (the tripwire's log record is written either way).

use std::net::SocketAddr;

use tcpwrap_core::Verdict;

/// A connection to a tripwire service.
#[derive(Debug)]
pub struct TripwireEvent<'a> {
    /// `SERVICE/PROTOCOL` as in inetd.conf.
    pub service: &'a str,
    /// The daemon name the tables were checked with.
    pub daemon: &'a [u8],
    pub client: SocketAddr,
    pub server: Option<SocketAddr>,
    /// `%c` after the check (`user@host` when ident answered).
    pub client_info: &'a [u8],
    /// The check's verdict: the deciding rule and the options that ran
    /// (an `alert NAME` option of the tables is among them).
    pub verdict: &'a Verdict,
}

/// Raises alerts for tripwires. Called on the event loop: an
/// implementation must not block (queue the work, send it elsewhere).
pub trait AlertHook: Send {
    fn tripwire(&self, event: &TripwireEvent<'_>);
}

/// No alerts configured.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAlert;

impl AlertHook for NoAlert {
    fn tripwire(&self, _: &TripwireEvent<'_>) {}
}
