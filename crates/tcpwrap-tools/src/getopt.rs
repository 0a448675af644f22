//! POSIX/GNU `getopt` for the classic tools, with glibc's messages and
//! argument permutation, so command lines behave exactly as Debian's.

/// One parsed option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    Flag(char),
    Arg(char, Vec<u8>),
}

/// Parse `args` (without argv[0]) against `spec` (e.g. `"di:"`). Returns the
/// options and the operands, or the glibc error message.
pub fn getopt(
    prog: &str,
    args: &[Vec<u8>],
    spec: &str,
) -> Result<(Vec<Opt>, Vec<Vec<u8>>), String> {
    let takes = |c: char| -> Option<bool> {
        let i = spec.find(c)?;
        Some(spec[i + c.len_utf8()..].starts_with(':'))
    };
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == b"--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if a.len() < 2 || a[0] != b'-' {
            operands.push(a.clone());
            continue;
        }
        let mut j = 1;
        while j < a.len() {
            let c = a[j] as char;
            j += 1;
            match takes(c) {
                None => return Err(format!("{prog}: invalid option -- '{c}'")),
                Some(false) => opts.push(Opt::Flag(c)),
                Some(true) => {
                    if j < a.len() {
                        opts.push(Opt::Arg(c, a[j..].to_vec()));
                    } else if i < args.len() {
                        opts.push(Opt::Arg(c, args[i].clone()));
                        i += 1;
                    } else {
                        return Err(format!("{prog}: option requires an argument -- '{c}'"));
                    }
                    break;
                }
            }
        }
    }
    Ok((opts, operands))
}

/// A classic tool's command line: argv[0] as typed (Debian prints it in
/// usage and getopt messages) and the arguments.
pub struct Cli {
    pub argv0: Vec<u8>,
    pub args: Vec<Vec<u8>>,
}

impl Cli {
    /// From the process's arguments; `name` when there is no argv[0].
    pub fn from_env(name: &str) -> Cli {
        use std::os::unix::ffi::OsStringExt;
        let mut args: Vec<Vec<u8>> = std::env::args_os().map(|a| a.into_vec()).collect();
        let argv0 = if args.is_empty() {
            name.as_bytes().to_vec()
        } else {
            args.remove(0)
        };
        Cli { argv0, args }
    }

    /// Take one of our long options out of the arguments before Debian's
    /// option parsing (so `--help` stays an invalid option, as in Debian).
    pub fn take_long(&mut self, name: &[u8]) -> bool {
        let end = self
            .args
            .iter()
            .position(|a| a == b"--")
            .unwrap_or(self.args.len());
        match self.args[..end].iter().position(|a| a == name) {
            Some(i) => {
                self.args.remove(i);
                true
            }
            None => false,
        }
    }

    /// `getopt` with argv[0] as the program name.
    pub fn getopt(&self, spec: &str) -> Result<(Vec<Opt>, Vec<Vec<u8>>), String> {
        getopt(&String::from_utf8_lossy(&self.argv0), &self.args, spec)
    }

    /// Print an optional message and `usage: ARGV0` + `text` to stderr;
    /// the exit status 1.
    pub fn usage(&self, msg: Option<String>, text: &str) -> i32 {
        use std::io::Write;
        let mut e = std::io::stderr().lock();
        if let Some(m) = msg {
            let _ = writeln!(e, "{m}");
        }
        let _ = write!(e, "usage: {}{text}", String::from_utf8_lossy(&self.argv0));
        1
    }
}
