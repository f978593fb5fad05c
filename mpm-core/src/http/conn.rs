//! One HTTP/1.1 connection served by hyper, with Apache's keep-alive rules and timeouts.
//!
//! hyper parses and writes; this module decides when a connection ends and reports its state:
//!
//! * The socket is wrapped in [`ObservedIo`], which sees every read and write. It reports
//!   `R` on the first byte of a request head and enforces the timeouts:
//!   - waiting for the first request of a connection: `Timeout` (as Apache's core does),
//!     cut to `KeepAliveTimeout` from the moment [`Closing`] fires;
//!   - waiting for a later request on a kept-alive connection: `KeepAliveTimeout`;
//!
//!   either wait ends the connection cleanly: the read reports end-of-file to hyper, which
//!   closes the connection as if the client had gone (FIN, never a reset);
//!
//!   - reading a started request head or its body, and writing a response: `Timeout` per
//!     read or write, after which the connection is dropped;
//!   - while the handler runs, nothing is read and no read timeout applies.
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{sleep, Instant, Sleep};

/// How long a closing connection keeps reading (and dropping) what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

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
    /// The pending read's deadline, and the wait it was set for.
    read_timer: Option<(Wait, Pin<Box<Sleep>>)>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl ObservedIo<'_> {
    /// After the last response was flushed, the connection waits for its next request.
    fn maybe_response_flushed(&mut self) {
        if self.shared.phase() == Phase::Handling && self.shared.response_taken.load(Relaxed) {
            self.shared.response_taken.store(false, Relaxed);
            self.shared.set_phase(Phase::Idle);
            if !self.shared.last.load(Relaxed) {
                self.observer.status(WorkerStatus::BusyKeepalive);
            }
        }
    }

    /// What the connection is waiting for, and for how long it may wait.
    fn read_wait(&mut self, cx: &mut Context<'_>) -> (Wait, Option<Duration>) {
        let phase = self.shared.phase();
        let o = self.opts;
        match phase {
            Phase::Idle if self.shared.requests.load(Relaxed) == 0 => {
                if !self.closing.is_closed() {
                    let closing = self.closing;
                    let wait = self
                        .closed_wait
                        .get_or_insert_with(|| Box::pin(closing.closed()));
                    if wait.as_mut().poll(cx).is_pending() {
                        return (Wait::First, Some(o.timeout));
                    }
                }
                // A graceful restart began before this connection sent anything: give it
                // the keep-alive timeout from now rather than the whole `Timeout`.
                self.closed_wait = None;
                let limit = o.timeout.min(o.keep_alive_timeout);
                (Wait::FirstClosing, Some(limit))
            }
            Phase::Idle => (Wait::Next, Some(o.keep_alive_timeout)),
            Phase::Head | Phase::Body => (Wait::InRequest, Some(o.timeout)),
            Phase::Handling => (Wait::Handler, None),
        }
    }
}

/// What a pending read waits for (a timer is re-armed when this changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The first request of the connection.
    First,
    /// The first request, after [`Closing`] fired.
    FirstClosing,
    /// The next request on a kept-alive connection.
    Next,
    /// More of a started request (head or body).
    InRequest,
    /// Nothing: the handler runs.
    Handler,
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
        loop {
            match this.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => break,
            }
            match this.stream.try_read_buf(buf) {
                Ok(n) => {
                    this.read_timer = None;
                    this.closed_wait = None;
                    if n > 0 && this.shared.phase() == Phase::Idle {
                        this.shared.set_phase(Phase::Head);
                        this.observer.status(WorkerStatus::BusyRead);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        // Nothing to read yet: how long may we wait?
        let (wait, limit) = this.read_wait(cx);
        let Some(limit) = limit else {
            this.read_timer = None;
            return Poll::Pending;
        };
        if this.read_timer.as_ref().map(|(w, _)| *w) != Some(wait) {
            this.read_timer = Some((wait, timer(limit)));
        }
        if let Some((_, t)) = this.read_timer.as_mut() {
            if t.as_mut().poll(cx).is_ready() {
                this.read_timer = None;
                if wait != Wait::InRequest {
                    // No request started: end the connection as if the client had closed.
                    tracing::debug!(?limit, "idle connection timed out; closing");
                    return Poll::Ready(Ok(()));
                }
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

/// Read and drop what the client still sends after our FIN, until its FIN or [`LINGER`].
async fn lingering_close(stream: &TcpStream) {
    shutdown_write(stream);
    let deadline = Instant::now() + LINGER;
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
    });
    let io = ObservedIo {
        stream: &stream,
        shared: &shared,
        observer,
        opts,
        closing,
        closed_wait: None,
        read_timer: None,
        write_timer: None,
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
    let result = hyper::server::conn::http1::Builder::new()
        .keep_alive(opts.keep_alive)
        .half_close(true)
        .header_read_timeout(None)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
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
        lingering_close(&stream).await;
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
                    Err(text_response(StatusCode::BAD_REQUEST, "Bad Request\n"))
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
    rt.block_on(async {
        let stream = match stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "cannot register the connection");
                observer.status(WorkerStatus::Closing);
                return ConnSummary::default();
            }
        };
        let call = |req: Request<Bytes>| std::future::ready(call_handler(handler, req));
        serve_http1(stream, peer, opts, call, observer, closing).await
    })
}
