//! Serving any `tower::Service` (axum's `Router`, a tower-http stack) natively, with
//! streamed bodies both ways (feature `tower`).
//!
//! The service runs where async handlers run: inline on event's connection layer, on each
//! worker's runtime under prefork and worker. tower's contract is kept: each request is
//! served by a clone of the service, made ready before it is called (`oneshot`).
//!
//! One request kind takes a different road: an upgrade request (HTTP/1.1, `Connection:
//! upgrade`, no body), already validated by the engine. axum's `WebSocketUpgrade` needs
//! hyper's own upgrade hook, which only hyper can create, so the connection — its head
//! still unread in front of it — is handed to hyper's HTTP/1.1 server for that one request
//! (keep-alive off: hyper answers it and nothing after it). Every other request is framed
//! by the engine alone.

use super::{boxed, text_response, BoxError, HandOff, Handler, OnUpgrade, Reply, ReplyFuture};
use super::{RequestBody, ServiceHandler, Upgraded};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::sync::Arc;
use tower::{Service, ServiceExt};

impl Handler {
    /// Serve requests with a `tower::Service` — an axum `Router` for instance:
    ///
    /// ```no_run
    /// # fn router() -> impl tower::Service<http::Request<mpm_core::http::RequestBody>,
    /// #     Response = http::Response<http_body_util::Full<bytes::Bytes>>,
    /// #     Error = std::convert::Infallible, Future = std::future::Ready<Result<
    /// #     http::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible>>>
    /// #     + Clone + Send + Sync + 'static {
    /// #     tower::service_fn(|_req| std::future::ready(Ok(http::Response::new(
    /// #         http_body_util::Full::new(bytes::Bytes::from_static(b"hi"))))))
    /// # }
    /// let handler = mpm_core::http::Handler::tower(router());
    /// ```
    ///
    /// A service error is logged and answered `500`.
    pub fn tower<S, B>(service: S) -> Handler
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Handler::Service(Arc::new(TowerHandler { service }))
    }
}

/// A tower service as a [`ServiceHandler`].
struct TowerHandler<S> {
    service: S,
}

impl<S, B> ServiceHandler for TowerHandler<S>
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, req: Request<RequestBody>) -> ReplyFuture {
        let service = self.service.clone();
        if req.extensions().get::<OnUpgrade>().is_some() {
            let hand_off = HandOff::new(move |io| Box::pin(serve_upgrade(service, io)));
            return Box::pin(std::future::ready(Reply::HandOff(hand_off)));
        }
        Box::pin(async move {
            match service.oneshot(req).await {
                Ok(resp) => Reply::Stream(resp.map(boxed)),
                Err(e) => {
                    let e: BoxError = e.into();
                    tracing::error!("the service failed: {e}");
                    Reply::Full(text_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error\n",
                    ))
                }
            }
        })
    }
}

/// Serve the upgrade request waiting on `io` with hyper (upgrades on, nothing after it).
async fn serve_upgrade<S, B>(service: S, io: Upgraded)
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // The engine let only a bodiless request through: hyper's body is empty too.
    let service = service
        .map_request(|req: Request<hyper::body::Incoming>| req.map(|_| RequestBody::empty()));
    let hyper_service = hyper_util::service::TowerToHyperService::new(service);
    let served = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(io), hyper_service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "an upgrade request handed to hyper failed");
    }
}
