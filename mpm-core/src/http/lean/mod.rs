//! A lean HTTP/1.1 connection: `httparse` for heads, no buffer held while idle.
//!
//! [`serve_lean`] has the contract of [`serve_http1`](super::serve_http1) — same arguments,
//! same keep-alive rules, timeouts, observer transitions and lingering close — but a parked
//! keep-alive connection costs only its socket and a few words of state: the read buffer is
//! taken when the socket becomes readable and given back (to a small per-thread free list)
//! as soon as the request's head and body are read; the response head is encoded into a
//! buffer taken for the write. The per-request work runs in a boxed future that exists only
//! while a request is being served, so the connection's own task stays small.
//!
//! What it enforces is documented on [`serve_lean`].

mod body;
mod chunked;
mod framing;
mod head;
mod io;
mod response;

use super::conn::LINGER_AFTER_TIMEOUT;
use super::{ConnObserver, ConnSummary, HttpOptions, LINGER};
use crate::http::Closing;
use crate::scoreboard::WorkerStatus;
use body::BodyError;
use bytes::Bytes;
use head::{HeadScan, Scan};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode, Version};
use io::{after, give_buf, read_deadline, read_some, take_buf, Budget, ReadError, BUF_SIZE};
use response::{encode_head, wants_close, ConnHeader};
use std::future::poll_fn;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use tokio::net::TcpStream;
use tokio::time::{sleep_until, Instant, Sleep};

/// No request head may grow beyond this, whatever the limits say.
const MAX_HEAD: usize = 4 << 20;

/// What is borrowed by every request of a connection.
struct Conn<'a, F> {
    stream: TcpStream,
    peer: SocketAddr,
    opts: &'a HttpOptions,
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
/// A drop-in for [`serve_http1`](super::serve_http1) (same arguments, bounds, keep-alive
/// rules, [`Closing`] handling, observer transitions and lingering close) that holds no
/// buffer while the connection waits for a request: a parked keep-alive connection costs
/// its socket and a few hundred bytes of task state. The read buffer is taken when the
/// socket becomes readable and given back (to a small per-thread free list) once the
/// request's head and body are read — unless it holds the start of a pipelined request,
/// which is served next; the response head is encoded into a buffer taken for the write.
///
/// `call` produces the response of each request (its body already read, at most
/// `opts.max_body` bytes). Errors (client reset, malformed request, timeouts) end the
/// connection and are logged at debug level only. Timeouts need a runtime with its timer
/// enabled (`enable_all`).
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
/// reported as the hyper path reports its rejections: `R`, `W`, `request_done`, no request
/// line; it counts as a request in the summary. After a 408 the lingering close is the
/// shorter one.
pub async fn serve_lean<F, Fut>(
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
    let accepted = Instant::now();
    let conn = Conn {
        stream,
        peer,
        opts,
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

/// Wait for the first request: `min(Timeout, header timeout)` from accept, cut to
/// `KeepAliveTimeout` from the moment [`Closing`] fires.
async fn wait_first<F>(conn: &Conn<'_, F>, accepted: Instant) -> Waited {
    let o = conn.opts;
    let mut limit = o.timeout;
    if !o.limits.header_timeout.is_zero() {
        limit = limit.min(o.limits.header_timeout);
    }
    let closed_already = conn.closing.is_closed();
    if closed_already {
        limit = limit.min(o.keep_alive_timeout);
    }
    let sleep = sleep_until(after(accepted, limit));
    let closed = conn.closing.closed();
    tokio::pin!(sleep, closed);
    let watch = (!closed_already).then_some(closed);
    wait_readable(conn, sleep, watch).await
}

/// Wait for a request on a kept-alive connection: `KeepAliveTimeout` from now.
async fn wait_next<F>(conn: &Conn<'_, F>) -> Waited {
    let sleep = sleep_until(after(Instant::now(), conn.opts.keep_alive_timeout));
    tokio::pin!(sleep);
    wait_readable::<F, std::future::Pending<()>>(conn, sleep, None).await
}

/// Wait, holding no buffer, until a request's first bytes arrive or `sleep` fires. When
/// `closed` fires first (a graceful restart began before this connection sent anything),
/// the wait is cut to the keep-alive timeout from that moment.
async fn wait_readable<F, C: Future<Output = ()>>(
    conn: &Conn<'_, F>,
    mut sleep: Pin<&mut Sleep>,
    mut closed: Option<Pin<&mut C>>,
) -> Waited {
    loop {
        let ready = poll_fn(|cx| {
            if let Poll::Ready(r) = conn.stream.poll_read_ready(cx) {
                return Poll::Ready(Some(r));
            }
            if closed
                .as_mut()
                .is_some_and(|c| c.as_mut().poll(cx).is_ready())
            {
                closed = None;
                let cut = after(Instant::now(), conn.opts.keep_alive_timeout);
                if cut < sleep.deadline() {
                    sleep.as_mut().reset(cut);
                }
            }
            sleep.as_mut().poll(cx).map(|()| None)
        })
        .await;
        match ready {
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
        match conn.stream.try_read_buf(&mut buf) {
            Ok(0) => {
                give_buf(buf);
                return Waited::End { linger: true };
            }
            Ok(_) => return Waited::Data(buf),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => give_buf(buf),
            Err(e) => {
                give_buf(buf);
                tracing::debug!(peer = %conn.peer, error = %e, "connection failed while idle");
                return Waited::End { linger: false };
            }
        }
    }
}

/// Why a head could not be read.
enum HeadError {
    /// Answer with this status and close.
    Refuse(StatusCode),
    /// The client closed before the head was complete.
    Eof,
    /// The connection failed.
    Io(std::io::Error),
}

/// Read until `buf` holds a complete head; returns its length and field count.
async fn read_head<F>(
    conn: &Conn<'_, F>,
    buf: &mut Vec<u8>,
    head_start: Instant,
) -> Result<(usize, usize), HeadError> {
    let limits = &conn.opts.limits;
    let budget = Budget::header(head_start, limits);
    let mut scan = HeadScan::request();
    loop {
        match scan.scan(buf, limits) {
            Scan::Complete(end) => return Ok((end, scan.fields())),
            Scan::Reject(status) => return Err(HeadError::Refuse(status)),
            Scan::Partial => {}
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::Refuse(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ));
        }
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().clamp(BUF_SIZE, MAX_HEAD));
        }
        let deadline = read_deadline(conn.opts.timeout, budget.deadline(buf.len()));
        match read_some(&conn.stream, buf, deadline).await {
            Ok(0) => return Err(HeadError::Eof),
            Ok(_) => {}
            Err(ReadError::TimedOut) => {
                return Err(HeadError::Refuse(StatusCode::REQUEST_TIMEOUT));
            }
            Err(ReadError::Io(e)) => return Err(HeadError::Io(e)),
        }
    }
}

/// One request: head, body, handler, response. `buf` holds the first bytes of the head.
async fn exchange<F, Fut>(
    conn: &Conn<'_, F>,
    mut buf: Vec<u8>,
    head_start: Instant,
    summary: &mut ConnSummary,
) -> Next
where
    F: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = Response<Bytes>>,
{
    let opts = conn.opts;
    let (head_len, fields) = match read_head(conn, &mut buf, head_start).await {
        Ok(h) => h,
        Err(HeadError::Refuse(status)) => {
            give_buf(buf);
            return refuse(conn, status, false, false, summary).await;
        }
        Err(HeadError::Eof) => {
            give_buf(buf);
            return Next::Close { linger: true };
        }
        Err(HeadError::Io(e)) => {
            tracing::debug!(peer = %conn.peer, error = %e, "reading a request head failed");
            return Next::Close { linger: false };
        }
    };
    let mut head = match head::parse(&buf[..head_len], fields) {
        Ok(h) => h,
        Err(status) => {
            give_buf(buf);
            return refuse(conn, status, false, false, summary).await;
        }
    };
    conn.observer.request_line(&head.line);
    summary.requests += 1;
    let n = summary.requests;
    let is_head = head.method == Method::HEAD;
    let plan = match framing::plan(&mut head) {
        Ok(p) => p,
        Err(status) => {
            give_buf(buf);
            return refuse(conn, status, is_head, true, summary).await;
        }
    };

    let mut pos = head_len;
    let body = match body::read(
        &conn.stream,
        opts,
        &mut buf,
        &mut pos,
        plan.framing,
        plan.expect_continue,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            give_buf(buf);
            return match e {
                BodyError::Refuse(status) => refuse(conn, status, is_head, true, summary).await,
                BodyError::TimedOut => {
                    refuse(conn, StatusCode::REQUEST_TIMEOUT, is_head, true, summary).await
                }
                BodyError::Eof => Next::Close { linger: true },
                BodyError::Io(e) => {
                    tracing::debug!(peer = %conn.peer, error = %e, "reading a body failed");
                    Next::Close { linger: false }
                }
            };
        }
    };
    // The buffer goes back now, unless it holds the start of a pipelined request.
    let pipelined = if pos < buf.len() {
        buf.drain(..pos);
        Some(buf)
    } else {
        give_buf(buf);
        None
    };

    conn.observer.status(WorkerStatus::BusyWrite);
    let version = head.version;
    let mut req = Request::new(body);
    *req.method_mut() = head.method;
    *req.uri_mut() = head.uri;
    *req.version_mut() = head.version;
    *req.headers_mut() = head.headers;
    let resp = (conn.call)(req).await;

    let limit = opts.max_keep_alive_requests;
    let last = plan.client_close
        || !opts.keep_alive
        || conn.closing.is_closed()
        || (limit > 0 && n >= u64::from(limit))
        || wants_close(&resp)
        || resp.status() == StatusCode::SWITCHING_PROTOCOLS;
    let conn_header = if last {
        ConnHeader::Close
    } else if version == Version::HTTP_10 {
        ConnHeader::KeepAlive
    } else {
        ConnHeader::Keep
    };
    if !send(conn, &resp, is_head, conn_header, summary).await {
        return Next::Close { linger: false };
    }
    if last {
        return Next::Close { linger: true };
    }
    conn.observer.status(WorkerStatus::BusyKeepalive);
    Next::KeepAlive(pipelined)
}

/// Report and write one response; false if the write failed.
async fn send<F>(
    conn: &Conn<'_, F>,
    resp: &Response<Bytes>,
    is_head: bool,
    conn_header: ConnHeader,
    summary: &mut ConnSummary,
) -> bool {
    let bytes = if is_head { 0 } else { resp.body().len() as u64 };
    summary.bytes += bytes;
    conn.observer.request_done(bytes);
    let mut out = take_buf();
    let body = encode_head(&mut out, resp, is_head, conn_header);
    let r = io::write_all(&conn.stream, &out, body, conn.opts.timeout).await;
    give_buf(out);
    if let Err(e) = r {
        tracing::debug!(peer = %conn.peer, error = %e, "writing a response failed");
        return false;
    }
    true
}

/// Answer a request the connection layer refuses (`status`), then close. `counted`: the
/// request was already reported and counted (its head was parsed); as in the hyper path, a
/// refused head reports no request line but counts as a request answered.
async fn refuse<F>(
    conn: &Conn<'_, F>,
    status: StatusCode,
    is_head: bool,
    counted: bool,
    summary: &mut ConnSummary,
) -> Next {
    tracing::debug!(peer = %conn.peer, %status, "request refused");
    if !counted {
        summary.requests += 1;
    }
    conn.observer.status(WorkerStatus::BusyWrite);
    let mut resp = if status == StatusCode::METHOD_NOT_ALLOWED {
        // CONNECT without a tunnel (RFC 9110 §9.3.6): no body; §15.5.6 asks for `Allow`.
        let mut r = Response::new(Bytes::new());
        r.headers_mut().insert(
            http::header::ALLOW,
            HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"),
        );
        r
    } else {
        let reason = status.canonical_reason().unwrap_or("Error");
        let mut r = Response::new(Bytes::from(format!("{reason}\n")));
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    *resp.status_mut() = status;
    if !send(conn, &resp, is_head, ConnHeader::Close, summary).await {
        Next::Close { linger: false }
    } else if status == StatusCode::REQUEST_TIMEOUT {
        Next::TimedOut
    } else {
        Next::Close { linger: true }
    }
}
