//! Targets that may let the code under test resolve names or query ident
//! servers (the C ABI target) must not send anything to the network: they
//! run in a network namespace without routes (scripts/fuzz.sh starts them
//! with `unshare --net`). This guard refuses to run them elsewhere.

use std::net::{SocketAddr, UdpSocket};

/// Whether a datagram to `addr` could leave this host: a UDP `connect()`
/// only looks the route up, it sends nothing.
fn routable(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let bind = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    match UdpSocket::bind(bind) {
        Ok(s) => s.connect(addr).is_ok(),
        Err(_) => false,
    }
}

/// Panics unless neither IPv4 nor IPv6 has a route to a documentation
/// address (no default route: an isolated network namespace).
pub fn require_isolated_network(target: &str) {
    for a in ["192.0.2.1:113", "[2001:db8::1]:113"] {
        assert!(
            !routable(a),
            "the {target} fuzz target may send DNS and ident queries to the \
             addresses it is given: run it in a network namespace without \
             routes (scripts/fuzz.sh uses `unshare --net`)"
        );
    }
}
