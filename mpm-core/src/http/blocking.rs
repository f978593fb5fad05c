//! Serving one connection from a blocking thread (prefork's child, a worker thread) on that
//! thread's own current-thread runtime, through the HTTP/1.1 engine.

use super::{reply_async, reply_blocking, reply_service, reply_stream, serve_lean};
use super::{Closing, ConnObserver, ConnSummary, Handler, HttpOptions};
use crate::scoreboard::WorkerStatus;
use std::future::Future;
use std::net::SocketAddr;

/// Register a connection accepted by a blocking thread with `rt` and serve it there with
/// `serve`.
fn serve_on<S, Fut>(
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

/// Serve one HTTP connection with `handler` on the calling thread (prefork, worker):
/// blocking handlers are called inline, async ones run on `rt`. A
/// [`Handler::Connection`] is not an HTTP handler: the connection is closed at once.
pub fn serve_lean_blocking(
    rt: &tokio::runtime::Runtime,
    stream: std::net::TcpStream,
    peer: SocketAddr,
    opts: &HttpOptions,
    handler: &Handler,
    observer: &dyn ConnObserver,
    closing: &Closing,
) -> ConnSummary {
    let mode = handler.body_mode();
    serve_on(rt, stream, peer, observer, |s| async move {
        match handler {
            Handler::Http(h) => {
                let call = |req| std::future::ready(reply_blocking(h.as_ref(), req));
                serve_lean(s, peer, opts, mode, call, observer, closing).await
            }
            Handler::Stream(h) => {
                let call = |req| std::future::ready(reply_stream(h.as_ref(), req));
                serve_lean(s, peer, opts, mode, call, observer, closing).await
            }
            Handler::Async(h) => {
                let call = |req| reply_async(h.as_ref(), req);
                serve_lean(s, peer, opts, mode, call, observer, closing).await
            }
            Handler::Service(h) => {
                let call = |req| reply_service(h.as_ref(), req);
                serve_lean(s, peer, opts, mode, call, observer, closing).await
            }
            Handler::Connection(_) => {
                tracing::error!("serve_lean_blocking was given a raw connection handler");
                observer.status(WorkerStatus::Closing);
                ConnSummary::default()
            }
        }
    })
}
