//! The exported functions. Each one is a thin, panic-proof entry: the body
//! runs under [`guard`], which turns a panic into a safe answer (deny, an
//! empty result) so that no panic crosses into C.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_ulong};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use tcpwrap::sys::{sock, strerror};
use tcpwrap_core::text::eq_ci;
use tcpwrap_core::{Ctx, Reason, Which};

use crate::abi::{self, HostInfo, HostMethod, IntVar, RequestInfo, STRING_LENGTH};
use crate::glue::{self, CallEnv, LibExec, Shared};
use crate::lock;
use crate::log;
use crate::proc;
use crate::sock as methods;

/// Run `f`; a panic is logged (not printed: standard error may be the
/// client's connection) and `fallback` is returned instead.
pub fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            log::plain(
                libc::LOG_ERR,
                format!("error: libwrap internal error: {info}").as_bytes(),
            );
        }));
    });
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

fn known(v: &[u8]) -> bool {
    !eq_ci(v, b"unknown") && !eq_ci(v, b"paranoid")
}

/// Per-thread result buffer of `N` bytes (Debian's are static, shared by
/// all threads).
macro_rules! thread_buffer {
    ($name:ident, $n:expr) => {
        fn $name() -> *mut c_char {
            thread_local! {
                static BUF: UnsafeCell<[c_char; $n]> = const { UnsafeCell::new([0; $n]) };
            }
            BUF.with(|b| b.get() as *mut c_char)
        }
    };
}
thread_buffer!(client_buffer, 2 * STRING_LENGTH);
thread_buffer!(server_buffer, 2 * STRING_LENGTH);
thread_buffer!(port_buffer, 16);

// ------------------------------------------------------------ access control

/// `hosts_access`: 1 to grant, 0 to deny.
///
/// # Safety
/// `r` points to a request set up with `request_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hosts_access(r: *mut RequestInfo) -> c_int {
    guard(0, || {
        if r.is_null() {
            return 0;
        }
        let snap = glue::snapshot(true);
        let shared = Shared::new(r, snap.outside.clone());
        // SAFETY: r is the caller's valid request.
        let mut req = unsafe { shared.request() };
        let cenv = CallEnv::new(&shared);
        let mut exec = LibExec::new(shared.clone());
        let allow = glue::tables().load(&snap.allow);
        let deny = std::cell::OnceCell::new();
        let mut tables = |w: Which| match w {
            Which::Allow => glue::table_ref(&allow),
            Which::Deny => glue::table_ref(deny.get_or_init(|| glue::tables().load(&snap.deny))),
        };
        let v =
            tcpwrap_core::check_tables(&mut tables, &mut req, cenv.env(), snap.settings, &mut exec);
        shared.live.rest(&v.diagnostics);
        // SAFETY: as above.
        unsafe { glue::write_back(&req, r) };
        glue::finish(&snap, &v, true);
        if shared.jumped.load(std::sync::atomic::Ordering::Relaxed) {
            return 0;
        }
        v.granted() as c_int
    })
}

/// `process_options` without the jump: 0 when the options ran to the end,
/// `AC_PERMIT` (1) after `allow`, `AC_DENY` (-1) after `deny` or an error.
/// The shim's `process_options` jumps to `tcpd_buf` with that value.
///
/// # Safety
/// `options` is NULL or a C string; `r` is NULL or a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_process_options(
    options: *mut c_char,
    r: *mut RequestInfo,
) -> c_int {
    guard(-1, || {
        // SAFETY: as documented.
        let opts = unsafe { abi::cstr(options) }.unwrap_or_default();
        let mut own: Option<Box<RequestInfo>> = None;
        let r = if r.is_null() {
            // SAFETY: RequestInfo is plain data (pointers, integers,
            // arrays, nullable function pointers): all-zero is valid.
            let b: Box<RequestInfo> = Box::new(unsafe { std::mem::zeroed() });
            let p = Box::into_raw(b);
            // SAFETY: p is a valid request.
            unsafe { tcpwrap_rq_init(p) };
            // SAFETY: p came from Box::into_raw.
            own = Some(unsafe { Box::from_raw(p) });
            own.as_deref_mut()
                .map_or(std::ptr::null_mut(), |b| b as *mut RequestInfo)
        } else {
            r
        };
        let snap = glue::snapshot(false);
        let shared = Shared::new(r, snap.outside.clone());
        // SAFETY: r is valid.
        let mut req = unsafe { shared.request() };
        let cenv = CallEnv::new(&shared);
        let mut exec = LibExec::new(shared.clone());
        let v = tcpwrap_core::process_options(
            &opts,
            log::to_rule(&snap.outside),
            &mut req,
            cenv.env(),
            snap.settings,
            &mut exec,
        );
        shared.live.rest(&v.diagnostics);
        // SAFETY: r is valid.
        unsafe { glue::write_back(&req, r) };
        glue::finish(&snap, &v, false);
        drop(own);
        if shared.jumped.load(std::sync::atomic::Ordering::Relaxed) {
            return -1;
        }
        match v.reason {
            Reason::AllowOption => 1,
            Reason::DenyOption | Reason::OptionError | Reason::Exit => -1,
            _ => 0,
        }
    })
}

/// `percent_x`: expand `%` sequences of `string` for `r` into `result`
/// (at most `len - 2` characters). An expansion that does not fit logs
/// Debian's warning and gives an empty result (Debian's library exits the
/// process instead).
///
/// # Safety
/// `result` has `len` writable bytes; `string` is a C string; `r` is NULL
/// or a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn percent_x(
    result: *mut c_char,
    len: c_int,
    string: *mut c_char,
    r: *mut RequestInfo,
) -> *mut c_char {
    guard(result, || {
        if result.is_null() || len < 1 {
            return result;
        }
        // SAFETY: as documented.
        let pattern = unsafe { abi::cstr(string) }.unwrap_or_default();
        let outside = log::current();
        let position = log::to_rule(&outside).map(|p| (p.file, p.line));
        let expanded = if r.is_null() {
            let mut q = tcpwrap_core::Request::new();
            let mut ctx = Ctx::new(glue::system_env());
            ctx.position = position;
            let x = tcpwrap_core::expand::expand(&pattern, len as usize, &mut q, &mut ctx);
            for d in &ctx.diagnostics {
                log::emit(d, &outside);
            }
            x
        } else {
            let shared = Shared::new(r, outside.clone());
            // SAFETY: r is valid.
            let mut q = unsafe { shared.request() };
            let cenv = CallEnv::new(&shared);
            let mut ctx = Ctx::new(cenv.env());
            ctx.position = position;
            let x = tcpwrap_core::expand::expand(&pattern, len as usize, &mut q, &mut ctx);
            shared.live.rest(&ctx.diagnostics);
            // SAFETY: r is valid.
            unsafe { glue::write_back(&q, r) };
            x
        };
        let v = expanded.unwrap_or_default();
        // SAFETY: v has at most len - 2 bytes, so len bytes hold it and
        // the NUL.
        unsafe { abi::write_field(result, len as usize, &v) };
        result
    })
}

// ------------------------------------------------------------ evaluation

/// Call a host method through its pointer (this library's own methods
/// directly; the program's with the lock held, guarded against
/// `tcpd_jump`).
unsafe fn call_method(m: HostMethod, h: *mut HostInfo) {
    // SAFETY: h is valid (callers' contract).
    unsafe {
        if methods::is_sock_hostaddr(m) {
            methods::hostaddr_into(h);
        } else if methods::is_sock_hostname(m) {
            methods::hostname_now(h);
        } else {
            let _g = lock::lock();
            abi::tcpwrap_call_method(m, h);
        }
    }
}

/// `eval_hostaddr`.
///
/// # Safety
/// `h` points to a valid host_info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_hostaddr(h: *mut HostInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if h.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: h is valid; its request pointer is NULL or valid.
        unsafe {
            if (*h).addr[0] == 0 {
                abi::write_field((*h).addr.as_mut_ptr(), STRING_LENGTH, b"unknown");
                let rq = (*h).request;
                if !rq.is_null() {
                    if let Some(m) = (*rq).hostaddr {
                        call_method(m, h);
                    }
                }
            }
            (*h).addr.as_mut_ptr()
        }
    })
}

/// `eval_hostname`.
///
/// # Safety
/// `h` points to a valid host_info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_hostname(h: *mut HostInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if h.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: as in eval_hostaddr.
        unsafe {
            if (*h).name[0] == 0 {
                abi::write_field((*h).name.as_mut_ptr(), STRING_LENGTH, b"unknown");
                let rq = (*h).request;
                if !rq.is_null() {
                    if let Some(m) = (*rq).hostname {
                        call_method(m, h);
                    }
                }
            }
            (*h).name.as_mut_ptr()
        }
    })
}

/// `eval_hostinfo`: the name if it was looked up and is known, else the
/// address.
///
/// # Safety
/// `h` points to a valid host_info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_hostinfo(h: *mut HostInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if h.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: h is valid.
        unsafe {
            if (*h).name[0] == 0 {
                return eval_hostaddr(h);
            }
            let n = abi::cstr(eval_hostname(h)).unwrap_or_default();
            if known(&n) {
                (*h).name.as_mut_ptr()
            } else {
                eval_hostaddr(h)
            }
        }
    })
}

/// `eval_user`: the client user, asking the client's ident server when
/// the request has both socket addresses and is not a datagram.
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_user(r: *mut RequestInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if r.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: r is valid; its socket addresses are NULL or valid.
        unsafe {
            if (*r).user[0] == 0 {
                let user = (*r).user.as_mut_ptr();
                abi::write_field(user, STRING_LENGTH, b"unknown");
                let (c, s) = ((*r).client[0].sin, (*r).server[0].sin);
                if (*r).sink.is_none() && !c.is_null() && !s.is_null() {
                    if glue::rfc931_is_ours() {
                        rfc931(c, s, user);
                    } else {
                        let _g = lock::lock();
                        abi::tcpwrap_call_rfc931(c, s, user);
                    }
                }
            }
            (*r).user.as_mut_ptr()
        }
    })
}

/// `eval_client`: `user@host` when the user is known, else the host.
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_client(r: *mut RequestInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if r.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: r is valid; the buffer holds 2 * STRING_LENGTH bytes.
        unsafe {
            let hostinfo = eval_hostinfo(abi::host(r, true));
            if (*r).user[0] == 0 {
                return hostinfo;
            }
            let user = abi::cstr(eval_user(r)).unwrap_or_default();
            if eq_ci(&user, b"unknown") {
                return hostinfo;
            }
            let mut v = user;
            v.push(b'@');
            v.extend_from_slice(&abi::cstr(hostinfo).unwrap_or_default());
            let buf = client_buffer();
            abi::write_field(buf, 2 * STRING_LENGTH, &v);
            buf
        }
    })
}

/// `eval_server`: `daemon@host` when the server host is known, else the
/// daemon.
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_server(r: *mut RequestInfo) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        if r.is_null() {
            return abi::unknown_ptr();
        }
        // SAFETY: r is valid; the buffer holds 2 * STRING_LENGTH bytes.
        unsafe {
            let host = abi::cstr(eval_hostinfo(abi::host(r, false))).unwrap_or_default();
            if eq_ci(&host, b"unknown") {
                return (*r).daemon.as_mut_ptr();
            }
            let mut v = abi::read_field((*r).daemon.as_ptr(), STRING_LENGTH);
            v.push(b'@');
            v.extend_from_slice(&host);
            let buf = server_buffer();
            abi::write_field(buf, 2 * STRING_LENGTH, &v);
            buf
        }
    })
}

/// `eval_port`: the port of a socket address in decimal, "0" for NULL.
///
/// # Safety
/// `sa` is NULL or points to an IPv4 or IPv6 socket address.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn eval_port(sa: *mut libc::sockaddr) -> *mut c_char {
    guard(abi::unknown_ptr(), || {
        let port = if sa.is_null() {
            0
        } else {
            // SAFETY: the port is at the same place (bytes 2-3, network
            // order) in sockaddr_in and sockaddr_in6.
            u16::from_be(unsafe { (*(sa as *const libc::sockaddr_in)).sin_port })
        };
        let buf = port_buffer();
        // SAFETY: the buffer holds 16 bytes.
        unsafe { abi::write_field(buf, 16, port.to_string().as_bytes()) };
        buf
    })
}

// ------------------------------------------------------------ socket methods

/// `sock_host` (`fromhost`): install the socket methods and find both ends
/// of `r->fd`.
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sock_host(r: *mut RequestInfo) {
    guard((), || {
        if !r.is_null() {
            // SAFETY: r is valid.
            unsafe { methods::sock_host(r) }
        }
    })
}

/// `sock_hostaddr`: the numeric address of `h->sin` into `h->addr`.
///
/// # Safety
/// `h` points to a valid host_info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sock_hostaddr(h: *mut HostInfo) {
    guard((), || {
        if !h.is_null() {
            // SAFETY: h is valid.
            unsafe { methods::hostaddr_into(h) }
        }
    })
}

/// `sock_hostname`: the verified host name of `h->sin` into `h->name`.
///
/// # Safety
/// `h` points to a valid host_info.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sock_hostname(h: *mut HostInfo) {
    guard((), || {
        if !h.is_null() {
            // SAFETY: h is valid.
            unsafe { methods::hostname_now(h) }
        }
    })
}

// ------------------------------------------------------------ ending a request

/// Whether the dynamic symbol `clean_exit` is this library's own.
fn clean_exit_is_ours() -> bool {
    // SAFETY: returns an address.
    let bound = unsafe { abi::tcpwrap_bound_clean_exit() } as usize;
    bound == abi::own().clean_exit
}

/// `clean_exit` through the symbol (the program's, if it has one).
unsafe fn call_clean_exit(r: *mut RequestInfo) {
    // SAFETY: r is NULL or valid.
    unsafe {
        if clean_exit_is_ours() {
            clean_exit(r);
        } else {
            let _g = lock::lock();
            abi::tcpwrap_call_clean_exit(r);
        }
    }
}

/// `clean_exit`: discard a pending datagram, wait 5 seconds, `exit(0)`.
///
/// # Safety
/// `r` is NULL or a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clean_exit(r: *mut RequestInfo) {
    guard((), || {
        if !r.is_null() {
            // SAFETY: r is valid; its sink is a function taking a fd.
            unsafe {
                if let Some(sink) = (*r).sink {
                    if methods::is_sock_sink(sink) {
                        proc::discard_datagram((*r).fd);
                    } else {
                        let _g = lock::lock();
                        abi::tcpwrap_call_sink(sink, (*r).fd);
                    }
                }
            }
        }
    });
    proc::sleep_and_exit()
}

/// `refuse`: log `refused connect from CLIENT (ADDR)` at `deny_severity`,
/// then `clean_exit`.
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn refuse(r: *mut RequestInfo) {
    guard((), || {
        if r.is_null() {
            return;
        }
        // SAFETY: r is valid.
        unsafe {
            let c = abi::cstr(eval_client(r)).unwrap_or_default();
            let a = abi::cstr(eval_hostaddr(abi::host(r, true))).unwrap_or_default();
            let mut m = b"refused connect from ".to_vec();
            m.extend_from_slice(&c);
            m.extend_from_slice(b" (");
            m.extend_from_slice(&a);
            m.push(b')');
            log::plain(abi::get(IntVar::DenySeverity), &m);
        }
    });
    // SAFETY: r is NULL or valid.
    unsafe { call_clean_exit(r) }
}

/// `shell_cmd`: run `/bin/sh -c COMMAND` (standard descriptors on
/// /dev/null) and wait for it.
///
/// # Safety
/// `command` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shell_cmd(command: *mut c_char) {
    guard((), || {
        // SAFETY: as documented.
        let cmd = unsafe { abi::cstr(command) }.unwrap_or_default();
        let mut prefix = b"warning: ".to_vec();
        if let Some((f, l)) = log::current() {
            prefix.extend_from_slice(&f);
            prefix.extend_from_slice(format!(", line {l}: ").as_bytes());
        }
        if let Err(e) = proc::shell_cmd(&cmd, &prefix) {
            log::warn_now(format!("cannot fork: {}", strerror(&e)).as_bytes());
        }
    })
}

/// `rfc931`: ask the ident server of `rmt` who owns the connection
/// `rmt` → `our`; the user (at most 127 characters) or "unknown" into
/// `dest`. Waits at most `rfc931_timeout` seconds.
///
/// # Safety
/// `rmt`, `our` are NULL or socket addresses; `dest` has 128 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rfc931(
    rmt: *mut libc::sockaddr,
    our: *mut libc::sockaddr,
    dest: *mut c_char,
) {
    guard((), || {
        if dest.is_null() {
            return;
        }
        let timeout = abi::get(IntVar::Rfc931Timeout).max(0) as u32;
        // SAFETY: as documented.
        let (c, s) = unsafe {
            (
                tcpwrap::sys::from_sockaddr(rmt),
                tcpwrap::sys::from_sockaddr(our),
            )
        };
        let user = match (c, s) {
            (Some(c), Some(s)) => glue::ident(c, s, timeout),
            _ => None,
        };
        let user = user.unwrap_or_else(|| b"unknown".to_vec());
        // SAFETY: dest has STRING_LENGTH bytes.
        unsafe { abi::write_field(dest, STRING_LENGTH, &user) };
    })
}

/// `fix_options`: on an IPv4 connection, refuse source-routed clients and
/// clear other IP options (logging them).
///
/// # Safety
/// `r` points to a valid request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fix_options(r: *mut RequestInfo) {
    const OPTBUF: usize = 512 / 3;
    let exit = guard(false, || {
        if r.is_null() {
            return false;
        }
        // SAFETY: r is valid.
        let fd = unsafe { (*r).fd };
        let family = match sock::sock_name(fd) {
            Ok(n) => n.family,
            Err(e) => {
                log::plain(
                    libc::LOG_ERR,
                    format!("getpeername: {}", strerror(&e)).as_bytes(),
                );
                return true;
            }
        };
        if family != libc::AF_INET {
            return false;
        }
        let Ok(opts) = sock::ip_options(fd, OPTBUF) else {
            return false;
        };
        if opts.is_empty() {
            return false;
        }
        // SAFETY: r is valid.
        let client = unsafe { abi::cstr(eval_client(r)) }.unwrap_or_default();
        if tcpwrap_tools::tcpd::has_source_route(&opts) {
            let mut m = b"refused connect from ".to_vec();
            m.extend_from_slice(&client);
            m.extend_from_slice(b" with IP source routing options");
            log::plain(libc::LOG_WARNING, &m);
            sock::shutdown(fd);
            return false;
        }
        let mut m = b"connect from ".to_vec();
        m.extend_from_slice(&client);
        m.extend_from_slice(b" with IP options (ignored):");
        m.extend_from_slice(&tcpwrap_tools::tcpd::hex_options(&opts));
        log::plain(libc::LOG_NOTICE, &m);
        if let Err(e) = sock::clear_ip_options(fd) {
            log::plain(
                libc::LOG_ERR,
                format!("setsockopt IP_OPTIONS NULL: {}", strerror(&e)).as_bytes(),
            );
            sock::shutdown(fd);
        }
        false
    });
    if exit {
        // SAFETY: r is valid.
        unsafe { call_clean_exit(r) }
    }
}

// ------------------------------------------------------------ helpers

/// `percent_m`: copy `ibuf` to `obuf`, each `%m` replaced by
/// `strerror(errno)`. `obuf` must be large enough (as in Debian's library).
///
/// # Safety
/// `ibuf` is a C string; `obuf` can hold the result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn percent_m(obuf: *mut c_char, ibuf: *mut c_char) -> *mut c_char {
    let err = std::io::Error::last_os_error();
    guard(obuf, || {
        if obuf.is_null() {
            return obuf;
        }
        // SAFETY: as documented.
        let v = percent_m_bytes(&unsafe { abi::cstr(ibuf) }.unwrap_or_default(), &err);
        // SAFETY: the caller promises room for the result and its NUL.
        unsafe { abi::write_field(obuf, v.len() + 1, &v) };
        obuf
    })
}

fn percent_m_bytes(input: &[u8], err: &std::io::Error) -> Vec<u8> {
    let text = strerror(err);
    let mut out = Vec::with_capacity(input.len() + 32);
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && input.get(i + 1) == Some(&b'm') {
            out.extend_from_slice(text.as_bytes());
            i += 2;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

/// `split_at`: cut `string` at the first `delimiter` outside `[...]`;
/// returns the text after it, or NULL.
///
/// # Safety
/// `string` is NULL or a writable C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn split_at(string: *mut c_char, delimiter: c_int) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        if string.is_null() {
            return std::ptr::null_mut();
        }
        let mut depth = 0i64;
        let mut p = string;
        // SAFETY: p stays within the NUL-terminated string.
        unsafe {
            while *p != 0 {
                let ch = *p as u8;
                match ch {
                    b'[' => depth += 1,
                    b']' => depth -= 1,
                    // An int compared with a C char, as in Debian's
                    // library: with a signed char, 255 never matches
                    // and -1 matches byte 0xff.
                    _ if depth == 0 && c_int::from(*p) == delimiter => {
                        *p = 0;
                        return p.add(1);
                    }
                    _ => {}
                }
                p = p.add(1);
            }
        }
        std::ptr::null_mut()
    })
}

/// `dot_quad_addr`: an address with exactly four dot-separated parts, in
/// network byte order, or 0xffffffff (INADDR_NONE).
///
/// # Safety
/// `s` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dot_quad_addr(s: *mut c_char) -> c_ulong {
    guard(0xffff_ffff, || {
        // SAFETY: as documented.
        let b = unsafe { abi::cstr(s) }.unwrap_or_default();
        let runs = b
            .split(|&c| c == b'.')
            .filter(|part| !part.is_empty())
            .count();
        if runs != 4 {
            return 0xffff_ffff;
        }
        match tcpwrap_core::text::inet_aton(&b) {
            Some(a) => c_ulong::from(a.to_be()),
            None => 0xffff_ffff,
        }
    })
}

/// `cidr_mask_addr`: the netmask of a prefix length 1..32 in network byte
/// order, else 0.
///
/// # Safety
/// `s` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cidr_mask_addr(s: *mut c_char) -> c_ulong {
    guard(0, || {
        // SAFETY: as documented.
        let b = unsafe { abi::cstr(s) }.unwrap_or_default();
        let bits = tcpwrap_core::text::atoi(&b);
        if !(1..=32).contains(&bits) {
            return 0;
        }
        let mask: u32 = u32::MAX << (32 - bits);
        c_ulong::from(mask.to_be())
    })
}

/// `xgets`: read a logical line (joining lines that end in a backslash),
/// counting lines in `tcpd_context.line`.
///
/// # Safety
/// `buf` has `len` writable bytes; `fp` is a valid stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xgets(buf: *mut c_char, len: c_int, fp: *mut libc::FILE) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        if buf.is_null() || fp.is_null() {
            return std::ptr::null_mut();
        }
        let start = buf;
        let mut p = buf;
        let mut left = len;
        // SAFETY: fgets writes at most `left` bytes at p, which stays
        // within buf[0..len].
        unsafe {
            while left > 1 && !libc::fgets(p, left, fp).is_null() {
                let mut got = libc::strlen(p) as c_int;
                if got >= 1 && *p.add(got as usize - 1) == b'\n' as c_char {
                    {
                        let _g = lock::lock();
                        let mut c = abi::context();
                        c.line += 1;
                        abi::set_context(c);
                    }
                    if got >= 2 && *p.add(got as usize - 2) == b'\\' as c_char {
                        got -= 2;
                    } else {
                        return start;
                    }
                }
                p = p.add(got as usize);
                left -= got;
                *p = 0;
            }
        }
        if p > start {
            start
        } else {
            std::ptr::null_mut()
        }
    })
}

// ------------------------------------------------------------ glue for the shim

/// `request_init`'s first step: the all-empty request with fd −1, daemon
/// "unknown", this process's pid and the back pointers.
///
/// # Safety
/// `r` points to writable memory of the size of a request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_rq_init(r: *mut RequestInfo) {
    guard((), || {
        if r.is_null() {
            return;
        }
        // SAFETY: r points to a request-sized block; all-zero is valid.
        unsafe {
            std::ptr::write_bytes(r, 0, 1);
            (*r).fd = -1;
            abi::write_field((*r).daemon.as_mut_ptr(), STRING_LENGTH, b"unknown");
            let pid = std::process::id().to_string();
            abi::write_field((*r).pid.as_mut_ptr(), abi::PID_LENGTH, pid.as_bytes());
            (*r).client[0].request = r;
            (*r).server[0].request = r;
        }
    })
}

/// `RQ_FILE`.
///
/// # Safety
/// `r` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_rq_fd(r: *mut RequestInfo, fd: c_int) {
    if !r.is_null() {
        // SAFETY: r is valid.
        unsafe { (*r).fd = fd };
    }
}

/// `RQ_CLIENT_SIN` / `RQ_SERVER_SIN`: the pointer is kept, not copied.
///
/// # Safety
/// `r` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_rq_sin(r: *mut RequestInfo, key: c_int, sa: *mut libc::sockaddr) {
    if !r.is_null() {
        // SAFETY: r is valid.
        unsafe { (*abi::host(r, key == 6)).sin = sa };
    }
}

/// The string keys: copied, at most 127 characters; NULL reads as "".
///
/// # Safety
/// `r` is NULL or valid; `s` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_rq_str(r: *mut RequestInfo, key: c_int, s: *const c_char) {
    guard((), || {
        if r.is_null() {
            return;
        }
        // SAFETY: r is valid, s NULL or a C string; each field has
        // STRING_LENGTH bytes.
        unsafe {
            let v = abi::cstr(s).unwrap_or_default();
            let field = match key {
                2 => (*r).daemon.as_mut_ptr(),
                3 => (*r).user.as_mut_ptr(),
                4 => (*abi::host(r, true)).name.as_mut_ptr(),
                5 => (*abi::host(r, true)).addr.as_mut_ptr(),
                7 => (*abi::host(r, false)).name.as_mut_ptr(),
                8 => (*abi::host(r, false)).addr.as_mut_ptr(),
                _ => return,
            };
            abi::write_field(field, STRING_LENGTH, &v);
        }
    })
}

/// An unknown key ends the list.
#[unsafe(no_mangle)]
pub extern "C" fn tcpwrap_rq_bad_key(key: c_int) {
    guard((), || {
        log::warn_now(format!("request_fill: invalid key: {key}").as_bytes())
    })
}

/// `tcpd_warn`/`tcpd_jump` after formatting.
///
/// # Safety
/// `msg` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_diag(is_error: c_int, msg: *const c_char) {
    guard((), || {
        // SAFETY: as documented.
        let m = unsafe { abi::cstr(msg) }.unwrap_or_default();
        if is_error != 0 {
            log::error_now(&m);
        } else {
            log::warn_now(&m);
        }
    })
}

/// A `malloc`ed copy of `fmt` with `%m` replaced by `strerror(errno)` (as
/// errno is on entry), for the shim's `tcpd_warn`/`tcpd_jump`.
///
/// # Safety
/// `fmt` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tcpwrap_percent_m_dup(fmt: *const c_char) -> *mut c_char {
    let err = std::io::Error::last_os_error();
    guard(std::ptr::null_mut(), || {
        // SAFETY: as documented.
        let f = unsafe { abi::cstr(fmt) }.unwrap_or_default();
        // Literal '%' in the error text would be read as a conversion.
        let v = percent_m_bytes(&f, &err);
        // SAFETY: malloc of len + 1 bytes, filled below.
        unsafe {
            let p = libc::malloc(v.len() + 1) as *mut c_char;
            if !p.is_null() {
                abi::write_field(p, v.len() + 1, &v);
            }
            p
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_m_replaces_every_m() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(
            percent_m_bytes(b"open x: %m; %%m %", &e),
            b"open x: No such file or directory; %No such file or directory %".to_vec()
        );
    }
}
