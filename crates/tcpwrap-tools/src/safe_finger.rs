//! `safe_finger` (§11.2): run the system's `finger` client for a `spawn`
//! command (a reverse finger of a client) and pass on only harmless output.
//!
//! As Debian's: as root it becomes `nobody` first; it runs `finger` with a
//! fixed `PATH` and its own arguments; every output line starts with a
//! space, control characters and non-ASCII bytes become octal escapes,
//! backslashes are doubled, lines are wrapped after 128 characters, input
//! after 100000 bytes is cut off, and after 60 seconds the client is killed
//! and what arrived so far is kept. The exit status is 0 when `finger`
//! exited with 0 (or the time ran out), else 1. Nothing is logged.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::time::{Duration, Instant};

use tcpwrap::sys::{self, finger, strerror};

/// The client run (looked up in [`PATH`]).
pub const FINGER_PROGRAM: &[u8] = b"finger";
/// The search path `finger` is run with.
pub const PATH: &[u8] = b"/bin:/usr/bin:/sbin:/usr/sbin";
/// Preferred unprivileged account.
pub const UNPRIV_NAME: &[u8] = b"nobody";
/// uid and gid used when that account is missing or is root.
pub const UNPRIV_UGID: u32 = 65534;
/// Seconds before the client is killed.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);
/// Input bytes passed on; the next one ends the output.
pub const INPUT_LENGTH: usize = 100_000;
/// Output characters per line before a backslash-newline break.
pub const LINE_LENGTH: usize = 128;
/// What replaces input beyond [`INPUT_LENGTH`].
pub const TRUNCATED: &[u8] = b"\n\n Input truncated to 100000 bytes...\n";

/// C `isprint || isspace` in the C locale, for ASCII bytes.
fn is_text(c: u8) -> bool {
    matches!(c, 0x20..=0x7e | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The output filter: line state and input count.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    line_length: usize,
    input_count: usize,
}

impl Filter {
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Filter `input` into `out`. Returns false when the input limit was
    /// passed: the truncation message has been written and the rest of
    /// the input must be dropped.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        for &c in input {
            self.input_count += 1;
            if self.input_count > INPUT_LENGTH {
                out.extend_from_slice(TRUNCATED);
                return false;
            }
            if c == b'\n' {
                out.push(c);
                self.line_length = 0;
                continue;
            }
            if self.line_length >= LINE_LENGTH {
                out.extend_from_slice(b"\\\n");
                self.line_length = 0;
            }
            if self.line_length == 0 {
                out.push(b' ');
                self.line_length = 1;
            }
            if is_text(c) {
                if c == b'\\' {
                    out.push(c);
                    self.line_length += 1;
                }
                out.push(c);
                self.line_length += 1;
            } else {
                out.extend_from_slice(format!("\\{c:03o}").as_bytes());
                self.line_length += 4;
            }
        }
        true
    }
}

fn stderr(msg: &[u8]) {
    let _ = std::io::stderr().lock().write_all(msg);
}

/// `perror(step)` and exit status 1.
fn perror(step: &[u8], e: &std::io::Error) -> i32 {
    stderr(&[step, b": ", strerror(e).as_bytes(), b"\n"].concat());
    1
}

/// Give up root: `nobody` (setgid, initgroups, setuid), or uid/gid 65534
/// without supplementary groups when `nobody` is missing or is root.
fn drop_root() -> Result<(), (&'static str, std::io::Error)> {
    match sys::user_ids(UNPRIV_NAME) {
        Some((uid, gid)) if uid != 0 => sys::switch_identity(Some((UNPRIV_NAME, uid)), gid),
        _ => {
            sys::switch_identity(None, UNPRIV_UGID)?;
            finger::set_uid(UNPRIV_UGID).map_err(|e| ("setuid", e))
        }
    }
}

/// Run safe_finger with this argv; the exit status.
pub fn run(mut argv: Vec<Vec<u8>>) -> i32 {
    let prog = argv.first().cloned().unwrap_or_default();
    if finger::is_root() {
        if let Err((step, e)) = drop_root() {
            // Debian ignores these failures and would run finger as root
            // (divergence T5).
            stderr(
                &[
                    &prog[..],
                    b": cannot drop privileges: ",
                    step.as_bytes(),
                    b": ",
                    strerror(&e).as_bytes(),
                    b"\n",
                ]
                .concat(),
            );
            return 1;
        }
    }
    if sys::set_env(b"PATH", PATH).is_err() {
        stderr(&[&prog[..], b": putenv: out of memory"].concat());
        return 1;
    }
    match argv.first_mut() {
        Some(a) => *a = FINGER_PROGRAM.to_vec(),
        // An empty argument list (divergence T7).
        None => argv.push(FINGER_PROGRAM.to_vec()),
    }
    if let Err(e) = finger::ensure_std_fds() {
        return perror(b"open /dev/null", &e);
    }
    let mut child = match finger::spawn_stdout_pipe(FINGER_PROGRAM, &argv) {
        Ok(c) => c,
        Err(e) => return perror(&e.step, &e.error),
    };
    let deadline = Instant::now() + TIME_LIMIT;
    let timed_out = |child: &finger::Child| -> i32 {
        child.kill();
        0
    };

    let Some(mut pipe) = child.stdout.take() else {
        return 1;
    };
    let mut filter = Filter::new();
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(4 * buf.len() + 64);
    loop {
        match finger::readable_before(pipe.as_raw_fd(), deadline) {
            Ok(true) => {}
            Ok(false) => return timed_out(&child),
            Err(_) => break,
        }
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        out.clear();
        let more = filter.feed(&buf[..n], &mut out);
        // Output errors are ignored, as putc's are; a closed pipe ends the
        // program with SIGPIPE, as Debian's.
        let _ = sys::write_fd(1, &out);
        if !more {
            break;
        }
    }
    // Close our end, so that a client still writing gets SIGPIPE.
    drop(pipe);
    match child.wait_until(deadline) {
        Ok(Some(status)) => (status != 0) as i32,
        Ok(None) => timed_out(&child),
        Err(_) => 1,
    }
}

/// The process entry point.
pub fn main() -> i32 {
    run(std::env::args_os().map(|a| a.into_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Filter::new().feed(input, &mut out);
        out
    }

    #[test]
    fn margin_escapes_and_backslashes() {
        assert_eq!(
            filter(b"a\\b\n\n\x01\x7f\xe9\0"),
            b" a\\\\b\n\n \\001\\177\\351\\000"
        );
        assert_eq!(filter(b"\t\x0b\x0c\r x"), b" \t\x0b\x0c\r x");
        assert_eq!(filter(b""), b"");
    }

    #[test]
    fn long_lines_wrap_after_128_characters() {
        let out = filter(&[b'a'; 127]);
        assert_eq!(out.len(), 128);
        let out = filter(&[b'b'; 128]);
        assert_eq!(&out[127..], b"b\\\n b");
        // Escapes count four and may overshoot.
        let mut input = b"x\x01".repeat(26);
        input.push(b'y');
        let out = filter(&input);
        assert_eq!(&out[out.len() - 8..], b"\\001\\\n y");
    }

    #[test]
    fn the_100001st_byte_truncates() {
        let mut f = Filter::new();
        let mut out = Vec::new();
        assert!(f.feed(&[b'y'; 50_000], &mut out));
        assert!(f.feed(&[b'y'; 50_000], &mut out));
        assert!(!out.ends_with(TRUNCATED));
        assert!(!f.feed(b"zz", &mut out));
        assert!(out.ends_with(&[b"y", TRUNCATED].concat()));
    }
}
