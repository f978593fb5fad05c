//! Hostile and slow clients against the HTTP/1.1 engine: size limits (414/431) and
//! mod_reqtimeout-style deadlines (silent client, slow head, slow body), under an
//! event-shaped server (`serve_lean` on a current-thread runtime, handlers on worker
//! threads) and a blocking-thread one (`serve_lean_blocking`, as prefork/worker).
//!
//! Servers run in-process on 127.0.0.1:0; every client read has a deadline.

use bytes::Bytes;
use http::{Request, Response};
use mpm_core::http::{
    current_thread_runtime, reply_blocking, serve_lean, serve_lean_blocking, BodyMode, Closing,
    Handler, HttpHandler, HttpOptions, Reply, RequestBody, RequestLimits,
};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const READ_LIMIT: Duration = Duration::from_secs(15);

fn app(req: Request<Bytes>) -> Response<Bytes> {
    Response::new(Bytes::from(format!("ok {}", req.body().len())))
}

/// A server shaped like an event child: a current-thread runtime, one `spawn_local` task
/// per connection, the blocking handler on worker threads answering through a oneshot.
fn start_event(opts: HttpOptions) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    type Job = (Request<RequestBody>, tokio::sync::oneshot::Sender<Reply>);
    let (jobs, rx) = crossbeam_channel::unbounded::<Job>();
    for _ in 0..2 {
        let rx = rx.clone();
        std::thread::spawn(move || {
            let h: Arc<dyn HttpHandler> = Arc::new(app);
            for (req, reply) in rx {
                let _ = reply.send(reply_blocking(&*h, req));
            }
        });
    }
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let closing = Closing::new();
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                let (jobs, opts, closing) = (jobs.clone(), opts.clone(), closing.clone());
                tokio::task::spawn_local(async move {
                    let call = |req| {
                        let jobs = jobs.clone();
                        async move {
                            let (tx, rx) = tokio::sync::oneshot::channel();
                            jobs.send((req, tx)).unwrap();
                            rx.await.unwrap()
                        }
                    };
                    serve_lean(s, peer, &opts, BodyMode::Buffered, call, &(), &closing).await
                });
            }
        });
    });
    addr
}

/// A blocking server serving one connection at a time (prefork's model).
fn start_blocking(opts: HttpOptions) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let handler = Handler::http(app);
        let closing = Closing::new();
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let peer = s.peer_addr().unwrap();
            serve_lean_blocking(&rt, s, peer, &opts, &handler, &(), &closing);
        }
    });
    addr
}

fn both(opts: HttpOptions) -> [SocketAddr; 2] {
    [start_event(opts.clone()), start_blocking(opts)]
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, READ_LIMIT).unwrap();
    s.set_read_timeout(Some(READ_LIMIT)).unwrap();
    s.set_write_timeout(Some(READ_LIMIT)).unwrap();
    s
}

/// Everything until EOF (or a reset after some bytes); the status code of the first
/// response, or `None` when the server closed without answering.
fn read_status(s: &mut TcpStream) -> Option<u16> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!("server neither answered nor closed within {READ_LIMIT:?}")
            }
            Err(e) => {
                eprintln!("read error after {} bytes: {e}", all.len());
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&all);
    text.split_whitespace().nth(1).and_then(|s| s.parse().ok())
}

/// One status read from a keep-alive connection (head + Content-Length body).
fn read_one_status(s: &mut TcpStream) -> u16 {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "EOF before a response");
        all.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&all).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if all.len() >= end + 4 + len {
                return text.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
    }
}

fn limits(f: impl FnOnce(&mut RequestLimits)) -> HttpOptions {
    let mut o = HttpOptions::default();
    f(&mut o.limits);
    o
}

#[test]
fn long_request_line_is_414() {
    for addr in both(limits(|l| l.request_line = 100)) {
        let mut s = connect(addr);
        let path = "a".repeat(200);
        // Part of the line only: the answer must not wait for the rest.
        s.write_all(format!("GET /{path}").as_bytes()).unwrap();
        assert_eq!(read_status(&mut s), Some(414), "{addr}");
        // A line at the limit is fine.
        let mut s = connect(addr);
        let path = "b".repeat(100 - "GET / HTTP/1.1".len());
        s.write_all(
            format!("GET /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        assert_eq!(read_status(&mut s), Some(200), "{addr}");
    }
}

#[test]
fn long_field_is_431() {
    for addr in both(limits(|l| l.field_size = 50)) {
        let mut s = connect(addr);
        let v = "v".repeat(60);
        s.write_all(format!("GET / HTTP/1.1\r\nHost: x\r\nX-Long: {v}\r\n\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_status(&mut s), Some(431), "{addr}");
    }
}

#[test]
fn too_many_fields_is_431() {
    for addr in both(limits(|l| l.fields = 5)) {
        let mut s = connect(addr);
        let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for i in 0..3 {
            head.push_str(&format!("X-{i}: y\r\n"));
        }
        s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
        assert_eq!(
            read_status(&mut s),
            Some(200),
            "5 fields are allowed: {addr}"
        );
        let mut s = connect(addr);
        let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 0..5 {
            head.push_str(&format!("X-{i}: y\r\n"));
        }
        s.write_all(format!("{head}\r\n").as_bytes()).unwrap();
        assert_eq!(read_status(&mut s), Some(431), "{addr}");
    }
}

#[test]
fn a_large_head_within_apaches_default_limits_is_served() {
    // 60 fields of 8000 bytes: ~480 KB, over hyper's default buffer (~400 KB).
    for addr in both(HttpOptions::default()) {
        let mut s = connect(addr);
        let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        let v = "v".repeat(8000);
        for i in 0..60 {
            head.push_str(&format!("X-{i}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        assert_eq!(read_status(&mut s), Some(200), "{addr}");
    }
}

#[test]
fn silent_client_is_closed_at_the_header_timeout_not_timeout() {
    let o = HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(1),
            header_timeout_max: Duration::from_secs(2),
            ..RequestLimits::default()
        },
        ..HttpOptions::default()
    };
    for addr in both(o) {
        let mut s = connect(addr);
        let t = Instant::now();
        // Nothing was sent: closed without an answer.
        assert_eq!(read_status(&mut s), None, "{addr}");
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
            "{addr}: {waited:?}"
        );
    }
}

#[test]
fn slowloris_head_gets_408_at_the_maximum() {
    // header=1-2,MinRate=500: a byte every 100 ms extends nothing much; cut at ≤ 2 s.
    let o = limits(|l| {
        l.header_timeout = Duration::from_secs(1);
        l.header_timeout_max = Duration::from_secs(2);
    });
    for addr in both(o) {
        let mut s = connect(addr);
        let t = Instant::now();
        let writer = {
            let mut w = s.try_clone().unwrap();
            std::thread::spawn(move || {
                for b in b"GET / HTTP/1.1\r\nX-Slow: "
                    .iter()
                    .chain([b'x'; 100].iter())
                {
                    if w.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        assert_eq!(read_status(&mut s), Some(408), "{addr}");
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_millis(3500),
            "{addr}: {waited:?}"
        );
        drop(s);
        writer.join().unwrap();
    }
}

#[test]
fn a_head_sent_at_the_min_rate_extends_its_deadline() {
    // header=1-4,MinRate=10: 10 bytes every 250 ms (40 B/s) keep extending the deadline;
    // the 100-byte head takes ~2.5 s (over the initial 1 s) and is served.
    let o = limits(|l| {
        l.header_timeout = Duration::from_secs(1);
        l.header_timeout_max = Duration::from_secs(4);
        l.header_min_rate = 10;
    });
    for addr in both(o) {
        let mut s = connect(addr);
        let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ");
        while head.len() < 96 {
            head.push('p');
        }
        head.push_str("\r\n\r\n");
        for chunk in head.as_bytes().chunks(10) {
            s.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(250));
        }
        assert_eq!(read_status(&mut s), Some(200), "{addr}");
    }
}

#[test]
fn stalled_body_gets_408_at_the_body_timeout() {
    let o = HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            body_timeout: Duration::from_secs(1),
            ..RequestLimits::default()
        },
        ..HttpOptions::default()
    };
    for addr in both(o) {
        let mut s = connect(addr);
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
            .unwrap();
        let t = Instant::now();
        assert_eq!(read_status(&mut s), Some(408), "{addr}");
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
            "{addr}: {waited:?}"
        );
    }
}

#[test]
fn keep_alive_wait_is_not_cut_by_the_header_timeout() {
    // header_timeout 1 s, KeepAliveTimeout 3 s: a kept-alive connection idle for 1.5 s
    // still gets its next request served (the head clock starts at its first byte).
    let o = HttpOptions {
        keep_alive_timeout: Duration::from_secs(3),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(1),
            header_timeout_max: Duration::from_secs(1),
            ..RequestLimits::default()
        },
        ..HttpOptions::default()
    };
    for addr in both(o) {
        let mut s = connect(addr);
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(read_one_status(&mut s), 200, "{addr}");
        std::thread::sleep(Duration::from_millis(1500));
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(read_status(&mut s), Some(200), "{addr}");
    }
}

#[test]
fn disabled_header_stage_falls_back_to_timeout() {
    // header=0: only `Timeout` (1 s here) bounds the wait.
    let o = HttpOptions {
        timeout: Duration::from_secs(1),
        limits: RequestLimits {
            header_timeout: Duration::ZERO,
            ..RequestLimits::default()
        },
        ..HttpOptions::default()
    };
    for addr in both(o) {
        let mut s = connect(addr);
        let t = Instant::now();
        assert_eq!(read_status(&mut s), None, "{addr}");
        assert!(t.elapsed() < Duration::from_secs(5), "{addr}");
    }
}
