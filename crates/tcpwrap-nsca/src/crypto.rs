//! The encryption methods of NSCA 2.x (§2 of the reference).
//!
//! Method numbers are those of `encryption_method` / `decryption_method`.
//! "None" and "Simple XOR" have no state between packets; every libmcrypt
//! method is 8-bit CFB over the whole packet with a key of the algorithm's
//! maximum size (the password NUL-padded or truncated), the first
//! block-size bytes of the server's IV, and one stream per connection.

use std::fmt;

/// An NSCA encryption method, numbered as in the config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    None,
    Xor,
    Des,
    TripleDes,
    Cast128,
    Cast256,
    Xtea,
    ThreeWay,
    Blowfish,
    Twofish,
    Loki97,
    Rc2,
    Arcfour,
    Rijndael128,
    Rijndael192,
    Rijndael256,
    Wake,
    Serpent,
    Enigma,
    Gost,
    Safer64,
    Safer128,
    SaferPlus,
}

const METHODS: &[(u8, Method, &str)] = &[
    (0, Method::None, "None"),
    (1, Method::Xor, "Simple XOR"),
    (2, Method::Des, "DES"),
    (3, Method::TripleDes, "3DES"),
    (4, Method::Cast128, "CAST-128"),
    (5, Method::Cast256, "CAST-256"),
    (6, Method::Xtea, "xTEA"),
    (7, Method::ThreeWay, "3WAY"),
    (8, Method::Blowfish, "BLOWFISH"),
    (9, Method::Twofish, "TWOFISH"),
    (10, Method::Loki97, "LOKI97"),
    (11, Method::Rc2, "RC2"),
    (12, Method::Arcfour, "ARCFOUR"),
    (14, Method::Rijndael128, "RIJNDAEL-128"),
    (15, Method::Rijndael192, "RIJNDAEL-192"),
    (16, Method::Rijndael256, "RIJNDAEL-256"),
    (19, Method::Wake, "WAKE"),
    (20, Method::Serpent, "SERPENT"),
    (22, Method::Enigma, "ENIGMA"),
    (23, Method::Gost, "GOST"),
    (24, Method::Safer64, "SAFER64"),
    (25, Method::Safer128, "SAFER128"),
    (26, Method::SaferPlus, "SAFER+"),
];

impl Method {
    /// The method with config number `n`; `None` for the numbers that are a
    /// config error in `send_nsca` (13, 17, 18, 21, negative or above 26).
    pub fn from_number(n: i64) -> Option<Method> {
        METHODS
            .iter()
            .find(|&&(k, _, _)| i64::from(k) == n)
            .map(|&(_, m, _)| m)
    }

    pub fn number(self) -> u8 {
        METHODS
            .iter()
            .find(|&&(_, m, _)| m == self)
            .map(|&(k, _, _)| k)
            .unwrap_or(0)
    }

    pub fn name(self) -> &'static str {
        METHODS
            .iter()
            .find(|&&(_, m, _)| m == self)
            .map(|&(_, _, n)| n)
            .unwrap_or("?")
    }

    /// Every method with a config number, in number order.
    pub fn all() -> impl Iterator<Item = Method> {
        METHODS.iter().map(|&(_, m, _)| m)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number(), self.name())
    }
}

/// A method that this build cannot carry out (Debian's cannot either for
/// 7, 12, 19, 22, 24 and 25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported(pub Method);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "encryption method {} is not supported", self.0)
    }
}

impl std::error::Error for Unsupported {}

enum State {
    None,
    Xor {
        iv: Box<[u8; 128]>,
        password: Vec<u8>,
    },
}

/// One connection's cipher state. Create it once per connection, from the
/// server's init packet, and pass every packet through it in order.
pub struct Encryptor {
    method: Method,
    state: State,
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    pub fn new(method: Method, password: &[u8], iv: &[u8; 128]) -> Result<Encryptor, Unsupported> {
        let state = match method {
            Method::None => State::None,
            Method::Xor => State::Xor {
                iv: Box::new(*iv),
                password: password.to_vec(),
            },
            m => return Err(Unsupported(m)),
        };
        Ok(Encryptor { method, state })
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// Encrypt one whole packet in place (continuing the connection's
    /// stream for the CFB methods).
    pub fn encrypt(&mut self, packet: &mut [u8]) {
        match &mut self.state {
            State::None => {}
            State::Xor { iv, password } => xor(packet, iv, password),
        }
    }

    /// Decrypt one whole packet in place (what the server does).
    pub fn decrypt(&mut self, packet: &mut [u8]) {
        match &mut self.state {
            State::None => {}
            State::Xor { iv, password } => xor(packet, iv, password),
        }
    }
}

/// §2.3: XOR with the IV cyclically, then with the password cyclically if
/// it is not empty. Restarts at index 0 for every packet.
fn xor(buf: &mut [u8], iv: &[u8; 128], password: &[u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= iv[i % 128];
    }
    if !password.is_empty() {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= password[i % password.len()];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Fill, build};

    fn iv() -> [u8; 128] {
        std::array::from_fn(|i| i as u8)
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn numbers() {
        for n in [13, 17, 18, 21, 27, -1] {
            assert_eq!(Method::from_number(n), None, "{n}");
        }
        for m in Method::all() {
            assert_eq!(Method::from_number(i64::from(m.number())), Some(m));
        }
        assert_eq!(Method::from_number(14), Some(Method::Rijndael128));
    }

    /// Reference §2.5.2, method 1 with password `secret`, two packets on
    /// one connection: XOR restarts for each packet.
    #[test]
    fn xor_vectors() {
        let p1 = crate::CheckResult {
            host: b"web01".to_vec(),
            service: Some(b"sshd".to_vec()),
            code: 2,
            output: b"REFUSED sshd from 10.1.2.3".to_vec(),
        };
        let p2 = crate::CheckResult {
            host: b"web01".to_vec(),
            service: None,
            code: 1,
            output: b"second".to_vec(),
        };
        let mut e = Encryptor::new(Method::Xor, b"secret", &iv()).unwrap();
        let mut a = build(&p1, 1_700_000_000, false, Fill::Const(0x30));
        let mut b = build(&p2, 1_700_000_000, false, Fill::Const(0x30));
        e.encrypt(&mut a);
        e.encrypt(&mut b);
        assert_eq!(
            hex(&a[..32]),
            "73675141128742580e289e7f7f6a1a1817555076475743535b4c495949595d4a"
        );
        assert_eq!(hex(&a[128..144]), "53435747475055455d4d495e5f4f5b4b");
        assert_eq!(hex(&a[4288..]), "15050116170713030b1c190919090d1a");
        assert_eq!(hex(&b[..16]), "7367514168e114320e289e7f7f691a18");
        let mut l = build(&p1, 1_700_000_000, true, Fill::Const(0x30));
        e.encrypt(&mut l);
        assert_eq!(hex(&l[..16]), "7367514136464bbd0e289e7f7f6a1a18");
        assert_eq!(hex(&l[704..]), "13031707071015051d0d091e1f0f1b0b");
    }
}
