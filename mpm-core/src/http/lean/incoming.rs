//! Request bodies that stream to the handler, with backpressure.
//!
//! A streamed body reads the connection's socket itself, through the same decoder the
//! buffered path uses ([`super::chunked`] or a length count), only when the handler asks
//! for the next frame: bytes the handler has not asked for stay in the kernel's buffer,
//! so a slow consumer slows the client down (TCP flow control) instead of filling memory.
//! Memory per uploading connection is the connection buffer plus the frame being handed
//! over, whatever the body's size.
//!
//! The body is reachable from an async handler ([`RequestBody`] is an
//! [`http_body::Body`]) and from a blocking one ([`super::blocking_io::BodyReader`] is a
//! [`std::io::Read`]); the two differ only in how they wait for the socket. Between them
//! and the connection sits a [`Link`]: the connection lends it its read buffer for the
//! request and takes it back (with any pipelined bytes past the body) when the response
//! is out.

use super::chunked::{Decoder, Step};
use super::framing::Framing;
use super::io::{read_deadline, Budget};
use super::sync_io;
use super::transport::Transport;
use crate::http::RequestLimits;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::{Body, Frame, SizeHint};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// A streamed body reads at most this much from the socket at a time.
pub(crate) const READ_STEP: usize = 16 * 1024;

/// The interim response that tells a client waiting on `Expect: 100-continue` to send.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Why a request body could not be read to its end.
#[derive(Debug)]
pub struct BodyError {
    kind: BodyErrorKind,
}

#[derive(Debug)]
enum BodyErrorKind {
    /// The framing is malformed (answered 400, or 431 for oversize trailers).
    Malformed(StatusCode),
    /// The body exceeds `LimitRequestBody` (413).
    TooLarge,
    /// The body's deadline or `Timeout` passed (408).
    TimedOut,
    /// The client closed the connection before the body ended.
    Closed,
    /// The connection failed.
    Io(std::io::Error),
    /// The response has been sent and the connection moved on: the body is gone.
    Detached,
}

impl BodyError {
    fn new(kind: BodyErrorKind) -> BodyError {
        BodyError { kind }
    }

    /// The status the connection answers with when this error happens before a response
    /// was sent (`None`: the client is gone or the body was abandoned; nothing is sent).
    pub fn status(&self) -> Option<StatusCode> {
        match &self.kind {
            BodyErrorKind::Malformed(s) => Some(*s),
            BodyErrorKind::TooLarge => Some(StatusCode::PAYLOAD_TOO_LARGE),
            BodyErrorKind::TimedOut => Some(StatusCode::REQUEST_TIMEOUT),
            // An incomplete message (RFC 9112 §8): the client may have closed only its
            // sending side and still read the answer.
            BodyErrorKind::Closed => Some(StatusCode::BAD_REQUEST),
            BodyErrorKind::Io(_) | BodyErrorKind::Detached => None,
        }
    }

    fn again(&self) -> BodyError {
        BodyError::new(match &self.kind {
            BodyErrorKind::Malformed(s) => BodyErrorKind::Malformed(*s),
            BodyErrorKind::TooLarge => BodyErrorKind::TooLarge,
            BodyErrorKind::TimedOut => BodyErrorKind::TimedOut,
            BodyErrorKind::Closed => BodyErrorKind::Closed,
            BodyErrorKind::Io(e) => BodyErrorKind::Io(std::io::Error::new(e.kind(), e.to_string())),
            BodyErrorKind::Detached => BodyErrorKind::Detached,
        })
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyErrorKind::Malformed(s) => write!(f, "malformed request body framing ({s})"),
            BodyErrorKind::TooLarge => f.write_str("request body exceeds LimitRequestBody"),
            BodyErrorKind::TimedOut => f.write_str("timed out reading the request body"),
            BodyErrorKind::Closed => f.write_str("client closed the connection mid-body"),
            BodyErrorKind::Io(e) => write!(f, "reading the request body failed: {e}"),
            BodyErrorKind::Detached => f.write_str("the request body is no longer available"),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            BodyErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BodyError> for std::io::Error {
    fn from(e: BodyError) -> std::io::Error {
        let kind = match e.kind {
            BodyErrorKind::TimedOut => std::io::ErrorKind::TimedOut,
            BodyErrorKind::Closed => std::io::ErrorKind::UnexpectedEof,
            BodyErrorKind::Io(ref io) => io.kind(),
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, e)
    }
}

/// Where the body decoder is.
#[derive(Debug)]
enum Source {
    /// This many `Content-Length` bytes to go.
    Length(u64),
    /// A chunked body.
    Chunked(Decoder),
    /// The body ended.
    Done,
}

/// What the decoder made of the buffered bytes.
enum Advance {
    Frame(Frame<Bytes>),
    End,
    NeedRead,
}

/// The state a body shares with its connection.
pub(crate) struct LinkState {
    /// The connection's read buffer, lent for the request: unread bytes start at `pos`.
    pub(crate) buf: Vec<u8>,
    pub(crate) pos: usize,
    source: Source,
    /// `LimitRequestBody` for a streamed body (`None`: unlimited).
    limit: Option<u64>,
    /// Body data bytes handed out.
    delivered: u64,
    /// Bytes read from the socket for this body (framing included), for MinRate.
    received: usize,
    budget: Budget,
    /// `Expect: 100-continue` and no `100 Continue` sent yet.
    continue_pending: bool,
    /// Bytes of the body came with the head: the client did not wait for `100 Continue`.
    arrived_with_head: bool,
    /// A final response head went out: no `100 Continue` any more.
    pub(crate) responded: bool,
    /// The first error, returned again on every later read.
    failed: Option<BodyError>,
    /// The connection took its buffer back.
    detached: bool,
    /// The trailer section, kept until it is handed out as the last frame.
    trailers: Option<HeaderMap>,
    /// How a blocking handler's response goes out (set by the connection before the call).
    pub(crate) respond: RespondParams,
    /// What a blocking handler's writer sent.
    pub(crate) written: Written,
    /// The connection's graceful-stop signal: a response head written after it fired says
    /// `Connection: close`.
    pub(crate) closing: Option<crate::http::Closing>,
}

/// What the connection decided before calling a blocking streaming handler.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RespondParams {
    /// This response is the connection's last one (`Connection: close`).
    pub(crate) close: bool,
    /// HTTP/1.0 answers keep-alive with `Connection: keep-alive`.
    pub(crate) http10: bool,
    /// The request is a HEAD (no body is sent).
    pub(crate) head_request: bool,
}

/// What a blocking handler's writer did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Written {
    /// The head went out.
    pub(crate) head_sent: bool,
    /// The body was completely sent (its framing ended properly).
    pub(crate) complete: bool,
    /// Body bytes sent.
    pub(crate) bytes: u64,
    /// The connection must close after this response.
    pub(crate) close: bool,
}

/// What a request's body, its blocking response writer and its connection share.
pub(crate) struct Link {
    pub(crate) stream: Arc<Transport>,
    /// `Timeout`: bounds every wait for the socket.
    pub(crate) timeout: Duration,
    limits: RequestLimits,
    state: Mutex<LinkState>,
}

impl Link {
    /// A link for the body of a request planned as `plan`, whose first bytes are
    /// `buf[pos..]`, held to `limit` bytes.
    pub(crate) fn new(
        stream: Arc<Transport>,
        opts: &crate::http::HttpOptions,
        buf: Vec<u8>,
        pos: usize,
        plan: &super::framing::Plan,
        limit: Option<u64>,
    ) -> Link {
        Link {
            stream,
            timeout: opts.timeout,
            limits: opts.limits.clone(),
            state: Mutex::new(LinkState::new(
                buf,
                pos,
                plan.framing,
                plan.expect_continue,
                limit,
                &opts.limits,
            )),
        }
    }

    /// The shared state (a poisoned lock — a panic while it was held — is still usable:
    /// every field is consistent between statements).
    pub(crate) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The exact body length, when the head declared one.
    fn exact_len(&self) -> Option<u64> {
        match self.lock().source {
            Source::Length(n) => Some(n),
            Source::Done => Some(0),
            Source::Chunked(_) => None,
        }
    }

    /// Read (blocking) the next frame: what a blocking handler's `Read` calls.
    pub(crate) fn next_blocking(&self) -> Result<Option<Frame<Bytes>>, BodyError> {
        let mut st = self.lock();
        loop {
            match self.advance(&mut st)? {
                Advance::Frame(f) => return Ok(Some(f)),
                Advance::End => return Ok(None),
                Advance::NeedRead => {}
            }
            self.send_continue(&mut st)?;
            let deadline = read_deadline(self.timeout, st.budget.deadline(st.received));
            let deadline = deadline.into_std();
            st.make_room();
            let r = sync_io::read_some(&self.stream, &mut st.buf, READ_STEP, deadline);
            self.after_read(&mut st, r)?;
        }
    }

    /// Poll the next frame: what [`RequestBody`] calls. `sleep` is the body's timer.
    fn poll_next(
        &self,
        cx: &mut Context<'_>,
        sleep: &mut Option<Pin<Box<Sleep>>>,
    ) -> Poll<Result<Option<Frame<Bytes>>, BodyError>> {
        let mut st = self.lock();
        loop {
            match self.advance(&mut st) {
                Err(e) => return Poll::Ready(Err(e)),
                Ok(Advance::Frame(f)) => {
                    *sleep = None;
                    return Poll::Ready(Ok(Some(f)));
                }
                Ok(Advance::End) => return Poll::Ready(Ok(None)),
                Ok(Advance::NeedRead) => {}
            }
            if let Err(e) = self.send_continue(&mut st) {
                return Poll::Ready(Err(e));
            }
            // The deadline of this read: armed once per wait, not per poll.
            let deadline = read_deadline(self.timeout, st.budget.deadline(st.received));
            let timer = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            match self.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    let e = BodyError::new(BodyErrorKind::Io(e));
                    st.failed = Some(e.again());
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    if timer.as_mut().poll(cx).is_ready() {
                        let e = BodyError::new(BodyErrorKind::TimedOut);
                        st.failed = Some(e.again());
                        return Poll::Ready(Err(e));
                    }
                    return Poll::Pending;
                }
            }
            st.make_room();
            let spare = st.buf.capacity() - st.buf.len();
            let r = {
                let buf = &mut st.buf;
                let mut limited = bytes::BufMut::limit(&mut *buf, spare.min(READ_STEP));
                self.stream.try_read_buf(&mut limited)
            };
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                r => {
                    *sleep = None;
                    if let Err(e) = self.after_read(&mut st, r) {
                        return Poll::Ready(Err(e));
                    }
                }
            }
        }
    }

    /// Tell a client waiting on `Expect: 100-continue` to send, the first time the body is
    /// read (RFC 9110 §10.1.1) — unless the final response already went out.
    fn send_continue(&self, st: &mut LinkState) -> Result<(), BodyError> {
        if !st.continue_pending {
            return Ok(());
        }
        st.continue_pending = false;
        if st.responded {
            return Ok(());
        }
        // Nothing else is queued on the socket at this point: 25 bytes always fit, so a
        // blocking write with the `Timeout` bound never waits in practice.
        sync_io::write_all(&self.stream, &[CONTINUE], self.timeout).map_err(|e| {
            let e = BodyError::new(BodyErrorKind::Io(e));
            st.failed = Some(e.again());
            e
        })
    }

    /// Account for a read's result.
    fn after_read(&self, st: &mut LinkState, r: std::io::Result<usize>) -> Result<(), BodyError> {
        let kind = match r {
            Ok(0) => BodyErrorKind::Closed,
            Ok(n) => {
                st.received = st.received.saturating_add(n);
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => BodyErrorKind::TimedOut,
            Err(e) => BodyErrorKind::Io(e),
        };
        let e = BodyError::new(kind);
        st.failed = Some(e.again());
        Err(e)
    }

    /// Decode what is buffered: a frame, the end, or the need for more bytes.
    fn advance(&self, st: &mut LinkState) -> Result<Advance, BodyError> {
        if let Some(e) = &st.failed {
            return Err(e.again());
        }
        if st.detached {
            return Err(BodyError::new(BodyErrorKind::Detached));
        }
        let r = st.decode(&self.limits);
        if let Err(e) = &r {
            st.failed = Some(e.again());
        }
        r
    }
}

impl LinkState {
    /// The state of a body framed as `framing` whose first bytes are `buf[pos..]`, held
    /// to `limit` bytes and to `limits`' body deadline.
    pub(crate) fn new(
        buf: Vec<u8>,
        pos: usize,
        framing: Framing,
        expect_continue: bool,
        limit: Option<u64>,
        limits: &RequestLimits,
    ) -> LinkState {
        let source = match framing {
            Framing::Length(0) => Source::Done,
            Framing::Length(n) => Source::Length(n),
            Framing::Chunked => Source::Chunked(Decoder::new()),
        };
        let more_needed = !matches!(source, Source::Done);
        let arrived_with_head = buf.len() > pos;
        LinkState {
            buf,
            pos,
            source,
            limit,
            delivered: 0,
            received: 0,
            budget: Budget::body(limits),
            // RFC 9110 §10.1.1: no `100 Continue` once some of the content arrived.
            continue_pending: expect_continue && more_needed && !arrived_with_head,
            arrived_with_head,
            responded: false,
            failed: None,
            detached: false,
            trailers: None,
            respond: RespondParams::default(),
            written: Written::default(),
            closing: None,
        }
    }

    fn decode(&mut self, limits: &RequestLimits) -> Result<Advance, BodyError> {
        let avail = self.buf.get(self.pos..).unwrap_or(&[]);
        let (start, len) = match &mut self.source {
            Source::Done => {
                return Ok(match self.trailers.take() {
                    Some(t) => Advance::Frame(Frame::trailers(t)),
                    None => Advance::End,
                })
            }
            Source::Length(left) => {
                if avail.is_empty() {
                    return Ok(Advance::NeedRead);
                }
                let len = avail
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= len as u64;
                if *left == 0 {
                    self.source = Source::Done;
                }
                (0, len)
            }
            Source::Chunked(d) => match d.decode(avail, limits) {
                Err(status) => return Err(BodyError::new(BodyErrorKind::Malformed(status))),
                Ok(Step::Need(used)) => {
                    self.pos += used;
                    // A declared chunk size over the limit fails before its data arrives.
                    let declared = self.delivered.saturating_add(d.data_left());
                    if self.limit.is_some_and(|l| declared > l) {
                        return Err(BodyError::new(BodyErrorKind::TooLarge));
                    }
                    return Ok(Advance::NeedRead);
                }
                Ok(Step::End(used, trailers)) => {
                    self.pos += used;
                    self.source = Source::Done;
                    self.trailers = trailers;
                    return self.decode(limits);
                }
                Ok(Step::Data { start, len }) => (start, len),
            },
        };
        self.delivered += len as u64;
        if self.limit.is_some_and(|l| self.delivered > l) {
            return Err(BodyError::new(BodyErrorKind::TooLarge));
        }
        let from = self.pos + start;
        let data = Bytes::copy_from_slice(&self.buf[from..from + len]);
        self.pos = from + len;
        Ok(Advance::Frame(Frame::data(data)))
    }

    /// Drop consumed bytes and make room for a read of up to [`READ_STEP`].
    fn make_room(&mut self) {
        if self.pos > 0 {
            let pos = self.pos.min(self.buf.len());
            self.buf.drain(..pos);
            self.pos = 0;
        }
        if self.buf.capacity() - self.buf.len() < READ_STEP / 4 {
            self.buf.reserve(READ_STEP);
        }
    }

    /// Whether the whole body was read (so the connection can go on to the next request).
    pub(crate) fn finished(&self) -> bool {
        matches!(self.source, Source::Done) && self.failed.is_none()
    }

    /// Whether the client may still be waiting for `100 Continue` (and may never send the
    /// body): none was sent, and none of the body has arrived.
    pub(crate) fn continue_pending(&self) -> bool {
        self.continue_pending
            && !self.arrived_with_head
            && self.received == 0
            && self.buf.len() <= self.pos
    }

    /// The body's error, if reading it failed.
    pub(crate) fn failure(&self) -> Option<BodyError> {
        self.failed.as_ref().map(BodyError::again)
    }

    /// Take the buffer back for the connection; later reads of the body fail.
    pub(crate) fn detach(&mut self) -> (Vec<u8>, usize) {
        self.detached = true;
        (std::mem::take(&mut self.buf), std::mem::take(&mut self.pos))
    }
}

/// At most this much of a body the handler left unread is read and dropped to keep the
/// connection; a longer rest closes it (RFC 9112 §9.3: a server may close instead).
pub(crate) const DRAIN_MAX: u64 = 256 * 1024;

/// How reading and dropping the rest of a body ended.
#[derive(Debug)]
pub(crate) enum Drained {
    /// The body ended: the connection is where the next request starts.
    Finished,
    /// More than the bound was left: the connection cannot be reused.
    TooLong,
    /// The body failed (its error says whether to answer, and with what; the same error
    /// is kept on the link for the connection).
    Failed(BodyError),
}

impl Drained {
    fn of(
        r: Result<Option<Frame<Bytes>>, BodyError>,
        dropped: &mut u64,
        max: u64,
    ) -> Option<Drained> {
        match r {
            Ok(Some(f)) => {
                *dropped += f.data_ref().map_or(0, |d| d.len() as u64);
                (*dropped > max).then_some(Drained::TooLong)
            }
            Ok(None) => Some(Drained::Finished),
            Err(e) => Some(Drained::Failed(e)),
        }
    }
}

/// Read and drop the rest of a body the handler left unread, so the connection can serve
/// the next request (and a framing error in it is found): at most `max` bytes, each read
/// bounded as the body's are.
pub(crate) async fn drain(link: &Link, max: u64) -> Drained {
    let mut sleep = None;
    let mut dropped = 0u64;
    loop {
        let next = std::future::poll_fn(|cx| link.poll_next(cx, &mut sleep)).await;
        if let Some(d) = Drained::of(next, &mut dropped, max) {
            return d;
        }
    }
}

impl Link {
    /// [`drain`], blocking (a blocking handler's thread).
    pub(crate) fn drain_blocking(&self, max: u64) -> Drained {
        let mut dropped = 0u64;
        loop {
            if let Some(d) = Drained::of(self.next_blocking(), &mut dropped, max) {
                return d;
            }
        }
    }

    /// Whether the body was read to its end.
    pub(crate) fn finished(&self) -> bool {
        self.lock().finished()
    }
}

/// A request body: empty, whole (the buffered handler kinds), or streamed from the
/// connection with backpressure.
///
/// It is an [`http_body::Body`] of [`Bytes`] frames (data, then the chunked trailers if
/// any); `size_hint` is exact when the request declared a `Content-Length`. Polling it
/// reads the socket, under the body deadlines of `RequestReadTimeout` and `Timeout`, and
/// sends `100 Continue` first if the client asked for it. An error is final: the same
/// error comes back on every later poll, and the connection answers it (400, 408, 413)
/// if no response went out yet.
pub struct RequestBody {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Linked {
        link: Arc<Link>,
        sleep: Option<Pin<Box<Sleep>>>,
    },
    /// An HTTP/2 stream's DATA frames, each released to the peer's window once taken.
    #[cfg(feature = "http2")]
    H2 {
        recv: h2::RecvStream,
        limit: Option<u64>,
        received: u64,
        failed: bool,
    },
}

impl RequestBody {
    /// An empty body.
    pub fn empty() -> RequestBody {
        RequestBody { kind: Kind::Empty }
    }

    /// A body of these bytes (already read).
    pub fn full(bytes: Bytes) -> RequestBody {
        RequestBody {
            kind: Kind::Full(Some(bytes)),
        }
    }

    /// The body of an HTTP/2 stream, held to `limit` bytes (`LimitRequestBody`).
    #[cfg(feature = "http2")]
    pub(crate) fn h2(recv: h2::RecvStream, limit: Option<u64>) -> RequestBody {
        RequestBody {
            kind: Kind::H2 {
                recv,
                limit,
                received: 0,
                failed: false,
            },
        }
    }

    pub(crate) fn linked(link: Arc<Link>) -> RequestBody {
        RequestBody {
            kind: Kind::Linked { link, sleep: None },
        }
    }

    /// The link of a streamed body (the blocking reader and writer use it).
    pub(crate) fn link(&self) -> Option<&Arc<Link>> {
        match &self.kind {
            Kind::Linked { link, .. } => Some(link),
            _ => None,
        }
    }

    /// The whole body, when it is already in memory (the buffered handler kinds).
    pub(crate) fn into_full(self) -> Option<Bytes> {
        match self.kind {
            Kind::Empty => Some(Bytes::new()),
            Kind::Full(b) => Some(b.unwrap_or_default()),
            Kind::Linked { .. } => None,
            #[cfg(feature = "http2")]
            Kind::H2 { .. } => None,
        }
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("RequestBody::Empty"),
            Kind::Full(b) => write!(
                f,
                "RequestBody::Full({} bytes)",
                b.as_ref().map_or(0, Bytes::len)
            ),
            Kind::Linked { .. } => f.write_str("RequestBody::Streamed"),
            #[cfg(feature = "http2")]
            Kind::H2 { .. } => f.write_str("RequestBody::Http2"),
        }
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        RequestBody::empty()
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match &mut self.get_mut().kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Kind::Linked { link, sleep } => link.poll_next(cx, sleep).map(Result::transpose),
            #[cfg(feature = "http2")]
            Kind::H2 {
                recv,
                limit,
                received,
                failed,
            } => {
                if *failed {
                    return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Closed))));
                }
                match recv.poll_data(cx) {
                    Poll::Ready(Some(Ok(data))) => {
                        let _ = recv.flow_control().release_capacity(data.len());
                        *received += data.len() as u64;
                        if limit.is_some_and(|l| *received > l) {
                            *failed = true;
                            return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::TooLarge))));
                        }
                        Poll::Ready(Some(Ok(Frame::data(data))))
                    }
                    Poll::Ready(Some(Err(_))) => {
                        *failed = true;
                        Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Closed))))
                    }
                    Poll::Ready(None) => match recv.poll_trailers(cx) {
                        Poll::Ready(Ok(Some(t))) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
                        Poll::Ready(Ok(None)) => Poll::Ready(None),
                        Poll::Ready(Err(_)) => {
                            *failed = true;
                            Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Closed))))
                        }
                        Poll::Pending => Poll::Pending,
                    },
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Kind::Linked { .. } => false,
            #[cfg(feature = "http2")]
            Kind::H2 { recv, .. } => recv.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Linked { link, .. } => match link.exact_len() {
                Some(n) => SizeHint::with_exact(n),
                None => SizeHint::default(),
            },
            #[cfg(feature = "http2")]
            Kind::H2 { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
#[path = "incoming_tests.rs"]
mod tests;
