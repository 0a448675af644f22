//! The option language of the third rule field (§4): splitting, keyword and
//! value rules, and value validation with Debian's error texts.

use crate::text::{chop, eq_ci, scan_int_complete, scan_octal_complete, split_at_bracket};

/// Option keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptKind {
    User,
    Group,
    Umask,
    Linger,
    Keepalive,
    Spawn,
    Twist,
    Rfc931,
    Setenv,
    Nice,
    Severity,
    Allow,
    Deny,
    Banners,
    Aclexec,
    /// `alert NAME [OUTPUT]`: a passive check result through the sinks of
    /// the alerts config (not in Debian: see docs/alerts.md).
    Alert,
}

const NEED: u8 = 1;
const OPT: u8 = 2;
const EXPAND: u8 = 4;
const LAST: u8 = 8;

/// The option table, in the original's order.
pub const OPTIONS: &[(&str, OptKind, u8)] = &[
    ("user", OptKind::User, NEED),
    ("group", OptKind::Group, NEED),
    ("umask", OptKind::Umask, NEED),
    ("linger", OptKind::Linger, NEED),
    ("keepalive", OptKind::Keepalive, 0),
    ("spawn", OptKind::Spawn, NEED | EXPAND),
    ("twist", OptKind::Twist, NEED | EXPAND | LAST),
    ("rfc931", OptKind::Rfc931, OPT),
    ("setenv", OptKind::Setenv, NEED | EXPAND),
    ("nice", OptKind::Nice, OPT),
    ("severity", OptKind::Severity, NEED),
    ("allow", OptKind::Allow, LAST),
    ("deny", OptKind::Deny, LAST),
    ("banners", OptKind::Banners, NEED),
    ("aclexec", OptKind::Aclexec, NEED | EXPAND),
    ("alert", OptKind::Alert, NEED | EXPAND),
];

impl OptKind {
    pub fn lookup(key: &[u8]) -> Option<OptKind> {
        OPTIONS
            .iter()
            .find(|(n, _, _)| eq_ci(n.as_bytes(), key))
            .map(|&(_, k, _)| k)
    }
    fn flags(self) -> u8 {
        OPTIONS
            .iter()
            .find(|(_, k, _)| *k == self)
            .map(|&(_, _, f)| f)
            .unwrap_or(0)
    }
    pub fn name(self) -> &'static str {
        OPTIONS
            .iter()
            .find(|(_, k, _)| *k == self)
            .map(|&(n, _, _)| n)
            .unwrap_or("")
    }
    pub fn needs_value(self) -> bool {
        self.flags() & NEED != 0
    }
    pub fn permits_value(self) -> bool {
        self.flags() & (NEED | OPT) != 0
    }
    pub fn expands(self) -> bool {
        self.flags() & EXPAND != 0
    }
    pub fn must_be_last(self) -> bool {
        self.flags() & LAST != 0
    }
}

/// One `:`-separated field of an option string (`get_field`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field text with `\:` turned into `:`.
    pub text: Vec<u8>,
    /// Byte offset of the field in the option string.
    pub offset: usize,
    /// Extracting this field logged `rule ends in ":"`.
    pub ends_in_colon: bool,
}

/// Split an option string into fields like the original `get_field()`: `:`
/// separates, `\:` is a literal colon, any other backslash is kept.
pub fn split_fields(s: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let offset = pos;
        let mut text = Vec::new();
        let mut ends_in_colon = false;
        while pos < s.len() {
            let ch = s[pos];
            if ch == b':' {
                pos += 1;
                if pos == s.len() {
                    ends_in_colon = true;
                }
                break;
            }
            if ch == b'\\' && s.get(pos + 1) == Some(&b':') {
                pos += 1;
            }
            text.push(s[pos]);
            pos += 1;
        }
        out.push(Field {
            text,
            offset,
            ends_in_colon,
        });
    }
    out
}

/// Keyword and value of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
    /// Offset of the keyword inside the field text.
    pub key_offset: usize,
}

/// Separate keyword and value: the keyword ends at the first `=` or white
/// space; white space, then one `=`, then white space are skipped.
pub fn key_value(field: &[u8]) -> KeyValue<'_> {
    let c = chop(field);
    let key_offset = c.as_ptr() as usize - field.as_ptr() as usize;
    let is_ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let Some(k) = c.iter().position(|&b| b == b'=' || is_ws(b)) else {
        return KeyValue {
            key: c,
            value: None,
            key_offset,
        };
    };
    let key = &c[..k];
    let mut v = k;
    if c[v] != b'=' {
        v += 1;
        while v < c.len() && is_ws(c[v]) {
            v += 1;
        }
    }
    if v < c.len() && c[v] == b'=' {
        v += 1;
        while v < c.len() && is_ws(c[v]) {
            v += 1;
        }
    }
    let value = if v < c.len() { Some(&c[v..]) } else { None };
    KeyValue {
        key,
        value,
        key_offset,
    }
}

fn quoted(prefix: &str, v: &[u8]) -> Vec<u8> {
    let mut m = prefix.as_bytes().to_vec();
    m.push(b'"');
    m.extend_from_slice(v);
    m.push(b'"');
    m
}

/// syslog facilities accepted by `severity`.
const FACILITIES: &[(&str, i32)] = &[
    ("kern", 0),
    ("user", 8),
    ("mail", 16),
    ("daemon", 24),
    ("auth", 32),
    ("lpr", 48),
    ("news", 56),
    ("uucp", 64),
    ("cron", 72),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];

/// syslog levels accepted by `severity`.
const LEVELS: &[(&str, i32)] = &[
    ("emerg", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("warning", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

fn map(table: &[(&str, i32)], name: &[u8]) -> Result<i32, Vec<u8>> {
    table
        .iter()
        .find(|(n, _)| eq_ci(n.as_bytes(), name))
        .map(|&(_, v)| v)
        .ok_or_else(|| quoted("bad syslog facility or severity: ", name))
}

/// `severity [FACILITY.]LEVEL` → syslog priority.
pub fn parse_severity(v: &[u8]) -> Result<i32, Vec<u8>> {
    match split_at_bracket(v, b'.') {
        Some(p) => Ok(map(FACILITIES, &v[..p])? | map(LEVELS, &v[p + 1..])?),
        None => map(LEVELS, v),
    }
}

/// `rfc931 N`: a complete integer > 0.
pub fn parse_rfc931(v: &[u8]) -> Result<u32, Vec<u8>> {
    match scan_int_complete(v) {
        Some(n) if n > 0 => Ok(n as u32),
        _ => Err(quoted("bad rfc931 timeout: ", v)),
    }
}

/// `linger N`: a complete integer ≥ 0.
pub fn parse_linger(v: &[u8]) -> Result<i32, Vec<u8>> {
    match scan_int_complete(v) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(quoted("bad linger value: ", v)),
    }
}

/// `nice [N]`: a complete integer, 10 by default.
pub fn parse_nice(v: Option<&[u8]>) -> Result<i32, Vec<u8>> {
    match v {
        None => Ok(10),
        Some(v) => scan_int_complete(v).ok_or_else(|| quoted("bad nice value: ", v)),
    }
}

/// `umask N`: a complete octal number within 0777.
pub fn parse_umask(v: &[u8]) -> Result<u32, Vec<u8>> {
    match scan_octal_complete(v) {
        Some(m) if m & 0o777 == m => Ok(m),
        _ => Err(quoted("bad umask value: ", v)),
    }
}

/// `setenv NAME value…` → (NAME, value), both trimmed.
pub fn parse_setenv(v: &[u8]) -> Result<(&[u8], &[u8]), Vec<u8>> {
    let p = v
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(v.len());
    let name = chop(&v[..p]);
    let value = if p < v.len() {
        chop(&v[p + 1..])
    } else {
        &v[v.len()..]
    };
    if name.is_empty() || name.contains(&b'=') {
        return Err(b"memory allocation failure".to_vec());
    }
    Ok((name, value))
}

/// `alert NAME [OUTPUT…]` (after expansion) → (NAME, OUTPUT): the first
/// white-space-delimited word is the alert name, the trimmed rest, if any,
/// overrides the alert's output template. `None` when the value holds no
/// word at all (an expansion that came out empty).
pub fn parse_alert(v: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let v = chop(v);
    if v.is_empty() {
        return None;
    }
    let p = v
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(v.len());
    let rest = chop(&v[p..]);
    Some((&v[..p], (!rest.is_empty()).then_some(rest)))
}

/// `user U[.G]` → (U, Some(G)).
pub fn parse_user(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    match split_at_bracket(v, b'.') {
        Some(p) => (&v[..p], Some(&v[p + 1..])),
        None => (v, None),
    }
}

pub fn unknown_user(v: &[u8]) -> Vec<u8> {
    quoted("unknown user: ", v)
}
pub fn unknown_group(v: &[u8]) -> Vec<u8> {
    quoted("unknown group: ", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let f = split_fields(b" setenv A %a\\:%d: allow\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].text, b" setenv A %a:%d");
        assert_eq!(f[1].text, b" allow\n");
        let f = split_fields(b"allow:");
        assert_eq!(f.len(), 1);
        assert!(f[0].ends_in_colon);
        let f = split_fields(b"\n");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn key_values() {
        for s in [
            "severity mail.info",
            "severity=mail.info",
            "severity = mail.info",
            "severity =mail.info",
        ] {
            let kv = key_value(s.as_bytes());
            assert_eq!(kv.key, b"severity");
            assert_eq!(kv.value, Some(&b"mail.info"[..]));
        }
        assert_eq!(key_value(b"spawn = = x").value, Some(&b"= x"[..]));
        assert_eq!(key_value(b"keepalive=").value, None);
        assert_eq!(key_value(b"=allow").key, b"");
        assert_eq!(key_value(b"setenv =x").value, Some(&b"x"[..]));
    }

    #[test]
    fn severities() {
        assert_eq!(parse_severity(b"mail.info"), Ok(22));
        assert_eq!(parse_severity(b"Mail.Info"), Ok(22));
        assert_eq!(parse_severity(b"cron.notice"), Ok(77));
        assert_eq!(parse_severity(b"local5.debug"), Ok(175));
        assert_eq!(parse_severity(b"local7.debug"), Ok(191));
        assert_eq!(parse_severity(b"kern.emerg"), Ok(0));
        assert_eq!(parse_severity(b"emerg"), Ok(0));
        assert_eq!(
            parse_severity(b"mail.").unwrap_err(),
            b"bad syslog facility or severity: \"\""
        );
        assert_eq!(
            parse_severity(b".info").unwrap_err(),
            b"bad syslog facility or severity: \"\""
        );
        assert_eq!(
            parse_severity(b"mail . info").unwrap_err(),
            b"bad syslog facility or severity: \"mail \""
        );
        for bad in ["authpriv.info", "warn", "syslog.info", "7"] {
            assert!(parse_severity(bad.as_bytes()).is_err());
        }
    }

    #[test]
    fn values() {
        assert_eq!(parse_rfc931(b"+3"), Ok(3));
        assert!(parse_rfc931(b"0").is_err());
        assert_eq!(
            parse_linger(b"5x").unwrap_err(),
            b"bad linger value: \"5x\""
        );
        assert_eq!(
            parse_linger(b"-1").unwrap_err(),
            b"bad linger value: \"-1\""
        );
        assert_eq!(parse_nice(None), Ok(10));
        assert_eq!(parse_nice(Some(b"+5")), Ok(5));
        assert_eq!(parse_umask(b"0"), Ok(0));
        assert_eq!(parse_umask(b"0777"), Ok(0o777));
        for bad in ["8", "0x1", "01777"] {
            assert!(parse_umask(bad.as_bytes()).is_err());
        }
        // Octal overflow saturates before the sign (glibc's strtoul):
        // Debian rejects the first, accepts the second as umask 1.
        assert!(parse_umask(b"-7777777777777777777777777").is_err());
        assert_eq!(parse_umask(b"-1777777777777777777777"), Ok(1));
        assert_eq!(parse_setenv(b"X  a  b"), Ok((&b"X"[..], &b"a  b"[..])));
        assert_eq!(parse_setenv(b"x"), Ok((&b"x"[..], &b""[..])));
        assert!(parse_setenv(b"A=B").is_err());
    }

    #[test]
    fn alerts() {
        assert_eq!(
            parse_alert(b"tcp-wrappers"),
            Some((&b"tcp-wrappers"[..], None))
        );
        assert_eq!(
            parse_alert(b"  tw \t Denied sshd-host  \n"),
            Some((&b"tw"[..], Some(&b"Denied sshd-host"[..])))
        );
        assert_eq!(
            parse_alert(b"tw a  b"),
            Some((&b"tw"[..], Some(&b"a  b"[..])))
        );
        assert_eq!(parse_alert(b"tw   "), Some((&b"tw"[..], None)));
        assert_eq!(parse_alert(b" \t"), None);
        assert_eq!(parse_alert(b""), None);
        assert_eq!(OptKind::lookup(b"ALERT"), Some(OptKind::Alert));
        assert!(OptKind::Alert.needs_value());
        assert!(OptKind::Alert.expands());
        assert!(!OptKind::Alert.must_be_last());
    }
}
