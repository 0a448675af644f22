//! The C ABI of libwrap.so.0 (crates/libwrap), linked statically with its
//! C shim and driven through the exported functions as a C program drives
//! them: `request_init`/`request_set` key lists with any keys and values
//! (NULL strings, long and non-UTF-8 strings, socket addresses of any
//! family and content, unknown and negative keys), then `hosts_access`,
//! `hosts_ctl`, the `eval_*` functions, `percent_x`, `xgets`, `split_at`,
//! `dot_quad_addr`, `cidr_mask_addr`, `percent_m` and `process_options`
//! (its non-jumping half, with options that do not run commands, change
//! the process's identity or read files), with buffers of exactly the size passed so that
//! AddressSanitizer sees any write past them.
//!
//! Input: a script, one operation per line, words separated by one space,
//! words taking the escapes of src/case.rs (`NULL` is a NULL pointer):
//!
//! ```text
//! init K V K V ...     request_init with the pairs (three per call; more
//! set K V K V ...      pairs make more request_set calls). K is any int;
//!                      V is an int for K = 1 (RQ_FILE, -1 or a socket),
//!                      a sockaddr for K = 6, 9 ("IP|PORT", or raw bytes),
//!                      a string otherwise
//! sin K IP PORT        request_set(K, a sockaddr); K is 9 or else 6
//! null K               request_set(K, NULL)
//! access T             hosts_access with table set T
//! ctl D N A U T        hosts_ctl
//! user | client | server
//! hostname S | hostaddr S | hostinfo S | port S    (S: 1 client, 0 server)
//! sockhost             sock_host (the request's descriptor)
//! percent LEN PATTERN  percent_x into a LEN-byte buffer
//! xgets LEN DATA       xgets into a LEN-byte buffer, over DATA
//! split STRING D | quad STRING | cidr STRING | percentm FORMAT
//! options OPTIONS      the option string, on the request
//! ```
//!
//! Oracle: no crash, no AddressSanitizer report, no panic caught at the C
//! boundary (logged as "libwrap internal error", which c/capi.c turns into
//! an abort); the request stays a valid C structure (NUL-terminated
//! fields, intact back pointers); every returned string is NUL-terminated
//! inside its buffer; and the pure helpers (`dot_quad_addr`,
//! `cidr_mask_addr`, `split_at`, `percent_m`) give what Debian's
//! libwrap.so.0 gives (loaded with dlopen, never linked).
//!
//! The target may resolve the addresses it is given and query their ident
//! servers, so it runs only in a network namespace without routes (see
//! src/net.rs; scripts/fuzz.sh runs it with `unshare --net`).

#![no_main]

use std::ffi::{CStr, CString, c_char, c_int, c_ulong, c_void};
use std::net::SocketAddr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tcpwrap_fuzz::case::unescape;
// The library under test: its exported functions and the C shim.
use wrap_static as _;

type Req = c_void;
type Host = c_void;

unsafe extern "C" {
    // c/capi.c
    fn fz_request_size() -> usize;
    fn fz_host(r: *mut Req, client: c_int) -> *mut Host;
    fn fz_host_sin(h: *mut Host) -> *mut libc::sockaddr;
    fn fz_request_ok(r: *mut Req) -> c_int;
    fn fz_request_list(r: *mut Req, init: c_int, n: c_int, k: *const c_int, v: *const isize);
    // libwrap.so.0's C ABI (crates/libwrap)
    fn hosts_access(r: *mut Req) -> c_int;
    fn hosts_ctl(d: *mut c_char, n: *mut c_char, a: *mut c_char, u: *mut c_char) -> c_int;
    fn eval_user(r: *mut Req) -> *mut c_char;
    fn eval_client(r: *mut Req) -> *mut c_char;
    fn eval_server(r: *mut Req) -> *mut c_char;
    fn eval_hostname(h: *mut Host) -> *mut c_char;
    fn eval_hostaddr(h: *mut Host) -> *mut c_char;
    fn eval_hostinfo(h: *mut Host) -> *mut c_char;
    fn eval_port(sa: *mut libc::sockaddr) -> *mut c_char;
    fn sock_host(r: *mut Req);
    fn percent_x(out: *mut c_char, len: c_int, s: *mut c_char, r: *mut Req) -> *mut c_char;
    fn xgets(buf: *mut c_char, len: c_int, fp: *mut libc::FILE) -> *mut c_char;
    fn split_at(s: *mut c_char, delimiter: c_int) -> *mut c_char;
    fn dot_quad_addr(s: *mut c_char) -> c_ulong;
    fn cidr_mask_addr(s: *mut c_char) -> c_ulong;
    fn percent_m(obuf: *mut c_char, ibuf: *mut c_char) -> *mut c_char;
    fn tcpwrap_process_options(options: *mut c_char, r: *mut Req) -> c_int;
    static mut hosts_allow_table: *mut c_char;
    static mut hosts_deny_table: *mut c_char;
    static mut hosts_access_verbose: c_int;
}

/// Debian's pure helpers, from its libwrap.so.0.
struct Debian {
    dot_quad_addr: unsafe extern "C" fn(*mut c_char) -> c_ulong,
    cidr_mask_addr: unsafe extern "C" fn(*mut c_char) -> c_ulong,
    split_at: unsafe extern "C" fn(*mut c_char, c_int) -> *mut c_char,
    percent_m: unsafe extern "C" fn(*mut c_char, *mut c_char) -> *mut c_char,
}

/// What the process needs once: the table sets, a socket pair, Debian's
/// helpers.
struct Setup {
    tables: Vec<(CString, CString)>,
    socket: c_int,
    debian: Debian,
}

const TABLES: &[(&str, &str)] = &[
    ("sshd: ALL\n", "ALL: ALL\n"),
    (
        "ALL: KNOWN@KNOWN, bob@10.0.0.0/8 : severity mail.info\nALL: [::1] [fe80::/10]: deny\n",
        "ALL EXCEPT sshd@LOCAL: .example.com, 10.0.0.0/255.0.0.0, @ng, PARANOID: deny\n",
    ),
    (
        "ALL: ALL: rfc931 1: keepalive: linger 1: umask 022: setenv FUZZ_CAPI %a\\:%u\\:%h\n",
        "",
    ),
    ("22, ftpd@10.1.1.200: UNKNOWN\n", "ALL: ALL: frob\n"),
    (
        "ALL: {dir}/list: allow\n",
        "ALL: *.example.com 10.0.0.? : severity local0.debug\n",
    ),
];

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        tcpwrap_fuzz::net::require_isolated_network("capi");
        let dir = std::env::temp_dir().join(format!("tcpwrap-fuzz-capi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let d = dir.to_str().expect("UTF-8 temporary directory");
        std::fs::write(
            dir.join("list"),
            "10.0.0.1 .example.com\n[::1] 10.0.0.0/8\n",
        )
        .expect("write");
        let mut tables = Vec::new();
        for (i, (a, b)) in TABLES.iter().enumerate() {
            let ap = dir.join(format!("allow{i}"));
            let bp = dir.join(format!("deny{i}"));
            std::fs::write(&ap, a.replace("{dir}", d)).expect("write");
            std::fs::write(&bp, b).expect("write");
            tables.push((
                CString::new(ap.to_str().expect("UTF-8")).expect("no NUL"),
                CString::new(bp.to_str().expect("UTF-8")).expect("no NUL"),
            ));
        }
        // A missing pair.
        tables.push((
            CString::new(format!("{d}/missing-allow")).expect("no NUL"),
            CString::new(format!("{d}/missing-deny")).expect("no NUL"),
        ));
        let mut sv = [0 as c_int; 2];
        // SAFETY: sv has room for the two descriptors.
        let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
        assert_eq!(rc, 0, "socketpair");
        // SAFETY: dlopen and dlsym with C strings; the symbols are
        // functions of the given types in Debian's libwrap.so.0.
        let debian = unsafe {
            let h = libc::dlopen(c"libwrap.so.0".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            assert!(
                !h.is_null(),
                "Debian's libwrap.so.0 (package libwrap0) is needed"
            );
            let sym = |n: &CStr| {
                let p = libc::dlsym(h, n.as_ptr());
                assert!(!p.is_null(), "{n:?} in Debian's libwrap.so.0");
                p
            };
            Debian {
                dot_quad_addr: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*mut c_char) -> c_ulong,
                >(sym(c"dot_quad_addr")),
                cidr_mask_addr: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*mut c_char) -> c_ulong,
                >(sym(c"cidr_mask_addr")),
                split_at: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*mut c_char, c_int) -> *mut c_char,
                >(sym(c"split_at")),
                percent_m: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*mut c_char, *mut c_char) -> *mut c_char,
                >(sym(c"percent_m")),
            }
        };
        // The library installs a panic hook that logs the panic (its entry
        // points then answer safely). Here every panic is a finding: the
        // hook is wrapped to abort after logging.
        // SAFETY: a C string.
        let _ = unsafe { dot_quad_addr(c"1.2.3.4".as_ptr() as *mut c_char) };
        let logged = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            logged(info);
            eprintln!("capi: panic inside the library: {info}");
            std::process::abort();
        }));
        Setup {
            tables,
            socket: sv[0],
            debian,
        }
    })
}

/// A C string of a word (`NULL`: none), cut at a NUL byte.
fn cstring(w: &[u8]) -> Option<CString> {
    if w == b"NULL" {
        return None;
    }
    let v = unescape(w);
    let v = &v[..memchr::memchr(0, &v).unwrap_or(v.len())];
    Some(CString::new(v).expect("cut at the first NUL"))
}

fn ptr(c: &Option<CString>) -> *mut c_char {
    c.as_ref()
        .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char)
}

/// A C string returned by the library: readable and terminated (AddressSanitizer
/// checks the read).
fn returned(p: *const c_char) -> Vec<u8> {
    assert!(!p.is_null(), "the library returned NULL");
    // SAFETY: the library returns C strings.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// A sockaddr buffer: a numeric address, or raw bytes (any family).
fn sockaddr(w: &[u8], port: u16) -> Box<libc::sockaddr_storage> {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: Box<libc::sockaddr_storage> = Box::new(unsafe { std::mem::zeroed() });
    let text = String::from_utf8_lossy(w);
    let parsed = match text.rsplit_once('|') {
        Some((ip, p)) => ip
            .parse()
            .ok()
            .map(|ip| SocketAddr::new(ip, p.parse().unwrap_or(port))),
        None => text.parse().ok().map(|ip| SocketAddr::new(ip, port)),
    };
    let raw = ss.as_mut() as *mut libc::sockaddr_storage as *mut u8;
    match parsed {
        Some(SocketAddr::V4(a)) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: a sockaddr_in fits a sockaddr_storage.
            unsafe { std::ptr::write(raw as *mut libc::sockaddr_in, sin) };
        }
        Some(SocketAddr::V6(a)) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: a sockaddr_in6 fits a sockaddr_storage.
            unsafe { std::ptr::write(raw as *mut libc::sockaddr_in6, sin6) };
        }
        None => {
            let bytes = unescape(w);
            let n = bytes
                .len()
                .min(std::mem::size_of::<libc::sockaddr_storage>());
            // SAFETY: n bytes fit the storage.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw, n) };
        }
    }
    ss
}

/// A buffer of exactly `len` bytes (at least one), so that
/// AddressSanitizer reports any write past `len`.
fn buffer(len: usize) -> Box<[c_char]> {
    vec![0x55 as c_char; len.max(1)].into_boxed_slice()
}

fn terminated(b: &[c_char]) -> Vec<u8> {
    let n = b
        .iter()
        .position(|&c| c == 0)
        .expect("result not NUL-terminated inside its buffer");
    b[..n].iter().map(|&c| c as u8).collect()
}

struct Run<'s> {
    s: &'s Setup,
    r: Box<[u64]>,
    /// Socket addresses the request points at (RQ_*_SIN keeps the pointer,
    /// so each is boxed: it must not move when the vector grows).
    #[allow(clippy::vec_box)]
    sins: Vec<Box<libc::sockaddr_storage>>,
}

impl Run<'_> {
    fn req(&mut self) -> *mut Req {
        self.r.as_mut_ptr() as *mut Req
    }

    fn check(&mut self) {
        // SAFETY: a request set up by request_init (or all zero, which the
        // check reads as valid memory).
        assert_eq!(
            unsafe { fz_request_ok(self.req()) },
            1,
            "the request is no longer a valid C structure"
        );
    }

    fn tables(&self, t: &[u8]) {
        let i = String::from_utf8_lossy(t).parse::<usize>().unwrap_or(0) % self.s.tables.len();
        let (a, d) = &self.s.tables[i];
        // SAFETY: the library's table variables; the strings live as long
        // as the process.
        unsafe {
            hosts_allow_table = a.as_ptr() as *mut c_char;
            hosts_deny_table = d.as_ptr() as *mut c_char;
        }
    }

    fn list(&mut self, init: bool, words: &[&[u8]]) {
        let mut keys = Vec::new();
        let mut vals = Vec::new();
        let mut keep: Vec<Option<CString>> = Vec::new();
        for pair in words.chunks(2) {
            let k: c_int = String::from_utf8_lossy(pair[0]).parse().unwrap_or(0);
            let w = pair.get(1).copied().unwrap_or(b"NULL");
            let v: isize = match k {
                1 => match w {
                    b"sock" => self.s.socket as isize,
                    _ => {
                        // Only -1 or the test's own socket: a descriptor of
                        // the fuzzer itself must not be written to.
                        -1
                    }
                },
                6 | 9 => {
                    let sa = sockaddr(w, 0);
                    let p = sa.as_ref() as *const libc::sockaddr_storage as isize;
                    self.sins.push(sa);
                    p
                }
                _ => {
                    let c = cstring(w);
                    let p = ptr(&c) as isize;
                    keep.push(c);
                    p
                }
            };
            keys.push(k);
            vals.push(v);
        }
        let mut first = init;
        let chunks: Vec<_> = keys.chunks(3).zip(vals.chunks(3)).collect();
        if chunks.is_empty() && init {
            // SAFETY: the request buffer is as large as struct request_info.
            unsafe { fz_request_list(self.req(), 1, 0, std::ptr::null(), std::ptr::null()) };
        }
        for (k, v) in chunks {
            // SAFETY: as above; k and v hold k.len() pairs whose values
            // have the types the keys read (c/capi.c passes them typed).
            unsafe {
                fz_request_list(
                    self.req(),
                    first as c_int,
                    k.len() as c_int,
                    k.as_ptr(),
                    v.as_ptr(),
                )
            };
            first = false;
        }
        drop(keep);
    }

    fn side(&mut self, w: Option<&&[u8]>) -> *mut Host {
        let client = w.is_none_or(|w| *w != b"0");
        // SAFETY: the request is valid.
        unsafe { fz_host(self.req(), client as c_int) }
    }

    fn op(&mut self, line: &[u8]) {
        let words: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let (op, args) = (words[0], &words[1..]);
        let arg = |i: usize| args.get(i).copied().unwrap_or(b"");
        // The rest of the line after the first `skip` words.
        let rest = |skip: usize| -> Vec<u8> {
            let mut n = op.len() + 1;
            for w in args.iter().take(skip) {
                n += w.len() + 1;
            }
            unescape(line.get(n..).unwrap_or(b""))
        };
        let num = |w: &[u8]| String::from_utf8_lossy(w).parse::<i64>().unwrap_or(0);
        // SAFETY (for every call below): the request buffer was set up by
        // request_init or is all zero as the library's own callers may pass
        // it; strings are C strings that outlive the call; buffers have the
        // length passed.
        unsafe {
            match op {
                b"init" => self.list(true, args),
                b"set" => self.list(false, args),
                b"sin" => {
                    // Only the socket-address keys take a sockaddr.
                    let k: c_int = if num(arg(0)) == 9 { 9 } else { 6 };
                    let sa = sockaddr(arg(1), num(arg(2)) as u16);
                    let p = sa.as_ref() as *const libc::sockaddr_storage as isize;
                    self.sins.push(sa);
                    fz_request_list(self.req(), 0, 1, &k, &p);
                }
                b"null" => {
                    let k: c_int = num(arg(0)) as c_int;
                    if k != 1 {
                        fz_request_list(self.req(), 0, 1, &k, &0);
                    }
                }
                b"access" => {
                    self.tables(arg(0));
                    hosts_access_verbose = (num(arg(1)) & 3) as c_int;
                    let v = hosts_access(self.req());
                    assert!(v == 0 || v == 1);
                }
                b"ctl" => {
                    let s: Vec<Option<CString>> = (0..4).map(|i| cstring(arg(i))).collect();
                    self.tables(arg(4));
                    let v = hosts_ctl(ptr(&s[0]), ptr(&s[1]), ptr(&s[2]), ptr(&s[3]));
                    assert!(v == 0 || v == 1);
                }
                b"user" => drop(returned(eval_user(self.req()))),
                b"client" => drop(returned(eval_client(self.req()))),
                b"server" => drop(returned(eval_server(self.req()))),
                b"hostname" => drop(returned(eval_hostname(self.side(args.first())))),
                b"hostaddr" => drop(returned(eval_hostaddr(self.side(args.first())))),
                b"hostinfo" => drop(returned(eval_hostinfo(self.side(args.first())))),
                b"port" => {
                    let sin = fz_host_sin(self.side(args.first()));
                    drop(returned(eval_port(sin)));
                }
                b"sockhost" => sock_host(self.req()),
                b"percent" => {
                    let len = (num(arg(0)).clamp(0, 9000)) as usize;
                    let pat = CString::new(cut(rest(1))).expect("cut");
                    let mut out = buffer(len);
                    let p = percent_x(
                        out.as_mut_ptr(),
                        len as c_int,
                        pat.as_ptr() as *mut c_char,
                        self.req(),
                    );
                    if len >= 1 {
                        assert_eq!(p, out.as_mut_ptr());
                        let v = terminated(&out);
                        assert!(
                            v.len() + 2 <= len || v.is_empty(),
                            "percent_x: {} bytes in {len}",
                            v.len()
                        );
                    }
                }
                b"xgets" => {
                    let len = (num(arg(0)).clamp(0, 5000)) as usize;
                    let data = rest(1);
                    let fp =
                        libc::fmemopen(data.as_ptr() as *mut c_void, data.len(), c"r".as_ptr());
                    if !fp.is_null() {
                        let mut buf = buffer(len);
                        for _ in 0..64 {
                            let p = xgets(buf.as_mut_ptr(), len as c_int, fp);
                            if p.is_null() {
                                break;
                            }
                            let v = terminated(&buf);
                            assert!(v.len() < len);
                        }
                        libc::fclose(fp);
                    }
                }
                b"split" => {
                    let s = cut(unescape(arg(0)));
                    let d = num(arg(1)) as c_int;
                    let (mut a, mut b) = (nul(&s), nul(&s));
                    let pa = split_at(a.as_mut_ptr(), d);
                    let pb = (self.s.debian.split_at)(b.as_mut_ptr(), d);
                    assert_eq!(a, b, "split_at cuts differently");
                    let off = |p: *mut c_char, base: *const c_char| {
                        (!p.is_null()).then(|| p as usize - base as usize)
                    };
                    assert_eq!(
                        off(pa, a.as_ptr()),
                        off(pb, b.as_ptr()),
                        "split_at of {s:?}"
                    );
                }
                b"quad" => {
                    let s = cut(rest(0));
                    let (mut a, mut b) = (nul(&s), nul(&s));
                    assert_eq!(
                        dot_quad_addr(a.as_mut_ptr()),
                        (self.s.debian.dot_quad_addr)(b.as_mut_ptr()),
                        "dot_quad_addr of {:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
                b"cidr" => {
                    let s = cut(rest(0));
                    let (mut a, mut b) = (nul(&s), nul(&s));
                    assert_eq!(
                        cidr_mask_addr(a.as_mut_ptr()),
                        (self.s.debian.cidr_mask_addr)(b.as_mut_ptr()),
                        "cidr_mask_addr of {:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
                b"percentm" => {
                    let s = cut(rest(0));
                    // Room for every %m replaced by the longest strerror text.
                    let room = s.len() * 64 + 1;
                    let (mut a, mut b) = (buffer(room), buffer(room));
                    let (mut ia, mut ib) = (nul(&s), nul(&s));
                    *libc::__errno_location() = libc::ENOENT;
                    percent_m(a.as_mut_ptr(), ia.as_mut_ptr());
                    *libc::__errno_location() = libc::ENOENT;
                    (self.s.debian.percent_m)(b.as_mut_ptr(), ib.as_mut_ptr());
                    assert_eq!(
                        terminated(&a),
                        terminated(&b),
                        "percent_m of {:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
                b"options" => {
                    let o = cut(rest(0));
                    if !harmless_options(&o) {
                        return;
                    }
                    let mut c = nul(&o);
                    let v = tcpwrap_process_options(c.as_mut_ptr(), self.req());
                    assert!((-1..=1).contains(&v));
                    assert_eq!(terminated(&c), o, "process_options changed its argument");
                }
                _ => {}
            }
        }
        self.check();
    }
}

/// Options that neither run commands, nor change the identity or priority
/// of this process, nor read files (the library carries options out for
/// real): `allow`, `deny`, `severity`, `rfc931`, `keepalive`, `linger`,
/// `umask`, `setenv`, and unknown names (errors).
fn harmless_options(o: &[u8]) -> bool {
    use tcpwrap_core::options::{self, OptKind};
    options::split_fields(o).iter().all(|f| {
        let kv = options::key_value(&f.text);
        !matches!(
            OptKind::lookup(kv.key),
            Some(
                OptKind::Spawn
                    | OptKind::Twist
                    | OptKind::Aclexec
                    | OptKind::User
                    | OptKind::Group
                    | OptKind::Nice
                    | OptKind::Banners
            )
        )
    })
}

fn cut(mut v: Vec<u8>) -> Vec<u8> {
    v.truncate(memchr::memchr(0, &v).unwrap_or(v.len()));
    v
}

/// A writable NUL-terminated copy.
fn nul(s: &[u8]) -> Vec<c_char> {
    let mut v: Vec<c_char> = s.iter().map(|&b| b as c_char).collect();
    v.push(0);
    v
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    // SAFETY: the size of struct request_info.
    let words = unsafe { fz_request_size() }.div_ceil(8);
    let mut run = Run {
        s,
        r: vec![0u64; words].into_boxed_slice(),
        sins: Vec::new(),
    };
    // A request is set up with request_init before anything else uses it
    // (the C contract); scripts may set it up again.
    run.list(true, &[]);
    run.check();
    for line in data.split(|&b| b == b'\n').take(64) {
        if !line.is_empty() {
            run.op(line);
        }
    }
});
