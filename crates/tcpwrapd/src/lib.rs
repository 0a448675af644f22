//! tcpwrapd: an inetd with the hosts.allow/hosts.deny language built in.
//!
//! It reads the openbsd-inetd/FreeBSD `inetd.conf` format, listens itself
//! (or takes systemd's sockets), checks every connection with the cached
//! tables before anything is run (with tcpd's log records and options),
//! refuses at once, limits per source and per service, serves the internal
//! services and tripwires in-process, and reloads on SIGHUP without
//! dropping anything that did not change. See docs/tcpwrapd.md.

pub mod alert;
pub mod check;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod internal;
pub mod limits;
pub mod log;

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use config::Settings;
use daemon::{ConfSource, Daemon, Options};
use log::{Logger, Targets};

/// Default locations.
pub const INETD_CONF: &str = "/etc/inetd.conf";
pub const TCPWRAPD_CONF: &str = "/etc/tcpwrapd.conf";
pub const SYSLOG_SOCKET: &str = "/dev/log";

const USAGE: &str = "\
usage: tcpwrapd [options] [inetd.conf]
       tcpwrapd [--demo]        serve the built-in demo on 127.0.0.1

  -c, --config FILE      tcpwrapd's own settings (limits, time-outs);
                         default /etc/tcpwrapd.conf when it exists
      --allow FILE       hosts.allow to use (default /etc/hosts.allow)
      --deny FILE        hosts.deny to use (default /etc/hosts.deny)
      --alerts FILE      the alerts config of `alert` options and tripwires
                         (default /etc/tcpwrap/alerts.conf)
  -d, --stderr           log to standard error instead of syslog
      --log-file FILE    log to FILE instead of syslog
      --json-log FILE    also write every record as a JSON line to FILE
      --syslog-socket P  syslog socket (default /dev/log)
  -q N                   listen() backlog (default 128)
  -R N                   default invocations per minute of a service (256)
  -n, --check            read the configuration, report problems, exit
  -i, -l, -E             accepted for openbsd-inetd compatibility (tcpwrapd
                         never detaches, always wraps, keeps the environment)
  -h, --help             this text
";

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct Cli {
    pub demo: bool,
    pub check_only: bool,
    pub inetd_conf: Option<PathBuf>,
    pub settings_file: Option<PathBuf>,
    pub allow: Option<Vec<u8>>,
    pub deny: Option<Vec<u8>>,
    pub alerts: Option<PathBuf>,
    pub stderr: bool,
    pub log_file: Option<PathBuf>,
    pub json_log: Option<PathBuf>,
    pub syslog_socket: Option<PathBuf>,
    pub backlog: Option<i32>,
    pub rate: Option<u32>,
    pub help: bool,
}

fn path(b: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

/// Parse the arguments (without argv[0]).
pub fn parse_args(args: &[Vec<u8>]) -> Result<Cli, String> {
    let mut cli = Cli {
        demo: args.is_empty(),
        check_only: false,
        inetd_conf: None,
        settings_file: None,
        allow: None,
        deny: None,
        alerts: None,
        stderr: false,
        log_file: None,
        json_log: None,
        syslog_socket: None,
        backlog: None,
        rate: None,
        help: false,
    };
    let mut i = 0;
    let value = |i: &mut usize, name: &str| -> Result<Vec<u8>, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("option {name} requires a value"))
    };
    while i < args.len() {
        let a = args[i].as_slice();
        match a {
            b"--demo" => cli.demo = true,
            b"-n" | b"--check" => cli.check_only = true,
            b"-c" | b"--config" => cli.settings_file = Some(path(&value(&mut i, "--config")?)),
            b"--allow" => cli.allow = Some(value(&mut i, "--allow")?),
            b"--deny" => cli.deny = Some(value(&mut i, "--deny")?),
            b"--alerts" => cli.alerts = Some(path(&value(&mut i, "--alerts")?)),
            b"-d" | b"--stderr" => cli.stderr = true,
            b"--log-file" => cli.log_file = Some(path(&value(&mut i, "--log-file")?)),
            b"--json-log" => cli.json_log = Some(path(&value(&mut i, "--json-log")?)),
            b"--syslog-socket" => {
                cli.syslog_socket = Some(path(&value(&mut i, "--syslog-socket")?))
            }
            b"-q" => {
                let v = value(&mut i, "-q")?;
                cli.backlog = Some(
                    std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .filter(|&n: &i32| n > 0)
                        .ok_or("-q: a positive number is needed")?,
                );
            }
            b"-R" => {
                let v = value(&mut i, "-R")?;
                cli.rate = Some(
                    std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or("-R: a number is needed")?,
                );
            }
            b"-i" | b"-l" | b"-E" => {}
            b"-h" | b"--help" => cli.help = true,
            _ if a.first() == Some(&b'-') && a.len() > 1 => {
                return Err(format!("unknown option {}", String::from_utf8_lossy(a)));
            }
            _ => {
                if cli.inetd_conf.is_some() {
                    return Err("only one configuration file can be given".into());
                }
                cli.inetd_conf = Some(path(a));
            }
        }
        i += 1;
    }
    if cli.demo && cli.inetd_conf.is_some() {
        return Err("--demo serves the built-in configuration: give no file".into());
    }
    Ok(cli)
}

fn options(cli: &Cli, demo_tables: Option<(Vec<u8>, Vec<u8>)>) -> Options {
    let mut settings = Settings::default();
    if let Some(q) = cli.backlog {
        settings.backlog = q;
    }
    if let Some(r) = cli.rate {
        settings.service_rate = r;
    }
    let (allow, deny) = match demo_tables {
        Some(t) => t,
        None => (
            cli.allow
                .clone()
                .unwrap_or_else(|| tcpwrap::HOSTS_ALLOW.as_bytes().to_vec()),
            cli.deny
                .clone()
                .unwrap_or_else(|| tcpwrap::HOSTS_DENY.as_bytes().to_vec()),
        ),
    };
    Options {
        inetd_conf: if cli.demo {
            ConfSource::Embedded {
                name: b"demo:inetd.conf".to_vec(),
                data: demo::INETD_CONF,
            }
        } else {
            ConfSource::File(
                cli.inetd_conf
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(INETD_CONF)),
            )
        },
        settings_file: match &cli.settings_file {
            Some(p) => Some((p.clone(), true)),
            None if cli.demo => None,
            None => Some((PathBuf::from(TCPWRAPD_CONF), false)),
        },
        settings,
        allow,
        deny,
        alerts: cli
            .alerts
            .clone()
            .unwrap_or_else(|| PathBuf::from(tcpwrap::alert::ALERTS_CONF)),
    }
}

/// `--check`: read everything, print the problems and the services.
fn check_only(opts: &Options) -> i32 {
    let mut settings = opts.settings.clone();
    let mut errors = Vec::new();
    if let Some((p, required)) = &opts.settings_file {
        match std::fs::read(p) {
            Ok(d) => errors.extend(settings.apply_file(p.as_os_str().as_bytes(), &d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
            Err(e) => {
                eprintln!("tcpwrapd: {}: {}", p.display(), tcpwrap::sys::strerror(&e));
                return 1;
            }
        }
    }
    let (name, data) = match &opts.inetd_conf {
        ConfSource::File(p) => match std::fs::read(p) {
            Ok(d) => (p.as_os_str().as_bytes().to_vec(), d),
            Err(e) => {
                eprintln!("tcpwrapd: {}: {}", p.display(), tcpwrap::sys::strerror(&e));
                return 1;
            }
        },
        ConfSource::Embedded { name, data } => (name.clone(), data.to_vec()),
    };
    let (cfg, errs) = config::load(&name, &data, &settings);
    errors.extend(errs);
    for e in &errors {
        eprintln!("tcpwrapd: error: {e}");
    }
    for w in &cfg.warnings {
        eprintln!("tcpwrapd: warning: {w}");
    }
    if let Some(tw) = &settings.tripwire_alert {
        if let Err(m) = tw.check(&opts.alerts) {
            eprintln!("tcpwrapd: warning: {}{m}", tw.origin());
        }
    }
    for s in &cfg.services {
        let binds: Vec<String> = s.binds.iter().map(|b| b.to_string()).collect();
        println!(
            "{}:{}: {} as \"{}\" on {}",
            String::from_utf8_lossy(&s.file),
            s.line,
            s.label,
            String::from_utf8_lossy(&s.daemon),
            binds.join(", ")
        );
    }
    i32::from(!errors.is_empty())
}

/// Run with these arguments (without argv[0]); the exit status.
pub fn run(args: Vec<Vec<u8>>) -> i32 {
    let cli = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tcpwrapd: {e}\n{USAGE}");
            return 2;
        }
    };
    if cli.help {
        print!("{USAGE}");
        return 0;
    }
    let _ = tcpwrap::sys::finger::ensure_std_fds();
    let demo_tables = if cli.demo {
        match demo::tables() {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("tcpwrapd: cannot write the demo tables: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let opts = options(&cli, demo_tables);
    if cli.check_only {
        return check_only(&opts);
    }
    let targets = Targets {
        syslog: if cli.stderr || cli.log_file.is_some() || cli.demo {
            None
        } else {
            Some(
                cli.syslog_socket
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(SYSLOG_SOCKET)),
            )
        },
        stderr: cli.stderr || (cli.demo && cli.log_file.is_none()),
        file: cli.log_file.clone(),
        json: cli.json_log.clone(),
    };
    let logger = match Logger::open(&targets) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tcpwrapd: cannot open the log: {e}");
            return 1;
        }
    };
    let mut d = match Daemon::new(opts.clone(), logger) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tcpwrapd: cannot start: {e}");
            return 1;
        }
    };
    d.take_systemd_sockets();
    if !d.load(true) {
        return 1;
    }
    if cli.demo {
        demo::banner(&opts, &d.listening());
    }
    let code = d.run();
    if cli.demo {
        demo::clean_up(&opts);
    }
    code
}

/// The process entry point.
pub fn main() -> i32 {
    let args = std::env::args_os().skip(1).map(|a| a.into_vec()).collect();
    run(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn command_lines() {
        assert!(parse_args(&[]).unwrap().demo);
        let c = parse_args(&v(&[
            "--allow",
            "a",
            "--deny",
            "d",
            "--log-file",
            "l",
            "-q",
            "5",
            "-R",
            "7",
            "-i",
            "--alerts",
            "al.conf",
            "conf",
        ]))
        .unwrap();
        assert!(!c.demo);
        assert_eq!(c.allow.as_deref(), Some(&b"a"[..]));
        assert_eq!(c.backlog, Some(5));
        assert_eq!(c.rate, Some(7));
        assert_eq!(c.inetd_conf, Some(PathBuf::from("conf")));
        assert!(parse_args(&v(&["--bogus"])).is_err());
        assert!(parse_args(&v(&["a", "b"])).is_err());
        assert!(parse_args(&v(&["--demo", "a"])).is_err());
        assert!(parse_args(&v(&["--allow"])).is_err());
        let o = options(&parse_args(&v(&["x.conf"])).unwrap(), None);
        assert_eq!(o.allow, b"/etc/hosts.allow");
        assert_eq!(o.settings_file, Some((PathBuf::from(TCPWRAPD_CONF), false)));
        assert_eq!(o.alerts, PathBuf::from(tcpwrap::alert::ALERTS_CONF));
        assert_eq!(c.alerts, Some(PathBuf::from("al.conf")));
        assert!(parse_args(&v(&["--alerts"])).is_err());
    }
}
