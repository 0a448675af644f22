//! The NSCA 2.x protocol as `send_nsca` 2.10.2 speaks it: the 4304-byte
//! (or legacy 720-byte) v3 data packet with its CRC-32, the encryption
//! methods, the client side of a connection, and the `send_nsca` input and
//! configuration formats.
//!
//! Free of `unsafe`. Every wire detail follows
//! `../shared/reference/nsca-and-passive-checks.md` and was checked against
//! Debian's `send_nsca` and `nsca` 2.10.2.

pub mod client;
pub mod config;
pub mod crypto;
pub mod input;
pub mod packet;
pub mod sanitize;

pub use client::{ClientError, Session, Target};
pub use crypto::{Encryptor, Method, Unsupported};
pub use packet::{CheckResult, Fill};
pub use sanitize::sanitize_name;
