//! The Icinga 2 sink: `POST /v1/actions/process-check-result` over HTTPS
//! (rustls, server verified against the sink's CA file), HTTP basic
//! authentication.

use std::time::Duration;

use super::Check;
use super::config::IcingaSink;

/// The API path, after the sink's URL.
pub const PATH: &str = "/v1/actions/process-check-result";

/// `s` (lossily decoded as UTF-8) in double quotes, with `"`, `\` and
/// the usual control characters escaped as in C; other control characters
/// are written by `other`. JSON and the Icinga 2 filter language differ
/// only there.
fn quote(s: &[u8], other: impl Fn(u32) -> String) -> String {
    let text = String::from_utf8_lossy(s);
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&other(c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` (lossily decoded as UTF-8) as a JSON string literal, quotes
/// included.
pub fn json_string(s: &[u8]) -> String {
    quote(s, |c| format!("\\u{c:04x}"))
}

/// `s` as a string literal of the Icinga 2 filter language (quotes
/// included): backslash and double quote escaped, control characters as
/// escapes, so that no value can end the literal.
pub fn filter_string(s: &[u8]) -> String {
    quote(s, |c| format!("\\{c:03o}"))
}

/// The object filter: `host.name=="H" && service.name=="S"`, or
/// `host.name=="H"` for a host result.
pub fn filter(c: &Check) -> String {
    match &c.service {
        Some(s) => format!(
            "host.name=={} && service.name=={}",
            filter_string(&c.host),
            filter_string(s)
        ),
        None => format!("host.name=={}", filter_string(&c.host)),
    }
}

/// The request body for `c`, sent from `check_source` (this host's name).
pub fn body(c: &Check, check_source: &[u8]) -> String {
    format!(
        "{{\"type\":{},\"filter\":{},\"exit_status\":{},\"plugin_output\":{},\"check_source\":{}}}",
        if c.service.is_some() {
            "\"Service\""
        } else {
            "\"Host\""
        },
        json_string(filter(c).as_bytes()),
        c.code,
        json_string(&c.output),
        json_string(check_source)
    )
}

/// RFC 4648 base64 (for the `Authorization` header).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= ch.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Basic BASE64(user:password)`.
pub fn basic_auth(user: &[u8], password: &[u8]) -> String {
    let mut up = user.to_vec();
    up.push(b':');
    up.extend_from_slice(password);
    format!("Basic {}", base64(&up))
}

/// Judge the API's answer to a request with `filter`: HTTP 200 and
/// `results[0].code` 200 is success; anything else is an error with the
/// status text the API gave. (Icinga 2.13 answers a filter that matches no
/// object with HTTP 500 and an empty `results` list.)
pub fn check_response(status: u16, body: &[u8], filter: &str) -> Result<(), String> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let results = json
        .as_ref()
        .and_then(|j| j.get("results"))
        .and_then(|r| r.as_array());
    if results.is_some_and(|r| r.is_empty()) {
        return Err(format!(
            "HTTP {status}: no object matches the filter {filter}"
        ));
    }
    let first = json
        .as_ref()
        .and_then(|j| j.get("results"))
        .and_then(|r| r.get(0));
    let code = first.and_then(|r| r.get("code")).and_then(|c| c.as_f64());
    let text = first
        .and_then(|r| r.get("status"))
        .or_else(|| json.as_ref().and_then(|j| j.get("status")))
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(&body[..body.len().min(200)]);
            let raw = raw.trim();
            if raw.is_empty() {
                "no answer text".to_string()
            } else {
                raw.to_string()
            }
        });
    if status == 200 && code == Some(200.0) {
        return Ok(());
    }
    match code {
        Some(c) if status == 200 => Err(format!("HTTP 200, result code {c}: {text}")),
        _ => Err(format!("HTTP {status}: {text}")),
    }
}

/// This host's name (for `check_source`).
pub fn local_host_name() -> Vec<u8> {
    crate::sys::hostname().unwrap_or_else(|| b"localhost".to_vec())
}

/// Submit `c` within `timeout`.
pub fn submit(sink: &IcingaSink, timeout: Duration, c: &Check) -> Result<(), String> {
    use std::sync::Arc;
    use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};

    let certs: Vec<_> = ureq::tls::parse_pem(&sink.ca_pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!(
            "ca_file {}: no usable certificate",
            sink.ca_file.display()
        ));
    }
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(certs)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent("tcpwrap-alert")
        .build()
        .new_agent();
    let url = format!("{}{PATH}", sink.url);
    let body = body(c, &local_host_name());
    let mut resp = agent
        .post(&url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("Authorization", basic_auth(&sink.user, &sink.password))
        .send(body.as_bytes())
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = resp.status().as_u16();
    let answer = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .map_err(|e| format!("POST {url}: HTTP {status}, reading the answer: {e}"))?;
    check_response(status, &answer, &filter(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host: &[u8], service: Option<&[u8]>, output: &[u8]) -> Check {
        Check {
            host: host.to_vec(),
            service: service.map(<[u8]>::to_vec),
            code: 2,
            output: output.to_vec(),
        }
    }

    #[test]
    fn service_body() {
        let c = check(
            b"firestorm",
            Some(b"TCP Wrappers"),
            b"Denied sshd2-206.182.68.5",
        );
        assert_eq!(
            body(&c, b"firestorm"),
            r#"{"type":"Service","filter":"host.name==\"firestorm\" && service.name==\"TCP Wrappers\"","exit_status":2,"plugin_output":"Denied sshd2-206.182.68.5","check_source":"firestorm"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body(&c, b"x")).unwrap();
        assert_eq!(
            parsed["filter"],
            "host.name==\"firestorm\" && service.name==\"TCP Wrappers\""
        );
    }

    #[test]
    fn host_body() {
        let c = check(b"web01", None, b"down");
        assert_eq!(
            body(&c, b"me"),
            r#"{"type":"Host","filter":"host.name==\"web01\"","exit_status":2,"plugin_output":"down","check_source":"me"}"#
        );
    }

    #[test]
    fn escaping_of_any_bytes() {
        // Quotes, backslashes and controls cannot end either literal.
        let c = check(
            b"a\" || true || \"b\\",
            Some(b"s\nx\x01"),
            b"line1\nq\"\\\t\x7f\xff\xfeend",
        );
        let b = body(&c, b"h\"");
        let v: serde_json::Value = serde_json::from_str(&b).expect("valid JSON");
        assert_eq!(
            v["filter"],
            "host.name==\"a\\\" || true || \\\"b\\\\\" && service.name==\"s\\nx\\001\""
        );
        assert_eq!(
            v["plugin_output"],
            "line1\nq\"\\\t\u{7f}\u{fffd}\u{fffd}end"
        );
        assert_eq!(v["check_source"], "h\"");
        assert_eq!(v["exit_status"], 2);
        assert!(b.is_ascii() || b.contains('\u{fffd}'));
        assert_eq!(json_string(b"\x00\x1f"), "\"\\u0000\\u001f\"");
        assert_eq!(json_string("é€".as_bytes()), "\"é€\"");
        assert_eq!(filter_string(b"\x7f"), "\"\\177\"");
    }

    #[test]
    fn auth_header() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
        assert_eq!(
            basic_auth(b"tcpwrap", b"icinga-test-pw"),
            "Basic dGNwd3JhcDppY2luZ2EtdGVzdC1wdw=="
        );
    }

    #[test]
    fn answers() {
        let check_response = |status, body: &[u8]| super::check_response(status, body, "F");
        assert_eq!(
            check_response(200, br#"{"results":[{"code":200,"status":"Successfully processed check result for object 'web01!tcp-wrappers'."}]}"#),
            Ok(())
        );
        assert_eq!(
            check_response(200, br#"{"results":[{"code":200.0,"status":"ok"}]}"#),
            Ok(())
        );
        assert_eq!(
            check_response(
                401,
                br#"{"error":401,"status":"Unauthorized. Please check your user credentials."}"#
            ),
            Err("HTTP 401: Unauthorized. Please check your user credentials.".to_string())
        );
        assert_eq!(
            check_response(404, br#"{"error":404,"status":"No objects found."}"#),
            Err("HTTP 404: No objects found.".to_string())
        );
        assert_eq!(
            check_response(
                400,
                br#"{"results":[{"code":400,"status":"Parameter 'exit_status' is required."}]}"#
            ),
            Err("HTTP 400: Parameter 'exit_status' is required.".to_string())
        );
        assert_eq!(
            check_response(
                200,
                br#"{"results":[{"code":500,"status":"Attribute failed"}]}"#
            ),
            Err("HTTP 200, result code 500: Attribute failed".to_string())
        );
        assert_eq!(
            check_response(
                400,
                b"<h1>Accept header is missing or not set to 'application/json'.</h1>"
            ),
            Err(
                "HTTP 400: <h1>Accept header is missing or not set to 'application/json'.</h1>"
                    .to_string()
            )
        );
        assert_eq!(check_response(200, b"{}"), Err("HTTP 200: {}".to_string()));
        assert_eq!(
            check_response(502, b""),
            Err("HTTP 502: no answer text".to_string())
        );
        // What Icinga 2.13.6 answers when the filter matches nothing.
        assert_eq!(
            super::check_response(
                500,
                br#"{"results":[]}"#,
                r#"host.name=="h" && service.name=="s""#
            ),
            Err(
                r#"HTTP 500: no object matches the filter host.name=="h" && service.name=="s""#
                    .to_string()
            )
        );
    }
}
