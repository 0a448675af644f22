//! Rendering of `banners` files (§4.7), shared by every executor.

use crate::ctx::Ctx;
use crate::expand::{BANNER_LIMIT, TooLong, expand};
use crate::request::Request;
use crate::text::split_at_bracket;

/// The bytes to send for a banner file's content: leading NUL bytes as they
/// are, then each line (read in chunks of at most 8190 bytes) with its
/// newline turned into CRLF and `%` sequences expanded.
pub fn render(content: &[u8], req: &mut Request, ctx: &mut Ctx<'_>) -> Result<Vec<u8>, TooLong> {
    Ok(render_writes(content, req, ctx)?.concat())
}

/// The same bytes as [`render`], cut where the original's writes are: one
/// `write()` per leading NUL byte and one per line or chunk. tcpd writes
/// them one by one, ignoring errors, as the original does: a client that
/// resets the connection during the banner makes the second write after the
/// reset raise SIGPIPE, which ends tcpd before the daemon runs.
pub fn render_writes(
    content: &[u8],
    req: &mut Request,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Vec<u8>>, TooLong> {
    let mut out = Vec::new();
    let mut i = content.iter().take_while(|&&b| b == 0).count();
    out.resize(i, vec![0]);
    while i < content.len() {
        let lim = (content.len() - i).min(8190);
        let n = match memchr::memchr(b'\n', &content[i..i + lim]) {
            Some(p) => p + 1,
            None => lim,
        };
        let chunk = &content[i..i + n];
        i += n;
        let chunk = &chunk[..memchr::memchr(0, chunk).unwrap_or(chunk.len())];
        let mut line = chunk.to_vec();
        if let Some(p) = split_at_bracket(&line, b'\n') {
            line.truncate(p);
            line.extend_from_slice(b"\r\n");
        }
        out.push(expand(&line, BANNER_LIMIT, req, ctx)?);
    }
    Ok(out)
}
