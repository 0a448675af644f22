//! RFC 1413 reply parsing (§8), as the original's
//! `sscanf(line, "%u , %u : USERID :%*[^:]:%255s", …)` accepts it.

use crate::text::{is_c_space, scan_uint_prefix};

/// The query line for a connection: `CLIENTPORT,SERVERPORT\r\n`.
pub fn query(client_port: u16, server_port: u16) -> Vec<u8> {
    format!("{client_port},{server_port}\r\n").into_bytes()
}

struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && is_c_space(self.s[self.i]) {
            self.i += 1;
        }
    }
    fn lit(&mut self, b: u8) -> Option<()> {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    /// `%u`: white space, sign, decimal digits (glibc's conversion).
    fn uint(&mut self) -> Option<u32> {
        let (v, used) = scan_uint_prefix(&self.s[self.i..])?;
        self.i += used;
        Some(v)
    }
}

/// Parse the first reply line (the text up to and including its newline).
/// Returns the user when the reply is a USERID reply for the given ports.
pub fn parse_reply(line: &[u8], client_port: u16, server_port: u16) -> Option<Vec<u8>> {
    // A C string ends at the first NUL.
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let mut sc = Scan { s: line, i: 0 };
    let rport = sc.uint()?;
    sc.ws();
    sc.lit(b',')?;
    let oport = sc.uint()?;
    sc.ws();
    sc.lit(b':')?;
    sc.ws();
    for &b in b"USERID" {
        sc.lit(b)?;
    }
    sc.ws();
    sc.lit(b':')?;
    // %*[^:]: at least one non-colon byte.
    let start = sc.i;
    while sc.i < sc.s.len() && sc.s[sc.i] != b':' {
        sc.i += 1;
    }
    if sc.i == start {
        return None;
    }
    sc.lit(b':')?;
    // %255s
    sc.ws();
    let ustart = sc.i;
    while sc.i < sc.s.len() && !is_c_space(sc.s[sc.i]) && sc.i - ustart < 255 {
        sc.i += 1;
    }
    if sc.i == ustart {
        return None;
    }
    if rport != u32::from(client_port) || oport != u32::from(server_port) {
        return None;
    }
    let mut user = sc.s[ustart..sc.i].to_vec();
    if let Some(p) = memchr::memchr(b'\r', &user) {
        user.truncate(p);
    }
    Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_reply(s.as_bytes(), 1000, 2000).map(|u| String::from_utf8(u).unwrap())
    }

    /// §13.4 with C = 1000, S = 2000.
    #[test]
    fn reference_replies() {
        assert_eq!(
            p("1000 , 2000 : USERID : UNIX : alice\r\n").as_deref(),
            Some("alice")
        );
        assert_eq!(
            p("1000,2000:USERID:UNIX:alice\r\n").as_deref(),
            Some("alice")
        );
        assert_eq!(
            p("  1000  ,  2000  :  USERID  :  UNIX  :   bob  \n").as_deref(),
            Some("bob")
        );
        assert_eq!(
            p("1000 , 2000 : USERID : UNIX : bob\r\nextra\r\n").as_deref(),
            Some("bob")
        );
        assert_eq!(
            p("1000 , 2000 : USERID : : alice\r\n").as_deref(),
            Some("alice")
        );
        assert_eq!(p("1000 , 2000 : USERID ::alice\r\n"), None);
        assert_eq!(p("1000 , 2000 : USERID : UNIX :\r\n"), None);
        assert_eq!(p("2000 , 1000 : USERID : UNIX : alice\r\n"), None);
        assert_eq!(p("1000 , 2000 : ERROR : NO-USER\r\n"), None);
        assert_eq!(p("1000 , 2000 : userid : UNIX : alice\r\n"), None);
        assert_eq!(
            p("1000 , 2000 : USERID : UNIX : alice smith\r\n").as_deref(),
            Some("alice")
        );
        assert_eq!(
            p("1000 , 2000 : USERID : UNIX,US-ASCII : al;ice$\r\n").as_deref(),
            Some("al;ice$")
        );
        // A port that overflows an unsigned long is ULONG_MAX for glibc's
        // %u whatever its sign; one that fits is negated (found by the
        // cprims fuzz target in the shared conversion; the ident target
        // compares the whole parser with glibc's sscanf).
        let q =
            |s: &str, c| parse_reply(s.as_bytes(), c, 2000).map(|u| String::from_utf8(u).unwrap());
        assert_eq!(
            q("-99999999999999999999 , 2000 : USERID : UNIX : root\r\n", 1),
            None
        );
        assert_eq!(
            q("-18446744073709551615 , 2000 : USERID : UNIX : root\r\n", 1).as_deref(),
            Some("root")
        );
        assert_eq!(
            q("-4294966296 , 2000 : USERID : UNIX : root\r\n", 1000).as_deref(),
            Some("root")
        );
        let long = format!("1000 , 2000 : USERID : UNIX : {}\r\n", "x".repeat(300));
        assert_eq!(p(&long).unwrap().len(), 255);
    }
}
