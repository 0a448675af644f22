//! The classic TCP Wrappers command-line tools, each a thin `main` over
//! these modules.

pub mod diag;
pub mod endpoint;
pub mod getopt;
pub mod inetcf;
pub mod safe_finger;
pub mod tcpd;
pub mod tcpdmatch;
pub mod tryfrom;
