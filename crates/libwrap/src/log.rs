//! Logging through the C library's `syslog()`, so that the program's
//! `openlog()` settings apply, with Debian's `warning:`/`error:` and
//! `FILE, line N:` prefixes.

use std::collections::HashMap;
use std::ffi::{CString, c_char};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tcpwrap_core::{Ctx, Diagnostic, Kind};

use crate::abi::{self, TcpdContext};
use crate::lock;

/// A table context as text: file name and line.
pub type Position = Option<(Vec<u8>, i32)>;

/// The `tcpd_context` now, as text.
pub fn current() -> Position {
    let _g = lock::lock();
    from_c(abi::context())
}

/// A C context as text.
pub fn from_c(c: TcpdContext) -> Position {
    // SAFETY: a non-NULL context file is a C string (set by us or by the
    // program, as in Debian's library).
    unsafe { abi::cstr(c.file) }.map(|f| (f, c.line))
}

/// A C context for an engine position. File names are interned, so the
/// pointer stays valid for the life of the process.
pub fn to_c(pos: Option<(&[u8], u32)>) -> TcpdContext {
    static NAMES: lock::PerProcess<Mutex<HashMap<Vec<u8>, usize>>> =
        lock::PerProcess::new(|| Mutex::new(HashMap::new()));
    let Some((file, line)) = pos else {
        return TcpdContext {
            file: std::ptr::null_mut(),
            line: 0,
        };
    };
    let mut map = NAMES.get().lock().unwrap_or_else(|e| e.into_inner());
    let p = match map.get(file) {
        Some(&p) => p,
        None => {
            let c = CString::new(
                file.iter()
                    .copied()
                    .filter(|&b| b != 0)
                    .collect::<Vec<u8>>(),
            )
            .unwrap_or_default();
            let p = c.into_raw() as usize;
            map.insert(file.to_vec(), p);
            p
        }
    };
    TcpdContext {
        file: p as *mut c_char,
        line: line as i32,
    }
}

/// The engine position of a text context.
pub fn to_rule(pos: &Position) -> Option<tcpwrap_core::RuleRef> {
    pos.as_ref().map(|(f, l)| tcpwrap_core::RuleRef {
        file: Arc::from(f.as_slice()),
        line: (*l).max(0) as u32,
    })
}

/// `syslog(priority, "%s", message)`, with the library lock held so that
/// a `fork()` in another thread never copies the C library's syslog lock
/// in a taken state.
fn send(priority: i32, message: &[u8]) {
    let _g = lock::lock();
    tcpwrap::sys::syslog::log(priority, message);
}

fn prefixed(tag: &[u8], pos: &Position, message: &[u8]) -> Vec<u8> {
    let mut m = tag.to_vec();
    if let Some((f, l)) = pos {
        m.extend_from_slice(f);
        m.extend_from_slice(format!(", line {l}: ").as_bytes());
    }
    m.extend_from_slice(message);
    m
}

/// `tcpd_warn`: LOG_ERR, `warning: ` and the current context.
pub fn warn_now(message: &[u8]) {
    send(libc::LOG_ERR, &prefixed(b"warning: ", &current(), message));
}

/// `tcpd_jump`'s message: LOG_ERR, `error: ` and the current context.
pub fn error_now(message: &[u8]) {
    send(libc::LOG_ERR, &prefixed(b"error: ", &current(), message));
}

/// A plain record.
pub fn plain(priority: i32, message: &[u8]) {
    send(priority, message);
}

/// Send one diagnostic of the engine. One made outside any table (e.g.
/// `cannot open TABLE`) carries the context that was in effect before the
/// call, as Debian's library does.
pub fn emit(d: &Diagnostic, outside: &Position) {
    let text = if d.kind != Kind::Plain && d.position.is_none() && outside.is_some() {
        let tag: &[u8] = if d.kind == Kind::Warning {
            b"warning: "
        } else {
            b"error: "
        };
        prefixed(tag, outside, &d.message)
    } else {
        d.text()
    };
    send(d.priority(), &text);
}

/// The diagnostics of one running check, sent to syslog as they arise:
/// before anything the program or a command might log (so the order is
/// Debian's), and the rest at the end.
#[derive(Debug)]
pub struct Live {
    logged: AtomicUsize,
    /// The context in effect before the check.
    pub outside: Position,
}

impl Live {
    pub fn new(outside: Position) -> Live {
        Live {
            logged: AtomicUsize::new(0),
            outside,
        }
    }

    /// Send what the check logged so far.
    pub fn flush(&self, ctx: &Ctx<'_>) {
        self.rest(&ctx.diagnostics);
    }

    /// Send the diagnostics not yet sent.
    pub fn rest(&self, diags: &[Diagnostic]) {
        let from = self
            .logged
            .swap(diags.len(), Ordering::AcqRel)
            .min(diags.len());
        for d in &diags[from..] {
            emit(d, &self.outside);
        }
    }
}
