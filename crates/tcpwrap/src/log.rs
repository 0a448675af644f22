//! Sending diagnostics to syslog.

use tcpwrap_core::Diagnostic;

use crate::sys::syslog;

/// syslog every diagnostic, in order, at its level (with the facility of
/// the process's `openlog`).
pub fn to_syslog(diags: &[Diagnostic]) {
    for d in diags {
        syslog::log(d.priority(), &d.text());
    }
}
