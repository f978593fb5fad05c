//! How the HTTP targets read a fuzz input: `[flags][n][n cut points, u16 LE][bytes]`.
//!
//! `flags` selects the limits (and, for a connection, the body mode); the cut points say
//! where the bytes are split when they are fed in pieces (each taken modulo the length
//! plus one, so every value means some offset). An input of fewer than two bytes is all
//! header. Corpus files written by hand start with `\0\0` (default flags, no cuts)
//! followed by the raw request bytes.

use mpm_core::http::RequestLimits;
use std::time::Duration;

/// A decoded fuzz input.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The flags byte.
    pub flags: u8,
    /// Cut points, offsets into `bytes` (sorted, in `0..=bytes.len()`).
    pub cuts: Vec<usize>,
    /// The bytes a client sends.
    pub bytes: &'a [u8],
}

/// At most this many cut points are read.
pub const MAX_CUTS: usize = 15;

impl<'a> Input<'a> {
    /// Read `data` as an input.
    pub fn parse(data: &'a [u8]) -> Input<'a> {
        let flags = data.first().copied().unwrap_or(0);
        let n = data.get(1).map_or(0, |&b| usize::from(b) % (MAX_CUTS + 1));
        let mut rest = data.get(2..).unwrap_or(&[]);
        let mut raw = Vec::with_capacity(n);
        for _ in 0..n {
            match rest {
                [a, b, tail @ ..] => {
                    raw.push(usize::from(u16::from_le_bytes([*a, *b])));
                    rest = tail;
                }
                _ => break,
            }
        }
        let len = rest.len();
        let mut cuts: Vec<usize> = raw.into_iter().map(|c| c % (len + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        Input {
            flags,
            cuts,
            bytes: rest,
        }
    }

    /// The bytes as pieces cut at `cuts` (no empty piece).
    pub fn pieces(&self) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        for &c in self.cuts.iter().chain(std::iter::once(&self.bytes.len())) {
            if c > at {
                out.push(&self.bytes[at..c]);
                at = c;
            }
        }
        out
    }
}

/// Encode an input (the inverse of [`Input::parse`]), for writing corpus seeds.
pub fn encode(flags: u8, cuts: &[u16], bytes: &[u8]) -> Vec<u8> {
    assert!(cuts.len() <= MAX_CUTS);
    let mut v = vec![flags, cuts.len() as u8];
    for c in cuts {
        v.extend_from_slice(&c.to_le_bytes());
    }
    v.extend_from_slice(bytes);
    v
}

/// The limits a flags value selects (bits 2–3): small enough that every limit is reached
/// by short inputs, the fuzz rig's, Apache's defaults, or none (0: the engine's own caps).
pub fn limits(flags: u8) -> RequestLimits {
    let (request_line, field_size, fields) = match (flags >> 2) & 3 {
        0 => (1024, 1024, 20),
        1 => (48, 40, 4),
        2 => (8190, 8190, 100),
        _ => (0, 0, 0),
    };
    // Deadlines are never reached by a client that sends everything and then FIN; they
    // only bound a hang.
    RequestLimits {
        request_line,
        field_size,
        fields,
        header_timeout: Duration::from_secs(2),
        header_timeout_max: Duration::from_secs(4),
        header_min_rate: 500,
        body_timeout: Duration::from_secs(2),
        body_timeout_max: Duration::from_secs(4),
        body_min_rate: 500,
    }
}
