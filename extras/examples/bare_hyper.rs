//! A bare hyper 1 HTTP/1.1 server: the in-process reference for `benches/compare.sh`.
//!
//! ```sh
//! cargo run --release -p mpm-extras --example bare_hyper -- 127.0.0.1:8080
//! ```
//!
//! Tokio's multi-thread runtime with 2 worker threads, one task per connection, keep-alive
//! on; every request is answered `200` with `content-type: text/plain` and the 14 bytes
//! `Hello, world!\n` (the same body as the other servers in the comparison). No MPM, no
//! scoreboard, no limits: the upper bound of what a hyper-based server does here.
//! Prints the bound address on stdout (the argument may use port 0).

use std::convert::Infallible;
use std::net::SocketAddr;

use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BODY: &str = "Hello, world!\n";

async fn hello(_req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    let mut resp = Response::new(BODY.to_owned());
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    Ok(resp)
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(serve(addr))
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("{}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE and the like: report, pause briefly, go on accepting.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(hello));
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    eprintln!("connection: {e}");
                }
            }
        });
    }
}
