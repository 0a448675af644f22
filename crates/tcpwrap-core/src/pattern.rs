//! Patterns of the access-control language (§2.3, §2.4, §3), classified once
//! when a table is compiled, and the matchers that apply them.
//!
//! Pattern text lives in a byte arena owned by the table (or by a `/file`
//! pattern list); patterns refer to it by [`Span`], so compiling a table with
//! 100,000 rules does not allocate per token.

use std::net::Ipv6Addr;

use crate::text::{
    atoi, dot_quad, eq_ci, parse_v6, scan_uint_complete, split_at_bracket, strip_mapped,
};

/// A byte range in an arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub fn get(self, arena: &[u8]) -> &[u8] {
        &arena[self.start as usize..(self.start + self.len) as usize]
    }
    pub fn push(arena: &mut Vec<u8>, bytes: &[u8]) -> Span {
        let start = arena.len() as u32;
        arena.extend_from_slice(bytes);
        Span {
            start,
            len: bytes.len() as u32,
        }
    }
}

/// The general string matcher's pattern forms, in the order of precedence of
/// `string_match` (§3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrPat {
    /// Contains `*` or `?`: a case-insensitive glob over the whole string.
    Wild(Span),
    /// Starts with `.`: a proper suffix.
    Suffix(Span),
    /// `ALL`.
    All,
    /// `KNOWN`: anything but "unknown".
    Known,
    /// Ends with `.`: a prefix.
    Prefix(Span),
    /// `[v6]`: numeric IPv6 comparison (`None` when the inside does not parse).
    V6(Option<Ipv6Addr>),
    /// A canonical dotted quad (`10.0.0.1`): compared as text, stored as a
    /// number so large address tables need no text.
    Ip4(u32),
    /// Anything else: case-insensitive equality.
    Exact(Span),
}

impl StrPat {
    pub fn classify(arena: &mut Vec<u8>, p: &[u8]) -> StrPat {
        if memchr::memchr2(b'*', b'?', p).is_some() {
            StrPat::Wild(Span::push(arena, p))
        } else if p.first() == Some(&b'.') {
            StrPat::Suffix(Span::push(arena, p))
        } else if eq_ci(p, b"ALL") {
            StrPat::All
        } else if eq_ci(p, b"KNOWN") {
            StrPat::Known
        } else if p.last() == Some(&b'.') {
            StrPat::Prefix(Span::push(arena, p))
        } else if p.len() >= 2 && p[0] == b'[' && p[p.len() - 1] == b']' {
            StrPat::V6(parse_v6(&p[1..p.len() - 1]))
        } else if let Some(a) = canonical_ip4(p) {
            StrPat::Ip4(a)
        } else {
            StrPat::Exact(Span::push(arena, p))
        }
    }

    /// `string_match(pattern, s)`.
    pub fn matches(&self, arena: &[u8], s: &[u8]) -> bool {
        let s = strip_mapped(s).unwrap_or(s);
        match self {
            StrPat::Wild(p) => glob_ci(p.get(arena), s),
            StrPat::Suffix(p) => {
                let p = p.get(arena);
                s.len() > p.len() && eq_ci(&s[s.len() - p.len()..], p)
            }
            StrPat::All => true,
            StrPat::Known => !eq_ci(s, b"unknown"),
            StrPat::Prefix(p) => {
                let p = p.get(arena);
                s.len() >= p.len() && eq_ci(&s[..p.len()], p)
            }
            StrPat::V6(a) => match (a, parse_v6(s)) {
                (Some(a), Some(b)) => *a == b,
                _ => false,
            },
            StrPat::Ip4(a) => canonical_ip4(s) == Some(*a),
            StrPat::Exact(p) => eq_ci(p.get(arena), s),
        }
    }
}

/// A dotted quad in canonical decimal form (no leading zeros, each part at
/// most 255): then text equality is numeric equality.
pub fn canonical_ip4(s: &[u8]) -> Option<u32> {
    match canonical_ip4_prefix(s) {
        Some((v, used)) if used == s.len() => Some(v),
        _ => None,
    }
}

/// A canonical dotted quad at the start of `s`, ending at the first byte
/// that is neither a digit nor a dot: its value and length.
pub fn canonical_ip4_prefix(s: &[u8]) -> Option<(u32, usize)> {
    let (mut v, mut part, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    let mut lead_zero = false;
    let mut used = 0;
    for &b in s {
        if b.is_ascii_digit() {
            if digits == 0 {
                lead_zero = b == b'0';
            } else if lead_zero {
                return None;
            }
            part = part * 10 + u32::from(b - b'0');
            digits += 1;
            if part > 255 {
                return None;
            }
        } else if b == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            v = (v << 8) | part;
            (part, digits, dots) = (0, 0, dots + 1);
        } else {
            break;
        }
        used += 1;
    }
    if dots == 3 && digits > 0 {
        Some(((v << 8) | part, used))
    } else {
        None
    }
}

/// Case-insensitive glob: `*` any sequence, `?` one byte, everything else
/// literal. Linear-time backtracking over the last `*`.
pub fn glob_ci(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || (p[pi] != b'*' && p[pi].eq_ignore_ascii_case(&s[si])))
        {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// A precompiled `NET/MASK` or `[NET6]/LEN` pattern (§3.4, §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetMask {
    /// IPv4 network and mask, when both parse.
    pub v4: Option<(u32, u32)>,
    /// IPv6 network and prefix length, when NET is `[v6]` and LEN in 0..=128.
    pub v6: Option<(Ipv6Addr, u32)>,
}

impl NetMask {
    pub fn compile(net: &[u8], mask: &[u8]) -> NetMask {
        let v4 = dot_quad(net).and_then(|n| {
            let m = match dot_quad(mask) {
                Some(m) => Some(m),
                None => {
                    let bits = atoi(mask);
                    if (1..=32).contains(&bits) {
                        Some(u32::MAX << (32 - bits))
                    } else {
                        None
                    }
                }
            };
            m.map(|m| (n, m))
        });
        let v6 = if net.len() >= 2 && net[0] == b'[' && net[net.len() - 1] == b']' {
            let bits = atoi(mask);
            match parse_v6(&net[1..net.len() - 1]) {
                Some(n) if (0..=128).contains(&bits) => Some((n, bits as u32)),
                _ => None,
            }
        } else {
            None
        };
        NetMask { v4, v6 }
    }

    /// `masked_match(net, mask, addr)` against a printable address. An
    /// IPv4-mapped address is one written `::ffff:a.b.c.d` (as Debian's
    /// libwrap tells it, by its text): it is matched by its IPv4 part
    /// only; any other numeric IPv6 text by the IPv6 rules.
    pub fn matches(&self, addr: &[u8]) -> bool {
        if let Some(a) = dot_quad(addr) {
            return self.match4(a);
        }
        if let Some(q) = strip_mapped(addr) {
            return dot_quad(q).is_some_and(|a| self.match4(a));
        }
        let Some(a6) = parse_v6(addr) else {
            return false;
        };
        match self.v6 {
            Some((net, bits)) => prefix_eq(net, a6, bits),
            None => false,
        }
    }

    fn match4(&self, a: u32) -> bool {
        match self.v4 {
            Some((net, mask)) => a & mask == net,
            None => false,
        }
    }
}

fn prefix_eq(a: Ipv6Addr, b: Ipv6Addr, bits: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let (a, b) = (u128::from(a), u128::from(b));
    let mask = u128::MAX << (128 - bits);
    a & mask == b & mask
}

/// A host pattern (§3.1), for the client list, the host part of
/// `daemon@host` and `user@host`, and the words of `/file` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPat {
    /// `@group`: NIS netgroup membership of the host name.
    Netgroup(Span),
    /// `/path`: a file of host patterns.
    File(Span),
    /// `KNOWN`: address and name both known.
    Known,
    /// `LOCAL`: a known name without a dot.
    Local,
    /// `NET/MASK` on the address only.
    NetMask(Box<NetMask>),
    /// Matched against the address and, if the token is not address-looking,
    /// against the name.
    Plain { pat: StrPat, name_too: bool },
}

impl HostPat {
    pub fn classify(arena: &mut Vec<u8>, tok: &[u8]) -> HostPat {
        if tok.first() == Some(&b'@') {
            HostPat::Netgroup(Span::push(arena, &tok[1..]))
        } else if tok.first() == Some(&b'/') {
            HostPat::File(Span::push(arena, tok))
        } else if eq_ci(tok, b"KNOWN") {
            HostPat::Known
        } else if eq_ci(tok, b"LOCAL") {
            HostPat::Local
        } else if let Some(p) = split_at_bracket(tok, b'/') {
            HostPat::NetMask(Box::new(NetMask::compile(&tok[..p], &tok[p + 1..])))
        } else {
            let name_too = tok.iter().any(|b| !matches!(b, b'0'..=b'9' | b'.' | b'/'));
            HostPat::Plain {
                pat: StrPat::classify(arena, tok),
                name_too,
            }
        }
    }
}

/// A daemon-list token: `pattern` or `pattern@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonPat {
    /// The daemon-name pattern (unused when `port` is set).
    pub name: StrPat,
    /// A port-number pattern (Debian extension), compared with the server port.
    pub port: Option<u16>,
    /// `@host` part, matched against the server endpoint.
    pub host: Option<HostPat>,
}

impl DaemonPat {
    pub fn classify(arena: &mut Vec<u8>, tok: &[u8]) -> DaemonPat {
        let (d, h) = split_user_host(tok);
        let port = match scan_uint_complete(d) {
            Some(n) if n <= 65535 => Some(n as u16),
            _ => None,
        };
        DaemonPat {
            name: StrPat::classify(arena, d),
            port,
            host: h.map(|h| HostPat::classify(arena, h)),
        }
    }
}

/// A client-list token: `host` or `user@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPat {
    pub host: HostPat,
    pub user: Option<StrPat>,
}

impl ClientPat {
    pub fn classify(arena: &mut Vec<u8>, tok: &[u8]) -> ClientPat {
        let (u, h) = split_user_host(tok);
        match h {
            None => ClientPat {
                host: HostPat::classify(arena, u),
                user: None,
            },
            Some(h) => ClientPat {
                host: HostPat::classify(arena, h),
                user: Some(StrPat::classify(arena, u)),
            },
        }
    }
}

/// Split `a@b` at the first bracket-aware `@` after the first character.
fn split_user_host(tok: &[u8]) -> (&[u8], Option<&[u8]>) {
    if tok.is_empty() {
        return (tok, None);
    }
    match split_at_bracket(&tok[1..], b'@') {
        Some(p) => (&tok[..p + 1], Some(&tok[p + 2..])),
        None => (tok, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm(p: &str, s: &str) -> bool {
        let mut a = Vec::new();
        StrPat::classify(&mut a, p.as_bytes()).matches(&a, s.as_bytes())
    }

    #[test]
    fn string_match_forms() {
        assert!(sm(".example.com", "a.example.com"));
        assert!(!sm(".example.com", "example.com"));
        assert!(sm(".1", "10.0.0.1"));
        assert!(sm("10.0.0.", "10.0.0.10"));
        assert!(!sm("1.", "10.0.0.1"));
        assert!(sm("*.example.com", "a.b.EXAMPLE.com"));
        assert!(sm("10.0.0.?", "10.0.0.7"));
        assert!(!sm("10.0.0.?", "10.0.0.17"));
        assert!(!sm(".exa*.com", "h.example.com"));
        assert!(sm("[0:0::1]", "::1"));
        assert!(!sm("[::ffff:10.0.0.1]", "::ffff:10.0.0.1"));
        assert!(sm("10.0.0.1", "::ffff:10.0.0.1"));
        assert!(!sm("010.0.0.1", "10.0.0.1"));
        assert!(sm("010.0.0.1", "010.0.0.1"));
        assert!(sm("ss*", "sshd"));
        assert!(sm("*", "unknown"));
        assert!(sm("KNOWN", "x") && !sm("KNOWN", "UNKNOWN"));
    }

    #[test]
    fn netmask_forms() {
        let m = |n: &str, k: &str, a: &str| {
            NetMask::compile(n.as_bytes(), k.as_bytes()).matches(a.as_bytes())
        };
        assert!(m("10.0.0.0", "255.255.255.0", "10.0.0.77"));
        assert!(m("10.0.0.0", "24", "10.0.0.77"));
        assert!(!m("10.0.0.0", "24", "10.0.1.1"));
        assert!(!m("10.0.0.5", "24", "10.0.0.5"));
        assert!(!m("10.0.0.5", "255.255.255.255", "10.0.0.5"));
        assert!(m("10.0.0.5", "32", "10.0.0.5"));
        assert!(!m("0.0.0.0", "0", "10.0.0.5"));
        assert!(m("0.0.0.0", "0.0.0.0", "10.0.0.5"));
        assert!(m("10.0.0.0", "8junk", "10.0.0.5"));
        assert!(m("010.0.0.0", "8", "8.0.0.5"));
        assert!(!m("10.0", "8", "10.0.0.5"));
        assert!(m("10.0.0.0", "8", "::ffff:10.0.0.5"));
        assert!(m("[2001:db8::]", "32", "2001:db8:1::5"));
        assert!(!m("[2001:db8::]", "33", "2001:db8:8000::5"));
        assert!(m("[2001:db8::]", "0", "fe80::1"));
        assert!(!m("[2001:db8::]", "0", "10.0.0.1"));
        assert!(!m("[::ffff:0.0.0.0]", "96", "::ffff:10.0.0.1"));
        assert!(!m("[2001:db8::]", "129", "2001:db8::1"));
        assert!(!m("10.0.0.*", "24", "10.0.0.1"));
    }

    /// An address is IPv4-mapped only as written `::ffff:a.b.c.d` (as
    /// Debian's libwrap tells it): other spellings of a mapped address,
    /// and a mapped address with a scope, are IPv6. A `%scope` must be a
    /// decimal number of 32 bits, or for a link-local address an interface
    /// name (glibc's `getaddrinfo()`). Found by the `differential` fuzz
    /// target (`::ffff:10%.0.1` matched `[::1]/0`); each row checked with
    /// Debian's libwrap.
    #[test]
    fn netmask_mapped_and_scoped_addresses() {
        let m = |n: &str, k: &str, a: &str| {
            NetMask::compile(n.as_bytes(), k.as_bytes()).matches(a.as_bytes())
        };
        for (addr, v4, v6) in [
            ("::ffff:a00:1", false, true),
            ("0::ffff:10.0.0.1", false, true),
            ("::ffff:10.0.0.1%1", false, true),
            ("::FFFF:10.0.0.1", true, false),
            ("::ffff:10.0.0.1", true, false),
            ("::ffff:010.0.0.1", false, false),
        ] {
            assert_eq!(m("10.0.0.0", "8", addr), v4, "{addr} in 10.0.0.0/8");
            assert_eq!(
                m("[::ffff:0.0.0.0]", "96", addr),
                v6,
                "{addr} in [::ffff:0.0.0.0]/96"
            );
            assert_eq!(m("[::]", "0", addr), v6, "{addr} in [::]/0");
        }
        for (addr, ok) in [
            ("::ffff:10%.0.184467440737095516160.1", false),
            ("fe80::1%lo", true),
            ("fe80::1%5", true),
            ("fe80::1%01", true),
            ("fe80::1%4294967295", true),
            ("fe80::1%4294967296", false),
            ("fe80::1% 1", false),
            ("fe80::1%", false),
            ("fe80::1%lo:1", true),
            ("febf::1%lo", true),
            ("fec0::1%lo", false),
            ("ff02::1%lo", true),
            ("ff12::1%lo", true),
            ("2001:db8::1%lo", false),
            ("2001:db8::1%7", true),
        ] {
            assert_eq!(m("[::]", "0", addr), ok, "{addr}");
        }
        // The one difference left: a link-local address whose scope names
        // an interface that does not exist. Debian's libwrap looks the name
        // up and does not match; the engine does no I/O and takes any name
        // the kernel could hold (docs/security.md).
        for addr in ["fe80::1%+1", "fe80::1%0x1", "fe80::1%1x", "fe80::1%bogus"] {
            assert!(m("[::]", "0", addr), "{addr}");
        }
    }

    /// Mask lengths are read with C `atoi()`, an `int`: Debian's libwrap
    /// takes `4294967304` as 8 and `4294967328` as 32 (checked with its
    /// `cidr_mask_addr()` and tables); found while writing the capi fuzz
    /// target's comparison with Debian's helpers.
    #[test]
    fn netmask_length_is_a_c_int() {
        let m = |n: &str, k: &str, a: &str| {
            NetMask::compile(n.as_bytes(), k.as_bytes()).matches(a.as_bytes())
        };
        assert!(m("10.0.0.0", "4294967304", "10.1.2.3"));
        assert!(m("10.0.0.0", "-4294967288", "10.1.2.3"));
        assert!(!m("10.0.0.0", "4294967304", "11.1.2.3"));
        assert!(m("[2001:db8::]", "4294967328", "2001:db8:1::5"));
        assert!(!m("[2001:db8::]", "4294967328", "2001:db9::5"));
        assert!(!m("10.0.0.0", "99999999999999999999", "10.1.2.3"));
    }

    #[test]
    fn canonical() {
        assert_eq!(canonical_ip4(b"10.0.0.1"), Some(0x0a000001));
        assert_eq!(canonical_ip4(b"010.0.0.1"), None);
        assert_eq!(canonical_ip4(b"1.2.3"), None);
        assert_eq!(canonical_ip4(b"1.2.3.4."), None);
        assert_eq!(canonical_ip4(b"256.0.0.1"), None);
        assert_eq!(canonical_ip4(b"255.255.255.255"), Some(u32::MAX));
    }

    /// A port pattern is a complete `%u` conversion of at most 65535:
    /// glibc saturates an overflowing value before applying a minus sign,
    /// so `-99999999999999999999999` is a name pattern (Debian's libwrap
    /// denies sshd on server port 1 with it) while `-18446744073709551615`
    /// wraps to port 1 (Debian grants). Found by the cprims fuzz target.
    #[test]
    fn port_pattern_overflow() {
        let mut a = Vec::new();
        assert_eq!(
            DaemonPat::classify(&mut a, b"-99999999999999999999999").port,
            None
        );
        assert_eq!(
            DaemonPat::classify(&mut a, b"-18446744073709551615").port,
            Some(1)
        );
        assert_eq!(DaemonPat::classify(&mut a, b"-0").port, Some(0));
        assert_eq!(DaemonPat::classify(&mut a, b"+22").port, Some(22));
    }

    #[test]
    fn glob() {
        assert!(glob_ci(b"a*b*c", b"aXbYc"));
        assert!(!glob_ci(b"a*b*c", b"aXbY"));
        assert!(glob_ci(b"*", b""));
        assert!(glob_ci(b"**a", b"bba"));
    }
}
