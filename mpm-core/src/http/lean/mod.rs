//! The HTTP/1.1 engine every strategy serves through: `httparse` for heads, its own strict
//! framing ([`framing`], [`chunked`]), bodies streamed with backpressure ([`incoming`],
//! [`outgoing`], [`blocking_io`]), `101` upgrades ([`upgrade`]), and no buffer held while a
//! connection is idle: a parked keep-alive connection costs its socket and a few words of
//! state; the read buffer is taken when the socket becomes readable and given back (to a
//! small per-thread free list) once the request is done with it; the response head is
//! encoded into a buffer taken for the write. The per-request work runs in a boxed future
//! that exists only while a request is being served, so the connection's task stays small.
//!
//! What it enforces is documented on [`serve_lean`].

mod blocking_io;
mod body;
mod chunked;
mod direct;
mod exchange;
mod framing;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod head;
mod incoming;
mod io;
mod outgoing;
mod response;
mod sync_io;
mod transport;
mod upgrade;

pub use blocking_io::{BodyReader, BodyWriter, ResponseWriter};
pub use direct::ReplyWriter;
pub use incoming::{BodyError, RequestBody};
pub use outgoing::{boxed, BoxError, ResponseBody};
pub use upgrade::{HandOff, HandOffFuture, OnUpgrade, UpgradeError, Upgraded};

use super::{ConnObserver, ConnSummary, HttpOptions, LINGER, LINGER_AFTER_TIMEOUT};
use crate::http::Closing;
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use exchange::exchange;
use http::{Request, Response};
use io::{after, give_buf, take_buf};
use std::future::poll_fn;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use tokio::net::TcpStream;
use tokio::time::{sleep_until, Instant, Sleep};
use transport::Transport;

/// No request head may grow beyond this, whatever the limits say.
const MAX_HEAD: usize = 4 << 20;

/// What a handler produced for one request.
pub enum Reply {
    /// A whole response (the buffered handler kinds).
    Full(Response<Bytes>),
    /// A response whose body streams (written as the body yields frames).
    Stream(Response<ResponseBody>),
    /// A blocking streaming handler wrote its response itself through its
    /// [`ResponseWriter`], or the thread that ran a whole-response handler wrote it through
    /// the request's [`ReplyWriter`].
    Written,
    /// The handler takes the connection of an upgrade request as it is (see [`HandOff`]).
    HandOff(HandOff),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Full(r) => write!(f, "Reply::Full({})", r.status()),
            Reply::Stream(r) => write!(f, "Reply::Stream({})", r.status()),
            Reply::Written => f.write_str("Reply::Written"),
            Reply::HandOff(_) => f.write_str("Reply::HandOff"),
        }
    }
}

/// How request bodies reach the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// Read whole before the handler runs, at most [`HttpOptions::max_body`] bytes (more:
    /// 413); the handler gets [`RequestBody::full`].
    Buffered,
    /// Streamed as the handler reads it ([`RequestBody`] is an `http_body::Body`), under
    /// [`HttpOptions::body_limit`].
    Streamed,
    /// Streamed, and the handler writes its response itself (a [`ResponseWriter`] can be
    /// made from every request's body, even an empty one).
    Writer,
}

/// What is borrowed by every request of a connection.
struct Conn<'a, F> {
    /// Shared with a streamed body, a blocking handler's writer, or an upgraded stream
    /// while a request needs it.
    stream: Arc<Transport>,
    peer: SocketAddr,
    opts: &'a HttpOptions,
    mode: BodyMode,
    call: F,
    observer: &'a dyn ConnObserver,
    closing: &'a Closing,
}

/// How a request exchange ended.
enum Next {
    /// The response went out and the connection is kept alive; pipelined bytes, if any.
    KeepAlive(Option<Vec<u8>>),
    /// The connection ends; linger first (a normal end) or not (an I/O failure).
    Close { linger: bool },
    /// The connection ends after a 408: a short linger, the client is slow or silent.
    TimedOut,
}

/// How the wait for a request ended.
enum Waited {
    /// Bytes arrived (the buffer holds them).
    Data(Vec<u8>),
    /// The connection ends.
    End { linger: bool },
}

/// Serve one HTTP/1.1 connection until it ends; returns what it did.
///
/// Apache's keep-alive rules (`KeepAlive`, `KeepAliveTimeout`, `MaxKeepAliveRequests`),
/// [`Closing`] (graceful restart: the next response says `Connection: close`), observer
/// transitions for the scoreboard, and a lingering close at the end — except after a
/// client that asked to close and sent nothing more, whose connection is closed at once
/// (RFC 9112 §9.6: it may send nothing more, so no unread byte can reset the response).
/// No buffer is held while the connection waits for a request.
///
/// `call` answers each request with a [`Reply`]; how its body arrives is `mode`'s
/// ([`BodyMode`]: read whole first, at most `opts.max_body` bytes; or streamed as the
/// handler reads it, under `opts.body_limit`). The next request starts exactly where the
/// framing says this one's body ends: a body the handler left unread is read and dropped
/// (bounded) through the same decoder, or the connection closes. Errors (client reset,
/// malformed request, timeouts) end the connection and are logged at debug level only.
/// Timeouts need a runtime with its timer enabled (`enable_all`).
///
/// Framing (RFC 9112; see `framing.rs` and `chunked.rs` for each rule and its section):
/// chunk sizes `1*HEXDIG`, extensions without CR/LF/CTL, CRLF line ends in chunked
/// framing; one `Content-Length` of digits; `Transfer-Encoding` `chunked` once and last,
/// never on HTTP/1.0 or beside `Content-Length`; exactly one valid `Host` on HTTP/1.1;
/// the target's form matching the method; CONNECT answered 405. Any doubt: 400, close.
///
/// Timeouts (Apache's core `Timeout` and mod_reqtimeout's `RequestReadTimeout`, from
/// [`HttpOptions`]):
///
/// * the first request may take `min(Timeout, header timeout)` from accept to arrive (cut
///   to `KeepAliveTimeout` from the moment [`Closing`] fires); a later one
///   `KeepAliveTimeout` from the end of the previous response; either wait ends the
///   connection cleanly (FIN) without an answer;
/// * a request head must be complete within the header timeout (from accept for the first
///   request, from its first byte for later ones), extended by one second per
///   `header_min_rate` bytes up to `header_timeout_max`; the body within the body timeout
///   (extended by `body_min_rate`); every single read within `Timeout`. A request that
///   misses one of these is answered `408 Request Timeout` and the connection closed;
/// * every wait of a response write is bounded by `Timeout`, after which the connection is
///   dropped.
///
/// Limits: a request line over `LimitRequestLine` is answered 414, a field over
/// `LimitRequestFieldSize` or more than `LimitRequestFields` fields 431 (both checked while
/// the head arrives), a malformed head 400, HTTP/2+ 505, a body over `max_body` 413, an
/// unknown `Expect` 417, an unsupported transfer coding 501; each of these answers closes
/// the connection.
///
/// A request refused before its head could be parsed (400, 408, 414, 431, 505) is
/// reported `R`, `W`, `request_done`, with no request line; it counts as a request in the
/// summary. After a 408 the lingering close is the shorter one.
///
/// TLS: when `opts.tls` applies to the listener the connection came in on, the handshake
/// runs first, within the first request's deadline (`min(Timeout, header timeout)` from
/// accept), on this task; a client that stalls in it is cut there, having never reached a
/// handler. Then the connection is served exactly as a cleartext one, and ends with
/// close_notify. The TLS state (rustls' buffers) lives as long as the connection: only
/// cleartext connections hold nothing while idle.
pub async fn serve_lean<F, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    mode: BodyMode,
    call: F,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary
where
    F: Fn(Request<RequestBody>) -> Fut,
    Fut: Future<Output = Reply>,
{
    let accepted = Instant::now();
    // As Apache does for every connection: a response written in parts (a head, then its
    // body; chunk after chunk) must not wait for the client's delayed ACK.
    let _ = stream.set_nodelay(true);
    let h2_allowed = mode != BodyMode::Writer;
    let stream = match &opts.tls {
        Some(tls) if stream.local_addr().is_ok_and(|a| tls.applies_to(a)) => {
            // Boxed: a cleartext connection's task does not carry the handshake's state.
            let h2 = h2_allowed && opts.http2.h2;
            match Box::pin(handshake(stream, tls, h2, opts, accepted, peer)).await {
                Some(t) => t,
                None => {
                    observer.status(WorkerStatus::Closing);
                    return ConnSummary::default();
                }
            }
        }
        _ => Transport::Plain(stream),
    };
    #[cfg(all(feature = "tls", feature = "http2"))]
    if matches!(&stream, Transport::Tls(t) if t.alpn_is_h2()) {
        let (io, _) = Upgraded::new(Arc::new(stream), Bytes::new());
        let deadline = after(accepted, first_wait(opts));
        return Box::pin(crate::http::h2::serve_h2(
            io, peer, opts, mode, &call, observer, closing, deadline,
        ))
        .await;
    }
    let conn = Conn {
        stream: Arc::new(stream),
        peer,
        opts,
        mode,
        call,
        observer,
        closing,
    };
    let mut summary = ConnSummary::default();
    let mut pipelined: Option<Vec<u8>> = None;
    let linger = loop {
        let first = summary.requests == 0;
        let (buf, head_start) = match pipelined.take() {
            Some(buf) => (buf, Instant::now()),
            None => match if first {
                // The first wait also watches for a graceful restart: boxed, so that the
                // state kept by every later (keep-alive) wait stays small.
                Box::pin(wait_first(&conn, accepted)).await
            } else {
                wait_next(&conn).await
            } {
                Waited::Data(buf) => (buf, if first { accepted } else { Instant::now() }),
                Waited::End { linger } => break linger.then_some(LINGER),
            },
        };
        // RFC 9113 §3.3: a cleartext connection that opens with the HTTP/2 preface
        // speaks HTTP/2 (`Protocols h2c`).
        #[cfg(feature = "http2")]
        if first && h2_allowed && opts.http2.h2c && is_preface(&buf) {
            let (io, _) = Upgraded::new(conn.stream.clone(), Bytes::from(buf));
            let deadline = after(accepted, first_wait(opts));
            return Box::pin(crate::http::h2::serve_h2(
                io, peer, opts, mode, &conn.call, observer, closing, deadline,
            ))
            .await;
        }
        observer.status(WorkerStatus::BusyRead);
        // Everything a request needs lives in this box, freed when the response is out.
        match Box::pin(exchange(&conn, buf, head_start, &mut summary)).await {
            Next::KeepAlive(rest) => pipelined = rest,
            Next::Close { linger: false } => break None,
            Next::Close { linger: true } => break Some(LINGER),
            Next::TimedOut => break Some(LINGER_AFTER_TIMEOUT),
        }
    };
    observer.status(WorkerStatus::Closing);
    if let Some(linger) = linger {
        io::lingering_close(&conn.stream, linger).await;
    }
    summary
}

/// The HTTP/2 connection preface (RFC 9113 §3.4), or as much of it as arrived (at least
/// its first four bytes, which no HTTP/1.1 method starts with).
#[cfg(feature = "http2")]
fn is_preface(buf: &[u8]) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let n = buf.len().min(PREFACE.len());
    n >= 4 && buf[..n] == PREFACE[..n]
}

/// The first request's deadline from accept: `min(Timeout, header timeout)`.
fn first_wait(opts: &HttpOptions) -> std::time::Duration {
    let mut limit = opts.timeout;
    if !opts.limits.header_timeout.is_zero() {
        limit = limit.min(opts.limits.header_timeout);
    }
    limit
}

/// The TLS handshake, within the first request's deadline; `None` when it failed or
/// missed it. `h2`: offer ALPN `h2`.
#[cfg_attr(not(feature = "tls"), allow(unused_variables))]
async fn handshake(
    stream: TcpStream,
    tls: &crate::tls::TlsAcceptor,
    h2: bool,
    opts: &HttpOptions,
    accepted: Instant,
    peer: SocketAddr,
) -> Option<Transport> {
    #[cfg(feature = "tls")]
    {
        let deadline = after(accepted, first_wait(opts));
        let config = match (&tls.config_h2, h2) {
            (Some(c), true) => c.clone(),
            _ => tls.config.clone(),
        };
        match crate::tls::conn::TlsConn::accept(stream, config, deadline).await {
            Ok(t) => Some(Transport::Tls(Box::new(t))),
            Err(e) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed; closing");
                None
            }
        }
    }
    #[cfg(not(feature = "tls"))]
    Some(Transport::Plain(stream))
}

/// Wait for the first request: `min(Timeout, header timeout)` from accept, cut to
/// `KeepAliveTimeout` from the moment [`Closing`] fires.
async fn wait_first<F>(conn: &Conn<'_, F>, accepted: Instant) -> Waited {
    let o = conn.opts;
    let sleep = sleep_until(after(accepted, first_wait(o)));
    tokio::pin!(sleep);
    wait_readable(conn, sleep, true).await
}

/// Wait for a request on a kept-alive connection: `KeepAliveTimeout` from now.
async fn wait_next<F>(conn: &Conn<'_, F>) -> Waited {
    let sleep = sleep_until(after(Instant::now(), conn.opts.keep_alive_timeout));
    tokio::pin!(sleep);
    wait_readable(conn, sleep, false).await
}

/// Apply a graceful stop to an idle wait's deadline: once [`Closing`] has expired, the wait
/// ends now; once it is closed, a connection that has not sent its `first` request yet
/// waits at most `KeepAliveTimeout` more.
fn cut_deadline<F>(conn: &Conn<'_, F>, sleep: &mut Pin<&mut Sleep>, first: bool) {
    let cut = if conn.closing.is_expired() {
        Instant::now()
    } else if first && conn.closing.is_closed() {
        after(Instant::now(), conn.opts.keep_alive_timeout)
    } else {
        return;
    };
    if cut < sleep.deadline() {
        sleep.as_mut().reset(cut);
    }
}

/// Whether bytes wait in the socket's receive queue, asked of the kernel itself (the
/// runtime's readiness may not have caught up with them yet).
fn bytes_waiting(stream: &TcpStream) -> bool {
    matches!(io::peek(stream), Ok(n) if n > 0)
}

/// Wait, holding no buffer, until a request's first bytes arrive or `sleep` fires. A
/// graceful stop ([`Closing`]) cuts the wait (see [`cut_deadline`]); when its drain deadline
/// ends the wait, the connection is closed only if no byte of a request is waiting.
async fn wait_readable<F>(conn: &Conn<'_, F>, mut sleep: Pin<&mut Sleep>, first: bool) -> Waited {
    // Created before the flags are read, so no change between the two is missed.
    let notified = conn.closing.notified();
    tokio::pin!(notified);
    cut_deadline(conn, &mut sleep, first);
    if let (true, Transport::Plain(tcp)) = (first, &*conn.stream) {
        // A new connection's request has usually arrived with it (or right behind the
        // handshake): read it now instead of asking the poller first.
        let mut buf = take_buf();
        let read = crate::sys::recv::recv_spare(tcp, &mut buf);
        if let Some(waited) = read_outcome(conn, buf, read) {
            return waited;
        }
    }
    let mut spared = false;
    loop {
        let ready = poll_fn(|cx| {
            if let Poll::Ready(r) = conn.stream.poll_read_ready(cx) {
                return Poll::Ready(Some(r));
            }
            while notified.as_mut().poll(cx).is_ready() {
                notified.set(conn.closing.notified());
                if !spared {
                    cut_deadline(conn, &mut sleep, first);
                }
            }
            sleep.as_mut().poll(cx).map(|()| None)
        })
        .await;
        match ready {
            None if conn.closing.is_expired() && !spared && bytes_waiting(conn.stream.tcp()) => {
                // A request is arriving as the drain deadline passes: answer it (with
                // `Connection: close`) rather than cut it off.
                spared = true;
                sleep
                    .as_mut()
                    .reset(after(Instant::now(), conn.opts.timeout));
                continue;
            }
            None => {
                tracing::debug!(peer = %conn.peer, "idle connection timed out; closing");
                return Waited::End { linger: true };
            }
            Some(Err(e)) => {
                tracing::debug!(peer = %conn.peer, error = %e, "connection failed while idle");
                return Waited::End { linger: false };
            }
            Some(Ok(())) => {}
        }
        let mut buf = take_buf();
        let read = conn.stream.try_read_buf(&mut buf);
        if let Some(waited) = read_outcome(conn, buf, read) {
            return waited;
        }
    }
}

/// What one read of a waiting connection into `buf` found: a request's first bytes, the
/// connection's end, or `None` when nothing was there after all (`buf` is given back).
fn read_outcome<F>(
    conn: &Conn<'_, F>,
    buf: Vec<u8>,
    read: std::io::Result<usize>,
) -> Option<Waited> {
    match read {
        Ok(0) => {
            give_buf(buf);
            Some(Waited::End { linger: true })
        }
        Ok(_) => Some(Waited::Data(buf)),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            give_buf(buf);
            None
        }
        Err(e) => {
            give_buf(buf);
            tracing::debug!(peer = %conn.peer, error = %e, "connection failed while idle");
            Some(Waited::End { linger: false })
        }
    }
}
