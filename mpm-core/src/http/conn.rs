//! One HTTP/1.1 connection served by hyper, with Apache's keep-alive rules and timeouts.
//!
//! hyper parses and writes; this module decides when a connection ends and reports its state:
//!
//! * The socket is wrapped in [`ObservedIo`], which sees every read and write. It reports
//!   `R` on the first byte of a request head and enforces the timeouts:
//!   - waiting for the first request of a connection: `Timeout` (as Apache's core does)
//!     and the head deadline (`RequestReadTimeout header=`), which runs from accept — so a
//!     client that connects and sends nothing is closed at `header_timeout`; cut to
//!     `KeepAliveTimeout` from the moment [`Closing`] fires;
//!   - waiting for a later request on a kept-alive connection: `KeepAliveTimeout` (the
//!     head deadline does not run yet);
//!
//!   either wait ends the connection cleanly: the read reports end-of-file to hyper, which
//!   closes the connection as if the client had gone (FIN, never a reset);
//!
//!   - reading a started request head: `Timeout` per read and the head deadline (from
//!     accept for the first request, from its first byte for later ones), extended by one
//!     second per `MinRate` bytes up to its maximum; reading the body: `Timeout` per read
//!     and the body deadline (from the end of the head), extended the same way. When
//!     either passes, the request is answered `408 Request Timeout` (unless response bytes
//!     were already sent) and the connection closes;
//!   - writing a response: `Timeout` per write, after which the connection is dropped;
//!   - while the handler runs, nothing is read and no read timeout applies.
//! * The bytes of a head are checked as they arrive, before hyper parses them: a request
//!   line over `LimitRequestLine` is answered `414`, a header field over
//!   `LimitRequestFieldSize` or more than `LimitRequestFields` fields `431`. (hyper's own
//!   `max_headers` and buffer limit, sized from the same limits, back this up for heads
//!   that arrived pipelined behind a previous request.) These answers, and the 408s, are
//!   written by this module after hyper gives up on the connection.
//! * The per-request service collects the body (413 over `max_body`), calls the handler
//!   and decides whether this response is the connection's last (`KeepAlive Off`,
//!   `MaxKeepAliveRequests`, [`Closing`], the client asked, the body was not read): if so
//!   it adds `Connection: close` and hyper ends the connection after writing it.
//! * At the end the connection is closed "lingering": our side is shut down for writing,
//!   then what the client still sends is read and dropped (for at most [`LINGER`]), so the
//!   kernel never answers unread data with a reset that would destroy the last response.

use super::{call_handler, text_response, Closing, ConnObserver, HttpHandler, HttpOptions};
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{sleep, sleep_until, Instant, Sleep};

/// How long a closing connection keeps reading (and dropping) what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

/// The shorter lingering close after a 408: the client is slow or silent, so it gets a
/// moment to read the answer but does not hold the connection for long.
pub const LINGER_AFTER_TIMEOUT: Duration = Duration::from_millis(500);

/// hyper's read buffer must hold a whole head within our limits (hyper's default is
/// ~400 KB; Apache's defaults allow 8190 + 100 × 8190 bytes). Capped at 64 MiB.
fn hyper_buf_size(l: &super::RequestLimits) -> usize {
    const HYPER_DEFAULT: usize = 8192 + 4096 * 100;
    let line = if l.request_line == 0 {
        65_536
    } else {
        l.request_line
    };
    let field = if l.field_size == 0 {
        65_536
    } else {
        l.field_size
    };
    let fields = if l.fields == 0 {
        super::MAX_FIELDS_UNLIMITED
    } else {
        l.fields
    };
    let head = line
        .saturating_add(fields.saturating_mul(field.saturating_add(2)))
        .saturating_add(4);
    head.clamp(HYPER_DEFAULT, 64 << 20)
}

/// hyper's header-count limit: only set when it differs from hyper's default (100), since
/// setting it costs a heap allocation per request.
fn hyper_max_headers(l: &super::RequestLimits) -> Option<usize> {
    match l.fields {
        100 => None,
        0 => Some(super::MAX_FIELDS_UNLIMITED),
        n => Some(n.min(super::MAX_FIELDS_UNLIMITED)),
    }
}

/// Write a minimal `Connection: close` answer with `status` (bounded by `timeout`);
/// returns the body length written.
async fn write_rejection(stream: &TcpStream, status: StatusCode, timeout: Duration) -> u64 {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!("{reason}\n");
    let msg = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        body.len()
    );
    let mut rest = msg.as_bytes();
    let deadline = Instant::now() + timeout;
    while !rest.is_empty() {
        match tokio::time::timeout_at(deadline, stream.writable()).await {
            Err(_) | Ok(Err(_)) => return 0,
            Ok(Ok(())) => {}
        }
        match stream.try_write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return 0,
        }
    }
    body.len() as u64
}

/// What one connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnSummary {
    /// Requests answered (including error answers such as 413).
    pub requests: u64,
    /// Response body bytes produced.
    pub bytes: u64,
}

/// Where the connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Waiting for a request head; no byte of it seen yet.
    Idle = 0,
    /// Some bytes of a request head have arrived.
    Head = 1,
    /// The head is parsed; the body is being read.
    Body = 2,
    /// The handler runs or its response is being written.
    Handling = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Idle,
            1 => Phase::Head,
            2 => Phase::Body,
            _ => Phase::Handling,
        }
    }
}

/// State shared between the socket wrapper, the service and the response bodies.
#[derive(Debug)]
struct Shared {
    phase: AtomicU8,
    /// hyper has taken (and dropped) the body of the response being written.
    response_taken: AtomicBool,
    /// The response being written is the connection's last.
    last: AtomicBool,
    requests: AtomicU64,
    bytes: AtomicU64,
    /// A status this module answers itself (414, 431, 408) after hyper gave up; 0 = none.
    reject: AtomicU16,
    /// Some response bytes were written since the current request head began.
    sent: AtomicBool,
}

impl Shared {
    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Relaxed))
    }
    fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Relaxed);
    }
}

/// The response body: the handler's bytes, plus a note to the connection when hyper is done
/// with it (dropped after its last byte went into hyper's write buffer, or on abort).
struct TrackedBody {
    inner: Full<Bytes>,
    shared: Arc<Shared>,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.shared.response_taken.store(true, Relaxed);
    }
}

/// The socket as hyper sees it: every read and write observed, timeouts enforced.
struct ObservedIo<'a> {
    stream: &'a TcpStream,
    shared: &'a Shared,
    observer: &'a dyn ConnObserver,
    opts: &'a HttpOptions,
    closing: &'a Closing,
    /// Wakes a connection waiting for its first request when [`Closing`] fires.
    closed_wait: Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>>,
    /// The pending read's deadline and its timer (reset, not reallocated, when it moves).
    read_timer: Option<(Instant, Pin<Box<Sleep>>)>,
    write_timer: Option<Pin<Box<Sleep>>>,
    /// When the connection was accepted (the first head's deadline runs from here).
    accepted: Instant,
    /// When the connection last became idle (the keep-alive wait runs from here).
    idle_since: Instant,
    /// When [`Closing`] was first seen while waiting for the first request.
    closing_since: Option<Instant>,
    /// The last successful read (`Timeout` bounds each wait inside a request).
    last_read: Instant,
    /// The mod_reqtimeout clock of the head or body being read.
    stage: StageClock,
    /// The size limits, checked on the bytes of a head as they arrive.
    scan: HeadScan,
}

/// When a stage (head or body) began and how many bytes it received.
#[derive(Debug, Clone, Copy)]
struct StageClock {
    phase: Phase,
    start: Instant,
    bytes: u64,
}

/// What happens when a read deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expire {
    /// No request started: end the connection as if the client had closed (FIN).
    Eof,
    /// A request started: answer 408 (if nothing was sent yet) and close.
    RequestTimeout,
}

/// mod_reqtimeout's deadline: `start + timeout`, one second more per `rate` bytes
/// received, never beyond `start + max`.
fn stage_deadline(
    start: Instant,
    timeout: Duration,
    max: Duration,
    rate: u32,
    bytes: u64,
) -> Instant {
    let mut d = timeout;
    if rate > 0 {
        let extra = Duration::from_secs_f64(bytes as f64 / f64::from(rate));
        d = d.saturating_add(extra).min(max.max(timeout));
    }
    start
        .checked_add(d)
        .unwrap_or_else(|| start + super::UNBOUNDED)
}

/// Checks a request head's size limits on the raw bytes as they are read, before hyper
/// parses them: the request line (→ 414), each header field and their count (→ 431).
///
/// It sees the bytes read while a head is expected; heads already in hyper's buffer when
/// the previous request ended (pipelining) are bounded by hyper's own `max_headers` and
/// buffer size instead.
#[derive(Debug, Default, Clone, Copy)]
struct HeadScan {
    /// Bytes of the current line (without CR/LF).
    line_len: usize,
    /// Complete non-empty lines so far (the first is the request line).
    lines: usize,
    /// The empty line ending the head was seen.
    done: bool,
}

impl HeadScan {
    fn feed(&mut self, bytes: &[u8], l: &super::RequestLimits) -> Result<(), StatusCode> {
        for &b in bytes {
            if self.done {
                break;
            }
            match b {
                b'\n' => {
                    if self.line_len == 0 {
                        // Empty lines before the request line are tolerated (RFC 9112 2.2).
                        self.done = self.lines > 0;
                    } else {
                        self.lines += 1;
                        if l.fields > 0 && self.lines > l.fields + 1 {
                            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
                        }
                    }
                    self.line_len = 0;
                }
                b'\r' => {}
                _ => {
                    self.line_len += 1;
                    if self.lines == 0 {
                        if l.request_line > 0 && self.line_len > l.request_line {
                            return Err(StatusCode::URI_TOO_LONG);
                        }
                    } else if l.field_size > 0 && self.line_len > l.field_size {
                        return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
                    }
                }
            }
        }
        Ok(())
    }
}

impl ObservedIo<'_> {
    /// After the last response was flushed, the connection waits for its next request.
    fn maybe_response_flushed(&mut self) {
        if self.shared.phase() == Phase::Handling && self.shared.response_taken.load(Relaxed) {
            self.shared.response_taken.store(false, Relaxed);
            self.shared.set_phase(Phase::Idle);
            self.idle_since = Instant::now();
            if !self.shared.last.load(Relaxed) {
                self.observer.status(WorkerStatus::BusyKeepalive);
            }
        }
    }

    /// Until when the pending read may wait, and what happens then (`None`: no limit,
    /// the handler runs).
    fn read_deadline(&mut self, cx: &mut Context<'_>) -> Option<(Instant, Expire)> {
        let o = self.opts;
        let l = &o.limits;
        match self.shared.phase() {
            Phase::Idle if self.shared.requests.load(Relaxed) == 0 => {
                // The first request: `Timeout`, and the head deadline from accept (a client
                // that connects and sends nothing is closed at `header_timeout`).
                let mut deadline = self.accepted + o.timeout;
                if !l.header_timeout.is_zero() {
                    deadline = deadline.min(self.accepted + l.header_timeout);
                }
                if !self.closing.is_closed() {
                    let closing = self.closing;
                    let wait = self
                        .closed_wait
                        .get_or_insert_with(|| Box::pin(closing.closed()));
                    if wait.as_mut().poll(cx).is_pending() {
                        return Some((deadline, Expire::Eof));
                    }
                }
                // A graceful restart began before this connection sent anything: give it
                // the keep-alive timeout from then rather than the whole `Timeout`.
                self.closed_wait = None;
                let since = *self.closing_since.get_or_insert_with(Instant::now);
                let deadline = deadline.min(since + o.timeout.min(o.keep_alive_timeout));
                Some((deadline, Expire::Eof))
            }
            Phase::Idle => Some((self.idle_since + o.keep_alive_timeout, Expire::Eof)),
            phase @ (Phase::Head | Phase::Body) => {
                let mut deadline = self.last_read + o.timeout;
                let (timeout, max, rate) = if phase == Phase::Head {
                    (l.header_timeout, l.header_timeout_max, l.header_min_rate)
                } else {
                    (l.body_timeout, l.body_timeout_max, l.body_min_rate)
                };
                if !timeout.is_zero() && self.stage.phase == phase {
                    let s = self.stage;
                    deadline = deadline.min(stage_deadline(s.start, timeout, max, rate, s.bytes));
                }
                Some((deadline, Expire::RequestTimeout))
            }
            Phase::Handling => None,
        }
    }

    /// Start the body's clock when hyper first reads the body.
    fn sync_stage(&mut self) {
        let phase = self.shared.phase();
        if phase == Phase::Body && self.stage.phase != Phase::Body {
            let now = Instant::now();
            self.stage = StageClock {
                phase,
                start: now,
                bytes: 0,
            };
            self.last_read = now;
        }
    }

    /// Note `n` bytes just read into `fresh`; `Err` when the head broke a size limit.
    fn on_read(&mut self, fresh: &[u8]) -> Result<(), StatusCode> {
        let now = Instant::now();
        self.last_read = now;
        if fresh.is_empty() {
            return Ok(());
        }
        if self.shared.phase() == Phase::Idle {
            self.shared.set_phase(Phase::Head);
            self.shared.sent.store(false, Relaxed);
            self.observer.status(WorkerStatus::BusyRead);
            let start = if self.shared.requests.load(Relaxed) == 0 {
                self.accepted
            } else {
                now
            };
            self.stage = StageClock {
                phase: Phase::Head,
                start,
                bytes: 0,
            };
            self.scan = HeadScan::default();
        }
        let phase = self.shared.phase();
        if phase == self.stage.phase {
            self.stage.bytes += fresh.len() as u64;
        }
        if phase == Phase::Head {
            self.scan.feed(fresh, &self.opts.limits)?;
        }
        Ok(())
    }

    fn reject(&self, status: StatusCode) {
        let _ = self
            .shared
            .reject
            .compare_exchange(0, status.as_u16(), Relaxed, Relaxed);
    }
}

fn timer(limit: Duration) -> Pin<Box<Sleep>> {
    Box::pin(sleep(limit))
}

impl AsyncRead for ObservedIo<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        this.sync_stage();
        loop {
            match this.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => break,
            }
            let before = buf.filled().len();
            match this.stream.try_read_buf(buf) {
                Ok(_) => {
                    this.closed_wait = None;
                    if let Err(status) = this.on_read(&buf.filled()[before..]) {
                        tracing::debug!(%status, "request head over a size limit");
                        this.reject(status);
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "request head over a size limit",
                        )));
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        // Nothing to read yet: how long may we wait?
        let Some((deadline, expire)) = this.read_deadline(cx) else {
            this.read_timer = None;
            return Poll::Pending;
        };
        match &mut this.read_timer {
            Some((d, t)) => {
                if *d != deadline {
                    t.as_mut().reset(deadline);
                    *d = deadline;
                }
            }
            None => this.read_timer = Some((deadline, Box::pin(sleep_until(deadline)))),
        }
        if let Some((_, t)) = this.read_timer.as_mut() {
            if t.as_mut().poll(cx).is_ready() {
                this.read_timer = None;
                if expire == Expire::Eof {
                    tracing::debug!("idle connection timed out; closing");
                    return Poll::Ready(Ok(()));
                }
                this.reject(StatusCode::REQUEST_TIMEOUT);
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "timed out reading the request",
                )));
            }
        }
        Poll::Pending
    }
}

impl ObservedIo<'_> {
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        mut attempt: impl FnMut(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.stream.poll_write_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => break,
            }
            match attempt(self.stream) {
                Ok(n) => {
                    self.write_timer = None;
                    if n > 0 {
                        self.shared.sent.store(true, Relaxed);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let limit = self.opts.timeout;
        let t = self.write_timer.get_or_insert_with(|| timer(limit));
        ready!(t.as_mut().poll(cx));
        self.write_timer = None;
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "timed out writing the response",
        )))
    }
}

impl AsyncWrite for ObservedIo<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |s| s.try_write(buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |s| s.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // hyper calls this after handing us everything it had buffered.
        self.maybe_response_flushed();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A rejected request is answered after hyper is done; the write side stays open
        // for that answer (`serve_http1` shuts it down afterwards).
        if self.shared.reject.load(Relaxed) != 0 {
            return Poll::Ready(Ok(()));
        }
        shutdown_write(self.stream);
        Poll::Ready(Ok(()))
    }
}

fn shutdown_write(stream: &TcpStream) {
    if let Err(e) = socket2::SockRef::from(stream).shutdown(Shutdown::Write) {
        if e.kind() != io::ErrorKind::NotConnected {
            tracing::debug!(error = %e, "shutdown(write) failed");
        }
    }
}

/// Read and drop what the client still sends after our FIN, until its FIN or `linger`.
async fn lingering_close(stream: &TcpStream, linger: Duration) {
    shutdown_write(stream);
    let deadline = Instant::now() + linger;
    let mut scratch = [0u8; 512];
    loop {
        match tokio::time::timeout_at(deadline, stream.readable()).await {
            Err(_) | Ok(Err(_)) => return,
            Ok(Ok(())) => {}
        }
        match stream.try_read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

fn request_line(req: &Request<Incoming>) -> String {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    format!("{} {} {:?}", req.method(), target, req.version())
}

fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn wants_close(resp: &Response<Bytes>) -> bool {
    resp.headers().get_all(CONNECTION).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
            .unwrap_or(false)
    })
}

/// Serve one HTTP/1.1 connection until it ends; returns what it did.
///
/// `call` produces the response of each request (its body already read, at most
/// `opts.max_body` bytes). The returned future borrows its arguments; to spawn it, move
/// owned values into an `async move` block and borrow them there:
///
/// ```ignore
/// tokio::spawn(async move { serve_http1(s, peer, &opts, call, &*observer, &closing).await });
/// ```
///
/// Timeouts need a runtime with its timer enabled (`enable_all`). Errors (client reset,
/// malformed request — hyper answers that with 400, timeouts) end the connection and are
/// logged at debug level only.
pub async fn serve_http1<F, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    call: F,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary
where
    F: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = Response<Bytes>>,
{
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(Phase::Idle as u8),
        response_taken: AtomicBool::new(false),
        last: AtomicBool::new(false),
        requests: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        reject: AtomicU16::new(0),
        sent: AtomicBool::new(false),
    });
    let accepted = Instant::now();
    let io = ObservedIo {
        stream: &stream,
        shared: &shared,
        observer,
        opts,
        closing,
        closed_wait: None,
        read_timer: None,
        write_timer: None,
        accepted,
        idle_since: accepted,
        closing_since: None,
        last_read: accepted,
        stage: StageClock {
            phase: Phase::Idle,
            start: accepted,
            bytes: 0,
        },
        scan: HeadScan::default(),
    };
    let call = &call;
    let shared_ref = &shared;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = Arc::clone(shared_ref);
        async move {
            let resp = respond(req, opts, call, observer, closing, &shared).await;
            Ok::<_, Infallible>(resp.map(|b| TrackedBody {
                inner: Full::new(b),
                shared,
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(opts.keep_alive)
        .half_close(true)
        .header_read_timeout(None)
        .max_buf_size(hyper_buf_size(&opts.limits));
    if let Some(n) = hyper_max_headers(&opts.limits) {
        builder.max_headers(n);
    }
    let result = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
    if let Some(status) = StatusCode::from_u16(shared.reject.load(Relaxed))
        .ok()
        .filter(|_| !shared.sent.load(Relaxed))
    {
        // A size limit or a read deadline ended the request before hyper answered: answer
        // it here, then close (lingering, so the answer is not destroyed by a reset).
        tracing::debug!(%peer, %status, "request rejected");
        observer.status(WorkerStatus::BusyWrite);
        let len = write_rejection(&stream, status, opts.timeout).await;
        shared.requests.fetch_add(1, Relaxed);
        shared.bytes.fetch_add(len, Relaxed);
        observer.request_done(len);
        observer.status(WorkerStatus::Closing);
        let linger = if status == StatusCode::REQUEST_TIMEOUT {
            LINGER_AFTER_TIMEOUT
        } else {
            LINGER
        };
        lingering_close(&stream, linger).await;
        return ConnSummary {
            requests: shared.requests.load(Relaxed),
            bytes: shared.bytes.load(Relaxed),
        };
    }
    // Linger only where the client may still be sending and should see our last response
    // (a normal end, a malformed request answered by hyper); after an I/O error (reset,
    // broken pipe, timeout) the connection is simply dropped.
    let linger = match result {
        Ok(()) => true,
        Err(e) => {
            let io_error = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<io::Error>())
                .is_some();
            tracing::debug!(%peer, error = %e, "connection ended with an error");
            !io_error
        }
    };
    observer.status(WorkerStatus::Closing);
    if linger {
        lingering_close(&stream, LINGER).await;
    }
    ConnSummary {
        requests: shared.requests.load(Relaxed),
        bytes: shared.bytes.load(Relaxed),
    }
}

/// One request: collect the body, call the handler, decide whether the connection goes on.
async fn respond<F, Fut>(
    req: Request<Incoming>,
    opts: &HttpOptions,
    call: &F,
    observer: &dyn ConnObserver,
    closing: &Closing,
    shared: &Shared,
) -> Response<Bytes>
where
    F: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = Response<Bytes>>,
{
    if shared.phase() != Phase::Head {
        // The head came from bytes already buffered (pipelining): no read was observed.
        observer.status(WorkerStatus::BusyRead);
    }
    shared.set_phase(Phase::Body);
    shared.response_taken.store(false, Relaxed);
    observer.request_line(&request_line(&req));
    let n = shared.requests.fetch_add(1, Relaxed) + 1;
    let is_head = req.method() == Method::HEAD;
    let max = opts.max_body;

    // Read the body, unless it is declared too large.
    let mut body_unread = false;
    let outcome: Result<Request<Bytes>, Response<Bytes>> =
        if declared_length(&req).is_some_and(|l| l > max as u64) {
            body_unread = true;
            Err(text_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large\n",
            ))
        } else {
            let (parts, body) = req.into_parts();
            match Limited::new(body, max).collect().await {
                Ok(c) => Ok(Request::from_parts(parts, c.to_bytes())),
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    body_unread = true;
                    Err(text_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Request Entity Too Large\n",
                    ))
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reading the request body failed");
                    body_unread = true;
                    if shared.reject.load(Relaxed) == StatusCode::REQUEST_TIMEOUT.as_u16() {
                        Err(text_response(
                            StatusCode::REQUEST_TIMEOUT,
                            "Request Timeout\n",
                        ))
                    } else {
                        Err(text_response(StatusCode::BAD_REQUEST, "Bad Request\n"))
                    }
                }
            }
        };

    shared.set_phase(Phase::Handling);
    observer.status(WorkerStatus::BusyWrite);
    let mut resp = match outcome {
        Ok(req) => call(req).await,
        Err(resp) => resp,
    };

    let limit = opts.max_keep_alive_requests;
    let last = body_unread
        || !opts.keep_alive
        || closing.is_closed()
        || (limit > 0 && n >= u64::from(limit))
        || wants_close(&resp);
    if last {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        shared.last.store(true, Relaxed);
    }
    let bytes = if is_head { 0 } else { resp.body().len() as u64 };
    shared.bytes.fetch_add(bytes, Relaxed);
    observer.request_done(bytes);
    resp
}

/// A current-thread tokio runtime with I/O and timers, as [`serve_http1_blocking`] needs.
///
/// Build it in the child (after `fork`), once per process (prefork) or per thread (worker).
pub fn current_thread_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Serve one connection on the calling thread, calling `handler` inline (prefork, worker).
///
/// `rt` must have I/O and timers enabled ([`current_thread_runtime`]). The handler runs
/// through [`call_handler`], so a panic is one 500 response. The stream may be blocking or
/// not; it is switched to non-blocking mode here.
pub fn serve_http1_blocking(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    handler: &dyn HttpHandler,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary {
    let call = |req: Request<Bytes>| std::future::ready(call_handler(handler, req));
    super::blocking::serve_on(rt, stream, peer, observer, |s| {
        serve_http1(s, peer, opts, call, observer, closing)
    })
}
