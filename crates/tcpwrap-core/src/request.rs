//! The request being decided (§6): daemon, user and the two endpoints, each
//! attribute computed at most once and only when a pattern, an option or an
//! expansion needs it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::ctx::{Ctx, LookupKind};
use crate::env::Family;
use crate::text::eq_ci;

/// Longest value a request field holds (the original's 128-byte fields).
pub const FIELD_MAX: usize = 127;

pub const UNKNOWN: &[u8] = b"unknown";
pub const PARANOID: &[u8] = b"paranoid";

fn truncated(v: &[u8]) -> Vec<u8> {
    v[..v.len().min(FIELD_MAX)].to_vec()
}

/// Which end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// One endpoint. `None` means "not evaluated yet".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    name: Option<Vec<u8>>,
    addr: Option<Vec<u8>>,
    /// The socket address, when known. Names and addresses are looked up from
    /// it only when the request has socket methods.
    pub sin: Option<SocketAddr>,
}

impl Endpoint {
    /// The cached name, if evaluated.
    pub fn cached_name(&self) -> Option<&[u8]> {
        self.name.as_deref()
    }
    /// The cached address, if evaluated.
    pub fn cached_addr(&self) -> Option<&[u8]> {
        self.addr.as_deref()
    }
}

/// Name and address methods supplied by the embedding program, replacing the
/// built-in socket methods (the C library's per-request `hostname` and
/// `hostaddr` function pointers). Each is called at most once per endpoint,
/// when the value is first needed; the value returned is cached (truncated
/// to [`FIELD_MAX`]). The request passed is the current state, so that the
/// method can see values cached or rewritten so far.
pub trait EndpointHooks: Send + Sync {
    /// The printable address of `side`.
    fn addr(&self, side: Side, req: &Request, ctx: &mut Ctx<'_>) -> Vec<u8>;
    /// The host name of `side` ("unknown" or "paranoid" when not known).
    fn name(&self, side: Side, req: &Request, ctx: &mut Ctx<'_>) -> Vec<u8>;
}

/// A shared [`EndpointHooks`] object. Two are equal when they are the same
/// object.
#[derive(Clone)]
pub struct Hooks(pub Arc<dyn EndpointHooks>);

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hooks(..)")
    }
}

impl PartialEq for Hooks {
    fn eq(&self, other: &Hooks) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Hooks {}

/// A connection request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The connection's file descriptor (−1 when there is none).
    pub fd: i32,
    user: Option<Vec<u8>>,
    daemon: Vec<u8>,
    pid: Vec<u8>,
    pub client: Endpoint,
    pub server: Endpoint,
    /// A datagram (UDP) request: no ident look-ups.
    pub datagram: bool,
    /// Whether names and addresses may be computed from the socket
    /// addresses (the original's `sock_methods`).
    pub sock_methods: bool,
    /// Methods of the embedding program; when set they replace the socket
    /// methods for names and addresses.
    pub hooks: Option<Hooks>,
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

impl Request {
    /// `request_init`: fd −1, daemon "unknown", pid of this process.
    pub fn new() -> Request {
        Request {
            fd: -1,
            user: None,
            daemon: UNKNOWN.to_vec(),
            pid: std::process::id().to_string().into_bytes(),
            client: Endpoint::default(),
            server: Endpoint::default(),
            datagram: false,
            sock_methods: false,
            hooks: None,
        }
    }

    /// A request for a connection between two socket addresses, with socket
    /// methods (names and addresses looked up on demand).
    pub fn for_connection(
        daemon: &[u8],
        client: SocketAddr,
        server: Option<SocketAddr>,
    ) -> Request {
        let mut r = Request::new();
        r.set_daemon(daemon);
        r.client.sin = Some(client);
        r.server.sin = server;
        r.sock_methods = true;
        r
    }

    /// A request as `hosts_ctl(daemon, name, addr, user)` builds it: no
    /// sockets, no look-ups; empty strings mean "unknown".
    pub fn from_ctl(daemon: &[u8], client_name: &[u8], client_addr: &[u8], user: &[u8]) -> Request {
        let mut r = Request::new();
        r.set_daemon(daemon);
        r.set_client_name(client_name);
        r.set_client_addr(client_addr);
        r.set_user(user);
        r
    }

    fn opt(v: &[u8]) -> Option<Vec<u8>> {
        if v.is_empty() {
            None
        } else {
            Some(truncated(v))
        }
    }

    pub fn set_daemon(&mut self, v: &[u8]) {
        self.daemon = truncated(v);
    }
    /// Set the user; "" marks it not evaluated.
    pub fn set_user(&mut self, v: &[u8]) {
        self.user = Self::opt(v);
    }
    pub fn set_pid(&mut self, v: &[u8]) {
        self.pid = v[..v.len().min(9)].to_vec();
    }
    pub fn set_client_name(&mut self, v: &[u8]) {
        self.client.name = Self::opt(v);
    }
    pub fn set_client_addr(&mut self, v: &[u8]) {
        self.client.addr = Self::opt(v);
    }
    pub fn set_server_name(&mut self, v: &[u8]) {
        self.server.name = Self::opt(v);
    }
    pub fn set_server_addr(&mut self, v: &[u8]) {
        self.server.addr = Self::opt(v);
    }
    pub fn endpoint(&self, side: Side) -> &Endpoint {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }
    fn endpoint_mut(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    pub fn daemon(&self) -> &[u8] {
        &self.daemon
    }
    pub fn pid(&self) -> &[u8] {
        &self.pid
    }
    /// The cached user, if evaluated.
    pub fn cached_user(&self) -> Option<&[u8]> {
        self.user.as_deref()
    }

    /// `eval_hostaddr`: the printable address or "unknown".
    pub fn addr(&mut self, side: Side, ctx: &mut Ctx<'_>) -> &[u8] {
        if self.endpoint(side).addr.is_none() {
            if let Some(h) = self.hooks.clone() {
                let v = h.0.addr(side, self, ctx);
                self.endpoint_mut(side).addr = Some(truncated(&v));
            }
        }
        let methods = self.sock_methods;
        let ep = self.endpoint_mut(side);
        if ep.addr.is_none() {
            let v = match (methods, ep.sin) {
                (true, Some(sa)) => truncated(&ctx.env.resolver.numeric(&sa)),
                _ => UNKNOWN.to_vec(),
            };
            ep.addr = Some(v);
        }
        ep.addr.as_deref().unwrap_or(UNKNOWN)
    }

    /// `eval_hostname`: the verified name, "unknown" or "paranoid".
    pub fn name(&mut self, side: Side, ctx: &mut Ctx<'_>) -> &[u8] {
        if self.endpoint(side).name.is_none() {
            if let Some(h) = self.hooks.clone() {
                let v = h.0.name(side, self, ctx);
                self.endpoint_mut(side).name = Some(truncated(&v));
            }
        }
        let methods = self.sock_methods;
        let ep = self.endpoint_mut(side);
        if ep.name.is_none() {
            let v = match (methods, ep.sin) {
                (true, Some(sa)) => {
                    let v = verified_name(sa, ctx);
                    let kind = match side {
                        Side::Client => LookupKind::ClientName,
                        Side::Server => LookupKind::ServerName,
                    };
                    ctx.record(kind, &v);
                    v
                }
                _ => UNKNOWN.to_vec(),
            };
            ep.name = Some(v);
        }
        ep.name.as_deref().unwrap_or(UNKNOWN)
    }

    /// `eval_user`: the ident user name or "unknown". Performs the RFC 1413
    /// query when possible: a stream request with both socket addresses of
    /// the same family.
    pub fn user(&mut self, ctx: &mut Ctx<'_>) -> &[u8] {
        if self.user.is_none() {
            let mut v = UNKNOWN.to_vec();
            if !self.datagram {
                if let (Some(c), Some(s)) = (self.client.sin, self.server.sin) {
                    if c.is_ipv4() == s.is_ipv4() {
                        let answer = ctx.env.ident.query(c, s, ctx.rfc931_timeout);
                        if let Some(u) = answer.as_deref() {
                            v = truncated(u);
                        }
                        ctx.record(LookupKind::User, answer.as_deref().unwrap_or(UNKNOWN));
                    }
                }
            }
            self.user = Some(v);
        }
        self.user.as_deref().unwrap_or(UNKNOWN)
    }

    /// `eval_hostinfo`: the name if it was already looked up and is known,
    /// else the address. Never starts a name look-up.
    pub fn hostinfo(&mut self, side: Side, ctx: &mut Ctx<'_>) -> Vec<u8> {
        let ep = self.endpoint(side);
        match ep.name.as_deref() {
            Some(n) if !eq_ci(n, UNKNOWN) && !eq_ci(n, PARANOID) => n.to_vec(),
            _ => self.addr(side, ctx).to_vec(),
        }
    }

    /// `eval_client` (`%c`): `user@host` when a user look-up already gave a
    /// name, else the host info.
    pub fn client_info(&mut self, ctx: &mut Ctx<'_>) -> Vec<u8> {
        let host = self.hostinfo(Side::Client, ctx);
        match self.user.as_deref() {
            Some(u) if !eq_ci(u, UNKNOWN) => {
                let mut v = u.to_vec();
                v.push(b'@');
                v.extend_from_slice(&host);
                v
            }
            _ => host,
        }
    }

    /// `eval_server` (`%s`): `daemon@host` unless the host info is unknown.
    pub fn server_info(&mut self, ctx: &mut Ctx<'_>) -> Vec<u8> {
        let host = self.hostinfo(Side::Server, ctx);
        if eq_ci(&host, UNKNOWN) {
            self.daemon.clone()
        } else {
            let mut v = self.daemon.clone();
            v.push(b'@');
            v.extend_from_slice(&host);
            v
        }
    }

    /// `%r` / `%R`: the port, "0" without a socket address.
    pub fn port(&self, side: Side) -> Vec<u8> {
        self.endpoint(side)
            .sin
            .map(|s| s.port())
            .unwrap_or(0)
            .to_string()
            .into_bytes()
    }

    /// Verified host name of a socket address (§6.2): reverse look-up,
    /// then forward verification; "unknown" or "paranoid" when it fails,
    /// with the original's warnings in `ctx`.
    pub fn verified_name(sa: SocketAddr, ctx: &mut Ctx<'_>) -> Vec<u8> {
        verified_name(sa, ctx)
    }

    /// Replace a cached field by its sanitised form (in place, as `%`
    /// expansion does in the original).
    pub(crate) fn replace_field(&mut self, field: Field, v: Vec<u8>) {
        match field {
            Field::Addr(s) => self.endpoint_mut(s).addr = Some(v),
            Field::Name(s) => self.endpoint_mut(s).name = Some(v),
            Field::User => self.user = Some(v),
            Field::Daemon => self.daemon = v,
            Field::Pid => self.pid = v,
        }
    }
}

/// A cached request field that `%` expansion may rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Addr(Side),
    Name(Side),
    User,
    Daemon,
    Pid,
}

/// Host-name look-up with verification (§6.2).
fn verified_name(sa: SocketAddr, ctx: &mut Ctx<'_>) -> Vec<u8> {
    let (ip, scope) = match sa {
        SocketAddr::V4(a) => (IpAddr::V4(*a.ip()), 0),
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), 0),
            None => (IpAddr::V6(*a.ip()), a.scope_id()),
        },
    };
    let family = Family::of(&ip);
    let resolver = ctx.env.resolver;
    let Some(name) = resolver.reverse(ip, scope) else {
        return UNKNOWN.to_vec();
    };
    let name = truncated(&name);
    if resolver.is_numeric(&name, family) {
        let mut m = b"host name/name mismatch: reverse lookup results in non-FQDN ".to_vec();
        m.extend_from_slice(&name);
        ctx.warn(m);
        return PARANOID.to_vec();
    }
    let Some(fwd) = resolver.forward(&name, family) else {
        let mut m = b"can't verify hostname: getaddrinfo(".to_vec();
        m.extend_from_slice(&name);
        m.extend_from_slice(format!(", {}) failed", family.c_name()).as_bytes());
        ctx.warn(m);
        return PARANOID.to_vec();
    };
    let canon_ok = match &fwd.canonical {
        Some(c) => eq_ci(c, &name),
        None => false,
    };
    if !canon_ok && !eq_ci(&name, b"localhost") {
        let canon = fwd.canonical.as_deref().unwrap_or(b"");
        let mut m = b"host name/name mismatch: ".to_vec();
        m.extend_from_slice(&name);
        m.extend_from_slice(b" != ");
        m.extend_from_slice(&canon[..canon.len().min(128)]);
        ctx.warn(m);
        return PARANOID.to_vec();
    }
    let found = fwd.addrs.iter().any(|(a, s)| match (a, ip) {
        (IpAddr::V4(x), IpAddr::V4(y)) => *x == y,
        (IpAddr::V6(x), IpAddr::V6(y)) => *x == y && *s == scope,
        _ => false,
    });
    if !found {
        // getnameinfo(NI_NUMERICHOST) of the de-mapped address: a scoped
        // (link-local) address carries its interface, `fe80::5%eth0`.
        let numeric = match ip {
            IpAddr::V4(a) => resolver.numeric(&SocketAddr::new(IpAddr::V4(a), 0)),
            IpAddr::V6(a) => {
                resolver.numeric(&SocketAddr::V6(std::net::SocketAddrV6::new(a, 0, 0, scope)))
            }
        };
        let canon = fwd.canonical.as_deref().unwrap_or(b"");
        let mut m = b"host name/address mismatch: ".to_vec();
        m.extend_from_slice(&numeric);
        m.extend_from_slice(b" != ");
        m.extend_from_slice(&canon[..canon.len().min(128)]);
        ctx.warn(m);
        return PARANOID.to_vec();
    }
    name
}
