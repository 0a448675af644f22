//! Diagnostics of the tools: to syslog (facility user, as Debian's tools
//! log) and, an improvement over Debian's hardened build that loses them to
//! syslog, to standard error.

use std::io::Write;

use tcpwrap_core::{Diagnostic, Level};

/// Collects and emits the tools' own warnings and the engine's diagnostics.
#[derive(Debug, Default)]
pub struct Reporter {
    /// `FILE, line N:` context for the tools' own warnings.
    pub context: Option<(Vec<u8>, u32)>,
    /// Also write to standard error.
    pub stderr: bool,
}

impl Reporter {
    pub fn new() -> Reporter {
        Reporter {
            context: None,
            stderr: true,
        }
    }

    fn emit(&self, level: i32, text: &[u8]) {
        tcpwrap::sys::syslog::log(level, text);
        if self.stderr {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(text);
            let _ = e.write_all(b"\n");
        }
    }

    /// `tcpd_warn` with the current context.
    pub fn warn(&mut self, msg: Vec<u8>) {
        let mut t = b"warning: ".to_vec();
        if let Some((f, l)) = &self.context {
            t.extend_from_slice(f);
            t.extend_from_slice(format!(", line {l}: ").as_bytes());
        }
        t.extend_from_slice(&msg);
        self.emit(Level::Err as i32, &t);
    }

    /// Emit the engine's diagnostics in order.
    pub fn diagnostics(&mut self, d: &[Diagnostic]) {
        for x in d {
            self.emit(x.priority(), &x.text());
        }
    }
}
