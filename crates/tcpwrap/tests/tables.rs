//! Tables as files: the identity cache, hostile files, and concurrent use.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tcpwrap::cache::Loaded;
use tcpwrap::{Checker, NoExec, Request, Settings};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("tcpwrap-tables-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}
fn b(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

fn decide(c: &Checker, daemon: &str, addr: &str) -> tcpwrap::Verdict {
    let mut r = Request::from_ctl(daemon.as_bytes(), b"", addr.as_bytes(), b"");
    c.check(&mut r, Settings::default(), &mut NoExec)
}

fn texts(v: &tcpwrap::Verdict) -> Vec<String> {
    v.diagnostics.iter().map(|d| d.to_string()).collect()
}

#[test]
fn checker_is_send_and_sync() {
    fn assert<T: Send + Sync>() {}
    assert::<Checker>();
    assert::<tcpwrap::Table>();
}

#[test]
fn cache_follows_file_changes() {
    let d = dir("reload");
    let (a, n) = (d.0.join("allow"), d.0.join("deny"));
    std::fs::write(&n, "ALL: ALL\n").unwrap();
    std::fs::write(&a, "sshd: 10.0.0.1\n").unwrap();
    let c = Checker::new(b(&a), b(&n));
    assert!(decide(&c, "sshd", "10.0.0.1").granted());
    let t1 = match c.tables().0 {
        Loaded::Table(t) => t,
        other => panic!("{other:?}"),
    };
    let t2 = match c.tables().0 {
        Loaded::Table(t) => t,
        other => panic!("{other:?}"),
    };
    assert!(Arc::ptr_eq(&t1, &t2), "an unchanged file is compiled once");
    // Same size, new contents: the ctime/mtime/inode identity catches it.
    std::fs::write(&a, "sshd: 10.0.0.2\n").unwrap();
    assert!(!decide(&c, "sshd", "10.0.0.1").granted());
    assert!(decide(&c, "sshd", "10.0.0.2").granted());
    // Replaced by rename.
    let tmp = d.0.join("allow.new");
    std::fs::write(&tmp, "sshd: 10.0.0.3\n").unwrap();
    std::fs::rename(&tmp, &a).unwrap();
    assert!(decide(&c, "sshd", "10.0.0.3").granted());
    // Removed: an empty table.
    std::fs::remove_file(&a).unwrap();
    assert!(!decide(&c, "sshd", "10.0.0.3").granted());
}

#[test]
fn hostile_files() {
    let d = dir("hostile");
    let deny = d.0.join("deny");
    std::fs::write(&deny, "ALL: ALL\n").unwrap();
    let allow = d.0.join("allow");
    let c = Checker::new(b(&allow), b(&deny));

    // A directory reads as an empty table (Debian: no warning, no match).
    std::fs::create_dir(&allow).unwrap();
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(!v.granted() && texts(&v).is_empty());
    std::fs::remove_dir(&allow).unwrap();

    // A symlink loop cannot be opened: warning, the allow table is ERROR and
    // evaluation goes on to the deny table.
    std::os::unix::fs::symlink(&allow, &allow).unwrap();
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(!v.granted());
    assert_eq!(
        texts(&v),
        [format!(
            "warning: cannot open {}: Too many levels of symbolic links",
            allow.display()
        )]
    );
    std::fs::remove_file(&allow).unwrap();

    // Invalid UTF-8, CRLF and NUL bytes: bytes are compared as bytes, and a
    // NUL ends what is read of its physical line, which is then joined with
    // the next one (as the original's fgets/strlen do).
    std::fs::write(
        &allow,
        b"\xff\xfe: ALL\nsshd: 10.0.0.1\r\nss\0junk\nx: 10.0.0.2\n",
    )
    .unwrap();
    let mut r = Request::from_ctl(b"\xff\xfe", b"", b"10.9.9.9", b"");
    assert!(c.check(&mut r, Settings::default(), &mut NoExec).granted());
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(v.granted() && texts(&v).is_empty(), "{:?}", texts(&v));
    assert!(decide(&c, "ssx", "10.0.0.2").granted());
    assert!(!decide(&c, "x", "10.0.0.2").granted());

    // A 10 MB line: the line limit applies, nothing else grows.
    let mut big = b"sshd: 10.0.0.1\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 10 << 20));
    big.push(b'\n');
    std::fs::write(&allow, &big).unwrap();
    let t = std::time::Instant::now();
    let v = decide(&c, "ftpd", "10.0.0.1");
    assert!(!v.granted());
    assert_eq!(
        texts(&v)[0],
        format!(
            "warning: {}, line 1: missing newline or line too long",
            allow.display()
        )
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(5));

    // A FIFO without a writer does not hang the check.
    std::fs::remove_file(&allow).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(&allow)
        .status()
        .unwrap();
    assert!(st.success());
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(!v.granted());
    std::fs::remove_file(&allow).unwrap();

    // hosts.deny without a final newline denies everybody not allowed.
    std::fs::write(&allow, "").unwrap();
    std::fs::write(&deny, "sshd: 10.9.9.9").unwrap();
    let v = decide(&c, "ftpd", "10.0.0.1");
    assert!(!v.granted());
    assert_eq!(v.reason, tcpwrap::Reason::DenyTableError);
    assert_eq!(v.rule.as_ref().map(|r| r.line), Some(0));
}

#[test]
fn pattern_file_loops_and_directories_fail_closed() {
    let d = dir("loops");
    let (allow, deny, list) = (d.0.join("allow"), d.0.join("deny"), d.0.join("list"));
    std::fs::write(&list, format!("10.9.9.9 {}\n", list.display())).unwrap();
    std::fs::write(&allow, "").unwrap();
    std::fs::write(&deny, format!("sshd: {}\n", list.display())).unwrap();
    let c = Checker::new(b(&allow), b(&deny));
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(!v.granted(), "a /file loop in hosts.deny must not grant");
    assert!(
        texts(&v).iter().any(|t| t.contains("nesting too deep")),
        "{:?}",
        texts(&v)
    );
    // A directory as /file: no match, no diagnostic.
    std::fs::write(&deny, format!("sshd: {}\n", d.0.display())).unwrap();
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(v.granted() && texts(&v).is_empty());
}

#[test]
fn a_million_lines() {
    let d = dir("million");
    let (allow, deny) = (d.0.join("allow"), d.0.join("deny"));
    let mut s = String::with_capacity(24 << 20);
    for i in 0..1_000_000u32 {
        s.push_str(&format!(
            "sshd: 10.{}.{}.{}\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    std::fs::write(&deny, s).unwrap();
    std::fs::write(&allow, "").unwrap();
    let c = Checker::new(b(&allow), b(&deny));
    assert!(!decide(&c, "sshd", "10.15.66.63").granted());
    assert!(decide(&c, "sshd", "192.0.2.1").granted());
    let t = std::time::Instant::now();
    for _ in 0..1000 {
        assert!(decide(&c, "sshd", "192.0.2.1").granted());
    }
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "warm checks took {:?}",
        t.elapsed()
    );
}

#[test]
fn concurrent_checks_while_tables_change() {
    let d = dir("threads");
    let (allow, deny) = (d.0.join("allow"), d.0.join("deny"));
    std::fs::write(&allow, "sshd: 10.0.0.1\n").unwrap();
    std::fs::write(&deny, "ALL: ALL\n").unwrap();
    let c = Arc::new(Checker::new(b(&allow), b(&deny)));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (allow, stop) = (allow.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let tmp = allow.with_extension(format!("tmp{}", i % 2));
                std::fs::write(&tmp, format!("sshd: 10.0.0.1\nsshd: 10.1.0.{}\n", i % 250))
                    .unwrap();
                std::fs::rename(&tmp, &allow).unwrap();
                i += 1;
            }
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    assert!(decide(&c, "sshd", "10.0.0.1").granted());
                    assert!(!decide(&c, "ftpd", "10.0.0.1").granted());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn deny_table_is_not_read_when_allow_decides() {
    let d = dir("lazydeny");
    let (allow, deny) = (d.0.join("allow"), d.0.join("deny"));
    std::fs::write(&allow, "sshd: 10.0.0.1\n").unwrap();
    std::os::unix::fs::symlink(&deny, &deny).unwrap();
    let c = Checker::new(b(&allow), b(&deny));
    let v = decide(&c, "sshd", "10.0.0.1");
    assert!(v.granted() && texts(&v).is_empty(), "{:?}", texts(&v));
    let v = decide(&c, "ftpd", "10.0.0.1");
    assert!(!v.granted());
    assert_eq!(
        texts(&v),
        [format!(
            "warning: cannot open {}: Too many levels of symbolic links",
            deny.display()
        )]
    );
}

/// A blocklist that a tool appends to (fail2ban, DenyHosts) is compiled
/// again only from where it changed; the result is always that of a full
/// compile of the file, also when the old table is still held elsewhere or
/// the file was rewritten.
#[test]
fn appended_and_touched_files() {
    use std::io::Write;
    let d = dir("append");
    let (a, n) = (d.0.join("allow"), d.0.join("deny"));
    std::fs::write(&a, "").unwrap();
    let mut text = String::new();
    for i in 0..2000u32 {
        text.push_str(&format!("sshd: 10.{}.{}.{}\n", i % 7, i % 251, i % 13));
    }
    std::fs::write(&n, &text).unwrap();
    let c = Checker::new(b(&a), b(&n));
    let full = |text: &str| tcpwrap::Table::compile_owned(b(&n), text.as_bytes().to_vec());
    let deny_table = |c: &Checker| match c.tables().1 {
        Loaded::Table(t) => t,
        other => panic!("{other:?}"),
    };
    assert!(decide(&c, "sshd", "192.0.2.77").granted());

    // Appended, in two writes: the first leaves a line without newline.
    let mut f = std::fs::OpenOptions::new().append(true).open(&n).unwrap();
    f.write_all(b"sshd: 192.0.").unwrap();
    text.push_str("sshd: 192.0.");
    let v = decide(&c, "sshd", "192.0.2.77");
    assert!(!v.granted());
    assert_eq!(v.rule.map(|r| r.line), Some(2000));
    assert_eq!(*deny_table(&c), full(&text));
    f.write_all(b"2.77\n").unwrap();
    text.push_str("2.77\n");
    let v = decide(&c, "sshd", "192.0.2.77");
    assert_eq!(v.rule.map(|r| r.line), Some(2001));
    assert_eq!(*deny_table(&c), full(&text));

    // Touched only.
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    f.set_modified(t).unwrap();
    assert_eq!(
        decide(&c, "sshd", "192.0.2.77").rule.map(|r| r.line),
        Some(2001)
    );
    assert_eq!(*deny_table(&c), full(&text));

    // Appended while the old table is still held: compiled in full.
    let held = deny_table(&c);
    f.write_all(b"sshd: 192.0.2.78\n").unwrap();
    text.push_str("sshd: 192.0.2.78\n");
    assert_eq!(
        decide(&c, "sshd", "192.0.2.78").rule.map(|r| r.line),
        Some(2002)
    );
    assert_eq!(*deny_table(&c), full(&text));
    assert_eq!(held.entries.len(), 2001);
    drop(held);

    // Rewritten with an earlier line changed.
    let changed = text.replacen("sshd: 10.0.0.0\n", "sshd: 10.0.0.9\n", 1);
    std::fs::write(&n, &changed).unwrap();
    assert!(decide(&c, "sshd", "10.0.0.0").granted());
    assert_eq!(decide(&c, "sshd", "10.0.0.9").rule.map(|r| r.line), Some(1));
    assert_eq!(*deny_table(&c), full(&changed));
}
