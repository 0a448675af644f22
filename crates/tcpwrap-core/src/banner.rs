//! Rendering of `banners` files (§4.7), shared by every executor.

use crate::ctx::Ctx;
use crate::expand::{BANNER_LIMIT, TooLong, expand};
use crate::request::Request;
use crate::text::split_at_bracket;

/// The bytes to send for a banner file's content: leading NUL bytes as they
/// are, then each line (read in chunks of at most 8190 bytes) with its
/// newline turned into CRLF and `%` sequences expanded.
pub fn render(content: &[u8], req: &mut Request, ctx: &mut Ctx<'_>) -> Result<Vec<u8>, TooLong> {
    let mut out = Vec::new();
    render_each(content, req, ctx, &mut |w| out.extend_from_slice(w))?;
    Ok(out)
}

/// The same bytes as [`render`], handed to `write` where the original's
/// writes are, as they are expanded: one `write()` per leading NUL byte and
/// one per line or chunk. tcpd writes each at once, ignoring errors, as the
/// original does: a client that resets the connection during the banner
/// makes the second write after the reset raise SIGPIPE, which ends tcpd
/// before the daemon runs; a line too long to expand ends the banner after
/// the lines before it were sent; and no more than a line is held.
pub fn render_each(
    content: &[u8],
    req: &mut Request,
    ctx: &mut Ctx<'_>,
    write: &mut dyn FnMut(&[u8]),
) -> Result<(), TooLong> {
    let mut i = content.iter().take_while(|&&b| b == 0).count();
    for _ in 0..i {
        write(&[0]);
    }
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
        write(&expand(&line, BANNER_LIMIT, req, ctx)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    fn each(content: &[u8]) -> (Vec<Vec<u8>>, Result<(), TooLong>) {
        let mut req = Request::from_ctl(b"ftpd", b"", b"192.0.2.1", b"");
        let mut ctx = Ctx::new(Env::offline());
        let mut writes = Vec::new();
        let r = render_each(content, &mut req, &mut ctx, &mut |w| {
            writes.push(w.to_vec())
        });
        (writes, r)
    }

    #[test]
    fn writes_are_the_originals() {
        // Leading NULs one at a time, then one write per line (newline as
        // CRLF), a line cut at 8190 bytes, bytes after a NUL dropped.
        let mut content = b"\0\0hi %a\nx\0y\n".to_vec();
        content.extend(std::iter::repeat_n(b'z', 8195));
        let (w, r) = each(&content);
        assert!(r.is_ok());
        assert_eq!(
            w[..4],
            [
                b"\0".to_vec(),
                b"\0".to_vec(),
                b"hi 192.0.2.1\r\n".to_vec(),
                b"x".to_vec()
            ]
        );
        assert_eq!(w[4], vec![b'z'; 8190]);
        assert_eq!(w[5], vec![b'z'; 5]);
        assert_eq!(w.len(), 6);
        let mut req = Request::from_ctl(b"ftpd", b"", b"192.0.2.1", b"");
        let mut ctx = Ctx::new(Env::offline());
        assert_eq!(render(&content, &mut req, &mut ctx).unwrap(), w.concat());
    }

    #[test]
    fn a_line_too_long_ends_the_banner_after_the_lines_before_it() {
        // 8000 `%a` expand to more than 16383 bytes.
        let content = [b"first\n".as_slice(), &b"%a".repeat(4000), b"\nlast\n"].concat();
        let (w, r) = each(&content);
        assert!(r.is_err());
        assert_eq!(w, [b"first\r\n".to_vec()]);
    }
}
