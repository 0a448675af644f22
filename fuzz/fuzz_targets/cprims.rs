//! The C library primitives that tcpwrap-core re-implements on bytes
//! (text.rs, pattern.rs), against glibc itself, in this process: the
//! language's numbers and addresses must mean what they mean to Debian's
//! libwrap, which calls these functions.
//!
//! Input: any bytes, taken as a C string (cut at the first NUL); the
//! first 16 bytes are also an IPv6 and an IPv4 address for the printers.
//!
//! Oracle (each ours = glibc's):
//! * `scan_int_complete` = `sscanf("%d%c") == 1`, `scan_octal_complete` =
//!   `sscanf("%o%c") == 1`, `scan_uint_complete` = `sscanf("%u%c") == 1`
//!   (option values, port numbers);
//! * `atoi` (as an int) = `atoi` (netmask lengths);
//! * `inet_aton` = `inet_aton`; `dot_quad` = Debian's `dot_quad_addr`
//!   (four runs of non-dots, then `inet_addr`);
//! * `parse_v6` = `inet_pton(AF_INET6)` (text without a `%scope`);
//! * `fmt_v6`/`fmt_v4` = `inet_ntop`;
//! * `canonical_ip4(s)` holds exactly when `inet_pton(AF_INET, s)` accepts
//!   `s` and `inet_ntop` prints it back as `s`.

#![no_main]

use std::ffi::{CString, c_char, c_int, c_uint, c_void};
use std::net::{Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tcpwrap_core::pattern::canonical_ip4;
use tcpwrap_core::text;

// The address functions of glibc (not in the libc crate).
unsafe extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    fn inet_addr(cp: *const c_char) -> u32;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
}

fn sscanf_complete<T: Copy + Default>(s: &CString, fmt: &std::ffi::CStr) -> Option<T> {
    let mut v = T::default();
    let mut junk: c_char = 0;
    // SAFETY: a C string and a format with one numeric conversion of
    // type T and one %c, given pointers to storage of those types.
    let n = unsafe {
        libc::sscanf(
            s.as_ptr(),
            fmt.as_ptr(),
            &mut v as *mut T,
            &mut junk as *mut c_char,
        )
    };
    (n == 1).then_some(v)
}

fn ntop(family: c_int, bytes: &[u8]) -> Vec<u8> {
    let mut buf = [0 as c_char; 64];
    // SAFETY: bytes holds an in_addr or in6_addr (4 or 16 bytes) for the
    // family; buf has room for any printed address.
    let p = unsafe {
        inet_ntop(
            family,
            bytes.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        )
    };
    assert!(!p.is_null());
    buf.iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as u8)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let s = &data[..memchr::memchr(0, data).unwrap_or(data.len())];
    let cs = CString::new(s).expect("cut at the first NUL");

    assert_eq!(
        text::scan_int_complete(s),
        sscanf_complete::<c_int>(&cs, c"%d%c"),
        "%d of {s:?}"
    );
    assert_eq!(
        text::scan_octal_complete(s),
        sscanf_complete::<c_uint>(&cs, c"%o%c"),
        "%o of {s:?}"
    );
    assert_eq!(
        text::scan_uint_complete(s),
        sscanf_complete::<c_uint>(&cs, c"%u%c"),
        "%u of {s:?}"
    );
    // SAFETY: a C string.
    let a = unsafe { libc::atoi(cs.as_ptr()) };
    assert_eq!(text::atoi(s) as c_int, a, "atoi of {s:?}");

    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: a C string and a pointer to an in_addr.
    let ok = unsafe { inet_aton(cs.as_ptr(), &mut addr) } != 0;
    assert_eq!(
        text::inet_aton(s),
        ok.then(|| u32::from_be(addr.s_addr)),
        "inet_aton of {s:?}"
    );

    let runs = s.split(|&b| b == b'.').filter(|r| !r.is_empty()).count();
    // SAFETY: a C string.
    let dq = unsafe { inet_addr(cs.as_ptr()) };
    let debian = (runs == 4 && dq != u32::MAX).then(|| u32::from_be(dq));
    assert_eq!(text::dot_quad(s), debian, "dot_quad of {s:?}");

    if !s.contains(&b'%') {
        let mut a6 = [0u8; 16];
        // SAFETY: a C string and 16 bytes for an in6_addr.
        let ok = unsafe { inet_pton(libc::AF_INET6, cs.as_ptr(), a6.as_mut_ptr().cast()) } == 1;
        assert_eq!(
            text::parse_v6(s),
            ok.then(|| Ipv6Addr::from(a6)),
            "inet_pton6 of {s:?}"
        );
    }

    let mut a4 = [0u8; 4];
    // SAFETY: a C string and 4 bytes for an in_addr.
    let ok4 = unsafe { inet_pton(libc::AF_INET, cs.as_ptr(), a4.as_mut_ptr().cast()) } == 1;
    let canonical = ok4 && ntop(libc::AF_INET, &a4) == s;
    assert_eq!(
        canonical_ip4(s),
        canonical.then(|| u32::from_be_bytes(a4)),
        "canonical_ip4 of {s:?}"
    );

    let mut b16 = [0u8; 16];
    let n = data.len().min(16);
    b16[..n].copy_from_slice(&data[..n]);
    assert_eq!(
        text::fmt_v6(Ipv6Addr::from(b16)),
        ntop(libc::AF_INET6, &b16)
    );
    let b4 = [b16[0], b16[1], b16[2], b16[3]];
    assert_eq!(text::fmt_v4(Ipv4Addr::from(b4)), ntop(libc::AF_INET, &b4));
});
