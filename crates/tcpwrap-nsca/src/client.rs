//! The client side of one NSCA connection: resolve and connect, read the
//! 132-byte init packet, then encrypt and send packets on one cipher
//! stream. Every step is bounded by one deadline, like `send_nsca`'s single
//! alarm.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::crypto::{Encryptor, Method, Unsupported};
use crate::packet::{self, CheckResult, Fill, INIT_LEN};

/// Why a connection or a send failed. `Display` gives `send_nsca`'s
/// message text (without the `Error: ` prefixes it adds).
#[derive(Debug)]
pub enum ClientError {
    /// The server name did not resolve.
    Lookup(String),
    /// Every address refused the connection.
    Refused,
    /// Connecting timed out (the deadline passed).
    ConnectTimeout,
    /// Network unreachable.
    Unreachable,
    /// Another connect error.
    Connect(io::Error),
    /// The server closed before sending its init packet.
    ClosedBeforeInit,
    /// The init packet was cut short (bytes received).
    ShortInit(usize),
    /// The deadline passed after connecting.
    Timeout,
    /// The method cannot be carried out here.
    Cipher(Unsupported),
    /// Writing to the server failed.
    Send(io::Error),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Lookup(h) => write!(f, "Host name lookup failed: '{h}'"),
            ClientError::Refused => write!(f, "Connection refused by host"),
            ClientError::ConnectTimeout => write!(f, "Timeout while attempting connection"),
            ClientError::Unreachable => write!(f, "Network is unreachable"),
            ClientError::Connect(e) => write!(f, "Connection refused or timed out ({e})"),
            ClientError::ClosedBeforeInit => {
                write!(
                    f,
                    "Server closed connection before init packet was received"
                )
            }
            ClientError::ShortInit(n) => write!(
                f,
                "Init packet from server was too short ({n} bytes received, {INIT_LEN} expected)"
            ),
            ClientError::Timeout => write!(f, "Timeout"),
            ClientError::Cipher(u) => write!(
                f,
                "Failed to initialize encryption libraries for method {}",
                u.0.number()
            ),
            ClientError::Send(e) => write!(f, "Could not send data to host ({e})"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct Target {
    /// Server name or address (resolved with the system resolver).
    pub host: String,
    pub port: u16,
    pub method: Method,
    pub password: Vec<u8>,
    /// Send 720-byte packets (`--legacy-2-7-mode`).
    pub legacy: bool,
}

/// An open connection with its cipher stream.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    enc: Encryptor,
    timestamp: u32,
    legacy: bool,
    deadline: Instant,
    fill: Fill,
    sent: usize,
}

fn remaining(deadline: Instant) -> Option<Duration> {
    let now = Instant::now();
    if now >= deadline {
        None
    } else {
        Some((deadline - now).max(Duration::from_millis(1)))
    }
}

fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, ClientError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| ClientError::Lookup(host.to_owned()))?
        .collect();
    if addrs.is_empty() {
        return Err(ClientError::Lookup(host.to_owned()));
    }
    let mut last = ClientError::Refused;
    for a in addrs {
        let Some(left) = remaining(deadline) else {
            return Err(ClientError::ConnectTimeout);
        };
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => return Ok(s),
            Err(e) => {
                last = match e.kind() {
                    io::ErrorKind::ConnectionRefused => ClientError::Refused,
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        ClientError::ConnectTimeout
                    }
                    io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                        ClientError::Unreachable
                    }
                    _ => ClientError::Connect(e),
                }
            }
        }
    }
    Err(last)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Session {
    /// Connect, read the init packet and set up the cipher stream, all
    /// before `deadline`.
    pub fn open(target: &Target, deadline: Instant) -> Result<Session, ClientError> {
        let mut stream = connect(&target.host, target.port, deadline)?;
        let mut init = [0u8; INIT_LEN];
        let mut got = 0;
        while got < INIT_LEN {
            let left = remaining(deadline).ok_or(ClientError::Timeout)?;
            stream
                .set_read_timeout(Some(left))
                .map_err(ClientError::Send)?;
            match stream.read(&mut init[got..]) {
                Ok(0) if got == 0 => return Err(ClientError::ClosedBeforeInit),
                Ok(0) => return Err(ClientError::ShortInit(got)),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(ClientError::Timeout),
                Err(_) if got == 0 => return Err(ClientError::ClosedBeforeInit),
                Err(_) => return Err(ClientError::ShortInit(got)),
            }
        }
        let iv: [u8; 128] = init[..128].try_into().expect("128 bytes");
        let timestamp = u32::from_be_bytes([init[128], init[129], init[130], init[131]]);
        let enc =
            Encryptor::new(target.method, &target.password, &iv).map_err(ClientError::Cipher)?;
        Ok(Session {
            stream,
            enc,
            timestamp,
            legacy: target.legacy,
            deadline,
            fill: Fill::Random,
            sent: 0,
        })
    }

    /// Use `fill` for the unused packet bytes (tests reproduce
    /// `send_nsca`'s bytes with `Fill::Const(0x30)`).
    pub fn set_fill(&mut self, fill: Fill) {
        self.fill = fill;
    }

    /// The timestamp the server sent (echoed in every packet).
    pub fn server_timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Packets sent so far.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// The deadline of this session.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Build, encrypt and send one result.
    pub fn send(&mut self, r: &CheckResult) -> Result<(), ClientError> {
        let mut p = packet::build(r, self.timestamp, self.legacy, self.fill);
        self.enc.encrypt(&mut p);
        let mut off = 0;
        while off < p.len() {
            let left = remaining(self.deadline).ok_or(ClientError::Timeout)?;
            self.stream
                .set_write_timeout(Some(left))
                .map_err(ClientError::Send)?;
            match self.stream.write(&p[off..]) {
                Ok(0) => return Err(ClientError::Send(io::ErrorKind::WriteZero.into())),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(ClientError::Timeout),
                Err(e) => return Err(ClientError::Send(e)),
            }
        }
        self.sent += 1;
        Ok(())
    }

    /// Close the connection (the server sends nothing back).
    pub fn close(self) -> usize {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.sent
    }
}
