//! Change notification for cached tables: warm checks make no `stat()`, and
//! every kind of change an administrator or a blocking tool makes is seen by
//! the very next check.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tcpwrap::{Checker, NoExec, Request, Revalidate, Settings};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("tcpwrap-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}
fn b(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}
fn granted(c: &Checker, addr: &str) -> bool {
    let mut r = Request::from_ctl(b"sshd", b"", addr.as_bytes(), b"");
    c.check(&mut r, Settings::default(), &mut NoExec).granted()
}
/// stat() calls and reads of the table cache so far.
fn work(c: &Checker) -> (u64, u64) {
    let t = c.cache_counters().0;
    (t.stats, t.reads)
}

/// A pair of tables: `sshd: ADDR` in allow, `ALL: ALL` in deny.
fn tables(d: &Dir) -> (PathBuf, PathBuf) {
    let (a, n) = (d.0.join("hosts.allow"), d.0.join("hosts.deny"));
    std::fs::write(&a, "sshd: 10.0.0.1\n").unwrap();
    std::fs::write(&n, "ALL: ALL\n").unwrap();
    (a, n)
}

#[test]
fn warm_checks_make_no_stat_calls() {
    let d = dir("warm");
    let (a, n) = tables(&d);
    let c = Checker::new(b(&a), b(&n));
    assert!(!granted(&c, "10.9.9.9"));
    let before = work(&c);
    for _ in 0..100 {
        assert!(granted(&c, "10.0.0.1"));
        assert!(!granted(&c, "10.9.9.9"));
    }
    assert_eq!(
        work(&c),
        before,
        "no stat() and no read while nothing changes"
    );

    // The stat() mode confirms every table on every use, by its identity
    // once it was read at least tcpwrap::cache::RACY after its last change
    // (before that, a change within the same clock tick would keep the
    // identity: such a table is read again).
    std::thread::sleep(tcpwrap::cache::RACY + std::time::Duration::from_millis(100));
    let s = Checker::new(b(&a), b(&n)).revalidate(Revalidate::Stat);
    assert!(!granted(&s, "10.9.9.9"));
    let (stats, reads) = work(&s);
    for _ in 0..10 {
        assert!(!granted(&s, "10.9.9.9"));
    }
    assert_eq!(work(&s), (stats + 20, reads));
    std::fs::write(&n, "ALL: 10.9.9.9\n").unwrap();
    let (_, reads) = work(&s);
    for _ in 0..10 {
        assert!(!granted(&s, "10.9.9.9"));
    }
    assert_eq!(
        work(&s).1,
        reads + 10,
        "a table changed just now is read on every use"
    );
}

#[test]
fn every_kind_of_change_is_seen_by_the_next_check() {
    let d = dir("changes");
    let (a, n) = tables(&d);
    let c = Checker::new(b(&a), b(&n));
    assert!(granted(&c, "10.0.0.1") && !granted(&c, "10.0.0.2"));

    // Rewritten in place, same size.
    std::fs::write(&a, "sshd: 10.0.0.2\n").unwrap();
    assert!(granted(&c, "10.0.0.2") && !granted(&c, "10.0.0.1"));

    // Appended to (fail2ban, DenyHosts).
    let mut f = std::fs::OpenOptions::new().append(true).open(&a).unwrap();
    f.write_all(b"sshd: 10.0.0.3\n").unwrap();
    drop(f);
    assert!(granted(&c, "10.0.0.3"));

    // Replaced by rename (editors, configuration management).
    let tmp = d.0.join("hosts.allow.tmp");
    std::fs::write(&tmp, "sshd: 10.0.0.4\n").unwrap();
    std::fs::rename(&tmp, &a).unwrap();
    assert!(granted(&c, "10.0.0.4") && !granted(&c, "10.0.0.3"));

    // Written through a hard link elsewhere in the directory tree: only
    // the watch on the file itself sees this.
    let other = dir("changes-link");
    let link = other.0.join("allow-link");
    std::fs::hard_link(&a, &link).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&link)
        .unwrap();
    f.write_all(b"sshd: 10.0.0.5\n").unwrap();
    drop(f);
    assert!(granted(&c, "10.0.0.5"));

    // Truncated through a descriptor opened earlier.
    let f = std::fs::OpenOptions::new().write(true).open(&a).unwrap();
    f.set_len(0).unwrap();
    drop(f);
    assert!(!granted(&c, "10.0.0.4"));

    // Removed, then created again.
    std::fs::remove_file(&a).unwrap();
    assert!(!granted(&c, "10.0.0.4"));
    std::fs::write(&a, "sshd: 10.0.0.6\n").unwrap();
    assert!(granted(&c, "10.0.0.6"));

    // A change of permissions makes the cache look again (a stat(), no
    // read: the identity's ctime changed, so the table is read anew).
    let (_, reads) = work(&c);
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(granted(&c, "10.0.0.6"));
    assert_eq!(work(&c).1, reads + 1);

    // The deny table too.
    std::fs::write(&n, "ALL: 10.0.0.8\n").unwrap();
    assert!(granted(&c, "10.0.0.7") && !granted(&c, "10.0.0.8"));
}

#[test]
fn symbolic_links_and_relative_paths_are_confirmed_by_stat() {
    let d = dir("links");
    let (real1, real2) = (d.0.join("one"), d.0.join("two"));
    std::fs::write(&real1, "sshd: 10.0.0.1\n").unwrap();
    std::fs::write(&real2, "sshd: 10.0.0.2\n").unwrap();
    let link = d.0.join("hosts.allow");
    std::os::unix::fs::symlink(&real1, &link).unwrap();
    let n = d.0.join("hosts.deny");
    std::fs::write(&n, "ALL: ALL\n").unwrap();
    let c = Checker::new(b(&link), b(&n));
    assert!(granted(&c, "10.0.0.1"));
    let (stats, _) = work(&c);
    assert!(granted(&c, "10.0.0.1"));
    assert_eq!(work(&c).0, stats + 1, "the symbolic link is stat()ed");

    // The target changes without any event in the link's directory.
    let sub = dir("links-target");
    let target = sub.0.join("target");
    std::fs::write(&target, "sshd: 10.0.0.3\n").unwrap();
    let inner = d.0.join("inner");
    std::os::unix::fs::symlink(&target, &inner).unwrap();
    let tmp = d.0.join("link.tmp");
    std::os::unix::fs::symlink(&inner, &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    assert!(granted(&c, "10.0.0.3"));
    std::fs::write(&target, "sshd: 10.0.0.4\n").unwrap();
    assert!(granted(&c, "10.0.0.4"), "a change behind two links is seen");

    // A relative path depends on the working directory: always stat()ed.
    let r = Checker::new("tcpwrap-no-such-relative-table", b(&n));
    assert!(!granted(&r, "10.0.0.1"));
    let (stats, _) = work(&r);
    assert!(!granted(&r, "10.0.0.1"));
    assert!(work(&r).0 > stats);
}

#[test]
fn a_lost_notification_queue_invalidates_everything() {
    let d = dir("overflow");
    let (a, n) = tables(&d);
    let c = Checker::new(b(&a), b(&n));
    assert!(granted(&c, "10.0.0.1"));
    // More events than the kernel queues (fs.inotify.max_queued_events,
    // 16384 by default) overflow the queue.
    let max: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(16384);
    // Distinct names: the kernel merges repeats of the same event.
    for i in 0..max + 100 {
        std::fs::File::create(d.0.join(format!("n{i}"))).unwrap();
    }
    std::fs::write(&a, "sshd: 10.0.0.2\n").unwrap();
    assert!(granted(&c, "10.0.0.2") && !granted(&c, "10.0.0.1"));
}
