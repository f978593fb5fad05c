//! Response bodies that stream: N bytes produced as they are sent, and one server-sent
//! event a second for as long as the client stays. Only the tower handler streams them,
//! so a build without the `tower` feature (README's first command) leaves them unused.
#![cfg_attr(not(feature = "tower"), allow(dead_code))]

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The block `/bytes/N` repeats.
pub const BLOCK: usize = 64 * 1024;

/// `n` bytes of `x`, one block at a time (never all in memory).
pub struct Repeat {
    left: u64,
    block: Bytes,
}

impl Repeat {
    /// A body of `n` bytes.
    pub fn new(n: u64) -> Repeat {
        Repeat {
            left: n,
            block: Bytes::from(vec![b'x'; BLOCK]),
        }
    }
}

impl Body for Repeat {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(BLOCK as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.block.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// One server-sent event a second (`data: tick N`), without end: the connection ends it
/// when the client leaves (the next write fails).
pub struct Ticks {
    n: u64,
    interval: tokio::time::Interval,
}

impl Ticks {
    /// Events from now on, the first at once.
    pub fn new() -> Ticks {
        Ticks {
            n: 0,
            interval: tokio::time::interval(Duration::from_secs(1)),
        }
    }
}

impl Body for Ticks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.interval.poll_tick(cx).is_pending() {
            return Poll::Pending;
        }
        self.n += 1;
        let event = format!("data: tick {}\n\n", self.n);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(event)))))
    }
}
