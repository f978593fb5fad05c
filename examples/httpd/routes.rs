//! What the example serves.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mpm::Handler;
use std::time::Duration;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    r
}

fn query_ms(req: &Request<Bytes>) -> u64 {
    req.uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .min(60_000)
}

/// The example's handler. `test_routes` adds the routes integration tests need.
pub fn handler(test_routes: bool) -> Handler {
    Handler::http(move |req: Request<Bytes>| {
        if let Some(resp) = mpm::core::status_page::respond(&req) {
            return resp;
        }
        match (req.uri().path(), test_routes) {
            ("/", _) => text(StatusCode::OK, "Hello, world!\n"),
            ("/pid", true) => text(StatusCode::OK, format!("{}\n", std::process::id())),
            ("/sleep", true) => {
                let ms = query_ms(&req);
                std::thread::sleep(Duration::from_millis(ms));
                text(StatusCode::OK, format!("slept {ms}\n"))
            }
            ("/panic", true) => panic!("the /panic test route"),
            ("/abort", true) => std::process::abort(),
            _ => text(StatusCode::NOT_FOUND, "Not Found\n"),
        }
    })
}

/// The same routes as an async handler (`--async-handler`): under event it runs inline on
/// the connection layer, with no hop to a worker thread.
pub fn async_handler(test_routes: bool) -> Handler {
    Handler::asynchronous(move |req: Request<Bytes>| async move {
        if let Some(resp) = mpm::core::status_page::respond(&req) {
            return resp;
        }
        match (req.uri().path(), test_routes) {
            ("/", _) => text(StatusCode::OK, "Hello, world!\n"),
            ("/pid", true) => text(StatusCode::OK, format!("{}\n", std::process::id())),
            ("/sleep", true) => {
                let ms = query_ms(&req);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                text(StatusCode::OK, format!("slept {ms}\n"))
            }
            ("/panic", true) => panic!("the /panic test route"),
            ("/abort", true) => std::process::abort(),
            _ => text(StatusCode::NOT_FOUND, "Not Found\n"),
        }
    })
}
