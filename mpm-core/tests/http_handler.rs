//! The handler API: panics become 500s with a log line, handler constructors (every kind,
//! its body mode, whether it blocks), options, the closing signal; and how long a streaming
//! handler's responses take on a blocking thread (no Nagle stalls).

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use mpm_core::http::{
    call_handler, BodyMode, BodyReader, Closing, ConnObserver, Handler, HttpHandler, HttpOptions,
    RequestBody, ResponseWriter,
};
use mpm_core::kit::SlotObserver;
use mpm_core::scoreboard::{Scoreboard, WorkerStatus};
use mpm_core::MpmKind;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn panic_becomes_500_with_an_error_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::ERROR)
        .finish();
    let h = |_req: Request<Bytes>| -> Response<Bytes> { panic!("boom {}", 42) };
    let req = Request::builder()
        .method(Method::POST)
        .uri("/explode?x=1")
        .body(Bytes::new())
        .unwrap();
    // The only test in this binary that reaches the error callsite (tracing caches a
    // callsite's interest globally, so a concurrent test without a subscriber could hide it).
    let plain = |_: Request<Bytes>| -> Response<Bytes> { panic!("plain") };
    let (resp, plain_resp) = tracing::subscriber::with_default(subscriber, || {
        (
            call_handler(&h, req),
            call_handler(&plain, Request::new(Bytes::new())),
        )
    });
    assert_eq!(plain_resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(resp.body().as_ref(), b"Internal Server Error\n");
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains("ERROR"), "{out}");
    assert!(out.contains("boom 42"), "{out}");
    assert!(out.contains("POST"), "{out}");
    assert!(out.contains("/explode?x=1"), "{out}");
}

#[test]
fn normal_calls_pass_through() {
    struct Fixed;
    impl HttpHandler for Fixed {
        fn handle(&self, _: Request<Bytes>) -> Response<Bytes> {
            Response::new(Bytes::from_static(b"fixed"))
        }
    }
    let ok = call_handler(&Fixed, Request::new(Bytes::new()));
    assert_eq!(ok.body().as_ref(), b"fixed");
}

#[test]
fn handler_constructors() {
    let h = Handler::http(|_: Request<Bytes>| Response::new(Bytes::from_static(b"x")));
    match h.clone() {
        Handler::Http(h) => {
            assert_eq!(h.handle(Request::new(Bytes::new())).body().as_ref(), b"x")
        }
        Handler::Stream(_) | Handler::Connection(_) | Handler::Async(_) | Handler::Service(_) => {
            panic!("wrong kind")
        }
    }
    assert_eq!(h.body_mode(), BodyMode::Buffered);
    assert!(h.is_blocking());
    assert!(format!("{h:?}").contains("Http"));

    let c = Handler::connection(|_s: std::net::TcpStream, _p: std::net::SocketAddr| {});
    assert!(matches!(c, Handler::Connection(_)));
    assert!(format!("{c:?}").contains("Connection"));
    assert!(c.is_blocking());

    let a = Handler::asynchronous(|_: Request<Bytes>| async {
        Response::new(Bytes::from_static(b"a"))
    });
    assert!(matches!(a, Handler::Async(_)));
    assert!(format!("{a:?}").contains("Async"));
    assert_eq!(a.body_mode(), BodyMode::Buffered);
    assert!(!a.is_blocking());

    // Blocking, streamed both ways: the body is read as it arrives, the response written.
    let s = Handler::stream(|_: Request<BodyReader>, res: ResponseWriter| {
        let _ = res.send(Response::new(Bytes::from_static(b"s")));
    });
    assert!(matches!(s, Handler::Stream(_)));
    assert!(format!("{s:?}").contains("Stream"));
    assert_eq!(s.body_mode(), BodyMode::Writer);
    assert!(s.is_blocking());

    // Async, streamed both ways (what a tower::Service becomes).
    let v =
        Handler::service(|req: Request<RequestBody>| async move { Response::new(req.into_body()) });
    assert!(matches!(v, Handler::Service(_)));
    assert!(format!("{v:?}").contains("Service"));
    assert_eq!(v.body_mode(), BodyMode::Streamed);
    assert!(!v.is_blocking());
}

#[test]
fn service_handler_panic_is_a_500() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let h = |req: Request<RequestBody>| async move {
        if req.uri().path() == "/boom" {
            panic!("boom");
        }
        Response::new(http_body_util::Full::new(Bytes::from_static(b"fine")))
    };
    let get = |path: &str| Request::get(path).body(RequestBody::empty()).unwrap();
    match rt.block_on(mpm_core::http::call_service(&h, get("/boom"))) {
        mpm_core::http::Reply::Full(r) => assert_eq!(r.status(), 500),
        other => panic!("a panic must be a whole 500, got {other:?}"),
    }
    match rt.block_on(mpm_core::http::call_service(&h, get("/"))) {
        mpm_core::http::Reply::Stream(r) => {
            assert_eq!(r.status(), 200);
            let body = rt
                .block_on(http_body_util::BodyExt::collect(r.into_body()))
                .unwrap()
                .to_bytes();
            assert_eq!(body.as_ref(), b"fine");
        }
        other => panic!("expected a streamed response, got {other:?}"),
    }
}

#[test]
fn async_handler_panic_is_a_500() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let h = |req: Request<Bytes>| async move {
        if req.uri().path() == "/boom" {
            panic!("boom");
        }
        Response::new(Bytes::from_static(b"fine"))
    };
    let r = rt.block_on(mpm_core::http::call_async(
        &h,
        Request::get("/boom").body(Bytes::new()).unwrap(),
    ));
    assert_eq!(r.status(), 500);
    let r = rt.block_on(mpm_core::http::call_async(
        &h,
        Request::get("/").body(Bytes::new()).unwrap(),
    ));
    assert_eq!(r.body().as_ref(), b"fine");
}

#[test]
fn options_default_to_apache() {
    let o = HttpOptions::default();
    assert!(o.keep_alive);
    assert_eq!(o.keep_alive_timeout, Duration::from_secs(5));
    assert_eq!(o.max_keep_alive_requests, 100);
    assert_eq!(o.timeout, Duration::from_secs(60));
    assert_eq!(o.max_body, 16 << 20);
    // LimitRequestBody's default (1 GiB) bounds streamed bodies.
    assert_eq!(o.body_limit, Some(1 << 30));
}

#[test]
fn closing_is_shared_and_awaitable() {
    let c = Closing::new();
    let c2 = c.clone();
    assert!(!c.is_closed());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.closed().await }
        });
        tokio::task::yield_now().await;
        c2.close();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("closed() woke up")
            .unwrap();
        // Already closed: returns at once.
        tokio::time::timeout(Duration::from_secs(5), c.closed())
            .await
            .unwrap();
    });
    assert!(c.is_closed());
}

#[test]
fn unit_observer_is_a_no_op() {
    let o: &dyn ConnObserver = &();
    o.status(WorkerStatus::BusyRead);
    o.request_line("GET / HTTP/1.1");
    o.request_done(0);
}

/// How a blocking-thread server hands each accepted connection over.
#[derive(Clone, Copy, Debug)]
enum Entry {
    /// `kit::serve_connection`: what prefork's child and worker's threads call.
    Strategy,
    /// `serve_lean_blocking` directly, the socket as accepted.
    Engine,
}

/// A server as prefork and worker serve: one connection at a time on a blocking thread.
fn blocking_server(handler: Handler, entry: Entry) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = mpm_core::http::current_thread_runtime().unwrap();
        let (opts, closing) = (HttpOptions::default(), Closing::new());
        let board = Scoreboard::create(MpmKind::Worker, 1, 1).unwrap();
        let observer = SlotObserver::new(board.child_slots(0), 0);
        for s in listener.incoming().flatten() {
            let peer = s.peer_addr().unwrap();
            match entry {
                Entry::Strategy => mpm_core::kit::serve_connection(
                    &rt, &handler, &opts, &observer, &closing, s, peer,
                ),
                Entry::Engine => {
                    mpm_core::http::serve_lean_blocking(
                        &rt, s, peer, &opts, &handler, &observer, &closing,
                    );
                }
            }
        }
    });
    addr
}

/// How long ten keep-alive `request`s take, each answered with bytes ending in `ends`
/// (after one untimed warm-up).
fn ten_exchanges(addr: std::net::SocketAddr, request: &[u8], ends: &[u8]) -> Duration {
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut exchange = || {
        c.write_all(request).unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 1024];
        while !got.ends_with(ends) {
            let n = c.read(&mut b).unwrap();
            assert!(n > 0, "EOF after {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&b[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        assert!(got.starts_with(b"HTTP/1.1 200 "), "{text}");
    };
    exchange();
    // The fastest of ten: a load spike slows some exchanges, but a response held by Nagle
    // makes every one of them wait for the delayed ACK.
    (0..10)
        .map(|_| {
            let t = Instant::now();
            exchange();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Well under a millisecond per exchange when nothing waits; at least ~40 ms when every
/// response waits for Nagle and the client's delayed ACK.
const TEN_EXCHANGES: Duration = Duration::from_millis(25);

#[test]
fn stream_handler_whole_responses_go_out_in_one_write() {
    // `ResponseWriter::send` writes the head and the body in one write: a second small
    // write on a socket without TCP_NODELAY would wait for the client's delayed ACK.
    let echo = |req: Request<BodyReader>, res: ResponseWriter| {
        let mut body = Vec::new();
        if req.into_body().read_to_end(&mut body).is_ok() {
            let _ = res.send(Response::new(Bytes::from(body)));
        }
    };
    let addr = blocking_server(Handler::stream(echo), Entry::Engine);
    let req = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
    let took = ten_exchanges(addr, req, b"\r\n\r\nhello");
    assert!(
        took < TEN_EXCHANGES,
        "the fastest of 10 keep-alive requests took {took:?}"
    );
}

/// A response body of two frames, the second ready only after the body once said "not
/// yet" (so it is streamed, chunked, rather than settled into a whole response).
struct TwoFrames(u8);

impl http_body::Body for TwoFrames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0 += 1;
        let frame = |b: &'static [u8]| Some(Ok(http_body::Frame::data(Bytes::from_static(b))));
        std::task::Poll::Ready(match self.0 {
            1 => frame(b"ab"),
            2 => {
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            3 => frame(b"cd"),
            _ => None,
        })
    }
}

/// Ten streamed (chunked) responses of each streaming handler kind through `entry`.
fn streamed_responses(entry: Entry) {
    let writer = |_: Request<BodyReader>, res: ResponseWriter| {
        let _ = res.start(Response::new(())).and_then(|mut w| {
            w.write_all(b"ab")?;
            w.write_all(b"cd")?;
            w.finish()
        });
    };
    let service = |_: Request<RequestBody>| async { Response::new(TwoFrames(0)) };
    let req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    let ends = b"\r\ncd\r\n0\r\n\r\n";
    for (what, handler) in [
        ("stream", Handler::stream(writer)),
        ("service", Handler::service(service)),
    ] {
        let took = ten_exchanges(blocking_server(handler, entry), req, ends);
        assert!(
            took < TEN_EXCHANGES,
            "{what} via {entry:?}: the fastest of 10 keep-alive requests took {took:?}"
        );
    }
}

/// A streamed response is written in several small writes (the head, each chunk): on a
/// socket with Nagle on, each response would wait ~40 ms for the client's delayed ACK.
/// Prefork and worker turn Nagle off on every connection, as Apache does.
#[test]
fn streamed_responses_are_not_held_by_nagle_under_prefork_and_worker() {
    streamed_responses(Entry::Strategy);
}

/// The engine itself turns Nagle off, whoever calls it (found while porting the tests:
/// `serve_lean_blocking` called directly left it on).
#[test]
fn streamed_responses_are_not_held_by_nagle_through_serve_lean_blocking() {
    streamed_responses(Entry::Engine);
}
