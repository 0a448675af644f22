//! The system layer: every `unsafe` call of this crate lives here, each with
//! a `// SAFETY:` comment. Everything above it is safe Rust.

use std::ffi::{CStr, CString};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

use tcpwrap_core::{Family, Forward};

pub mod detach;
pub mod finger;
pub mod notify;
pub mod serve;
pub mod sock;

/// `strerror(errno)` text of an I/O error, without Rust's "(os error N)".
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(p) => s[..p].to_string(),
        None => s,
    }
}

fn cstring(b: &[u8]) -> Option<CString> {
    CString::new(b.to_vec()).ok()
}

fn sockaddr_storage(sa: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match sa {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// Convert a C socket address to a Rust one (IPv4 and IPv6 only).
///
/// # Safety
/// `sa` must point to a valid socket address of at least the size its
/// family implies.
pub unsafe fn from_sockaddr(sa: *const libc::sockaddr) -> Option<SocketAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees `sa` points to a valid sockaddr.
    let family = unsafe { (*sa).sa_family } as libc::c_int;
    match family {
        libc::AF_INET => {
            // SAFETY: family AF_INET means the object is a sockaddr_in.
            let sin = unsafe { std::ptr::read_unaligned(sa as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: family AF_INET6 means the object is a sockaddr_in6.
            let sin6 = unsafe { std::ptr::read_unaligned(sa as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn getnameinfo(sa: &SocketAddr, flags: libc::c_int) -> Option<Vec<u8>> {
    let (ss, len) = sockaddr_storage(sa);
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: ss/len describe a valid socket address; host is a writable
    // buffer of the length passed; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            &ss as *const _ as *const libc::sockaddr,
            len,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            flags,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo succeeded and NUL-terminated the buffer.
    Some(unsafe { CStr::from_ptr(host.as_ptr()) }.to_bytes().to_vec())
}

/// Reverse look-up (`getnameinfo` with `NI_NAMEREQD`).
pub fn reverse_name(ip: IpAddr, scope: u32) -> Option<Vec<u8>> {
    let sa = match ip {
        IpAddr::V4(a) => SocketAddr::V4(SocketAddrV4::new(a, 0)),
        IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope)),
    };
    getnameinfo(&sa, libc::NI_NAMEREQD)
}

/// Numeric host text (`getnameinfo` with `NI_NUMERICHOST`).
pub fn numeric_host(sa: &SocketAddr) -> Option<Vec<u8>> {
    getnameinfo(sa, libc::NI_NUMERICHOST)
}

/// `getaddrinfo(name, family, flags)`: canonical name and addresses.
fn getaddrinfo(name: &[u8], family: Option<Family>, flags: libc::c_int) -> Option<Forward> {
    let cname = cstring(name)?;
    // SAFETY: addrinfo is plain old data; all-zero is the documented way to
    // initialise hints.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match family {
        Some(Family::V4) => libc::AF_INET,
        Some(Family::V6) => libc::AF_INET6,
        None => libc::AF_UNSPEC,
    };
    hints.ai_socktype = libc::SOCK_STREAM;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: cname is NUL-terminated, hints is initialised, res receives a
    // list that we free below.
    let rc = unsafe { libc::getaddrinfo(cname.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return None;
    }
    let mut out = Forward::default();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p is a node of the list getaddrinfo returned.
        let ai = unsafe { &*p };
        if out.canonical.is_none() && !ai.ai_canonname.is_null() {
            // SAFETY: ai_canonname is a NUL-terminated string owned by the list.
            out.canonical = Some(
                unsafe { CStr::from_ptr(ai.ai_canonname) }
                    .to_bytes()
                    .to_vec(),
            );
        }
        // SAFETY: ai_addr points to a socket address of ai_addrlen bytes.
        if let Some(sa) = unsafe { from_sockaddr(ai.ai_addr) } {
            let scope = match sa {
                SocketAddr::V6(a) => a.scope_id(),
                SocketAddr::V4(_) => 0,
            };
            out.addrs.push((sa.ip(), scope));
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    Some(out)
}

/// Forward look-up with the canonical name, in one family.
pub fn forward(name: &[u8], family: Family) -> Option<Forward> {
    getaddrinfo(name, Some(family), libc::AI_CANONNAME)
}

/// Forward look-up in any family, with the canonical name (tools).
pub fn forward_any(name: &[u8]) -> Option<Forward> {
    getaddrinfo(name, None, libc::AI_CANONNAME)
}

/// Numeric parse (`AI_NUMERICHOST`) in any family.
pub fn numeric_any(name: &[u8]) -> Option<Forward> {
    getaddrinfo(name, None, libc::AI_NUMERICHOST)
}

/// Numeric parse in one family.
pub fn is_numeric(name: &[u8], family: Family) -> bool {
    getaddrinfo(name, Some(family), libc::AI_NUMERICHOST).is_some()
}

unsafe extern "C" {
    fn innetgr(
        netgroup: *const libc::c_char,
        host: *const libc::c_char,
        user: *const libc::c_char,
        domain: *const libc::c_char,
    ) -> libc::c_int;
}

/// Netgroup membership of a host (`innetgr(group, host, NULL, NULL)`).
pub fn in_netgroup(group: &[u8], host: &[u8]) -> bool {
    let (Some(g), Some(h)) = (cstring(group), cstring(host)) else {
        return false;
    };
    // SAFETY: both strings are NUL-terminated; NULL user and domain are allowed.
    unsafe { innetgr(g.as_ptr(), h.as_ptr(), std::ptr::null(), std::ptr::null()) == 1 }
}

/// Whether a netgroup exists and has at least one member entry
/// (`setnetgrent`/`getnetgrent`, as tcpdchk checks `@group` patterns).
pub fn netgroup_has_entries(group: &[u8]) -> bool {
    unsafe extern "C" {
        fn setnetgrent(netgroup: *const libc::c_char) -> libc::c_int;
        fn getnetgrent(
            host: *mut *mut libc::c_char,
            user: *mut *mut libc::c_char,
            domain: *mut *mut libc::c_char,
        ) -> libc::c_int;
        fn endnetgrent();
    }
    let Some(g) = cstring(group) else {
        return false;
    };
    let (mut h, mut u, mut d) = (
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    );
    // SAFETY: g is NUL-terminated; the out pointers are valid; the
    // enumeration is ended before returning. The netgroup iteration state is
    // process-wide: callers are single-threaded tools.
    unsafe {
        setnetgrent(g.as_ptr());
        let found = getnetgrent(&mut h, &mut u, &mut d) != 0;
        endnetgrent();
        found
    }
}

/// uid and primary gid of a user (`getpwnam_r`).
pub fn user_ids(name: &[u8]) -> Option<(u32, u32)> {
    let c = cstring(name)?;
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: passwd is plain old data.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the duration of the call; buf's
    // length is passed.
    let rc =
        unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    Some((pw.pw_uid, pw.pw_gid))
}

/// gid of a group (`getgrnam_r`).
pub fn group_id(name: &[u8]) -> Option<u32> {
    let c = cstring(name)?;
    let mut buf = vec![0 as libc::c_char; 65536];
    // SAFETY: group is plain old data.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the duration of the call.
    let rc =
        unsafe { libc::getgrnam_r(c.as_ptr(), &mut gr, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    Some(gr.gr_gid)
}

/// `setgid(gid)`, `initgroups(user, gid)` (or no supplementary groups
/// without a user), then `setuid(uid)` when given: the order that really
/// drops privileges.
pub fn switch_identity(
    user: Option<(&[u8], u32)>,
    gid: u32,
) -> Result<(), (&'static str, io::Error)> {
    // SAFETY: setgid has no memory-safety preconditions.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err(("setgid", io::Error::last_os_error()));
    }
    match user {
        Some((name, uid)) => {
            let c =
                cstring(name).ok_or(("initgroups", io::Error::from_raw_os_error(libc::EINVAL)))?;
            // SAFETY: c is NUL-terminated.
            if unsafe { libc::initgroups(c.as_ptr(), gid) } != 0 {
                return Err(("initgroups", io::Error::last_os_error()));
            }
            // SAFETY: setuid has no memory-safety preconditions.
            if unsafe { libc::setuid(uid) } != 0 {
                return Err(("setuid", io::Error::last_os_error()));
            }
        }
        None => {
            // SAFETY: a zero-length list with a null pointer is allowed.
            if unsafe { libc::setgroups(0, std::ptr::null()) } != 0 {
                return Err(("setgroups", io::Error::last_os_error()));
            }
        }
    }
    Ok(())
}

/// `setenv(name, value, 1)`.
///
/// Changing the environment is not thread-safe; callers are single-threaded
/// (tcpd) or serialise (the library).
pub fn set_env(name: &[u8], value: &[u8]) -> io::Result<()> {
    let (Some(n), Some(v)) = (cstring(name), cstring(value)) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: both strings are NUL-terminated; see the thread-safety note.
    if unsafe { libc::setenv(n.as_ptr(), v.as_ptr(), 1) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `umask(mask)`.
pub fn set_umask(mask: u32) {
    // SAFETY: umask has no memory-safety preconditions.
    unsafe { libc::umask(mask as libc::mode_t) };
}

/// `nice(n)`: the new value, or the error when the call returned < 0 (which
/// glibc also does for successful negative results; errno then reads 0).
pub fn nice(n: i32) -> Result<i32, io::Error> {
    // SAFETY: errno location is thread-local and always valid.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: nice has no memory-safety preconditions.
    let r = unsafe { libc::nice(n) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: v points to a live value of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            v as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `SO_KEEPALIVE` on.
pub fn set_keepalive(fd: RawFd) -> io::Result<()> {
    setsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_KEEPALIVE,
        &(1 as libc::c_int),
    )
}

/// `SO_LINGER` {on = n ≠ 0, n seconds}.
pub fn set_linger(fd: RawFd, n: i32) -> io::Result<()> {
    let l = libc::linger {
        l_onoff: (n != 0) as libc::c_int,
        l_linger: n,
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER, &l)
}

/// Write all bytes to a descriptor we do not own.
pub fn write_fd(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: data is a valid buffer of the length passed.
        let n = unsafe { libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// One `write()` (repeated only when interrupted by a signal): what it
/// wrote, or its error. Writing to a connection the peer has reset raises
/// SIGPIPE unless the caller ignores it, as for the C library's `write()`.
pub fn write_once(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: data is a valid buffer of the length passed.
        let n = unsafe { libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Run `/bin/sh -c CMD` as `spawn` does: SIGHUP ignored, stdio on
/// /dev/null, other descriptors inherited; wait for it.
pub fn spawn_wait(cmd: &[u8]) -> io::Result<std::process::ExitStatus> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let mut c = std::process::Command::new("/bin/sh");
    c.arg0("sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure only calls the async-signal-safe `signal`.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    c.status()
}

/// Run `/bin/sh -c CMD` with every descriptor inherited (aclexec); returns
/// the child's pid and status.
pub fn run_inherit(cmd: &[u8]) -> io::Result<(u32, std::process::ExitStatus)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new("/bin/sh")
        .arg0("sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd))
        .spawn()?;
    let pid = child.id();
    Ok((pid, child.wait()?))
}

/// Replace the process by `/bin/sh -c CMD` with descriptors 0, 1, 2 on `fd`
/// (`twist`). Returns only on failure, with the step that failed.
pub fn exec_twist(fd: RawFd, cmd: &[u8]) -> (&'static str, io::Error) {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    for target in 0..3 {
        if fd != target {
            // SAFETY: dup2 on descriptors; fd validity is checked by the kernel.
            if unsafe { libc::dup2(fd, target) } < 0 {
                return ("dup", io::Error::last_os_error());
            }
        }
    }
    if fd > 2 {
        // SAFETY: the request descriptor is not used after this point.
        unsafe { libc::close(fd) };
    }
    let e = std::process::Command::new("/bin/sh")
        .arg0("sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd))
        .exec();
    ("/bin/sh", e)
}

/// syslog through the C library, so records look exactly like Debian's.
pub mod syslog {
    use std::ffi::CString;

    /// `openlog(ident, option, facility)`. The ident string is leaked: the C
    /// library keeps the pointer.
    pub fn open(ident: &[u8], option: i32, facility: i32) {
        let c = CString::new(
            ident
                .iter()
                .copied()
                .filter(|&b| b != 0)
                .collect::<Vec<u8>>(),
        )
        .unwrap_or_default();
        let p = c.into_raw();
        // SAFETY: p is a NUL-terminated string that stays alive forever.
        unsafe { libc::openlog(p, option, facility) };
    }

    /// `syslog(priority, "%s", message)` (NUL bytes are dropped).
    pub fn log(priority: i32, message: &[u8]) {
        let c = CString::new(
            message
                .iter()
                .copied()
                .filter(|&b| b != 0)
                .collect::<Vec<u8>>(),
        )
        .unwrap_or_default();
        // SAFETY: a constant "%s" format with one NUL-terminated argument.
        unsafe { libc::syslog(priority, c"%s".as_ptr(), c.as_ptr()) };
    }

    /// `closelog()`.
    pub fn close() {
        // SAFETY: closelog has no preconditions.
        unsafe { libc::closelog() };
    }
}

/// `close(fd)` of a descriptor that no Rust object owns.
pub fn close_fd(fd: RawFd) {
    // SAFETY: callers pass a descriptor they own and never use afterwards.
    unsafe { libc::close(fd) };
}

/// The effective uid (`geteuid`).
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// This host's name (`gethostname`).
pub fn hostname() -> Option<Vec<u8>> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: buf is writable for the length passed (one byte kept for the
    // NUL, which the last element guarantees).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    // SAFETY: the last byte is still 0, so the buffer is NUL-terminated.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec();
    (!name.is_empty()).then_some(name)
}

/// `flock(fd, LOCK_EX)`: wait for an exclusive lock on an open file (held
/// until the file is closed).
pub fn flock_exclusive(f: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor owned by `f`, which outlives the call.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether descriptor `fd` refers to a terminal.
pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty has no memory-safety preconditions.
    unsafe { libc::isatty(fd) == 1 }
}
