//! One request exchange: the head, its framing, the body (read whole or streamed), the
//! handler, the response, and whether the connection can go on to the next request.
//!
//! The rule that keeps the connection in sync with its client: the next request starts
//! exactly where this request's framing says its body ends. A body the handler did not
//! read is read and dropped (bounded) through the same decoder; when that cannot be done
//! — a framing error, a client still waiting for `100 Continue`, a body too long to
//! drain — the connection closes instead of guessing.

use super::body::{self, BodyError as BufferedError};
use super::direct::{Outcome, ReplyWriter, Rest};
use super::framing::{self, Framing};
use super::head::{self, HeadScan, Scan};
use super::incoming::{self, Drained, Link, RespondParams, DRAIN_MAX};
use super::io::{self, give_buf, read_deadline, read_some, take_buf, Budget, ReadError, BUF_SIZE};
use super::outgoing::{framing_of, send_stream, settle, Settled};
use super::response::{encode_head, wants_close, ConnHeader, OutFraming};
use super::upgrade::{OnUpgrade, Upgraded};
use super::{BodyMode, Conn, Next, Reply, RequestBody, MAX_HEAD};
use crate::http::ConnSummary;
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, TE};
use http::{Method, Request, Response, StatusCode, Version};
use std::future::Future;
use std::sync::Arc;
use tokio::time::Instant;

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

/// Whether the request allows trailer fields in a chunked response (`TE: trailers`,
/// RFC 9110 §10.1.4).
fn accepts_trailers(headers: &http::HeaderMap) -> bool {
    framing::has_element(headers, &TE, b"trailers")
}

/// One request: head, body, handler, response. `buf` holds the first bytes of the head.
pub(super) async fn exchange<F, Fut>(
    conn: &Conn<'_, F>,
    mut buf: Vec<u8>,
    head_start: Instant,
    summary: &mut ConnSummary,
) -> Next
where
    F: Fn(Request<RequestBody>) -> Fut,
    Fut: Future<Output = Reply>,
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
            // A HEAD whose head is refused still gets no body (its client reads none).
            let is_head = head::first_line(&buf).starts_with("HEAD ");
            give_buf(buf);
            return refuse(conn, status, is_head, false, summary).await;
        }
    };
    conn.observer
        .request_head(&head.method, head.target(), head.version);
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
    // LimitRequestBody (or the buffered cap): a declared length over it is refused before
    // the client is told to go ahead.
    let limit = match conn.mode {
        BodyMode::Buffered => Some(opts.max_body as u64),
        BodyMode::Streamed | BodyMode::Writer => opts.body_limit,
    };
    if let Framing::Length(len) = plan.framing {
        if limit.is_some_and(|l| len > l) {
            give_buf(buf);
            return refuse(conn, StatusCode::PAYLOAD_TOO_LARGE, is_head, true, summary).await;
        }
    }
    // An upgrade is honoured only for a request without a body: what follows its head is
    // the new protocol.
    let upgrade = plan.upgrade && plan.framing == Framing::Length(0);
    let version = head.version;
    let trailers_ok = accepts_trailers(&head.headers);
    let max_requests = opts.max_keep_alive_requests;
    let base_close = plan.client_close
        || !opts.keep_alive
        || conn.closing.is_closed()
        || (max_requests > 0 && n >= u64::from(max_requests));

    let mut pos = head_len;
    let mut link: Option<Arc<Link>> = None;
    let body = match (conn.mode, plan.framing) {
        (BodyMode::Buffered, framing) => {
            match body::read(
                &conn.stream,
                opts,
                &mut buf,
                &mut pos,
                framing,
                plan.expect_continue,
            )
            .await
            {
                Ok(b) => RequestBody::full(b),
                Err(e) => {
                    give_buf(buf);
                    return match e {
                        BufferedError::Refuse(status) => {
                            refuse(conn, status, is_head, true, summary).await
                        }
                        BufferedError::TimedOut => {
                            refuse(conn, StatusCode::REQUEST_TIMEOUT, is_head, true, summary).await
                        }
                        // An incomplete message (RFC 9112 §8): the client may only have
                        // closed its sending side.
                        BufferedError::Eof => {
                            refuse(conn, StatusCode::BAD_REQUEST, is_head, true, summary).await
                        }
                        BufferedError::Io(e) => {
                            tracing::debug!(peer = %conn.peer, error = %e, "reading a body failed");
                            Next::Close { linger: false }
                        }
                    };
                }
            }
        }
        (BodyMode::Streamed, Framing::Length(0)) => RequestBody::empty(),
        (_, _) => {
            let taken = std::mem::take(&mut buf);
            let l = Arc::new(Link::new(
                conn.stream.clone(),
                opts,
                taken,
                pos,
                &plan,
                limit,
            ));
            {
                let mut st = l.lock();
                st.respond = RespondParams {
                    close: base_close,
                    http10: version == Version::HTTP_10,
                    head_request: is_head,
                };
                if conn.mode == BodyMode::Writer {
                    st.closing = Some(conn.closing.clone());
                }
            }
            link = Some(l.clone());
            RequestBody::linked(l)
        }
    };
    // Without a link the buffer goes back now — unless it holds the start of a pipelined
    // request (served next), or the raw request of an upgrade (a hand-off replays it).
    let mut pipelined: Option<Vec<u8>> = None;
    if link.is_none() && !upgrade {
        if pos < buf.len() {
            buf.drain(..pos);
            pipelined = Some(std::mem::take(&mut buf));
        } else {
            give_buf(std::mem::take(&mut buf));
        }
    }

    conn.observer.status(WorkerStatus::BusyWrite);
    let mut req = Request::new(body);
    *req.method_mut() = head.method;
    *req.uri_mut() = head.uri;
    *req.version_mut() = head.version;
    *req.headers_mut() = head.headers;
    let upgrade_tx = upgrade.then(|| {
        let (on_upgrade, tx) = OnUpgrade::new();
        req.extensions_mut().insert(on_upgrade);
        tx
    });
    // A whole response may be written by the thread that runs the handler (see
    // `direct`): only with nothing of the request left to read and no upgrade asked for.
    let direct =
        (opts.reply_writer && link.is_none() && !upgrade && !conn.stream.is_tls()).then(|| {
            ReplyWriter::offer(
                &mut req,
                conn.stream.clone(),
                base_close,
                version == Version::HTTP_10,
                is_head,
                conn.closing.clone(),
            )
        });
    let reply = (conn.call)(req).await;

    // The response, unless the handler sent it itself or took the connection.
    let resp = match reply {
        Reply::HandOff(hand_off) => {
            if !upgrade {
                tracing::error!("a handler took over a connection that asked for no upgrade");
                return Next::Close { linger: false };
            }
            conn.observer.request_done(0);
            let (upgraded, done) = Upgraded::new(conn.stream.clone(), Bytes::from(buf));
            (hand_off.0)(upgraded).await;
            let _ = done.await;
            return Next::Close { linger: false };
        }
        Reply::Written => {
            if let Some(outcome) = direct {
                return written_directly(conn, &outcome, plan.client_close, pipelined, summary)
                    .await;
            }
            let Some(l) = &link else {
                tracing::error!("a handler said it wrote its response, but had no writer");
                return refuse(
                    conn,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    is_head,
                    true,
                    summary,
                )
                .await;
            };
            let w = l.lock().written;
            if !w.head_sent {
                let status = l
                    .lock()
                    .failure()
                    .and_then(|e| e.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                tracing::error!(peer = %conn.peer, %status, "the handler sent no response");
                return refuse(conn, status, is_head, true, summary).await;
            }
            summary.bytes += w.bytes;
            conn.observer.request_done(w.bytes);
            if !w.complete {
                return Next::Close { linger: false };
            }
            return after_response(conn, link, w.close, plan.client_close, pipelined).await;
        }
        Reply::Full(r) => {
            conn.observer.response_writing();
            Ok(r)
        }
        Reply::Stream(r) => {
            conn.observer.response_writing();
            // The framing is decided from the body as the handler returned it (its size
            // hint shrinks as frames are taken).
            let framing = framing_of(&r, version);
            match settle(r).await {
                Settled::Whole(r) => Ok(r),
                Settled::Streaming(r, first) => Err((r, first, framing)),
            }
        }
    };
    let mut forced_close = false;
    if let Some(l) = &link {
        if resp.is_ok() && !l.finished() {
            if l.lock().continue_pending() {
                // The client waits for `100 Continue` and will get a final answer instead:
                // it may send its body or not (RFC 9110 §10.1.1), so the connection ends,
                // and the response says so.
                forced_close = true;
            } else {
                // A whole response no longer reads the request body: finish reading it
                // first, so a framing error in it is answered (400), not the handler's
                // response — what Apache and nginx do when their handler ignores a body.
                if let Drained::TooLong = incoming::drain(l, DRAIN_MAX).await {
                    forced_close = true;
                }
            }
        }
        // A body that failed before the response: the connection answers that failure
        // (400, 408, 413) itself, whatever the handler made of it, and closes.
        let failure = {
            let mut st = l.lock();
            st.responded = true;
            st.failure()
        };
        if let Some(e) = failure {
            tracing::debug!(peer = %conn.peer, error = %e, "request body failed");
            return match e.status() {
                Some(status) => refuse(conn, status, is_head, true, summary).await,
                None => Next::Close { linger: false },
            };
        }
    }
    let status = match &resp {
        Ok(r) => r.status(),
        Err((r, _, _)) => r.status(),
    };
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return switch_protocols(conn, resp, upgrade_tx, buf, pos, is_head, summary).await;
    }
    let (headers, out_framing) = match &resp {
        Ok(r) => (r.headers(), OutFraming::Length(r.body().len() as u64)),
        Err((r, _, framing)) => (r.headers(), *framing),
    };
    let last = base_close
        || forced_close
        || conn.closing.is_closed()
        || wants_close(headers)
        || out_framing == OutFraming::UntilClose;
    let conn_header = if last {
        ConnHeader::Close
    } else if version == Version::HTTP_10 {
        ConnHeader::KeepAlive
    } else {
        ConnHeader::Keep
    };
    let sent = match resp {
        Ok(r) => send(conn, &r, is_head, conn_header, summary).await,
        Err((r, first, _)) => {
            let timeout = opts.timeout;
            let framing = out_framing;
            match send_stream(
                &conn.stream,
                r,
                first,
                is_head,
                conn_header,
                framing,
                trailers_ok,
                timeout,
            )
            .await
            {
                Ok(bytes) => {
                    summary.bytes += bytes;
                    conn.observer.request_done(bytes);
                    true
                }
                Err(e) => {
                    tracing::debug!(peer = %conn.peer, error = %e, "writing a response failed");
                    false
                }
            }
        }
    };
    if !sent {
        return Next::Close { linger: false };
    }
    if link.is_none() && upgrade {
        // An upgrade request answered normally: the kept buffer holds what follows it.
        if pos < buf.len() {
            buf.drain(..pos);
            pipelined = Some(buf);
        } else {
            give_buf(buf);
        }
    }
    after_response(conn, link, last, plan.client_close, pipelined).await
}

/// After a response went out: finish (or give up on) the request body, then keep the
/// connection for its next request or close it.
async fn after_response<F>(
    conn: &Conn<'_, F>,
    link: Option<Arc<Link>>,
    last: bool,
    client_close: bool,
    mut pipelined: Option<Vec<u8>>,
) -> Next {
    if let Some(l) = link {
        let (finished, waiting, failed) = {
            let st = l.lock();
            (st.finished(), st.continue_pending(), st.failure().is_some())
        };
        // A client still waiting for `100 Continue` may or may not send its body now
        // (RFC 9110 §10.1.1): the next bytes cannot be trusted to be a request.
        let drained = finished
            || (!waiting
                && !failed
                && !last
                && matches!(incoming::drain(&l, DRAIN_MAX).await, Drained::Finished));
        let (mut buf, pos) = l.lock().detach();
        if !drained {
            give_buf(buf);
            return Next::Close { linger: true };
        }
        if pos < buf.len() {
            buf.drain(..pos);
            pipelined = Some(buf);
        } else {
            give_buf(buf);
        }
    }
    if last {
        // RFC 9112 §9.6: the lingering close exists so that client bytes the server never
        // read cannot turn into a reset that destroys this last response. A client that
        // sent `close` MUST NOT send more on the connection; when nothing past its request
        // has arrived either, a plain close is safe, and frees this worker a client round
        // trip sooner. Anything else (our own decision to close, bytes already here or
        // arriving, TLS) lingers.
        let linger = pipelined.is_some() || !client_close || !io::nothing_waiting(&conn.stream);
        if let Some(b) = pipelined {
            give_buf(b);
        }
        return Next::Close { linger };
    }
    conn.observer.status(WorkerStatus::BusyKeepalive);
    Next::KeepAlive(pipelined)
}

/// After the handler's thread wrote a whole response (or began to: see `direct`): count
/// it, write what the socket did not take then, and go on as after any response.
async fn written_directly<F>(
    conn: &Conn<'_, F>,
    outcome: &Outcome,
    client_close: bool,
    pipelined: Option<Vec<u8>>,
    summary: &mut ConnSummary,
) -> Next {
    let taken = outcome
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let Some(written) = taken else {
        tracing::error!(peer = %conn.peer, "a handler said it wrote its response, but wrote none");
        if let Some(b) = pipelined {
            give_buf(b);
        }
        return refuse(
            conn,
            StatusCode::INTERNAL_SERVER_ERROR,
            false,
            true,
            summary,
        )
        .await;
    };
    summary.bytes += written.bytes;
    conn.observer.request_done(written.bytes);
    let done = match written.rest {
        Rest::Nothing => Ok(()),
        Rest::Part { head, body, sent } => {
            // Write completion: the worker is free; the connection waits for its client.
            conn.observer.response_writing();
            let timeout = conn.opts.timeout;
            let r = if sent < head.len() {
                io::write_all(&conn.stream, &head[sent..], &body, timeout).await
            } else {
                io::write_all(&conn.stream, &[], &body[sent - head.len()..], timeout).await
            };
            give_buf(head);
            r
        }
        Rest::Failed(e) => Err(e),
    };
    if let Err(e) = done {
        tracing::debug!(peer = %conn.peer, error = %e, "writing a response failed");
        if let Some(b) = pipelined {
            give_buf(b);
        }
        return Next::Close { linger: false };
    }
    after_response(conn, None, written.close, client_close, pipelined).await
}

/// A `101 Switching Protocols`: write it, then hand the connection (and what the client
/// sent past the head) to the handler's [`OnUpgrade`] and wait until it is done with it.
async fn switch_protocols<F>(
    conn: &Conn<'_, F>,
    resp: Result<Response<Bytes>, Streamed>,
    upgrade_tx: Option<tokio::sync::oneshot::Sender<Upgraded>>,
    buf: Vec<u8>,
    pos: usize,
    is_head: bool,
    summary: &mut ConnSummary,
) -> Next {
    let Some(tx) = upgrade_tx else {
        // RFC 9110 §15.2.2: 101 only answers a request that asked to upgrade.
        tracing::error!(peer = %conn.peer, "the handler answered 101 to a request without Upgrade");
        return refuse(
            conn,
            StatusCode::INTERNAL_SERVER_ERROR,
            is_head,
            true,
            summary,
        )
        .await;
    };
    let head = match resp {
        Ok(r) => r,
        Err((r, _, _)) => r.map(|_| Bytes::new()),
    };
    // Bodiless status: the head goes out with the handler's `Connection` and `Upgrade`.
    if !send(conn, &head, false, ConnHeader::Keep, summary).await {
        return Next::Close { linger: false };
    }
    let rest = Bytes::copy_from_slice(buf.get(pos..).unwrap_or(&[]));
    give_buf(buf);
    let (upgraded, done) = Upgraded::new(conn.stream.clone(), rest);
    if tx.send(upgraded).is_err() {
        tracing::debug!(peer = %conn.peer, "101 sent, but the handler dropped its OnUpgrade");
        return Next::Close { linger: false };
    }
    let _ = done.await;
    Next::Close { linger: false }
}

/// A frame a streamed response body yielded before its head was written.
type FirstFrame = Result<http_body::Frame<Bytes>, super::BoxError>;

/// A streamed response, the frames already taken from its body, and its framing.
type Streamed = (Response<super::ResponseBody>, Vec<FirstFrame>, OutFraming);

/// Report and write one whole response; false if the write failed.
pub(super) async fn send<F>(
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
/// request was already reported and counted (its head was parsed); a refused head reports
/// no request line but counts as a request answered.
pub(super) async fn refuse<F>(
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
