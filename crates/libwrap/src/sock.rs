//! The socket methods: `sock_host` (both ends of the request's socket),
//! `sock_hostaddr` (printable address) and `sock_hostname` (verified name).

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::c_int;
use std::sync::Mutex;

use tcpwrap::sys::strerror;
use tcpwrap_core::{Ctx, Request};

use crate::abi::{self, HostInfo, HostMethod, RequestInfo, STRING_LENGTH};
use crate::log;

/// Where `sock_host` keeps the two socket addresses a request points to.
type Slot = [libc::sockaddr_storage; 2];

/// Requests that get a slot of their own (keyed by the request's address).
/// Debian's library has one static pair for all requests, so each
/// `sock_host` call overwrites the addresses of the previous request; here
/// requests at different addresses (other threads, several requests alive
/// at once) keep theirs. Beyond this many distinct requests, a pair per
/// thread is used.
const MAX_SLOTS: usize = 4096;

fn zeroed_slot() -> Slot {
    // SAFETY: sockaddr_storage is plain data; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn slot_for(r: *mut RequestInfo) -> *mut Slot {
    type Slots = Mutex<HashMap<usize, Box<UnsafeCell<Slot>>>>;
    static SLOTS: crate::lock::PerProcess<Slots> =
        crate::lock::PerProcess::new(|| Mutex::new(HashMap::new()));
    thread_local! {
        static OWN: Box<UnsafeCell<Slot>> = Box::new(UnsafeCell::new(zeroed_slot()));
    }
    let mut map = SLOTS.get().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = map.get(&(r as usize)) {
        return s.get();
    }
    if map.len() < MAX_SLOTS {
        let b = Box::new(UnsafeCell::new(zeroed_slot()));
        let p = b.get();
        map.insert(r as usize, b);
        return p;
    }
    OWN.with(|s| s.get())
}

/// The datagram sink installed by `sock_host`.
unsafe extern "C" fn sock_sink(fd: c_int) {
    crate::api::guard((), || crate::proc::discard_datagram(fd));
}

/// Whether `s` is this library's sink.
pub fn is_sock_sink(s: abi::Sink) -> bool {
    s as usize == sock_sink as *const () as usize
}

/// `sock_host`.
///
/// # Safety
/// `r` points to a valid request.
pub unsafe fn sock_host(r: *mut RequestInfo) {
    // SAFETY: valid request; the installed methods are this library's
    // exported functions, through their symbols.
    unsafe { abi::tcpwrap_install_sock_methods(r) };
    let slot = slot_for(r);
    let size = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the slot lives as long as the process; r is valid; the
    // storage pointers and lengths passed match.
    unsafe {
        let fd = (*r).fd;
        let client = &raw mut (*slot)[0];
        let server = &raw mut (*slot)[1];
        let mut len = size;
        if libc::getpeername(fd, client as *mut libc::sockaddr, &mut len) < 0 {
            (*r).sink = Some(sock_sink);
            let mut buf = [0u8; 8192];
            len = size;
            if libc::recvfrom(
                fd,
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_PEEK,
                client as *mut libc::sockaddr,
                &mut len,
            ) < 0
            {
                let e = std::io::Error::last_os_error();
                log::warn_now(format!("can't get client address: {}", strerror(&e)).as_bytes());
                return;
            }
        }
        (*r).client[0].sin = client as *mut libc::sockaddr;
        len = size;
        if libc::getsockname(fd, server as *mut libc::sockaddr, &mut len) < 0 {
            let e = std::io::Error::last_os_error();
            log::warn_now(format!("getsockname: {}", strerror(&e)).as_bytes());
            return;
        }
        (*r).server[0].sin = server as *mut libc::sockaddr;
    }
}

/// Whether `m` is this library's `sock_hostname`.
pub fn is_sock_hostname(m: HostMethod) -> bool {
    m as usize == abi::own().sock_hostname
}

/// Whether `m` is this library's `sock_hostaddr`.
pub fn is_sock_hostaddr(m: HostMethod) -> bool {
    m as usize == abi::own().sock_hostaddr
}

/// `sock_hostaddr`: the numeric address of `h->sin` into `h->addr`.
///
/// # Safety
/// `h` points to a valid host_info whose `sin` is NULL or valid.
pub unsafe fn hostaddr_into(h: *mut HostInfo) {
    // SAFETY: guaranteed by the caller; getnameinfo writes at most
    // STRING_LENGTH bytes, NUL included.
    unsafe {
        let sin = (*h).sin;
        if sin.is_null() {
            return;
        }
        let len = match (*sin).sa_family as c_int {
            libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
            _ => std::mem::size_of::<libc::sockaddr_in6>(),
        };
        libc::getnameinfo(
            sin,
            len as libc::socklen_t,
            (*h).addr.as_mut_ptr(),
            STRING_LENGTH as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NUMERICHOST,
        );
    }
}

/// `sock_hostname` within a check: the verified name of `h->sin` into
/// `h->name` (left alone when the reverse look-up fails), with warnings
/// in `ctx`.
///
/// # Safety
/// As [`hostaddr_into`].
pub unsafe fn hostname_into(h: *mut HostInfo, ctx: &mut Ctx<'_>) {
    // SAFETY: guaranteed by the caller.
    let Some(sa) = (unsafe { tcpwrap::sys::from_sockaddr((*h).sin) }) else {
        return;
    };
    let name = Request::verified_name(sa, ctx);
    if name != tcpwrap_core::request::UNKNOWN {
        // SAFETY: the name field has STRING_LENGTH bytes.
        unsafe { abi::write_field((*h).name.as_mut_ptr(), STRING_LENGTH, &name) };
    }
}

/// `sock_hostname` called on its own: warnings go to syslog at once with
/// the current `tcpd_context`.
///
/// # Safety
/// As [`hostaddr_into`].
pub unsafe fn hostname_now(h: *mut HostInfo) {
    let outside = log::current();
    let mut ctx = Ctx::new(crate::glue::system_env());
    // SAFETY: forwarded.
    unsafe { hostname_into(h, &mut ctx) };
    for d in &ctx.diagnostics {
        log::emit(d, &outside);
    }
}
