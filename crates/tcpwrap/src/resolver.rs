//! The system's resolver (`getnameinfo`/`getaddrinfo`, so /etc/hosts and
//! nsswitch apply), netgroups and accounts.

use std::net::{IpAddr, SocketAddr};

use tcpwrap_core::{Accounts, Family, Forward, Netgroups, Resolver};

use crate::sys;

/// Resolution through the C library.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn reverse(&self, ip: IpAddr, scope: u32) -> Option<Vec<u8>> {
        sys::reverse_name(ip, scope)
    }
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward> {
        sys::forward(name, family)
    }
    fn is_numeric(&self, name: &[u8], family: Family) -> bool {
        sys::is_numeric(name, family)
    }
    fn numeric(&self, sa: &SocketAddr) -> Vec<u8> {
        sys::numeric_host(sa).unwrap_or_else(|| match sa {
            SocketAddr::V4(a) => tcpwrap_core::text::fmt_v4(*a.ip()),
            SocketAddr::V6(a) => tcpwrap_core::text::fmt_v6(*a.ip()),
        })
    }
}

/// `innetgr` through the C library.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemNetgroups;

impl Netgroups for SystemNetgroups {
    fn innetgr(&self, group: &[u8], host: &[u8]) -> bool {
        sys::in_netgroup(group, host)
    }
}

/// `getpwnam`/`getgrnam` through the C library.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemAccounts;

impl Accounts for SystemAccounts {
    fn user(&self, name: &[u8]) -> Option<(u32, u32)> {
        sys::user_ids(name)
    }
    fn group(&self, name: &[u8]) -> Option<u32> {
        sys::group_id(name)
    }
}
