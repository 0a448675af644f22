//! `sock_host()`: the endpoints of the socket a super-server hands over
//! (§6.3), shared by `tcpd` and `try-from`.

use std::net::SocketAddr;

use tcpwrap::sys::{sock, strerror, syslog};
use tcpwrap_core::Request;

/// How the client's address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `getpeername` worked: a connected stream (or a connected datagram
    /// socket, which is treated alike: ident is asked).
    Stream,
    /// It did not: a datagram socket (the pending datagram is discarded on
    /// refusal), whether or not the peek found a sender.
    Datagram,
}

fn warn(message: &[u8]) {
    syslog::log(libc::LOG_ERR, &[b"warning: ", message].concat());
}

/// Fill in the endpoints of descriptor `fd`: the peer from `getpeername`,
/// or, failing that, from a peek at the pending datagram; the server from
/// `getsockname`. Failures are logged as the original logs them
/// (`warning: can't get client address: %m`, `warning: getsockname: %m`).
/// Marks the request as a datagram request when `getpeername` failed.
pub fn sock_host(req: &mut Request, fd: i32) -> Transport {
    let client: Option<SocketAddr>;
    let transport = match sock::peer_name(fd) {
        Ok(n) => {
            client = n.addr;
            Transport::Stream
        }
        Err(_) => match sock::peek_sender(fd) {
            Ok(n) => {
                client = n.addr;
                Transport::Datagram
            }
            Err(e) => {
                warn(format!("can't get client address: {}", strerror(&e)).as_bytes());
                req.datagram = true;
                return Transport::Datagram;
            }
        },
    };
    req.datagram = transport == Transport::Datagram;
    req.client.sin = client;
    match sock::sock_name(fd) {
        Ok(n) => {
            req.server.sin = n.addr;
            if n.family == libc::AF_UNIX {
                // The C library's numeric form of a local-socket address
                // (D3: the host names stay unknown).
                req.set_client_addr(b"localhost");
                req.set_server_addr(b"localhost");
            }
        }
        Err(e) => warn(format!("getsockname: {}", strerror(&e)).as_bytes()),
    }
    transport
}
