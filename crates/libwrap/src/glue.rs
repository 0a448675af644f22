//! A caller's `struct request_info` inside the engine: conversion both
//! ways, the request's methods as engine hooks, ident through `rfc931`,
//! the option executor, and the settings read from and written back to the
//! exported variables.

use std::ffi::{CString, c_char};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tcpwrap::cache::{CachedFiles, Loaded, TableCache};
use tcpwrap::exec::SystemExecutor;
use tcpwrap::ident::IdentClient;
use tcpwrap::resolver::{SystemAccounts, SystemNetgroups, SystemResolver};
use tcpwrap::sys::strerror;
use tcpwrap::{Revalidate, Settings};
use tcpwrap_core::{
    Action, Ctx, EndpointHooks, Env, Executor, Hooks, Ident, Netgroups, Outcome, Request, Side,
    TableRef, Verdict,
};

use crate::abi::{self, IntVar, PID_LENGTH, RequestInfo, STRING_LENGTH};
use crate::lock;
use crate::log::{self, Live, Position};
use crate::proc;

/// Compiled tables, confirmed by a `stat()` per check: the library keeps
/// no descriptor of its own open inside the program (daemons close
/// descriptors they do not know about). One cache per process (see
/// [`lock::PerProcess`]).
static TABLES: lock::PerProcess<TableCache> =
    lock::PerProcess::new(|| TableCache::with(Revalidate::Stat));
/// `/file` pattern lists, likewise.
static FILES: lock::PerProcess<CachedFiles> =
    lock::PerProcess::new(|| CachedFiles::with(Revalidate::Stat));

/// The table cache of this process.
pub fn tables() -> &'static TableCache {
    TABLES.get()
}

/// Netgroup look-ups under the library lock (`innetgr` is not thread-safe).
pub struct LockedNetgroups;

impl Netgroups for LockedNetgroups {
    fn innetgr(&self, group: &[u8], host: &[u8]) -> bool {
        let _g = lock::lock();
        SystemNetgroups.innetgr(group, host)
    }
}

/// Ident for requests that are not the caller's (sock_hostname, tests).
static IDENT: IdentClient = IdentClient { port: 113 };

/// The services for look-ups outside a caller's request.
pub fn system_env() -> Env<'static> {
    static RESOLVER: SystemResolver = SystemResolver;
    static NETGROUPS: LockedNetgroups = LockedNetgroups;
    static ACCOUNTS: SystemAccounts = SystemAccounts;
    Env {
        resolver: &RESOLVER,
        ident: &IDENT,
        netgroups: &NETGROUPS,
        files: FILES.get(),
        accounts: &ACCOUNTS,
    }
}

/// Which side a host_info belongs to.
fn is_client(side: Side) -> bool {
    side == Side::Client
}

/// Read the caller's request into an engine request (no hooks yet).
///
/// # Safety
/// `r` points to a valid request whose socket address pointers are NULL
/// or valid.
pub unsafe fn to_request(r: *mut RequestInfo) -> Request {
    let mut q = Request::new();
    // SAFETY: the caller guarantees a valid request; every field read is in
    // bounds of the structure.
    unsafe {
        q.fd = (*r).fd;
        q.set_user(&abi::read_field((*r).user.as_ptr(), STRING_LENGTH));
        q.set_daemon(&abi::read_field((*r).daemon.as_ptr(), STRING_LENGTH));
        q.set_pid(&abi::read_field((*r).pid.as_ptr(), PID_LENGTH));
        for client in [true, false] {
            let h = abi::host(r, client);
            let name = abi::read_field((*h).name.as_ptr(), STRING_LENGTH);
            let addr = abi::read_field((*h).addr.as_ptr(), STRING_LENGTH);
            let sin = tcpwrap::sys::from_sockaddr((*h).sin);
            if client {
                q.set_client_name(&name);
                q.set_client_addr(&addr);
                q.client.sin = sin;
            } else {
                q.set_server_name(&name);
                q.set_server_addr(&addr);
                q.server.sin = sin;
            }
        }
        q.datagram = (*r).sink.is_some();
    }
    q
}

/// Store the engine request's text fields in the caller's request
/// (socket addresses, descriptor and methods are left alone).
///
/// # Safety
/// `r` points to a valid request.
pub unsafe fn write_back(q: &Request, r: *mut RequestInfo) {
    let f = |o: Option<&[u8]>| o.unwrap_or(b"").to_vec();
    // SAFETY: the caller guarantees a valid request; each field is written
    // within its capacity.
    unsafe {
        abi::write_field((*r).user.as_mut_ptr(), STRING_LENGTH, &f(q.cached_user()));
        abi::write_field((*r).daemon.as_mut_ptr(), STRING_LENGTH, q.daemon());
        abi::write_field((*r).pid.as_mut_ptr(), PID_LENGTH, q.pid());
        for (client, ep) in [(true, &q.client), (false, &q.server)] {
            let h = abi::host(r, client);
            abi::write_field((*h).name.as_mut_ptr(), STRING_LENGTH, &f(ep.cached_name()));
            abi::write_field((*h).addr.as_mut_ptr(), STRING_LENGTH, &f(ep.cached_addr()));
        }
    }
}

/// What one call into the engine shares between its hooks, its ident
/// client and its executor.
pub struct Shared {
    /// The caller's request.
    pub r: *mut RequestInfo,
    pub live: Live,
    /// A function of the program called tcpd_jump(): Debian's library
    /// would have denied at once; the call then denies.
    pub jumped: AtomicBool,
}

// SAFETY: `r` is only dereferenced by the thread that made the call into
// the library, while that call runs (the engine does not move hooks to
// other threads); the other fields are thread-safe.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    pub fn new(r: *mut RequestInfo, outside: Position) -> Arc<Shared> {
        Arc::new(Shared {
            r,
            live: Live::new(outside),
            jumped: AtomicBool::new(false),
        })
    }

    /// An engine request for the caller's request, with its methods.
    ///
    /// # Safety
    /// As [`to_request`].
    pub unsafe fn request(self: &Arc<Self>) -> Request {
        // SAFETY: forwarded.
        let mut q = unsafe { to_request(self.r) };
        q.hooks = Some(Hooks(Arc::new(MethodHooks(self.clone()))));
        q
    }

    /// Run `call` (a guarded call into the program) with the library lock
    /// held and `tcpd_context` showing the engine's position, as during
    /// Debian's table scan; everything logged so far is sent first.
    pub fn foreign(&self, ctx: &Ctx<'_>, call: impl FnOnce() -> i32) {
        self.live.flush(ctx);
        let _g = lock::lock();
        let saved = abi::context();
        abi::set_context(log::to_c(
            ctx.position.as_ref().map(|(f, l)| (f.as_ref(), *l)),
        ));
        let jumped = call();
        abi::set_context(saved);
        if jumped != 0 {
            self.jumped.store(true, Ordering::Relaxed);
        }
    }
}

/// The request's `hostname`/`hostaddr` methods, called through the
/// caller's structure as Debian's `eval_hostname`/`eval_hostaddr` do.
struct MethodHooks(Arc<Shared>);

impl MethodHooks {
    fn method(&self, side: Side, req: &Request, ctx: &mut Ctx<'_>, name: bool) -> Vec<u8> {
        let s = &self.0;
        // SAFETY: `s.r` is the caller's valid request (see Shared).
        unsafe {
            // The method sees the request as it is now, and "unknown" in
            // the field it is asked to fill.
            write_back(req, s.r);
            let h = abi::host(s.r, is_client(side));
            let field = if name {
                (*h).name.as_mut_ptr()
            } else {
                (*h).addr.as_mut_ptr()
            };
            abi::write_field(field, STRING_LENGTH, b"unknown");
            let m = if name {
                (*s.r).hostname
            } else {
                (*s.r).hostaddr
            };
            if let Some(m) = m {
                if crate::sock::is_sock_hostname(m) {
                    crate::sock::hostname_into(h, ctx);
                } else if crate::sock::is_sock_hostaddr(m) {
                    crate::sock::hostaddr_into(h);
                } else {
                    s.foreign(ctx, || abi::tcpwrap_call_method(m, h));
                }
            }
            abi::read_field(field, STRING_LENGTH)
        }
    }
}

impl EndpointHooks for MethodHooks {
    fn addr(&self, side: Side, req: &Request, ctx: &mut Ctx<'_>) -> Vec<u8> {
        self.method(side, req, ctx, false)
    }
    fn name(&self, side: Side, req: &Request, ctx: &mut Ctx<'_>) -> Vec<u8> {
        self.method(side, req, ctx, true)
    }
}

/// Whether the dynamic symbol `rfc931` is this library's own.
pub fn rfc931_is_ours() -> bool {
    // SAFETY: returns an address, no preconditions.
    let bound = unsafe { abi::tcpwrap_bound_rfc931() } as usize;
    bound == abi::own().rfc931
}

/// Whether the dynamic symbol `shell_cmd` is this library's own.
pub fn shell_cmd_is_ours() -> bool {
    // SAFETY: returns an address, no preconditions.
    let bound = unsafe { abi::tcpwrap_bound_shell_cmd() } as usize;
    bound == abi::own().shell_cmd
}

/// The ident look-up of our `rfc931`: the user, or `None` for unknown.
pub fn ident(client: SocketAddr, server: SocketAddr, timeout: u32) -> Option<Vec<u8>> {
    if client.is_ipv4() != server.is_ipv4() {
        return None;
    }
    IDENT.query(client, server, timeout)
}

/// Ident for the caller's request, through the `rfc931` symbol.
struct RequestIdent(Arc<Shared>);

impl Ident for RequestIdent {
    fn query(&self, client: SocketAddr, server: SocketAddr, timeout: u32) -> Option<Vec<u8>> {
        if abi::get(IntVar::Rfc931Timeout) != timeout as i32 {
            // The rfc931 option changed the time-out: it is process-wide.
            let _g = lock::lock();
            abi::set(IntVar::Rfc931Timeout, timeout as i32);
        }
        if rfc931_is_ours() {
            return ident(client, server, timeout);
        }
        let s = &self.0;
        let mut dest = [0 as c_char; STRING_LENGTH];
        // SAFETY: valid buffer of STRING_LENGTH bytes; the request is valid.
        unsafe {
            abi::write_field(dest.as_mut_ptr(), STRING_LENGTH, b"unknown");
            let (c, sv) = ((*s.r).client[0].sin, (*s.r).server[0].sin);
            let _g = lock::lock();
            if abi::tcpwrap_call_rfc931(c, sv, dest.as_mut_ptr()) != 0 {
                s.jumped.store(true, Ordering::Relaxed);
            }
            let v = abi::read_field(dest.as_ptr(), STRING_LENGTH);
            (!v.is_empty()).then_some(v)
        }
    }
}

/// The rendered `warning: [FILE, line N: ]` prefix for the engine's
/// current position (for messages logged by forked children).
fn warn_prefix(ctx: &Ctx<'_>) -> Vec<u8> {
    let mut m = b"warning: ".to_vec();
    if let Some((f, l)) = &ctx.position {
        m.extend_from_slice(f);
        m.extend_from_slice(format!(", line {l}: ").as_bytes());
    }
    m
}

/// Carries out options for a library call: commands through `shell_cmd`
/// and `/bin/sh` as Debian's library does, failures through `clean_exit`,
/// everything else with the shared system executor.
pub struct LibExec {
    shared: Arc<Shared>,
    inner: SystemExecutor,
}

impl LibExec {
    pub fn new(shared: Arc<Shared>) -> LibExec {
        LibExec {
            shared,
            inner: SystemExecutor::new(),
        }
    }

    /// `clean_exit(request)` through the symbol. Returns if the program's
    /// own clean_exit returns.
    fn clean_exit(&self, ctx: &mut Ctx<'_>) {
        let r = self.shared.r;
        // SAFETY: valid request.
        self.shared
            .foreign(ctx, || unsafe { abi::tcpwrap_call_clean_exit(r) });
    }
}

impl Executor for LibExec {
    fn execute(&mut self, a: &Action<'_>, req: &mut Request, ctx: &mut Ctx<'_>) -> Outcome {
        match *a {
            Action::Spawn { command } => {
                if shell_cmd_is_ours() {
                    self.shared.live.flush(ctx);
                    if let Err(e) = proc::shell_cmd(command, &warn_prefix(ctx)) {
                        ctx.warn(format!("cannot fork: {}", strerror(&e)).into_bytes());
                    }
                } else {
                    let c = CString::new(
                        command
                            .iter()
                            .copied()
                            .filter(|&b| b != 0)
                            .collect::<Vec<u8>>(),
                    )
                    .unwrap_or_default();
                    let p = c.into_raw();
                    // SAFETY: p is a valid C string, reclaimed below.
                    self.shared
                        .foreign(ctx, || unsafe { abi::tcpwrap_call_shell_cmd(p) });
                    // SAFETY: p came from CString::into_raw.
                    drop(unsafe { CString::from_raw(p) });
                }
                Outcome::Done
            }
            Action::Aclexec { command } => {
                self.shared.live.flush(ctx);
                match proc::aclexec(command, &warn_prefix(ctx)) {
                    Ok((_, proc::AclexecEnd::Exited(0))) => Outcome::Done,
                    Ok((_, proc::AclexecEnd::Exited(_))) => Outcome::AclexecFailed,
                    Ok((pid, proc::AclexecEnd::Signal(sig))) => {
                        ctx.warn(format!("process {pid} exited with signal {sig}").into_bytes());
                        Outcome::AclexecFailed
                    }
                    Err(e) => {
                        ctx.warn(format!("aclexec_option: /bin/sh: {}", strerror(&e)).into_bytes());
                        self.clean_exit(ctx);
                        Outcome::Done
                    }
                }
            }
            Action::Twist { command } => {
                let client = req.client_info(ctx);
                let mut line = b"twist ".to_vec();
                line.extend_from_slice(&client);
                line.extend_from_slice(b" to ");
                line.extend_from_slice(command);
                ctx.log_priority(ctx.deny_severity, line);
                self.shared.live.flush(ctx);
                // SAFETY: the request is valid (see Shared).
                unsafe { write_back(req, self.shared.r) };
                let (step, e) = proc::twist(req.fd, command);
                ctx.warn(format!("twist_option: {step}: {}", strerror(&e)).into_bytes());
                self.clean_exit(ctx);
                Outcome::Done
            }
            Action::Setenv { .. }
            | Action::Umask(_)
            | Action::Nice(_)
            | Action::User { .. }
            | Action::Group { .. } => {
                // Process-wide effects.
                let _g = lock::lock();
                self.inner.execute(a, req, ctx)
            }
            _ => self.inner.execute(a, req, ctx),
        }
    }
}

/// The exported variables as one check sees them.
pub struct Snapshot {
    pub settings: Settings,
    pub allow: Vec<u8>,
    pub deny: Vec<u8>,
    pub outside: Position,
}

/// Read the settings (for `hosts_access`, counting the call as Debian's
/// library does with `resident`).
pub fn snapshot(count_call: bool) -> Snapshot {
    let _g = lock::lock();
    if count_call {
        let r = abi::get(IntVar::Resident);
        if r <= 0 {
            abi::set(IntVar::Resident, r + 1);
        }
    }
    let verbose = match abi::get(IntVar::Verbose) {
        0 => 0,
        v if v > 1 => 2,
        _ => 1,
    };
    let (allow, deny) = abi::table_paths();
    Snapshot {
        settings: Settings {
            allow_severity: abi::get(IntVar::AllowSeverity),
            deny_severity: abi::get(IntVar::DenySeverity),
            rfc931_timeout: abi::get(IntVar::Rfc931Timeout).max(0) as u32,
            dry_run: abi::get(IntVar::DryRun) != 0,
            resident: abi::get(IntVar::Resident) > 0,
            verbose,
        },
        allow,
        deny,
        outside: log::from_c(abi::context()),
    }
}

/// Store what the options changed in the exported variables and, when the
/// check ended early (allow, deny, an error), leave `tcpd_context` at that
/// rule as Debian's library does.
pub fn finish(snap: &Snapshot, v: &Verdict, set_context: bool) {
    let _g = lock::lock();
    let (old, new) = (&snap.settings, &v.settings);
    if new.allow_severity != old.allow_severity {
        abi::set(IntVar::AllowSeverity, new.allow_severity);
    }
    if new.deny_severity != old.deny_severity {
        abi::set(IntVar::DenySeverity, new.deny_severity);
    }
    if new.rfc931_timeout != old.rfc931_timeout {
        abi::set(IntVar::Rfc931Timeout, new.rfc931_timeout as i32);
    }
    if new.dry_run != old.dry_run {
        abi::set(IntVar::DryRun, new.dry_run as i32);
    }
    if set_context {
        if let Some(c) = &v.context {
            abi::set_context(log::to_c(Some((c.file.as_ref(), c.line))));
        }
    }
}

/// A loaded table as the engine takes it.
pub fn table_ref(l: &Loaded) -> TableRef<'_> {
    match l {
        Loaded::Missing => TableRef::Missing,
        Loaded::Unreadable { path, error } => TableRef::Unreadable { path, error },
        Loaded::Table(t) => TableRef::Compiled(t),
    }
}

/// The services of one call for the caller's request.
pub struct CallEnv {
    ident: RequestIdent,
}

impl CallEnv {
    pub fn new(shared: &Arc<Shared>) -> CallEnv {
        CallEnv {
            ident: RequestIdent(shared.clone()),
        }
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            ident: &self.ident,
            ..system_env()
        }
    }
}
