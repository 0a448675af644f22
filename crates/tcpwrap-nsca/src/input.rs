//! `send_nsca`'s standard input (§3.3 of the reference), as Debian's 2.10.2
//! reads it: pure functions over bytes, no I/O.
//!
//! - The input is cut into *result sets* at the set separator (ETB, 0x17,
//!   by default; `-ds`). A set may hold newlines: they belong to the plugin
//!   output. A set of more than [`MAX_SET`] bytes ends the program
//!   ([`SetSplitter`]).
//! - Each set is cut at its first NUL, loses its trailing spaces, TABs, CRs
//!   and LFs, and is split like C `strtok` on the field delimiter (TAB by
//!   default; `-d`): runs of delimiters count as one and leading ones are
//!   skipped. Three fields make a host result, four or more a service result
//!   whose output is the rest of the set ([`parse_set`]).
//! - Return codes are C `atoi` truncated to 16 bits ([`atoi`]).
//! - `-d`/`-ds` arguments: one character is taken literally, a longer one
//!   starting with a digit, `+` or `-` is a number (C `strtol`, base 0),
//!   any other its first byte ([`parse_delimiter`]).

use crate::packet::CheckResult;

/// The default field delimiter.
pub const FIELD_DELIMITER: u8 = b'\t';
/// The default set separator: ETB (`^W`).
pub const SET_SEPARATOR: u8 = 0x17;
/// The longest set: a set of `MAX_SET` bytes may only be ended by the end
/// of the input; one more byte of any kind (even the separator) is too
/// many (Debian's input buffer).
pub const MAX_SET: usize = 5120;

/// C `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Digits of `s` in `radix`, accumulated like glibc's `strtol`: the value
/// saturates at `i64::MAX` (or `i64::MIN` when negative). Returns the value
/// and the number of digits used.
fn strtol_digits(s: &[u8], radix: u32, negative: bool) -> (i64, usize) {
    let mut acc: i64 = 0;
    let mut overflow = false;
    let mut n = 0;
    for &b in s {
        let Some(d) = (b as char).to_digit(radix) else {
            break;
        };
        n += 1;
        if overflow {
            continue;
        }
        // Accumulate negatively so that i64::MIN is reachable.
        match acc
            .checked_mul(i64::from(radix))
            .and_then(|v| v.checked_sub(i64::from(d)))
        {
            Some(v) => acc = v,
            None => overflow = true,
        }
    }
    let value = if overflow {
        if negative { i64::MIN } else { i64::MAX }
    } else if negative {
        acc
    } else {
        acc.checked_neg().unwrap_or(i64::MAX)
    };
    (value, n)
}

/// C `strtol(s, NULL, base)` for base 10 or 0 (0: `0x` hexadecimal, a
/// leading `0` octal, else decimal), on a 64-bit `long`: leading white
/// space and a sign are accepted, parsing stops at the first byte that is
/// not a digit, overflow saturates.
pub fn strtol(s: &[u8], base: u32) -> i64 {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    if base == 0 {
        if rest.len() > 2
            && rest[0] == b'0'
            && (rest[1] | 0x20) == b'x'
            && (rest[2] as char).is_ascii_hexdigit()
        {
            return strtol_digits(&rest[2..], 16, negative).0;
        }
        if rest.first() == Some(&b'0') {
            return strtol_digits(rest, 8, negative).0;
        }
        return strtol_digits(rest, 10, negative).0;
    }
    strtol_digits(rest, base, negative).0
}

/// C `atoi` as glibc implements it: `(int) strtol(s, NULL, 10)`, so an
/// out-of-range value keeps its low 32 bits (`99999999999` is
/// `1215752191`).
pub fn atoi(s: &[u8]) -> i32 {
    strtol(s, 10) as i32
}

/// A return code as `send_nsca` puts it on the wire: `atoi`, then the low
/// 16 bits (`70000` is `4464`, `-1` is `-1`, `CRIT` is `0`).
pub fn return_code(s: &[u8]) -> i16 {
    atoi(s) as i16
}

/// The byte a `-d` or `-ds` argument stands for: a single byte is itself
/// (`-d 9` is the character `9`); a longer argument that starts with a
/// digit, `+` or `-` is a C `strtol` number with base 0 (`0x09`, `011`, `9x`
/// are TAB; `59` is `;`) whose low 8 bits are taken; any other argument
/// stands for its first byte (`ab` is `a`), and an empty one for NUL.
///
/// A NUL field delimiter leaves every set a single field (so nothing is
/// sent); a NUL set separator splits the input at NUL bytes.
pub fn parse_delimiter(arg: &[u8]) -> u8 {
    match arg {
        [] => 0,
        [c] => *c,
        [c, ..] if c.is_ascii_digit() || *c == b'+' || *c == b'-' => strtol(arg, 0) as u8,
        [c, ..] => *c,
    }
}

/// A set longer than [`MAX_SET`] bytes: `send_nsca` prints
/// `Error: Input set is longer than max allowed.` and exits with 255.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetTooLong;

impl std::fmt::Display for SetTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Input set is longer than max allowed.")
    }
}

impl std::error::Error for SetTooLong {}

/// Cuts a byte stream into result sets, however the stream arrives in
/// pieces.
#[derive(Debug, Clone)]
pub struct SetSplitter {
    separator: u8,
    current: Vec<u8>,
    failed: bool,
}

impl SetSplitter {
    pub fn new(separator: u8) -> SetSplitter {
        SetSplitter {
            separator,
            current: Vec::new(),
            failed: false,
        }
    }

    /// Feed the next piece of input. Returns the sets it completes, in
    /// order; an `Err` is always last, and after it the splitter ignores
    /// all further input (the sets before it are still to be sent, as
    /// `send_nsca` had already sent them).
    pub fn feed(&mut self, data: &[u8]) -> Vec<Result<Vec<u8>, SetTooLong>> {
        let mut out = Vec::new();
        if self.failed {
            return out;
        }
        for &b in data {
            if self.current.len() >= MAX_SET {
                self.failed = true;
                self.current.clear();
                out.push(Err(SetTooLong));
                return out;
            }
            if b == self.separator {
                out.push(Ok(std::mem::take(&mut self.current)));
            } else {
                self.current.push(b);
            }
        }
        out
    }

    /// The end of the input: the last set (possibly empty), or nothing
    /// after an error.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if self.failed {
            None
        } else {
            Some(std::mem::take(&mut self.current))
        }
    }
}

/// C `strtok`: skip leading delimiters, then take bytes up to the next
/// delimiter, which is consumed. Returns the token and the rest after it.
fn strtok(s: &[u8], delim: u8) -> Option<(&[u8], &[u8])> {
    if delim == 0 {
        // strtok with an empty delimiter set: the whole string.
        return if s.is_empty() { None } else { Some((s, &[])) };
    }
    let start = s.iter().position(|&b| b != delim)?;
    let s = &s[start..];
    match s.iter().position(|&b| b == delim) {
        Some(end) => Some((&s[..end], &s[end + 1..])),
        None => Some((s, &[])),
    }
}

/// One result set as `send_nsca` reads it: cut at the first NUL, trailing
/// spaces/TABs/CRs/LFs removed, then split on `delim`. `None` when the set
/// is empty or has fewer than three fields (`send_nsca` skips it silently
/// and does not count it).
///
/// With exactly three fields the set is a host result (host, code, output);
/// with more, a service result whose output is everything after the
/// delimiter that ends the third field, delimiters and newlines included.
/// An empty service or output field thus turns a service result into a
/// host result (`h⇥⇥2⇥out` is host `h`, code 2).
///
/// Field lengths are not limited here: the packet cuts host, service and
/// output to 63, 127 and 4095 (legacy: 511) bytes.
pub fn parse_set(set: &[u8], delim: u8) -> Option<CheckResult> {
    let set = match set.iter().position(|&b| b == 0) {
        Some(n) => &set[..n],
        None => set,
    };
    let end = set
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |p| p + 1);
    let set = &set[..end];
    if set.is_empty() {
        return None;
    }
    let (f1, rest) = strtok(set, delim)?;
    let (f2, rest) = strtok(rest, delim)?;
    let (f3, rest) = strtok(rest, delim)?;
    if rest.is_empty() {
        Some(CheckResult {
            host: f1.to_vec(),
            service: None,
            code: return_code(f2),
            output: f3.to_vec(),
        })
    } else {
        Some(CheckResult {
            host: f1.to_vec(),
            service: Some(f2.to_vec()),
            code: return_code(f3),
            output: rest.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(h: &str, s: &str, code: i16, o: &str) -> Option<CheckResult> {
        Some(CheckResult {
            host: h.as_bytes().to_vec(),
            service: Some(s.as_bytes().to_vec()),
            code,
            output: o.as_bytes().to_vec(),
        })
    }

    fn host(h: &str, code: i16, o: &str) -> Option<CheckResult> {
        Some(CheckResult {
            host: h.as_bytes().to_vec(),
            service: None,
            code,
            output: o.as_bytes().to_vec(),
        })
    }

    fn split_all(sep: u8, pieces: &[&[u8]]) -> (Vec<Vec<u8>>, bool, Option<Vec<u8>>) {
        let mut s = SetSplitter::new(sep);
        let mut sets = Vec::new();
        let mut err = false;
        for p in pieces {
            for r in s.feed(p) {
                match r {
                    Ok(v) => sets.push(v),
                    Err(SetTooLong) => err = true,
                }
            }
        }
        (sets, err, s.finish())
    }

    #[test]
    fn service_and_host_results() {
        assert_eq!(
            parse_set(b"web01\tsshd\t2\tREFUSED sshd", b'\t'),
            svc("web01", "sshd", 2, "REFUSED sshd")
        );
        assert_eq!(
            parse_set(b"web01\t1\thost down\n", b'\t'),
            host("web01", 1, "host down")
        );
    }

    /// §3.3: a newline does not end a result; the rest of the set,
    /// delimiters and newlines included, is the output.
    #[test]
    fn newline_stays_in_output() {
        assert_eq!(
            parse_set(b"h1\ts1\t0\tone\nh2\ts2\t1\ttwo\n", b'\t'),
            svc("h1", "s1", 0, "one\nh2\ts2\t1\ttwo")
        );
        // The delimiter after field 3 is consumed, later ones are output.
        assert_eq!(
            parse_set(b"h\ts\t0\t\to\t\tp", b'\t'),
            svc("h", "s", 0, "\to\t\tp")
        );
        assert_eq!(
            parse_set(b"h\ts\t0\t\n\n \no", b'\t'),
            svc("h", "s", 0, "\n\n \no")
        );
    }

    /// strtok collapsing: runs of delimiters are one, leading ones skipped.
    #[test]
    fn delimiter_runs_collapse() {
        assert_eq!(
            parse_set(b"h\t\ts\t\t0\t\to", b'\t'),
            svc("h", "s", 0, "\to")
        );
        assert_eq!(parse_set(b"\th\ts\t0\to", b'\t'), svc("h", "s", 0, "o"));
        // Empty service: a host result (trap 11).
        assert_eq!(parse_set(b"h1\t\t2\tout", b'\t'), host("h1", 2, "out"));
        // Empty output: the trailing TAB is stripped, then 3 fields.
        assert_eq!(parse_set(b"h1\tsvc\t2\t", b'\t'), host("h1", 0, "2"));
        // A trailing delimiter that is not white space is not stripped,
        // but the fourth field is empty: still a host result.
        assert_eq!(parse_set(b"h;s;0;", b';'), host("h", 0, "0"));
        assert_eq!(parse_set(b"h;s;0;;", b';'), svc("h", "s", 0, ";"));
        assert_eq!(parse_set(b"h;s;0;x;", b';'), svc("h", "s", 0, "x;"));
    }

    #[test]
    fn too_few_fields_or_empty() {
        assert_eq!(parse_set(b"h\t0", b'\t'), None);
        assert_eq!(parse_set(b"", b'\t'), None);
        assert_eq!(parse_set(b" \t\r\n", b'\t'), None);
        assert_eq!(parse_set(b"\t\t\t", b'\t'), None);
        // A NUL delimiter leaves one field.
        assert_eq!(parse_set(b"h\ts\t0\to", 0), None);
    }

    /// Only space, TAB, CR and LF are stripped, only at the end; leading
    /// white space and spaces in names are kept.
    #[test]
    fn stripping() {
        assert_eq!(
            parse_set(b"h\ts\t0\to \t\r\n", b'\t'),
            svc("h", "s", 0, "o")
        );
        assert_eq!(
            parse_set(b"h\ts\t0\to\x0b", b'\t'),
            svc("h", "s", 0, "o\x0b")
        );
        assert_eq!(
            parse_set(b"h\ts\t0\to\x0c", b'\t'),
            svc("h", "s", 0, "o\x0c")
        );
        assert_eq!(
            parse_set(b"  h \t s \t 0 \t o", b'\t'),
            svc("  h ", " s ", 0, " o")
        );
    }

    /// The set is a C string: everything from the first NUL is ignored.
    #[test]
    fn nul_ends_the_set() {
        assert_eq!(
            parse_set(b"h\ts\t0\to \0xyz\t ", b'\t'),
            svc("h", "s", 0, "o")
        );
        assert_eq!(parse_set(b"h\ts\t0\t\0xyz", b'\t'), host("h", 0, "0"));
        assert_eq!(parse_set(b"\0h\ts\t0\tx", b'\t'), None);
    }

    #[test]
    fn binary_bytes_pass() {
        let r = parse_set(b"h\xff\ts\x01\t2\t\xc3\xa9\x7f\\x", b'\t').unwrap();
        assert_eq!(r.host, b"h\xff");
        assert_eq!(r.service.as_deref(), Some(&b"s\x01"[..]));
        assert_eq!(r.output, b"\xc3\xa9\x7f\\x");
    }

    #[test]
    fn return_codes() {
        for (s, v) in [
            ("70000", 4464),
            ("-1", -1),
            ("65535", -1),
            ("32768", -32768),
            ("99999999999999999999", -1),
            ("-99999999999999999999", 0),
            ("4294967298", 2),
            (" +5", 5),
            ("0x10", 0),
            ("5abc", 5),
            (" \x0b-7", -7),
            ("- 7", 0),
            ("+-1", 0),
            ("2147483648", 0),
            ("CRIT", 0),
            ("", 0),
        ] {
            assert_eq!(return_code(s.as_bytes()), v, "{s:?}");
        }
        assert_eq!(atoi(b"99999999999"), 1_215_752_191);
        assert_eq!(atoi(b"4294967296"), 0);
        assert_eq!(atoi(b"-2147483649"), i32::MAX);
    }

    #[test]
    fn strtol_base0() {
        assert_eq!(strtol(b"0x3b", 0), 59);
        assert_eq!(strtol(b"0X3B", 0), 59);
        assert_eq!(strtol(b"073", 0), 59);
        assert_eq!(strtol(b"08", 0), 0);
        assert_eq!(strtol(b"0x", 0), 0);
        assert_eq!(strtol(b"0xZZ", 0), 0);
        assert_eq!(strtol(b"-0x3b", 0), -59);
        assert_eq!(strtol(b"+59", 0), 59);
        assert_eq!(strtol(b"59x", 0), 59);
        assert_eq!(strtol(b"99999999999999999999", 0), i64::MAX);
        assert_eq!(strtol(b"-0x8000000000000000", 0), i64::MIN);
        assert_eq!(strtol(b"-0x8000000000000001", 0), i64::MIN);
    }

    /// The `-d`/`-ds` arguments, as observed with Debian's binary.
    #[test]
    fn delimiters() {
        for (arg, want) in [
            (&b";"[..], b';'),
            (b"59", b';'),
            (b"0x3b", b';'),
            (b"0X3b", b';'),
            (b"073", b';'),
            (b"+59", b';'),
            (b"59x", b';'),
            (b"315", b';'),
            (b"9", b'9'),
            (b"0", b'0'),
            (b"+", b'+'),
            (b"-", b'-'),
            (b"0x09", b'\t'),
            (b"011", b'\t'),
            (b"10", b'\n'),
            (b"0x0a", b'\n'),
            (b"", 0),
            (b"00", 0),
            (b"0x", 0),
            (b"08", 0),
            (b"-1", 0xff),
            (b"300", b','),
            (b"-0x3b", 0xc5),
            (b"99999999999", 0xff),
            (b"ab", b'a'),
            (b"a;", b'a'),
            (b" 59", b' '),
        ] {
            assert_eq!(
                parse_delimiter(arg),
                want,
                "{:?}",
                String::from_utf8_lossy(arg)
            );
        }
    }

    #[test]
    fn sets_split_on_etb_across_pieces() {
        let (sets, err, last) = split_all(
            SET_SEPARATOR,
            &[b"h1\ts\t0\tone\x17h2", b"\ts\t1\ttwo\x17\x17", b"tail"],
        );
        assert!(!err);
        assert_eq!(
            sets,
            vec![
                b"h1\ts\t0\tone".to_vec(),
                b"h2\ts\t1\ttwo".to_vec(),
                b"".to_vec()
            ]
        );
        assert_eq!(last.as_deref(), Some(&b"tail"[..]));
        // -ds 0x0a restores one result per line.
        let (sets, _, last) = split_all(b'\n', &[b"a\tb\t0\tx\nc\td\t1\ty\n"]);
        assert_eq!(sets.len(), 2);
        assert_eq!(last.as_deref(), Some(&b""[..]));
    }

    /// A set of exactly MAX_SET bytes is fine at the end of the input, but
    /// any byte after it (the separator too) is an error; earlier sets are
    /// returned first.
    #[test]
    fn set_limit() {
        let full = vec![b'o'; MAX_SET];
        let (_, err, last) = split_all(SET_SEPARATOR, &[&full]);
        assert!(!err);
        assert_eq!(last.unwrap().len(), MAX_SET);

        let (sets, err, last) = split_all(SET_SEPARATOR, &[&full[..MAX_SET - 1], b"\x17x"]);
        assert!(!err);
        assert_eq!(sets[0].len(), MAX_SET - 1);
        assert_eq!(last.as_deref(), Some(&b"x"[..]));

        for tail in [&b"\x17"[..], b"\n", b"o"] {
            let mut s = SetSplitter::new(SET_SEPARATOR);
            let mut r = s.feed(b"first\x17");
            r.extend(s.feed(&full));
            r.extend(s.feed(tail));
            assert_eq!(r.len(), 2);
            assert_eq!(r[0], Ok(b"first".to_vec()));
            assert_eq!(r[1], Err(SetTooLong));
            assert!(s.feed(b"more\x17").is_empty());
            assert_eq!(s.finish(), None);
        }
    }
}
