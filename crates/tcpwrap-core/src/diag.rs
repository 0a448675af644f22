//! Diagnostics as values. Each renders to the exact text Debian's library
//! sends to syslog, and carries its position for tools.

use std::fmt;
use std::sync::Arc;

/// syslog levels used by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

impl Level {
    /// The level of the low three bits of a priority.
    pub fn from_bits(b: i32) -> Level {
        match b & 7 {
            0 => Level::Emerg,
            1 => Level::Alert,
            2 => Level::Crit,
            3 => Level::Err,
            4 => Level::Warning,
            5 => Level::Notice,
            6 => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// How the message is prefixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `warning: [FILE, line N: ]…` (tcpd_warn)
    Warning,
    /// `error: [FILE, line N: ]…` (tcpd_jump: the request is denied)
    Error,
    /// Logged as is (`matched:`, `option:`, `aclexec returned 1`, …)
    Plain,
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: Arc<[u8]>,
    pub line: u32,
    /// 1-based column in the logical line, where known.
    pub column: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// syslog facility bits (0: the process's default facility).
    pub facility: i32,
    pub kind: Kind,
    /// Table context (`FILE, line N:` prefix); `None` outside table processing.
    pub position: Option<Position>,
    pub message: Vec<u8>,
}

impl Diagnostic {
    /// The syslog priority (facility | level).
    pub fn priority(&self) -> i32 {
        self.facility | self.level as i32
    }

    /// The syslog text, byte for byte as Debian's library writes it.
    pub fn text(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.message.len() + 40);
        match self.kind {
            Kind::Warning => out.extend_from_slice(b"warning: "),
            Kind::Error => out.extend_from_slice(b"error: "),
            Kind::Plain => {}
        }
        if self.kind != Kind::Plain {
            if let Some(p) = &self.position {
                out.extend_from_slice(&p.file);
                out.extend_from_slice(format!(", line {}: ", p.line).as_bytes());
            }
        }
        out.extend_from_slice(&self.message);
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.text()))
    }
}
