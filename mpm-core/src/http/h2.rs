//! HTTP/2 (RFC 9113) on one connection, with the `h2` crate, on the connection's own task:
//! every stream's handler future is polled beside the connection itself (no task spawned),
//! so the handlers borrow what a strategy lends `serve_lean` — under event a blocking
//! handler still runs on a worker thread while the streams of the connection go on; under
//! worker the connection keeps its thread, as Apache's mod_http2 does.
//!
//! Limits (mod_http2's, and what RFC 9113 §10.5 asks a server to bound):
//!
//! * `H2MaxSessionStreams` → SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2);
//! * `H2WindowSize` → each stream's receive window (§6.9.2), the connection's window at
//!   most 1 MiB: the request data a connection buffers is bounded;
//! * a request's header list at most `LimitRequestFieldSize` × 4 (≤ 64 KiB) decoded,
//!   SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2), which bounds CONTINUATION floods and HPACK
//!   bombs (`h2` counts the decoded size across CONTINUATION frames and stops decoding);
//! * streams reset by the client before they were accepted (rapid reset, CVE-2023-44487)
//!   and streams the server had to reset for errors are capped: past the cap the
//!   connection ends with GOAWAY ENHANCE_YOUR_CALM;
//! * the send buffer per stream at most 64 KiB; responses wait for the peer's window.
//!
//! A graceful restart ([`Closing`]) sends GOAWAY (§6.8) and lets open streams finish. The
//! connection idles at most `KeepAliveTimeout` with no open stream, then says GOAWAY.

use super::lean::{BodyMode, Reply, RequestBody, ResponseBody, Upgraded};
use super::{text_response, Closing, ConnObserver, ConnSummary, HttpOptions};
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Body;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// Streams a client may reset before the server accepted them (rapid reset), and streams
/// the server may reset for the client's errors, before the connection is ended.
const MAX_PENDING_RESETS: usize = 20;
const MAX_ERROR_RESETS: usize = 100;
/// The connection-level receive window's ceiling.
const MAX_CONNECTION_WINDOW: u32 = 1 << 20;
/// What one stream may queue for sending beyond the peer's window.
const SEND_BUFFER: usize = 64 * 1024;

/// The decoded header-list limit for `opts`.
fn header_list_limit(opts: &HttpOptions) -> u32 {
    let field = if opts.limits.field_size == 0 {
        8190
    } else {
        opts.limits.field_size
    };
    u32::try_from(field.saturating_mul(4).min(64 * 1024)).unwrap_or(64 * 1024)
}

/// Serve one HTTP/2 connection whose bytes come through `io` (TLS after ALPN `h2`, or a
/// cleartext connection that opened with the preface). The preface and SETTINGS exchange
/// must complete by `deadline`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_h2<F, Fut>(
    io: Upgraded,
    peer: SocketAddr,
    opts: &HttpOptions,
    mode: BodyMode,
    call: &F,
    observer: &dyn ConnObserver,
    closing: &Closing,
    deadline: Instant,
) -> ConnSummary
where
    F: Fn(Request<RequestBody>) -> Fut,
    Fut: Future<Output = Reply>,
{
    let summary = ConnSummary::default();
    let h = &opts.http2;
    let window = h.window_size;
    let mut b = h2::server::Builder::new();
    b.max_concurrent_streams(h.max_session_streams)
        .initial_window_size(window)
        .initial_connection_window_size(
            window.max(
                MAX_CONNECTION_WINDOW.min(window.saturating_mul(h.max_session_streams.min(16))),
            ),
        )
        .max_header_list_size(header_list_limit(opts))
        .max_frame_size(16_384)
        .max_send_buffer_size(SEND_BUFFER)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .max_local_error_reset_streams(Some(MAX_ERROR_RESETS))
        .max_concurrent_reset_streams(MAX_PENDING_RESETS)
        .reset_stream_duration(Duration::from_secs(1));
    let conn = match tokio::time::timeout_at(deadline, b.handshake::<_, Bytes>(io)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "HTTP/2 preface failed; closing");
            return summary;
        }
        Err(_) => {
            tracing::debug!(%peer, "HTTP/2 preface timed out; closing");
            return summary;
        }
    };
    let make = |req, respond| stream(req, respond, opts, mode, call, observer);
    drive(conn, make, peer, opts, observer, closing).await
}

/// The connection's loop: accept streams, poll every stream's future beside the
/// connection, GOAWAY on a graceful restart or after `KeepAliveTimeout` without a stream.
/// Generic over the stream future (not boxed as `dyn`), so the connection's future is
/// `Send` whenever the handlers' are.
async fn drive<S, M>(
    mut conn: h2::server::Connection<Upgraded, Bytes>,
    make: M,
    peer: SocketAddr,
    opts: &HttpOptions,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary
where
    M: Fn(Request<RecvStream>, SendResponse<Bytes>) -> S,
    S: Future<Output = u64>,
{
    let mut summary = ConnSummary::default();
    let mut streams: Vec<Pin<Box<S>>> = Vec::new();
    let idle = sleep_until(after(opts.keep_alive_timeout));
    let closed = closing.closed();
    tokio::pin!(idle, closed);
    let mut goaway = closing.is_closed();
    if goaway {
        conn.graceful_shutdown();
    }
    let mut accepting = true;
    observer.status(WorkerStatus::BusyKeepalive);
    loop {
        // Short-lived (one per loop turn, never held across a wait): its size is no cost.
        #[allow(clippy::large_enum_variant)]
        enum Event {
            Stream(Request<RecvStream>, SendResponse<Bytes>),
            Ended,
            Failed(h2::Error),
            Progress,
        }
        let ev = poll_fn(|cx| {
            let before = streams.len();
            streams.retain_mut(|s| match s.as_mut().poll(cx) {
                Poll::Ready(bytes) => {
                    summary.requests += 1;
                    observer.request_done(bytes);
                    false
                }
                Poll::Pending => true,
            });
            let finished = streams.len() != before;
            if finished && streams.is_empty() {
                observer.status(WorkerStatus::BusyKeepalive);
                idle.as_mut().reset(after(opts.keep_alive_timeout));
            }
            if !goaway && closed.as_mut().poll(cx).is_ready() {
                goaway = true;
                conn.graceful_shutdown();
            }
            if !goaway && streams.is_empty() && idle.as_mut().poll(cx).is_ready() {
                goaway = true;
                conn.graceful_shutdown();
            }
            if accepting {
                match conn.poll_accept(cx) {
                    Poll::Ready(Some(Ok((req, respond)))) => {
                        return Poll::Ready(Event::Stream(req, respond))
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Event::Failed(e)),
                    Poll::Ready(None) => accepting = false,
                    Poll::Pending => {}
                }
            }
            if !accepting {
                // The connection is closed for new streams; it ends when every stream
                // has and the frames are out.
                match conn.poll_closed(cx) {
                    Poll::Ready(Err(e)) => return Poll::Ready(Event::Failed(e)),
                    Poll::Ready(Ok(())) if streams.is_empty() => return Poll::Ready(Event::Ended),
                    _ => {}
                }
            }
            if finished {
                Poll::Ready(Event::Progress)
            } else {
                Poll::Pending
            }
        })
        .await;
        match ev {
            Event::Stream(req, respond) => {
                if streams.is_empty() {
                    observer.status(WorkerStatus::BusyWrite);
                }
                streams.push(Box::pin(make(req, respond)));
            }
            Event::Ended => break,
            Event::Failed(e) => {
                tracing::debug!(%peer, error = %e, "HTTP/2 connection failed; closing");
                break;
            }
            Event::Progress => {}
        }
    }
    observer.status(WorkerStatus::Closing);
    summary
}

fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).unwrap_or(now)
}

/// Answer one stream; returns the response body bytes sent.
async fn stream<F, Fut>(
    req: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    opts: &HttpOptions,
    mode: BodyMode,
    call: &F,
    observer: &dyn ConnObserver,
) -> u64
where
    F: Fn(Request<RequestBody>) -> Fut,
    Fut: Future<Output = Reply>,
{
    let (mut parts, recv) = req.into_parts();
    observer.request_head(
        &parts.method,
        super::request_line::origin_target(&parts.uri),
        http::Version::HTTP_2,
    );
    // RFC 9113 §8.3.1: `:authority` stands for Host; handlers written for HTTP/1.1 read
    // the Host field.
    if !parts.headers.contains_key(http::header::HOST) {
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
        {
            parts.headers.insert(http::header::HOST, v);
        }
    }
    let head_request = parts.method == http::Method::HEAD;
    let body = match mode {
        BodyMode::Buffered => match collect(recv, opts.max_body, opts.timeout).await {
            Ok(b) => RequestBody::full(b),
            Err(status) => {
                let r = text_response(status, status.canonical_reason().unwrap_or("Error"));
                return send_full(&mut respond, r, head_request).await;
            }
        },
        _ => RequestBody::h2(recv, opts.body_limit),
    };
    // A stream the client resets (RST_STREAM, RFC 9113 §6.4) drops its handler's future:
    // a rapid-reset client does not keep handlers running for nobody.
    let reply = {
        let fut = call(Request::from_parts(parts, body));
        tokio::pin!(fut);
        let r = poll_fn(|cx| {
            if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(r));
            }
            if respond.poll_reset(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        match r {
            Some(r) => r,
            None => return 0,
        }
    };
    match reply {
        Reply::Full(r) => send_full(&mut respond, r, head_request).await,
        Reply::Stream(r) => send_stream(&mut respond, r, head_request, opts.timeout).await,
        Reply::Written | Reply::HandOff(_) => {
            // A blocking writer writes HTTP/1.1 framing, and HTTP/2 has no upgrade
            // (RFC 9113 §8.6): neither reaches a stream.
            let r = text_response(StatusCode::NOT_IMPLEMENTED, "Not Implemented\n");
            send_full(&mut respond, r, head_request).await
        }
    }
}

/// Read a whole request body, at most `max` bytes (413 beyond), every wait within
/// `timeout` (408).
async fn collect(mut recv: RecvStream, max: usize, timeout: Duration) -> Result<Bytes, StatusCode> {
    let mut out = bytes::BytesMut::new();
    loop {
        let next = tokio::time::timeout(timeout, poll_fn(|cx| recv.poll_data(cx))).await;
        match next {
            Err(_) => return Err(StatusCode::REQUEST_TIMEOUT),
            Ok(None) => return Ok(out.freeze()),
            Ok(Some(Err(_))) => return Err(StatusCode::BAD_REQUEST),
            Ok(Some(Ok(data))) => {
                let _ = recv.flow_control().release_capacity(data.len());
                if out.len() + data.len() > max {
                    return Err(StatusCode::PAYLOAD_TOO_LARGE);
                }
                out.extend_from_slice(&data);
            }
        }
    }
}

/// RFC 9113 §8.2.2: connection-specific fields must not appear in HTTP/2.
fn strip_connection_fields(h: &mut HeaderMap) {
    for name in [
        http::header::CONNECTION,
        http::header::TRANSFER_ENCODING,
        http::header::UPGRADE,
    ] {
        h.remove(name);
    }
    h.remove("keep-alive");
    h.remove("proxy-connection");
}

async fn send_full(respond: &mut SendResponse<Bytes>, r: Response<Bytes>, head: bool) -> u64 {
    let (mut parts, body) = r.into_parts();
    strip_connection_fields(&mut parts.headers);
    let empty = head || body.is_empty();
    let Ok(mut send) = respond.send_response(Response::from_parts(parts, ()), empty) else {
        return 0;
    };
    if empty {
        return 0;
    }
    let n = body.len() as u64;
    if send_data(&mut send, body, true).await {
        n
    } else {
        0
    }
}

/// Send `data` as the peer's window allows (RFC 9113 §6.9); false when the stream was
/// reset or the connection failed.
async fn send_data(send: &mut SendStream<Bytes>, mut data: Bytes, end: bool) -> bool {
    if data.is_empty() {
        return !end || send.send_data(data, true).is_ok();
    }
    while !data.is_empty() {
        send.reserve_capacity(data.len());
        let cap = match poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            _ => return false,
        };
        if cap == 0 {
            continue;
        }
        let chunk = data.split_to(cap.min(data.len()));
        let last = end && data.is_empty();
        if send.send_data(chunk, last).is_err() {
            return false;
        }
    }
    true
}

async fn send_stream(
    respond: &mut SendResponse<Bytes>,
    r: Response<ResponseBody>,
    head: bool,
    timeout: Duration,
) -> u64 {
    let (mut parts, mut body) = r.into_parts();
    strip_connection_fields(&mut parts.headers);
    let empty = head || body.is_end_stream();
    let Ok(mut send) = respond.send_response(Response::from_parts(parts, ()), empty) else {
        return 0;
    };
    if empty {
        return 0;
    }
    let mut sent = 0u64;
    loop {
        let frame =
            tokio::time::timeout(timeout, poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))).await;
        match frame {
            Ok(None) => {
                let _ = send.send_data(Bytes::new(), true);
                return sent;
            }
            Ok(Some(Ok(f))) => match f.into_data() {
                Ok(d) => {
                    sent += d.len() as u64;
                    if !send_data(&mut send, d, false).await {
                        return sent;
                    }
                }
                Err(f) => {
                    if let Ok(t) = f.into_trailers() {
                        let _ = send.send_trailers(t);
                        return sent;
                    }
                }
            },
            // The body failed or stalled past `Timeout`: the stream is cut
            // (RST_STREAM INTERNAL_ERROR), the connection goes on.
            Ok(Some(Err(_))) | Err(_) => {
                send.send_reset(h2::Reason::INTERNAL_ERROR);
                return sent;
            }
        }
    }
}
