//! Socket reads and writes with deadlines, the buffer free list, lingering close.

use super::transport::Transport;
use crate::http::RequestLimits;
use bytes::BufMut;
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::task::Poll;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, Instant};

/// The size of a connection buffer taken when bytes arrive (grown only for a larger head).
pub(super) const BUF_SIZE: usize = 4096;

/// Buffers of [`BUF_SIZE`] kept per thread for reuse.
const FREE_LIST_MAX: usize = 16;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer of at least [`BUF_SIZE`] bytes, from this thread's free list if it has one.
pub(super) fn take_buf() -> Vec<u8> {
    FREE.try_with(|f| f.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(BUF_SIZE))
}

/// Give a buffer back (one that grew beyond [`BUF_SIZE`] is freed instead).
pub(super) fn give_buf(mut buf: Vec<u8>) {
    if buf.capacity() != BUF_SIZE {
        return;
    }
    buf.clear();
    let _ = FREE.try_with(|f| {
        let mut f = f.borrow_mut();
        if f.len() < FREE_LIST_MAX {
            f.push(buf);
        }
    });
}

/// `t + d`, saturating far in the future instead of panicking on overflow.
pub(super) fn after(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(t)
}

/// A mod_reqtimeout-style budget: an initial time, extended by one second per `rate` bytes
/// received, up to an optional maximum.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    start: Instant,
    initial: Duration,
    max: Option<Duration>,
    rate: u32,
}

impl Budget {
    /// The head budget (`header=20-40,MinRate=500`), counted from `start`.
    pub(super) fn header(start: Instant, l: &RequestLimits) -> Budget {
        Budget {
            start,
            initial: l.header_timeout,
            max: Some(l.header_timeout_max),
            rate: l.header_min_rate,
        }
    }

    /// The body budget (`body=20,MinRate=500`, no maximum by default), counted from now.
    pub(super) fn body(l: &RequestLimits) -> Budget {
        Budget {
            start: Instant::now(),
            initial: l.body_timeout,
            max: Some(l.body_timeout_max),
            rate: l.body_min_rate,
        }
    }

    /// The deadline after `bytes` bytes were received (`None`: no such limit).
    pub(super) fn deadline(&self, bytes: usize) -> Option<Instant> {
        if self.initial.is_zero() {
            return None;
        }
        let mut d = self.initial;
        if self.rate > 0 {
            let ms = (bytes as u64).saturating_mul(1000) / u64::from(self.rate);
            d = d.saturating_add(Duration::from_millis(ms));
            if let Some(max) = self.max {
                d = d.min(max.max(self.initial));
            }
        }
        Some(after(self.start, d))
    }
}

/// The deadline of one read: `Timeout` from now, or the phase's deadline if earlier.
pub(super) fn read_deadline(timeout: Duration, phase: Option<Instant>) -> Instant {
    let per_read = after(Instant::now(), timeout);
    phase.map_or(per_read, |p| p.min(per_read))
}

/// Why a read failed.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The deadline passed first.
    TimedOut,
    /// The socket failed.
    Io(io::Error),
}

/// Wait until the socket is readable, or `deadline`.
///
/// Built on `poll_read_ready` (the socket's own waker slot) and one `Sleep`, this future is
/// a fraction of the size of `timeout_at(deadline, stream.readable())`; it is part of every
/// parked connection's task.
pub(super) async fn readable_by(stream: &Transport, deadline: Instant) -> Result<(), ReadError> {
    let sleep = sleep_until(deadline);
    tokio::pin!(sleep);
    poll_fn(|cx| {
        match stream.poll_read_ready(cx) {
            Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(ReadError::Io(e))),
            Poll::Pending => {}
        }
        sleep.as_mut().poll(cx).map(|()| Err(ReadError::TimedOut))
    })
    .await
}

/// Read once into `buf` (its spare capacity), waiting until `deadline` at most; `Ok(0)` is
/// end-of-file.
pub(super) async fn read_some<B: BufMut>(
    stream: &Transport,
    buf: &mut B,
    deadline: Instant,
) -> Result<usize, ReadError> {
    loop {
        readable_by(stream, deadline).await?;
        match stream.try_read_buf(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// Write `a` then `b` completely; each wait for the socket to take more is bounded by
/// `limit` (Apache's `Timeout`).
pub(super) async fn write_all(
    stream: &Transport,
    a: &[u8],
    b: &[u8],
    limit: Duration,
) -> io::Result<()> {
    write_parts(stream, [a, b, &[], &[]], limit).await
}

/// Write up to four slices completely, in order, with as few system calls as the socket
/// allows (one `writev` usually); each wait for the socket to take more is bounded by
/// `limit`.
pub(super) async fn write_parts(
    stream: &Transport,
    mut parts: [&[u8]; 4],
    limit: Duration,
) -> io::Result<()> {
    let mut first = 0;
    loop {
        while first < parts.len() && parts[first].is_empty() {
            first += 1;
        }
        if first == parts.len() {
            if stream.is_tls() {
                return match timeout(limit, stream.flush()).await {
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "timed out writing the response",
                    )),
                    Ok(r) => r,
                };
            }
            return Ok(());
        }
        let rest = &parts[first..];
        let written = if rest[1..].iter().all(|p| p.is_empty()) {
            stream.try_write(rest[0])
        } else {
            let slices = [
                IoSlice::new(parts[first]),
                IoSlice::new(parts.get(first + 1).copied().unwrap_or(&[])),
                IoSlice::new(parts.get(first + 2).copied().unwrap_or(&[])),
                IoSlice::new(parts.get(first + 3).copied().unwrap_or(&[])),
            ];
            stream.try_write_vectored(&slices[..parts.len() - first])
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(mut n) => {
                for p in parts[first..].iter_mut() {
                    let take = n.min(p.len());
                    *p = &p[take..];
                    n -= take;
                    if n == 0 {
                        break;
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                match timeout(limit, stream.writable()).await {
                    Err(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "timed out writing the response",
                        ))
                    }
                    Ok(r) => r?,
                }
            }
            Err(e) => return Err(e),
        }
    }
}

fn shutdown_write(stream: &Transport) {
    stream.close_notify();
    if let Err(e) = socket2::SockRef::from(stream).shutdown(Shutdown::Write) {
        if e.kind() != io::ErrorKind::NotConnected {
            tracing::debug!(error = %e, "shutdown(write) failed");
        }
    }
}

/// Whether the client has sent nothing more: a cleartext socket whose receive queue is
/// empty and not at end of stream, asked of the kernel itself. A TLS connection answers
/// `false` (its records may sit decrypted in the session, and its close sends an alert).
pub(super) fn nothing_waiting(stream: &Transport) -> bool {
    !stream.is_tls()
        && matches!(peek(stream.tcp()), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Look at the socket's receive queue without taking from it: the bytes there (at most
/// one), 0 at end of stream, `WouldBlock` when empty. Asked of the kernel itself, since
/// the runtime's readiness may not have caught up yet.
pub(super) fn peek(tcp: &tokio::net::TcpStream) -> io::Result<usize> {
    let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    socket2::SockRef::from(tcp).peek(&mut probe)
}

/// One non-blocking read into a scratch array that is not part of any future's state.
fn discard(stream: &Transport) -> io::Result<usize> {
    let mut scratch = [0u8; 512];
    stream.try_read(&mut scratch)
}

/// Shut our side down for writing, then read and drop what the client still sends until
/// its FIN or `linger` ([`LINGER`](crate::http::LINGER), shorter after a 408), so unread data never turns into a reset that destroys the last
/// response.
pub(super) async fn lingering_close(stream: &Transport, linger: Duration) {
    shutdown_write(stream);
    let deadline = after(Instant::now(), linger);
    loop {
        if readable_by(stream, deadline).await.is_err() {
            return;
        }
        match discard(stream) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}
