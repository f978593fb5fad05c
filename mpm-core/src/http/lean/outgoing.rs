//! Streamed responses: the head, then each frame of the body as the body yields it.
//!
//! The next frame is polled only once the previous one is on the socket (or in its
//! send buffer), so a client that reads slowly slows the body down instead of filling
//! memory; every wait for the socket is bounded by `Timeout`. A body of known length is
//! sent with `Content-Length` (and must produce exactly that many bytes, or the connection
//! is cut so the client sees a truncated message, never a wrong one); otherwise it is
//! chunked on HTTP/1.1 and delimited by closing on HTTP/1.0 (RFC 9112 §6.3, §7.1).

use super::io::{give_buf, take_buf, write_parts};
use super::response::{bodiless, declared_length, encode_head_parts, ConnHeader, OutFraming};
use bytes::Bytes;
use http::{HeaderMap, Response, Version};
use http_body::{Body, Frame};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpStream;

/// The error type of a streamed response body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed response body: any [`http_body::Body`] of [`Bytes`], boxed (`Send`, not
/// necessarily `Sync`, as axum's bodies are).
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// How the body of `resp` goes on the wire.
pub(crate) fn framing_of<B: Body>(resp: &Response<B>, version: Version) -> OutFraming {
    if let Some(n) = resp.body().size_hint().exact() {
        return OutFraming::Length(n);
    }
    if let Some(n) = declared_length(resp.headers()) {
        return OutFraming::Length(n);
    }
    if version == Version::HTTP_11 {
        OutFraming::Chunked
    } else {
        OutFraming::UntilClose
    }
}

/// The chunk-size line of a chunk of `len` bytes (`len` in hex, CRLF).
pub(crate) fn chunk_line(len: usize, out: &mut [u8; 18]) -> &[u8] {
    let digits = format!("{len:x}");
    let n = digits.len();
    out[..n].copy_from_slice(digits.as_bytes());
    out[n..n + 2].copy_from_slice(b"\r\n");
    &out[..n + 2]
}

/// The end of a chunked body: the last chunk, the trailer fields (if any), the empty line.
pub(crate) fn last_chunk(trailers: Option<&HeaderMap>) -> Vec<u8> {
    let mut out = b"0\r\n".to_vec();
    for (name, value) in trailers.into_iter().flatten() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Poll the body for its next frame; a panic in the body's code is an error of this
/// response (the connection is cut), never an unwinding connection task.
fn poll_body(
    body: &mut ResponseBody,
    cx: &mut std::task::Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Pin::new(&mut *body).poll_frame(cx)
    })) {
        Ok(p) => p,
        Err(_) => {
            tracing::error!("a response body panicked; the connection is cut");
            Poll::Ready(Some(Err("response body panicked".into())))
        }
    }
}

fn broken(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Write `resp` (its head with `conn` and `framing`, then its body unless `head_request`
/// or a bodiless status); returns the body bytes written. `trailers_ok`: the client said
/// `TE: trailers`, so a chunked body's trailer fields are sent (otherwise dropped).
/// An error means the connection cannot be reused (and the response may be truncated).
pub(crate) async fn send_stream(
    stream: &TcpStream,
    resp: Response<ResponseBody>,
    head_request: bool,
    conn: ConnHeader,
    framing: OutFraming,
    trailers_ok: bool,
    timeout: Duration,
) -> io::Result<u64> {
    let (parts, mut body) = resp.into_parts();
    let mut head = take_buf();
    encode_head_parts(
        &mut head,
        parts.status,
        &parts.headers,
        head_request,
        conn,
        framing,
    );
    if head_request || bodiless(parts.status) {
        let r = write_parts(stream, [&head, &[], &[], &[]], timeout).await;
        give_buf(head);
        return r.map(|()| 0);
    }
    // Poll once before writing the head: a body that is ready at once (a whole response)
    // goes out with its head in one write; one that is not (server-sent events, a slow
    // producer) gets its head sent first, so the client sees the status without waiting.
    let mut pending_head = Some(head);
    let mut sent: u64 = 0;
    let mut trailers: Option<HeaderMap> = None;
    let chunked = framing == OutFraming::Chunked;
    loop {
        let frame = match poll_fn(|cx| match poll_body(&mut body, cx) {
            Poll::Ready(f) => Poll::Ready(Some(f)),
            Poll::Pending => Poll::Ready(None),
        })
        .await
        {
            Some(f) => f,
            None => {
                if let Some(h) = pending_head.take() {
                    let r = write_parts(stream, [&h, &[], &[], &[]], timeout).await;
                    give_buf(h);
                    r?;
                }
                poll_fn(|cx| poll_body(&mut body, cx)).await
            }
        };
        let head = pending_head.as_deref().unwrap_or(&[]);
        match frame {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    if data.is_empty() {
                        continue;
                    }
                    sent += data.len() as u64;
                    if let OutFraming::Length(n) = framing {
                        if sent > n {
                            return Err(broken(format!(
                                "response body longer than its length ({n} bytes)"
                            )));
                        }
                    }
                    let mut line = [0u8; 18];
                    let r = if chunked {
                        let line = chunk_line(data.len(), &mut line);
                        write_parts(stream, [head, line, &data, b"\r\n"], timeout).await
                    } else {
                        write_parts(stream, [head, &data, &[], &[]], timeout).await
                    };
                    if let Some(h) = pending_head.take() {
                        give_buf(h);
                    }
                    r?;
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers.get_or_insert_with(HeaderMap::new).extend(t);
                    }
                }
            },
            Some(Err(e)) => {
                return Err(broken(format!("response body failed: {e}")));
            }
            None => {
                if let OutFraming::Length(n) = framing {
                    if sent != n {
                        return Err(broken(format!(
                            "response body ended after {sent} of its {n} bytes"
                        )));
                    }
                }
                let end = if chunked {
                    last_chunk(trailers.as_ref().filter(|_| trailers_ok))
                } else {
                    Vec::new()
                };
                let r = write_parts(stream, [head, &end, &[], &[]], timeout).await;
                if let Some(h) = pending_head.take() {
                    give_buf(h);
                }
                r?;
                return Ok(sent);
            }
        }
    }
}

/// Box any body with `Bytes` data as a [`ResponseBody`].
pub fn boxed<B>(body: B) -> ResponseBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    use http_body_util::BodyExt;
    body.map_err(Into::into).boxed_unsync()
}
