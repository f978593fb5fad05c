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
use super::transport::Transport;
use bytes::Bytes;
use http::{HeaderMap, Response, Version};
use http_body::{Body, Frame};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

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

/// A handler's streamed response after a first look at its body.
pub(crate) enum Settled {
    /// The body was complete at once: a whole response.
    Whole(Response<Bytes>),
    /// The body goes on: these frames came first.
    Streaming(Response<ResponseBody>, Vec<Result<Frame<Bytes>, BoxError>>),
}

/// Poll the body of `resp` without waiting, for up to [`SETTLE_FRAMES`] frames: a body
/// that ends within them (a whole response boxed as a stream, as a tower service's
/// usually are) becomes a whole response — written in one go, and known not to read the
/// request body any more, so the connection can finish reading that first.
pub(crate) async fn settle(resp: Response<ResponseBody>) -> Settled {
    let (parts, mut body) = resp.into_parts();
    let mut frames = Vec::new();
    let mut whole: Option<Bytes> = Some(Bytes::new());
    for _ in 0..SETTLE_FRAMES {
        let polled = poll_fn(|cx| Poll::Ready(poll_body(&mut body, cx))).await;
        match polled {
            Poll::Ready(None) => {
                if let Some(data) = whole {
                    return Settled::Whole(Response::from_parts(parts, data));
                }
                break;
            }
            Poll::Ready(Some(Ok(frame))) => {
                whole = match (whole, frame.data_ref()) {
                    (Some(w), Some(d)) if w.is_empty() => Some(d.clone()),
                    (Some(w), Some(d)) => {
                        let mut joined = Vec::with_capacity(w.len() + d.len());
                        joined.extend_from_slice(&w);
                        joined.extend_from_slice(d);
                        Some(Bytes::from(joined))
                    }
                    _ => None,
                };
                frames.push(Ok(frame));
                if whole.as_ref().is_some_and(|w| w.len() > SETTLE_BYTES) {
                    break;
                }
            }
            Poll::Ready(Some(Err(e))) => {
                frames.push(Err(e));
                break;
            }
            Poll::Pending => break,
        }
    }
    Settled::Streaming(Response::from_parts(parts, body), frames)
}

/// At most this many frames are looked at before a response is treated as streaming.
const SETTLE_FRAMES: usize = 4;

/// A response body larger than this is streamed even if it is ready at once.
const SETTLE_BYTES: usize = 64 * 1024;

/// Write `resp` (its head with `conn` and `framing`, then its body unless `head_request`
/// or a bodiless status); returns the body bytes written. `trailers_ok`: the client said
/// `TE: trailers`, so a chunked body's trailer fields are sent (otherwise dropped).
/// An error means the connection cannot be reused (and the response may be truncated).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_stream(
    stream: &Transport,
    resp: Response<ResponseBody>,
    first: Vec<Result<Frame<Bytes>, BoxError>>,
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
    let mut out = Out {
        stream,
        head: Some(head),
        framing,
        sent: 0,
        trailers: None,
        trailers_ok,
        timeout,
    };
    if head_request || bodiless(parts.status) {
        out.flush_head().await?;
        return Ok(0);
    }
    // Frames already polled go first. Then: poll without waiting, so a frame that is ready
    // rides with the head in one write; when the body has nothing yet (server-sent
    // events, a slow producer), the head goes out alone so the client sees the status.
    for frame in first {
        if out.frame(Some(frame)).await? {
            return Ok(out.sent);
        }
    }
    loop {
        let ready = poll_fn(|cx| Poll::Ready(poll_body(&mut body, cx))).await;
        let frame = match ready {
            Poll::Ready(f) => f,
            Poll::Pending => {
                out.flush_head().await?;
                poll_fn(|cx| poll_body(&mut body, cx)).await
            }
        };
        if out.frame(frame).await? {
            return Ok(out.sent);
        }
    }
}

/// The writing side of a streamed response.
struct Out<'a> {
    stream: &'a Transport,
    /// The head, until it is written (with the first data, when there is some at once).
    head: Option<Vec<u8>>,
    framing: OutFraming,
    sent: u64,
    trailers: Option<HeaderMap>,
    trailers_ok: bool,
    timeout: Duration,
}

impl Out<'_> {
    /// Write the head if it is still pending.
    async fn flush_head(&mut self) -> io::Result<()> {
        if let Some(h) = self.head.take() {
            let r = write_parts(self.stream, [&h, &[], &[], &[]], self.timeout).await;
            give_buf(h);
            r?;
        }
        Ok(())
    }

    /// Write `parts` after the head if it is still pending.
    async fn write(&mut self, parts: [&[u8]; 3]) -> io::Result<()> {
        let head = self.head.take();
        let r = write_parts(
            self.stream,
            [head.as_deref().unwrap_or(&[]), parts[0], parts[1], parts[2]],
            self.timeout,
        )
        .await;
        if let Some(h) = head {
            give_buf(h);
        }
        r
    }

    /// Handle one poll result of the body; returns whether the response is complete.
    async fn frame(&mut self, frame: Option<Result<Frame<Bytes>, BoxError>>) -> io::Result<bool> {
        let chunked = self.framing == OutFraming::Chunked;
        match frame {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    if data.is_empty() {
                        return Ok(false);
                    }
                    self.sent += data.len() as u64;
                    if let OutFraming::Length(n) = self.framing {
                        if self.sent > n {
                            return Err(broken(format!(
                                "response body longer than its length ({n} bytes)"
                            )));
                        }
                    }
                    if chunked {
                        let mut line = [0u8; 18];
                        let line = chunk_line(data.len(), &mut line);
                        self.write([line, &data, b"\r\n"]).await?;
                    } else {
                        self.write([&data, &[], &[]]).await?;
                    }
                    Ok(false)
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        self.trailers.get_or_insert_with(HeaderMap::new).extend(t);
                    }
                    Ok(false)
                }
            },
            Some(Err(e)) => Err(broken(format!("response body failed: {e}"))),
            None => {
                if let OutFraming::Length(n) = self.framing {
                    if self.sent != n {
                        return Err(broken(format!(
                            "response body ended after {} of its {n} bytes",
                            self.sent
                        )));
                    }
                }
                let end = if chunked {
                    let allowed = self.trailers.as_ref().filter(|_| self.trailers_ok);
                    last_chunk(allowed)
                } else {
                    Vec::new()
                };
                self.write([&end, &[], &[]]).await?;
                Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A body that yields its data frames at once, one per poll.
    struct Frames(VecDeque<Bytes>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn settled(frames: &[&'static str]) -> Settled {
        settled_bytes(frames.iter().map(|s| Bytes::from(*s)).collect())
    }

    fn settled_bytes(frames: VecDeque<Bytes>) -> Settled {
        let body = ResponseBody::new(Frames(frames));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(settle(Response::new(body)))
    }

    #[test]
    fn a_body_that_ends_in_a_few_frames_settles_whole_with_every_frame_joined() {
        for (frames, whole) in [
            (&[][..], ""),
            (&["hello"][..], "hello"),
            (&["ab", "cd", "ef"][..], "abcdef"),
            (&["", "ab", "cd"][..], "abcd"),
        ] {
            match settled(frames) {
                Settled::Whole(r) => assert_eq!(r.body(), whole, "{frames:?}"),
                Settled::Streaming(..) => panic!("{frames:?} did not settle whole"),
            }
        }
        // Ending takes a poll too: four frames and the end are more than SETTLE_FRAMES.
        assert!(matches!(
            settled(&["a", "b", "c", "d"]),
            Settled::Streaming(_, f) if f.len() == SETTLE_FRAMES
        ));
    }

    #[test]
    fn a_body_of_up_to_64_kib_settles_whole_a_byte_more_streams() {
        let at = Bytes::from(vec![b'x'; 64 * 1024]);
        match settled_bytes([at.clone()].into()) {
            Settled::Whole(r) => assert_eq!(r.body(), &at),
            Settled::Streaming(..) => panic!("{SETTLE_BYTES} bytes did not settle whole"),
        }
        let over = Bytes::from(vec![b'x'; 64 * 1024 + 1]);
        assert!(matches!(
            settled_bytes([over].into()),
            Settled::Streaming(_, f) if f.len() == 1
        ));
    }
}
