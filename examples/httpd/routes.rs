//! What the example serves, through each kind of handler (`--handler`):
//!
//! * `/` — 14 bytes, `Hello, world!`;
//! * `/echo` — the request body back (streamed by the streaming kinds, whole otherwise);
//! * `/bytes/N` — N bytes of `x` (streamed by the streaming kinds; the whole-response
//!   kinds answer at most 16 MiB);
//! * `/sse` — one server-sent event a second until the client leaves (streaming kinds);
//! * `/server-status`, `/metrics`;
//! * with `--test-routes`: `/pid`, `/sleep?ms=N`, `/panic`, `/abort`.

use crate::bodies::{Repeat, Ticks, BLOCK};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mpm::http::{BodyReader, ResponseWriter};
use mpm::Handler;
use std::io::{Read, Write};
use std::time::Duration;

/// The handler kinds the example can serve through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Blocking, whole request and response (`Handler::http`).
    Blocking,
    /// Blocking, streamed bodies (`Handler::stream`): the default.
    Stream,
    /// Async, whole request and response (`Handler::asynchronous`), inline under event.
    Async,
    /// An axum `Router` (`Handler::tower`), streamed bodies, WebSockets; inline under event.
    #[cfg(feature = "tower")]
    Tower,
}

/// The largest response the whole-response kinds build for `/bytes/N`.
const MAX_WHOLE: u64 = 16 << 20;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    r
}

/// What a request asks for.
enum Route {
    Reply(Response<Bytes>),
    SleepThen(Duration),
    Echo,
    Bytes(u64),
    Sse,
}

fn query_ms(uri: &http::Uri) -> u64 {
    uri.query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .min(60_000)
}

fn route(parts: &http::request::Parts, test_routes: bool) -> Route {
    let path = parts.uri.path();
    if path == mpm::status_page::PATH || path == mpm::status_page::METRICS_PATH {
        let probe = Request::from_parts(parts.clone(), Bytes::new());
        if let Some(resp) = mpm::status_page::respond(&probe) {
            return Route::Reply(resp);
        }
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        return match n.parse() {
            Ok(n) => Route::Bytes(n),
            Err(_) => Route::Reply(text(StatusCode::BAD_REQUEST, "/bytes/N: N bytes\n")),
        };
    }
    Route::Reply(match (path, test_routes) {
        ("/", _) => text(StatusCode::OK, "Hello, world!\n"),
        ("/echo", _) => return Route::Echo,
        ("/sse", _) => return Route::Sse,
        ("/pid", true) => text(StatusCode::OK, format!("{}\n", std::process::id())),
        ("/sleep", true) => return Route::SleepThen(Duration::from_millis(query_ms(&parts.uri))),
        ("/panic", true) => panic!("the /panic test route"),
        ("/abort", true) => std::process::abort(),
        _ => text(StatusCode::NOT_FOUND, "Not Found\n"),
    })
}

fn slept(d: Duration) -> Response<Bytes> {
    text(StatusCode::OK, format!("slept {}\n", d.as_millis()))
}

/// The whole-response answer of a route (the buffered kinds).
fn whole(route: Route, body: Bytes) -> Result<Response<Bytes>, Duration> {
    Ok(match route {
        Route::Reply(r) => r,
        Route::SleepThen(d) => return Err(d),
        Route::Echo => Response::new(body),
        Route::Bytes(n) if n <= MAX_WHOLE => Response::new(Bytes::from(vec![b'x'; n as usize])),
        Route::Bytes(_) => text(
            StatusCode::NOT_IMPLEMENTED,
            "over 16 MiB: serve with --handler stream or tower\n",
        ),
        Route::Sse => text(
            StatusCode::NOT_IMPLEMENTED,
            "events stream: serve with --handler stream or tower\n",
        ),
    })
}

/// The example's handler of `kind`. `test_routes` adds the routes integration tests need.
pub fn handler(kind: Kind, test_routes: bool) -> Handler {
    match kind {
        Kind::Blocking => Handler::http(move |req: Request<Bytes>| {
            let (parts, body) = req.into_parts();
            whole(route(&parts, test_routes), body).unwrap_or_else(|d| {
                std::thread::sleep(d);
                slept(d)
            })
        }),
        Kind::Async => Handler::asynchronous(move |req: Request<Bytes>| async move {
            let (parts, body) = req.into_parts();
            match whole(route(&parts, test_routes), body) {
                Ok(r) => r,
                Err(d) => {
                    tokio::time::sleep(d).await;
                    slept(d)
                }
            }
        }),
        Kind::Stream => Handler::stream(move |req: Request<BodyReader>, res: ResponseWriter| {
            let (parts, body) = req.into_parts();
            if let Err(e) = stream(route(&parts, test_routes), body, res) {
                tracing::debug!("{} {}: {e}", parts.method, parts.uri);
            }
        }),
        #[cfg(feature = "tower")]
        Kind::Tower => crate::tower_routes::handler(test_routes),
    }
}

/// The blocking streaming kind: write the route's response as it is produced.
fn stream(route: Route, mut body: BodyReader, res: ResponseWriter) -> std::io::Result<()> {
    match route {
        Route::Reply(r) => res.send(r),
        Route::SleepThen(d) => {
            std::thread::sleep(d);
            res.send(slept(d))
        }
        Route::Echo => {
            let mut w = res.start(Response::new(()))?;
            let mut block = vec![0u8; BLOCK];
            loop {
                let n = body.read(&mut block)?;
                if n == 0 {
                    return w.finish();
                }
                w.write_all(&block[..n])?;
            }
        }
        Route::Bytes(n) => {
            let mut head = Response::new(());
            head.headers_mut()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
            let mut w = res.start(head)?;
            let block = vec![b'x'; BLOCK];
            let mut left = n;
            while left > 0 {
                let k = left.min(BLOCK as u64) as usize;
                w.write_all(&block[..k])?;
                left -= k as u64;
            }
            w.finish()
        }
        Route::Sse => {
            let mut head = Response::new(());
            head.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/event-stream"),
            );
            let mut w = res.start(head)?;
            for n in 1.. {
                w.write_all(format!("data: tick {n}\n\n").as_bytes())?;
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }
    }
}

/// The streamed answer of a route for an async handler with streamed bodies (the tower
/// handler's).
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub async fn streamed<B>(
    parts: http::request::Parts,
    body: B,
    test_routes: bool,
) -> Response<mpm::http::ResponseBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<mpm::http::BoxError>,
{
    use mpm::http::boxed;
    match route(&parts, test_routes) {
        Route::Reply(r) => r.map(|b| boxed(http_body_util::Full::new(b))),
        Route::SleepThen(d) => {
            tokio::time::sleep(d).await;
            slept(d).map(|b| boxed(http_body_util::Full::new(b)))
        }
        Route::Echo => Response::new(boxed(body)),
        Route::Bytes(n) => Response::new(boxed(Repeat::new(n))),
        Route::Sse => {
            let mut r = Response::new(boxed(Ticks::new()));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/event-stream"),
            );
            r
        }
    }
}
