//! The outside world as the engine sees it: small traits for host-name
//! resolution, ident, netgroups, pattern files and account look-ups. The
//! `tcpwrap` crate implements them with the system's resolver and sockets;
//! tests substitute their own and count the calls.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Address family of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    /// The C constant's name, as printed in diagnostics.
    pub fn c_name(self) -> &'static str {
        match self {
            Family::V4 => "AF_INET",
            Family::V6 => "AF_INET6",
        }
    }
}

/// Result of a forward lookup (`getaddrinfo` with `AI_CANONNAME`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forward {
    pub canonical: Option<Vec<u8>>,
    /// Addresses with their IPv6 scope ids (0 for IPv4).
    pub addrs: Vec<(IpAddr, u32)>,
}

/// Host-name resolution.
pub trait Resolver: Send + Sync {
    /// Reverse lookup of an address (`getnameinfo` with `NI_NAMEREQD`).
    fn reverse(&self, ip: IpAddr, scope: u32) -> Option<Vec<u8>>;
    /// Forward lookup of `name` in one family.
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward>;
    /// Whether `name` is numeric host text of `family`
    /// (`getaddrinfo(AI_NUMERICHOST)`; glibc accepts IPv4 short forms).
    fn is_numeric(&self, name: &[u8], family: Family) -> bool {
        match family {
            Family::V4 => crate::text::inet_aton(name).is_some(),
            Family::V6 => crate::text::parse_v6(name).is_some(),
        }
    }
    /// Printable numeric address (`getnameinfo` with `NI_NUMERICHOST`).
    fn numeric(&self, sa: &SocketAddr) -> Vec<u8> {
        match sa {
            SocketAddr::V4(a) => crate::text::fmt_v4(*a.ip()),
            SocketAddr::V6(a) => crate::text::fmt_v6(*a.ip()),
        }
    }
}

/// RFC 1413 ident client.
pub trait Ident: Send + Sync {
    /// Ask the client host who owns the connection `client` → `server`.
    /// Returns the user name, or `None` for "unknown" (refused, timed out,
    /// malformed or error reply).
    fn query(&self, client: SocketAddr, server: SocketAddr, timeout_secs: u32) -> Option<Vec<u8>>;
}

/// NIS netgroups (`innetgr`).
pub trait Netgroups: Send + Sync {
    fn innetgr(&self, group: &[u8], host: &[u8]) -> bool;
}

/// What opening a `/file` pattern list gave.
#[derive(Debug, Clone)]
pub enum FileContent {
    /// The file's bytes.
    Data(Arc<[u8]>),
    /// `ENOENT`: no match, no diagnostic.
    Missing,
    /// A directory: no match, no diagnostic (it opens, and reads as nothing).
    Directory,
    /// Any other error, with `strerror` text.
    Error(String),
}

/// Access to `/file` pattern lists.
pub trait PatternFiles: Send + Sync {
    fn read(&self, path: &[u8]) -> FileContent;
}

/// Account look-ups for the `user` and `group` options.
pub trait Accounts: Send + Sync {
    /// uid and primary gid of a user.
    fn user(&self, name: &[u8]) -> Option<(u32, u32)>;
    fn group(&self, name: &[u8]) -> Option<u32>;
}

/// The services one evaluation uses.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub resolver: &'a dyn Resolver,
    pub ident: &'a dyn Ident,
    pub netgroups: &'a dyn Netgroups,
    pub files: &'a dyn PatternFiles,
    pub accounts: &'a dyn Accounts,
}

/// Services that know nothing: no names, no ident, no netgroups, no files,
/// no accounts. Useful for `hosts_ctl`-style checks and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

impl Resolver for Offline {
    fn reverse(&self, _: IpAddr, _: u32) -> Option<Vec<u8>> {
        None
    }
    fn forward(&self, _: &[u8], _: Family) -> Option<Forward> {
        None
    }
}
impl Ident for Offline {
    fn query(&self, _: SocketAddr, _: SocketAddr, _: u32) -> Option<Vec<u8>> {
        None
    }
}
impl Netgroups for Offline {
    fn innetgr(&self, _: &[u8], _: &[u8]) -> bool {
        false
    }
}
impl PatternFiles for Offline {
    fn read(&self, _: &[u8]) -> FileContent {
        FileContent::Missing
    }
}
impl Accounts for Offline {
    fn user(&self, _: &[u8]) -> Option<(u32, u32)> {
        None
    }
    fn group(&self, _: &[u8]) -> Option<u32> {
        None
    }
}

impl Env<'static> {
    /// An environment made only of [`Offline`] services.
    pub fn offline() -> Env<'static> {
        static O: Offline = Offline;
        Env {
            resolver: &O,
            ident: &O,
            netgroups: &O,
            files: &O,
            accounts: &O,
        }
    }
}
