//! Asynchronous handlers: [`AsyncHandler`] (a whole request in, a whole response out) and
//! [`ServiceHandler`] (streamed bodies both ways, what a `tower::Service` becomes). The
//! event strategy runs them inline on its connection layer (no thread hop); prefork and
//! worker run them on the current-thread runtime each worker already owns.

use super::lean::{boxed, BoxError, Reply, RequestBody};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future an [`AsyncHandler`] returns.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Bytes>> + Send + 'static>>;

/// A non-blocking handler of whole requests: it must not block its thread (use the
/// blocking [`super::HttpHandler`] for that). The request body has been read completely
/// (at most [`super::HttpOptions::max_body`] bytes).
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

/// The future a [`ServiceHandler`] returns.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// A non-blocking handler with streamed bodies: the request body arrives as the handler
/// polls it ([`RequestBody`], an `http_body::Body`), the response body goes out as it
/// yields frames. Any `Fn(Request<RequestBody>) -> impl Future<Output = Response<B>>`
/// with `B: http_body::Body<Data = Bytes>` is one; so is a `tower::Service`, through
/// [`Handler::tower`](super::Handler::tower) (feature `tower`).
pub trait ServiceHandler: Send + Sync + 'static {
    /// Start handling one request.
    fn call(&self, req: Request<RequestBody>) -> ReplyFuture;
}

impl<F, Fut, B> ServiceHandler for F
where
    F: Fn(Request<RequestBody>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, req: Request<RequestBody>) -> ReplyFuture {
        let fut = self(req);
        Box::pin(async move { Reply::Stream(fut.await.map(boxed)) })
    }
}

/// Runs a handler future, turning a panic (while creating or polling it) into a 500 and a
/// log line, as [`super::call_handler`] does for blocking handlers.
struct CatchPanic<T> {
    inner: Option<Pin<Box<dyn Future<Output = T> + Send>>>,
    /// The request's method and target, formatted only if the handler panics.
    what: (http::Method, http::Uri),
    on_panic: fn() -> T,
}

impl<T> Future for CatchPanic<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(fut) = self.inner.as_mut() else {
            return Poll::Ready((self.on_panic)());
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(panic) => {
                let msg = super::panic_message(&*panic).to_string();
                let (method, uri) = &self.what;
                tracing::error!("async handler panicked on {method} {uri}: {msg}");
                self.inner = None;
                Poll::Ready((self.on_panic)())
            }
        }
    }
}

fn internal_error() -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(b"Internal Server Error\n"));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

fn internal_error_reply() -> Reply {
    Reply::Full(internal_error())
}

/// Call an async handler with panics contained: a panic costs this one response a 500.
pub fn call_async(h: &dyn AsyncHandler, req: Request<Bytes>) -> ResponseFuture {
    let what = (req.method().clone(), req.uri().clone());
    let inner = std::panic::catch_unwind(AssertUnwindSafe(|| h.call(req))).ok();
    if inner.is_none() {
        tracing::error!("async handler panicked on {} {}", what.0, what.1);
    }
    Box::pin(CatchPanic {
        inner,
        what,
        on_panic: internal_error,
    })
}

/// Call a streaming async handler with panics contained (a panic before the response is
/// a 500; one while its body streams cuts that connection).
pub fn call_service(h: &dyn ServiceHandler, req: Request<RequestBody>) -> ReplyFuture {
    let what = (req.method().clone(), req.uri().clone());
    let inner = std::panic::catch_unwind(AssertUnwindSafe(|| h.call(req))).ok();
    if inner.is_none() {
        tracing::error!("async handler panicked on {} {}", what.0, what.1);
    }
    Box::pin(CatchPanic {
        inner,
        what,
        on_panic: internal_error_reply,
    })
}
