//! The RFC 1413 reply parser (tcpwrap-core/src/ident.rs) against the C
//! library: Debian's libwrap parses the reply with
//! `sscanf(line, "%u , %u : USERID :%*[^:]:%255s", …) == 3` and compares
//! the two ports, so glibc's own `sscanf` is the oracle, in this process.
//!
//! Input (see src/case.rs): `cport=N`, `sport=N` (the connection's client
//! and server ports); section 1 is the reply line as read from the ident
//! server (any bytes: the server is the client's, an attacker's).
//!
//! Oracle: `parse_reply` gives exactly glibc's user (or nothing), and a
//! user is 1 to 255 bytes without NUL, CR or white space.

#![no_main]

use std::ffi::{CString, c_char, c_uint};

use libfuzzer_sys::fuzz_target;
use tcpwrap_core::ident::parse_reply;
use tcpwrap_fuzz::case::Case;

/// What Debian's `rfc931()` makes of the line.
fn glibc(line: &[u8], cport: u16, sport: u16) -> Option<Vec<u8>> {
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let s = CString::new(line).ok()?;
    let (mut rport, mut lport): (c_uint, c_uint) = (0, 0);
    let mut user = [0 as c_char; 256];
    // SAFETY: a C string, the format of the original with its three
    // conversions, each given a pointer to storage of its type; %255s
    // writes at most 256 bytes.
    let n = unsafe {
        libc::sscanf(
            s.as_ptr(),
            c"%u , %u : USERID :%*[^:]:%255s".as_ptr(),
            &mut rport as *mut c_uint,
            &mut lport as *mut c_uint,
            user.as_mut_ptr(),
        )
    };
    if n != 3 || rport != c_uint::from(cport) || lport != c_uint::from(sport) {
        return None;
    }
    let mut u: Vec<u8> = user
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as u8)
        .collect();
    if let Some(p) = memchr::memchr(b'\r', &u) {
        u.truncate(p);
    }
    Some(u)
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);
    let cport = c.num("cport", 1000) as u16;
    let sport = c.num("sport", 2000) as u16;
    let line = c.section(0);
    let ours = parse_reply(line, cport, sport);
    let theirs = glibc(line, cport, sport);
    assert_eq!(
        ours.as_deref().map(String::from_utf8_lossy),
        theirs.as_deref().map(String::from_utf8_lossy),
        "reply {:?} (ports {cport}, {sport})",
        String::from_utf8_lossy(line)
    );
    assert_eq!(ours, theirs);
    if let Some(u) = ours {
        assert!(!u.is_empty() && u.len() <= 255);
        assert!(
            !u.iter()
                .any(|&b| b == 0 || tcpwrap_core::text::is_c_space(b))
        );
    }
});
