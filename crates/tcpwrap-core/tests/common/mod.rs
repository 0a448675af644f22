//! Test services shared by the integration tests: a resolver built from an
//! /etc/hosts-style text, pattern files from the real file system, a small
//! account database, and an executor that runs aclexec commands for real.

#![allow(dead_code)]

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tcpwrap_core::{
    Accounts, Action, Ctx, Env, Executor, Family, FileContent, Forward, Ident, Netgroups, Outcome,
    PatternFiles, Request, Resolver,
};

pub struct HostsResolver {
    entries: Vec<(IpAddr, Vec<String>)>,
    pub reverse_calls: AtomicUsize,
    pub forward_calls: AtomicUsize,
}

impl HostsResolver {
    pub fn new(text: &str) -> Self {
        let entries = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let ip: IpAddr = w.next()?.parse().ok()?;
                Some((ip, w.map(str::to_string).collect()))
            })
            .collect();
        HostsResolver {
            entries,
            reverse_calls: AtomicUsize::new(0),
            forward_calls: AtomicUsize::new(0),
        }
    }
    pub fn reference() -> Self {
        Self::new(
            "127.0.0.1 localhost\n10.1.1.1 good.example.com\n10.1.1.4 short\n\
             10.1.1.41 real.example.com bad.example.com\n10.1.1.40 bad.example.com\n",
        )
    }
}

impl Resolver for HostsResolver {
    fn reverse(&self, ip: IpAddr, _: u32) -> Option<Vec<u8>> {
        self.reverse_calls.fetch_add(1, Ordering::Relaxed);
        self.entries
            .iter()
            .find(|(a, _)| *a == ip)
            .map(|(_, n)| n[0].clone().into_bytes())
    }
    fn forward(&self, name: &[u8], family: Family) -> Option<Forward> {
        self.forward_calls.fetch_add(1, Ordering::Relaxed);
        let name = std::str::from_utf8(name).ok()?;
        let mut f = Forward::default();
        for (a, names) in &self.entries {
            if Family::of(a) != family || !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            if f.canonical.is_none() {
                f.canonical = Some(names[0].clone().into_bytes());
            }
            f.addrs.push((*a, 0));
        }
        if f.addrs.is_empty() { None } else { Some(f) }
    }
}

/// Ident answering a fixed user, counting queries.
pub struct FixedIdent(pub Option<&'static str>, pub AtomicUsize);
impl Ident for FixedIdent {
    fn query(&self, _: SocketAddr, _: SocketAddr, _: u32) -> Option<Vec<u8>> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.map(|s| s.as_bytes().to_vec())
    }
}

pub struct NoNetgroups;
impl Netgroups for NoNetgroups {
    fn innetgr(&self, group: &[u8], host: &[u8]) -> bool {
        group == b"trusted" && host.eq_ignore_ascii_case(b"good.example.com")
    }
}

pub struct FsFiles;
impl PatternFiles for FsFiles {
    fn read(&self, path: &[u8]) -> FileContent {
        use std::os::unix::ffi::OsStrExt;
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
        match std::fs::read(p) {
            Ok(d) => FileContent::Data(Arc::from(d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileContent::Missing,
            Err(e) if e.raw_os_error() == Some(21) => FileContent::Directory,
            Err(e) => {
                let s = e.to_string();
                FileContent::Error(s.split(" (os error").next().unwrap_or(&s).to_string())
            }
        }
    }
}

pub struct TestAccounts;
impl Accounts for TestAccounts {
    fn user(&self, name: &[u8]) -> Option<(u32, u32)> {
        match name {
            b"root" => Some((0, 0)),
            b"nobody" => Some((65534, 65534)),
            _ => None,
        }
    }
    fn group(&self, name: &[u8]) -> Option<u32> {
        match name {
            b"root" => Some(0),
            b"nogroup" => Some(65534),
            _ => None,
        }
    }
}

/// Runs aclexec and spawn commands with /bin/sh; socket options on fd −1
/// fail like the real calls.
#[derive(Default)]
pub struct ShellExec {
    pub spawned: Vec<Vec<u8>>,
    pub env: Vec<(Vec<u8>, Vec<u8>)>,
    pub banners: Vec<u8>,
    pub count: Cell<usize>,
}

impl Executor for ShellExec {
    fn execute(&mut self, a: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::process::ExitStatusExt;
        self.count.set(self.count.get() + 1);
        match a {
            Action::Aclexec { command } => {
                let st = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(std::ffi::OsStr::from_bytes(command))
                    .status()
                    .expect("sh");
                if let Some(sig) = st.signal() {
                    ctx.warn(format!("process {} exited with signal {sig}", 0).into_bytes());
                    return Outcome::AclexecFailed;
                }
                if st.code() == Some(0) {
                    Outcome::Done
                } else {
                    Outcome::AclexecFailed
                }
            }
            Action::Spawn { command } => {
                self.spawned.push(command.to_vec());
                Outcome::Done
            }
            Action::Keepalive if req.fd < 0 => {
                ctx.warn(b"setsockopt SO_KEEPALIVE: Bad file descriptor".to_vec());
                Outcome::Done
            }
            Action::Linger(n) if req.fd < 0 => {
                ctx.warn(format!("setsockopt SO_LINGER {n}: Bad file descriptor").into_bytes());
                Outcome::Done
            }
            Action::Setenv { name, value } => {
                self.env.push((name.to_vec(), value.to_vec()));
                Outcome::Done
            }
            Action::Banners { dir } => {
                let mut p = dir.to_vec();
                p.push(b'/');
                p.extend_from_slice(req.daemon());
                if let Ok(d) = std::fs::read(std::path::Path::new(std::ffi::OsStr::from_bytes(&p)))
                {
                    match tcpwrap_core::banner::render(&d, req, ctx) {
                        Ok(b) => self.banners.extend_from_slice(&b),
                        Err(_) => return Outcome::Exit,
                    }
                }
                Outcome::Done
            }
            _ => Outcome::Done,
        }
    }
}

pub struct Services {
    pub resolver: HostsResolver,
    pub ident: FixedIdent,
}

impl Services {
    pub fn new(user: Option<&'static str>) -> Self {
        Services {
            resolver: HostsResolver::reference(),
            ident: FixedIdent(user, AtomicUsize::new(0)),
        }
    }
    pub fn env(&self) -> Env<'_> {
        Env {
            resolver: &self.resolver,
            ident: &self.ident,
            netgroups: &NoNetgroups,
            files: &FsFiles,
            accounts: &TestAccounts,
        }
    }
}
