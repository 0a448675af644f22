//! The NSCA sink: results through `tcpwrap_nsca`'s client, one
//! connection per submission, every step within the sink's time-out.

use std::time::{Duration, Instant};

use tcpwrap_nsca::client::{ClientError, Session, Target};
use tcpwrap_nsca::packet::CheckResult;

use super::Check;
use super::config::NscaSink;
use super::template::{nsca_name, nsca_output};

/// The packet fields for `c`: host and service made safe for the
/// external command the daemon writes, output cut to 4095 bytes.
pub fn packet_result(c: &Check) -> CheckResult {
    CheckResult {
        host: nsca_name(&c.host),
        service: c
            .service
            .as_deref()
            .map(nsca_name)
            .filter(|s| !s.is_empty()),
        code: c.code,
        output: nsca_output(&c.output),
    }
}

/// The reason for a failure, naming the server like `send_nsca` does.
pub fn describe(e: &ClientError, sink: &NscaSink, timeout: Duration) -> String {
    let at = format!("host {} port {}", sink.server, sink.port);
    match e {
        ClientError::Refused => format!("Connection refused by {at}"),
        ClientError::Lookup(_) => e.to_string(),
        ClientError::ConnectTimeout => format!("Timeout while attempting connection to {at}"),
        ClientError::Timeout => format!("Timeout after {} seconds ({at})", timeout.as_secs()),
        _ => format!("{e} ({at})"),
    }
}

/// Send `checks` on one connection. NSCA never answers: success means the
/// packets were written.
pub fn submit(sink: &NscaSink, timeout: Duration, checks: &[Check]) -> Result<(), String> {
    let target = Target {
        host: sink.server.clone(),
        port: sink.port,
        method: sink.method,
        password: sink.password.clone(),
        legacy: sink.legacy,
    };
    let deadline = Instant::now() + timeout;
    let mut s = Session::open(&target, deadline).map_err(|e| describe(&e, sink, timeout))?;
    for c in checks {
        s.send(&packet_result(c))
            .map_err(|e| describe(&e, sink, timeout))?;
    }
    s.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcpwrap_nsca::Method;

    fn sink(port: u16) -> NscaSink {
        NscaSink {
            server: "127.0.0.1".into(),
            port,
            password: b"secret".to_vec(),
            method: Method::Xor,
            legacy: false,
        }
    }

    #[test]
    fn fields_are_made_safe() {
        let c = Check {
            host: b"fire;storm\n".to_vec(),
            service: Some(b"TCP\rWrappers;x".to_vec()),
            code: 2,
            output: vec![b'o'; 5000],
        };
        let r = packet_result(&c);
        assert_eq!(r.host, b"fire_storm");
        assert_eq!(r.service.as_deref(), Some(&b"TCP_Wrappers_x"[..]));
        assert_eq!(r.output.len(), 4095);
        assert!(
            packet_result(&Check {
                service: None,
                ..c.clone()
            })
            .service
            .is_none()
        );
    }

    #[test]
    fn refused_names_the_server() {
        // A port nobody listens on: bind, learn the port, close.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let c = Check {
            host: b"h".to_vec(),
            service: None,
            code: 0,
            output: b"o".to_vec(),
        };
        assert_eq!(
            submit(&sink(port), Duration::from_secs(2), &[c]).unwrap_err(),
            format!("Connection refused by host 127.0.0.1 port {port}")
        );
    }

    #[test]
    fn silent_server_times_out() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = Check {
            host: b"h".to_vec(),
            service: None,
            code: 0,
            output: b"o".to_vec(),
        };
        let t = Instant::now();
        let e = submit(&sink(port), Duration::from_secs(1), &[c]).unwrap_err();
        assert_eq!(
            e,
            format!("Timeout after 1 seconds (host 127.0.0.1 port {port})")
        );
        assert!(t.elapsed() < Duration::from_secs(3));
        drop(l);
    }
}
