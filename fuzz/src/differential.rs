//! `http_differential`: the same bytes through mpm's engine and through hyper's HTTP/1.1
//! server, both reading bodies whole. mpm is meant to be the stricter of the two: every
//! request mpm's handler is given, hyper must also have parsed and delivered — the same
//! method, target, version and body, at the same position in the connection.

use crate::connection::{self, Seen};
use crate::responses::show;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How hyper's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HyperEnd {
    /// It ended without an error (EOF, `Connection: close`, an upgrade, …).
    Clean,
    /// It refused a request head (a parse error: hyper answered 4xx/5xx itself).
    RefusedHead(String),
    /// A request body could not be read whole.
    BadBody(String),
    /// Any other error.
    Other(String),
}

/// What hyper did with a connection.
#[derive(Debug, Clone)]
pub struct HyperRun {
    /// The requests it delivered (with whole bodies), in order.
    pub seen: Vec<Seen>,
    /// How the connection ended.
    pub end: HyperEnd,
}

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
}

/// Serve `bytes` (then EOF) with hyper's HTTP/1.1 server over an in-memory pipe.
pub fn hyper_run(bytes: &[u8]) -> HyperRun {
    let seen: Rc<RefCell<Vec<Seen>>> = Rc::default();
    let body_error: Rc<RefCell<Option<String>>> = Rc::default();
    let end = RT.with(|rt| {
        rt.block_on(async {
            let (client, server) = tokio::io::duplex(64 * 1024);
            let svc = hyper::service::service_fn(|req: Request<Incoming>| {
                let seen = seen.clone();
                let body_error = body_error.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let target = parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/");
                    let line = format!("{} {target} {:?}", parts.method, parts.version);
                    match body.collect().await {
                        Ok(c) => {
                            seen.borrow_mut().push(Seen {
                                line,
                                body: Some(Ok(c.to_bytes().to_vec())),
                            });
                            Ok::<_, hyper::Error>(Response::new(Empty::<Bytes>::new()))
                        }
                        Err(e) => {
                            *body_error.borrow_mut() = Some(e.to_string());
                            Err(e)
                        }
                    }
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .half_close(true)
                .keep_alive(true)
                .serve_connection(TokioIo::new(server), svc);
            let (mut r, mut w) = tokio::io::split(client);
            let write = async {
                let _ = w.write_all(bytes).await;
                let _ = w.shutdown().await;
            };
            let read = async {
                let mut out = Vec::new();
                let _ = r.read_to_end(&mut out).await;
                out
            };
            // The connection owns the server's end: it is dropped (and the reader sees
            // EOF) when the connection ends.
            let serve = conn;
            let (result, (), _out) = tokio::time::timeout(connection::RUN_DEADLINE, async {
                tokio::join!(serve, write, read)
            })
            .await
            .expect("hyper outlived its deadline");
            match result {
                Ok(()) => HyperEnd::Clean,
                Err(e) if e.is_parse() || e.is_parse_too_large() || e.is_parse_status() => {
                    HyperEnd::RefusedHead(e.to_string())
                }
                Err(e) => match body_error.borrow().clone() {
                    Some(b) => HyperEnd::BadBody(b),
                    None => HyperEnd::Other(e.to_string()),
                },
            }
        })
    });
    let seen = seen.borrow().clone();
    HyperRun { seen, end }
}

/// `http_differential`: the input is raw client bytes (no flags or cuts), served by mpm
/// (buffered bodies, the rig's limits) and by hyper (its defaults). Every request mpm's
/// handler got, hyper's service got too, identically and in the same order.
pub fn http_differential(data: &[u8]) {
    // mpm: the connection rig, flags 0 (buffered, 1 KiB lines, 20 fields, 64 KiB bodies).
    let mpm = connection::run(&[data], 0);
    if mpm.seen.is_empty() {
        return;
    }
    let hyper = hyper_run(data);
    let model = connection::model(data, 0);
    for (i, m) in mpm.seen.iter().enumerate() {
        match hyper.seen.get(i) {
            Some(h) if h == m => {}
            Some(h) => panic!(
                "request {i}: hyper and mpm frame it differently: hyper {h:?}, mpm {m:?}: {:?}",
                show(data)
            ),
            None if !matches!(hyper.end, HyperEnd::Clean) => panic!(
                "request {i} ({:?}) accepted by mpm, refused by hyper ({:?}): {:?}",
                m.line,
                hyper.end,
                show(data)
            ),
            // hyper ends the connection after a request that asks for an upgrade (mpm, which
            // answers it normally, goes on): the only clean end with requests left.
            None => {
                let upgrade = i > 0
                    && model
                        .spans
                        .get(i - 1)
                        .copied()
                        .flatten()
                        .is_some_and(|s| has_field(&data[s.start..s.head_end], b"upgrade:"));
                assert!(
                    upgrade,
                    "request {i} ({:?}) accepted by mpm, never delivered by hyper, which ended \
                     without an error: {:?}",
                    m.line,
                    show(data)
                );
            }
        }
    }
}

/// Whether a head has a field line starting with `name` (lower-case, with its colon).
fn has_field(head: &[u8], name: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .skip(1)
        .any(|l| l.len() >= name.len() && l[..name.len()].eq_ignore_ascii_case(name))
}
