//! Socket calls on descriptors handed to us by inetd (tcpd) or by the
//! calling daemon (libwrap): endpoint addresses, the datagram peek and sink,
//! IP options, and `execv`.

use std::ffi::CString;
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// What `getsockname`/`getpeername` gave: the address family, and the
/// address when it is IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    pub family: i32,
    pub addr: Option<SocketAddr>,
}

fn name_call(
    fd: RawFd,
    f: unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int,
) -> io::Result<Named> {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: ss is writable for len bytes; the kernel writes at most len.
    if unsafe {
        f(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(Named {
        family: ss.ss_family as i32,
        // SAFETY: ss holds a socket address of the family it names, and is
        // large enough for any family.
        addr: unsafe { super::from_sockaddr((&ss as *const libc::sockaddr_storage).cast()) },
    })
}

/// `getpeername(fd)`.
pub fn peer_name(fd: RawFd) -> io::Result<Named> {
    name_call(fd, libc::getpeername)
}

/// `getsockname(fd)`.
pub fn sock_name(fd: RawFd) -> io::Result<Named> {
    name_call(fd, libc::getsockname)
}

/// `recvfrom(fd, buf[8192], flags)`: the sender's address.
fn recv_from(fd: RawFd, flags: libc::c_int) -> io::Result<Named> {
    let mut buf = [0u8; 8192];
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    loop {
        // SAFETY: buf and ss are writable for the lengths passed.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags,
                (&mut ss as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        if n >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(Named {
        family: ss.ss_family as i32,
        // SAFETY: as in name_call.
        addr: unsafe { super::from_sockaddr((&ss as *const libc::sockaddr_storage).cast()) },
    })
}

/// Peek at the pending datagram (`MSG_PEEK`): its sender.
pub fn peek_sender(fd: RawFd) -> io::Result<Named> {
    recv_from(fd, libc::MSG_PEEK)
}

/// Read and discard the pending datagram (the original's `sock_sink`).
pub fn discard_datagram(fd: RawFd) {
    let _ = recv_from(fd, 0);
}

/// `getsockopt(fd, IPPROTO_IP, IP_OPTIONS)` into a buffer of `max` bytes.
pub fn ip_options(fd: RawFd, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut len = max as libc::socklen_t;
    // SAFETY: buf is writable for len bytes.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(buf)
}

/// `setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0)`: clear the options.
pub fn clear_ip_options(fd: RawFd) -> io::Result<()> {
    // SAFETY: a NULL option value of length 0.
    let r =
        unsafe { libc::setsockopt(fd, libc::IPPROTO_IP, libc::IP_OPTIONS, std::ptr::null(), 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `shutdown(fd, SHUT_RDWR)`, errors ignored as in the original.
pub fn shutdown(fd: RawFd) {
    // SAFETY: no pointer arguments.
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
}

/// `execv(path, argv)` with the environment, descriptors and signal
/// dispositions untouched. Returns only on failure.
pub fn execv(path: &[u8], argv: &[Vec<u8>]) -> io::Error {
    let Ok(p) = CString::new(path) else {
        return io::Error::from_raw_os_error(libc::ENOENT);
    };
    let Ok(args) = argv
        .iter()
        .map(|a| CString::new(a.as_slice()))
        .collect::<Result<Vec<CString>, _>>()
    else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: p and every element of ptrs are NUL-terminated strings that
    // outlive the call, and ptrs ends with NULL.
    unsafe { libc::execv(p.as_ptr(), ptrs.as_ptr()) };
    io::Error::last_os_error()
}
