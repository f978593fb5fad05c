//! The handler API: panics become 500s with a log line, handler constructors, options,
//! the closing signal.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use mpm_core::http::{call_handler, Closing, ConnObserver, Handler, HttpHandler, HttpOptions};
use mpm_core::scoreboard::WorkerStatus;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        Handler::Connection(_) | Handler::Async(_) => panic!("wrong kind"),
    }
    let c = Handler::connection(|_s: std::net::TcpStream, _p: std::net::SocketAddr| {});
    assert!(matches!(c, Handler::Connection(_)));
    assert!(format!("{c:?}").contains("Connection"));
    let a = Handler::asynchronous(|_: Request<Bytes>| async {
        Response::new(Bytes::from_static(b"a"))
    });
    assert!(matches!(a, Handler::Async(_)));
    assert!(format!("{a:?}").contains("Async"));
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
