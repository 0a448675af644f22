//! Host and service names made safe for a Nagios/Icinga external command
//! line.
//!
//! The `nsca` daemon writes `[ts] PROCESS_SERVICE_CHECK_RESULT;host;service;
//! code;output` to the command file. It cuts host and service at the first
//! LF and escapes `\` and LF in the output, but leaves `;` alone, so a host
//! `a;b` shifts every later field (§4.1 of the reference). Our clients
//! (send_nsca and the alert sinks) therefore clean the names before they go
//! on the wire; the output is left as it is (the daemon escapes it, and a
//! `;` in the last field is harmless).

/// The byte that replaces unsafe bytes in a name.
pub const REPLACEMENT: u8 = b'_';

/// Whether `b` may not appear in a host or service name: the field
/// separator `;`, a C0 control byte (NUL, TAB, CR, ...) or DEL.
pub fn is_unsafe_name_byte(b: u8) -> bool {
    b == b';' || b < 0x20 || b == 0x7f
}

/// A host or service name as our clients send it: cut at the first LF
/// (what the daemon does anyway), then every `;`, C0 control byte and DEL
/// replaced by `_`. Other bytes, UTF-8 included, are kept; the length only
/// shrinks at an LF.
pub fn sanitize_name(name: &[u8]) -> Vec<u8> {
    let cut = match name.iter().position(|&b| b == b'\n') {
        Some(n) => &name[..n],
        None => name,
    };
    cut.iter()
        .map(|&b| {
            if is_unsafe_name_byte(b) {
                REPLACEMENT
            } else {
                b
            }
        })
        .collect()
}

/// Whether [`sanitize_name`] would leave `name` unchanged.
pub fn is_safe_name(name: &[u8]) -> bool {
    !name.iter().any(|&b| b == b'\n' || is_unsafe_name_byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_unchanged() {
        for n in [
            &b"web01"[..],
            b"TCP Wrappers",
            b"host.example.org",
            b"caf\xc3\xa9",
            b"\xff",
            b"",
        ] {
            assert_eq!(sanitize_name(n), n);
            assert!(is_safe_name(n));
        }
    }

    #[test]
    fn field_separator_and_controls_replaced() {
        assert_eq!(sanitize_name(b"semi;host"), b"semi_host");
        assert_eq!(sanitize_name(b";;"), b"__");
        assert_eq!(sanitize_name(b"a\tb\rc\x00d\x1fe\x7f"), b"a_b_c_d_e_");
        assert!(!is_safe_name(b"a;b"));
        assert!(!is_safe_name(b"a\rb"));
    }

    /// Cut at LF like the daemon: no second command line can be formed.
    #[test]
    fn cut_at_newline() {
        assert_eq!(
            sanitize_name(b"host\n[1] PROCESS_HOST_CHECK_RESULT;evil;0;x"),
            b"host"
        );
        assert_eq!(sanitize_name(b"\nx"), b"");
        assert_eq!(sanitize_name(b"a;b\nc;d"), b"a_b");
        assert!(!is_safe_name(b"a\nb"));
    }

    #[test]
    fn result_never_holds_unsafe_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        let s = sanitize_name(&all[11..]); // from 0x0b, past the LF
        assert_eq!(s.len(), all.len() - 11);
        assert!(is_safe_name(&s));
    }
}
