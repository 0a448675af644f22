//! The C side of the interface: the caller's structures, the exported
//! variables (defined in c/shim.c) and the shim's guarded calls. Every
//! access to caller memory goes through the small functions here.

use std::ffi::{c_char, c_int, c_void};
use std::mem::{offset_of, size_of};

/// Size of each text field, NUL included.
pub const STRING_LENGTH: usize = 128;
/// Size of the `pid` field.
pub const PID_LENGTH: usize = 10;

/// `struct host_info` (280 bytes on x86-64).
#[repr(C)]
pub struct HostInfo {
    pub name: [c_char; STRING_LENGTH],
    pub addr: [c_char; STRING_LENGTH],
    pub sin: *mut libc::sockaddr,
    pub unit: *mut c_void,
    pub request: *mut RequestInfo,
}

/// A host method (`sock_hostname`, `sock_hostaddr` or the program's own).
pub type HostMethod = unsafe extern "C" fn(*mut HostInfo);
/// A datagram sink.
pub type Sink = unsafe extern "C" fn(c_int);

/// `struct request_info` (872 bytes on x86-64).
#[repr(C)]
pub struct RequestInfo {
    pub fd: c_int,
    pub user: [c_char; STRING_LENGTH],
    pub daemon: [c_char; STRING_LENGTH],
    pub pid: [c_char; PID_LENGTH],
    pub client: [HostInfo; 1],
    pub server: [HostInfo; 1],
    pub sink: Option<Sink>,
    pub hostname: Option<HostMethod>,
    pub hostaddr: Option<HostMethod>,
    pub cleanup: Option<unsafe extern "C" fn(*mut RequestInfo)>,
    pub config: *mut c_void,
}

/// `struct tcpd_context`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TcpdContext {
    pub file: *mut c_char,
    pub line: c_int,
}

// The layout of Debian's header (reference §10.3), checked at compile time.
const _: () = {
    assert!(size_of::<HostInfo>() == 280);
    assert!(offset_of!(HostInfo, addr) == 128);
    assert!(offset_of!(HostInfo, sin) == 256);
    assert!(offset_of!(HostInfo, unit) == 264);
    assert!(offset_of!(HostInfo, request) == 272);
    assert!(size_of::<RequestInfo>() == 872);
    assert!(offset_of!(RequestInfo, user) == 4);
    assert!(offset_of!(RequestInfo, daemon) == 132);
    assert!(offset_of!(RequestInfo, pid) == 260);
    assert!(offset_of!(RequestInfo, client) == 272);
    assert!(offset_of!(RequestInfo, server) == 552);
    assert!(offset_of!(RequestInfo, sink) == 832);
    assert!(offset_of!(RequestInfo, hostname) == 840);
    assert!(offset_of!(RequestInfo, hostaddr) == 848);
    assert!(offset_of!(RequestInfo, cleanup) == 856);
    assert!(offset_of!(RequestInfo, config) == 864);
    assert!(size_of::<TcpdContext>() == 16);
};

// Defined in c/shim.c.
unsafe extern "C" {
    pub static mut allow_severity: c_int;
    pub static mut deny_severity: c_int;
    pub static mut hosts_allow_table: *mut c_char;
    pub static mut hosts_deny_table: *mut c_char;
    pub static mut hosts_access_verbose: c_int;
    pub static mut rfc931_timeout: c_int;
    pub static mut resident: c_int;
    pub static mut dry_run: c_int;
    pub static mut tcpd_context: TcpdContext;
    pub static mut unknown: [c_char; 8];

    pub fn tcpwrap_call_method(method: HostMethod, h: *mut HostInfo) -> c_int;
    pub fn tcpwrap_call_shell_cmd(command: *mut c_char) -> c_int;
    pub fn tcpwrap_call_rfc931(
        client: *mut libc::sockaddr,
        server: *mut libc::sockaddr,
        dest: *mut c_char,
    ) -> c_int;
    pub fn tcpwrap_call_clean_exit(r: *mut RequestInfo) -> c_int;
    pub fn tcpwrap_call_sink(sink: Sink, fd: c_int) -> c_int;
    pub fn tcpwrap_bound_shell_cmd() -> *mut c_void;
    pub fn tcpwrap_bound_rfc931() -> *mut c_void;
    pub fn tcpwrap_bound_clean_exit() -> *mut c_void;
    pub fn tcpwrap_install_sock_methods(r: *mut RequestInfo);
}

/// The exported integer variables, read and written as the C code would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntVar {
    AllowSeverity,
    DenySeverity,
    Verbose,
    Rfc931Timeout,
    Resident,
    DryRun,
}

fn int_var(v: IntVar) -> *mut c_int {
    match v {
        IntVar::AllowSeverity => &raw mut allow_severity,
        IntVar::DenySeverity => &raw mut deny_severity,
        IntVar::Verbose => &raw mut hosts_access_verbose,
        IntVar::Rfc931Timeout => &raw mut rfc931_timeout,
        IntVar::Resident => &raw mut resident,
        IntVar::DryRun => &raw mut dry_run,
    }
}

/// Read an exported integer. Callers hold the library lock; the program may
/// still change the variable from another thread, hence volatile.
pub fn get(v: IntVar) -> i32 {
    // SAFETY: the pointer is a valid, aligned static defined in the shim.
    unsafe { int_var(v).read_volatile() }
}

/// Write an exported integer.
pub fn set(v: IntVar, value: i32) {
    // SAFETY: as in `get`.
    unsafe { int_var(v).write_volatile(value) }
}

/// The table paths (`hosts_allow_table`, `hosts_deny_table`) as they are
/// now. A NULL pointer reads as an empty path.
pub fn table_paths() -> (Vec<u8>, Vec<u8>) {
    // SAFETY: valid statics; the program promises they point to C strings.
    unsafe {
        let a = (&raw const hosts_allow_table).read_volatile();
        let d = (&raw const hosts_deny_table).read_volatile();
        (cstr(a).unwrap_or_default(), cstr(d).unwrap_or_default())
    }
}

/// The current `tcpd_context`.
pub fn context() -> TcpdContext {
    // SAFETY: valid static.
    unsafe { (&raw const tcpd_context).read_volatile() }
}

/// Replace `tcpd_context`.
pub fn set_context(c: TcpdContext) {
    // SAFETY: valid static.
    unsafe { (&raw mut tcpd_context).write_volatile(c) }
}

/// Bytes of a NUL-terminated C string (`None` for NULL).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub unsafe fn cstr(p: *const c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// A text field of capacity `cap`: up to the first NUL, and at most
/// `cap - 1` bytes even if the program left no NUL.
///
/// # Safety
/// `p` points to `cap` readable bytes.
pub unsafe fn read_field(p: *const c_char, cap: usize) -> Vec<u8> {
    // SAFETY: the caller guarantees `cap` readable bytes.
    let s = unsafe { std::slice::from_raw_parts(p as *const u8, cap) };
    let n = s.iter().position(|&b| b == 0).unwrap_or(cap - 1);
    s[..n.min(cap - 1)].to_vec()
}

/// Store `v` in a text field of capacity `cap`, truncated to `cap - 1`
/// bytes and NUL-terminated (the original's `STRN_CPY`, which also stops
/// at an embedded NUL).
///
/// # Safety
/// `p` points to `cap` writable bytes.
pub unsafe fn write_field(p: *mut c_char, cap: usize, v: &[u8]) {
    let v = &v[..v.iter().position(|&b| b == 0).unwrap_or(v.len())];
    let n = v.len().min(cap - 1);
    // SAFETY: n + 1 <= cap bytes are written; the source is a Rust slice
    // that cannot overlap the caller's field in a way that matters for a
    // byte copy (ptr::copy allows overlap).
    unsafe {
        std::ptr::copy(v.as_ptr(), p as *mut u8, n);
        *p.add(n) = 0;
    }
}

/// The host_info of one side.
///
/// # Safety
/// `r` points to a request.
pub unsafe fn host(r: *mut RequestInfo, client: bool) -> *mut HostInfo {
    // SAFETY: field projections of a valid request pointer.
    unsafe {
        if client {
            &raw mut (*r).client[0]
        } else {
            &raw mut (*r).server[0]
        }
    }
}

/// The library's `unknown` string (a safe pointer to return after a
/// failure).
pub fn unknown_ptr() -> *mut c_char {
    (&raw mut unknown) as *mut c_char
}

/// The library's own definitions of the functions whose dynamic symbols a
/// program may take over.
#[derive(Debug, Clone, Copy)]
pub struct Own {
    pub shell_cmd: usize,
    pub rfc931: usize,
    pub clean_exit: usize,
    pub sock_hostname: usize,
    pub sock_hostaddr: usize,
}

fn anchor() {}

/// Where this library defines its exported functions. Taking a function's
/// address in Rust goes through the dynamic symbol (the program's
/// definition, if it has one), so the definitions are looked up in this
/// library's own handle instead.
pub fn own() -> &'static Own {
    static OWN: std::sync::OnceLock<Own> = std::sync::OnceLock::new();
    OWN.get_or_init(|| {
        // SAFETY: dladdr fills `info` for an address inside this object;
        // dlopen with RTLD_NOLOAD only returns a handle to an object that
        // is already loaded; dlsym looks names up in that object first.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let mut handle = std::ptr::null_mut();
            if libc::dladdr(anchor as *const () as *const c_void, &mut info) != 0
                && !info.dli_fname.is_null()
            {
                handle = libc::dlopen(info.dli_fname, libc::RTLD_LAZY | libc::RTLD_NOLOAD);
            }
            if handle.is_null() {
                // Linked into a program (the unit tests): the program's
                // definitions are this code.
                handle = libc::dlopen(std::ptr::null(), libc::RTLD_LAZY);
            }
            let sym = |n: &std::ffi::CStr| libc::dlsym(handle, n.as_ptr()) as usize;
            let own = Own {
                shell_cmd: sym(c"shell_cmd"),
                rfc931: sym(c"rfc931"),
                clean_exit: sym(c"clean_exit"),
                sock_hostname: sym(c"sock_hostname"),
                sock_hostaddr: sym(c"sock_hostaddr"),
            };
            if !handle.is_null() {
                libc::dlclose(handle);
            }
            own
        }
    })
}
