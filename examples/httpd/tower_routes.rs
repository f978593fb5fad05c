//! `--handler tower`: the same routes as an axum `Router`, served natively
//! (`Handler::tower`), plus `/ws`, a WebSocket echo with axum's own `WebSocketUpgrade`.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use http::Request;
use mpm::Handler;

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        match msg {
            Message::Text(_) | Message::Binary(_) => {
                if socket.send(msg).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// The router, as an mpm handler.
pub fn handler(test_routes: bool) -> Handler {
    let router = Router::new()
        .route(
            "/ws",
            get(|upgrade: WebSocketUpgrade| async move { upgrade.on_upgrade(echo) }),
        )
        .fallback(move |req: Request<axum::body::Body>| async move {
            let (parts, body) = req.into_parts();
            crate::routes::streamed(parts, body, test_routes).await
        });
    Handler::tower(router)
}
