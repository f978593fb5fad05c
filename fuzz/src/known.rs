//! Known engine issues the targets tolerate (so fuzzing goes on past them), each narrowly
//! recognised, each with its reproducer in `artifacts-found/`. `MPM_FUZZ_STRICT=1` turns
//! every tolerance off (the targets then fail on them again); remove an entry once the
//! engine is fixed.

use std::sync::OnceLock;

/// Whether tolerances are off.
pub fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("MPM_FUZZ_STRICT").is_some_and(|v| v != "0"))
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Known issue 1 (`artifacts-found/README.md`, H1): the head scan refuses a request line
/// whose method so far is not a token (a TLS handshake, binary junk) while the line is
/// incomplete, and only then: a complete line is judged by the parser once the whole head
/// has arrived, and an incomplete one is also refused (414) when it is too long. So the
/// answer to such a line depends on how its bytes arrive: 400 at once when the bad byte
/// arrives before the line ends; 414 if the line grew too long before the bad byte came;
/// nothing at all if the head never ends and the line arrived whole; 431 if a field
/// grows too long before the head ends. The request is refused (or dropped) in every case;
/// only which refusal differs.
///
/// True when `bytes` starts (after at most 8 empty lines) with a request line (complete
/// or not) whose method part, up to the first space, is not a token.
pub fn early_method_check(bytes: &[u8]) -> bool {
    if strict() {
        return false;
    }
    let mut rest = bytes;
    for _ in 0..=8 {
        let nl = rest.iter().position(|&b| b == b'\n');
        let line = &rest[..nl.unwrap_or(rest.len())];
        if nl.is_some() && (line.is_empty() || line == b"\r") {
            rest = &rest[nl.unwrap_or(0) + 1..];
            continue;
        }
        let method = line.split(|&b| b == b' ').next().unwrap_or(&[]);
        return method != b"\r" && !method.iter().all(|&b| tchar(b));
    }
    false
}

/// Known difference D1 (`artifacts-found/README.md`): the engine ends a chunked body's
/// trailer section at an empty line ended by a bare LF, and takes bare LF line ends in
/// trailer fields, as it does in a request head (RFC 9112 §2.2 lets a recipient accept
/// them in field lines); hyper requires CRLF there and refuses the body. The chunk-size
/// lines and the CRLF after chunk data are strict in both.
///
/// True when the trailer section of the chunked body `body` (its bytes, the whole body)
/// has a LF not preceded by CR.
pub fn bare_lf_in_trailers(body: &[u8]) -> bool {
    if strict() {
        return false;
    }
    // The last-chunk line is the first size line of size 0: find the trailer section as
    // the bytes after the last "\r\n" that follows a line of zeros (with extensions).
    let mut at = 0;
    while at < body.len() {
        let Some(nl) = body[at..].iter().position(|&b| b == b'\n') else {
            return false;
        };
        let line = &body[at..at + nl];
        let size = line
            .split(|&b| b == b';' || b == b' ' || b == b'\t' || b == b'\r')
            .next();
        let zero = size.is_some_and(|s| !s.is_empty() && s.iter().all(|&b| b == b'0'));
        let digits = size.map_or(0, |s| {
            s.iter().fold(0usize, |acc, &b| {
                acc.saturating_mul(16)
                    .saturating_add((b as char).to_digit(16).unwrap_or(0) as usize)
            })
        });
        at += nl + 1;
        if zero {
            let trailers = &body[at..];
            return trailers
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || trailers[i - 1] != b'\r'));
        }
        // Skip the chunk's data and its CRLF.
        at = at.saturating_add(digits).saturating_add(2);
    }
    false
}

/// Known issue E1 (`artifacts-found/README.md`): `LinkState::continue_pending`
/// (`mpm-core/src/http/lean/incoming.rs`) says the client may still be waiting for
/// `100 Continue` when no `100` was sent, nothing was read from the socket for the body and
/// the buffer holds no unread byte, even when the body's first bytes came with the head and
/// the handler has already read them. A streamed handler that reads the first frame of such
/// a body and answers gets its answer sent with `Connection: close` and the rest of the
/// body is never read: an incomplete body is answered with the handler's 200 instead of
/// 400, and a complete body whose rest arrives a little later ends the connection (the
/// requests pipelined after it are dropped) where, arriving with the head, it does not.
///
/// True unless tolerances are off.
pub fn continue_after_first_frame() -> bool {
    !strict()
}
