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
