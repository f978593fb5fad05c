//! Handlers and the HTTP/1.1 engine that serves them.
//!
//! One engine frames every request under every strategy ([`serve_lean`], strict about
//! framing: see its documentation). Handler kinds:
//!
//! * [`HttpHandler`] — blocking, `Request<Bytes> → Response<Bytes>`, the body read whole
//!   first (at most [`HttpOptions::max_body`]); the usual way to write a server with mpm.
//! * [`StreamHandler`] — blocking, streamed: the body as a [`std::io::Read`]
//!   ([`BodyReader`]), the response through a [`ResponseWriter`] whose body is a
//!   [`std::io::Write`].
//! * [`AsyncHandler`] — `async`, whole request and response.
//! * [`ServiceHandler`] — `async`, streamed bodies both ways ([`RequestBody`] is an
//!   `http_body::Body`), upgrades through [`OnUpgrade`]; any `tower::Service` with
//!   [`Handler::tower`] (feature `tower`).
//! * [`ConnectionHandler`] — a raw blocking [`TcpStream`] for other protocols.
//!
//! The same handler runs unchanged under prefork, worker and event.

mod blocking;
mod dispatch;
#[cfg(feature = "http2")]
mod h2;
mod lean;
pub(crate) mod request_line;
mod runtime;
mod service;
#[cfg(feature = "tower")]
mod tower;

pub use blocking::serve_lean_blocking;

/// Whether HTTP/2 is compiled in (the `http2` feature): `<IfModule http2_module>` is true
/// then.
pub const HTTP2_COMPILED_IN: bool = cfg!(feature = "http2");
pub use dispatch::{reply_async, reply_blocking, reply_service, reply_stream};
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use lean::fuzzing;
pub use lean::{
    boxed, serve_lean, BodyError, BodyMode, BodyReader, BodyWriter, BoxError, HandOff,
    HandOffFuture, OnUpgrade, Reply, ReplyWriter, RequestBody, ResponseBody, ResponseWriter,
    UpgradeError, Upgraded,
};
pub use request_line::{observe_request, request_line};
pub use runtime::{current_thread_runtime, ConnSummary, LINGER, LINGER_AFTER_TIMEOUT};
pub use service::{
    call_async, call_service, AsyncHandler, ReplyFuture, ResponseFuture, ServiceHandler,
};

use crate::config::ServerConfig;
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::fmt;
use std::net::{SocketAddr, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A blocking HTTP handler: one request in, one response out.
///
/// It is called on a worker thread (prefork: the process's only thread); it may block.
/// A panic costs that one response (500), never the worker: see [`call_handler`].
pub trait HttpHandler: Send + Sync + 'static {
    /// Answer one request. The request body has been read completely.
    fn handle(&self, req: Request<Bytes>) -> Response<Bytes>;
}

impl<F> HttpHandler for F
where
    F: Fn(Request<Bytes>) -> Response<Bytes> + Send + Sync + 'static,
{
    fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        self(req)
    }
}

/// A blocking handler of raw connections, for protocols other than HTTP.
///
/// It owns the stream (blocking mode) and returns when it is done with the connection.
pub trait ConnectionHandler: Send + Sync + 'static {
    /// Serve one accepted connection from `peer`.
    fn handle(&self, stream: TcpStream, peer: SocketAddr);
}

impl<F> ConnectionHandler for F
where
    F: Fn(TcpStream, SocketAddr) + Send + Sync + 'static,
{
    fn handle(&self, stream: TcpStream, peer: SocketAddr) {
        self(stream, peer)
    }
}

/// A blocking handler with streamed bodies: it reads the request body as it arrives
/// ([`BodyReader`] is a [`std::io::Read`]) and writes the response as it is produced
/// ([`ResponseWriter::start`] gives a [`std::io::Write`]), so memory stays bounded
/// whatever the body sizes. Every read and write waits at most `Timeout`.
///
/// A panic before the head is sent costs a 500; after it, the connection is cut so the
/// client sees a truncated response.
pub trait StreamHandler: Send + Sync + 'static {
    /// Answer one request through `res`.
    fn handle(&self, req: Request<BodyReader>, res: ResponseWriter);
}

impl<F> StreamHandler for F
where
    F: Fn(Request<BodyReader>, ResponseWriter) + Send + Sync + 'static,
{
    fn handle(&self, req: Request<BodyReader>, res: ResponseWriter) {
        self(req, res)
    }
}

/// The handler a server runs.
#[derive(Clone)]
pub enum Handler {
    /// Blocking, whole requests and responses.
    Http(Arc<dyn HttpHandler>),
    /// Blocking, streamed bodies.
    Stream(Arc<dyn StreamHandler>),
    /// The handler gets the accepted connection itself.
    Connection(Arc<dyn ConnectionHandler>),
    /// Non-blocking, whole requests and responses: inline on the event connection layer,
    /// on each worker's runtime otherwise.
    Async(Arc<dyn AsyncHandler>),
    /// Non-blocking, streamed bodies (a `tower::Service` becomes one): where
    /// [`Handler::Async`] runs.
    Service(Arc<dyn ServiceHandler>),
}

impl Handler {
    /// An HTTP handler (any `Fn(Request<Bytes>) -> Response<Bytes>` will do).
    pub fn http(h: impl HttpHandler) -> Handler {
        Handler::Http(Arc::new(h))
    }

    /// A blocking streaming handler (any `Fn(Request<BodyReader>, ResponseWriter)`).
    pub fn stream(h: impl StreamHandler) -> Handler {
        Handler::Stream(Arc::new(h))
    }

    /// A raw connection handler (any `Fn(TcpStream, SocketAddr)` will do).
    pub fn connection(h: impl ConnectionHandler) -> Handler {
        Handler::Connection(Arc::new(h))
    }

    /// An async handler (any `Fn(Request<Bytes>) -> impl Future<Output = Response<Bytes>>`
    /// that is `Send + Sync`, with a `Send` future).
    pub fn asynchronous(h: impl AsyncHandler) -> Handler {
        Handler::Async(Arc::new(h))
    }

    /// An async handler with streamed bodies (any
    /// `Fn(Request<RequestBody>) -> impl Future<Output = Response<B>>`, `B` an
    /// `http_body::Body` of `Bytes`).
    pub fn service(h: impl ServiceHandler) -> Handler {
        Handler::Service(Arc::new(h))
    }

    /// How this handler takes request bodies.
    pub fn body_mode(&self) -> BodyMode {
        match self {
            Handler::Http(_) | Handler::Async(_) | Handler::Connection(_) => BodyMode::Buffered,
            Handler::Stream(_) => BodyMode::Writer,
            Handler::Service(_) => BodyMode::Streamed,
        }
    }

    /// Whether calls of this handler block their thread (they need a worker thread).
    pub fn is_blocking(&self) -> bool {
        matches!(
            self,
            Handler::Http(_) | Handler::Stream(_) | Handler::Connection(_)
        )
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handler::Http(_) => f.write_str("Handler::Http(..)"),
            Handler::Stream(_) => f.write_str("Handler::Stream(..)"),
            Handler::Connection(_) => f.write_str("Handler::Connection(..)"),
            Handler::Async(_) => f.write_str("Handler::Async(..)"),
            Handler::Service(_) => f.write_str("Handler::Service(..)"),
        }
    }
}

/// A plain-text response with the given status and body.
pub fn text_response(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(body.as_bytes()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

/// Call `h`, turning a panic into a `500 Internal Server Error` response.
///
/// The panic is logged with `tracing::error!` together with the request's method and URI;
/// it never unwinds into the caller. (The process's panic hook still runs first; by default
/// it prints the panic to stderr — a server that wants only the log line installs its own
/// hook.)
pub fn call_handler(h: &dyn HttpHandler, req: Request<Bytes>) -> Response<Bytes> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    match catch_unwind(AssertUnwindSafe(|| h.handle(req))) {
        Ok(resp) => resp,
        Err(payload) => {
            tracing::error!(
                %method,
                %uri,
                panic = panic_message(&*payload),
                "handler panicked; answered 500"
            );
            // Dropping the payload could itself panic (a panicking Drop); do not let that
            // escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            text_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
        }
    }
}

/// The HTTP/1.1 connection settings, from Apache's directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// `KeepAlive`: when off, every response carries `Connection: close`.
    pub keep_alive: bool,
    /// `KeepAliveTimeout`: how long a kept-alive connection may wait for its next request.
    pub keep_alive_timeout: Duration,
    /// `MaxKeepAliveRequests`: the N-th response on a connection closes it (0 = unlimited).
    pub max_keep_alive_requests: u32,
    /// `Timeout`: bounds each read and write within a request, and the wait for the first
    /// request of a new connection.
    pub timeout: Duration,
    /// The largest request body read into memory for a buffered handler ([`HttpHandler`],
    /// [`AsyncHandler`]); a larger one is answered with 413. `min(LimitRequestBody,
    /// [DEFAULT_MAX_BODY])` from a configuration.
    pub max_body: usize,
    /// `LimitRequestBody` for streamed bodies (`None`: unlimited): a larger body is
    /// answered 413 if it declares its length, and ends with an error for the handler (and
    /// a 413 if no response went out yet) when it grows beyond the limit.
    pub body_limit: Option<u64>,
    /// Request-size limits and read deadlines (mod_reqtimeout / LimitRequest* directives).
    pub limits: RequestLimits,
    /// TLS on the listeners that speak it (`Listen … https`, `SSLEngine on`): set by
    /// [`HttpOptions::for_child`]; `None` serves every connection in cleartext.
    pub tls: Option<crate::tls::TlsAcceptor>,
    /// `Protocols` and mod_http2's limits: `h2`/`h2c` are offered only when HTTP/2 is
    /// compiled in (feature `http2`) and the strategy is not prefork (as mod_http2).
    pub http2: crate::config::Http2Settings,
    /// Offer the call a [`ReplyWriter`] in a buffered request's extensions, so that the
    /// thread that runs a blocking handler writes its whole response itself (cleartext,
    /// no upgrade). For a strategy whose handlers run on other threads than the
    /// connections (event's worker pool); off by default.
    pub reply_writer: bool,
}

/// Limits on what a client may send, and how slowly: Apache's `LimitRequestLine`,
/// `LimitRequestFieldSize`, `LimitRequestFields` and mod_reqtimeout's `RequestReadTimeout`
/// defaults (`header=20-40,MinRate=500 body=20,MinRate=500`).
///
/// A deadline of zero disables its stage (the per-read `Timeout` still applies). The head
/// deadline starts when the connection is accepted (first request) or at the first byte of
/// a later request; the body deadline when the head is complete. Each `min_rate` bytes
/// received push the stage's deadline one second further, up to its maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Longest request line (method, target, version) in bytes; longer → 414.
    /// 0 = no limit of our own (the engine still bounds a line at 1 MiB).
    pub request_line: usize,
    /// Longest single header field in bytes; longer → 431. 0 = no limit of our own.
    pub field_size: usize,
    /// Most header fields; more → 431. 0 = unlimited (up to [`MAX_FIELDS_UNLIMITED`]).
    pub fields: usize,
    /// Initial deadline for a whole request head (also covers a client that sends nothing).
    pub header_timeout: Duration,
    /// The head deadline is extended by one second per `header_min_rate` bytes received,
    /// up to this maximum ([`UNBOUNDED`]: no maximum).
    pub header_timeout_max: Duration,
    /// Bytes per second that extend the head deadline (0 = no extension).
    pub header_min_rate: u32,
    /// Initial deadline for reading the body.
    pub body_timeout: Duration,
    /// The body deadline's maximum ([`UNBOUNDED`], the default: no maximum).
    pub body_timeout_max: Duration,
    /// Bytes per second that extend the body deadline (0 = no extension).
    pub body_min_rate: u32,
}

/// "No maximum" for a deadline (about 136 years: far enough, and still safe to add to an
/// `Instant`).
pub const UNBOUNDED: Duration = Duration::from_secs(u32::MAX as u64);

/// The header-count cap used when `LimitRequestFields` is 0 ("unlimited"): the parser
/// needs a bound for its header array.
pub const MAX_FIELDS_UNLIMITED: usize = 10_000;

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            request_line: 8190,
            field_size: 8190,
            fields: 100,
            header_timeout: Duration::from_secs(20),
            header_timeout_max: Duration::from_secs(40),
            header_min_rate: 500,
            body_timeout: Duration::from_secs(20),
            body_timeout_max: UNBOUNDED,
            body_min_rate: 500,
        }
    }
}

impl RequestLimits {
    /// The limits a validated configuration asks for.
    pub fn from_config(c: &ServerConfig) -> Self {
        let t = &c.request_read_timeout;
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        let max = |m: Option<u32>| m.map_or(UNBOUNDED, secs);
        RequestLimits {
            request_line: c.limit_request_line as usize,
            field_size: c.limit_request_field_size as usize,
            fields: c.limit_request_fields as usize,
            header_timeout: secs(t.header.timeout),
            header_timeout_max: max(t.header.max),
            header_min_rate: t.header.min_rate,
            body_timeout: secs(t.body.timeout),
            body_timeout_max: max(t.body.max),
            body_min_rate: t.body.min_rate,
        }
    }
}

/// The cap on a body read into memory for a buffered handler: 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

impl HttpOptions {
    /// The options a validated configuration asks for.
    pub fn from_config(c: &ServerConfig) -> Self {
        HttpOptions {
            keep_alive: c.keep_alive,
            keep_alive_timeout: c.keep_alive_timeout,
            max_keep_alive_requests: c.max_keep_alive_requests,
            timeout: c.timeout,
            max_body: match c.limit_request_body {
                0 => DEFAULT_MAX_BODY,
                n => usize::try_from(n)
                    .unwrap_or(usize::MAX)
                    .min(DEFAULT_MAX_BODY),
            },
            body_limit: (c.limit_request_body > 0).then_some(c.limit_request_body),
            limits: RequestLimits::from_config(c),
            tls: None,
            http2: {
                let mut h = c.http2;
                if !HTTP2_COMPILED_IN || c.limits.kind == crate::kind::MpmKind::Prefork {
                    h.h2 = false;
                    h.h2c = false;
                }
                h
            },
            reply_writer: false,
        }
    }

    /// The options of a child: [`HttpOptions::from_config`] for its generation's
    /// configuration, with TLS on the listeners that speak it.
    pub fn for_child(ctx: &crate::child::ChildContext<'_>) -> Self {
        HttpOptions {
            tls: crate::tls::TlsAcceptor::for_child(ctx),
            ..HttpOptions::from_config(ctx.config())
        }
    }
}

impl Default for HttpOptions {
    /// Apache's defaults: KeepAlive On, KeepAliveTimeout 5, MaxKeepAliveRequests 100,
    /// Timeout 60; buffered bodies up to 16 MiB, streamed ones up to 1 GiB.
    fn default() -> Self {
        HttpOptions {
            keep_alive: true,
            keep_alive_timeout: Duration::from_secs(5),
            max_keep_alive_requests: 100,
            timeout: Duration::from_secs(60),
            max_body: DEFAULT_MAX_BODY,
            body_limit: Some(crate::config::DEFAULT_LIMIT_REQUEST_BODY),
            limits: RequestLimits::default(),
            tls: None,
            http2: crate::config::Http2Settings::default(),
            reply_writer: false,
        }
    }
}

/// What a connection reports while it is served (the scoreboard implements it).
///
/// The calls come from the task serving the connection, in order: `status(BusyRead)` when
/// the first byte of a request head arrives, `request_line`, `status(BusyWrite)` while the
/// handler runs and the response is written, `request_done` per response,
/// `status(BusyKeepalive)` while waiting for the next request, `status(Closing)` at the end.
pub trait ConnObserver: Send + Sync {
    /// The connection's state changed.
    fn status(&self, s: WorkerStatus);
    /// A request arrived; `line` is its request line, e.g. `GET /x HTTP/1.1`.
    fn request_line(&self, line: &str);
    /// A request arrived, in parts: its method, its target (origin form as it is, an
    /// absolute-form target in full) and version.
    /// The default builds the line for [`request_line`](ConnObserver::request_line); an
    /// observer that ignores the line, or can store it without building a `String`,
    /// overrides this too (it runs once per request).
    fn request_head(&self, method: &http::Method, target: &str, version: http::Version) {
        self.request_line(&request_line(method, target, version));
    }
    /// A response was produced with `bytes` bytes of body (0 for `HEAD`).
    fn request_done(&self, bytes: u64);
    /// The handler has returned and the connection layer now writes its response (write
    /// completion: the event strategy's ConnsAsyncWriting); the connection leaves this
    /// state with its next [`status`](ConnObserver::status).
    fn response_writing(&self) {}
}

/// The observer that ignores everything.
impl ConnObserver for () {
    fn status(&self, _: WorkerStatus) {}
    fn request_line(&self, _: &str) {}
    fn request_head(&self, _: &http::Method, _: &str, _: http::Version) {}
    fn request_done(&self, _: u64) {}
}

impl<T: ConnObserver + ?Sized> ConnObserver for Arc<T> {
    fn status(&self, s: WorkerStatus) {
        (**self).status(s)
    }
    fn request_line(&self, line: &str) {
        (**self).request_line(line)
    }
    fn request_head(&self, method: &http::Method, target: &str, version: http::Version) {
        (**self).request_head(method, target, version)
    }
    fn request_done(&self, bytes: u64) {
        (**self).request_done(bytes)
    }
    fn response_writing(&self) {
        (**self).response_writing()
    }
}

#[derive(Default)]
struct ClosingInner {
    closed: AtomicBool,
    /// The drain deadline passed: idle connections close now (see [`Closing::expire`]).
    expired: AtomicBool,
    notify: Notify,
    /// Asked whenever the flag is read and not yet set: a process-wide condition (a
    /// pending graceful signal, the scoreboard's quiescing flag) that closes this signal
    /// without a task having to notice it first.
    probe: Option<Box<dyn Fn() -> bool + Send + Sync>>,
}

/// A cloneable "stop keeping connections alive" signal (graceful restart or stop).
///
/// Once closed, the next response on every connection carries `Connection: close` and the
/// connection ends after writing it. A request in flight completes normally. An idle
/// kept-alive connection is *not* cut (a request may already be on the wire, and cutting it
/// would make the client see an error): it ends at its keep-alive timeout, or answers its
/// next request with `Connection: close`, whichever comes first. A connection that has not
/// sent its first request yet waits at most `KeepAliveTimeout` from the moment of closing
/// (instead of the whole `Timeout`).
#[derive(Clone, Default)]
pub struct Closing {
    inner: Arc<ClosingInner>,
}

impl Closing {
    /// A signal not yet closed.
    pub fn new() -> Closing {
        Closing::default()
    }

    /// A signal that also counts as closed as soon as `probe` returns true. Checked each
    /// time a connection decides whether to keep alive, so a graceful stop that arrives
    /// while a handler runs on the runtime's only thread still makes that response the
    /// last one. `probe` must be cheap (an atomic load or two).
    pub fn with_probe(probe: impl Fn() -> bool + Send + Sync + 'static) -> Closing {
        Closing {
            inner: Arc::new(ClosingInner {
                closed: AtomicBool::new(false),
                expired: AtomicBool::new(false),
                notify: Notify::new(),
                probe: Some(Box::new(probe)),
            }),
        }
    }

    /// Close: every clone sees it. Idempotent. Not for use inside a signal handler (it
    /// wakes tasks, which takes a lock); set a flag there and call this from normal code.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`close`](Closing::close) was called on any clone.
    pub fn is_closed(&self) -> bool {
        if self.inner.closed.load(Ordering::SeqCst) {
            return true;
        }
        if self.inner.probe.as_ref().is_some_and(|p| p()) {
            self.close();
            return true;
        }
        false
    }

    /// Wait until closed (returns at once if it already is).
    pub async fn closed(&self) {
        self.wait_for(Closing::is_closed).await
    }

    /// The drain deadline passed (GracefulShutdownTimeout): close as well, and make every
    /// connection that is idle — waiting for a request with no byte of one in its socket —
    /// close now instead of at its keep-alive timeout. A connection whose next request has
    /// (even partly) arrived is still answered, with `Connection: close`; one in a request
    /// finishes it. Idempotent.
    pub fn expire(&self) {
        self.inner.expired.store(true, Ordering::SeqCst);
        self.close();
    }

    /// Whether [`expire`](Closing::expire) was called on any clone.
    pub fn is_expired(&self) -> bool {
        self.inner.expired.load(Ordering::SeqCst)
    }

    /// Wait until expired (returns at once if it already is).
    pub async fn expired(&self) {
        self.wait_for(Closing::is_expired).await
    }

    /// A wake-up for the next change of state (closed, expired). Created before the state
    /// is read, it completes even if the change happens between the two.
    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.notify.notified()
    }

    async fn wait_for(&self, done: fn(&Closing) -> bool) {
        loop {
            let notified = self.inner.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            notified.await;
        }
    }
}

impl fmt::Debug for Closing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closing")
            .field("closed", &self.is_closed())
            .field("expired", &self.is_expired())
            .finish()
    }
}
