//! An axum `Router` served natively by mpm (`Handler::tower`, feature `tower`) under any
//! strategy: inline on the event connection layer, on each worker's current-thread
//! runtime under prefork and worker. Bodies stream both ways; `/ws` is a WebSocket echo
//! with axum's own `WebSocketUpgrade`.
//!
//! ```text
//! cargo run -p mpm-extras --example axum -- --mpm prefork --listen 127.0.0.1:8080
//! ```

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::{get, post};
use axum::Router;
use mpm::{Handler, MpmKind, Server, ServerConfig};
use std::process::ExitCode;

/// Echo every text or binary message until the client closes.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        if matches!(msg, Message::Text(_) | Message::Binary(_)) && socket.send(msg).await.is_err() {
            return;
        }
    }
}

fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello from axum\n" }))
        .route(
            "/pid",
            get(|| async { format!("{}\n", std::process::id()) }),
        )
        .route(
            "/json",
            get(|| async { axum::Json(serde_json::json!({ "served_by": "axum" })) }),
        )
        // The request body streams back as it arrives.
        .route("/echo", post(|body: axum::body::Body| async move { body }))
        .route(
            "/ws",
            get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(echo) }),
        )
}

fn main() -> ExitCode {
    // mpm's sink: Apache's error-log lines on stderr, as the httpd example writes them.
    if let Err(e) = mpm::log::install_to(None, mpm::log::LogLevel::Notice) {
        eprintln!("axum example: {e}");
        return ExitCode::from(1);
    }
    let mut kind = mpm::default_kind();
    let mut listen = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--mpm", Some(v)) => match v.parse::<MpmKind>() {
                Ok(k) => kind = k,
                Err(e) => {
                    eprintln!("axum example: {e}");
                    return ExitCode::from(1);
                }
            },
            ("--listen", Some(v)) => listen = v,
            _ => {
                eprintln!("usage: axum [--mpm prefork|worker|event] [--listen ADDR]");
                return ExitCode::from(1);
            }
        }
    }
    let Some(strategy) = mpm::mpm_for(kind) else {
        eprintln!("axum example: the {kind} MPM is not compiled in");
        return ExitCode::from(1);
    };
    let config = ServerConfig::builder().listen(&listen).start_servers(2);
    let result =
        Server::new(strategy, config).and_then(|server| server.run(Handler::tower(router())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum example: {e}");
            ExitCode::from(1)
        }
    }
}
