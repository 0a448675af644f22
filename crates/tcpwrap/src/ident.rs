//! RFC 1413 client (§8): bound to the server's address, one query, one
//! reply line, everything within the time-out.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tcpwrap_core::Ident;

/// Longest reply line read (the original reads with a 512-byte buffer).
const LINE_MAX: usize = 511;

/// The ident client.
#[derive(Debug, Clone, Copy)]
pub struct IdentClient {
    /// Port of the ident service (113; tests use others).
    pub port: u16,
}

impl Default for IdentClient {
    fn default() -> Self {
        IdentClient { port: 113 }
    }
}

impl IdentClient {
    fn ask(&self, client: SocketAddr, server: SocketAddr, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
        };
        let sock = Socket::new(
            Domain::for_address(server),
            Type::STREAM,
            Some(Protocol::TCP),
        )
        .ok()?;
        let mut local = server;
        local.set_port(0);
        sock.bind(&SockAddr::from(local)).ok()?;
        let mut remote = client;
        remote.set_port(self.port);
        sock.connect_timeout(&SockAddr::from(remote), left()?)
            .ok()?;
        let mut stream: TcpStream = sock.into();
        stream.set_write_timeout(Some(left()?)).ok()?;
        stream
            .write_all(&tcpwrap_core::ident::query(client.port(), server.port()))
            .ok()?;
        let mut line = Vec::with_capacity(128);
        let mut buf = [0u8; 512];
        loop {
            stream.set_read_timeout(Some(left()?)).ok()?;
            let n = stream.read(&mut buf).ok()?;
            if n == 0 {
                // End of file before a newline: the original's feof() check fails.
                return None;
            }
            let room = LINE_MAX - line.len();
            let chunk = &buf[..n.min(room)];
            if let Some(p) = memchr::memchr(b'\n', chunk) {
                line.extend_from_slice(&chunk[..=p]);
                break;
            }
            line.extend_from_slice(chunk);
            if line.len() >= LINE_MAX {
                break;
            }
        }
        tcpwrap_core::ident::parse_reply(&line, client.port(), server.port())
    }
}

impl Ident for IdentClient {
    fn query(&self, client: SocketAddr, server: SocketAddr, timeout_secs: u32) -> Option<Vec<u8>> {
        self.ask(
            client,
            server,
            Duration::from_secs(u64::from(timeout_secs.max(1))),
        )
    }
}
