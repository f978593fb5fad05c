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

/// What a request asks for: an answer now, or one after a pause (the only route whose
/// blocking and async forms differ).
enum Route {
    Reply(Response<Bytes>),
    SleepThen(Duration),
}

fn route(req: &Request<Bytes>, test_routes: bool) -> Route {
    if let Some(resp) = mpm::core::status_page::respond(req) {
        return Route::Reply(resp);
    }
    Route::Reply(match (req.uri().path(), test_routes) {
        ("/", _) => text(StatusCode::OK, "Hello, world!\n"),
        ("/pid", true) => text(StatusCode::OK, format!("{}\n", std::process::id())),
        ("/sleep", true) => return Route::SleepThen(Duration::from_millis(query_ms(req))),
        ("/panic", true) => panic!("the /panic test route"),
        ("/abort", true) => std::process::abort(),
        _ => text(StatusCode::NOT_FOUND, "Not Found\n"),
    })
}

fn slept(d: Duration) -> Response<Bytes> {
    text(StatusCode::OK, format!("slept {}\n", d.as_millis()))
}

/// The example's handler. `test_routes` adds the routes integration tests need.
pub fn handler(test_routes: bool) -> Handler {
    Handler::http(move |req: Request<Bytes>| match route(&req, test_routes) {
        Route::Reply(r) => r,
        Route::SleepThen(d) => {
            std::thread::sleep(d);
            slept(d)
        }
    })
}

/// The same routes as an async handler (`--async-handler`): under event it runs inline on
/// the connection layer, with no hop to a worker thread.
pub fn async_handler(test_routes: bool) -> Handler {
    Handler::asynchronous(move |req: Request<Bytes>| async move {
        match route(&req, test_routes) {
            Route::Reply(r) => r,
            Route::SleepThen(d) => {
                tokio::time::sleep(d).await;
                slept(d)
            }
        }
    })
}
