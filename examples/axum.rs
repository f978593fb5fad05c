//! An axum `Router` served by mpm under any strategy: inline on the event connection
//! layer, on each worker's current-thread runtime under prefork and worker.
//!
//! ```text
//! cargo run --example axum --all-features -- --mpm prefork --listen 127.0.0.1:8080
//! ```

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use mpm::{ConfigSource, Directives, Handler, MpmKind, Server};
use std::process::ExitCode;
use tower::ServiceExt;

/// Wrap any axum router (or other tower service with axum bodies) as an mpm handler.
fn axum_handler(router: Router) -> Handler {
    Handler::asynchronous(move |req: Request<Bytes>| {
        let router = router.clone();
        async move {
            let response = match router.oneshot(req.map(axum::body::Body::from)).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) => {
                    tracing::error!("response body failed: {e}");
                    Bytes::new()
                }
            };
            Response::from_parts(parts, bytes)
        }
    })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
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
    let mut d = Directives::default();
    match listen.parse() {
        Ok(spec) => d.listen.push(spec),
        Err(e) => {
            eprintln!("axum example: --listen {listen}: {e}");
            return ExitCode::from(1);
        }
    }
    d.start_servers = Some(2);
    let router = Router::new()
        .route("/", get(|| async { "Hello from axum\n" }))
        .route(
            "/pid",
            get(|| async { format!("{}\n", std::process::id()) }),
        )
        .route(
            "/json",
            get(|| async { axum::Json(serde_json::json!({ "served_by": "axum" })) }),
        );
    let result = Server::new(strategy, ConfigSource::from(d))
        .and_then(|server| server.run(axum_handler(router)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum example: {e}");
            ExitCode::from(1)
        }
    }
}
