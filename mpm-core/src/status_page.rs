//! `/server-status` for handlers: the live scoreboard of the running server as `?auto`
//! text, `?json`, `?prometheus` (text exposition, also at `/metrics`), or an HTML page
//! (`?refresh=N`).
//!
//! ```no_run
//! use mpm_core::http::Handler;
//! let handler = Handler::http(|req| {
//!     mpm_core::status_page::respond(&req)
//!         .unwrap_or_else(|| http::Response::new(bytes::Bytes::from("hello\n")))
//! });
//! ```

use crate::child;
use crate::status::{self, StatusContext};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};

/// The path served.
pub const PATH: &str = "/server-status";
/// The Prometheus scrape path (same text as `/server-status?prometheus`).
pub const METRICS_PATH: &str = "/metrics";

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Answer a request for [`PATH`] or [`METRICS_PATH`]; `None` for any other path. Runs inside a child of a
/// running server; elsewhere (no scoreboard) it answers 500, as Apache does without one.
pub fn respond(req: &Request<Bytes>) -> Option<Response<Bytes>> {
    let metrics = req.uri().path() == METRICS_PATH;
    if req.uri().path() != PATH && !metrics {
        return None;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=ISO-8859-1",
            "server-status answers GET only\n".into(),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(r);
    }
    let Some(info) = child::current() else {
        return Some(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=ISO-8859-1",
            "Server status unavailable: no scoreboard in this process\n".into(),
        ));
    };
    let query = req.uri().query().unwrap_or("");
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let mut ctx = StatusContext::from_limits(host, &info.config.limits);
    let snap = info.snapshot();
    // This process is a child of the master.
    let master = nix::unistd::getppid().as_raw() as u32;
    ctx.cpu = status::CpuUsage::read(master, snap.processes.iter().map(|p| p.pid as u32));
    let words: Vec<&str> = query.split(['&', ';']).collect();
    Some(if words.contains(&"auto") {
        reply(
            StatusCode::OK,
            "text/plain; charset=ISO-8859-1",
            status::render_auto(&snap, &ctx),
        )
    } else if words.contains(&"json") {
        reply(
            StatusCode::OK,
            "application/json",
            status::render_json(&snap, &ctx),
        )
    } else if metrics || words.contains(&"prometheus") || words.contains(&"metrics") {
        reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            status::render_prometheus(&snap, &ctx),
        )
    } else {
        let refresh = status::parse_refresh(query);
        let mut r = reply(
            StatusCode::OK,
            // The page declares UTF-8 (`<meta charset>`); the header says the same.
            "text/html; charset=utf-8",
            status::render_html(&snap, &ctx, refresh),
        );
        if let Some(n) = refresh {
            if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
                r.headers_mut().insert("Refresh", v);
            }
        }
        r
    })
}
