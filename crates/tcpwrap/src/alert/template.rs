//! Filling in an alert's templates with the engine's own `%` expansion,
//! and making the results safe for each sink.

use tcpwrap_core::expand::{OPTION_LIMIT, expand};
use tcpwrap_core::{Ctx, Request};

use super::Check;
use super::config::AlertDef;

/// Longest NSCA plugin output (the 4096-byte field less its NUL).
pub const NSCA_OUTPUT_MAX: usize = 4095;

fn expand_one(
    what: &str,
    template: &[u8],
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<u8>, String> {
    expand(template, OPTION_LIMIT, req, ctx).map_err(|_| format!("{what}: expansion too long"))
}

/// The check result of `def` for `req`: host, service and output expanded
/// like a `spawn` command (every expansion is made shell-safe by the
/// engine), the output replaced by `output` when the rule gave one (that
/// text was already expanded with the option value).
pub fn render(
    def: &AlertDef,
    output: Option<&[u8]>,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<Check, String> {
    let host = expand_one("host", &def.host, req, ctx)?;
    if host.iter().all(u8::is_ascii_whitespace) {
        return Err("host is empty after expansion".to_string());
    }
    let service = match &def.service {
        Some(s) => Some(expand_one("service", s, req, ctx)?).filter(|s| !s.is_empty()),
        None => None,
    };
    let output = match output {
        Some(o) => o.to_vec(),
        None => expand_one("output", &def.output, req, ctx)?,
    };
    Ok(Check {
        host,
        service,
        code: def.code,
        output,
    })
}

/// A host name or service description for NSCA, made safe for the
/// external command line exactly as `send_nsca` does it (cut at LF; `;`
/// and control bytes become `_`), so that a value can neither end the
/// command nor shift its fields.
pub use tcpwrap_nsca::sanitize_name as nsca_name;

/// Plugin output for NSCA: NUL bytes (which would end the C string) become
/// `_`; the text is cut to 4095 bytes, at a character boundary when it is
/// UTF-8. Newlines stay: the daemon escapes them.
pub fn nsca_output(v: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = v.iter().map(|&b| if b == 0 { b'_' } else { b }).collect();
    truncate(&mut out, NSCA_OUTPUT_MAX);
    out
}

/// Cut `v` to at most `max` bytes; when `v` is valid UTF-8, never inside a
/// character.
pub fn truncate(v: &mut Vec<u8>, max: usize) {
    if v.len() <= max {
        return;
    }
    let mut end = max;
    if std::str::from_utf8(v).is_ok() {
        while end > 0 && (v[end] & 0xC0) == 0x80 {
            end -= 1;
        }
    }
    v.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcpwrap_core::{Env, Side};

    fn def(host: &str, service: Option<&str>, output: &str) -> AlertDef {
        AlertDef {
            name: "tw".into(),
            line: 1,
            sinks: vec!["m".into()],
            host: host.as_bytes().to_vec(),
            service: service.map(|s| s.as_bytes().to_vec()),
            code: 2,
            output: output.as_bytes().to_vec(),
            window: 60,
        }
    }

    fn run(
        d: &AlertDef,
        output: Option<&[u8]>,
        req: &mut Request,
    ) -> (Result<Check, String>, Vec<String>) {
        let mut ctx = Ctx::new(Env::offline());
        let r = render(d, output, req, &mut ctx);
        (r, ctx.diagnostics.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn seed_scenario() {
        let mut req = Request::from_ctl(b"sshd2", b"", b"206.182.68.5", b"");
        let d = def("firestorm", Some("TCP Wrappers"), "Denied %d-%h");
        let (r, diags) = run(&d, None, &mut req);
        let c = r.unwrap();
        assert_eq!(c.host, b"firestorm");
        assert_eq!(c.service.as_deref(), Some(&b"TCP Wrappers"[..]));
        assert_eq!(c.code, 2);
        assert_eq!(c.output, b"Denied sshd2-206.182.68.5");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn expansions_everywhere() {
        let mut req = Request::from_ctl(b"in.ftpd", b"evil;host", b"10.1.2.3", b"");
        let d = def("%a", Some("tw-%d"), "from %c (%u) to %s pid %p %%");
        let (r, _) = run(&d, None, &mut req);
        let c = r.unwrap();
        assert_eq!(c.host, b"10.1.2.3");
        assert_eq!(c.service.as_deref(), Some(&b"tw-in.ftpd"[..]));
        let out = String::from_utf8(c.output).unwrap();
        assert!(
            out.starts_with("from evil_host (unknown) to in.ftpd pid "),
            "{out}"
        );
        assert!(out.ends_with(" %"), "{out}");
        // The engine's expansion sanitised the name: no `;` got through.
        assert_eq!(
            req.name(Side::Client, &mut Ctx::new(Env::offline())),
            b"evil_host"
        );
    }

    #[test]
    fn override_and_host_results() {
        let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
        let d = def("%h", Some(""), "ignored %d");
        let (r, _) = run(&d, Some(b"Denied ssh from 10.0.0.1"), &mut req);
        let c = r.unwrap();
        assert_eq!(c.service, None, "an empty service is a host result");
        assert_eq!(c.output, b"Denied ssh from 10.0.0.1");
        let d = def("%h", None, "x");
        assert_eq!(run(&d, None, &mut req).0.unwrap().service, None);
        // A service template that expands to nothing: a host result too.
        let d = def("h", Some("%x"), "x");
        let (r, diags) = run(&d, None, &mut req);
        assert_eq!(r.unwrap().service, None);
        assert_eq!(diags, ["warning: unrecognized %x"]);
    }

    #[test]
    fn errors() {
        let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
        let (r, _) = run(&def("%x", None, "o"), None, &mut req);
        assert_eq!(r.unwrap_err(), "host is empty after expansion");
        let big = "x".repeat(9000);
        let (r, diags) = run(&def("h", None, &big), None, &mut req);
        assert_eq!(r.unwrap_err(), "output: expansion too long");
        assert!(diags[0].starts_with("warning: percent_x: expansion too long: xxx"));
        let (r, _) = run(&def(&big, None, "o"), None, &mut req);
        assert_eq!(r.unwrap_err(), "host: expansion too long");
    }

    #[test]
    fn nsca_sanitising() {
        assert_eq!(
            nsca_name(b"fire;storm\rY\tZ\x7f\x01\nINJECTED"),
            b"fire_storm_Y_Z__"
        );
        assert_eq!(nsca_name(b"TCP Wrappers"), b"TCP Wrappers");
        assert_eq!(nsca_name("hôte".as_bytes()), "hôte".as_bytes());
        assert_eq!(nsca_output(b"a\nb;c\0d"), b"a\nb;c_d");
        let long = vec![b'x'; 5000];
        assert_eq!(nsca_output(&long).len(), 4095);
        // UTF-8 is cut before a character, not inside it.
        let mut s = "x".repeat(4094).into_bytes();
        s.extend_from_slice("é".as_bytes());
        assert_eq!(nsca_output(&s).len(), 4094);
        // Bytes that are not UTF-8 are cut exactly.
        let mut b = vec![b'x'; 4094];
        b.extend_from_slice(&[0xff, 0xc3, 0xa9]);
        assert_eq!(nsca_output(&b).len(), 4095);
        let mut v = b"abc".to_vec();
        truncate(&mut v, 5);
        assert_eq!(v, b"abc");
    }
}
