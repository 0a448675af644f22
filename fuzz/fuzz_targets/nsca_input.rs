//! The NSCA client's input: send_nsca's `-d`/`-ds` arguments
//! (`send_nsca::parse_args`), its standard input cut into result sets
//! (`input::SetSplitter`) and each set into a result (`send_nsca::result_of`:
//! `input::parse_set`, then the names cleaned), the packet built from it
//! (`packet::build`, read back by `packet::parse`), `send_nsca.cfg`
//! (`config::parse`), and the cipher set up from the server's
//! initialisation packet and the config (`Encryptor`).
//!
//! Input (src/case.rs): header `d=` and `ds=` (the `-d` and `-ds`
//! arguments, when present), `repeat=N` (standard input is section 1
//! repeated N times, at most 64 KiB: long sets from short inputs),
//! `chunks=N` (a seed for the sizes of the pieces the input arrives in),
//! `legacy=1`, `fill=N` (the padding byte); section 1 is standard input,
//! section 2 the send_nsca.cfg, section 3 the server's 132-byte
//! initialisation packet (cut or padded with zeros).
//!
//! Oracle:
//! * the delimiters are those of C `strtol(arg, NULL, 0)` (glibc, in this
//!   process) for numbers, else the first byte;
//! * the sets are the input cut at the separator, the same in whatever
//!   pieces the input arrives; no set holds the separator or is longer
//!   than `MAX_SET`, and the input is refused exactly when a set is: the
//!   sets before it are kept, nothing after it is read;
//! * each set gives the result of a model of send_nsca's C code (a
//!   NUL-terminated copy, `strip()`, `strtok()` with its saved pointer,
//!   `strtok(NULL, "")` for the output, glibc's `atoi()` for the code);
//!   every field lies inside its set;
//! * the host and service names sent are the fields cut at the first LF,
//!   with every `;`, control byte and DEL replaced by `_`: never an LF,
//!   `;` or control byte;
//! * the packet is 4304 (legacy 720) bytes, each string field is cut at
//!   its size less one (host 63, service 127, output 4095 or 511) and
//!   NUL-terminated, the padding is untouched, and `packet::parse` reads
//!   back exactly the sent result, the server's timestamp and the code;
//!   any one changed byte is refused (CRC or version);
//! * send_nsca.cfg: an error names a line of the file (counted as `fgets()`
//!   reads it) that is not skipped, every line before it is good alone, and
//!   it is the same error alone; a password has no LF or NUL;
//! * the cipher: a method the config accepts either runs or is reported as
//!   unsupported as `Method::supported` says; encrypting two packets (their
//!   first 720 bytes) on one stream and decrypting them on another gives
//!   them back.

#![no_main]

use std::ffi::{CString, c_char};

use libfuzzer_sys::fuzz_target;
use tcpwrap_fuzz::case::Case;
use tcpwrap_nsca::config::{self, LINE_MAX};
use tcpwrap_nsca::crypto::{Encryptor, Unsupported};
use tcpwrap_nsca::input::{MAX_SET, SetSplitter, SetTooLong};
use tcpwrap_nsca::packet::{
    self, CheckResult, Fill, HOST_FIELD, INIT_LEN, LEGACY_OUTPUT_FIELD, LEGACY_PACKET_LEN,
    OUTPUT_FIELD, PACKET_LEN, SERVICE_FIELD, VERSION,
};
use tcpwrap_tools::send_nsca;

const MAX_INPUT: usize = 64 << 10;
const HOST_AT: usize = 14;
const SERVICE_AT: usize = HOST_AT + HOST_FIELD;
const OUTPUT_AT: usize = SERVICE_AT + SERVICE_FIELD;

/// An argument as the kernel passes it: a C string.
fn arg(v: &[u8]) -> Vec<u8> {
    v[..memchr::memchr(0, v).unwrap_or(v.len())].to_vec()
}

/// What a `-d`/`-ds` argument stands for, with glibc's `strtol`.
fn c_delimiter(a: &[u8]) -> u8 {
    match a {
        [] => 0,
        [c] => *c,
        [c, ..] if c.is_ascii_digit() || *c == b'+' || *c == b'-' => {
            let s = CString::new(a).expect("no NUL");
            // SAFETY: a NUL-terminated string; a NULL end pointer.
            (unsafe { libc::strtol(s.as_ptr(), std::ptr::null_mut(), 0) }) as u8
        }
        [c, ..] => *c,
    }
}

/// glibc's `atoi` of a C string.
fn c_atoi(s: &[u8]) -> i32 {
    let s = CString::new(s).expect("no NUL");
    // SAFETY: a NUL-terminated string.
    unsafe { libc::atoi(s.as_ptr() as *const c_char) }
}

/// The input cut at the separator as one reading of the whole stream:
/// the sets, and whether it is refused (a set reaches `MAX_SET` bytes and
/// one more byte follows).
fn model_sets(input: &[u8], sep: u8) -> (Vec<Vec<u8>>, bool) {
    let mut sets = Vec::new();
    let mut start = 0;
    loop {
        let end = memchr::memchr(sep, &input[start..]).map(|p| start + p);
        let len = end.unwrap_or(input.len()) - start;
        let refused = match end {
            Some(_) => len >= MAX_SET,
            None => len > MAX_SET,
        };
        if refused {
            return (sets, true);
        }
        sets.push(input[start..start + len].to_vec());
        match end {
            Some(e) => start = e + 1,
            None => return (sets, false),
        }
    }
}

/// C `strtok` on a NUL-terminated buffer: `from` is the argument (`None`:
/// NULL, continue at the saved pointer); returns the token's start.
fn strtok(buf: &mut [u8], from: Option<usize>, save: &mut usize, delims: &[u8]) -> Option<usize> {
    let mut s = from.unwrap_or(*save);
    while buf[s] != 0 && delims.contains(&buf[s]) {
        s += 1;
    }
    if buf[s] == 0 {
        *save = s;
        return None;
    }
    let token = s;
    while buf[s] != 0 && !delims.contains(&buf[s]) {
        s += 1;
    }
    if buf[s] == 0 {
        *save = s;
    } else {
        buf[s] = 0;
        *save = s + 1;
    }
    Some(token)
}

fn c_str(buf: &[u8], at: usize) -> &[u8] {
    let end = at + memchr::memchr(0, &buf[at..]).expect("terminated");
    &buf[at..end]
}

/// send_nsca's C code for one set: copy into a NUL-terminated buffer,
/// `strip()` the end, then `strtok` three fields on the delimiter and the
/// rest with an empty delimiter set.
fn model_result(set: &[u8], delim: u8) -> Option<CheckResult> {
    let mut buf = set.to_vec();
    buf.push(0);
    let mut len = memchr::memchr(0, &buf).expect("terminated");
    while len > 0 && matches!(buf[len - 1], b' ' | b'\t' | b'\r' | b'\n') {
        len -= 1;
        buf[len] = 0;
    }
    if len == 0 {
        return None;
    }
    let d: &[u8] = if delim == 0 { &[] } else { &[delim] };
    let mut save = 0;
    let f1 = strtok(&mut buf, Some(0), &mut save, d)?;
    let f2 = strtok(&mut buf, None, &mut save, d)?;
    let f3 = strtok(&mut buf, None, &mut save, d)?;
    let f4 = strtok(&mut buf, None, &mut save, &[]);
    Some(match f4 {
        None => CheckResult {
            host: c_str(&buf, f1).to_vec(),
            service: None,
            code: c_atoi(c_str(&buf, f2)) as i16,
            output: c_str(&buf, f3).to_vec(),
        },
        Some(f4) => CheckResult {
            host: c_str(&buf, f1).to_vec(),
            service: Some(c_str(&buf, f2).to_vec()),
            code: c_atoi(c_str(&buf, f3)) as i16,
            output: c_str(&buf, f4).to_vec(),
        },
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn unsafe_name_byte(b: u8) -> bool {
    b == b';' || b == b'\n' || b < 0x20 || b == 0x7f
}

/// A name as send_nsca sends it: cut at LF, unsafe bytes replaced.
fn model_clean(name: &[u8]) -> Vec<u8> {
    let name = &name[..memchr::memchr(b'\n', name).unwrap_or(name.len())];
    name.iter()
        .map(|&b| if unsafe_name_byte(b) { b'_' } else { b })
        .collect()
}

fn cut(s: &[u8], field: usize) -> Vec<u8> {
    s[..s.len().min(field - 1)].to_vec()
}

/// The packet of `r`, byte by byte, and what the server reads from it.
fn check_packet(r: &CheckResult, ts: u32, legacy: bool, fill: u8, flip: usize) -> Vec<u8> {
    let p = packet::build(r, ts, legacy, Fill::Const(fill));
    let (len, out_field) = if legacy {
        (LEGACY_PACKET_LEN, LEGACY_OUTPUT_FIELD)
    } else {
        (PACKET_LEN, OUTPUT_FIELD)
    };
    assert_eq!(p.len(), len);
    assert_eq!(p[0..2], VERSION.to_be_bytes());
    assert_eq!(p[2..4], [fill; 2], "alignment gap");
    assert_eq!(p[8..12], ts.to_be_bytes());
    assert_eq!(p[12..14], r.code.to_be_bytes());
    let service = r.service.as_deref().unwrap_or(b"");
    for (at, size, s) in [
        (HOST_AT, HOST_FIELD, &r.host[..]),
        (SERVICE_AT, SERVICE_FIELD, service),
        (OUTPUT_AT, out_field, &r.output[..]),
    ] {
        let n = s.len().min(size - 1);
        assert_eq!(p[at..at + n], s[..n], "field at {at}");
        assert_eq!(p[at + n], 0, "field at {at} not terminated at {n}");
        assert!(p[at + n + 1..at + size].iter().all(|&b| b == fill));
    }
    assert!(p[OUTPUT_AT + out_field..].iter().all(|&b| b == fill));
    let d = packet::parse(&p).expect("own packet refused");
    assert_eq!(d.timestamp, ts);
    let service = cut(service, SERVICE_FIELD);
    assert_eq!(
        d.result,
        CheckResult {
            host: cut(&r.host, HOST_FIELD),
            service: (!service.is_empty()).then_some(service),
            code: r.code,
            output: cut(&r.output, out_field),
        }
    );
    let mut bad = p.clone();
    let at = flip % bad.len();
    bad[at] ^= 1 << (flip % 7);
    assert!(packet::parse(&bad).is_err(), "byte {at} changed unnoticed");
    assert!(packet::parse(&p[..len - 1]).is_err());
    p
}

/// send_nsca.cfg: the reported line and its neighbours.
fn check_config(data: &[u8]) -> Result<config::Config, config::ConfigError> {
    let result = config::parse(data);
    // The lines as fgets() with Debian's buffer returns them.
    let mut lines = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let limit = rest.len().min(LINE_MAX);
        let n = memchr::memchr(b'\n', &rest[..limit]).map_or(limit, |p| p + 1);
        lines.push(&rest[..n]);
        rest = &rest[n..];
    }
    match &result {
        Ok(c) => {
            assert!(!c.password.contains(&b'\n') && !c.password.contains(&0));
            assert!(c.password.len() < LINE_MAX);
            for (i, l) in lines.iter().enumerate() {
                assert!(config::parse(l).is_ok(), "line {} is bad alone", i + 1);
            }
        }
        Err(e) => {
            let line = match *e {
                config::ConfigError::NoName { line }
                | config::ConfigError::NoValue { line }
                | config::ConfigError::InvalidMethod { line, .. }
                | config::ConfigError::UnknownOption { line } => line,
            };
            assert!(line >= 1 && line <= lines.len(), "error at line {line}");
            let text = lines[line - 1];
            assert!(!matches!(text.first(), Some(b'#' | b'\n' | 0)));
            for (i, l) in lines[..line - 1].iter().enumerate() {
                assert!(config::parse(l).is_ok(), "line {} is bad alone", i + 1);
            }
            let alone = config::parse(text).expect_err("the bad line alone");
            let renumbered = match alone {
                config::ConfigError::NoName { .. } => config::ConfigError::NoName { line },
                config::ConfigError::NoValue { .. } => config::ConfigError::NoValue { line },
                config::ConfigError::InvalidMethod { method, .. } => {
                    config::ConfigError::InvalidMethod { method, line }
                }
                config::ConfigError::UnknownOption { .. } => {
                    config::ConfigError::UnknownOption { line }
                }
            };
            assert_eq!(renumbered, *e);
        }
    }
    result
}

/// A small generator for the sizes of the input's pieces.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);

    // The command line's delimiters.
    let mut args = vec![b"nsca.example.org".to_vec()];
    let (d_arg, ds_arg) = (c.get("d").map(arg), c.get("ds").map(arg));
    if let Some(d) = &d_arg {
        args.extend([b"-d".to_vec(), d.clone()]);
    }
    if let Some(ds) = &ds_arg {
        args.extend([b"-ds".to_vec(), ds.clone()]);
    }
    let (o, bad) = send_nsca::parse_args(&args);
    assert!(!bad);
    let delim = d_arg.as_deref().map_or(b'\t', c_delimiter);
    let sep = ds_arg.as_deref().map_or(0x17, c_delimiter);
    assert_eq!((o.delimiter, o.separator), (delim, sep), "args {args:?}");

    // Standard input, in pieces.
    let unit = c.section(0);
    let repeat = (c.num("repeat", 1) as usize)
        .min(MAX_INPUT / unit.len().max(1))
        .max(1);
    let input = unit.repeat(repeat);
    let (want_sets, refused) = model_sets(&input, sep);
    let mut seed = c.num("chunks", 0) | 1;
    let mut splitter = SetSplitter::new(sep);
    let mut pieces = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let n = ((next(&mut seed) % 700) as usize + 1).min(input.len() - pos);
        pieces.extend(splitter.feed(&input[pos..pos + n]));
        pos += n;
    }
    pieces.extend(splitter.finish().map(Ok));
    let mut whole = SetSplitter::new(sep);
    let mut at_once = whole.feed(&input);
    at_once.extend(whole.finish().map(Ok));
    assert_eq!(pieces, at_once, "the sets depend on how the input arrives");
    let too_long = at_once.last() == Some(&Err(SetTooLong));
    if too_long {
        // Nothing is read after the refusal.
        assert!(whole.feed(&input).is_empty() && whole.finish().is_none());
    }
    let sets: Vec<Vec<u8>> = at_once.into_iter().filter_map(Result::ok).collect();
    assert_eq!(
        pieces.len(),
        sets.len() + usize::from(too_long),
        "refused twice"
    );
    assert_eq!((&sets, too_long), (&want_sets, refused), "sets");
    for s in &sets {
        assert!(s.len() <= MAX_SET && !s.contains(&sep));
    }

    // Config, init packet, cipher.
    let cfg = check_config(c.section(1)).ok();
    let mut init = c.section(2).to_vec();
    init.resize(INIT_LEN, 0);
    let iv: [u8; 128] = init[..128].try_into().expect("128 bytes");
    let ts = u32::from_be_bytes([init[128], init[129], init[130], init[131]]);
    let legacy = cfg
        .as_ref()
        .and_then(|c| c.legacy)
        .unwrap_or(c.flag("legacy"));
    let fill = c.num("fill", 0x30) as u8;
    let mut streams = cfg.as_ref().map(|cfg| {
        let enc = Encryptor::new(cfg.method, &cfg.password, &iv);
        let dec = Encryptor::new(cfg.method, &cfg.password, &iv);
        match (&enc, &dec) {
            (Ok(_), Ok(_)) => assert!(cfg.method.supported()),
            (Err(Unsupported(m)), Err(_)) => {
                assert_eq!(*m, cfg.method);
                assert!(!m.supported());
            }
            _ => panic!("one of two equal ciphers failed"),
        }
        (enc.ok(), dec.ok())
    });

    // Each set: the result, the names, the packet.
    let mut sent = 0;
    for set in &sets {
        let want = model_result(set, delim);
        let parsed = tcpwrap_nsca::input::parse_set(set, delim);
        assert_eq!(parsed, want, "set {:?}", String::from_utf8_lossy(set));
        let result = send_nsca::result_of(set, delim);
        let Some(parsed) = parsed else {
            assert_eq!(result, None);
            continue;
        };
        for f in [
            Some(&parsed.host),
            parsed.service.as_ref(),
            Some(&parsed.output),
        ]
        .into_iter()
        .flatten()
        {
            assert!(!f.is_empty() && contains(set, f), "a field outside its set");
            assert!(!f.contains(&0));
        }
        let r = result.expect("a result without its packet");
        assert_eq!(r.host, model_clean(&parsed.host));
        assert_eq!(r.service, parsed.service.as_deref().map(model_clean));
        assert_eq!((r.code, &r.output), (parsed.code, &parsed.output));
        for name in [Some(&r.host), r.service.as_ref()].into_iter().flatten() {
            assert!(!name.iter().any(|&b| unsafe_name_byte(b)), "unsafe name");
        }
        if sent < 2 {
            let p = check_packet(&r, ts, legacy, fill, set.len() + sent);
            // The cipher stream over the first 720 bytes of each (the
            // CFB ciphers cost one block operation per byte: whole packets
            // would make this target ten times slower).
            if let Some((Some(enc), Some(dec))) = &mut streams {
                let plain = &p[..LEGACY_PACKET_LEN];
                let mut q = plain.to_vec();
                enc.encrypt(&mut q);
                dec.decrypt(&mut q);
                assert_eq!(q, plain, "cipher stream of packet {sent}");
            }
        }
        sent += 1;
    }
});
