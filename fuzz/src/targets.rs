//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (`fuzz_targets/*.rs`, nightly)
//! and the stable corpus test (`mpm-core/tests/reliability_fuzz_corpus.rs`), which include
//! this file with `#[path]`. Each function must never panic, whatever the input, and must
//! return in bounded time.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Request, Response};
use mpm_core::config::ServerConfig;
use mpm_core::http::{reply_blocking, serve_lean, BodyMode, Closing, HttpOptions, RequestLimits};
use mpm_core::MpmKind;
use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Parse `data` (lossy UTF-8) as an httpd configuration for every MPM, then render what
/// validated. Checks the invariants of a validated configuration.
pub fn config_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for kind in MpmKind::ALL {
        // The origin does not exist, so includes resolve to nothing on disk (or to errors).
        match ServerConfig::from_config_str(&text, Path::new("/nonexistent/fuzz.conf"), kind, None)
        {
            Ok(c) => {
                let l = &c.limits;
                assert!(l.threads_per_child <= l.thread_limit);
                assert!(l.max_daemons <= l.server_limit);
                // The capacity that is enforced: max_daemons × ThreadsPerChild. (As Apache,
                // `max_request_workers` keeps the configured value when ServerLimit lowers
                // the process cap, so the field itself may exceed ServerLimit × TPC.)
                let capacity = u64::from(l.max_daemons) * u64::from(l.threads_per_child);
                assert!(
                    capacity <= u64::from(l.server_limit) * u64::from(l.threads_per_child),
                    "{kind:?} {l:?} from {text:?}"
                );
                assert!(l.start_servers >= 1 && l.start_servers <= l.max_daemons);
                if kind.is_threaded() {
                    assert!(l.max_spare_threads > l.min_spare_threads, "{l:?}");
                } else {
                    assert!(l.max_spare_servers > l.min_spare_servers, "{l:?}");
                }
                let t = c.request_read_timeout;
                for s in [t.header, t.body] {
                    assert!(s.check().is_ok(), "{s:?}");
                }
                let _ = c.summary();
                let _ = HttpOptions::from_config(&c);
            }
            Err(e) => assert!(!e.0.is_empty()),
        }
    }
}

/// Options with short deadlines so one input never takes long.
fn fuzz_options() -> HttpOptions {
    HttpOptions {
        keep_alive: true,
        keep_alive_timeout: Duration::from_millis(200),
        max_keep_alive_requests: 100,
        timeout: Duration::from_millis(500),
        max_body: 64 * 1024,
        body_limit: Some(64 * 1024),
        limits: RequestLimits {
            request_line: 1024,
            field_size: 1024,
            fields: 20,
            header_timeout: Duration::from_millis(500),
            header_timeout_max: Duration::from_secs(1),
            header_min_rate: 500,
            body_timeout: Duration::from_millis(500),
            body_timeout_max: Duration::from_secs(1),
            body_min_rate: 500,
        },
        tls: None,
        http2: Default::default(),
        reply_writer: false,
    }
}

/// Hard bound on one input (the server's own deadlines end it much sooner).
pub const HTTP_INPUT_DEADLINE: Duration = Duration::from_secs(5);

struct Rig {
    rt: tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
}

thread_local! {
    static RIG: RefCell<Option<Rig>> = const { RefCell::new(None) };
}

fn app(req: Request<Bytes>) -> Response<Bytes> {
    Response::new(Bytes::from(format!(
        "{} {} {}\n",
        req.method(),
        req.uri(),
        req.body().len()
    )))
}

/// Feed `data` as a client's bytes (then FIN) to `serve_lean` (buffered bodies) over
/// loopback, reading everything the server answers. Returns the bytes answered.
pub fn http_request(data: &[u8]) -> usize {
    RIG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rig = slot.get_or_insert_with(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind 127.0.0.1:0");
            Rig { rt, listener }
        });
        let Rig { rt, listener } = rig;
        let opts = fuzz_options();
        rt.block_on(async {
            let addr = listener.local_addr().expect("local addr");
            let run = async {
                let client = tokio::net::TcpStream::connect(addr).await.ok()?;
                let (server, peer) = listener.accept().await.ok()?;
                let closing = Closing::new();
                let call = |req| std::future::ready(reply_blocking(&app, req));
                let mode = BodyMode::Buffered;
                let serve = serve_lean(server, peer, &opts, mode, call, &(), &closing);
                let talk = async move {
                    let (mut r, mut w) = client.into_split();
                    let write = async {
                        let _ = w.write_all(data).await;
                        let _ = w.shutdown().await;
                    };
                    let read = async {
                        let mut answer = Vec::new();
                        let _ = r.read_to_end(&mut answer).await;
                        answer.len()
                    };
                    let ((), n) = tokio::join!(write, read);
                    n
                };
                let (_, n) = tokio::join!(serve, talk);
                Some(n)
            };
            tokio::time::timeout(HTTP_INPUT_DEADLINE, run)
                .await
                .expect("one input took longer than its deadline")
                .unwrap_or(0)
        })
    })
}
