//! The `alert` option end to end, through the crate's public API: a real
//! check with a table containing `alert NAME`, the detached background
//! process, the rate limit shared through state files, and real peers:
//! Debian's `nsca` daemon and Icinga 2.
//!
//! Each test runs itself again inside a private mount namespace
//! (tests/golden/ns-run --host-net --syslog FILE; support/peers.rs), so
//! that the syslog records of the background processes and of the daemons
//! go to a file of the test instead of the machine's /dev/log. Needs
//! root; the real-peer tests need `nsca` and `icinga2-bin`. Without them a
//! test is skipped with a reason, except with CI=true, where it fails.

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
#[cfg(feature = "icinga")]
use std::path::Path;
#[cfg(feature = "icinga")]
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tcpwrap::alert::{AlertMode, Dispatcher, Setup};
use tcpwrap::exec::SystemExecutor;
use tcpwrap::{Checker, Request, Settings, Verdict};

#[path = "support/peers.rs"]
mod peers;
use peers::*;

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Decide `daemon` from `name`/`addr` with alerts sent as `setup` says;
/// the verdict and how long the check took.
fn check(
    checker: &Checker,
    setup: &Setup,
    daemon: &str,
    name: &str,
    addr: &str,
    fd: i32,
) -> (Verdict, Duration) {
    let mut req = Request::from_ctl(daemon.as_bytes(), name.as_bytes(), addr.as_bytes(), b"");
    req.fd = fd;
    let mut exec = SystemExecutor::new().with_alerts(AlertMode::Detached(setup.clone()));
    let t = Instant::now();
    let v = checker.check(&mut req, Settings::default(), &mut exec);
    (v, t.elapsed())
}

#[test]
fn decision_returns_at_once_while_the_sink_never_answers() {
    let Some(log) = namespace("decision_returns_at_once_while_the_sink_never_answers") else {
        return;
    };
    let dir = Scratch::new("silent");
    // A TCP server that accepts (the kernel completes the handshake) but
    // never sends the NSCA init packet.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let config = dir.private(
        "alerts.conf",
        &format!(
            "[sink monitor]\ntype = nsca\nserver = 127.0.0.1\nport = {port}\npassword = secret\ntimeout = 2\n\n\
             [alert tw]\nsink = monitor\nhost = firestorm\nservice = TCP Wrappers\ncode = 2\n\
             output = Denied %d-%h\nwindow = 0\n"
        ),
    );
    let deny = dir.path("hosts.deny");
    fs::write(&deny, "ALL: ALL: alert tw\n").unwrap();
    let checker = Checker::new(
        dir.path("hosts.allow").as_os_str().as_encoded_bytes(),
        deny.as_os_str().as_encoded_bytes(),
    );
    let setup = Setup {
        config,
        state_dir: dir.path("state"),
    };
    // The client's connection: the check gets the server side's descriptor.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server_side, _) = l.accept().unwrap();

    let (v, took) = check(
        &checker,
        &setup,
        "sshd",
        "",
        "127.0.0.1",
        server_side.as_raw_fd(),
    );
    let fired = Instant::now();
    assert!(!v.granted());
    assert_eq!(v.rule.as_ref().unwrap().line, 1);
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
    assert!(
        took < Duration::from_millis(1500),
        "the check took {took:?}"
    );

    // The background process holds no copy of the client's socket: once
    // we close ours, the client sees the end of the connection at once.
    drop(server_side);
    client
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(client.read(&mut buf).expect("EOF, not a time-out"), 0);

    // It did connect to the silent sink ...
    silent.set_nonblocking(true).unwrap();
    let conn = wait_for(Duration::from_secs(2), || silent.accept().ok());
    assert!(conn.is_some(), "no connection reached the sink");
    // ... gave up after the sink's time-out, and said so in syslog.
    let want =
        format!("]: alert tw: sink monitor: Timeout after 2 seconds (host 127.0.0.1 port {port})");
    let line = wait_for(Duration::from_secs(8), || {
        syslog(&log).into_iter().find(|l| l.ends_with(&want))
    })
    .unwrap_or_else(|| panic!("no log line ending in {want:?}: {:?}", syslog(&log)));
    let after = fired.elapsed();
    assert!(line.starts_with("daemon.err sshd["), "{line}");
    assert!(
        after >= Duration::from_millis(1800),
        "gave up after {after:?}, before its time-out"
    );
    assert!(
        after < Duration::from_secs(6),
        "gave up only after {after:?}"
    );
    // No rate limit: no state was kept.
    assert!(fs::read_dir(dir.path("state")).map_or(true, |mut d| d.next().is_none()));
}

#[test]
fn nsca_sink_against_the_real_daemon() {
    let Some(log) = namespace("nsca_sink_against_the_real_daemon") else {
        return;
    };
    if !nsca_available() {
        return;
    }
    let dir = Scratch::new("nsca");
    let (p1, p0) = (free_port(), free_port());
    let (_xor, cmd_xor) = start_nsca(&dir, "xor", p1, 1);
    let (_none, cmd_none) = start_nsca(&dir, "none", p0, 0);
    let config = dir.private(
        "alerts.conf",
        &format!(
            "# The seed's scenario: firestorm / TCP Wrappers / CRITICAL / Denied %d-%h\n\
             [sink monitor]\ntype = nsca\nserver = 127.0.0.1\nport = {p1}\npassword = secret\n\
             encryption_method = 1\ntimeout = 5\n\n\
             [sink zero]\ntype = nsca\nserver = localhost\nport = {p0}\nencryption_method = 0\n\n\
             [alert tcp-wrappers]\nsink = monitor\nhost = firestorm\nservice = TCP Wrappers\ncode = 2\n\
             output = Denied %d-%h\nwindow = 6\n\n\
             [alert hostres]\nsink = zero\nhost = firestorm\ncode = 1\noutput = replaced by the rule\nwindow = 0\n\n\
             [alert plain]\nsink = zero\nhost = fw;%d\nservice = svc;x\ncode = 3\noutput = Plain %d-%a\nwindow = 0\n\n\
             [alert dispatched]\nsink = monitor\nhost = firestorm\nservice = TCP Wrappers\ncode = 2\n\
             output = Denied %d-%a\nwindow = 2\n"
        ),
    );
    let deny = dir.path("hosts.deny");
    fs::write(
        &deny,
        "sshd: 10.9.9.9: alert hostres Refused %d from %a : alert plain\nALL: ALL: alert tcp-wrappers\n",
    )
    .unwrap();
    let checker = Checker::new(
        dir.path("hosts.allow").as_os_str().as_encoded_bytes(),
        deny.as_os_str().as_encoded_bytes(),
    );
    let setup = Setup {
        config: config.clone(),
        state_dir: dir.path("state"),
    };

    // A burst from one client to three daemons: one alert at once, one
    // summary at the end of the 6-second window (long enough that "at
    // once" and "at the window's end" stay apart on a loaded machine).
    let client = "sdn-ar-002mnminnP321.dialsprint.net";
    let burst_start = Instant::now();
    for d in ["sshd2", "in.ftpd", "in.telnetd", "sshd2", "in.ftpd"] {
        let (v, took) = check(&checker, &setup, d, client, "206.182.68.5", -1);
        assert!(!v.granted());
        assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
        assert!(took < Duration::from_secs(1), "the check took {took:?}");
    }
    // XOR (method 1) and the exact command line of the seed.
    let first = "PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;Denied sshd2-sdn-ar-002mnminnP321.dialsprint.net";
    let got = wait_for(Duration::from_secs(5), || {
        commands(&cmd_xor).iter().any(|l| l == first).then_some(())
    });
    assert!(got.is_some(), "no alert: {:?}", commands(&cmd_xor));
    assert!(
        burst_start.elapsed() < Duration::from_secs(5),
        "the alert came only with the window's end"
    );

    // Method 0, a host result with the rule's output, and two alerts of
    // one rule; `;` in host and service cannot shift the fields.
    let (v, _) = check(&checker, &setup, "sshd", "", "10.9.9.9", -1);
    assert!(!v.granted());
    let want_none = [
        "PROCESS_HOST_CHECK_RESULT;firestorm;1;Refused sshd from 10.9.9.9",
        "PROCESS_SERVICE_CHECK_RESULT;fw_sshd;svc_x;3;Plain sshd-10.9.9.9",
    ];
    let got = wait_for(Duration::from_secs(5), || {
        let mut c = commands(&cmd_none);
        c.sort();
        (c == want_none).then_some(())
    });
    assert!(
        got.is_some(),
        "method 0 daemon wrote {:?}",
        commands(&cmd_none)
    );

    // The in-process dispatcher, with its own (in-memory) rate limit.
    let dispatcher = Dispatcher::new(config.clone());
    for _ in 0..4 {
        let mut req = Request::from_ctl(b"in.ftpd", b"", b"10.1.1.1", b"");
        let mut ctx = tcpwrap_core::Ctx::new(tcpwrap::Env::offline());
        let t = Instant::now();
        dispatcher.fire(b"dispatched", None, &mut req, &mut ctx);
        assert!(t.elapsed() < Duration::from_millis(200));
        assert!(ctx.diagnostics.is_empty(), "{:?}", ctx.diagnostics);
    }

    // The summary of the burst, sent by the process that sent the alert.
    let summary = "PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;5 refused connections from 206.182.68.5 to 3 services in 6 s";
    let got = wait_for(Duration::from_secs(14), || {
        commands(&cmd_xor)
            .iter()
            .any(|l| l == summary)
            .then_some(())
    });
    assert!(got.is_some(), "no summary: {:?}", commands(&cmd_xor));
    assert!(
        burst_start.elapsed() >= Duration::from_secs(6),
        "summary before the window's end"
    );
    let d_first = "PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;Denied in.ftpd-10.1.1.1";
    let d_summary = "PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;4 refused connections from 10.1.1.1 to 1 services in 2 s";
    let got = wait_for(Duration::from_secs(8), || {
        commands(&cmd_xor)
            .iter()
            .any(|l| l == d_summary)
            .then_some(())
    });
    assert!(
        got.is_some(),
        "no dispatcher summary: {:?}",
        commands(&cmd_xor)
    );
    drop(dispatcher);
    // Exactly these four results, nothing else: the suppressed events
    // were not sent.
    let mut all = commands(&cmd_xor);
    all.sort();
    let mut want = vec![first, summary, d_first, d_summary];
    want.sort();
    assert_eq!(all, want);
    // The windows are closed: no state file is left.
    let left: Vec<_> = fs::read_dir(dir.path("state")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // The daemon logged through the private /dev/log, not the machine's.
    assert!(
        syslog(&log).iter().any(|l| l.contains("nsca[")),
        "{:?}",
        syslog(&log)
    );
}

#[test]
fn broken_config_is_logged_with_the_rule_position_and_changes_nothing() {
    let dir = Scratch::new("broken");
    let config = dir.private(
        "alerts.conf",
        "[sink m]\ntype = nsca\nserver = 127.0.0.1\nport = 99999\n[alert tw]\nsink = m\nhost = h\ncode = 2\noutput = o\n",
    );
    let allow = dir.path("hosts.allow");
    fs::write(
        &allow,
        "sshd: 10.0.0.1: alert tw\nftpd: ALL: alert nope : deny\n",
    )
    .unwrap();
    let checker = Checker::new(
        allow.as_os_str().as_encoded_bytes(),
        dir.path("hosts.deny").as_os_str().as_encoded_bytes(),
    );
    let setup = Setup {
        config: config.clone(),
        state_dir: dir.path("state"),
    };
    let (v, _) = check(&checker, &setup, "sshd", "", "10.0.0.1", -1);
    assert!(v.granted(), "an alert never changes the decision");
    let texts: Vec<String> = v.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        texts,
        [format!(
            "warning: {}, line 1: alert tw: {}:4: bad number for \"port\": \"99999\" (expected 1 to 65535)",
            allow.display(),
            config.display()
        )]
    );
    // A config that others can write is refused (fail closed).
    fs::write(
        &config,
        "[sink m]\ntype=nsca\nserver=x\n[alert tw]\nsink=m\nhost=h\ncode=2\noutput=o\n",
    )
    .unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    let (v, _) = check(&checker, &setup, "sshd", "", "10.0.0.1", -1);
    assert!(v.granted());
    assert_eq!(
        v.diagnostics[0].to_string(),
        format!(
            "warning: {}, line 1: alert tw: {}: group- or world-writable (mode 0666): refused because it holds passwords",
            allow.display(),
            config.display()
        )
    );
    // An undefined alert; the decision is the rule's.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    let (v, _) = check(&checker, &setup, "ftpd", "", "10.0.0.2", -1);
    assert!(!v.granted());
    assert_eq!(
        v.diagnostics[0].to_string(),
        format!(
            "warning: {}, line 2: alert nope: not defined in {}",
            allow.display(),
            config.display()
        )
    );
    // A missing config.
    let setup = Setup {
        config: dir.path("none.conf"),
        state_dir: dir.path("state"),
    };
    let (v, _) = check(&checker, &setup, "sshd", "", "10.0.0.1", -1);
    assert!(v.granted());
    assert_eq!(
        v.diagnostics[0].to_string(),
        format!(
            "warning: {}, line 1: alert tw: {}: No such file or directory",
            allow.display(),
            dir.path("none.conf").display()
        )
    );
    // A dry run (tcpdmatch) reports the option but fires nothing.
    let mut req = Request::from_ctl(b"sshd", b"", b"10.0.0.1", b"");
    let mut exec = SystemExecutor::new().with_alerts(AlertMode::Detached(setup));
    let v = checker.check(
        &mut req,
        Settings {
            dry_run: true,
            ..Settings::default()
        },
        &mut exec,
    );
    assert!(v.diagnostics.is_empty());
    assert_eq!(v.options.len(), 1);
    assert_eq!(v.options[0].key, b"alert");
    assert_eq!(v.options[0].value.as_deref(), Some(&b"tw"[..]));
}

#[cfg(feature = "icinga")]
/// Make a CA and a certificate for CN=localhost (SAN localhost,
/// 127.0.0.1) with the openssl command.
fn make_certs(dir: &Scratch, certs: &Path) -> bool {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    fs::write(
        dir.path("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    let node_key = certs.join("localhost.key");
    let node_crt = certs.join("localhost.crt");
    run(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=tcpwrap-test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]) && run(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", node_key.to_str().unwrap(), "-out", "node.csr",
        "-subj", "/CN=localhost",
    ]) && run(&[
        "x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        node_crt.to_str().unwrap(), "-days", "2", "-extfile", "ext.cnf",
    ]) && fs::copy(dir.path("ca.crt"), certs.join("ca.crt")).is_ok()
    // A second CA that signed nothing: verifying against it must fail.
    && run(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "2",
        "-subj", "/CN=someone-else", "-addext", "basicConstraints=critical,CA:TRUE",
    ])
}

/// GET a URL of the API with our CA and the test user.
#[cfg(feature = "icinga")]
fn api_get(ca: &Path, url: &str) -> Option<serde_json::Value> {
    use std::sync::Arc;
    use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};
    let pem = fs::read(ca).ok()?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(certs)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent();
    let mut r = agent
        .get(url)
        .header("Accept", "application/json")
        .header(
            "Authorization",
            tcpwrap::alert::icinga::basic_auth(b"tcpwrap", b"icinga-test-pw"),
        )
        .call()
        .ok()?;
    serde_json::from_slice(&r.body_mut().read_to_vec().ok()?).ok()
}

#[cfg(feature = "icinga")]
#[test]
fn icinga2_sink_against_a_real_icinga() {
    let Some(log) = namespace("icinga2_sink_against_a_real_icinga") else {
        return;
    };
    if !Path::new("/usr/sbin/icinga2").exists() {
        unavailable(
            "Icinga 2 is not installed (apt-get install -y --no-install-recommends icinga2-bin icinga2-common)",
        );
        return;
    }
    if Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        unavailable("the openssl command is not installed");
        return;
    }
    let dir = Scratch::new("icinga");
    let t = |p: &str| dir.path(p).display().to_string();
    for d in ["lib/certs", "run", "cache", "log", "spool"] {
        fs::create_dir_all(dir.path(d)).unwrap();
    }
    assert!(make_certs(&dir, &dir.path("lib/certs")), "openssl failed");
    let port = free_port();
    fs::write(
        dir.path("icinga2.conf"),
        format!(
            "include <itl>\nconst NodeName = \"localhost\"\nconst ZoneName = \"master\"\n\
             object Endpoint NodeName {{ }}\nobject Zone ZoneName {{ endpoints = [ NodeName ] }}\n\
             object FileLogger \"main\" {{ path = \"{}\"; severity = \"notice\" }}\n\
             object ApiListener \"api\" {{ bind_host = \"127.0.0.1\"; bind_port = {port} }}\n\
             object ApiUser \"tcpwrap\" {{ password = \"icinga-test-pw\"; permissions = [ \"actions/process-check-result\", \"objects/query/Service\", \"objects/query/Host\" ] }}\n\
             object CheckerComponent \"checker\" {{ }}\n\
             object Host \"firestorm\" {{ check_command = \"dummy\"; enable_active_checks = false; address = \"127.0.0.1\" }}\n\
             object Service \"TCP Wrappers\" {{ host_name = \"firestorm\"; check_command = \"passive\"; enable_active_checks = false; volatile = true; max_check_attempts = 1 }}\n",
            t("log/icinga2.log")
        ),
    )
    .unwrap();
    let defs = [
        format!("-DDataDir={}", t("lib")),
        format!("-DInitRunDir={}", t("run")),
        format!("-DCacheDir={}", t("cache")),
        format!("-DLogDir={}", t("log")),
        format!("-DSpoolDir={}", t("spool")),
        format!("-DStatePath={}", t("lib/icinga2.state")),
        format!("-DObjectsPath={}", t("cache/icinga2.debug")),
        format!("-DVarsPath={}", t("cache/icinga2.vars")),
        format!("-DPidPath={}", t("run/icinga2.pid")),
        "-DRunAsUser=root".to_string(),
        "-DRunAsGroup=root".to_string(),
    ];
    let started = Instant::now();
    let child = Command::new("/usr/sbin/icinga2")
        .arg("daemon")
        .arg("-c")
        .arg(dir.path("icinga2.conf"))
        .args(&defs)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.path("icinga2.err")).unwrap())
        .spawn()
        .expect("start icinga2");
    let _icinga = Daemon {
        child,
        what: "icinga2",
    };
    let ca = dir.path("ca.crt");
    let base = format!("https://127.0.0.1:{port}");
    let ready = wait_for(Duration::from_secs(20), || {
        api_get(&ca, &format!("{base}/v1/status"))
    });
    assert!(
        ready.is_some(),
        "icinga2 did not answer within 20 s: {}",
        fs::read_to_string(dir.path("icinga2.err")).unwrap_or_default()
    );
    eprintln!("icinga2 ready after {:?}", started.elapsed());

    let config = dir.private(
        "alerts.conf",
        &format!(
            "[sink icinga]\ntype = icinga2\nurl = https://localhost:{port}/\nuser = tcpwrap\n\
             password = icinga-test-pw\nca_file = {ca}\ntimeout = 5\n\n\
             [sink wrong-password]\ntype = icinga2\nurl = https://127.0.0.1:{port}\nuser = tcpwrap\n\
             password = nope\nca_file = {ca}\n\n\
             [sink wrong-ca]\ntype = icinga2\nurl = https://127.0.0.1:{port}\nuser = tcpwrap\n\
             password = icinga-test-pw\nca_file = {other}\n\n\
             [alert tcp-wrappers]\nsink = icinga, wrong-password, wrong-ca\nhost = firestorm\nservice = TCP Wrappers\n\
             code = 2\noutput = Denied %d-%h\nwindow = 0\n\n\
             [alert host]\nsink = icinga\nhost = firestorm\ncode = 1\noutput = host result \"quoted\" \\ %d\nwindow = 0\n\n\
             [alert unknown]\nsink = icinga\nhost = firestorm\nservice = No \"such\" service\ncode = 2\noutput = x\nwindow = 0\n",
            ca = ca.display(),
            other = dir.path("other.crt").display()
        ),
    );
    let deny = dir.path("hosts.deny");
    fs::write(
        &deny,
        "sshd2: ALL: alert tcp-wrappers\nftpd: ALL: alert host : alert unknown\n",
    )
    .unwrap();
    let checker = Checker::new(
        dir.path("hosts.allow").as_os_str().as_encoded_bytes(),
        deny.as_os_str().as_encoded_bytes(),
    );
    let setup = Setup {
        config,
        state_dir: dir.path("state"),
    };
    let (v, took) = check(
        &checker,
        &setup,
        "sshd2",
        "sdn-ar-002mnminnP321.dialsprint.net",
        "206.182.68.5",
        -1,
    );
    assert!(!v.granted());
    assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
    assert!(took < Duration::from_secs(1));

    // The result arrived as the service's last check result.
    let url = format!(
        "{base}/v1/objects/services?service=firestorm!TCP%20Wrappers&attrs=last_check_result"
    );
    let last = wait_for(Duration::from_secs(10), || {
        let j = api_get(&ca, &url)?;
        let r = j["results"][0]["attrs"]["last_check_result"].clone();
        (r["output"] == "Denied sshd2-sdn-ar-002mnminnP321.dialsprint.net").then_some(r)
    })
    .unwrap_or_else(|| panic!("no result in icinga2: {:?}", api_get(&ca, &url)));
    assert_eq!(last["state"], 2, "{last}");
    assert_eq!(last["active"], false);
    let me = String::from_utf8(tcpwrap::sys::hostname().unwrap()).unwrap();
    assert_eq!(last["check_source"], me.as_str());

    // A host result, with quotes and a backslash in the output.
    let (v, _) = check(&checker, &setup, "ftpd", "", "10.2.2.2", -1);
    assert!(!v.granted());
    let hurl = format!("{base}/v1/objects/hosts?host=firestorm&attrs=last_check_result");
    let hlast = wait_for(Duration::from_secs(10), || {
        let j = api_get(&ca, &hurl)?;
        let r = j["results"][0]["attrs"]["last_check_result"].clone();
        (r["output"] == "host result \"quoted\" \\ ftpd").then_some(r)
    });
    assert!(hlast.is_some(), "no host result: {:?}", api_get(&ca, &hurl));

    // Failures, logged by the background processes with the API's words.
    let wants = [
        "]: alert tcp-wrappers: sink wrong-password: HTTP 401: Unauthorized. Please check your user credentials.",
        // Icinga 2.13.6 answers a filter that matches nothing with HTTP 500.
        "]: alert unknown: sink icinga: HTTP 500: no object matches the filter host.name==\"firestorm\" && service.name==\"No \\\"such\\\" service\"",
    ];
    for want in wants {
        let found = wait_for(Duration::from_secs(10), || {
            syslog(&log).into_iter().find(|l| l.ends_with(want))
        });
        assert!(
            found.is_some(),
            "no log line ending in {want:?}: {:?}",
            syslog(&log)
        );
    }
    let tls = wait_for(Duration::from_secs(10), || {
        syslog(&log)
            .into_iter()
            .find(|l| l.contains("]: alert tcp-wrappers: sink wrong-ca: POST https://127.0.0.1:"))
    })
    .unwrap_or_else(|| panic!("no TLS failure logged: {:?}", syslog(&log)));
    assert!(tls.to_lowercase().contains("certificate"), "{tls}");
    // Successes are logged at debug level.
    assert!(
        syslog(&log)
            .iter()
            .any(|l| l.starts_with("daemon.debug sshd2[")
                && l.ends_with("]: alert tcp-wrappers: sink icinga: 1 result(s) sent")),
        "{:?}",
        syslog(&log)
    );
}
