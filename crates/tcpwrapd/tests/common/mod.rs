//! Running the real tcpwrapd binary on loopback with temporary
//! configurations, tables and a log file (never the machine's /dev/log).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

pub const BIN: &str = env!("CARGO_BIN_EXE_tcpwrapd");

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A private directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tcpwrapd-test-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, data: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
    /// An executable script.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, body);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The next port to try: below Linux's ephemeral range (32768-60999), so
/// that client sockets never take it, starting at a place that depends on
/// the process so that concurrent test runs rarely meet.
static NEXT_PORT: AtomicU32 = AtomicU32::new(0);

/// A port free on every loopback address we use (TCP and UDP), never the
/// same one twice in a test process.
pub fn free_port() -> u16 {
    let _ = NEXT_PORT.compare_exchange(
        0,
        20_000 + (std::process::id() % 1000) * 12,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    loop {
        let p = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        assert!(p < 32_768, "no free port left");
        let p = p as u16;
        let ok = ["127.0.0.1", "127.0.0.2", "127.0.0.3"].iter().all(|h| {
            std::net::TcpListener::bind((*h, p)).is_ok()
                && std::net::UdpSocket::bind((*h, p)).is_ok()
        });
        if ok {
            return p;
        }
    }
}

/// A running tcpwrapd, killed (by pid) on drop.
pub struct Server {
    pub child: Child,
    pub dir: TempDir,
    pub log: PathBuf,
    pub conf: PathBuf,
}

impl Server {
    /// Start with this inetd.conf and tables (`@DIR@` is replaced by the
    /// private directory) and wait until it listens.
    pub fn start(tag: &str, conf: &str, allow: &str, deny: &str, extra: &[&str]) -> Server {
        let dir = TempDir::new(tag);
        let fill = |s: &str| s.replace("@DIR@", dir.0.to_str().unwrap());
        let conf_path = dir.write("inetd.conf", &fill(conf));
        dir.write("hosts.allow", &fill(allow));
        dir.write("hosts.deny", &fill(deny));
        let log = dir.path("log");
        let mut cmd = Command::new(BIN);
        cmd.arg("--allow")
            .arg(dir.path("hosts.allow"))
            .arg("--deny")
            .arg(dir.path("hosts.deny"))
            .arg("--log-file")
            .arg(&log)
            .args(extra.iter().map(|a| fill(a)))
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap();
        let s = Server {
            child,
            dir,
            log,
            conf: conf_path,
        };
        s.wait_log("started:", Duration::from_secs(20));
        s
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the log holds `needle` `count` times; the log.
    pub fn wait_log_n(&self, needle: &str, count: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.log_text();
            if t.matches(needle).count() >= count {
                return t;
            }
            if Instant::now() > deadline {
                panic!("no {count}× {needle:?} in the log within {timeout:?}:\n{t}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        self.wait_log_n(needle, 1, timeout)
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Open descriptors of the server.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// The server's children: (pid, state letter).
    pub fn children(&self) -> Vec<(i32, char)> {
        children_of(self.pid())
    }

    pub fn zombies(&self) -> usize {
        self.children().iter().filter(|(_, s)| *s == 'Z').count()
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Wait for the process to end; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn children_of(ppid: i32) -> Vec<(i32, char)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if rest.len() > 1 && rest[1].parse::<i32>().ok() == Some(ppid) {
            out.push((pid, rest[0].chars().next().unwrap_or('?')));
        }
    }
    out
}

/// Connect from a given loopback source address.
pub fn connect_from(src: &str, dst: SocketAddr) -> std::io::Result<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let from: SocketAddr = format!("{src}:0").parse().unwrap();
    s.bind(&from.into())?;
    s.connect_timeout(&dst.into(), Duration::from_secs(5))?;
    Ok(s.into())
}

pub fn addr(host: &str, port: u16) -> SocketAddr {
    format!("{host}:{port}").parse().unwrap()
}

/// Everything the server sends until it closes (or `timeout` without
/// data), at most 1 MiB (a test must not eat memory if it reaches an
/// endless service by mistake).
pub fn read_all(s: &mut TcpStream, timeout: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(timeout)).unwrap();
    let mut out = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut out);
    out
}

/// An echo round trip from `src`; the answer.
pub fn echo_from(src: &str, dst: SocketAddr, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = connect_from(src, dst)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(msg)?;
    let mut buf = vec![0u8; msg.len()];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// Whether the server closes the connection at once (a refusal): EOF or
/// reset within `within`, with no data.
pub fn closed_at_once(src: &str, dst: SocketAddr, within: Duration) -> bool {
    let Ok(mut s) = connect_from(src, dst) else {
        return true;
    };
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 16];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// The inode of the socket listening on a local TCP port (/proc/net/tcp).
pub fn listen_inode(port: u16) -> Option<u64> {
    let t = std::fs::read_to_string("/proc/net/tcp").ok()?;
    for l in t.lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let p = f[1]
            .rsplit(':')
            .next()
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        if p == Some(port) && f[3] == "0A" {
            return f[9].parse().ok();
        }
    }
    None
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
