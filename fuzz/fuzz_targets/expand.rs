//! `%` expansion (expand.rs) and banner rendering (banner.rs), with
//! request fields, DNS names and ident replies chosen by the input: the
//! values a remote client controls.
//!
//! Input (see src/case.rs): the request and world keys of the `table`
//! target, `limit=N` (the buffer size, default 1024); section 1 is the
//! pattern (the text of an option value or a banner file).
//!
//! Oracle: no panic, and
//! * a result fits the buffer (`limit - 2` bytes);
//! * the expansion of each `%` sequence on its own holds only bytes of the
//!   shell-safe set (`expand::is_shell_safe`): nothing a client controls
//!   reaches a `spawn` or `twist` command unfiltered;
//! * the expansion is the concatenation of the pattern's literal bytes and
//!   those per-sequence expansions, taken in order on the same request;
//! * a field a sequence expanded is sanitised in the request too (the
//!   original rewrites it in place), so later uses see the safe value;
//! * banner rendering never panics and keeps to its buffer per line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpwrap_core::expand::{BANNER_LIMIT, OPTION_LIMIT, expand, is_shell_safe};
use tcpwrap_core::{Ctx, Request, Side};
use tcpwrap_fuzz::case::Case;
use tcpwrap_fuzz::checks;
use tcpwrap_fuzz::world::{self, World};

/// The pattern as the expansion reads it: literal bytes and `%X` pairs (a
/// final lone `%` is literal).
enum Piece {
    Lit(u8),
    Seq(u8),
}

fn pieces(p: &[u8]) -> Vec<Piece> {
    let mut v = Vec::new();
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'%' && i + 1 < p.len() {
            v.push(Piece::Seq(p[i + 1]));
            i += 2;
        } else {
            v.push(Piece::Lit(p[i]));
            i += 1;
        }
    }
    v
}

fn all_safe(v: &[u8]) -> bool {
    v.iter().all(|&b| is_shell_safe(b))
}

/// The request fields a sequence names, which must be safe afterwards.
fn sanitised_fields(req: &Request, seq: u8) -> Vec<&[u8]> {
    fn f(o: Option<&[u8]>) -> Vec<&[u8]> {
        o.into_iter().collect()
    }
    match seq {
        b'a' => f(req.client.cached_addr()),
        b'A' => f(req.server.cached_addr()),
        b'n' => f(req.client.cached_name()),
        b'N' => f(req.server.cached_name()),
        b'u' => f(req.cached_user()),
        b'd' => vec![req.daemon()],
        b'p' => vec![req.pid()],
        _ => Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let c = Case::parse(data);
    let world = World::from_case(&c);
    let env = world.env();
    let pattern = c.section(0);
    let limit = c.num("limit", 1024).min(OPTION_LIMIT as u64 * 2) as usize;

    // The whole pattern.
    let mut req = world::request(&c);
    let mut ctx = Ctx::new(env);
    let whole = expand(pattern, limit, &mut req, &mut ctx);
    checks::request(&req);
    if let Ok(out) = &whole {
        assert!(
            out.len() + 2 <= limit || out.is_empty(),
            "{} bytes for a buffer of {limit}",
            out.len()
        );
    }

    // Piece by piece, on a second copy of the request.
    let mut req2 = world::request(&c);
    let mut ctx2 = Ctx::new(env);
    let mut joined = Vec::new();
    for piece in pieces(pattern) {
        match piece {
            Piece::Lit(b) => joined.push(b),
            Piece::Seq(s) => {
                let one = expand(&[b'%', s], OPTION_LIMIT, &mut req2, &mut ctx2)
                    .expect("one sequence fits any buffer");
                assert!(
                    all_safe(&one),
                    "%{} expanded to unsafe bytes: {:?}",
                    s as char,
                    String::from_utf8_lossy(&one)
                );
                for f in sanitised_fields(&req2, s) {
                    assert!(
                        all_safe(f),
                        "%{} left the field unsanitised: {:?}",
                        s as char,
                        String::from_utf8_lossy(f)
                    );
                }
                joined.extend_from_slice(&one);
            }
        }
    }
    match whole {
        Ok(out) => {
            assert_eq!(
                out, joined,
                "expansion is not the concatenation of its pieces"
            );
            assert_eq!(req, req2, "the request differs after the same expansions");
        }
        Err(_) => assert!(
            joined.len() + 2 > limit,
            "too long for {limit} but the pieces make {} bytes",
            joined.len()
        ),
    }

    // The same text as a banner file.
    let mut req3 = world::request(&c);
    let mut ctx3 = Ctx::new(env);
    if let Ok(out) = tcpwrap_core::banner::render(pattern, &mut req3, &mut ctx3) {
        // Leading NUL bytes as they are, then each chunk (a line, or 8190
        // bytes of a longer one) expands into at most BANNER_LIMIT - 2.
        let chunks = pattern.split(|&b| b == b'\n').count() + pattern.len() / 8190 + 1;
        assert!(out.len() <= chunks * (BANNER_LIMIT - 2) + pattern.len());
    }
    checks::request(&req3);
    // Names and addresses looked up: at most one look-up each.
    let _ = req3.hostinfo(Side::Client, &mut ctx3);
});
