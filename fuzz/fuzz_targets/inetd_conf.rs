//! The inetd.conf readers: the super-server's parser
//! (tcpwrap-tools `inetcf::parse`), tcpwrapd's resolution of its entries
//! into services (`tcpwrapd::config::load`), tcpdchk's loose scan
//! (`inetcf::scan`), and tcpwrapd's own settings file
//! (`Settings::apply_file`).
//!
//! Input (src/case.rs): section 1 is the inetd.conf, section 2 a
//! tcpwrapd.conf (both any bytes). The header is not used.
//!
//! Oracle:
//! * `parse`: no panic; every entry and error carries a line number within
//!   the input's lines, in order, at most one outcome per line, and only
//!   comment or blank lines and `host:` lines have none; every line gives
//!   alone (after the `host:` line in force) what it gave in the file, so
//!   a bad line never changes what the others give; an entry's fields keep
//!   their invariants (a service name without `/`, matching socket type and
//!   protocol, buffer sizes 1 B to 1 GiB, either `.max` or the FreeBSD
//!   limits, a non-empty user without `:` or `/`, an absolute server path,
//!   arguments without blanks); and the canonical text of an entry parses
//!   back to the same entry (round trip).
//! * `load` (only when every listening address is `*` or an IP literal, so
//!   that nothing is looked up in the DNS): the parser's errors are kept;
//!   every error is at a line of the input; every entry becomes exactly
//!   one of a service, an error of its line, or an optional program that
//!   is missing; a service's ports are the entry's (1 to 65535), its
//!   addresses are of the protocol's transport and families, no address is
//!   used twice, a program has an absolute path and a non-empty argv, the
//!   daemon name is the one tcpd would use, and the limits are the entry's
//!   or the settings'.
//! * `scan` (tcpdchk): no panic; every warning names the file and a line
//!   of it (Debian's counting: the newlines read), nothing reaches syslog
//!   (c/nolog.c replaces it in this binary and counts the calls), and every
//!   program entry the parser accepts is given a wrap status (tcpdchk
//!   checks every daemon tcpwrapd would run), where the loose scan reads
//!   such a line as the parser does.
//! * `apply_file`: every error is at a line of the file, one at most per
//!   line; the settings stay within their documented ranges (time-outs
//!   above 0 and up to a day); applying the lines one by one gives the
//!   same errors and settings (a bad line changes nothing).

#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use tcpwrap_fuzz::case::Case;
use tcpwrap_tools::diag::Reporter;
use tcpwrap_tools::inetcf::{self, Entry, Families, Server, SockType, Transport, Wrap};
use tcpwrapd::config::{self, Action, Settings};
use tcpwrapd::internal::Builtin;

unsafe extern "C" {
    /// c/nolog.c: calls of syslog() and vsyslog() so far.
    safe fn fuzz_syslog_calls() -> std::ffi::c_ulong;
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

fn fields(raw: &[u8]) -> Vec<&[u8]> {
    raw.split(|&b| is_blank(b))
        .filter(|f| !f.is_empty())
        .collect()
}

fn base_name(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn protocol_name(t: Transport, f: Families) -> &'static str {
    match (t, f) {
        (Transport::Tcp, Families::Both) => "tcp",
        (Transport::Tcp, Families::V4) => "tcp4",
        (Transport::Tcp, Families::V6) => "tcp6",
        (Transport::Tcp, Families::V46) => "tcp46",
        (Transport::Udp, Families::Both) => "udp",
        (Transport::Udp, Families::V4) => "udp4",
        (Transport::Udp, Families::V6) => "udp6",
        (Transport::Udp, Families::V46) => "udp46",
    }
}

/// The canonical line of an entry: every field spelled out, each address
/// in brackets.
fn canonical(e: &Entry) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, h) in e.hosts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        out.extend_from_slice(h);
        out.push(b']');
    }
    out.push(b':');
    out.extend_from_slice(&e.service);
    out.push(b' ');
    out.extend_from_slice(match e.socktype {
        SockType::Stream => b"stream",
        SockType::Dgram => b"dgram",
    });
    out.push(b' ');
    out.extend_from_slice(protocol_name(e.transport, e.families).as_bytes());
    if let Some(n) = e.sndbuf {
        out.extend_from_slice(format!(",sndbuf={n}").as_bytes());
    }
    if let Some(n) = e.rcvbuf {
        out.extend_from_slice(format!(",rcvbuf={n}").as_bytes());
    }
    out.push(b' ');
    out.extend_from_slice(if e.wait { b"wait" } else { b"nowait" });
    if let Some(n) = e.max_per_minute {
        out.extend_from_slice(format!(".{n}").as_bytes());
    }
    for n in [e.max_child, e.per_ip_per_minute, e.max_child_per_ip]
        .into_iter()
        .map_while(|x| x)
    {
        out.extend_from_slice(format!("/{n}").as_bytes());
    }
    out.push(b' ');
    out.extend_from_slice(&e.user);
    if let Some(g) = &e.group {
        out.push(b':');
        out.extend_from_slice(g);
    }
    if let Some(c) = &e.login_class {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out.push(b' ');
    match &e.server {
        Server::Internal => out.extend_from_slice(b"internal"),
        Server::Tripwire => out.extend_from_slice(b"tripwire"),
        Server::Program(p) => {
            if e.optional {
                out.push(b'?');
            }
            out.extend_from_slice(p);
        }
    }
    for a in &e.args {
        out.push(b' ');
        out.extend_from_slice(a);
    }
    out
}

fn check_entry(e: &Entry, lines: usize) {
    assert!(e.line >= 1 && e.line as usize <= lines, "line {}", e.line);
    assert!(!e.service.is_empty() && !e.service.contains(&b'/'));
    assert!(!e.service.iter().any(|&b| is_blank(b) || b == b'\n'));
    assert!(!e.hosts.is_empty());
    for h in &e.hosts {
        assert!(!h.is_empty() && !h.contains(&b',') && !h.contains(&b'\n'));
    }
    assert!(matches!(
        (e.socktype, e.transport),
        (SockType::Stream, Transport::Tcp) | (SockType::Dgram, Transport::Udp)
    ));
    for n in [e.sndbuf, e.rcvbuf].into_iter().flatten() {
        assert!((1..=1 << 30).contains(&n), "buffer size {n}");
    }
    let freebsd = [e.max_child, e.per_ip_per_minute, e.max_child_per_ip];
    if e.max_per_minute.is_some() {
        assert_eq!(freebsd, [None; 3]);
    }
    // The FreeBSD limits are filled in order.
    assert!(freebsd.windows(2).all(|w| w[0].is_some() || w[1].is_none()));
    assert!(!e.user.is_empty() && !e.user.contains(&b':') && !e.user.contains(&b'/'));
    match &e.group {
        Some(g) => assert!(!g.is_empty() && !g.contains(&b'/')),
        None => assert!(!e.user.contains(&b'.')),
    }
    match &e.server {
        Server::Program(p) => assert_eq!(p.first(), Some(&b'/')),
        _ => assert!(!e.optional),
    }
    for a in &e.args {
        assert!(!a.is_empty() && !a.iter().any(|&b| is_blank(b) || b == b'\n'));
    }
}

/// The entry with another line number.
fn at_line(e: &Entry, line: u32) -> Entry {
    Entry { line, ..e.clone() }
}

/// `parse`: line numbers, line independence, invariants, round trip.
fn check_parse(data: &[u8]) -> (Vec<Entry>, Vec<inetcf::ParseError>) {
    let (entries, errors) = inetcf::parse(data);
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let mut ei = entries.iter().peekable();
    let mut xi = errors.iter().peekable();
    // The last `host:` line: the default addresses of the lines after it.
    let mut context: Option<&[u8]> = None;
    for (n, raw) in lines.iter().enumerate() {
        let line = n as u32 + 1;
        let entry = ei.next_if(|e| e.line == line);
        let error = xi.next_if(|e| e.line == line);
        assert!(
            entry.is_none() || error.is_none(),
            "line {line} gave an entry and an error"
        );
        let f = fields(raw);
        let ignored = f.first().is_none_or(|x| x[0] == b'#');
        if ignored {
            assert!(
                entry.is_none() && error.is_none(),
                "line {line} is a comment"
            );
            continue;
        }
        // The line alone, after the `host:` line in force.
        let mut alone = Vec::new();
        if let Some(c) = context {
            alone.extend_from_slice(c);
            alone.push(b'\n');
        }
        alone.extend_from_slice(raw);
        let own = u32::from(context.is_some()) + 1;
        let (ae, ax) = inetcf::parse(&alone);
        assert_eq!(
            ae.iter().map(|e| at_line(e, line)).collect::<Vec<_>>(),
            entry.cloned().into_iter().collect::<Vec<_>>(),
            "line {line} alone gives another entry"
        );
        assert_eq!(
            ax.iter()
                .map(|e| (e.line, e.message.as_str()))
                .collect::<Vec<_>>(),
            error
                .map(|e| (own, e.message.as_str()))
                .into_iter()
                .collect::<Vec<_>>(),
            "line {line} alone gives another error"
        );
        if let Some(e) = entry {
            check_hosts(e, f[0], context);
        }
        if entry.is_none() && error.is_none() {
            // Only a `host:` line gives nothing: one field ending in ':'.
            assert_eq!(f.len(), 1, "line {line} gave nothing");
            assert_eq!(f[0].last(), Some(&b':'), "line {line} gave nothing");
            context = Some(raw);
        }
    }
    assert!(ei.next().is_none(), "entries out of order or past the end");
    assert!(xi.next().is_none(), "errors out of order or past the end");

    for e in &entries {
        check_entry(e, lines.len());
        let text = canonical(e);
        let (again, errs) = inetcf::parse(&text);
        assert!(
            errs.is_empty(),
            "canonical line {:?} of line {}: {errs:?}",
            show(&text),
            e.line
        );
        assert_eq!(again.len(), 1, "canonical line {:?}", show(&text));
        assert_eq!(
            at_line(&again[0], e.line),
            *e,
            "round trip of {:?}",
            show(&text)
        );
    }
    (entries, errors)
}

/// The addresses and service of an entry, where they are spelled simply
/// (no brackets, at most one `:`): the prefix `a,b:` of the line, or else
/// those of the last `host:` line (`*` before any).
fn check_hosts(e: &Entry, first: &[u8], context: Option<&[u8]>) {
    let simple = |f: &[u8]| !f.contains(&b'[') && !f.contains(&b']');
    let list =
        |spec: &[u8]| -> Vec<Vec<u8>> { spec.split(|&b| b == b',').map(<[u8]>::to_vec).collect() };
    if !simple(first) || first.iter().filter(|&&b| b == b':').count() > 1 {
        return;
    }
    match first.iter().position(|&b| b == b':') {
        Some(i) => {
            assert_eq!(e.hosts, list(&first[..i]), "line {}: addresses", e.line);
            assert_eq!(e.service, &first[i + 1..], "line {}: service", e.line);
        }
        None => {
            assert_eq!(e.service, first, "line {}: service", e.line);
            let spec = context.map(|c| fields(c)[0]);
            let want = match spec {
                None => vec![b"*".to_vec()],
                Some(h) if simple(h) && h.iter().filter(|&&b| b == b':').count() == 1 => {
                    list(&h[..h.len() - 1])
                }
                Some(_) => return,
            };
            assert_eq!(
                e.hosts, want,
                "line {}: the addresses of the last host: line",
                e.line
            );
        }
    }
}

fn literal(h: &[u8]) -> bool {
    h == b"*"
        || std::str::from_utf8(h)
            .ok()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some()
}

/// `load`: every entry accounted for, services well formed.
fn check_load(
    data: &[u8],
    entries: &[Entry],
    parse_errors: &[inetcf::ParseError],
    settings: &Settings,
) {
    let lines = data.split(|&b| b == b'\n').count();
    let (cfg, errors) = config::load(b"inetd.conf", data, settings);
    for e in errors.iter().chain(&cfg.warnings) {
        assert!(e.line >= 1 && e.line as usize <= lines, "{e}");
        assert_eq!(e.file, b"inetd.conf");
    }
    assert!(errors.windows(2).all(|w| w[0].line <= w[1].line));
    for p in parse_errors {
        assert!(
            errors
                .iter()
                .any(|e| e.line == p.line && e.message == p.message),
            "parse error {p:?} lost"
        );
    }
    let mut used = std::collections::HashSet::new();
    let mut seen = 0;
    for e in entries {
        let services: Vec<_> = cfg.services.iter().filter(|s| s.line == e.line).collect();
        let has_error = errors.iter().any(|x| x.line == e.line);
        assert!(services.len() <= 1);
        let Some(s) = services.first() else {
            assert!(
                has_error || e.optional,
                "line {} neither served nor refused",
                e.line
            );
            continue;
        };
        seen += 1;
        assert!(!has_error, "line {} served and refused", e.line);
        assert_eq!(
            s.label,
            format!(
                "{}/{}",
                show(&e.service),
                protocol_name(e.transport, e.families)
            )
        );
        assert_eq!(s.file, b"inetd.conf");
        assert_eq!(s.socktype, e.socktype);
        assert_eq!((s.sndbuf, s.rcvbuf), (e.sndbuf, e.rcvbuf));
        // Addresses and ports.
        assert!(!s.binds.is_empty());
        assert!(s.binds.windows(2).all(|w| w[0] < w[1]), "binds not sorted");
        let port = s.binds[0].addr.port();
        assert!(
            port >= 1,
            "line {}: port 0 (\"{}\")",
            e.line,
            show(&e.service)
        );
        if e.service.iter().all(u8::is_ascii_digit) {
            let n: u64 = std::str::from_utf8(&e.service)
                .ok()
                .and_then(|s| s.trim_start_matches('0').parse().ok())
                .unwrap_or(0);
            assert_eq!(u64::from(port), n, "port of \"{}\"", show(&e.service));
        }
        for b in &s.binds {
            assert_eq!(b.addr.port(), port);
            assert_eq!(b.udp, e.transport == Transport::Udp);
            // Each address is one of the entry's, or a wildcard for `*`:
            // both families for tcp/udp, IPv6 only for tcp46/udp46 (one
            // socket that takes IPv4 too); an IPv4 address of tcp46 gets
            // an IPv4 socket.
            let ip = b.addr.ip();
            let written = e.hosts.iter().any(|h| {
                std::str::from_utf8(h)
                    .ok()
                    .and_then(|s| s.parse::<IpAddr>().ok())
                    == Some(ip)
            });
            let wildcard = ip.is_unspecified() && e.hosts.iter().any(|h| h == b"*");
            assert!(written || wildcard, "{b} is not an address of the line");
            match e.families {
                Families::V4 => assert!(b.addr.is_ipv4()),
                Families::V6 => assert!(b.addr.is_ipv6()),
                Families::V46 => assert!(b.addr.is_ipv6() || written),
                Families::Both => {}
            }
            if b.addr.is_ipv6() {
                assert_eq!(b.v6only, e.families != Families::V46);
            }
            assert!(used.insert(*b), "{b} served twice");
        }
        // What runs.
        match (&s.action, &e.server) {
            (Action::Internal(b), Server::Internal) => {
                assert_eq!(Builtin::lookup(b.name().as_bytes()), Some(*b));
                assert_eq!(s.daemon, b.name().as_bytes());
                assert!(
                    Builtin::lookup(&e.service) == Some(*b)
                        || e.args.first().and_then(|a| Builtin::lookup(a)) == Some(*b)
                );
                assert!(!s.wait);
            }
            (Action::Tripwire, Server::Tripwire) => {
                assert_eq!(&s.daemon, e.args.first().unwrap_or(&e.service));
                assert!(!s.wait);
            }
            (Action::Exec { path, argv }, Server::Program(server)) => {
                assert_eq!(path.first(), Some(&b'/'), "program {:?}", show(path));
                assert!(!argv.is_empty());
                assert_eq!(s.wait, e.wait);
                if base_name(server) == b"tcpd" {
                    // As tcpd: argv[0] names the daemon, a relative one
                    // in /usr/sbin.
                    let arg0 = &e.args[0];
                    assert_eq!(s.daemon, argv[0]);
                    if arg0.first() == Some(&b'/') {
                        assert_eq!(path, arg0);
                        assert_eq!(argv[0], base_name(arg0));
                    } else {
                        assert_eq!(*path, [&b"/usr/sbin/"[..], arg0].concat());
                        assert_eq!(argv[0], *arg0);
                    }
                    assert_eq!(argv[1..], e.args[1..]);
                    assert_eq!(s.umask, Some(0o022));
                } else {
                    assert_eq!(path, server);
                    assert_eq!(s.daemon, base_name(server));
                    if e.args.is_empty() {
                        assert_eq!(*argv, vec![base_name(server).to_vec()]);
                    } else {
                        assert_eq!(*argv, e.args);
                    }
                    assert_eq!(s.umask, None);
                }
                if let Some(id) = &s.identity {
                    assert_eq!(id.user, e.user);
                }
            }
            (a, srv) => panic!("line {}: action {a:?} for server {srv:?}", e.line),
        }
        let l = s.limits;
        assert_eq!(l.service_max, e.max_child.unwrap_or(settings.service_max));
        assert_eq!(
            l.service_rate,
            e.max_per_minute.unwrap_or(settings.service_rate)
        );
        assert_eq!(
            l.per_source_max,
            e.max_child_per_ip.unwrap_or(settings.per_source_max)
        );
        assert_eq!(
            l.per_source_rate,
            e.per_ip_per_minute.unwrap_or(settings.per_source_rate)
        );
    }
    assert_eq!(seen, cfg.services.len(), "a service without its entry");
}

/// `scan` (tcpdchk): warnings at lines of the file, nothing to syslog, a
/// status for every program entry the parser accepts.
fn check_scan(data: &[u8], entries: &[Entry]) {
    let mut svc = inetcf::Services::default();
    let mut r = Reporter {
        stderr: false,
        record: true,
        ..Reporter::default()
    };
    let before = fuzz_syslog_calls();
    inetcf::scan(b"inetd.conf", data, &mut svc, &mut r);
    assert_eq!(
        (fuzz_syslog_calls() - before) as usize,
        r.records.len(),
        "syslog() is not the stub of c/nolog.c"
    );
    assert!(r.context.is_none());
    let newlines = data.iter().filter(|&&b| b == b'\n').count();
    for d in &r.records {
        let p = d.position.as_ref().expect("a warning without its line");
        assert_eq!(&*p.file, b"inetd.conf");
        assert!(p.line as usize <= newlines, "warning at line {}", p.line);
    }
    // Where the loose scan reads the line as the parser does: no
    // continuation or NUL (the table reader's line assembly), no
    // `stream`/`dgram` service name and no numeric argv[0] (the scan skips
    // those as the original does).
    if data.contains(&b'\\') || data.contains(&0) || data.len() >= 8000 {
        return;
    }
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    for e in entries {
        let Server::Program(path) = &e.server else {
            continue;
        };
        let Some(arg0) = e.args.first() else { continue };
        let first = fields(lines[e.line as usize - 1])[0];
        if first.eq_ignore_ascii_case(b"stream")
            || first.eq_ignore_ascii_case(b"dgram")
            || arg0.iter().all(u8::is_ascii_digit)
        {
            continue;
        }
        let name: &[u8] = if base_name(path).eq_ignore_ascii_case(b"miscd") || arg0[0] != b'/' {
            arg0
        } else {
            base_name(arg0)
        };
        assert_ne!(
            svc.get(name),
            Wrap::Unknown,
            "tcpdchk saw no daemon {:?} at line {}",
            show(name),
            e.line
        );
    }
}

/// Settings without where `tripwire-alert` was set.
fn plain(s: &Settings) -> (Settings, Option<Vec<u8>>) {
    let mut c = s.clone();
    let name = c.tripwire_alert.take().map(|a| a.name.clone());
    (c, name)
}

/// `apply_file`: lines, ranges, line independence.
fn check_settings(conf: &[u8]) -> Settings {
    let mut s = Settings::default();
    let errors = s.apply_file(b"tcpwrapd.conf", conf);
    let lines: Vec<&[u8]> = conf.split(|&b| b == b'\n').collect();
    assert!(errors.windows(2).all(|w| w[0].line < w[1].line));
    for e in &errors {
        assert!(e.line >= 1 && e.line as usize <= lines.len(), "{e}");
    }
    assert!(s.source_prefix_v4 <= 32 && s.source_prefix_v6 <= 128);
    assert!((1..=256).contains(&s.workers));
    assert!((1..=1 << 20).contains(&s.queue));
    assert!((1..=65535).contains(&s.backlog));
    assert!(s.max_spawn <= 1 << 16);
    assert!(s.per_source_max <= 1 << 20 && s.service_max <= 1 << 20);
    assert!(s.per_source_rate <= 1 << 24 && s.service_rate <= 1 << 24);
    assert!(
        s.refuse_linger.as_secs_f64() <= 10.0,
        "refuse-linger {:?} accepted",
        s.refuse_linger
    );
    for (what, t) in [
        ("lookup-timeout", s.lookup_timeout),
        ("internal-timeout", s.internal_timeout),
    ] {
        assert!(
            !t.is_zero() && t.as_secs_f64() <= 86400.0,
            "{what} {t:?} accepted"
        );
    }
    if let Some(a) = &s.tripwire_alert {
        let (f, l) = a.at.clone().expect("where tripwire-alert was set");
        assert_eq!(&*f, b"tcpwrapd.conf");
        assert!(l >= 1 && l as usize <= lines.len());
    }
    // One line at a time.
    let mut one = Settings::default();
    for (n, raw) in lines.iter().enumerate() {
        let line = n as u32 + 1;
        let errs = one.apply_file(b"tcpwrapd.conf", raw);
        let want: Vec<_> = errors
            .iter()
            .filter(|e| e.line == line)
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            errs.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
            want,
            "line {line} alone"
        );
    }
    assert_eq!(plain(&one), plain(&s), "line by line");
    s
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);
    let conf = c.section(0);
    let settings = check_settings(c.section(1));
    let (entries, errors) = check_parse(conf);
    check_scan(conf, &entries);
    if entries.iter().all(|e| e.hosts.iter().all(|h| literal(h))) {
        check_load(conf, &entries, &errors, &settings);
    }
});
