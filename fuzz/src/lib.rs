//! Shared parts of the tcpwrap fuzz targets: the readable input format
//! ([`case`]), a world of DNS, ident, netgroup, file and account answers
//! chosen by the input ([`world`]), the engine-level checks every target
//! applies ([`checks`]), and the guard that keeps targets which may reach
//! the network inside a network namespace ([`net`]).

pub mod case;
pub mod checks;
pub mod net;
pub mod world;
