//! Per-evaluation context: the services, the diagnostics and look-ups
//! collected so far, and the table position used to prefix messages.

use std::sync::Arc;

use crate::diag::{Diagnostic, Kind, Level, Position};
use crate::env::Env;

/// What a look-up asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupKind {
    /// Reverse and forward DNS for the client.
    ClientName,
    /// Reverse and forward DNS for the server.
    ServerName,
    /// RFC 1413 ident query.
    User,
    /// `innetgr` query.
    Netgroup,
    /// A `/file` pattern list was opened.
    PatternFile,
}

/// One external look-up made during a check, with its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub kind: LookupKind,
    /// The subject (netgroup and file look-ups) or empty.
    pub subject: Vec<u8>,
    pub result: Vec<u8>,
}

/// Evaluation context.
pub struct Ctx<'e> {
    pub env: Env<'e>,
    pub diagnostics: Vec<Diagnostic>,
    pub lookups: Vec<Lookup>,
    /// Current table position (file, line) for `warning:`/`error:` prefixes.
    pub position: Option<(Arc<[u8]>, u32)>,
    /// Column of the construct being processed, when known.
    pub column: Option<u32>,
    /// RFC 931 time-out in seconds.
    pub rfc931_timeout: u32,
    /// Current deny severity (for the `twist` log line).
    pub deny_severity: i32,
}

impl<'e> Ctx<'e> {
    pub fn new(env: Env<'e>) -> Ctx<'e> {
        Ctx {
            env,
            diagnostics: Vec::new(),
            lookups: Vec::new(),
            position: None,
            column: None,
            rfc931_timeout: 10,
            deny_severity: Level::Warning as i32,
        }
    }

    fn pos(&self) -> Option<Position> {
        self.position.as_ref().map(|(f, l)| Position {
            file: f.clone(),
            line: *l,
            column: self.column,
        })
    }

    /// `tcpd_warn`: LOG_ERR, `warning:` prefix.
    pub fn warn(&mut self, message: Vec<u8>) {
        let position = self.pos();
        self.diagnostics.push(Diagnostic {
            level: Level::Err,
            facility: 0,
            kind: Kind::Warning,
            position,
            message,
        });
    }

    /// `tcpd_jump`'s message: LOG_ERR, `error:` prefix.
    pub fn error(&mut self, message: Vec<u8>) {
        let position = self.pos();
        self.diagnostics.push(Diagnostic {
            level: Level::Err,
            facility: 0,
            kind: Kind::Error,
            position,
            message,
        });
    }

    /// A plain syslog line at `level`.
    pub fn log(&mut self, level: Level, message: Vec<u8>) {
        let position = self.pos();
        self.diagnostics.push(Diagnostic {
            level,
            facility: 0,
            kind: Kind::Plain,
            position,
            message,
        });
    }

    /// A plain syslog line at a full priority (facility | level), as the
    /// `twist` line at `deny_severity`.
    pub fn log_priority(&mut self, priority: i32, message: Vec<u8>) {
        let position = self.pos();
        let level = Level::from_bits(priority & 7);
        self.diagnostics.push(Diagnostic {
            level,
            facility: priority & !7,
            kind: Kind::Plain,
            position,
            message,
        });
    }

    pub(crate) fn record(&mut self, kind: LookupKind, result: &[u8]) {
        self.lookups.push(Lookup {
            kind,
            subject: Vec::new(),
            result: result.to_vec(),
        });
    }

    pub(crate) fn record_subject(&mut self, kind: LookupKind, subject: &[u8], result: &[u8]) {
        self.lookups.push(Lookup {
            kind,
            subject: subject.to_vec(),
            result: result.to_vec(),
        });
    }
}
