//! `--handler tower`: the same routes as a `tower::Service` (`tower::service_fn`), served
//! natively (`Handler::tower`). An axum `Router` with a WebSocket echo is the axum
//! example's (`extras/examples/axum.rs`), so this example builds without axum.

use mpm::http::{Request, RequestBody};
use mpm::Handler;
use std::convert::Infallible;

/// The routes, as a tower service.
pub fn handler(test_routes: bool) -> Handler {
    Handler::tower(tower::service_fn(
        move |req: Request<RequestBody>| async move {
            let (parts, body) = req.into_parts();
            Ok::<_, Infallible>(crate::routes::streamed(parts, body, test_routes).await)
        },
    ))
}
