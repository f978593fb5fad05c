//! Criterion micro-benchmarks of mpm's hot paths (issue #6).
//!
//! Groups: `scoreboard` (a worker slot updated as a request does it; a 16×64 snapshot),
//! `status` (`?auto` and JSON rendering of a 16×64 event board), `config` (parse +
//! validate the test configurations), `handler` (the panic-guarded handler calls),
//! `handoff` (the worker strategy's listener → worker hand-off and the event strategy's
//! worker pool, their own code) and
//! `http` (one keep-alive request/response over loopback through the engine, `serve_lean`).
//!
//! Run: `cargo bench -p mpm-extras --bench micro -- --warm-up-time 1 --measurement-time 2`
//! (see `benches/README.md`).
#![allow(
    missing_docs,
    reason = "criterion_group!/criterion_main! generate undocumented public functions"
)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use mpm_core::http::{
    call_async, call_handler, current_thread_runtime, serve_lean, AsyncHandler, BodyMode, Closing,
    HttpHandler, HttpOptions, Reply, RequestBody,
};
use mpm_core::scoreboard::{Scoreboard, WorkerStatus};
use mpm_core::status::{render_auto, render_json, StatusContext};
use mpm_core::{MpmKind, ServerConfig};
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The 14-byte body every benchmark handler answers with.
const BODY: &[u8; 14] = b"Hello, world!\n";

fn hello() -> Response<Bytes> {
    Response::new(Bytes::from_static(BODY))
}

fn get() -> Request<Bytes> {
    Request::get("/").body(Bytes::new()).expect("request")
}

// ---------------------------------------------------------------------------------------
// scoreboard

fn scoreboard(c: &mut Criterion) {
    let mut g = c.benchmark_group("scoreboard");
    let sb = Scoreboard::create(MpmKind::Worker, 16, 64).expect("scoreboard");
    g.bench_function("worker_slot_request_update", |b| {
        b.iter(|| {
            let w = sb.worker(black_box(3), black_box(7));
            w.set_status(WorkerStatus::BusyWrite);
            w.set_request(black_box("GET / HTTP/1.1"));
            w.start_request();
            w.finish_request(black_box(14));
            w.set_status(WorkerStatus::Ready);
        })
    });
    fill_board(&sb, 2, 25);
    g.bench_function("snapshot_16x64", |b| b.iter(|| black_box(sb.snapshot())));
    g.finish();
}

/// `procs` live processes with `threads` threads each: most Ready, a few busy.
fn fill_board(sb: &Scoreboard, procs: usize, threads: usize) {
    for p in 0..procs {
        let ps = sb.process(p);
        ps.set_pid(1000 + p as i32);
        ps.set_generation(1);
        for t in 0..threads {
            let w = sb.worker(p, t);
            w.set_status(WorkerStatus::Ready);
            if t % 8 == 0 {
                w.set_status(WorkerStatus::BusyWrite);
                w.set_client("127.0.0.1");
                w.set_vhost("bench.example");
                w.set_protocol("http/1.1");
                w.set_request("GET /index.html HTTP/1.1");
                w.start_request();
                w.finish_request(4096);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// status

fn status(c: &mut Criterion) {
    let mut g = c.benchmark_group("status");
    let sb = Scoreboard::create(MpmKind::Event, 16, 64).expect("scoreboard");
    fill_board(&sb, 2, 25);
    let snap = sb.snapshot();
    let ctx = StatusContext::new("bench", MpmKind::Event, 16, 25);
    g.bench_function("render_auto", |b| {
        b.iter(|| black_box(render_auto(black_box(&snap), &ctx)))
    });
    g.bench_function("render_json", |b| {
        b.iter(|| black_box(render_json(black_box(&snap), &ctx)))
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------
// config

fn config_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("config");
    // The workspace root's test configurations (this crate lives in extras/).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conf");
    let seed = std::fs::read_to_string(dir.join("seed-httpd-mpm.conf")).expect("seed conf");
    let distro = std::fs::read_to_string(dir.join("distro-httpd-mpm.conf")).expect("distro");
    let cases = [
        ("seed_worker", &seed, "seed.conf", MpmKind::Worker),
        ("distro_prefork", &distro, "distro.conf", MpmKind::Prefork),
        ("distro_worker", &distro, "distro.conf", MpmKind::Worker),
        ("distro_event", &distro, "distro.conf", MpmKind::Event),
    ];
    for (name, text, origin, kind) in cases {
        let origin = Path::new(origin);
        // Fail loudly (not measure an error path) if a file stops validating.
        ServerConfig::from_config_str(text, origin, kind, None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        g.bench_function(name, |b| {
            b.iter(|| ServerConfig::from_config_str(black_box(text), origin, kind, None))
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// handler dispatch

fn handler(c: &mut Criterion) {
    let mut g = c.benchmark_group("handler");
    let blocking = |_req: Request<Bytes>| hello();
    let h: &dyn HttpHandler = &blocking;
    g.bench_function("call_handler", |b| {
        b.iter(|| black_box(call_handler(h, get())))
    });

    let asynchronous = |_req: Request<Bytes>| async { hello() };
    let a: &dyn AsyncHandler = &asynchronous;
    let rt = current_thread_runtime().expect("runtime");
    // One block_on per batch: the connection task awaits handler calls inside the runtime.
    g.bench_function("call_async", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(call_async(a, get()).await);
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------
// hand-off

fn handoff(c: &mut Criterion) {
    let mut g = c.benchmark_group("handoff");

    // (a) worker MPM, its own hand-off (`mpm_worker::handoff`): the listener waits for an
    // idle worker, then gives it the connection; the worker takes it and goes idle again.
    // One iteration = reserve + give.
    {
        let (listener, mut ends) = mpm_worker::handoff::handoff::<u64>(1);
        let end = ends.pop().expect("one worker");
        let worker = std::thread::spawn(move || {
            while let Some(conn) = end.next() {
                black_box(conn);
            }
        });
        g.bench_function("worker_reserve_and_give", |b| {
            let mut n = 0u64;
            b.iter(|| {
                assert!(listener.reserve(Duration::from_secs(10)), "idle worker");
                n += 1;
                listener.give(n).map_err(|_| "stopping").expect("hand-off");
            })
        });
        // Dropping the listener's end stops the worker.
        drop(listener);
        worker.join().expect("worker thread");
    }

    // (b) event MPM, its own worker pool (`mpm_event::pool`): the connection task queues a
    // job, a worker thread runs the blocking handler (with its scoreboard bookkeeping) and
    // answers through a oneshot the task awaits. One iteration = one whole handler call.
    {
        let board = Scoreboard::create(MpmKind::Event, 1, 1).expect("scoreboard");
        let slots = board.child_slots(0);
        let handler = mpm_core::http::Handler::http(|_req: Request<Bytes>| hello());
        let pool = mpm_event::pool::Pool::start(1, handler, |t| {
            mpm_core::kit::SlotObserver::new(slots.clone(), t)
        })
        .expect("pool");
        let jobs = pool.submitter();
        let peer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let rt = current_thread_runtime().expect("runtime");
        g.bench_function("event_pool_call", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        let request = Request::get("/")
                            .body(RequestBody::full(Bytes::new()))
                            .expect("request");
                        jobs.send(mpm_event::pool::Job {
                            request,
                            peer,
                            reply: tx,
                        })
                        .map_err(|_| "the pool is closed")
                        .expect("queue");
                        black_box(rx.await.expect("reply"));
                    }
                    start.elapsed()
                })
            })
        });
        drop(jobs);
        pool.shutdown();
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// HTTP over loopback

/// One in-process server connection on a current-thread runtime in its own thread.
fn spawn_server() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let t = std::thread::spawn(move || {
        let (stream, peer) = listener.accept().expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream.set_nonblocking(true).expect("nonblocking");
        let rt = current_thread_runtime().expect("runtime");
        let opts = HttpOptions {
            max_keep_alive_requests: 0,
            keep_alive_timeout: Duration::from_secs(600),
            ..HttpOptions::default()
        };
        let closing = Closing::new();
        let call = |_req: Request<RequestBody>| async { Reply::Full(hello()) };
        rt.block_on(async {
            let stream = tokio::net::TcpStream::from_std(stream).expect("register");
            let mode = BodyMode::Buffered;
            serve_lean(stream, peer, &opts, mode, call, &(), &closing).await;
        });
    });
    (addr, t)
}

/// Send one request and read its whole response (head + Content-Length body).
fn round_trip(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
    stream.write_all(REQ).expect("write");
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).expect("utf-8 head");
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("content-length");
            if buf.len() >= end + 4 + len {
                assert_eq!(buf.len(), end + 4 + len, "one response at a time");
                return;
            }
        }
    }
}

fn http_loopback(c: &mut Criterion) {
    let mut g = c.benchmark_group("http");
    let (addr, server) = spawn_server();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::with_capacity(1024);
    round_trip(&mut stream, &mut buf);
    assert!(buf.ends_with(BODY), "unexpected response");
    // The name the lean-vs-hyper runs used, so earlier results stay comparable.
    g.bench_function("keepalive_round_trip_lean", |b| {
        b.iter(|| round_trip(&mut stream, &mut buf))
    });
    // Closing our end ends the server's connection, its runtime and its thread.
    drop(stream);
    server.join().expect("server thread");
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = scoreboard, status, config_parse, handler, handoff, http_loopback
}
criterion_main!(benches);
