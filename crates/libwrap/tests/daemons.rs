//! Real daemons loading our libwrap.so.0 through LD_LIBRARY_PATH: socat
//! (`tcpwrap=`, `allow-table=`, `deny-table=`), openbsd-inetd `-l`,
//! xinetd (unpacked from Debian's package, since it conflicts with
//! openbsd-inetd) and Debian's NRPE daemon with check_nrpe, each allowed
//! and refused, in a private network namespace with only loopback
//! and a private /etc and /dev/log (tests/golden/ns-run). /proc/PID/maps
//! must show our library; what the clients get and every syslog record
//! must equal a run of the same script with Debian's library.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An xinetd binary: the installed one, or Debian's package unpacked under
/// the target directory (fetched with `apt-get download` once).
fn xinetd() -> Option<std::path::PathBuf> {
    if Path::new("/usr/sbin/xinetd").exists() {
        return Some("/usr/sbin/xinetd".into());
    }
    let dir = common::our_lib_dir().parent()?.join("xinetd-pkg");
    let bin = dir.join("root/usr/sbin/xinetd");
    if bin.exists() {
        return Some(bin);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let download = || {
        Command::new("apt-get")
            .args(["download", "-q", "xinetd"])
            .current_dir(&dir)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !download() {
        let _ = Command::new("apt-get").args(["update", "-qq"]).output();
        if !download() {
            return None;
        }
    }
    let deb = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))?;
    let ok = Command::new("dpkg")
        .arg("-x")
        .arg(&deb)
        .arg(dir.join("root"))
        .status()
        .is_ok_and(|s| s.success());
    (ok && bin.exists()).then_some(bin)
}

/// Run tests/daemons/run.sh in ns-run; (stdout, syslog), with the scratch
/// directory and pids made neutral.
fn scenario(libdir: &str, tag: &str, xinetd: &Path) -> (String, String) {
    let script = common::manifest_dir().join("tests/daemons/run.sh");
    in_namespace(
        &format!("daemons-{tag}"),
        &[],
        &script,
        libdir,
        &[xinetd.as_os_str()],
    )
}

/// Run SCRIPT LIBDIR WORK EXTRA... in ns-run (with `ns_args` before `--`,
/// and a syslog capture); (stdout, syslog), with the scratch directory
/// replaced by `W` and every `ident[pid]` by `ident[PID]`. The script must
/// succeed and print `end` last.
fn in_namespace(
    name: &str,
    ns_args: &[&OsStr],
    script: &Path,
    libdir: &str,
    extra: &[&OsStr],
) -> (String, String) {
    let work = common::scratch(name);
    let log = work.with_extension("syslog");
    let _ = std::fs::remove_file(&log);
    let golden = common::manifest_dir().join("../../tests/golden");
    let o = Command::new(golden.join("ns-run"))
        .args(ns_args)
        .arg("--syslog")
        .arg(&log)
        .arg("--")
        .arg("bash")
        .arg(script)
        .arg(libdir)
        .arg(&work)
        .args(extra)
        .output()
        .expect("ns-run");
    let w = work.to_str().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).replace(w, "W");
    assert!(
        o.status.success() && stdout.ends_with("end\n"),
        "{name}: {:?}\n{stdout}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let syslog = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .replace(w, "W");
    let syslog = syslog
        .lines()
        .map(|l| match (l.find('['), l.find("]: ")) {
            (Some(a), Some(b)) if a < b => format!("{}[PID]{}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_file(&log);
    (stdout, syslog)
}

#[test]
fn socat_inetd_and_xinetd_with_our_library() {
    let ns_run = common::manifest_dir().join("../../tests/golden/ns-run");
    if !common::require(common::is_root(), "root (for namespaces)")
        || !common::require(
            Path::new(&ns_run).exists() && have("unshare") && have("python3"),
            "ns-run (unshare, python3)",
        )
        || !common::require(have("socat"), "socat")
        || !common::require(Path::new("/usr/sbin/inetd").exists(), "openbsd-inetd")
        || !common::require(have("ip"), "ip (iproute2)")
    {
        return;
    }
    let Some(xinetd) = xinetd() else {
        common::require(false, "xinetd (apt-get download xinetd)");
        return;
    };
    let libdir = common::our_lib_dir();
    let (ours, ours_log) = scenario(libdir.to_str().unwrap(), "ours", &xinetd);
    for want in [
        "maps socat ours",
        "socat allowed: [hello from socat]",
        "socat spawn: spawned mysvc 127.0.0.1",
        "socat refused: []",
        "socat deny option: []",
        "socat option error: []",
        "socat allow option: [hello from socat]",
        "maps inetd ours",
        "inetd allowed: [wrapped service]",
        "inetd spawn: echodaemon 127.0.0.1",
        "inetd refused: []",
        "maps xinetd ours",
        "xinetd allowed: [xinetd service]",
        "xinetd spawn: echo 127.0.0.1",
        "xinetd refused: []",
    ] {
        assert!(
            ours.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours}"
        );
    }
    for want in [
        "daemon.err socat[PID]: error: W/deny, line 1: bad option name: \"frob\"",
        "daemon.debug socat[PID]: option:   severity local3.notice",
        "daemon.warning inetd[PID]: refused connection from 127.0.0.1, service 7002 (tcp)",
        "daemon.info xinetd[PID]: libwrap refused connection to wrapped (libwrap=echo) from 127.0.0.1",
    ] {
        assert!(
            ours_log.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours_log}"
        );
    }
    if common::require(common::have_debian(), "Debian's libwrap0") {
        let (theirs, theirs_log) = scenario("", "debian", &xinetd);
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("maps "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(theirs.contains("maps socat debian"), "{theirs}");
        assert_eq!(strip(&theirs), strip(&ours), "clients see a difference");
        assert_eq!(theirs_log, ours_log, "syslog records differ");
    }
}

#[test]
fn ident_through_the_library() {
    let ns_run = common::manifest_dir().join("../../tests/golden/ns-run");
    if !common::require(common::is_root(), "root (for namespaces)")
        || !common::require(
            ns_run.exists() && have("unshare") && have("python3"),
            "ns-run (unshare, python3)",
        )
        || !common::require(have("ip"), "ip (iproute2)")
        || !common::require(common::have_gcc(), "gcc")
    {
        return;
    }
    let dir = common::scratch("ident");
    let prog = dir.join("ident");
    common::compile(
        "ident.c",
        &prog,
        common::Header::Ours,
        common::Lib::Ours,
        &[],
    );
    let run = |libdir: &str, tag: &str| {
        let work = dir.join(tag);
        std::fs::create_dir_all(&work).unwrap();
        let o = Command::new(&ns_run)
            .arg("--")
            .arg("bash")
            .arg(common::manifest_dir().join("tests/daemons/ident.sh"))
            .arg(&prog)
            .arg(libdir)
            .arg(&work)
            .output()
            .expect("ns-run");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{tag}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let ours = run(common::our_lib_dir().to_str().unwrap(), "ours");
    for want in [
        "eval_user=alice",
        "client=alice@127.0.0.1",
        "user rule -> 1 user=alice",
        "percent_x=alice@127.0.0.1",
        "rfc931 option -> 1 user=unknown X=unknown timeout=1",
        "end",
    ] {
        assert!(
            ours.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours}"
        );
    }
    if common::require(common::have_debian(), "Debian's libwrap0") {
        let theirs = run("", "debian");
        assert_eq!(theirs, ours, "{}", common::diff(&theirs, &ours));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Debian's NRPE daemon (nagios-nrpe-server 4.1.0: /usr/sbin/nrpe links
/// libwrap.so.0 and checks every connection with `hosts_access` in the
/// forked child, daemon name `nrpe`) behind the seed's `nrpe: LOCAL,,`,
/// queried with check_nrpe from allowed and refused loopback addresses.
#[test]
fn nrpe_with_our_library() {
    let ns_run = common::manifest_dir().join("../../tests/golden/ns-run");
    if !common::require(common::is_root(), "root (for namespaces)")
        || !common::require(
            ns_run.exists() && have("unshare") && have("python3"),
            "ns-run (unshare, python3)",
        )
        || !common::require(have("ip") && have("ss"), "ip, ss (iproute2)")
        || !common::require(
            Path::new("/usr/sbin/nrpe").exists(),
            "nrpe (apt-get install nagios-nrpe-server)",
        )
        || !common::require(
            Path::new("/usr/lib/nagios/plugins/check_nrpe").exists(),
            "check_nrpe (apt-get install nagios-nrpe-plugin)",
        )
    {
        return;
    }
    let dir = common::manifest_dir().join("tests/daemons");
    let hosts = dir.join("nrpe.hosts");
    let ns_args = [OsStr::new("--hosts"), hosts.as_os_str()];
    let script = dir.join("nrpe.sh");
    // nrpe's debug log names the client's (ephemeral) port.
    let neutral = |log: String| {
        log.lines()
            .map(|l| match l.rfind(" port ") {
                Some(i) if l.contains("CONN_CHECK_PEER") => format!("{} port N", &l[..i]),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let run = |lib: &str, tag: &str| {
        let (out, log) = in_namespace(tag, &ns_args, &script, lib, &[]);
        (out, neutral(log))
    };
    let libdir = common::our_lib_dir();
    let debian = common::require(common::have_debian(), "Debian's libwrap0");
    // Every refused client costs 5 s (libwrap's clean_exit() sleeps before
    // exiting), so the two runs, each in its own namespace, go side by side.
    let ((ours, ours_log), theirs) = std::thread::scope(|s| {
        let theirs = debian.then(|| s.spawn(|| run("", "nrpe-debian")));
        let ours = run(libdir.to_str().unwrap(), "nrpe-ours");
        (
            ours,
            theirs.map(|t| t.join().expect("the run with Debian's library")),
        )
    });
    let refused =
        "[CHECK_NRPE: Receive header underflow - only -1 bytes received (4 expected).] exit=3";
    for want in [
        "maps nrpe ours".to_string(),
        "nrpe localhost: [OK - hello from nrpe] exit=0".to_string(),
        "nrpe nagios: [OK - hello from nrpe] exit=0".to_string(),
        "nrpe spawn: nrpe 127.0.0.5 nagios".to_string(),
        "nrpe version: [NRPE v4.1.0] exit=0".to_string(),
        format!("nrpe dotted name: {refused}"),
        format!("nrpe unknown name: {refused}"),
        "nrpe allowed by address: [OK - hello from nrpe] exit=0".to_string(),
    ] {
        assert!(
            ours.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours}"
        );
    }
    for want in [
        "daemon.debug nrpe[PID]: Connection refused by TCP wrapper",
        "daemon.warning nrpe[PID]: refused connect from mon.example.org (127.0.0.6)",
        "daemon.warning nrpe[PID]: refused connect from 127.0.0.7 (127.0.0.7)",
        "daemon.debug nrpe[PID]: Connection from 127.0.0.5 closed.",
    ] {
        assert!(
            ours_log.lines().any(|l| l == want),
            "missing {want:?} in:\n{ours_log}"
        );
    }
    if let Some((theirs, theirs_log)) = theirs {
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("maps "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(theirs.contains("maps nrpe debian"), "{theirs}");
        assert_eq!(strip(&theirs), strip(&ours), "clients see a difference");
        assert_eq!(
            theirs_log,
            ours_log,
            "syslog records differ:\n{}",
            common::diff(&theirs_log, &ours_log)
        );
    }
}
