//! `http_head` and `http_chunked`: the engine's head and chunked parsers
//! (`mpm_core::http::fuzzing`), fed the same bytes in different pieces.

use crate::input::{limits, Input};
use crate::reference::{self, RefLimits, RefOutcome};
use mpm_core::http::fuzzing::{self, ChunkedOutcome, HeadOutcome};

/// Every status the engine refuses a head with.
pub const REFUSALS: [u16; 8] = [400, 405, 413, 414, 417, 431, 501, 505];

/// Inputs up to this long are also fed cut at every single offset (quadratic).
const EVERY_CUT_UP_TO: usize = 512;

/// Cut points `1, 2, …, len - 1`: one byte at a time.
fn bytewise(len: usize) -> Vec<usize> {
    (1..len).collect()
}

/// `http_head`: the head parser gives the same outcome however the bytes are cut (whole,
/// byte by byte, at the input's cut points, at every single offset of a short input);
/// an accepted head lies within the input, does not depend on the bytes after it, and is
/// not accepted one byte earlier; a refusal is one of [`REFUSALS`].
pub fn http_head(data: &[u8]) {
    let input = Input::parse(data);
    let bytes = input.bytes;
    let l = limits(input.flags);
    let whole = fuzzing::head(bytes, &[], &l);
    let check = |how: &str, got: HeadOutcome| {
        assert_eq!(
            got,
            whole,
            "head outcome differs when fed {how}: {:?}",
            String::from_utf8_lossy(bytes)
        );
    };
    check(
        "byte by byte",
        fuzzing::head(bytes, &bytewise(bytes.len()), &l),
    );
    check(
        &format!("cut at {:?}", input.cuts),
        fuzzing::head(bytes, &input.cuts, &l),
    );
    if bytes.len() <= EVERY_CUT_UP_TO {
        for c in 1..bytes.len() {
            check(&format!("cut at {c}"), fuzzing::head(bytes, &[c], &l));
        }
    }
    match &whole {
        HeadOutcome::Partial => {}
        HeadOutcome::Refused(s) => assert!(REFUSALS.contains(s), "refused with {s}"),
        HeadOutcome::Accepted { head_len, line, .. } => {
            let head_len = *head_len;
            assert!(
                head_len > 0 && head_len <= bytes.len(),
                "head_len {head_len}"
            );
            assert!(
                bytes[..head_len].ends_with(b"\n"),
                "a head ends with its empty line"
            );
            assert!(!line.is_empty());
            // The head alone decides; one byte less is not a head yet.
            assert_eq!(fuzzing::head(&bytes[..head_len], &[], &l), whole);
            assert_eq!(
                fuzzing::head(&bytes[..head_len - 1], &[], &l),
                HeadOutcome::Partial,
                "a head accepted before its end: {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

fn same_as_reference(engine: &ChunkedOutcome, reference: &RefOutcome) -> bool {
    match (engine, reference) {
        (ChunkedOutcome::Partial(a), RefOutcome::Partial(b)) => a == b,
        (ChunkedOutcome::Refused(a), RefOutcome::Refused(b)) => a == b,
        (
            ChunkedOutcome::Complete {
                data,
                consumed,
                trailers,
            },
            RefOutcome::Complete {
                data: d,
                consumed: c,
                trailers: t,
            },
        ) => data == d && consumed == c && trailers == t,
        _ => false,
    }
}

/// `http_chunked`: the chunked decoder gives the same outcome however the bytes are cut,
/// and the same as the reference decoder ([`reference::decode`]); a complete body lies
/// within the input, does not depend on the bytes after it, and is not complete one byte
/// earlier; its data is never longer than the input.
pub fn http_chunked(data: &[u8]) {
    let input = Input::parse(data);
    let bytes = input.bytes;
    let l = limits(input.flags);
    let whole = fuzzing::chunked(bytes, &[], &l);
    let check = |how: &str, got: ChunkedOutcome| {
        assert_eq!(
            got,
            whole,
            "chunked outcome differs when fed {how}: {:?}",
            String::from_utf8_lossy(bytes)
        );
    };
    check(
        "byte by byte",
        fuzzing::chunked(bytes, &bytewise(bytes.len()), &l),
    );
    check(
        &format!("cut at {:?}", input.cuts),
        fuzzing::chunked(bytes, &input.cuts, &l),
    );
    if bytes.len() <= EVERY_CUT_UP_TO {
        for c in 1..bytes.len() {
            check(&format!("cut at {c}"), fuzzing::chunked(bytes, &[c], &l));
        }
    }
    let expected = reference::decode(bytes, &RefLimits::of(&l, None));
    assert!(
        same_as_reference(&whole, &expected),
        "engine {whole:?} != reference {expected:?} for {:?}",
        String::from_utf8_lossy(bytes)
    );
    match &whole {
        ChunkedOutcome::Partial(d) => assert!(d.len() <= bytes.len()),
        ChunkedOutcome::Refused(s) => assert!([400, 431].contains(s), "refused with {s}"),
        ChunkedOutcome::Complete { data, consumed, .. } => {
            let consumed = *consumed;
            assert!(consumed > 0 && consumed <= bytes.len());
            assert!(data.len() < consumed);
            assert_eq!(fuzzing::chunked(&bytes[..consumed], &[], &l), whole);
            assert!(
                matches!(
                    fuzzing::chunked(&bytes[..consumed - 1], &[], &l),
                    ChunkedOutcome::Partial(_)
                ),
                "a body complete before its end: {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
