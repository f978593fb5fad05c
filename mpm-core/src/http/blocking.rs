//! Serving one connection from a blocking thread (prefork's child, a worker thread) on that
//! thread's own current-thread runtime, through the lean HTTP/1.1 path.

use super::{call_async, call_handler, serve_lean, AsyncHandler, Closing, ConnObserver};
use super::{ConnSummary, HttpHandler, HttpOptions};
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use http::Request;
use std::future::Future;
use std::net::SocketAddr;

/// Register a connection accepted by a blocking thread with `rt` and serve it there with
/// `serve` (the lean or the hyper path). Every `*_blocking` entry point goes through here.
pub(crate) fn serve_on<S, Fut>(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    observer: &dyn ConnObserver,
    serve: S,
) -> ConnSummary
where
    S: FnOnce(tokio::net::TcpStream) -> Fut,
    Fut: Future<Output = ConnSummary>,
{
    rt.block_on(async {
        match stream
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpStream::from_std(stream))
        {
            Ok(s) => serve(s).await,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "cannot register the connection");
                observer.status(WorkerStatus::Closing);
                ConnSummary::default()
            }
        }
    })
}

/// Serve one connection with a blocking handler called inline (prefork, worker).
pub fn serve_lean_blocking(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    handler: &dyn HttpHandler,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary {
    let call = |req: Request<Bytes>| std::future::ready(call_handler(handler, req));
    serve_on(rt, stream, peer, observer, |s| {
        serve_lean(s, peer, opts, call, observer, closing)
    })
}

/// Serve one connection with an async handler on the calling thread's runtime.
pub fn serve_lean_async_blocking(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    handler: &dyn AsyncHandler,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary {
    let call = |req: Request<Bytes>| call_async(handler, req);
    serve_on(rt, stream, peer, observer, |s| {
        serve_lean(s, peer, opts, call, observer, closing)
    })
}
