//! Diagnostics of the tools: to syslog (facility user, as Debian's tools
//! log) and, an improvement over Debian's hardened build that loses them to
//! syslog, to standard error. With `record` on they are also kept, for the
//! `--json` reports.

use std::io::Write;

use tcpwrap_core::{Diagnostic, Kind, Level, Position};

/// Collects and emits the tools' own warnings and the engine's diagnostics.
#[derive(Debug, Default)]
pub struct Reporter {
    /// `FILE, line N:` context for the tools' own warnings.
    pub context: Option<(Vec<u8>, u32)>,
    /// Also write to standard error.
    pub stderr: bool,
    /// Keep every diagnostic in `records`.
    pub record: bool,
    pub records: Vec<Diagnostic>,
}

impl Reporter {
    pub fn new() -> Reporter {
        Reporter {
            stderr: true,
            ..Reporter::default()
        }
    }

    fn emit(&mut self, d: &Diagnostic) {
        let text = d.text();
        tcpwrap::sys::syslog::log(d.priority(), &text);
        if self.stderr {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(&text);
            let _ = e.write_all(b"\n");
        }
        if self.record {
            self.records.push(d.clone());
        }
    }

    /// `tcpd_warn` with the current context.
    pub fn warn(&mut self, message: Vec<u8>) {
        let position = self.context.as_ref().map(|(f, l)| Position {
            file: f.as_slice().into(),
            line: *l,
            column: None,
        });
        self.emit(&Diagnostic {
            level: Level::Err,
            facility: 0,
            kind: Kind::Warning,
            position,
            message,
        });
    }

    /// Emit the engine's diagnostics in order.
    pub fn diagnostics(&mut self, d: &[Diagnostic]) {
        for x in d {
            self.emit(x);
        }
    }
}

/// A diagnostic as a JSON object: level, kind, file, line, message and the
/// exact syslog text.
pub fn to_json(d: &Diagnostic) -> crate::json::Value {
    use crate::json::Value;
    let level = match d.level {
        Level::Emerg => "emerg",
        Level::Alert => "alert",
        Level::Crit => "crit",
        Level::Err => "err",
        Level::Warning => "warning",
        Level::Notice => "notice",
        Level::Info => "info",
        Level::Debug => "debug",
    };
    let kind = match d.kind {
        Kind::Warning => "warning",
        Kind::Error => "error",
        Kind::Plain => "log",
    };
    Value::Object(vec![
        ("level", Value::str(level)),
        ("kind", Value::str(kind)),
        (
            "file",
            Value::opt_str(d.position.as_ref().map(|p| p.file.to_vec())),
        ),
        (
            "line",
            d.position
                .as_ref()
                .map_or(Value::Null, |p| Value::Int(p.line.into())),
        ),
        ("message", Value::str(&d.message)),
        ("text", Value::str(d.text())),
    ])
}
