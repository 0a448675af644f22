//! The encryption methods of NSCA 2.x (§2 of the reference).
//!
//! Method numbers are those of `encryption_method` / `decryption_method`.
//! "None" and "Simple XOR" have no state between packets; every libmcrypt
//! method is 8-bit CFB over the whole packet with a key of the algorithm's
//! maximum size (the password NUL-padded or truncated), the first
//! block-size bytes of the server's IV, and one stream per connection.
//!
//! Which crate carries out which method (all RustCrypto block ciphers on
//! one `cipher` 0.5; the CFB-8 mode is the small `Cfb8` below, so that
//! one stream runs on across packets for any block size):
//!
//! | # | method | crate, type | key bytes | libmcrypt difference |
//! |---:|---|---|---:|---|
//! | 2 | DES | `des::Des` | 8 | none |
//! | 3 | 3DES | `des::TdesEde3` | 24 | none |
//! | 4 | CAST-128 | `cast5::Cast5` | 16 | none |
//! | 5 | CAST-256 | `cast6::Cast6` | 32 | 32-bit words of key and block little-endian |
//! | 6 | xTEA | `xtea::Xtea` | 16 | 32-bit words of key and block little-endian |
//! | 8 | BLOWFISH | `blowfish::Blowfish` | 56 | none (big-endian Blowfish) |
//! | 9 | TWOFISH | `twofish::Twofish` | 32 | none |
//! | 11 | RC2 | `rc2::Rc2` | 128 | none; effective key length 1024 bits |
//! | 14 | RIJNDAEL-128 | `aes::Aes256` | 32 | none |
//! | 20 | SERPENT | `serpent::Serpent` | 32 | none |
//! | 23 | GOST | `magma::Gost89` with libmcrypt's S-boxes | 32 | key words little-endian, block halves swapped |
//!
//! The "libmcrypt difference" column is what Debian's amd64 libmcrypt
//! 2.5.8 does (it loads some ciphers' words in host order); the
//! reference vectors of §2.5.2 were taken there and pin it down.
//!
//! Not supported, [`Encryptor::new`] returns [`Unsupported`]:
//! - 7 (3WAY), 24 (SAFER64), 25 (SAFER128): not in libmcrypt 2.5.8;
//!   12 (ARCFOUR), 19 (WAKE), 22 (ENIGMA): stream ciphers that libmcrypt
//!   cannot run in "cfb" mode. Debian's nsca and send_nsca fail on them too.
//! - 10 (LOKI97), 15 (RIJNDAEL-192), 16 (RIJNDAEL-256), 26 (SAFER+): they
//!   work in Debian, but no well-kept Rust crate implements LOKI97, SAFER+
//!   or Rijndael with a 192/256-bit block, and this project does not write
//!   block ciphers by hand.

use std::fmt;

use cipher::{Block, BlockCipherEncrypt, InvalidLength, KeyInit};

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

    /// Whether [`Encryptor::new`] can carry out this method (see the table
    /// at the top of this module for what is missing and why).
    pub fn supported(self) -> bool {
        matches!(self, Method::None | Method::Xor) || mcrypt_params(self).is_some()
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
    Cfb8(Box<dyn Stream + Send>),
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
            m => State::Cfb8(cfb8_stream(m, password, iv).ok_or(Unsupported(m))?),
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
            State::Cfb8(s) => s.apply(packet, Direction::Encrypt),
        }
    }

    /// Decrypt one whole packet in place (what the server does).
    pub fn decrypt(&mut self, packet: &mut [u8]) {
        match &mut self.state {
            State::None => {}
            State::Xor { iv, password } => xor(packet, iv, password),
            State::Cfb8(s) => s.apply(packet, Direction::Decrypt),
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// A cipher stream that lives as long as the connection.
trait Stream {
    fn apply(&mut self, buf: &mut [u8], dir: Direction);
}

/// How libmcrypt lays out a block (and the key) relative to the crate:
/// applied before and after the crate's block function, and to the key.
/// Each is its own inverse.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Same bytes.
    Same,
    /// Every 32-bit word byte-reversed (libmcrypt reads them in host
    /// order, little-endian on amd64).
    WordsReversed,
    /// The two 32-bit halves of a 64-bit block exchanged.
    HalvesSwapped,
}

impl Layout {
    fn apply(self, b: &mut [u8]) {
        match self {
            Layout::Same => {}
            Layout::WordsReversed => b.chunks_exact_mut(4).for_each(|w| w.reverse()),
            Layout::HalvesSwapped => {
                let half = b.len() / 2;
                let (x, y) = b.split_at_mut(half);
                x.swap_with_slice(y);
            }
        }
    }
}

/// 8-bit CFB (libmcrypt's "cfb") over any block cipher: for each byte,
/// encrypt the shift register, XOR the first byte of the result into the
/// data, then shift the register left by one byte and append the
/// ciphertext byte. Only the cipher's encrypt direction is ever used.
struct Cfb8<C: BlockCipherEncrypt> {
    cipher: C,
    layout: Layout,
    register: Block<C>,
}

impl<C: BlockCipherEncrypt> Cfb8<C> {
    /// The register starts as the first block-size bytes of the IV.
    fn new(cipher: C, layout: Layout, iv: &[u8; 128]) -> Cfb8<C> {
        let mut register = Block::<C>::default();
        let n = register.len();
        register.copy_from_slice(&iv[..n]);
        Cfb8 {
            cipher,
            layout,
            register,
        }
    }
}

impl<C: BlockCipherEncrypt> Stream for Cfb8<C> {
    fn apply(&mut self, buf: &mut [u8], dir: Direction) {
        let last = self.register.len() - 1;
        for b in buf {
            let mut pad = self.register.clone();
            self.layout.apply(&mut pad);
            self.cipher.encrypt_block(&mut pad);
            self.layout.apply(&mut pad);
            let input = *b;
            *b ^= pad[0];
            let ciphertext = match dir {
                Direction::Encrypt => *b,
                Direction::Decrypt => input,
            };
            self.register.copy_within(1.., 0);
            self.register[last] = ciphertext;
        }
    }
}

/// The S-boxes of libmcrypt's GOST, low nibble first (row `i` substitutes
/// bits `4i..4i+4` of the round function's input). They are the GOST
/// R 34.11-94 test parameters in reverse row order, except that the last
/// entry of the first row is 2 where the published table has 12: that is
/// what libmcrypt ships, so interoperating needs it.
enum LibmcryptGostSbox {}

impl magma::Sbox for LibmcryptGostSbox {
    const NAME: &'static str = "libmcrypt";
    const SBOX: [[u8; 16]; 8] = [
        [1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 2],
        [13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12],
        [4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14],
        [6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2],
        [7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3],
        [5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11],
        [14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9],
        [4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3],
    ];
}

/// RC2 as libmcrypt keys it: effective key length = 8 × the key length.
const RC2_EFFECTIVE_BITS: usize = 1024;

/// How libmcrypt runs a method: its key size in bytes (the algorithm's
/// maximum) and the layouts of key and block relative to the crate.
struct Params {
    key_len: usize,
    key: Layout,
    block: Layout,
}

/// `None` for the methods this build does not carry out.
fn mcrypt_params(m: Method) -> Option<Params> {
    let (key_len, key, block) = match m {
        Method::Des => (8, Layout::Same, Layout::Same),
        Method::TripleDes => (24, Layout::Same, Layout::Same),
        Method::Cast128 => (16, Layout::Same, Layout::Same),
        Method::Cast256 => (32, Layout::WordsReversed, Layout::WordsReversed),
        Method::Xtea => (16, Layout::WordsReversed, Layout::WordsReversed),
        Method::Blowfish => (56, Layout::Same, Layout::Same),
        Method::Twofish => (32, Layout::Same, Layout::Same),
        Method::Rc2 => (128, Layout::Same, Layout::Same),
        Method::Rijndael128 => (32, Layout::Same, Layout::Same),
        Method::Serpent => (32, Layout::Same, Layout::Same),
        Method::Gost => (32, Layout::WordsReversed, Layout::HalvesSwapped),
        _ => return None,
    };
    Some(Params {
        key_len,
        key,
        block,
    })
}

/// The key libmcrypt is given: exactly `len` bytes, the password truncated
/// or NUL-padded (§2.2).
fn mcrypt_key(password: &[u8], len: usize) -> Vec<u8> {
    let mut key = vec![0u8; len];
    let n = password.len().min(len);
    key[..n].copy_from_slice(&password[..n]);
    key
}

fn stream<C: BlockCipherEncrypt + Send + 'static>(
    cipher: Result<C, InvalidLength>,
    layout: Layout,
    iv: &[u8; 128],
) -> Option<Box<dyn Stream + Send>> {
    // Every key length in `mcrypt_params` is valid for its crate; if one
    // were rejected the method fails closed as unsupported.
    Some(Box::new(Cfb8::new(cipher.ok()?, layout, iv)))
}

fn cfb8_stream(m: Method, password: &[u8], iv: &[u8; 128]) -> Option<Box<dyn Stream + Send>> {
    let p = mcrypt_params(m)?;
    let mut key = mcrypt_key(password, p.key_len);
    p.key.apply(&mut key);
    let (k, l) = (key.as_slice(), p.block);
    match m {
        Method::Des => stream(des::Des::new_from_slice(k), l, iv),
        Method::TripleDes => stream(des::TdesEde3::new_from_slice(k), l, iv),
        Method::Cast128 => stream(cast5::Cast5::new_from_slice(k), l, iv),
        Method::Cast256 => stream(cast6::Cast6::new_from_slice(k), l, iv),
        Method::Xtea => stream(xtea::Xtea::new_from_slice(k), l, iv),
        Method::Blowfish => stream(<blowfish::Blowfish>::new_from_slice(k), l, iv),
        Method::Twofish => stream(twofish::Twofish::new_from_slice(k), l, iv),
        Method::Rc2 => stream(
            Ok(rc2::Rc2::new_with_eff_key_len(k, RC2_EFFECTIVE_BITS)),
            l,
            iv,
        ),
        Method::Rijndael128 => stream(aes::Aes256::new_from_slice(k), l, iv),
        Method::Serpent => stream(serpent::Serpent::new_from_slice(k), l, iv),
        Method::Gost => stream(magma::Gost89::<LibmcryptGostSbox>::new_from_slice(k), l, iv),
        _ => None,
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

    fn p1() -> crate::CheckResult {
        crate::CheckResult {
            host: b"web01".to_vec(),
            service: Some(b"sshd".to_vec()),
            code: 2,
            output: b"REFUSED sshd from 10.1.2.3".to_vec(),
        }
    }

    fn p2() -> crate::CheckResult {
        crate::CheckResult {
            host: b"web01".to_vec(),
            service: None,
            code: 1,
            output: b"second".to_vec(),
        }
    }

    /// Encrypt P1 then P2 of §2.5.1 on one stream; return the ciphertexts.
    fn encrypt_pair(m: Method, password: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut e = Encryptor::new(m, password, &iv()).unwrap();
        let mut a = build(&p1(), 1_700_000_000, false, Fill::Const(0x30));
        let mut b = build(&p2(), 1_700_000_000, false, Fill::Const(0x30));
        e.encrypt(&mut a);
        e.encrypt(&mut b);
        (a, b)
    }

    /// Reference §2.5.2: (method, password, P1 prefix, P2 prefix), all
    /// captured from the real send_nsca 2.10.2 (for None: the plaintext of
    /// §2.5.1).
    const VECTORS: &[(Method, &[u8], &str, &str)] = &[
        (
            Method::None,
            b"secret",
            "0003303073f6373a6553f1000002776562303100303030303030303030303030",
            "00033030099061506553f10000017765",
        ),
        (
            Method::Des,
            b"secret",
            "defc46e467a4bf4e26b9d8fa8ca295e7f7d72c70156b71bf52b9c1de08bfefe3",
            "ad63352bbbf89ca79f414b298d95c168",
        ),
        (
            Method::TripleDes,
            b"secret",
            "defc46e467a4bf4e26b9d8fa8ca295e7f7d72c70156b71bf52b9c1de08bfefe3",
            "ad63352bbbf89ca79f414b298d95c168",
        ),
        (
            Method::TripleDes,
            b"correct horse battery staple",
            "289f2e56602adaab424e44de1b711bbb7628a94f7a89ec0f4ccade04b7a04c61",
            "d891ea5fc6f108edd4dd3d2bdc50d77a",
        ),
        (
            Method::Blowfish,
            b"secret",
            "ecbaa47d637f4c78f8a76646e35185e979ea20282f695a5405ef9583f3a6f89f",
            "1f264836116bdf70cd9de88dfcc5af90",
        ),
        (
            Method::Rijndael128,
            b"secret",
            "4925803808bd293936107d14a0a62a9f79598172abdd0fa0fe5fef0aeba4c2ef",
            "e474e021446ebc731bc7756d8c06dc65",
        ),
        (
            Method::Rijndael128,
            b"correct horse battery staple",
            "7563cb93b7daffa2b3816d0d6b769d1bb99e3982fcfb5dde1306909f4e2b0d22",
            "5db9351874eba43ab97d0b7c52213d21",
        ),
        (
            Method::Cast128,
            b"secret",
            "4f4b8a09c4b1d24ec3b12d14ddbbb99a",
            "7e3db5961152da968903eb03f0690bb4",
        ),
        (
            Method::Cast256,
            b"secret",
            "d088f9a3a9f0d3f1cb814a34be3dcb81",
            "1de1f7822a5f80a002b4d9f52a2ede2d",
        ),
        (
            Method::Xtea,
            b"secret",
            "59dc25d80ff5dafeac56a9e2b06d5735",
            "72210509cf77f54d61b5f5016c8da662",
        ),
        (
            Method::Twofish,
            b"secret",
            "b05d35fac6e9845838edba87e90e2403",
            "1eafb02f57ce320eb65c7b5d19bd03b2",
        ),
        (
            Method::Rc2,
            b"secret",
            "f9362d281716b6bb75dac617002f3ce3",
            "147e8c5527343086832bf1edc4994867",
        ),
        (
            Method::Serpent,
            b"secret",
            "ffadc6ecc6d7e922eff252ef3e19c7f7",
            "d5d2e50ff7fe6a816667cc8f55016aef",
        ),
        (
            Method::Gost,
            b"secret",
            "ffdfa6455b4d70d0aceef8515d5776c6",
            "1e4167f5cc597081dfca881d2730c218",
        ),
    ];

    #[test]
    fn mcrypt_vectors() {
        let mut bad = Vec::new();
        for &(m, pw, want1, want2) in VECTORS {
            let (a, b) = encrypt_pair(m, pw);
            let got1 = hex(&a[..want1.len() / 2]);
            let got2 = hex(&b[..want2.len() / 2]);
            if got1 != want1 || got2 != want2 {
                bad.push(format!(
                    "{m} {:?}: {got1} {got2}",
                    String::from_utf8_lossy(pw)
                ));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }

    /// Exactly these methods are refused, with `Unsupported` naming them.
    #[test]
    fn unsupported_methods() {
        let refused: Vec<u8> = Method::all()
            .filter(|m| !m.supported())
            .map(Method::number)
            .collect();
        assert_eq!(refused, [7, 10, 12, 15, 16, 19, 22, 24, 25, 26]);
        for m in Method::all() {
            match Encryptor::new(m, b"secret", &iv()) {
                Ok(e) => {
                    assert!(m.supported(), "{m}");
                    assert_eq!(e.method(), m);
                }
                Err(u) => {
                    assert!(!m.supported(), "{m}");
                    assert_eq!(u, Unsupported(m));
                    assert_eq!(
                        u.to_string(),
                        format!("encryption method {m} is not supported")
                    );
                }
            }
        }
    }

    /// Every supported method: a second stream with the same password and
    /// IV decrypts two packets sent on one connection, and (except for
    /// None) the ciphertext differs from the plaintext. A stream restarted
    /// for the second packet does not decrypt it (CFB state carries over).
    #[test]
    fn round_trip_two_packets() {
        let long_pw = b"correct horse battery staple, and then some more bytes to pass 56";
        for m in Method::all().filter(|m| m.supported()) {
            for pw in [&b"secret"[..], &b""[..], &long_pw[..]] {
                let plain1 = build(&p1(), 1_700_000_000, false, Fill::Random);
                let plain2 = build(&p2(), 1_700_000_000, true, Fill::Random);
                let mut e = Encryptor::new(m, pw, &iv()).unwrap();
                let (mut a, mut b) = (plain1.clone(), plain2.clone());
                e.encrypt(&mut a);
                e.encrypt(&mut b);
                if m != Method::None {
                    assert_ne!(a, plain1, "{m}");
                    assert_ne!(b, plain2, "{m}");
                }
                let mut restarted = b.clone();
                let mut d = Encryptor::new(m, pw, &iv()).unwrap();
                d.decrypt(&mut a);
                d.decrypt(&mut b);
                assert_eq!(a, plain1, "{m}");
                assert_eq!(b, plain2, "{m}");
                Encryptor::new(m, pw, &iv())
                    .unwrap()
                    .decrypt(&mut restarted);
                if !matches!(m, Method::None | Method::Xor) {
                    assert_ne!(restarted, plain2, "{m}: stream must continue");
                }
            }
        }
    }

    /// The key is the password NUL-padded to the maximum size: a password
    /// and the same password with trailing NULs are the same key, and
    /// bytes past the key size do not matter.
    #[test]
    fn key_padding_and_truncation() {
        let enc = |m, pw: &[u8]| {
            let mut p = build(&p1(), 1, false, Fill::Const(0));
            Encryptor::new(m, pw, &iv()).unwrap().encrypt(&mut p);
            p
        };
        for m in Method::all() {
            let Some(Params { key_len: len, .. }) = mcrypt_params(m) else {
                continue;
            };
            assert_eq!(enc(m, b"secret"), enc(m, b"secret\0\0"), "{m}");
            let mut long = vec![b'k'; len];
            let base = enc(m, &long);
            long.push(b'x');
            assert_eq!(enc(m, &long), base, "{m}");
        }
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
