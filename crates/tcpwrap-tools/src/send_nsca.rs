//! `send_nsca`: submit passive check results to an NSCA 2.x daemon, a
//! drop-in for Debian's nsca-client 2.10.2 (§3 of the NSCA reference).
//!
//! As Debian's: argv[1] is the server unless an option replaces it; the
//! config file is read before anything else (errors on standard output,
//! exit 2); then one deadline of `-to` seconds (default 10) covers
//! resolving, connecting, the init packet, reading standard input and
//! sending. Standard input is cut into result sets at ETB (`-ds`), each set
//! split into fields at TAB (`-d`); every set is sent as soon as it is
//! complete, on one connection. The summary `N data packet(s) sent to host
//! successfully.` goes to standard output (not with `--quiet`, except when
//! N is 0, which exits 2). NSCA has no acknowledgement: exit 0 only means
//! the packets were written.
//!
//! Deliberate differences (docs/divergences.md, "send_nsca"): host and
//! service names are made safe for the external command line
//! ([`sanitize_name`]), every address of the server is tried, and the
//! banner names this implementation.

use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tcpwrap_nsca::client::{ClientError, Session, Target};
use tcpwrap_nsca::config::{self, Config};
use tcpwrap_nsca::input::{self, SetSplitter, SetTooLong};
use tcpwrap_nsca::packet::CheckResult;
use tcpwrap_nsca::sanitize::sanitize_name;

use crate::getopt::Cli;

/// The NSCA release whose client this one reproduces.
pub const NSCA_VERSION: &str = "2.10.2";
/// The date in the banner's `Last Modified:` line.
pub const LAST_MODIFIED: &str = "2026-11-22";
pub const DEFAULT_PORT: i32 = 5667;
/// Seconds, when `-to` is not given.
pub const DEFAULT_TIMEOUT: i32 = 10;
/// Longest server name kept (Debian's buffer, 256 bytes with the NUL).
pub const MAX_SERVER_NAME: usize = 255;
/// Bytes of a config file read at most; a larger file is refused.
pub const CONFIG_READ_LIMIT: u64 = 16 << 20;

/// Exit statuses (the Nagios plugin states Debian uses).
pub const EXIT_OK: i32 = 0;
pub const EXIT_CRITICAL: i32 = 2;
pub const EXIT_UNKNOWN: i32 = 3;
/// A result set longer than the input buffer (`exit(-1)` in Debian).
pub const EXIT_SET_TOO_LONG: i32 = 255;

/// The command line, after Debian's argument loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub server: Vec<u8>,
    /// As given (C `atoi`); the connection uses its low 16 bits, a negative
    /// port fails like a failed look-up.
    pub port: i32,
    /// Seconds, > 0.
    pub timeout: i32,
    pub config: Vec<u8>,
    pub delimiter: u8,
    pub separator: u8,
    pub quiet: bool,
    pub legacy: bool,
    pub help: bool,
    pub license: bool,
    pub version: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            server: Vec::new(),
            port: DEFAULT_PORT,
            timeout: DEFAULT_TIMEOUT,
            config: config::DEFAULT_PATH.as_bytes().to_vec(),
            delimiter: input::FIELD_DELIMITER,
            separator: input::SET_SEPARATOR,
            quiet: false,
            legacy: false,
            help: false,
            license: false,
            version: false,
        }
    }
}

/// Parse the arguments (without argv[0]) as Debian's `send_nsca` does:
/// argv[1] is taken as the server first; then every argument, argv[1]
/// included, is looked at in order. An unknown argument other than argv[1],
/// a missing option argument or a `-to` that is not positive stops the
/// parse: the second value is then `true` (a usage error) and the options
/// hold what was seen before it (a `-l` before the error still prints the
/// licence). No arguments at all means `--help`.
pub fn parse_args(args: &[Vec<u8>]) -> (Options, bool) {
    let mut o = Options::default();
    if args.is_empty() {
        o.help = true;
        return (o, false);
    }
    o.server = truncate(&args[0], MAX_SERVER_NAME);
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_slice();
        let value = args.get(i + 1).map(|v| v.as_slice());
        let takes_value = matches!(a, b"-H" | b"-p" | b"-to" | b"-c" | b"-d" | b"-ds");
        if takes_value {
            // Debian crashes on a missing -d/-ds argument; the others are
            // usage errors, and so are these here.
            let Some(v) = value else {
                return (o, true);
            };
            match a {
                b"-H" => o.server = truncate(v, MAX_SERVER_NAME),
                b"-p" => o.port = input::atoi(v),
                b"-to" => {
                    o.timeout = input::atoi(v);
                    if o.timeout <= 0 {
                        return (o, true);
                    }
                }
                b"-c" => o.config = v.to_vec(),
                b"-d" => o.delimiter = input::parse_delimiter(v),
                _ => o.separator = input::parse_delimiter(v),
            }
            i += 2;
            continue;
        }
        match a {
            b"-h" | b"--help" => o.help = true,
            b"-l" | b"--license" => o.license = true,
            b"-V" | b"--version" => o.version = true,
            b"--quiet" => o.quiet = true,
            b"--legacy-2-7-mode" => o.legacy = true,
            _ if i > 0 => return (o, true),
            _ => {}
        }
        i += 1;
    }
    (o, false)
}

fn truncate(s: &[u8], n: usize) -> Vec<u8> {
    s[..s.len().min(n)].to_vec()
}

/// The banner printed before the usage, version and licence texts: the
/// layout of Debian's, naming this implementation.
pub fn banner() -> String {
    format!(
        "\nNSCA Client {NSCA_VERSION} (tcpwrap {})\n\
         Copyright (c) the tcpwrap authors\n\
         Last Modified: {LAST_MODIFIED}\n\
         License: BSD-3-Clause\n\
         Encryption Routines: AVAILABLE\n\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The usage text, with argv[0] as typed (Debian's text).
pub fn usage(argv0: &[u8]) -> Vec<u8> {
    let mut u = b"Usage: ".to_vec();
    u.extend_from_slice(argv0);
    u.extend_from_slice(USAGE_TAIL.as_bytes());
    u
}

const USAGE_TAIL: &str = " [--quiet] -H <host_address> [-p port] [-to to_sec] [-d delim] [-ds set_delim] [-c config_file] [--legacy-2-7-mode]

Options:
 --quiet            = Be quiet unless there are errors
 <host_address>     = The IP address of the host running the NSCA daemon
 [port]             = The port on which the daemon is running - default is 5667
 [to_sec]           = Number of seconds before connection attempt times out.
                      (default timeout is 10 seconds)
 [delim]            = Delimiter to use when parsing input (defaults to a tab).
                      Honors hex formatted values, e.g. 0x09.
 [set_delim]        = Delimiter to use when parsing different sets 
                      (defaults to an ETB character).
                      Honors hex formatted values, e.g. 0x17.
 [config_file]      = Name of config file to use
 --legacy-2-7-mode  = Allow sending to NSCA 2.7 daemon. This can also be specified in send_nsca.cfg, which takes precedence.

Note:
This utility is used to send passive check results to the NSCA daemon.  Host and
Service check data that is to be sent to the NSCA daemon is read from standard
input. Input should be provided in the following format (tab-delimited unless
overridden with -d command line argument, one entry per line):

Service Checks:
<host_name>[tab]<svc_description>[tab]<return_code>[tab]<plugin_output>[newline]

Host Checks:
<host_name>[tab]<return_code>[tab]<plugin_output>[newline]

When submitting multiple simultaneous results, separate each set with the ETB
character (^W or 0x17)
";

/// The `-l` text (this implementation's licence).
pub const LICENSE: &str = "This program is free software; you can redistribute it and/or modify
it under the terms of the BSD 3-Clause License, which comes with the
tcpwrap sources.

This program is distributed in the hope that it will be useful,
but WITHOUT ANY WARRANTY; without even the implied warranty of
MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
BSD 3-Clause License for more details.

";

/// Where the program's text goes.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

impl Io<'_> {
    fn out(&mut self, b: &[u8]) {
        let _ = self.out.write_all(b);
    }

    fn out_line(&mut self, b: &[u8]) {
        let _ = self.out.write_all(b);
        let _ = self.out.write_all(b"\n");
    }

    fn err_line(&mut self, b: &[u8]) {
        let _ = self.err.write_all(b);
        let _ = self.err.write_all(b"\n");
    }
}

/// Read a config file as C stdio would: a file that opens but cannot be
/// read (a directory) reads as empty.
fn read_config(path: &[u8]) -> Option<Vec<u8>> {
    let f = std::fs::File::open(std::ffi::OsStr::from_bytes(path)).ok()?;
    let mut data = Vec::new();
    let mut limited = f.take(CONFIG_READ_LIMIT + 1);
    loop {
        let mut buf = [0u8; 8192];
        match limited.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if data.len() as u64 > CONFIG_READ_LIMIT {
        return None;
    }
    Some(data)
}

/// Methods Debian's build runs (through libmcrypt) that this one cannot:
/// LOKI97, Rijndael-192, Rijndael-256 and SAFER+ have no well-kept Rust
/// implementation. The other unsupported methods fail in Debian's build too.
const RUN_BY_LIBMCRYPT_ONLY: [u8; 4] = [10, 15, 16, 26];

/// How a run ended, before it is reported.
enum Failure {
    Connect(ClientError),
    Timeout,
    Cipher(ClientError),
    Send,
    TooLong,
}

/// The messages and exit status of a failure.
fn report(f: Failure, o: &Options, io: &mut Io) -> i32 {
    let timeout = |io: &mut Io| {
        io.err_line(format!("Error: Timeout after {} seconds", o.timeout).as_bytes());
        EXIT_CRITICAL
    };
    match f {
        Failure::Timeout | Failure::Connect(ClientError::Timeout | ClientError::ConnectTimeout) => {
            timeout(io)
        }
        Failure::Connect(ClientError::ClosedBeforeInit | ClientError::ShortInit(_)) => {
            // Debian's reader reports a short init packet followed by a
            // close as a close too.
            io.err_line(b"Error: Server closed connection before init packet was received");
            io.err_line(b"Error: Could not read init packet from server");
            EXIT_CRITICAL
        }
        Failure::Connect(e) => {
            let first: Vec<u8> = match e {
                ClientError::Lookup(_) => {
                    let mut m = b"Host name lookup failed: '".to_vec();
                    m.extend_from_slice(&o.server);
                    m.push(b'\'');
                    m
                }
                ClientError::Refused => b"Connection refused by host".to_vec(),
                ClientError::Unreachable => b"Network is unreachable".to_vec(),
                _ => b"Connection refused or timed out".to_vec(),
            };
            io.err_line(&first);
            let mut m = b"Error: Could not connect to host ".to_vec();
            m.extend_from_slice(&o.server);
            m.extend_from_slice(format!(" on port {}", o.port).as_bytes());
            io.err_line(&m);
            EXIT_CRITICAL
        }
        Failure::Cipher(e) => {
            io.err_line(format!("Error: {e}").as_bytes());
            // Debian's line gives only the number; say which method and
            // that it is this build that cannot run it (divergence N8).
            if let ClientError::Cipher(u) = e
                && RUN_BY_LIBMCRYPT_ONLY.contains(&u.0.number())
            {
                io.err_line(format!("Error: {u} in this build of send_nsca").as_bytes());
            }
            EXIT_CRITICAL
        }
        Failure::Send => {
            io.err_line(b"Error: Could not send data to host");
            EXIT_UNKNOWN
        }
        Failure::TooLong => {
            io.out_line(format!("Error: {SetTooLong}").as_bytes());
            EXIT_SET_TOO_LONG
        }
    }
}

/// A result as we send it: host and service names made safe for the
/// external command line.
fn clean(mut r: CheckResult) -> CheckResult {
    r.host = sanitize_name(&r.host);
    r.service = r.service.map(|s| sanitize_name(&s));
    r
}

/// The result `send_nsca` sends for one input set (`None`: the set is
/// skipped): [`input::parse_set`] with the field `delimiter`, then the
/// host and service names cleaned ([`sanitize_name`]).
pub fn result_of(set: &[u8], delimiter: u8) -> Option<CheckResult> {
    input::parse_set(set, delimiter).map(clean)
}

/// Everything the deadline covers, in Debian's order: resolve, connect,
/// read the init packet, set up the cipher, then read standard input and
/// send each set as soon as it is complete. Returns the packets sent.
/// Runs on a worker thread that [`run`] stops waiting for at the deadline.
fn work(
    target: Target,
    o: Options,
    mut input: Box<dyn Read + Send>,
    deadline: Instant,
) -> Result<usize, Failure> {
    let mut session = if o.port < 0 || target.host.is_empty() {
        // glibc's getaddrinfo() refuses a negative port like a bad name.
        Err(ClientError::Lookup(target.host.clone()))
    } else {
        Session::open(&target, deadline)
    }
    .map_err(|e| match e {
        ClientError::Cipher(_) => Failure::Cipher(e),
        e => Failure::Connect(e),
    })?;
    let mut splitter = SetSplitter::new(o.separator);
    let mut sent = 0;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A read error ends the input, as for C stdio.
            Err(_) => 0,
        };
        if n == 0 {
            break;
        }
        for set in splitter.feed(&buf[..n]) {
            match set {
                Ok(set) => send_set(&mut session, &set, &o, &mut sent)?,
                Err(SetTooLong) => return Err(Failure::TooLong),
            }
        }
    }
    if let Some(set) = splitter.finish() {
        send_set(&mut session, &set, &o, &mut sent)?;
    }
    session.close();
    Ok(sent)
}

/// Parse one set and send it when it is a result.
fn send_set(
    session: &mut Session,
    set: &[u8],
    o: &Options,
    sent: &mut usize,
) -> Result<(), Failure> {
    if let Some(r) = result_of(set, o.delimiter) {
        session.send(&r).map_err(|e| match e {
            ClientError::Timeout => Failure::Timeout,
            _ => Failure::Send,
        })?;
        *sent += 1;
    }
    Ok(())
}

/// Run `send_nsca` with `args` (without argv[0]) on `input`; the exit
/// status.
pub fn run(argv0: &[u8], args: &[Vec<u8>], input: Box<dyn Read + Send>, io: &mut Io) -> i32 {
    let (o, bad) = parse_args(args);
    if bad || o.help || o.license || o.version {
        if bad {
            io.err_line(b"Incorrect command line arguments supplied");
        }
        io.out(banner().as_bytes());
        if bad || o.help {
            io.out(&usage(argv0));
        }
        if o.license {
            io.out(LICENSE.as_bytes());
        }
        return EXIT_UNKNOWN;
    }

    let cfg: Config = match read_config(&o.config).map(|d| config::parse(&d)) {
        None => {
            io.out_line(&config::cannot_open(&o.config));
            io.out_line(&config::contained_errors(&o.config));
            return EXIT_CRITICAL;
        }
        Some(Err(e)) => {
            io.out_line(&e.message(&o.config));
            io.out_line(&config::contained_errors(&o.config));
            return EXIT_CRITICAL;
        }
        Some(Ok(c)) => c,
    };

    let start = Instant::now();
    let deadline = start
        .checked_add(Duration::from_secs(o.timeout.unsigned_abs().into()))
        .unwrap_or(start + Duration::from_secs(u64::from(u32::MAX)));
    let target = Target {
        // A name that is not UTF-8 cannot be looked up here.
        host: String::from_utf8(o.server.clone()).unwrap_or_default(),
        port: (o.port as u32 & 0xffff) as u16,
        method: cfg.method,
        password: cfg.password,
        legacy: cfg.legacy.unwrap_or(o.legacy),
    };
    // The deadline is Debian's alarm(): whatever the worker is doing when
    // it passes (even a name look-up), the program ends with the timeout
    // message; packets already written stay sent.
    let (tx, rx) = mpsc::channel();
    let worker_opts = o.clone();
    let spawned = std::thread::Builder::new()
        .name("send_nsca".into())
        .spawn(move || {
            let _ = tx.send(work(target, worker_opts, input, deadline));
        });
    if spawned.is_err() {
        return report(Failure::Send, &o, io);
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let sent = match rx.recv_timeout(left) {
        Ok(Ok(n)) => n,
        Ok(Err(f)) => return report(f, &o, io),
        Err(mpsc::RecvTimeoutError::Timeout) => return report(Failure::Timeout, &o, io),
        // The worker panicked (a bug; the panic message is out already).
        Err(mpsc::RecvTimeoutError::Disconnected) => return EXIT_UNKNOWN,
    };
    if sent == 0 || !o.quiet {
        io.out_line(format!("{sent} data packet(s) sent to host successfully.").as_bytes());
    }
    if sent == 0 { EXIT_CRITICAL } else { EXIT_OK }
}

/// The program: process arguments, standard streams, exit status.
pub fn main() -> i32 {
    let cli = Cli::from_env("send_nsca");
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    let status = {
        let mut io = Io {
            out: &mut out,
            err: &mut err,
        };
        run(&cli.argv0, &cli.args, Box::new(io::stdin()), &mut io)
    };
    let _ = out.flush();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn parse(a: &[&str]) -> (Options, bool) {
        parse_args(&args(a))
    }

    fn run_with(a: &[&str], input: &'static [u8]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let st = run(
            b"send_nsca",
            &args(a),
            Box::new(input),
            &mut Io {
                out: &mut out,
                err: &mut err,
            },
        );
        (
            st,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn positional_and_option_host() {
        let (o, bad) = parse(&["mon", "-p", "15667", "-c", "x.cfg"]);
        assert!(!bad);
        assert_eq!(o.server, b"mon");
        assert_eq!(o.port, 15667);
        assert_eq!(o.config, b"x.cfg");
        // argv[1] is an option too: the server stays "-p" without -H.
        let (o, bad) = parse(&["-p", "1", "-c", "x"]);
        assert!(!bad);
        assert_eq!(o.server, b"-p");
        let (o, _) = parse(&["-p", "1", "-H", "mon"]);
        assert_eq!(o.server, b"mon");
        let (o, _) = parse(&["a", "-H", "b", "-H", "c"]);
        assert_eq!(o.server, b"c");
        let long = "x".repeat(300);
        assert_eq!(parse(&[&long]).0.server.len(), MAX_SERVER_NAME);
    }

    #[test]
    fn usage_errors() {
        for a in [
            &["mon", "-v"][..],
            &["mon", ""],
            &["mon", "extra", "-p", "1"],
            &["--quiet", "mon"],
            &["mon", "-H"],
            &["mon", "-p"],
            &["mon", "-c"],
            &["mon", "-d"],
            &["mon", "-ds"],
            &["mon", "-to"],
            &["mon", "-to", "0"],
            &["mon", "-to", "-1"],
            &["mon", "-to", "abc"],
            &["mon", "-to", "4294967296"],
            &["mon", "--"],
            &["mon", "-"],
            &["mon", "-P", "1"],
        ] {
            assert!(parse(a).1, "{a:?}");
        }
        for a in [
            &["-v"][..],
            &["-"],
            &["mon", "-to", "5x"],
            &["mon", "-to", " +7"],
            &["mon", "--quiet", "--legacy-2-7-mode"],
        ] {
            assert!(!parse(a).1, "{a:?}");
        }
        assert_eq!(
            parse(&["mon", "-to", "99999999999"]).0.timeout,
            1_215_752_191
        );
    }

    #[test]
    fn info_flags() {
        let (o, bad) = parse(&[]);
        assert!(o.help && !bad);
        let (o, bad) = parse(&["-V", "-H", "x"]);
        assert!(o.version && !bad);
        // -l before an error is kept, after it never seen.
        let (o, bad) = parse(&["x", "-l", "-q"]);
        assert!(o.license && bad);
        let (o, bad) = parse(&["x", "-q", "-l"]);
        assert!(!o.license && bad);
    }

    #[test]
    fn delimiter_options() {
        let (o, _) = parse(&["x", "-d", "9", "-ds", "0x0a"]);
        assert_eq!((o.delimiter, o.separator), (b'9', b'\n'));
        let (o, _) = parse(&["x", "-d", "59"]);
        assert_eq!(o.delimiter, b';');
        let (o, _) = parse(&["x"]);
        assert_eq!((o.delimiter, o.separator), (b'\t', 0x17));
    }

    #[test]
    fn help_output() {
        let (st, out, err) = run_with(&["-h"], b"");
        assert_eq!(st, 3);
        assert_eq!(err, "");
        assert!(out.starts_with("\nNSCA Client 2.10.2 (tcpwrap "));
        assert!(out.contains("\n\nUsage: send_nsca [--quiet] -H <host_address>"));
        assert!(out.ends_with("character (^W or 0x17)\n"));
        let (st, out, err) = run_with(&["x", "-bogus"], b"");
        assert_eq!(st, 3);
        assert_eq!(err, "Incorrect command line arguments supplied\n");
        assert!(out.contains("Usage: "));
        let (_, out, _) = run_with(&["-V"], b"");
        assert_eq!(out, banner());
        let (_, out, _) = run_with(&["-l"], b"");
        assert_eq!(out, banner() + LICENSE);
    }

    #[test]
    fn config_errors_on_stdout() {
        let (st, out, err) = run_with(&["x", "-c", "/nonexistent/send_nsca.cfg"], b"");
        assert_eq!(st, 2);
        assert_eq!(err, "");
        assert_eq!(
            out,
            "Could not open config file '/nonexistent/send_nsca.cfg' for reading.\n\
             Error: Config file '/nonexistent/send_nsca.cfg' contained errors...\n"
        );
    }

    #[test]
    fn negative_port_is_a_lookup_failure() {
        let dir = std::env::temp_dir().join(format!("send_nsca-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("empty.cfg");
        std::fs::write(&cfg, b"").unwrap();
        let (st, out, err) = run_with(&["127.0.0.1", "-p", "-1", "-c", cfg.to_str().unwrap()], b"");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(st, 2);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "Host name lookup failed: '127.0.0.1'\n\
             Error: Could not connect to host 127.0.0.1 on port -1\n"
        );
    }

    #[test]
    fn names_are_cleaned() {
        let r = clean(CheckResult {
            host: b"semi;host".to_vec(),
            service: Some(b"svc;x\ny".to_vec()),
            code: 0,
            output: b"a;b\nc\\d".to_vec(),
        });
        assert_eq!(r.host, b"semi_host");
        assert_eq!(r.service.as_deref(), Some(&b"svc_x"[..]));
        assert_eq!(r.output, b"a;b\nc\\d");
    }
}
