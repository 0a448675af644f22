//! The RFC 1413 client against a fake ident server on loopback: the query
//! it sends, the replies it accepts (reference §13.4), and its time-out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tcpwrap::ident::IdentClient;
use tcpwrap_core::Ident;

/// Serve one ident connection: read the query, send `reply(query)`.
fn server(
    reply: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static,
) -> (u16, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut q = Vec::new();
        let mut b = [0u8; 64];
        while !q.ends_with(b"\n") {
            match s.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => q.extend_from_slice(&b[..n]),
            }
        }
        let q = String::from_utf8_lossy(&q).into_owned();
        match reply(&q) {
            Some(r) => {
                let _ = s.write_all(&r);
            }
            None => std::thread::sleep(Duration::from_secs(3)),
        }
        q
    });
    (port, h)
}

/// A real connection, so that the ports in the query are real.
fn connection() -> (SocketAddr, SocketAddr, TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c.local_addr().unwrap(), s.local_addr().unwrap(), c, s)
}

fn ask(reply: &'static str) -> (Option<String>, String) {
    let (client, srv, _c, _s) = connection();
    let (port, h) = server(move |q| {
        let (cp, sp) = q.trim_end().split_once(',').unwrap();
        Some(reply.replace("{C}", cp).replace("{S}", sp).into_bytes())
    });
    let got = IdentClient { port }
        .query(client, srv, 5)
        .map(|u| String::from_utf8(u).unwrap());
    (got, h.join().unwrap())
}

#[test]
fn query_format_and_replies() {
    let (got, q) = ask("{C} , {S} : USERID : UNIX : alice\r\n");
    assert_eq!(got.as_deref(), Some("alice"));
    assert!(
        q.ends_with("\r\n") && q.trim_end().split(',').all(|p| p.parse::<u16>().is_ok()),
        "{q:?}"
    );
    for (reply, want) in [
        ("{C},{S}:USERID:UNIX:alice\r\n", Some("alice")),
        ("{C} , {S} : USERID : : alice\r\n", Some("alice")),
        ("{C} , {S} : USERID ::alice\r\n", None),
        ("{S} , {C} : USERID : UNIX : alice\r\n", None),
        ("{C} , {S} : ERROR : NO-USER\r\n", None),
        ("{C} , {S} : userid : UNIX : alice\r\n", None),
        (
            "{C} , {S} : USERID : UNIX,US-ASCII : al;ice$\r\n",
            Some("al;ice$"),
        ),
        ("{C} , {S} : USERID : UNIX : alice", None),
    ] {
        assert_eq!(ask(reply).0.as_deref(), want, "{reply:?}");
    }
}

#[test]
fn silent_server_times_out() {
    let (client, srv, _c, _s) = connection();
    let (port, _h) = server(|_| None);
    let t = Instant::now();
    let got = IdentClient { port }.query(client, srv, 1);
    let took = t.elapsed();
    assert_eq!(got, None);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
}

#[test]
fn refused_is_unknown_at_once() {
    let (client, srv, _c, _s) = connection();
    // A port nothing listens on.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Instant::now();
    assert_eq!(IdentClient { port: free }.query(client, srv, 10), None);
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn endless_reply_is_bounded() {
    let (client, srv, _c, _s) = connection();
    let (port, _h) = server(|_| Some(vec![b'x'; 1 << 20]));
    let t = Instant::now();
    assert_eq!(IdentClient { port }.query(client, srv, 5), None);
    assert!(t.elapsed() < Duration::from_secs(4));
}
