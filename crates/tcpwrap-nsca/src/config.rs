//! `send_nsca.cfg` (§3.2 of the reference), read from bytes exactly as
//! Debian's `send_nsca` 2.10.2 reads it, quirks included:
//!
//! - The file is read in lines of at most [`LINE_MAX`] bytes (C `fgets` with
//!   Debian's buffer): a longer line goes on as the next "line", with its
//!   own line number. Each line counts up to its first NUL.
//! - Lines starting with `#`, LF or NUL are skipped (not lines of spaces, nor
//!   an indented `#`).
//! - The key is what comes before the first `=` after any leading `=`s; the
//!   value runs from there to the LF, spaces and CR included
//!   (`password = x` is the password ` x`). No value is an error.
//! - Keys are recognised by substring, in this order: `password`,
//!   `encryption_method`, `legacy_2_7_mode` (`xpasswordx` is `password`).
//!   Anything else is an error.
//! - `encryption_method` is C `atoi`; numbers without a method (13, 17, 18,
//!   21, negative, above 26) are an error. Methods Debian cannot run (7,
//!   12, ...) are accepted here and fail only after connecting.
//! - `legacy_2_7_mode`: a value containing `true` or `yes` turns it on,
//!   else one containing `false` or `no` turns it off, else nothing
//!   changes.
//!
//! Pure: the caller reads the file.

use crate::crypto::Method;
use crate::input::atoi;

/// Where Debian's `send_nsca` looks without `-c` (upstream: `./send_nsca.cfg`).
pub const DEFAULT_PATH: &str = "/etc/send_nsca.cfg";

/// The longest line read at once (Debian: `fgets` into 5120 − 1 bytes).
pub const LINE_MAX: usize = 5118;

/// The settings of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The password bytes (empty: none; XOR then uses the IV only).
    pub password: Vec<u8>,
    pub method: Method,
    /// `legacy_2_7_mode`, when the file sets it (it overrides the command
    /// line).
    pub legacy: Option<bool>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            password: Vec::new(),
            method: Method::Xor,
            legacy: None,
        }
    }
}

/// The first error in a config file; `line` counts from 1 as Debian counts
/// (over-long lines count twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// Nothing but `=` on the line.
    NoName { line: usize },
    /// No `=`, or nothing after it.
    NoValue { line: usize },
    /// `encryption_method` with a number that is no method.
    InvalidMethod { method: i32, line: usize },
    /// A key that contains none of the known names.
    UnknownOption { line: usize },
}

impl ConfigError {
    /// Debian's message for this error in file `path` (as given with `-c`),
    /// without a newline. `send_nsca` prints it on standard output, followed
    /// by [`contained_errors`].
    pub fn message(&self, path: &[u8]) -> Vec<u8> {
        let (head, line) = match *self {
            ConfigError::NoName { line } => ("No variable name specified".to_owned(), line),
            ConfigError::NoValue { line } => ("No variable value specified".to_owned(), line),
            ConfigError::InvalidMethod { method, line } => {
                (format!("Invalid encryption method ({method})"), line)
            }
            ConfigError::UnknownOption { line } => ("Unknown option specified".to_owned(), line),
        };
        let mut m = head.into_bytes();
        m.extend_from_slice(b" in config file '");
        m.extend_from_slice(path);
        m.extend_from_slice(format!("' - Line {line}").as_bytes());
        m
    }
}

/// `Could not open config file 'PATH' for reading.`
pub fn cannot_open(path: &[u8]) -> Vec<u8> {
    let mut m = b"Could not open config file '".to_vec();
    m.extend_from_slice(path);
    m.extend_from_slice(b"' for reading.");
    m
}

/// `Error: Config file 'PATH' contained errors...`, the last line of every
/// config failure.
pub fn contained_errors(path: &[u8]) -> Vec<u8> {
    let mut m = b"Error: Config file '".to_vec();
    m.extend_from_slice(path);
    m.extend_from_slice(b"' contained errors...");
    m
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The file's lines as `fgets` returns them: up to and including an LF, at
/// most [`LINE_MAX`] bytes each.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let limit = rest.len().min(LINE_MAX);
        let n = rest[..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |p| p + 1);
        let (line, tail) = rest.split_at(n);
        rest = tail;
        Some(line)
    })
}

/// Parse a `send_nsca.cfg` file's contents.
pub fn parse(data: &[u8]) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    for (i, raw) in lines(data).enumerate() {
        let line = i + 1;
        if matches!(raw.first(), Some(b'#' | b'\n' | 0)) {
            continue;
        }
        // The C string: up to the first NUL.
        let s = match raw.iter().position(|&b| b == 0) {
            Some(n) => &raw[..n],
            None => raw,
        };
        // strtok(s, "="): skip leading '=', the key runs to the next '='.
        let Some(start) = s.iter().position(|&b| b != b'=') else {
            return Err(ConfigError::NoName { line });
        };
        let after = &s[start..];
        let Some(eq) = after.iter().position(|&b| b == b'=') else {
            return Err(ConfigError::NoValue { line });
        };
        // The key as strstr sees it (the leading '='s cannot match).
        let key = &after[..eq];
        // strtok(NULL, "\n"): skip LFs, the value runs to the next LF.
        let v = &after[eq + 1..];
        let v = match v.iter().position(|&b| b != b'\n') {
            Some(p) => &v[p..],
            None => &[][..],
        };
        let value = match v.iter().position(|&b| b == b'\n') {
            Some(p) => &v[..p],
            None => v,
        };
        if value.is_empty() {
            return Err(ConfigError::NoValue { line });
        }
        if contains(key, b"password") {
            cfg.password = value.to_vec();
        } else if contains(key, b"encryption_method") {
            let n = atoi(value);
            cfg.method = Method::from_number(i64::from(n))
                .ok_or(ConfigError::InvalidMethod { method: n, line })?;
        } else if contains(key, b"legacy_2_7_mode") {
            if contains(value, b"true") || contains(value, b"yes") {
                cfg.legacy = Some(true);
            } else if contains(value, b"false") || contains(value, b"no") {
                cfg.legacy = Some(false);
            }
        } else {
            return Err(ConfigError::UnknownOption { line });
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &[u8]) -> Config {
        parse(s).unwrap()
    }

    fn msg(s: &[u8]) -> String {
        String::from_utf8(parse(s).unwrap_err().message(b"F")).unwrap()
    }

    #[test]
    fn defaults_and_plain_keys() {
        assert_eq!(ok(b""), Config::default());
        assert_eq!(ok(b"").method, Method::Xor);
        let c = ok(b"# comment\n\npassword=secret\nencryption_method=0\n");
        assert_eq!(c.password, b"secret");
        assert_eq!(c.method, Method::None);
        // No final newline.
        assert_eq!(ok(b"password=secret").password, b"secret");
        // Later lines win.
        assert_eq!(ok(b"password=a\npassword=b\n").password, b"b");
    }

    /// §3.2 / trap 10: spaces around '=' belong to key and value.
    #[test]
    fn spaces_and_cr_are_kept() {
        assert_eq!(ok(b"password = secret\n").password, b" secret");
        assert_eq!(ok(b"password=secret\r\n").password, b"secret\r");
        assert_eq!(ok(b"password=sec=ret\n").password, b"sec=ret");
        assert_eq!(ok(b"password==secret\n").password, b"=secret");
        // Leading '='s are skipped before the key.
        assert_eq!(ok(b"==password=secret\n").password, b"secret");
        // atoi skips the space.
        assert_eq!(ok(b"encryption_method = 0\n").method, Method::None);
    }

    /// Keys match by substring, password first, then encryption_method.
    #[test]
    fn substring_keys() {
        assert_eq!(ok(b"xpasswordx=s\n").password, b"s");
        assert_eq!(ok(b"encryption_method_password=s\n").password, b"s");
        assert_eq!(ok(b"legacy_2_7_mode_password=true\n").password, b"true");
        let c = ok(b"encryption_method_legacy_2_7_mode=true\n");
        assert_eq!(c.method, Method::None);
        assert_eq!(c.legacy, None);
    }

    #[test]
    fn empty_or_missing_values() {
        assert_eq!(
            msg(b"password=\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"password=secret\npassword=\n"),
            "No variable value specified in config file 'F' - Line 2"
        );
        assert_eq!(
            msg(b"password\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"=x\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"=\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b" \n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"  # indented\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"\r\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"pass\0word=secret\n"),
            "No variable value specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"==="),
            "No variable name specified in config file 'F' - Line 1"
        );
    }

    #[test]
    fn unknown_and_bad_method() {
        assert_eq!(
            msg(b"foo=bar\n"),
            "Unknown option specified in config file 'F' - Line 1"
        );
        assert_eq!(
            msg(b"password=secret\nfoo=bar\n"),
            "Unknown option specified in config file 'F' - Line 2"
        );
        assert_eq!(
            msg(b"password=secret\nencryption_method=13\n"),
            "Invalid encryption method (13) in config file 'F' - Line 2"
        );
        assert_eq!(
            msg(b"encryption_method= 13x\n"),
            "Invalid encryption method (13) in config file 'F' - Line 1"
        );
        for n in ["17", "18", "21", "27", "-1"] {
            assert!(
                parse(format!("encryption_method={n}\n").as_bytes()).is_err(),
                "{n}"
            );
        }
        assert_eq!(
            msg(b"encryption_method=99999999999\n"),
            "Invalid encryption method (1215752191) in config file 'F' - Line 1"
        );
        // Not a number: atoi gives 0, method None.
        assert_eq!(ok(b"encryption_method=abc\n").method, Method::None);
        // Methods Debian cannot run are still valid here.
        assert_eq!(ok(b"encryption_method=12\n").method, Method::Arcfour);
        assert_eq!(ok(b"encryption_method=14\n").method, Method::Rijndael128);
    }

    #[test]
    fn legacy_values() {
        for (v, want) in [
            ("true", Some(true)),
            ("yes", Some(true)),
            (" true", Some(true)),
            ("nottrue", Some(true)),
            ("notrue", Some(true)),
            ("yesfalse", Some(true)),
            ("false", Some(false)),
            ("no", Some(false)),
            ("TRUE", None),
            ("1", None),
            ("maybe", None),
        ] {
            assert_eq!(
                ok(format!("legacy_2_7_mode={v}\n").as_bytes()).legacy,
                want,
                "{v}"
            );
        }
        assert_eq!(
            ok(b"legacy_2_7_mode=true\nlegacy_2_7_mode=maybe\n").legacy,
            Some(true)
        );
        assert_eq!(
            ok(b"legacy_2_7_mode=true\nlegacy_2_7_mode=false\n").legacy,
            Some(false)
        );
    }

    #[test]
    fn skipped_lines() {
        assert_eq!(ok(b"#x\n\n\0encryption_method=0\n").method, Method::Xor);
    }

    /// Lines longer than LINE_MAX go on as the next line: with Debian's
    /// buffer a password can have at most 5109 bytes, and "Password is too
    /// long" cannot happen.
    #[test]
    fn long_lines_are_split() {
        let mk = |n: usize| {
            let mut v = b"password=".to_vec();
            v.extend(std::iter::repeat_n(b'p', n));
            v.push(b'\n');
            v
        };
        assert_eq!(ok(&mk(5108)).password.len(), 5108);
        assert_eq!(ok(&mk(5109)).password.len(), 5109);
        assert_eq!(
            msg(&mk(5110)),
            "No variable value specified in config file 'F' - Line 2"
        );
        let mut comment = b"# ".to_vec();
        comment.extend(std::iter::repeat_n(b'x', 5200));
        comment.extend_from_slice(b"=y\n");
        assert_eq!(
            msg(&comment),
            "Unknown option specified in config file 'F' - Line 2"
        );
    }

    #[test]
    fn wrapper_messages() {
        assert_eq!(
            cannot_open(b"x.cfg"),
            b"Could not open config file 'x.cfg' for reading."
        );
        assert_eq!(
            contained_errors(b"x.cfg"),
            b"Error: Config file 'x.cfg' contained errors..."
        );
    }
}
