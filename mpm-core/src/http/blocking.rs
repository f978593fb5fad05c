//! Serving one connection from a blocking thread (prefork's child, a worker thread) on that
//! thread's own current-thread runtime, through the lean HTTP/1.1 path.

use super::{call_async, call_handler, serve_lean, AsyncHandler, Closing, ConnObserver};
use super::{ConnSummary, HttpHandler, HttpOptions};
use crate::scoreboard::WorkerStatus;
use bytes::Bytes;
use http::Request;
use std::future::Future;
use std::net::SocketAddr;

fn run<F, Fut>(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    call: F,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary
where
    F: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = http::Response<Bytes>>,
{
    rt.block_on(async {
        let stream = match stream
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpStream::from_std(stream))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "cannot register the connection");
                observer.status(WorkerStatus::Closing);
                return ConnSummary::default();
            }
        };
        serve_lean(stream, peer, opts, call, observer, closing).await
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
    run(rt, stream, peer, opts, call, observer, closing)
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
    run(rt, stream, peer, opts, call, observer, closing)
}
