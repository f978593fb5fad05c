//! Asynchronous handlers: an `async` function, or any hyper/tower service wrapped in one
//! (see `examples/axum.rs`). The event strategy runs them inline on its connection layer
//! (no thread hop); prefork and worker run them on the current-thread runtime each worker
//! already owns.

use super::{Closing, ConnObserver, ConnSummary, HttpOptions};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future an [`AsyncHandler`] returns.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Bytes>> + Send + 'static>>;

/// A non-blocking handler: it must not block its thread (use the blocking
/// [`super::HttpHandler`] for that).
pub trait AsyncHandler: Send + Sync + 'static {
    /// Start handling one request.
    fn call(&self, req: Request<Bytes>) -> ResponseFuture;
}

impl<F, Fut> AsyncHandler for F
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Bytes>> + Send + 'static,
{
    fn call(&self, req: Request<Bytes>) -> ResponseFuture {
        Box::pin(self(req))
    }
}

/// Runs a handler future, turning a panic (while creating or polling it) into a 500 and a
/// log line, as [`super::call_handler`] does for blocking handlers.
struct CatchPanic {
    inner: Option<ResponseFuture>,
    what: String,
}

impl Future for CatchPanic {
    type Output = Response<Bytes>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(fut) = self.inner.as_mut() else {
            return Poll::Ready(internal_error());
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic)".into());
                tracing::error!("async handler panicked on {}: {msg}", self.what);
                self.inner = None;
                Poll::Ready(internal_error())
            }
        }
    }
}

fn internal_error() -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(b"Internal Server Error\n"));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

/// Call an async handler with panics contained: a panic costs this one response a 500.
pub fn call_async(h: &dyn AsyncHandler, req: Request<Bytes>) -> ResponseFuture {
    let what = format!("{} {}", req.method(), req.uri());
    let inner = std::panic::catch_unwind(AssertUnwindSafe(|| h.call(req))).ok();
    if inner.is_none() {
        tracing::error!("async handler panicked on {what}");
    }
    Box::pin(CatchPanic { inner, what })
}

/// Serve one connection with an async handler on `rt` (prefork/worker: the calling
/// thread's current-thread runtime).
pub fn serve_http1_async_blocking(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    handler: &dyn AsyncHandler,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary {
    let call = |req: Request<Bytes>| call_async(handler, req);
    super::blocking::serve_on(rt, stream, peer, observer, |s| {
        super::serve_http1(s, peer, opts, call, observer, closing)
    })
}
