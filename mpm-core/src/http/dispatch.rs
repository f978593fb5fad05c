//! Calling each handler kind for the engine: what a strategy's connection code passes to
//! [`serve_lean`](super::serve_lean) as its `call`.

use super::lean::{BodyReader, Reply, RequestBody, ResponseWriter};
use super::{call_async, call_handler, call_service, text_response};
use super::{AsyncHandler, HttpHandler, ServiceHandler, StreamHandler};
use http::{Request, StatusCode};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The whole body of a buffered request (the engine read it before the call).
fn whole(req: Request<RequestBody>) -> Request<bytes::Bytes> {
    req.map(|b| match b.into_full() {
        Some(bytes) => bytes,
        None => {
            // A streamed body for a buffered handler: the engine never does this; an empty
            // body is the safe reading (the connection then drains or closes).
            tracing::error!("a buffered handler was given a streamed body");
            bytes::Bytes::new()
        }
    })
}

/// Call a blocking whole-request handler on this thread ([`super::BodyMode::Buffered`]).
pub fn reply_blocking(h: &dyn HttpHandler, req: Request<RequestBody>) -> Reply {
    Reply::Full(call_handler(h, whole(req)))
}

/// Call a blocking streaming handler on this thread ([`super::BodyMode::Writer`]): it
/// writes its response itself. A panic is logged; the engine answers 500 if nothing was
/// sent, and cuts the connection if the response was cut short.
pub fn reply_stream(h: &dyn StreamHandler, req: Request<RequestBody>) -> Reply {
    let Some(link) = req.body().link().cloned() else {
        tracing::error!("a streaming handler was called without a writer");
        return Reply::Full(text_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error\n",
        ));
    };
    // Cheap clones (the URI shares its bytes), formatted only if the handler panics.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let writer = ResponseWriter::new(link);
    let req = req.map(BodyReader::new);
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| h.handle(req, writer))) {
        tracing::error!(
            panic = super::panic_message(&*p),
            "handler panicked on {method} {uri}"
        );
        let _ = catch_unwind(AssertUnwindSafe(move || drop(p)));
    }
    Reply::Written
}

/// Call an async whole-request handler ([`super::BodyMode::Buffered`]).
pub fn reply_async(
    h: &dyn AsyncHandler,
    req: Request<RequestBody>,
) -> impl Future<Output = Reply> + Send + 'static {
    let fut = call_async(h, whole(req));
    async move { Reply::Full(fut.await) }
}

/// Call an async streaming handler ([`super::BodyMode::Streamed`]).
pub fn reply_service(
    h: &dyn ServiceHandler,
    req: Request<RequestBody>,
) -> impl Future<Output = Reply> + Send + 'static {
    call_service(h, req)
}
