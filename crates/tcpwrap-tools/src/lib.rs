//! The classic TCP Wrappers command-line tools, each a thin `main` over
//! these modules.

pub mod diag;
pub mod endpoint;
pub mod explain;
pub mod getopt;
pub mod inetcf;
pub mod json;
pub mod lint;
pub mod safe_finger;
pub mod send_nsca;
pub mod tcpd;
pub mod tcpdchk;
pub mod tcpdmatch;
pub mod tryfrom;
