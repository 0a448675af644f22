//! Byte-level helpers that reproduce the C library primitives the original
//! implementation relies on (`isspace`, `strcasecmp`, `atoi`, `sscanf`,
//! `inet_aton`, `inet_ntop`). Everything works on `&[u8]`: table files,
//! host names and ident replies may hold any byte.

use std::net::{Ipv4Addr, Ipv6Addr};

/// C `isspace` in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The list separators of rule fields: space, tab, CR, LF and comma.
pub fn is_list_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',')
}

/// `strcasecmp(a, b) == 0` (ASCII case folding).
pub fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Strip leading and trailing C whitespace (`chop_string`).
pub fn chop(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_c_space(b));
    match start {
        None => &s[s.len()..],
        Some(st) => {
            let end = s.iter().rposition(|&b| !is_c_space(b)).unwrap_or(st);
            &s[st..=end]
        }
    }
}

/// `split_at(string, delim)`: position of the first `delim` at bracket depth
/// zero (`[` increments, `]` decrements the depth; only depth exactly 0 counts).
pub fn split_at_bracket(s: &[u8], delim: u8) -> Option<usize> {
    let mut depth: i64 = 0;
    for (i, &b) in s.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth -= 1,
            _ if depth == 0 && b == delim => return Some(i),
            _ => {}
        }
    }
    None
}

/// Parse an optionally signed decimal integer like `strtol`: returns the value
/// (saturated to the `long` range) and the number of bytes consumed, or
/// `None` when no digits follow the optional white space and sign.
fn strtol_dec(s: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut v: i128 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if v < (1i128 << 80) {
            v = v * 10 + i128::from(s[i] - b'0');
        }
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    if neg {
        v = -v;
    }
    let v = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Some((v, i))
}

/// C `atoi`: leading white space, optional sign, digits; 0 when nothing
/// parses. glibc's `atoi` is `(int) strtol(s, NULL, 10)`: the `long` is
/// truncated to an `int` (`4294967304` is 8).
pub fn atoi(s: &[u8]) -> i32 {
    strtol_dec(s).map(|(v, _)| v as i32).unwrap_or(0)
}

/// `sscanf(s, "%d%c", &n, &junk) == 1`: a complete (optionally signed) decimal
/// `int`. The value is truncated to `int` as glibc stores it.
pub fn scan_int_complete(s: &[u8]) -> Option<i32> {
    let (v, used) = strtol_dec(s)?;
    if used != s.len() {
        return None;
    }
    Some(v as i32)
}

/// glibc's `strtoul()` in base 8 or 10 after optional white space and
/// sign, as `sscanf`'s `%u` and `%o` use it: the value as stored in an
/// `unsigned int`, and the bytes consumed; `None` without digits.
///
/// A value that fits an `unsigned long` is negated by a minus sign (`-1`
/// becomes 4294967295); a larger one saturates at ULONG_MAX whatever its
/// sign (so `-99999999999999999999` is 4294967295 too, not 1).
fn strtoul_u32(s: &[u8], base: u8) -> Option<(u32, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: Option<u64> = Some(0);
    while i < s.len() && s[i].is_ascii_digit() && s[i] - b'0' < base {
        v = v
            .and_then(|x| x.checked_mul(u64::from(base)))
            .and_then(|x| x.checked_add(u64::from(s[i] - b'0')));
        i += 1;
    }
    if i == start {
        return None;
    }
    let v = match v {
        None => u64::MAX,
        Some(x) if neg => x.wrapping_neg(),
        Some(x) => x,
    };
    Some((v as u32, i))
}

/// `sscanf`'s `%u` at the start of `s`: the value as stored in an
/// `unsigned int` and the bytes consumed (see [`strtoul_u32`]).
pub fn scan_uint_prefix(s: &[u8]) -> Option<(u32, usize)> {
    strtoul_u32(s, 10)
}

/// `sscanf(s, "%u%c", &n, &junk) == 1`: optional white space and sign,
/// decimal digits, nothing after. The value wraps like C's unsigned
/// conversion (`-1` becomes 4294967295).
pub fn scan_uint_complete(s: &[u8]) -> Option<u32> {
    match strtoul_u32(s, 10)? {
        (v, used) if used == s.len() => Some(v),
        _ => None,
    }
}

/// `sscanf(s, "%o%c", &n, &junk) == 1`: a complete octal number (optional
/// white space and sign).
pub fn scan_octal_complete(s: &[u8]) -> Option<u32> {
    match strtoul_u32(s, 8)? {
        (v, used) if used == s.len() => Some(v),
        _ => None,
    }
}

/// glibc `strtoul(s, &end, 0)` for the digits of one `inet_aton` part.
fn strtoul_auto(s: &[u8]) -> Option<(u64, usize)> {
    let (base, mut i) = if s.len() >= 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        if s.len() > 2 && s[2].is_ascii_hexdigit() {
            (16, 2)
        } else {
            // "0x" without hex digits parses as "0", ending at the 'x'.
            return Some((0, 1));
        }
    } else if !s.is_empty() && s[0] == b'0' {
        (8, 0)
    } else {
        (10, 0)
    };
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => u64::from(c - b'0'),
            c @ b'a'..=b'f' => u64::from(c - b'a' + 10),
            c @ b'A'..=b'F' => u64::from(c - b'A' + 10),
            _ => break,
        };
        if d >= base {
            break;
        }
        match v.checked_mul(base).and_then(|x| x.checked_add(d)) {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if overflow { None } else { Some((v, i)) }
}

/// glibc `inet_aton`: 1 to 4 parts, each decimal, octal or hex, the last part
/// filling the remaining bytes; trailing white space allowed.
pub fn inet_aton(s: &[u8]) -> Option<u32> {
    let mut parts: [u64; 4] = [0; 4];
    let mut n = 0usize;
    let mut i = 0usize;
    let val;
    loop {
        if i >= s.len() || !s[i].is_ascii_digit() {
            return None;
        }
        let (v, used) = strtoul_auto(&s[i..])?;
        i += used;
        if i < s.len() && s[i] == b'.' {
            if n > 2 || v > 0xff {
                return None;
            }
            parts[n] = v;
            n += 1;
            i += 1;
        } else {
            val = v;
            break;
        }
    }
    if i < s.len() && !(s[i].is_ascii() && is_c_space(s[i])) {
        return None;
    }
    let v = match n {
        0 => {
            if val > 0xffff_ffff {
                return None;
            }
            val
        }
        1 => {
            if val > 0xff_ffff {
                return None;
            }
            val | (parts[0] << 24)
        }
        2 => {
            if val > 0xffff {
                return None;
            }
            val | (parts[0] << 24) | (parts[1] << 16)
        }
        _ => {
            if val > 0xff {
                return None;
            }
            val | (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8)
        }
    };
    Some(v as u32)
}

/// `dot_quad_addr`: exactly four runs of non-dot characters and accepted by
/// `inet_addr` (whose error value 255.255.255.255 is therefore rejected).
/// Host byte order.
pub fn dot_quad(s: &[u8]) -> Option<u32> {
    let mut runs = 0;
    let mut in_run = false;
    for &b in s {
        if b == b'.' {
            in_run = false;
        } else if !in_run {
            in_run = true;
            runs += 1;
        }
    }
    if runs != 4 {
        return None;
    }
    match inet_aton(s) {
        Some(0xffff_ffff) | None => None,
        Some(v) => Some(v),
    }
}

/// Numeric IPv6 text as `getaddrinfo(AI_NUMERICHOST, AF_INET6)` accepts it,
/// with an optional `%scope` (not compared: scope ids are ignored).
pub fn parse_v6(s: &[u8]) -> Option<Ipv6Addr> {
    let (addr, scope) = match memchr::memchr(b'%', s) {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let a = std::str::from_utf8(addr).ok()?.parse::<Ipv6Addr>().ok()?;
    match scope {
        Some(sc) if !scope_ok(&a, sc) => None,
        _ => Some(a),
    }
}

/// glibc's `__inet6_scopeid_pton`: a scope is a decimal number of at most
/// 32 bits (digits only), or, for a link-local unicast or multicast
/// address, the name of a network interface. Whether the interface exists
/// is not known here: any name the kernel could hold is taken (at most 15
/// bytes, no `/` or white space, not `.` or `..`).
fn scope_ok(a: &Ipv6Addr, sc: &[u8]) -> bool {
    if sc.first().is_some_and(u8::is_ascii_digit) && sc.iter().all(u8::is_ascii_digit) {
        let v = sc.iter().try_fold(0u64, |v, &d| {
            v.checked_mul(10)?
                .checked_add(u64::from(d - b'0'))
                .filter(|&v| v <= u64::from(u32::MAX))
        });
        return v.is_some();
    }
    let o = a.octets();
    let link_local = (o[0] == 0xfe && o[1] & 0xc0 == 0x80) || (o[0] == 0xff && o[1] & 0x0f == 0x02);
    link_local
        && !sc.is_empty()
        && sc.len() < 16
        && sc != b"."
        && sc != b".."
        && !sc.iter().any(|&b| b == b'/' || b == 0 || is_c_space(b))
}

/// An IPv4 address as `inet_ntop` prints it.
pub fn fmt_v4(a: Ipv4Addr) -> Vec<u8> {
    a.to_string().into_bytes()
}

/// An IPv6 address exactly as glibc's `inet_ntop` prints it (longest run of
/// zero words compressed, first run on ties, single zero words not compressed,
/// embedded IPv4 for `::a.b.c.d` and `::ffff:a.b.c.d`).
pub fn fmt_v6(a: Ipv6Addr) -> Vec<u8> {
    let w = a.segments();
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0usize);
    for (i, &x) in w.iter().enumerate() {
        if x == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if best_base == usize::MAX || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && (best_base == usize::MAX || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let mut out = Vec::with_capacity(40);
    let mut i = 0;
    while i < 8 {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(b':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
            let o = a.octets();
            out.extend_from_slice(
                Ipv4Addr::new(o[12], o[13], o[14], o[15])
                    .to_string()
                    .as_bytes(),
            );
            return out;
        }
        out.extend_from_slice(format!("{:x}", w[i]).as_bytes());
        i += 1;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(b':');
    }
    out
}

/// If `s` is `::ffff:` (any case) followed by a dotted quad, the dotted quad.
pub fn strip_mapped(s: &[u8]) -> Option<&[u8]> {
    if s.len() > 7 && s[..7].eq_ignore_ascii_case(b"::ffff:") {
        let rest = &s[7..];
        if dot_quad(rest).is_some() {
            return Some(rest);
        }
    }
    None
}

/// The printable form of a byte string for messages: bytes are kept as they
/// are (syslog receives them verbatim); this lossily decodes for Rust display.
pub fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// The numeric key of an address subject for the address index: the
/// subject after IPv4-mapped stripping, if it is a canonical dotted quad.
pub fn canonical_ip4_subject(s: &[u8]) -> Option<u32> {
    let s = strip_mapped(s).unwrap_or(s);
    crate::pattern::canonical_ip4(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aton_forms() {
        assert_eq!(inet_aton(b"1.2.3.4"), Some(0x01020304));
        assert_eq!(inet_aton(b"010.0.0.1"), Some(0x08000001));
        assert_eq!(inet_aton(b"0x0a.0.0.1"), Some(0x0a000001));
        assert_eq!(inet_aton(b"10.3.3"), Some(0x0a030003));
        assert_eq!(inet_aton(b"1.2.3.4."), None);
        assert_eq!(inet_aton(b"1..2.3"), None);
        assert_eq!(inet_aton(b"08.1.1.1"), None);
        assert_eq!(inet_aton(b"256.1.1.1"), None);
    }

    #[test]
    fn dot_quad_rules() {
        assert_eq!(dot_quad(b"10.0.0.1"), Some(0x0a000001));
        assert_eq!(dot_quad(b"1.2.3"), None);
        assert_eq!(dot_quad(b"1.2.3.4."), None);
        assert_eq!(dot_quad(b"255.255.255.255"), None);
        assert_eq!(dot_quad(b"0.0.0.0"), Some(0));
    }

    #[test]
    fn scans() {
        assert_eq!(scan_int_complete(b"+3"), Some(3));
        assert_eq!(scan_int_complete(b"5x"), None);
        assert_eq!(scan_int_complete(b"-1"), Some(-1));
        assert_eq!(scan_uint_complete(b"022"), Some(22));
        assert_eq!(scan_uint_complete(b"-1"), Some(u32::MAX));
        assert_eq!(scan_uint_complete(b"-0"), Some(0));
        assert_eq!(scan_uint_complete(b"0x16"), None);
        assert_eq!(scan_octal_complete(b"077"), Some(0o77));
        assert_eq!(scan_octal_complete(b"8"), None);
        assert_eq!(scan_octal_complete(b"0x1"), None);
        assert_eq!(atoi(b"24abc"), 24);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4294967304"), 8);
        assert_eq!(atoi(b"-4294967288"), 8);
        assert_eq!(atoi(b"99999999999999999999"), -1);
    }

    /// glibc's `strtoul()` (behind `sscanf("%u")` and `"%o"`) saturates
    /// at ULONG_MAX on overflow *before* a minus sign could negate the
    /// value; only values that fit an unsigned long are negated. Found by
    /// the cprims fuzz target; checked with Debian's libwrap (daemon
    /// pattern `-99999999999999999999999` is a name, not port 1).
    #[test]
    fn unsigned_overflow_saturates_before_the_sign() {
        assert_eq!(
            scan_uint_complete(b"-99999999999999999999999"),
            Some(u32::MAX)
        );
        assert_eq!(
            scan_uint_complete(b"99999999999999999999999"),
            Some(u32::MAX)
        );
        assert_eq!(scan_uint_complete(b"-18446744073709551616"), Some(u32::MAX));
        assert_eq!(scan_uint_complete(b"-18446744073709551615"), Some(1));
        assert_eq!(scan_uint_complete(b"18446744073709551615"), Some(u32::MAX));
        assert_eq!(scan_uint_complete(b"-4294967297"), Some(u32::MAX));
        assert_eq!(
            scan_octal_complete(b"-7777777777777777777777777"),
            Some(u32::MAX)
        );
        assert_eq!(scan_octal_complete(b"-1777777777777777777777"), Some(1));
        assert_eq!(
            scan_uint_prefix(b" -99999999999999999999 ,"),
            Some((u32::MAX, 22))
        );
    }

    /// Scopes as glibc's getaddrinfo(AI_NUMERICHOST) takes them (checked
    /// with Debian's libwrap; found by the differential fuzz target).
    #[test]
    fn v6_scopes() {
        let ok = |s: &str| parse_v6(s.as_bytes()).is_some();
        assert!(ok("fe80::1%eth0") && ok("fe80::1%7") && ok("2001:db8::1%7") && ok("ff02::1%lo"));
        assert!(!ok("2001:db8::1%lo") && !ok("::ffff:10%.0.1") && !ok("fe80::1%"));
        assert!(!ok("fe80::1%4294967296") && !ok("2001:db8::1%+1") && !ok("2001:db8::1%1x"));
        assert!(ok("fe80::1%4294967295") && ok("fe80::1%01") && !ok("fe80::1%a/b"));
    }

    #[test]
    fn ntop6() {
        let f = |s: &str| String::from_utf8(fmt_v6(s.parse().unwrap())).unwrap();
        assert_eq!(f("::1"), "::1");
        assert_eq!(f("::"), "::");
        assert_eq!(f("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
        assert_eq!(f("::2.3.4.5"), "::2.3.4.5");
        assert_eq!(f("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(f("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
        assert_eq!(f("fe80::1"), "fe80::1");
        assert_eq!(f("1::"), "1::");
    }

    #[test]
    fn chop_and_split() {
        assert_eq!(chop(b"  a b \n"), b"a b");
        assert_eq!(chop(b" \n"), b"");
        assert_eq!(split_at_bracket(b"[a:b]:c:d", b':'), Some(5));
        assert_eq!(split_at_bracket(b"]a:b", b':'), None);
    }
}
