//! The outside world of an evaluation, chosen by the fuzz input: the
//! answers of DNS and of the client's ident server (both controlled by a
//! remote attacker in real life), netgroups, `/file` pattern lists and
//! accounts; the request itself; and an executor that records what the
//! engine asks for instead of doing it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tcpwrap_core::{
    Accounts, Action, Ctx, Env, Executor, Family, FileContent, Forward, Ident, Netgroups, Outcome,
    PatternFiles, Request, Resolver, Settings,
};

use crate::case::{Case, parse_sin};

/// Services answering from the input. Every answer is a pure function of
/// the question, so that two evaluations of the same request see the same
/// world.
#[derive(Debug, Default)]
pub struct World {
    /// `rev=NAME`: the reverse look-up answer for every address.
    pub rev: Option<Vec<u8>>,
    /// `canon=NAME`: the canonical name of forward look-ups (default: the
    /// name asked).
    pub canon: Option<Vec<u8>>,
    /// `fwd=IP,IP,...`: the addresses of every forward look-up. Without
    /// `fwd=` and `canon=`, forward look-ups fail.
    pub fwd: Vec<(IpAddr, u32)>,
    pub fwd_given: bool,
    /// `ident=LINE`: the ident server's reply line, parsed as the client
    /// parses it (`ident::parse_reply` with the connection's ports).
    pub ident: Option<Vec<u8>>,
    /// `ng=GROUP`: netgroups every host is a member of.
    pub groups: Vec<Vec<u8>>,
    /// `pfile=CONTENT`: the content of every `/file` pattern list whose
    /// path holds none of "missing", "dir" and "err".
    pub pfile: Arc<[u8]>,
    /// `acct=NAME`: known user and group names.
    pub accounts: Vec<Vec<u8>>,
}

impl World {
    pub fn from_case(c: &Case) -> World {
        let mut fwd = Vec::new();
        let mut fwd_given = false;
        for v in c.all("fwd") {
            fwd_given = true;
            for a in v.split(|&b| b == b',') {
                let s = std::str::from_utf8(a).unwrap_or("");
                let (ip, scope) = match s.split_once('%') {
                    Some((ip, sc)) => (ip, sc.parse().unwrap_or(0)),
                    None => (s, 0),
                };
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    fwd.push((ip, scope));
                }
            }
        }
        World {
            rev: c.get("rev").map(<[u8]>::to_vec),
            canon: c.get("canon").map(<[u8]>::to_vec),
            fwd,
            fwd_given,
            ident: c.get("ident").map(<[u8]>::to_vec),
            groups: c.all("ng").map(<[u8]>::to_vec).collect(),
            pfile: c.get("pfile").unwrap_or(b"").into(),
            accounts: c.all("acct").map(<[u8]>::to_vec).collect(),
        }
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            resolver: self,
            ident: self,
            netgroups: self,
            files: self,
            accounts: self,
        }
    }
}

impl Resolver for World {
    fn reverse(&self, _: IpAddr, _: u32) -> Option<Vec<u8>> {
        // getnameinfo() gives a C string.
        self.rev
            .as_ref()
            .map(|n| n[..memchr::memchr(0, n).unwrap_or(n.len())].to_vec())
    }
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward> {
        if !self.fwd_given && self.canon.is_none() {
            return None;
        }
        let addrs: Vec<_> = self
            .fwd
            .iter()
            .copied()
            .filter(|(a, _)| Family::of(a) == family)
            .collect();
        if addrs.is_empty() {
            return None;
        }
        Some(Forward {
            canonical: Some(self.canon.clone().unwrap_or_else(|| name.to_vec())),
            addrs,
        })
    }
}

impl Ident for World {
    fn query(&self, client: SocketAddr, server: SocketAddr, _: u32) -> Option<Vec<u8>> {
        let line = self.ident.as_deref()?;
        let user = tcpwrap_core::ident::parse_reply(line, client.port(), server.port())?;
        // What the RFC 1413 client promises its callers.
        assert!(!user.is_empty() && user.len() <= 255, "ident user {user:?}");
        assert!(
            !user
                .iter()
                .any(|&b| b == 0 || b == b'\r' || tcpwrap_core::text::is_c_space(b)),
            "ident user {user:?}"
        );
        Some(user)
    }
}

impl Netgroups for World {
    fn innetgr(&self, group: &[u8], _: &[u8]) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

impl PatternFiles for World {
    fn read(&self, path: &[u8]) -> FileContent {
        let has = |s: &[u8]| memchr::memmem::find(path, s).is_some();
        if has(b"missing") {
            FileContent::Missing
        } else if has(b"dir") {
            FileContent::Directory
        } else if has(b"err") {
            FileContent::Error("Permission denied".into())
        } else {
            FileContent::Data(self.pfile.clone())
        }
    }
}

impl Accounts for World {
    fn user(&self, name: &[u8]) -> Option<(u32, u32)> {
        self.accounts
            .iter()
            .position(|a| a == name)
            .map(|i| (1000 + i as u32, 1000 + i as u32))
    }
    fn group(&self, name: &[u8]) -> Option<u32> {
        self.accounts
            .iter()
            .position(|a| a == name)
            .map(|i| 2000 + i as u32)
    }
}

/// The request of a case: `mode=ctl` (the default) builds it as
/// `hosts_ctl()` does; `mode=req` as `request_init()` and `request_set()`
/// with the keys present, plus socket addresses (`csin=`, `ssin=`), socket
/// methods (`methods=1`) and `datagram=1`.
pub fn request(c: &Case) -> Request {
    let f = |k: &str| c.get(k).unwrap_or(b"");
    if c.get("mode") != Some(b"req") {
        return Request::from_ctl(f("daemon"), f("cname"), f("caddr"), f("user"));
    }
    let mut r = Request::new();
    if let Some(v) = c.get("daemon") {
        r.set_daemon(v);
    }
    if let Some(v) = c.get("cname") {
        r.set_client_name(v);
    }
    if let Some(v) = c.get("caddr") {
        r.set_client_addr(v);
    }
    if let Some(v) = c.get("user") {
        r.set_user(v);
    }
    if let Some(v) = c.get("sname") {
        r.set_server_name(v);
    }
    if let Some(v) = c.get("saddr") {
        r.set_server_addr(v);
    }
    if let Some(v) = c.get("pid") {
        r.set_pid(v);
    }
    r.client.sin = c.get("csin").and_then(parse_sin);
    r.server.sin = c.get("ssin").and_then(parse_sin);
    r.sock_methods = c.flag("methods");
    r.datagram = c.flag("datagram");
    r
}

/// The settings of a case: `dry=1`, `verbose=N`, `resident=1`,
/// `rfc931=N`.
pub fn settings(c: &Case) -> Settings {
    Settings {
        dry_run: c.flag("dry"),
        verbose: c.num("verbose", 0).min(3) as u8,
        resident: c.flag("resident"),
        rfc931_timeout: c.num("rfc931", 10).clamp(1, 3600) as u32,
        ..Settings::default()
    }
}

/// One action the engine asked for, as owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Did {
    Spawn(Vec<u8>),
    Twist(Vec<u8>),
    Aclexec(Vec<u8>),
    Keepalive,
    Linger(i32),
    Nice(i32),
    Umask(u32),
    Setenv(Vec<u8>, Vec<u8>),
    Banners(Vec<u8>),
    User(Vec<u8>, u32, u32, Option<(Vec<u8>, u32)>),
    Group(Vec<u8>, u32),
    /// An `alert` (E9): its name and output.
    Alert(Vec<u8>, Option<Vec<u8>>),
}

impl Did {
    /// Actions a dry run (tcpdmatch, tcpdchk) must never ask for: they run
    /// commands, change the process, touch the connection or send alerts.
    pub fn forbidden_in_dry_run(&self) -> bool {
        !matches!(self, Did::Umask(_) | Did::Setenv(..) | Did::Banners(_))
    }
}

/// Records actions; the outcome of each follows a fixed rule, so that two
/// evaluations of the same input get the same outcomes: an `aclexec`
/// command containing "fail" fails, one containing "err" is an error, a
/// `twist` ends the process (as a real one does when it cannot exec).
#[derive(Debug, Default)]
pub struct Recorder {
    pub did: Vec<Did>,
}

impl Executor for Recorder {
    fn execute(&mut self, a: &Action<'_>, _: &mut Request, _: &mut Ctx<'_>) -> Outcome {
        let has = |c: &[u8], s: &[u8]| memchr::memmem::find(c, s).is_some();
        let (did, out) = match *a {
            Action::Spawn { command } => (Did::Spawn(command.to_vec()), Outcome::Done),
            Action::Twist { command } => (Did::Twist(command.to_vec()), Outcome::Exit),
            Action::Aclexec { command } => (
                Did::Aclexec(command.to_vec()),
                if has(command, b"fail") {
                    Outcome::AclexecFailed
                } else if has(command, b"err") {
                    Outcome::Error(b"aclexec: simulated error".to_vec())
                } else {
                    Outcome::Done
                },
            ),
            Action::Keepalive => (Did::Keepalive, Outcome::Done),
            Action::Linger(n) => (Did::Linger(n), Outcome::Done),
            Action::Nice(n) => (Did::Nice(n), Outcome::Done),
            Action::Umask(m) => (Did::Umask(m), Outcome::Done),
            Action::Setenv { name, value } => {
                (Did::Setenv(name.to_vec(), value.to_vec()), Outcome::Done)
            }
            Action::Banners { dir } => (Did::Banners(dir.to_vec()), Outcome::Done),
            Action::User {
                user,
                uid,
                gid,
                group,
            } => (
                Did::User(
                    user.to_vec(),
                    uid,
                    gid,
                    group.map(|(g, id)| (g.to_vec(), id)),
                ),
                Outcome::Done,
            ),
            Action::Group { group, gid } => (Did::Group(group.to_vec(), gid), Outcome::Done),
            Action::Alert { name, output } => (
                Did::Alert(name.to_vec(), output.map(<[u8]>::to_vec)),
                Outcome::Done,
            ),
        };
        self.did.push(did);
        out
    }
}
