//! The text format of the `table`, `expand`, `options` and `differential`
//! inputs: readable, so that seeds can be written from the test vectors and
//! a crash input can be read as it is.
//!
//! ```text
//! daemon=sshd            <- header: one key=value per line
//! caddr=10.0.0.1
//! %%%                    <- section separator: "%%%\n", anywhere
//! sshd: 10.0.0.1         <- section 1 (the allow table, an option
//! %%%                       string, an expansion pattern ...)
//! ALL: ALL               <- section 2 (the deny table ...)
//! ```
//!
//! Header values take the escapes `\n`, `\t`, `\\`, `\0` and `\xHH`; any
//! other byte is itself. Unknown keys are ignored (so mutations that break
//! a key do not make the input useless). Sections hold raw bytes: a table
//! without a final newline is a section that ends without one.

use std::net::{IpAddr, SocketAddr};

/// The section separator.
pub const SEP: &[u8] = b"%%%\n";

/// One parsed input.
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// Header pairs in order (a key may repeat).
    pub header: Vec<(Vec<u8>, Vec<u8>)>,
    /// The sections after the header.
    pub sections: Vec<Vec<u8>>,
}

/// Decode the value escapes.
pub fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            match v[i + 1] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    match v.get(i + 2..i + 4) {
                        Some(h) if h.iter().all(u8::is_ascii_hexdigit) => {
                            let hi = (h[0] as char).to_digit(16).unwrap_or(0);
                            let lo = (h[1] as char).to_digit(16).unwrap_or(0);
                            out.push((hi * 16 + lo) as u8);
                            i += 4;
                        }
                        _ => {
                            out.push(b'\\');
                            i += 1;
                        }
                    }
                    continue;
                }
                _ => {
                    out.push(b'\\');
                    i += 1;
                    continue;
                }
            }
            i += 2;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

/// Encode bytes for a header value (the inverse of [`unescape`]).
pub fn escape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for &b in v {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0 => out.extend_from_slice(b"\\0"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out
}

fn split_sep(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    loop {
        match memchr::memmem::find(rest, SEP) {
            Some(p) => {
                parts.push(&rest[..p]);
                rest = &rest[p + SEP.len()..];
            }
            None => {
                parts.push(rest);
                return parts;
            }
        }
    }
}

impl Case {
    pub fn parse(data: &[u8]) -> Case {
        let mut parts = split_sep(data).into_iter();
        let head = parts.next().unwrap_or_default();
        let mut header = Vec::new();
        for line in head.split(|&b| b == b'\n') {
            if let Some(eq) = memchr::memchr(b'=', line) {
                header.push((line[..eq].to_vec(), unescape(&line[eq + 1..])));
            }
        }
        Case {
            header,
            sections: parts.map(<[u8]>::to_vec).collect(),
        }
    }

    /// The text form (for seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in &self.header {
            out.extend_from_slice(k);
            out.push(b'=');
            out.extend_from_slice(&escape(v));
            out.push(b'\n');
        }
        for s in &self.sections {
            out.extend_from_slice(SEP);
            out.extend_from_slice(s);
        }
        out
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.header
            .iter()
            .rev()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.header
            .iter()
            .filter(move |(k, _)| k == key.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// A small number (decimal), `default` when absent or malformed.
    pub fn num(&self, key: &str, default: u64) -> u64 {
        self.get(key)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }

    pub fn flag(&self, key: &str) -> bool {
        self.num(key, 0) != 0
    }

    /// Section `i` (empty when absent).
    pub fn section(&self, i: usize) -> &[u8] {
        self.sections.get(i).map(Vec::as_slice).unwrap_or_default()
    }
}

/// `IP|PORT` or `IP` (port 0).
pub fn parse_sin(v: &[u8]) -> Option<SocketAddr> {
    let s = std::str::from_utf8(v).ok()?;
    let (ip, port) = match s.rsplit_once('|') {
        Some((ip, port)) => (ip, port.parse().ok()?),
        None => (s, 0),
    };
    let ip: IpAddr = ip.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Case {
            header: vec![
                (b"daemon".to_vec(), b"ss\nhd\0\\x\xff".to_vec()),
                (b"caddr".to_vec(), b"10.0.0.1".to_vec()),
            ],
            sections: vec![b"sshd: ALL\n".to_vec(), b"ALL: ALL".to_vec()],
        };
        let b = c.to_bytes();
        let d = Case::parse(&b);
        assert_eq!(d.header, c.header);
        assert_eq!(d.sections, c.sections);
        assert_eq!(d.get("caddr"), Some(&b"10.0.0.1"[..]));
        assert_eq!(d.section(2), b"");
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(b"a\\x41\\x4"), b"aA\\x4");
        assert_eq!(unescape(b"\\q\\"), b"\\q\\");
        assert_eq!(unescape(b"\\x4g"), b"\\x4g");
    }
}
