//! The v3 data packet (§1.3 of the reference): big-endian integers, two
//! alignment gaps, a CRC-32 over the whole plaintext packet with the CRC
//! field zeroed.

use std::io::Read;

/// Size of a 2.9+/2.10 data packet.
pub const PACKET_LEN: usize = 4304;
/// Size of a legacy (≤ 2.8) data packet.
pub const LEGACY_PACKET_LEN: usize = 720;
/// Size of the server's initialisation packet: 128 IV bytes and a
/// big-endian timestamp.
pub const INIT_LEN: usize = 132;
/// The only packet version NSCA 2.x accepts.
pub const VERSION: u16 = 3;

pub const HOST_FIELD: usize = 64;
pub const SERVICE_FIELD: usize = 128;
pub const OUTPUT_FIELD: usize = 4096;
pub const LEGACY_OUTPUT_FIELD: usize = 512;

const HOST_AT: usize = 14;
const SERVICE_AT: usize = HOST_AT + HOST_FIELD;
const OUTPUT_AT: usize = SERVICE_AT + SERVICE_FIELD;

/// One passive check result. An empty (or absent) service makes it a host
/// result, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckResult {
    pub host: Vec<u8>,
    pub service: Option<Vec<u8>>,
    pub code: i16,
    pub output: Vec<u8>,
}

impl CheckResult {
    pub fn is_host_result(&self) -> bool {
        self.service.as_ref().is_none_or(|s| s.is_empty())
    }
}

/// What fills the unused bytes of a packet. The server ignores them;
/// `send_nsca` uses pseudo-random bytes in `0x30..0x78` so that padding
/// looks like text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Bytes `0x30..0x78` from the system's random source.
    Random,
    /// One constant byte (`0x30` reproduces `send_nsca` with `rand()` = 0).
    Const(u8),
}

fn fill(buf: &mut [u8], how: Fill) {
    match how {
        Fill::Const(b) => buf.fill(b),
        Fill::Random => {
            let ok = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(buf))
                .is_ok();
            if ok {
                for b in buf.iter_mut() {
                    *b = 0x30 + *b % 72;
                }
            } else {
                buf.fill(0x30);
            }
        }
    }
}

/// Copy `s` into `field`, cut to `field.len() - 1` bytes and NUL-terminated.
fn put_str(field: &mut [u8], s: &[u8]) {
    let n = s.len().min(field.len() - 1);
    field[..n].copy_from_slice(&s[..n]);
    field[n] = 0;
}

/// Build the plaintext packet for `r`, echoing the server's `timestamp`.
pub fn build(r: &CheckResult, timestamp: u32, legacy: bool, how: Fill) -> Vec<u8> {
    let len = if legacy {
        LEGACY_PACKET_LEN
    } else {
        PACKET_LEN
    };
    let out_len = if legacy {
        LEGACY_OUTPUT_FIELD
    } else {
        OUTPUT_FIELD
    };
    let mut p = vec![0u8; len];
    fill(&mut p, how);
    p[0..2].copy_from_slice(&VERSION.to_be_bytes());
    p[8..12].copy_from_slice(&timestamp.to_be_bytes());
    p[12..14].copy_from_slice(&r.code.to_be_bytes());
    put_str(&mut p[HOST_AT..SERVICE_AT], &r.host);
    put_str(
        &mut p[SERVICE_AT..OUTPUT_AT],
        r.service.as_deref().unwrap_or(b""),
    );
    put_str(&mut p[OUTPUT_AT..OUTPUT_AT + out_len], &r.output);
    p[4..8].fill(0);
    let crc = crc32fast::hash(&p);
    p[4..8].copy_from_slice(&crc.to_be_bytes());
    p
}

/// Why a decrypted packet is rejected, with the daemon's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    Length(usize),
    Version(u16),
    Crc { stored: u32, computed: u32 },
}

/// A decoded packet (what a server sees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub result: CheckResult,
    pub timestamp: u32,
}

fn get_str(field: &[u8]) -> Vec<u8> {
    let end = field
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(field.len() - 1);
    field[..end].to_vec()
}

/// Check and decode a decrypted packet the way `nsca` 2.10.2 does:
/// version 3, CRC over the packet with the CRC field zeroed, strings cut at
/// NUL or at field size − 1.
pub fn parse(p: &[u8]) -> Result<Decoded, PacketError> {
    let out_len = match p.len() {
        PACKET_LEN => OUTPUT_FIELD,
        LEGACY_PACKET_LEN => LEGACY_OUTPUT_FIELD,
        n => return Err(PacketError::Length(n)),
    };
    let version = u16::from_be_bytes([p[0], p[1]]);
    if version != VERSION {
        return Err(PacketError::Version(version));
    }
    let stored = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    let mut z = p.to_vec();
    z[4..8].fill(0);
    let computed = crc32fast::hash(&z);
    if stored != computed {
        return Err(PacketError::Crc { stored, computed });
    }
    let service = get_str(&p[SERVICE_AT..OUTPUT_AT]);
    Ok(Decoded {
        result: CheckResult {
            host: get_str(&p[HOST_AT..SERVICE_AT]),
            service: if service.is_empty() {
                None
            } else {
                Some(service)
            },
            code: i16::from_be_bytes([p[12], p[13]]),
            output: get_str(&p[OUTPUT_AT..OUTPUT_AT + out_len]),
        },
        timestamp: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p1() -> CheckResult {
        CheckResult {
            host: b"web01".to_vec(),
            service: Some(b"sshd".to_vec()),
            code: 2,
            output: b"REFUSED sshd from 10.1.2.3".to_vec(),
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// Reference §2.5.1: packet P1 with fill 0x30, CRC 0x73f6373a.
    #[test]
    fn reference_p1_plaintext() {
        let p = build(&p1(), 1_700_000_000, false, Fill::Const(0x30));
        assert_eq!(p.len(), 4304);
        assert_eq!(
            hex(&p[0..32]),
            "00033030".to_owned()
                + "73f6373a"
                + "6553f100"
                + "0002"
                + "776562303100"
                + &"30".repeat(12)
        );
        assert_eq!(&p[78..83], b"sshd\0");
        assert_eq!(&p[206..233], b"REFUSED sshd from 10.1.2.3\0");
        assert_eq!(&p[4288..], &[0x30; 16]);
    }

    /// Reference §2.5.1: host result P2, CRC 0x09906150.
    #[test]
    fn reference_p2_plaintext() {
        let r = CheckResult {
            host: b"web01".to_vec(),
            service: None,
            code: 1,
            output: b"second".to_vec(),
        };
        let p = build(&r, 1_700_000_000, false, Fill::Const(0x30));
        assert_eq!(
            hex(&p[0..16]),
            "0003303009906150 6553f1000001 7765".replace(' ', "")
        );
    }

    /// Reference §2.5.3: zero fill, CRC 0x8d721c90.
    #[test]
    fn reference_zero_fill() {
        let p = build(&p1(), 1_700_000_000, false, Fill::Const(0));
        assert_eq!(
            hex(&p[0..32]),
            "000300008d721c906553f1000002776562303100000000000000000000000000"
        );
    }

    /// Reference §2.5.2: the legacy packet's CRC is 0x57373edf.
    #[test]
    fn reference_legacy() {
        let p = build(&p1(), 1_700_000_000, true, Fill::Const(0x30));
        assert_eq!(p.len(), 720);
        assert_eq!(hex(&p[4..8]), "57373edf");
    }

    #[test]
    fn truncation_and_round_trip() {
        let r = CheckResult {
            host: vec![b'h'; 100],
            service: Some(vec![b's'; 200]),
            code: -1,
            output: vec![b'o'; 4200],
        };
        for (legacy, out) in [(false, 4095), (true, 511)] {
            let d = parse(&build(&r, 7, legacy, Fill::Random)).unwrap();
            assert_eq!(d.timestamp, 7);
            assert_eq!(d.result.host.len(), 63);
            assert_eq!(d.result.service.as_ref().unwrap().len(), 127);
            assert_eq!(d.result.output.len(), out);
            assert_eq!(d.result.code, -1);
        }
    }

    #[test]
    fn random_fill_is_text_like_and_checked() {
        let mut p = build(&p1(), 1, false, Fill::Random);
        assert!(p[233..].iter().all(|&b| (0x30..0x78).contains(&b)));
        assert!(parse(&p).is_ok());
        p[3000] ^= 1;
        assert!(matches!(parse(&p), Err(PacketError::Crc { .. })));
        p[1] = 2;
        assert_eq!(parse(&p), Err(PacketError::Version(2)));
    }
}
