//! The "trivial" services inetd provides itself (RFC 862 echo, RFC 863
//! discard, RFC 867 daytime, RFC 868 time, RFC 864 chargen), over TCP and
//! UDP. Stream sessions run on their own thread with an idle time-out, so a
//! slow or silent client never holds up the event loop.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tcpwrap::sys::serve::local_time;

/// An internal service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Echo,
    Discard,
    Daytime,
    Time,
    Chargen,
}

impl Builtin {
    /// By its official service name.
    pub fn lookup(name: &[u8]) -> Option<Builtin> {
        Some(match name {
            b"echo" => Builtin::Echo,
            b"discard" => Builtin::Discard,
            b"daytime" => Builtin::Daytime,
            b"time" => Builtin::Time,
            b"chargen" => Builtin::Chargen,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Echo => "echo",
            Builtin::Discard => "discard",
            Builtin::Daytime => "daytime",
            Builtin::Time => "time",
            Builtin::Chargen => "chargen",
        }
    }
}

/// Seconds between 1900-01-01 and 1970-01-01 (RFC 868).
const EPOCH_1900: u64 = 2_208_988_800;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 868: seconds since 1900, 32 bits, big-endian.
pub fn time_bytes(unix_secs: u64) -> [u8; 4] {
    ((unix_secs + EPOCH_1900) as u32).to_be_bytes()
}

/// RFC 867 as inetd sends it: `ctime()` (24 characters) and CR LF.
pub fn daytime_text(unix_secs: u64) -> Vec<u8> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = local_time(unix_secs as i64);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}\r\n",
        DAYS[t.weekday as usize % 7],
        MONTHS[t.month as usize % 12],
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.year
    )
    .into_bytes()
}

/// The printable characters chargen rotates through.
const RING: &[u8; 95] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const LINE: usize = 72;

/// Line `n` of chargen's output: 72 characters starting `n` places into
/// the ring, then CR LF.
pub fn chargen_line(n: usize) -> [u8; LINE + 2] {
    let mut out = [0u8; LINE + 2];
    for (i, b) in out.iter_mut().take(LINE).enumerate() {
        *b = RING[(n + i) % RING.len()];
    }
    out[LINE] = b'\r';
    out[LINE + 1] = b'\n';
    out
}

/// The answer to one datagram (`None`: no answer, as for discard).
pub fn datagram_reply(b: Builtin, payload: &[u8], counter: usize) -> Option<Vec<u8>> {
    match b {
        Builtin::Echo => Some(payload.to_vec()),
        Builtin::Discard => None,
        Builtin::Daytime => Some(daytime_text(unix_now())),
        Builtin::Time => Some(time_bytes(unix_now()).to_vec()),
        Builtin::Chargen => Some(chargen_line(counter).to_vec()),
    }
}

/// Serve one stream connection until the client closes, an error, or
/// `idle` passes without progress. `prefix` (banners) is sent first.
pub fn serve_stream(b: Builtin, mut s: TcpStream, idle: Duration, prefix: &[u8]) {
    if s.set_read_timeout(Some(idle)).is_err() || s.set_write_timeout(Some(idle)).is_err() {
        return;
    }
    if !prefix.is_empty() && s.write_all(prefix).is_err() {
        return;
    }
    let mut buf = vec![0u8; 8192];
    match b {
        Builtin::Echo => loop {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        },
        Builtin::Discard => loop {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        },
        Builtin::Daytime => {
            let _ = s.write_all(&daytime_text(unix_now()));
        }
        Builtin::Time => {
            let _ = s.write_all(&time_bytes(unix_now()));
        }
        Builtin::Chargen => {
            let mut n = 0usize;
            loop {
                // A hundred lines per write.
                let mut chunk = Vec::with_capacity(100 * (LINE + 2));
                for _ in 0..100 {
                    chunk.extend_from_slice(&chargen_line(n));
                    n = (n + 1) % RING.len();
                }
                if s.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(time_bytes(0), 2_208_988_800u32.to_be_bytes());
        // 2001-09-09 01:46:40 UTC.
        assert_eq!(time_bytes(1_000_000_000), 3_208_988_800u32.to_be_bytes());
        let d = daytime_text(1_000_000_000);
        assert_eq!(d.len(), 26);
        assert!(d.ends_with(b"\r\n"));
        let l0 = chargen_line(0);
        assert!(l0.starts_with(b" !\"#$%&"));
        assert_eq!(&l0[72..], b"\r\n");
        assert_eq!(chargen_line(1)[0], b'!');
        assert_eq!(chargen_line(95), chargen_line(0));
        assert_eq!(datagram_reply(Builtin::Echo, b"x", 0), Some(b"x".to_vec()));
        assert_eq!(datagram_reply(Builtin::Discard, b"x", 0), None);
        assert_eq!(Builtin::lookup(b"chargen"), Some(Builtin::Chargen));
        assert_eq!(Builtin::lookup(b"finger"), None);
    }
}
