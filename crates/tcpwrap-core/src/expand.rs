//! `%` expansion (§5).

use crate::ctx::Ctx;
use crate::request::{Field, PARANOID, Request, Side, UNKNOWN};
use crate::text::eq_ci;

/// Buffer size for option values (`BUFSIZ`).
pub const OPTION_LIMIT: usize = 8192;
/// Buffer size for banner lines (`2 * BUFSIZ`).
pub const BANNER_LIMIT: usize = 16384;

/// The expansion would not fit the original's buffer. The original logs a
/// warning, sleeps 5 seconds and exits; see [`crate::Verdict::exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Characters an expansion may carry unchanged; every other byte becomes `_`.
pub fn is_shell_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'@' | b'%' | b'-' | b'_' | b'=' | b'+' | b':' | b',' | b'.' | b'/'
        )
}

/// Replace every unsafe byte by `_`; returns whether anything changed.
pub fn sanitize(v: &mut [u8]) -> bool {
    let mut changed = false;
    for b in v.iter_mut() {
        if !is_shell_safe(*b) {
            *b = b'_';
            changed = true;
        }
    }
    changed
}

/// Expand `pattern` for `req` into at most `limit - 2` bytes (the original's
/// `percent_x(result, limit, pattern, request)`).
pub fn expand(
    pattern: &[u8],
    limit: usize,
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<u8>, TooLong> {
    let mut out: Vec<u8> = Vec::with_capacity(pattern.len().min(limit));
    let end = limit.saturating_sub(1);
    let mut i = 0;
    while i < pattern.len() {
        let (piece, field): (Vec<u8>, Option<Field>) =
            if pattern[i] == b'%' && i + 1 < pattern.len() {
                let ch = pattern[i + 1];
                i += 2;
                match ch {
                    b'a' => (
                        req.addr(Side::Client, ctx).to_vec(),
                        Some(Field::Addr(Side::Client)),
                    ),
                    b'A' => (
                        req.addr(Side::Server, ctx).to_vec(),
                        Some(Field::Addr(Side::Server)),
                    ),
                    // Without a known user `%c` is the host field itself, and
                    // without a server host `%s` is the daemon field itself: the
                    // filter then rewrites those fields, as in the original.
                    b'c' => match req.cached_user() {
                        Some(u) if !eq_ci(u, UNKNOWN) => (req.client_info(ctx), None),
                        _ => hostinfo_field(req, Side::Client, ctx),
                    },
                    b'd' => (req.daemon().to_vec(), Some(Field::Daemon)),
                    b'h' => hostinfo_field(req, Side::Client, ctx),
                    b'H' => hostinfo_field(req, Side::Server, ctx),
                    b'n' => (
                        req.name(Side::Client, ctx).to_vec(),
                        Some(Field::Name(Side::Client)),
                    ),
                    b'N' => (
                        req.name(Side::Server, ctx).to_vec(),
                        Some(Field::Name(Side::Server)),
                    ),
                    b'p' => (req.pid().to_vec(), Some(Field::Pid)),
                    b'r' => (req.port(Side::Client), None),
                    b'R' => (req.port(Side::Server), None),
                    b's' => {
                        let host = req.hostinfo(Side::Server, ctx);
                        if eq_ci(&host, UNKNOWN) {
                            (req.daemon().to_vec(), Some(Field::Daemon))
                        } else {
                            (req.server_info(ctx), None)
                        }
                    }
                    b'u' => (req.user(ctx).to_vec(), Some(Field::User)),
                    b'%' => (b"%".to_vec(), None),
                    other => {
                        ctx.warn([b"unrecognized %".as_slice(), &[other]].concat());
                        (Vec::new(), None)
                    }
                }
            } else {
                let b = pattern[i];
                i += 1;
                if out.len() + 1 >= end {
                    return Err(too_long(&out, ctx));
                }
                out.push(b);
                continue;
            };
        let mut piece = piece;
        if sanitize(&mut piece) {
            if let Some(f) = field {
                req.replace_field(f, piece.clone());
            }
        }
        if out.len() + piece.len() >= end {
            return Err(too_long(&out, ctx));
        }
        out.extend_from_slice(&piece);
    }
    Ok(out)
}

fn hostinfo_field(req: &mut Request, side: Side, ctx: &mut Ctx<'_>) -> (Vec<u8>, Option<Field>) {
    let named = matches!(req.endpoint(side).cached_name(), Some(n) if !eq_ci(n, UNKNOWN) && !eq_ci(n, PARANOID));
    let v = req.hostinfo(side, ctx);
    (
        v,
        Some(if named {
            Field::Name(side)
        } else {
            Field::Addr(side)
        }),
    )
}

fn too_long(partial: &[u8], ctx: &mut Ctx<'_>) -> TooLong {
    let mut m = b"percent_x: expansion too long: ".to_vec();
    m.extend_from_slice(&partial[..partial.len().min(30)]);
    m.extend_from_slice(b"...");
    ctx.warn(m);
    TooLong
}
