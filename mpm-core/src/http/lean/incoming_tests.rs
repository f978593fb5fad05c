//! Unit tests of the streamed request body: the error type, the decoder state
//! ([`LinkState`]), the drain bound, [`RequestBody`]'s `Body` methods, and the two read
//! paths of a [`Link`] over a real 127.0.0.1 socket pair (every client socket has a read
//! and write timeout, every wait of the link a `Timeout`, so no test can hang).

use super::*;
use crate::http::HttpOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

/// Bounds every client-side socket operation.
const LIMIT: Duration = Duration::from_secs(10);

// ---- BodyError ---------------------------------------------------------------------------

fn err(kind: BodyErrorKind) -> BodyError {
    BodyError::new(kind)
}

fn io_err(kind: ErrorKind) -> BodyError {
    err(BodyErrorKind::Io(std::io::Error::new(kind, "boom")))
}

/// Every kind has its own message (what a log line or a handler's error report shows).
#[test]
fn body_error_display_says_what_went_wrong() {
    let text = |e: BodyError| e.to_string();
    assert_eq!(
        text(err(BodyErrorKind::Malformed(StatusCode::BAD_REQUEST))),
        "malformed request body framing (400 Bad Request)"
    );
    assert_eq!(
        text(err(BodyErrorKind::TooLarge)),
        "request body exceeds LimitRequestBody"
    );
    assert_eq!(
        text(err(BodyErrorKind::TimedOut)),
        "timed out reading the request body"
    );
    assert_eq!(
        text(err(BodyErrorKind::Closed)),
        "client closed the connection mid-body"
    );
    assert_eq!(
        text(io_err(ErrorKind::ConnectionReset)),
        "reading the request body failed: boom"
    );
    assert_eq!(
        text(err(BodyErrorKind::Detached)),
        "the request body is no longer available"
    );
}

/// Only an I/O failure wraps another error; the framing and deadline kinds are the cause.
#[test]
fn only_an_io_body_error_has_a_source() {
    use std::error::Error as _;
    let e = io_err(ErrorKind::ConnectionReset);
    let source = e.source().expect("an I/O failure keeps its cause");
    assert_eq!(source.to_string(), "boom");
    for kind in [
        BodyErrorKind::Malformed(StatusCode::BAD_REQUEST),
        BodyErrorKind::TooLarge,
        BodyErrorKind::TimedOut,
        BodyErrorKind::Closed,
        BodyErrorKind::Detached,
    ] {
        assert!(err(kind).source().is_none());
    }
}

/// A blocking handler reads the body through `std::io::Read`: the error kinds it sees
/// must say what happened (a deadline is `TimedOut`, an early close `UnexpectedEof`, an
/// I/O failure keeps its own kind, a framing or size refusal is `InvalidData`).
#[test]
fn body_errors_become_io_errors_of_the_matching_kind() {
    let kind = |e: BodyError| std::io::Error::from(e).kind();
    assert_eq!(kind(err(BodyErrorKind::TimedOut)), ErrorKind::TimedOut);
    assert_eq!(kind(err(BodyErrorKind::Closed)), ErrorKind::UnexpectedEof);
    assert_eq!(
        kind(io_err(ErrorKind::ConnectionReset)),
        ErrorKind::ConnectionReset
    );
    assert_eq!(kind(err(BodyErrorKind::TooLarge)), ErrorKind::InvalidData);
    assert_eq!(
        kind(err(BodyErrorKind::Malformed(StatusCode::BAD_REQUEST))),
        ErrorKind::InvalidData
    );
    assert_eq!(kind(err(BodyErrorKind::Detached)), ErrorKind::InvalidData);
}

// ---- The decoder state, without a socket -------------------------------------------------

/// A link state as `Link::new` makes it, holding `bytes` unread.
fn state(framing: Framing, bytes: &[u8], limit: Option<u64>) -> LinkState {
    LinkState::new(
        bytes.to_vec(),
        0,
        framing,
        false,
        limit,
        &RequestLimits::default(),
    )
}

/// What one decode step gave: data bytes, a trailer count, "need more", the end, or the
/// error's status.
#[derive(Debug, PartialEq)]
enum Got {
    Data(Vec<u8>),
    Trailers(usize),
    Need,
    End,
    Failed(Option<StatusCode>),
}

fn step(st: &mut LinkState) -> Got {
    match st.decode(&RequestLimits::default()) {
        Ok(Advance::Frame(f)) => match f.into_data() {
            Ok(d) => Got::Data(d.to_vec()),
            Err(f) => Got::Trailers(f.into_trailers().map_or(0, |t| t.len())),
        },
        Ok(Advance::NeedRead) => Got::Need,
        Ok(Advance::End) => Got::End,
        Err(e) => Got::Failed(e.status()),
    }
}

/// RFC 9112 §7.1: a chunked body ends after its last chunk and trailer section; the next
/// request starts right there, so `pos` must point at it.
#[test]
fn a_chunked_body_ends_where_its_trailer_section_ends() {
    let mut st = state(
        Framing::Chunked,
        b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT",
        None,
    );
    assert_eq!(step(&mut st), Got::Data(b"abc".to_vec()));
    assert_eq!(step(&mut st), Got::Trailers(1));
    assert_eq!(step(&mut st), Got::End);
    assert_eq!(&st.buf[st.pos..], b"NEXT");
    assert!(st.finished());
}

/// A chunk-size line that arrived without its data is consumed once: the data that
/// follows it later is decoded as data, not as a second size line.
#[test]
fn framing_consumed_while_waiting_for_data_is_not_read_again() {
    let mut st = state(Framing::Chunked, b"3\r\n", None);
    assert_eq!(step(&mut st), Got::Need);
    assert_eq!(st.pos, 3, "the size line is consumed");
    st.buf.extend_from_slice(b"abc\r\n0\r\n\r\n");
    assert_eq!(step(&mut st), Got::Data(b"abc".to_vec()));
    assert_eq!(step(&mut st), Got::End);
    assert_eq!(st.pos, st.buf.len());
}

/// `LimitRequestBody` on a chunked body: a chunk whose declared size takes the body past
/// the limit is refused (413) before its data arrives; one that reaches the limit exactly
/// is not.
#[test]
fn a_declared_chunk_over_the_body_limit_fails_before_its_data() {
    // 4 bytes delivered, then a 6-byte chunk: 10, the limit itself.
    let mut st = state(Framing::Chunked, b"4\r\nabcd\r\n6\r\n", Some(10));
    assert_eq!(step(&mut st), Got::Data(b"abcd".to_vec()));
    assert_eq!(step(&mut st), Got::Need);
    // 4 delivered, then a 7-byte chunk: 11 declared, over the limit.
    let mut st = state(Framing::Chunked, b"4\r\nabcd\r\n7\r\n", Some(10));
    assert_eq!(step(&mut st), Got::Data(b"abcd".to_vec()));
    assert_eq!(
        step(&mut st),
        Got::Failed(Some(StatusCode::PAYLOAD_TOO_LARGE))
    );
    // The whole first chunk already over the limit.
    let mut st = state(Framing::Chunked, b"b\r\n", Some(10));
    assert_eq!(
        step(&mut st),
        Got::Failed(Some(StatusCode::PAYLOAD_TOO_LARGE))
    );
}

/// Before a read, bytes already decoded are dropped from the front of the buffer, so it
/// does not grow with the body.
#[test]
fn make_room_drops_the_bytes_already_decoded() {
    let mut st = state(Framing::Chunked, b"abcdef", None);
    st.pos = 4;
    st.make_room();
    assert_eq!((&st.buf[..], st.pos), (&b"ef"[..], 0));
}

/// A state whose buffer holds `len` bytes (all decoded) with exactly `spare` bytes free.
fn with_room(len: usize, spare: usize) -> LinkState {
    let mut st = state(Framing::Chunked, b"", None);
    st.buf = Vec::with_capacity(len + spare);
    st.buf.resize(len, b'x');
    assert_eq!(st.buf.capacity() - st.buf.len(), spare, "test setup");
    st
}

/// The buffer grows by a read step only when less than a quarter of a step is free: a
/// read always has room, and a buffer with room enough is not grown (memory per
/// uploading connection stays the buffer plus one frame).
#[test]
fn make_room_grows_the_buffer_only_when_less_than_a_quarter_step_is_free() {
    let quarter = READ_STEP / 4;
    for (len, spare, grows) in [
        (8000, 0, true),
        (100, quarter - 1, true),
        (100, quarter, false),
        (0, quarter + 1000, false),
    ] {
        let mut st = with_room(len, spare);
        let before = st.buf.capacity();
        st.make_room();
        let free = st.buf.capacity() - st.buf.len();
        if grows {
            assert!(
                free >= READ_STEP,
                "{len} used, {spare} free: {free} free after"
            );
        } else {
            assert_eq!(st.buf.capacity(), before, "{len} used, {spare} free: grown");
        }
    }
}

/// While a client waits for `100 Continue` (RFC 9110 §10.1.1), nothing of its body has
/// arrived; once some has, or when the body came with the head, it is not waiting.
#[test]
fn continue_is_pending_only_while_no_body_byte_arrived() {
    let mut st = state(Framing::Length(4), b"", None);
    st.continue_pending = true;
    assert!(st.continue_pending(), "nothing sent yet");
    st.received = 2;
    assert!(!st.continue_pending(), "bytes were read from the socket");
    let mut st = state(Framing::Length(4), b"", None);
    st.continue_pending = true;
    st.buf = b"ab".to_vec();
    assert!(!st.continue_pending(), "bytes wait in the buffer");
    let mut st = state(Framing::Length(4), b"ab", None);
    st.continue_pending = true;
    assert!(!st.continue_pending(), "the body came with the head");
    let st = state(Framing::Length(4), b"", None);
    assert!(!st.continue_pending(), "no Expect: 100-continue");
}

// ---- The drain bound ---------------------------------------------------------------------

fn data(n: usize) -> Result<Option<Frame<Bytes>>, BodyError> {
    Ok(Some(Frame::data(Bytes::from(vec![b'x'; n]))))
}

/// Draining counts the data bytes dropped (trailers are not data) and gives up only once
/// more than the bound was dropped; the end or an error ends it at once.
#[test]
fn draining_counts_dropped_data_and_stops_only_past_the_bound() {
    let mut dropped = 0;
    assert!(Drained::of(data(4), &mut dropped, 10).is_none());
    assert!(
        Drained::of(data(6), &mut dropped, 10).is_none(),
        "at the bound"
    );
    assert_eq!(dropped, 10);
    let trailers = Ok(Some(Frame::trailers(HeaderMap::new())));
    assert!(Drained::of(trailers, &mut dropped, 10).is_none());
    assert_eq!(dropped, 10, "trailers are not data");
    assert!(matches!(
        Drained::of(data(1), &mut dropped, 10),
        Some(Drained::TooLong)
    ));
    // One frame far past the bound.
    let mut dropped = 0;
    assert!(matches!(
        Drained::of(data(50), &mut dropped, 10),
        Some(Drained::TooLong)
    ));
    let mut dropped = 0;
    assert!(matches!(
        Drained::of(Ok(None), &mut dropped, 10),
        Some(Drained::Finished)
    ));
    assert!(matches!(
        Drained::of(Err(err(BodyErrorKind::Closed)), &mut dropped, 10),
        Some(Drained::Failed(_))
    ));
}

// ---- RequestBody without a link ----------------------------------------------------------

fn poll_once(body: &mut RequestBody) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    Pin::new(body).poll_frame(&mut cx)
}

/// A whole body yields its bytes as one frame, then ends; an empty one yields no frame
/// at all (not an empty data frame). `is_end_stream` and `size_hint` say the same.
#[test]
fn a_whole_body_yields_its_bytes_once_and_an_empty_one_nothing() {
    let mut b = RequestBody::full(Bytes::from_static(b"abc"));
    assert!(!b.is_end_stream());
    assert_eq!(b.size_hint().exact(), Some(3));
    match poll_once(&mut b) {
        Poll::Ready(Some(Ok(f))) => assert_eq!(f.into_data().unwrap(), "abc"),
        _ => panic!("no data frame"),
    }
    assert!(b.is_end_stream());
    assert!(matches!(poll_once(&mut b), Poll::Ready(None)));

    let mut b = RequestBody::full(Bytes::new());
    assert!(b.is_end_stream());
    assert!(matches!(poll_once(&mut b), Poll::Ready(None)));

    let mut b = RequestBody::empty();
    assert!(b.is_end_stream());
    assert_eq!(b.size_hint().exact(), Some(0));
    assert!(matches!(poll_once(&mut b), Poll::Ready(None)));
}

/// `Debug` says which kind of body it is (and a whole body's size), never its bytes.
#[test]
fn request_body_debug_names_its_kind() {
    assert_eq!(format!("{:?}", RequestBody::empty()), "RequestBody::Empty");
    assert_eq!(
        format!("{:?}", RequestBody::full(Bytes::from_static(b"abc"))),
        "RequestBody::Full(3 bytes)"
    );
    let p = Pair::new(b"");
    let link = p.link(Framing::Chunked, false);
    assert_eq!(
        format!("{:?}", RequestBody::linked(Arc::new(link))),
        "RequestBody::Streamed"
    );
}

// ---- A link over a socket pair -----------------------------------------------------------

/// A server-side transport and its client, on 127.0.0.1.
struct Pair {
    /// Registers the server socket (and drives it for the async read path).
    rt: tokio::runtime::Runtime,
    server: Arc<Transport>,
    client: TcpStream,
    opts: HttpOptions,
}

impl Pair {
    /// A connected pair; the client has sent `sent`, all of it queued at the server before
    /// this returns (so a read's size does not depend on how fast loopback delivered).
    fn new(sent: &[u8]) -> Pair {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_read_timeout(Some(LIMIT)).unwrap();
        client.set_write_timeout(Some(LIMIT)).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(sent).unwrap();
        server.set_read_timeout(Some(LIMIT)).unwrap();
        let mut peek = vec![0u8; sent.len() + 1];
        let deadline = std::time::Instant::now() + LIMIT;
        while !sent.is_empty() && server.peek(&mut peek).unwrap() < sent.len() {
            assert!(
                std::time::Instant::now() < deadline,
                "the bytes never arrived"
            );
        }
        server.set_nonblocking(true).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = {
            let _in_rt = rt.enter();
            tokio::net::TcpStream::from_std(server).unwrap()
        };
        let opts = HttpOptions {
            timeout: LIMIT,
            ..HttpOptions::default()
        };
        Pair {
            rt,
            server: Arc::new(Transport::Plain(server)),
            client,
            opts,
        }
    }

    /// A link for a body of `framing` whose bytes are all still in the socket.
    fn link(&self, framing: Framing, expect_continue: bool) -> Link {
        let plan = super::super::framing::Plan {
            framing,
            expect_continue,
            client_close: false,
            upgrade: false,
        };
        Link::new(self.server.clone(), &self.opts, Vec::new(), 0, &plan, None)
    }

    /// The next frame through the async path (`RequestBody`'s).
    fn poll_next(&self, link: &Link) -> Result<Option<Frame<Bytes>>, BodyError> {
        let mut sleep = None;
        self.rt
            .block_on(std::future::poll_fn(|cx| link.poll_next(cx, &mut sleep)))
    }

    /// Drop the connection with a reset (SO_LINGER 0), as a crashing client does.
    fn reset_client(self) -> (tokio::runtime::Runtime, Arc<Transport>, HttpOptions) {
        socket2::SockRef::from(&self.client)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(self.client);
        (self.rt, self.server, self.opts)
    }
}

fn data_of(r: Result<Option<Frame<Bytes>>, BodyError>) -> Bytes {
    match r {
        Ok(Some(f)) => f.into_data().expect("a data frame"),
        Ok(None) => panic!("the body ended"),
        Err(e) => panic!("the body failed: {e}"),
    }
}

/// `size_hint` is exact when the head declared a length (so a handler can preallocate,
/// and an echoing response keeps a `Content-Length`); a chunked body has none.
#[test]
fn a_declared_length_is_the_exact_size_hint_and_chunked_has_none() {
    let p = Pair::new(b"");
    let hint = |framing| RequestBody::linked(Arc::new(p.link(framing, false))).size_hint();
    assert_eq!(hint(Framing::Length(5)).exact(), Some(5));
    assert_eq!(hint(Framing::Length(0)).exact(), Some(0));
    let chunked = hint(Framing::Chunked);
    assert_eq!((chunked.lower(), chunked.upper()), (0, None));
    assert!(!RequestBody::linked(Arc::new(p.link(Framing::Length(5), false))).is_end_stream());
}

/// A streamed body reads at most one step (16 KiB) from the socket at a time, in both
/// read paths: more waiting in the kernel is left there until the handler asks again.
#[test]
fn a_streamed_body_is_read_one_16_kib_step_at_a_time() {
    let body = vec![b'b'; 20_000];
    let p = Pair::new(&body);
    let link = p.link(Framing::Length(20_000), false);
    assert_eq!(data_of(link.next_blocking()).len(), 16 * 1024);
    assert_eq!(data_of(link.next_blocking()).len(), 20_000 - 16 * 1024);
    assert!(matches!(link.next_blocking(), Ok(None)));

    let p = Pair::new(&body);
    let link = p.link(Framing::Length(20_000), false);
    assert_eq!(data_of(p.poll_next(&link)).len(), 16 * 1024);
}

/// A body is finished when it was read to its end (a bodiless request at once), not
/// before, and not after a failure: only then can the connection serve a next request.
#[test]
fn a_body_is_finished_only_when_read_to_its_end() {
    let p = Pair::new(b"abc");
    assert!(p.link(Framing::Length(0), false).finished(), "no body");
    let link = p.link(Framing::Length(3), false);
    assert!(!link.finished());
    assert_eq!(data_of(link.next_blocking()), "abc");
    assert!(link.finished());
    assert!(link.lock().finished());

    // The client stops after 1 of 3 bytes: failed, not finished.
    let p = Pair::new(b"a");
    p.client.shutdown(Shutdown::Write).unwrap();
    let link = p.link(Framing::Length(3), false);
    assert_eq!(data_of(link.next_blocking()), "a");
    let e = link.next_blocking().unwrap_err();
    // RFC 9112 §8: an incomplete message; answered 400 (the client may still read).
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(std::io::Error::from(e).kind(), ErrorKind::UnexpectedEof);
    assert!(!link.finished());
}

/// A client that sends nothing fails a blocking read at `Timeout` with a 408, and a
/// `TimedOut` error for the handler's `Read`.
#[test]
fn a_silent_client_times_out_a_blocking_read_with_408() {
    let mut p = Pair::new(b"");
    p.opts.timeout = Duration::from_millis(200);
    let link = p.link(Framing::Length(3), false);
    let started = std::time::Instant::now();
    let e = link.next_blocking().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(e.status(), Some(StatusCode::REQUEST_TIMEOUT));
    // The error is kept: later reads fail the same way, at once.
    assert_eq!(
        link.next_blocking().unwrap_err().status(),
        Some(StatusCode::REQUEST_TIMEOUT)
    );
    assert_eq!(std::io::Error::from(e).kind(), ErrorKind::TimedOut);
}

/// A connection reset mid-body is an I/O failure (nothing is answered: the client is
/// gone), in the blocking and the async read path alike — not a timeout, not a clean
/// close.
#[test]
fn a_reset_mid_body_fails_it_without_an_answer() {
    for blocking in [true, false] {
        let p = Pair::new(b"");
        let link = p.link(Framing::Length(3), false);
        let (rt, _server, _opts) = p.reset_client();
        let r = if blocking {
            link.next_blocking()
        } else {
            let mut sleep = None;
            rt.block_on(std::future::poll_fn(|cx| link.poll_next(cx, &mut sleep)))
        };
        let e = r.unwrap_err();
        assert_eq!(e.status(), None, "blocking {blocking}: {e}");
        assert_eq!(
            std::io::Error::from(e).kind(),
            ErrorKind::ConnectionReset,
            "blocking {blocking}"
        );
    }
}

/// RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` gets `100 Continue` when
/// the handler first reads the body, then sends it.
#[test]
fn the_first_read_of_an_expecting_body_sends_100_continue() {
    let p = Pair::new(b"");
    let link = p.link(Framing::Length(4), true);
    assert!(link.lock().continue_pending());
    let mut client = p.client.try_clone().unwrap();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut got = [0u8; CONTINUE.len()];
            client.read_exact(&mut got).unwrap();
            assert_eq!(&got[..], CONTINUE);
            client.write_all(b"ping").unwrap();
        });
        assert_eq!(data_of(link.next_blocking()), "ping");
    });
    assert!(!link.lock().continue_pending());
}

/// A body the handler left unread is dropped to keep the connection only up to 256 KiB
/// (RFC 9112 §9.3 lets a server close instead; a longer rest costs more than a new
/// connection).
#[test]
fn a_left_over_body_of_up_to_256_kib_is_drained_and_a_longer_one_is_not() {
    for (len, finished) in [(256 * 1024, true), (256 * 1024 + 1, false)] {
        let p = Pair::new(b"");
        let link = p.link(Framing::Length(len), false);
        let mut client = p.client.try_clone().unwrap();
        // The writer may stay blocked once the drain gave up; it ends when the server
        // side closes (below) or at its write timeout.
        let writer = std::thread::spawn(move || {
            let _ = client.write_all(&vec![b'x'; len as usize]);
        });
        let d = link.drain_blocking(DRAIN_MAX);
        match (finished, d) {
            (true, Drained::Finished) | (false, Drained::TooLong) => {}
            (_, d) => panic!("{len} bytes: {d:?}"),
        }
        drop(link);
        drop(p);
        writer.join().unwrap();
    }
}

// ---- An HTTP/2 stream's body (feature `http2`) -------------------------------------------

/// The body of one HTTP/2 request stream carrying `body` (one DATA frame, then its end),
/// read through [`RequestBody::h2`] held to `limit`: each frame's bytes, or the error's
/// status. The h2 client and server talk over an in-memory pipe on this thread's runtime.
#[cfg(feature = "http2")]
fn h2_body(body: &'static [u8], limit: Option<u64>) -> Vec<Result<Bytes, Option<StatusCode>>> {
    use http_body_util::BodyExt;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = async move {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let client = async move {
            let (send, conn) = h2::client::handshake(client_io).await.unwrap();
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let mut send = send.ready().await.unwrap();
            let req = http::Request::post("http://t/").body(()).unwrap();
            let (resp, mut stream) = send.send_request(req, false).unwrap();
            stream.send_data(Bytes::from_static(body), true).unwrap();
            // Kept until the server side is done: dropping them would reset the stream.
            (send, resp, stream)
        };
        let server = async move {
            let mut conn = h2::server::handshake(server_io).await.unwrap();
            let (req, respond) = conn.accept().await.unwrap().unwrap();
            // The connection is driven by its `accept` loop.
            tokio::spawn(async move { while conn.accept().await.is_some() {} });
            (req, respond)
        };
        let (kept, (req, respond)) = tokio::join!(client, server);
        let mut b = RequestBody::h2(req.into_body(), limit);
        let mut got = Vec::new();
        // Bounded: a body yields at most one data frame, an error, then the end.
        for _ in 0..3 {
            match b.frame().await {
                None => break,
                Some(Ok(f)) => got.push(Ok(f.into_data().unwrap_or_default())),
                Some(Err(e)) => got.push(Err(e.status())),
            }
        }
        drop((kept, respond));
        got
    };
    rt.block_on(async { tokio::time::timeout(LIMIT, run).await.expect("h2 exchange") })
}

/// `LimitRequestBody` holds an HTTP/2 body as it holds an HTTP/1.1 one: a body of exactly
/// the limit is delivered whole, a byte more is refused (413), and the failure is final.
#[cfg(feature = "http2")]
#[test]
fn an_http2_body_is_delivered_up_to_the_limit_and_refused_past_it() {
    let hello = Bytes::from_static(b"hello");
    assert_eq!(h2_body(b"hello", None), vec![Ok(hello.clone())]);
    assert_eq!(h2_body(b"hello", Some(5)), vec![Ok(hello)]);
    let too_large = h2_body(b"hello", Some(4));
    assert_eq!(too_large[0], Err(Some(StatusCode::PAYLOAD_TOO_LARGE)));
    assert!(too_large[1..].iter().all(|r| r.is_err()), "{too_large:?}");
}
