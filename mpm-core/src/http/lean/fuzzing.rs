//! The engine's parsers as plain functions over bytes, for coverage-guided fuzzing and
//! differential checks (feature `fuzzing`; not a stable API).
//!
//! Each function runs the same code the connection runs, fed the way a client feeds it:
//! in pieces cut at the given offsets.

use super::chunked::{Decoder, Step};
use super::framing::{self, Framing};
use super::head::{self, HeadScan, Scan};
use crate::http::RequestLimits;

/// How a request head ended, as the engine decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadOutcome {
    /// More bytes are needed.
    Partial,
    /// Refused with this status (the connection closes).
    Refused(u16),
    /// Accepted: the head's length, the body framing (`None`: chunked; `Some(n)`: n bytes)
    /// and whether the connection closes after the response.
    Accepted {
        /// Bytes of the head, its empty line included.
        head_len: usize,
        /// The body's length, or `None` for chunked.
        body_len: Option<u64>,
        /// The client does not keep the connection alive.
        close: bool,
        /// The request line as the scoreboard shows it.
        line: String,
    },
}

/// Scan, parse and plan the head at the start of `bytes`, fed in pieces ending at each of
/// `cuts` (then the rest).
pub fn head(bytes: &[u8], cuts: &[usize], limits: &RequestLimits) -> HeadOutcome {
    let mut scan = HeadScan::request();
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    ends.sort_unstable();
    ends.push(bytes.len());
    for end in ends {
        match scan.scan(&bytes[..end], limits) {
            Scan::Partial => continue,
            Scan::Reject(status) => return HeadOutcome::Refused(status.as_u16()),
            Scan::Complete(head_len) => {
                let mut h = match head::parse(&bytes[..head_len], scan.fields()) {
                    Ok(h) => h,
                    Err(status) => return HeadOutcome::Refused(status.as_u16()),
                };
                return match framing::plan(&mut h) {
                    Err(status) => HeadOutcome::Refused(status.as_u16()),
                    Ok(p) => HeadOutcome::Accepted {
                        head_len,
                        body_len: match p.framing {
                            Framing::Length(n) => Some(n),
                            Framing::Chunked => None,
                        },
                        close: p.client_close,
                        line: crate::http::request_line(&h.method, h.target(), h.version),
                    },
                };
            }
        }
    }
    HeadOutcome::Partial
}

/// How a chunked body ended, as the engine decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedOutcome {
    /// More bytes are needed; the data decoded so far.
    Partial(Vec<u8>),
    /// Refused with this status.
    Refused(u16),
    /// The body ended after `consumed` bytes (what follows is the next request); its data
    /// and the number of trailer fields.
    Complete {
        /// The body's data.
        data: Vec<u8>,
        /// Bytes of the body, framing and trailers included.
        consumed: usize,
        /// Trailer fields.
        trailers: usize,
    },
}

/// Decode the chunked body at the start of `bytes`, fed in pieces ending at each of
/// `cuts` (then the rest), keeping unconsumed bytes as the connection keeps them.
pub fn chunked(bytes: &[u8], cuts: &[usize], limits: &RequestLimits) -> ChunkedOutcome {
    let mut decoder = Decoder::new();
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    ends.sort_unstable();
    ends.push(bytes.len());
    let mut data = Vec::new();
    let mut consumed = 0;
    for end in ends {
        loop {
            let avail = &bytes[consumed..end.max(consumed)];
            match decoder.decode(avail, limits) {
                Err(status) => return ChunkedOutcome::Refused(status.as_u16()),
                Ok(Step::Data { start, len }) => {
                    data.extend_from_slice(&avail[start..start + len]);
                    consumed += start + len;
                }
                Ok(Step::Need(used)) => {
                    consumed += used;
                    break;
                }
                Ok(Step::End(used, trailers)) => {
                    return ChunkedOutcome::Complete {
                        data,
                        consumed: consumed + used,
                        trailers: trailers.map_or(0, |t| t.len()),
                    };
                }
            }
        }
    }
    ChunkedOutcome::Partial(data)
}
