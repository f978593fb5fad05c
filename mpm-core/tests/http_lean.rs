//! The HTTP/1.1 engine (`serve_lean`, and `serve_lean_blocking` as prefork and worker
//! call it), driven by raw TCP clients: the connection behaviour suite (keep-alive rules,
//! timeouts, the closing signal, observer transitions, panics) plus pipelining, chunked
//! bodies, `Expect`, request limits and deadlines, HTTP/1.0, HEAD and a random-bytes run.
//!
//! Servers run in-process on 127.0.0.1:0, on their own thread and tokio runtime; clients are
//! blocking `std` sockets with a read timeout on every read.
//!
//! Two ignored tests measure instead of asserting behaviour (run them with
//! `cargo test --release -p mpm-core --test http_lean -- --ignored --nocapture`):
//! `idle_memory_report` (memory per idle keep-alive connection, the engine vs a bare
//! socket-holding floor, each in a fresh process) and `throughput_report`
//! (`wrk -t1 -c50 -d5s` against the engine).

use bytes::Bytes;
use http::{Request, Response};
use mpm_core::http::{
    boxed, current_thread_runtime, reply_async, reply_blocking, reply_service, reply_stream,
    serve_lean, serve_lean_blocking, BodyMode, BodyReader, Closing, ConnObserver, Handler,
    HttpHandler, HttpOptions, Reply, RequestBody, RequestLimits, ResponseBody, ResponseWriter,
};
use mpm_core::scoreboard::WorkerStatus;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const READ_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Status(char),
    Line(String),
    Done(u64),
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Ev>>,
    changed: Condvar,
}

impl Recorder {
    fn push(&self, e: Ev) {
        self.events.lock().unwrap().push(e);
        self.changed.notify_all();
    }
    /// Wait (bounded) until `pred` holds for the events, and return them.
    fn wait_for(&self, pred: impl Fn(&[Ev]) -> bool) -> Vec<Ev> {
        let deadline = Instant::now() + READ_LIMIT;
        let mut g = self.events.lock().unwrap();
        while !pred(&g) {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("events never matched: {:?}", *g));
            g = self.changed.wait_timeout(g, left).unwrap().0;
        }
        g.clone()
    }
}

impl ConnObserver for Recorder {
    fn status(&self, s: WorkerStatus) {
        self.push(Ev::Status(s.letter()));
    }
    fn request_line(&self, line: &str) {
        self.push(Ev::Line(line.to_string()));
    }
    fn request_done(&self, bytes: u64) {
        self.push(Ev::Done(bytes));
    }
}

fn app(req: Request<Bytes>) -> Response<Bytes> {
    match req.uri().path() {
        "/panic" => panic!("handler exploded on purpose"),
        "/echo" => Response::new(req.into_body()),
        "/big" => Response::new(Bytes::from(vec![b'z'; 64 << 20])),
        "/close" => {
            let mut r = Response::new(Bytes::from_static(b"bye"));
            r.headers_mut()
                .insert("connection", http::HeaderValue::from_static("close"));
            r
        }
        p => Response::new(Bytes::from(format!("hello {p}"))),
    }
}

struct Server {
    addr: SocketAddr,
    closing: Closing,
    rec: Arc<Recorder>,
    /// Connection tasks that panicked (must stay 0).
    panics: Arc<AtomicUsize>,
}

/// An async server: accept loop on a multi-thread runtime, one spawned task per connection,
/// the handler on the blocking pool.
fn start(opts: HttpOptions) -> Server {
    let closing = Closing::new();
    let rec = Arc::new(Recorder::default());
    let panics = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (c2, r2, p2) = (closing.clone(), rec.clone(), panics.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let handler = Handler::http(app);
            let Handler::Http(h) = handler else {
                unreachable!()
            };
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let opts = Arc::new(opts);
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                let (h, opts, closing, rec) = (h.clone(), opts.clone(), c2.clone(), r2.clone());
                let task = tokio::spawn(async move {
                    let call = |req: Request<RequestBody>| {
                        let h = h.clone();
                        async move {
                            tokio::task::spawn_blocking(move || reply_blocking(&*h, req))
                                .await
                                .unwrap()
                        }
                    };
                    let mode = BodyMode::Buffered;
                    serve_lean(s, peer, &opts, mode, call, &*rec, &closing).await
                });
                let p2 = p2.clone();
                tokio::spawn(async move {
                    if task.await.is_err() {
                        p2.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
    });
    Server {
        addr,
        closing,
        rec,
        panics,
    }
}

/// A server shaped like the event strategy's child: a current-thread runtime, tasks
/// spawned on a `LocalSet`, the handler on a separate worker thread answering through a
/// oneshot channel.
fn start_local(opts: HttpOptions) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    type Job = (Request<RequestBody>, tokio::sync::oneshot::Sender<Reply>);
    let (jobs, rx) = crossbeam_channel::unbounded::<Job>();
    std::thread::spawn(move || {
        let h: Arc<dyn HttpHandler> = Arc::new(app);
        for (req, reply) in rx {
            let _ = reply.send(reply_blocking(&*h, req));
        }
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
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

/// A blocking server as prefork's child and worker's threads run it: accept, then
/// `serve_lean_blocking` on the thread's own current-thread runtime, one connection at a
/// time.
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

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect_timeout(&addr, READ_LIMIT).unwrap();
        s.set_read_timeout(Some(READ_LIMIT)).unwrap();
        s.set_write_timeout(Some(READ_LIMIT)).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn send(&mut self, raw: &str) {
        self.s.write_all(raw.as_bytes()).unwrap();
    }

    fn get(&mut self, path: &str) -> Resp {
        self.send(&format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n"));
        self.response()
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = self
            .s
            .read(&mut chunk)
            .expect("read (bounded by READ_LIMIT)");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    fn head(&mut self) -> (Resp, usize) {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(self.fill() > 0, "EOF before a response head");
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_string(), v.trim().to_string())
            })
            .collect();
        let resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        (resp, head_end)
    }

    /// A whole response: its body by `Content-Length`, or chunked (trailers dropped).
    fn response(&mut self) -> Resp {
        let (mut resp, head_end) = self.head();
        self.buf.drain(..head_end);
        let chunked = resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        resp.body = if chunked {
            assert!(resp.header("content-length").is_none(), "{resp:?}");
            self.chunked_body()
        } else {
            let len: usize = resp
                .header("content-length")
                .map(|v| v.parse().unwrap())
                .unwrap_or(0);
            self.take(len)
        };
        resp
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill() > 0, "EOF inside a response body");
        }
        self.buf.drain(..n).collect()
    }

    /// The next line, without its CRLF.
    fn line(&mut self) -> String {
        let end = loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            assert!(self.fill() > 0, "EOF inside a chunked body");
        };
        let line = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end + 2);
        line
    }

    fn chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = self.line();
            let size = line.split(';').next().unwrap().trim();
            let size = usize::from_str_radix(size, 16).unwrap_or_else(|_| panic!("{line:?}"));
            if size == 0 {
                while !self.line().is_empty() {}
                return body;
            }
            body.extend(self.take(size));
            assert_eq!(self.take(2), b"\r\n", "chunk not followed by CRLF");
        }
    }

    /// A response to HEAD: a head only, whatever its Content-Length says.
    fn head_response(&mut self) -> Resp {
        let (resp, head_end) = self.head();
        self.buf.drain(..head_end);
        resp
    }

    /// The server closed cleanly: a read returns 0 (FIN), not a reset or a timeout.
    fn expect_eof(&mut self) {
        assert!(self.buf.is_empty(), "unexpected bytes {:?}", self.buf);
        let mut b = [0u8; 64];
        match self.s.read(&mut b) {
            Ok(0) => {}
            Ok(n) => panic!("expected EOF, got {:?}", &b[..n]),
            Err(e) => panic!("expected EOF, got error {e} ({:?})", e.kind()),
        }
    }
}

fn opts() -> HttpOptions {
    HttpOptions::default()
}

fn statuses(ev: &[Ev]) -> String {
    ev.iter()
        .filter_map(|e| match e {
            Ev::Status(c) => Some(*c),
            _ => None,
        })
        .collect()
}

// ---- The connection behaviour suite -----------------------------------------------------

#[test]
fn get_is_answered() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    let r = c.get("/x");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello /x");
    assert!(r.header("date").is_some(), "{r:?}");
    assert_eq!(r.header("content-length"), Some("8"));
    assert!(!r.closes());
}

#[test]
fn two_requests_on_one_keep_alive_connection() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.get("/a").body, b"hello /a");
    let r = c.get("/b");
    assert_eq!(r.body, b"hello /b");
    assert!(!r.closes());
}

#[test]
fn handler_panic_is_a_500_and_the_server_goes_on() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    let r = c.get("/panic");
    assert_eq!(r.status, 500);
    assert_eq!(r.body, b"Internal Server Error\n");
    assert_eq!(c.get("/after").status, 200);
    let mut c2 = Client::connect(srv.addr);
    assert_eq!(c2.get("/new").body, b"hello /new");
    assert_eq!(srv.panics.load(Ordering::SeqCst), 0);
}

#[test]
fn keep_alive_off_closes_every_connection() {
    let srv = start(HttpOptions {
        keep_alive: false,
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    let r = c.get("/");
    assert_eq!(r.status, 200);
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

#[test]
fn max_keep_alive_requests_closes_after_the_nth() {
    let srv = start(HttpOptions {
        max_keep_alive_requests: 2,
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    assert!(!c.get("/1").closes());
    let r = c.get("/2");
    assert_eq!(r.status, 200);
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

#[test]
fn max_keep_alive_requests_zero_is_unlimited() {
    let srv = start(HttpOptions {
        max_keep_alive_requests: 0,
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    for i in 0..5 {
        let r = c.get(&format!("/{i}"));
        assert_eq!(r.status, 200);
        assert!(!r.closes(), "request {i}: {r:?}");
    }
}

#[test]
fn handler_asking_to_close_closes() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    let r = c.get("/close");
    assert_eq!(r.body, b"bye");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

#[test]
fn client_asking_to_close_is_closed() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let r = c.response();
    assert_eq!(r.body, b"hello /c");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

#[test]
fn keep_alive_timeout_ends_an_idle_connection_with_fin() {
    let srv = start(HttpOptions {
        keep_alive_timeout: Duration::from_secs(1),
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.get("/").status, 200);
    let t = Instant::now();
    c.expect_eof();
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn silent_client_is_closed_after_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    let t = Instant::now();
    c.expect_eof();
    assert!(t.elapsed() >= Duration::from_millis(900));
}

#[test]
fn silent_client_is_closed_after_the_header_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(1),
            ..RequestLimits::default()
        },
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    let t = Instant::now();
    c.expect_eof();
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn closing_while_idle_answers_the_next_request_then_closes() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    assert!(!c.get("/before").closes());
    srv.rec.wait_for(|ev| ev.last() == Some(&Ev::Status('K')));
    srv.closing.close();
    assert!(srv.closing.is_closed());
    let r = c.get("/after");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello /after");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

#[test]
fn observer_sees_read_write_keepalive_and_the_request_line() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.get("/obs?q=1");
    let ev = srv.rec.wait_for(|ev| ev.contains(&Ev::Status('K')));
    assert_eq!(
        ev,
        vec![
            Ev::Status('R'),
            Ev::Line("GET /obs?q=1 HTTP/1.1".into()),
            Ev::Status('W'),
            Ev::Done(b"hello /obs".len() as u64),
            Ev::Status('K'),
        ]
    );
    drop(c);
    let ev = srv.rec.wait_for(|ev| ev.contains(&Ev::Status('C')));
    assert_eq!(ev.last(), Some(&Ev::Status('C')));
}

#[test]
fn oversize_body_is_413() {
    let srv = start(HttpOptions {
        max_body: 1024,
        ..opts()
    });
    // Declared too large: refused without reading it.
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n");
    c.send(&"x".repeat(4096));
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(r.closes());
    c.expect_eof();
    // Chunked, found too large while reading.
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        c.send(&format!("200\r\n{}\r\n", "y".repeat(512)));
    }
    c.send("0\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(r.closes());
    c.expect_eof();
    // A body within the limit is echoed.
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello");
}

#[test]
fn pipelined_requests_are_both_answered_in_order() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /p1 HTTP/1.1\r\nHost: t\r\n\r\nGET /p2 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.response().body, b"hello /p1");
    assert_eq!(c.response().body, b"hello /p2");
}

#[test]
fn malformed_request_gets_400_and_a_clean_end() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("THIS IS NOT HTTP\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 400);
    assert!(r.closes());
    c.expect_eof();
    assert_eq!(Client::connect(srv.addr).get("/ok").status, 200);
}

#[test]
fn client_reset_mid_request_is_quiet() {
    let srv = start(opts());
    {
        let c = Client::connect(srv.addr);
        let sock = socket2::SockRef::from(&c.s);
        sock.set_linger(Some(Duration::ZERO)).unwrap();
        let mut s = &c.s;
        s.write_all(b"GET /half HTTP/1.1\r\nHost:").unwrap();
        // dropped with linger 0: RST
    }
    srv.rec.wait_for(|ev| ev.contains(&Ev::Status('C')));
    assert_eq!(Client::connect(srv.addr).get("/ok").status, 200);
    assert_eq!(srv.panics.load(Ordering::SeqCst), 0);
}

#[test]
fn event_shaped_server_serves_and_survives_panics() {
    let addr = start_local(HttpOptions {
        max_keep_alive_requests: 3,
        ..opts()
    });
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/one").body, b"hello /one");
    assert_eq!(c.get("/panic").status, 500);
    let r = c.get("/three");
    assert_eq!(r.status, 200);
    assert!(r.closes());
    c.expect_eof();
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/again").status, 200);
}

#[test]
fn blocking_variant_serves_and_survives_panics() {
    let addr = start_blocking(HttpOptions {
        max_keep_alive_requests: 3,
        ..opts()
    });
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/one").body, b"hello /one");
    assert_eq!(c.get("/panic").status, 500);
    let r = c.get("/three");
    assert_eq!(r.status, 200);
    assert!(r.closes());
    c.expect_eof();
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/again").status, 200);
}

#[test]
fn http10_without_keep_alive_is_closed() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /old HTTP/1.0\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello /old");
    c.expect_eof();
}

#[test]
fn http10_with_keep_alive_is_kept() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.response();
    assert_eq!(r.body, b"hello /old");
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send("GET /again HTTP/1.0\r\n\r\n");
    let r = c.response();
    assert_eq!(r.body, b"hello /again");
    assert!(r.closes());
    c.expect_eof();
}

#[test]
fn reads_never_hang_on_a_reset() {
    // Guard for the helper itself: a reset surfaces as an error, not as EOF.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = Client::connect(l.local_addr().unwrap());
    let (s, _) = l.accept().unwrap();
    c.send("x");
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
    let mut b = [0u8; 8];
    let e = c.s.read(&mut b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn partial_head_gets_408_after_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    c.send("GET /slow HTTP/1.1\r\nHost:");
    let t = Instant::now();
    let r = c.response();
    assert_eq!(r.status, 408);
    assert!(r.closes());
    c.expect_eof();
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn stalled_write_is_dropped_after_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    });
    let c = Client::connect(srv.addr);
    socket2::SockRef::from(&c.s)
        .set_recv_buffer_size(4096)
        .unwrap();
    let mut s = &c.s;
    s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // We never read: the server's write stalls and the connection ends on its own.
    let ev = srv.rec.wait_for(|ev| ev.contains(&Ev::Status('C')));
    assert!(ev.contains(&Ev::Status('W')));
    drop(c);
}

#[test]
fn closing_cuts_the_first_request_wait_to_the_keep_alive_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(60),
        keep_alive_timeout: Duration::from_secs(1),
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    // Connections are accepted in order: once a later one is served, `c` has been accepted.
    let mut other = Client::connect(srv.addr);
    assert_eq!(other.get("/x").status, 200);
    srv.closing.close();
    let t = Instant::now();
    c.expect_eof();
    let waited = t.elapsed();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

// ---- Every handler kind, under both server shapes --------------------------------------

/// A blocking streaming handler: the body through `Read`, the response through the writer.
fn stream_app(req: Request<BodyReader>, res: ResponseWriter) {
    let path = req.uri().path().to_string();
    let mut body = req.into_body();
    let _ = match path.as_str() {
        "/panic" => panic!("streaming handler exploded on purpose"),
        "/ignore" => res.send(Response::new(Bytes::from_static(b"ignored"))),
        "/first" => {
            // Read what arrived first, then answer without reading the rest.
            let mut first = [0u8; 3];
            let n = body.read(&mut first).unwrap_or(0);
            res.send(Response::new(Bytes::copy_from_slice(&first[..n])))
        }
        "/sized" => {
            let mut head = Response::new(());
            head.headers_mut()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(SIZED));
            res.start(head).and_then(|mut w| {
                for _ in 0..SIZED / 4096 {
                    w.write_all(&[b's'; 4096])?;
                }
                w.finish()
            })
        }
        "/chunks" => res.start(Response::new(())).and_then(|mut w| {
            for part in [&b"ab"[..], b"cd", b"ef"] {
                w.write_all(part)?;
            }
            w.finish()
        }),
        "/echo" => {
            let mut all = Vec::new();
            // On a body error the handler gives up: the engine answers the body's failure.
            if body.read_to_end(&mut all).is_err() {
                return;
            }
            res.send(Response::new(Bytes::from(all)))
        }
        p => res.send(Response::new(Bytes::from(format!("hello {p}")))),
    };
}

/// A response body of a few frames and no known length, each frame ready only after the
/// body has once said "not yet" (so it streams: the engine writes a body that is complete
/// at once as a whole response instead).
struct Frames {
    parts: std::collections::VecDeque<Bytes>,
    waited: bool,
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.waited = !self.waited;
        if self.waited {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(
            self.parts
                .pop_front()
                .map(|b| Ok(http_body::Frame::data(b))),
        )
    }
}

/// `SIZED` bytes of `s` in 4 KiB frames, all ready at once, with an exact size hint that
/// shrinks as frames are taken (as a real body's does).
struct Sized {
    left: usize,
}

const SIZED: usize = 200 * 1024;

impl http_body::Body for Sized {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let n = self.left.min(4096);
        self.left -= n;
        std::task::Poll::Ready(
            (n > 0).then(|| Ok(http_body::Frame::data(Bytes::from(vec![b's'; n])))),
        )
    }
    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left as u64)
    }
}

/// An async streaming handler: the body as an `http_body::Body`, the response streamed.
async fn service_app(req: Request<RequestBody>) -> Response<ResponseBody> {
    use http_body_util::BodyExt;
    let full = |b: Bytes| Response::new(boxed(http_body_util::Full::new(b)));
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/panic" => panic!("service handler exploded on purpose"),
        "/ignore" => full(Bytes::from_static(b"ignored")),
        "/first" => {
            // Take the first frame, then answer without reading the rest.
            let mut body = req.into_body();
            match body.frame().await {
                Some(Ok(f)) => full(f.into_data().unwrap_or_default()),
                _ => full(Bytes::new()),
            }
        }
        "/sized" => Response::new(boxed(Sized { left: SIZED })),
        "/chunks" => {
            let parts = [&b"ab"[..], b"cd", b"ef"].map(Bytes::from_static);
            Response::new(boxed(Frames {
                parts: parts.into_iter().collect(),
                waited: false,
            }))
        }
        "/can-upgrade" => {
            let yes = req
                .extensions()
                .get::<mpm_core::http::OnUpgrade>()
                .is_some();
            full(Bytes::from_static(if yes { b"yes" } else { b"no" }))
        }
        "/trailers" => {
            // Large enough to stream (chunked) rather than settle whole.
            let parts = [b'a', b'b', b'c'].map(|c| Bytes::from(vec![c; 30_000]));
            let body = Frames {
                parts: parts.into_iter().collect(),
                waited: false,
            };
            let mut trailers = http::HeaderMap::new();
            trailers.insert("x-checksum", http::HeaderValue::from_static("42"));
            let body = body.with_trailers(async move { Some(Ok(trailers)) });
            Response::new(boxed(body))
        }
        "/echo" => match req.into_body().collect().await {
            Ok(all) => full(all.to_bytes()),
            // The engine answers the body's failure whatever the handler says.
            Err(_) => full(Bytes::from_static(b"body failed")),
        },
        p => full(Bytes::from(format!("hello {p}"))),
    }
}

/// The four HTTP handler kinds, named.
fn kinds() -> Vec<(&'static str, Handler)> {
    vec![
        ("http", Handler::http(app)),
        ("stream", Handler::stream(stream_app)),
        (
            "async",
            Handler::asynchronous(|req: Request<Bytes>| async move { app(req) }),
        ),
        ("service", Handler::service(service_app)),
    ]
}

/// The streaming kinds only.
fn streaming_kinds() -> Vec<(&'static str, Handler)> {
    kinds()
        .into_iter()
        .filter(|(_, h)| h.body_mode() != BodyMode::Buffered)
        .collect()
}

/// A server running `handler` as the strategies do: on a blocking thread
/// (`serve_lean_blocking`, prefork/worker: one connection at a time, the socket as
/// accepted), or event-shaped (a current-thread runtime with one `spawn_local` task per
/// connection, `TCP_NODELAY` set; async kinds called inline, blocking ones on worker
/// threads answering through a oneshot).
fn start_kind(handler: Handler, event: bool, opts: HttpOptions) -> SocketAddr {
    if !event {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let rt = current_thread_runtime().unwrap();
            let closing = Closing::new();
            for s in listener.incoming() {
                let Ok(s) = s else { continue };
                let peer = s.peer_addr().unwrap();
                serve_lean_blocking(&rt, s, peer, &opts, &handler, &(), &closing);
            }
        });
        return addr;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    type Job = (Request<RequestBody>, tokio::sync::oneshot::Sender<Reply>);
    let (jobs, rx) = crossbeam_channel::unbounded::<Job>();
    for _ in 0..2 {
        let (rx, handler) = (rx.clone(), handler.clone());
        std::thread::spawn(move || {
            for (req, tx) in rx {
                let reply = match &handler {
                    Handler::Http(h) => reply_blocking(h.as_ref(), req),
                    Handler::Stream(h) => reply_stream(h.as_ref(), req),
                    other => unreachable!("{other:?} runs inline"),
                };
                let _ = tx.send(reply);
            }
        });
    }
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let closing = Closing::new();
            let mode = handler.body_mode();
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                // As the event child does (prefork and worker do not).
                let _ = s.set_nodelay(true);
                let (jobs, handler) = (jobs.clone(), handler.clone());
                let (opts, closing) = (opts.clone(), closing.clone());
                tokio::task::spawn_local(async move {
                    let call = |req| {
                        let (jobs, handler) = (jobs.clone(), handler.clone());
                        async move {
                            match &handler {
                                Handler::Async(h) => return reply_async(h.as_ref(), req).await,
                                Handler::Service(h) => return reply_service(h.as_ref(), req).await,
                                _ => {}
                            }
                            let (tx, rx) = tokio::sync::oneshot::channel();
                            jobs.send((req, tx)).unwrap();
                            rx.await.unwrap()
                        }
                    };
                    serve_lean(s, peer, &opts, mode, call, &(), &closing).await
                });
            }
        });
    });
    addr
}

/// Run `check` against a server of every kind in `kinds`, in both shapes.
fn each_server(
    kinds: Vec<(&'static str, Handler)>,
    opts: HttpOptions,
    check: impl Fn(&str, SocketAddr),
) {
    for (name, handler) in kinds {
        for event in [false, true] {
            let addr = start_kind(handler.clone(), event, opts.clone());
            let shape = if event { "event" } else { "blocking" };
            check(&format!("{name} handler, {shape} server"), addr);
        }
    }
}

#[test]
fn every_handler_kind_serves_bodies_keep_alive_and_pipelining() {
    each_server(kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let r = c.get("/x");
        assert_eq!((r.status, &r.body[..]), (200, &b"hello /x"[..]), "{what}");
        assert!(!r.closes(), "{what}: {r:?}");
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(c.response().body, b"hello", "{what}");
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n");
        let r = c.response();
        assert_eq!(r.body, b"hello world", "{what}");
        assert!(!r.closes(), "{what}: {r:?}");
        c.send(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        );
        assert_eq!(c.response().status, 100, "{what}");
        c.send("ping");
        assert_eq!(c.response().body, b"ping", "{what}");
        c.send(concat!(
            "GET /p1 HTTP/1.1\r\nHost: t\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
            "GET /p3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ));
        assert_eq!(c.response().body, b"hello /p1", "{what}");
        assert_eq!(c.response().body, b"abc", "{what}");
        let r = c.response();
        assert_eq!(r.body, b"hello /p3", "{what}");
        assert!(r.closes(), "{what}: {r:?}");
        c.expect_eof();
    });
}

#[test]
fn every_handler_kind_answers_head_and_http10() {
    each_server(kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        c.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
        let r = c.head_response();
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(r.header("content-length"), Some("8"), "{what}: {r:?}");
        // No body bytes followed the HEAD answer: the next response starts right away.
        assert_eq!(c.get("/g").body, b"hello /g", "{what}");
        c.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.response();
        assert_eq!(r.body, b"hello /old", "{what}");
        assert_eq!(r.header("connection"), Some("keep-alive"), "{what}: {r:?}");
        c.send("GET /again HTTP/1.0\r\n\r\n");
        let r = c.response();
        assert_eq!(r.body, b"hello /again", "{what}");
        c.expect_eof();
    });
}

#[test]
fn streaming_handlers_send_chunked_responses() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let r = c.get("/chunks");
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(
            r.header("transfer-encoding"),
            Some("chunked"),
            "{what}: {r:?}"
        );
        assert_eq!(r.body, b"abcdef", "{what}");
        assert!(!r.closes(), "{what}: {r:?}");
        // The chunked body ended properly: the connection is in sync.
        assert_eq!(c.get("/next").body, b"hello /next", "{what}");
        // HEAD: the head only.
        c.send("HEAD /chunks HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.head_response().status, 200, "{what}");
        assert_eq!(c.get("/after").body, b"hello /after", "{what}");
    });
}

/// A request head larger than the first read buffer (4 KiB) is read whole and served.
#[test]
fn a_head_larger_than_one_buffer_is_served() {
    each_server(kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let big = "v".repeat(7000);
        c.send(&format!(
            "GET /long-head HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n"
        ));
        let r = c.response();
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(r.body, b"hello /long-head", "{what}");
    });
}

/// Only a request that asks for an upgrade and has no body is offered one (RFC 9110
/// §7.8: what follows its head would be the new protocol).
#[test]
fn an_upgrade_is_offered_only_to_an_upgrade_request_without_a_body() {
    let addr = start_kind(Handler::service(service_app), true, opts());
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/can-upgrade").body, b"no", "a plain GET");
    c.send("POST /can-upgrade HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(c.response().body, b"no", "an upgrade request with a body");
    let mut c = Client::connect(addr);
    c.send("GET /can-upgrade HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n");
    assert_eq!(
        c.response().body,
        b"yes",
        "an upgrade request without a body"
    );
}

/// Trailer fields go out at the end of a chunked response only to a client that said
/// `TE: trailers` (RFC 9110 §10.1.4); the body ends properly either way.
#[test]
fn trailers_are_sent_only_to_a_client_that_accepts_them() {
    use std::io::{Read, Write};
    let addr = start_kind(Handler::service(service_app), true, opts());
    let fetch = |te: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!("GET /trailers HTTP/1.1\r\nHost: t\r\n{te}Connection: close\r\n\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    };
    let with = fetch("TE: trailers\r\n");
    assert!(
        with.contains("transfer-encoding: chunked"),
        "{}",
        &with[..200]
    );
    assert!(
        with.ends_with("\r\n0\r\nx-checksum: 42\r\n\r\n"),
        "no trailer: {:?}",
        &with[with.len() - 40..]
    );
    let without = fetch("");
    assert!(without.contains("transfer-encoding: chunked"));
    assert!(
        without.ends_with("\r\n0\r\n\r\n") && !without.contains("x-checksum"),
        "a trailer for a client that did not accept it: {:?}",
        &without[without.len() - 40..]
    );
}

/// A body whose start came with its `Expect: 100-continue` head was sent without waiting
/// for `100 Continue`: when the handler reads that start and answers, the rest is read as
/// for any body — an incomplete one is a 400, a complete one lets the pipelined request
/// be served — whatever the segmentation (fuzz finding E1).
#[test]
fn a_continue_body_sent_at_once_is_finished_like_any_body() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        c.send(
            "POST /first HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\nabc",
        );
        c.s.shutdown(Shutdown::Write).unwrap();
        let r = c.response();
        assert_eq!(r.status, 400, "{what}: an incomplete body: {r:?}");

        let mut c = Client::connect(addr);
        c.send(
            "POST /first HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\nabcdef\
             GET /next HTTP/1.1\r\nHost: t\r\n\r\n",
        );
        let r = c.response();
        assert_eq!(r.status, 200, "{what}: {r:?}");
        assert!(!r.closes(), "{what}: {r:?}");
        assert_eq!(c.response().body, b"hello /next", "{what}");
    });
}

/// A body of known length is sent with its whole length, however many of its frames the
/// engine took before writing the head (found by the 1 GiB download test: the length was
/// once read from the size hint after two frames were taken).
#[test]
fn a_sized_streamed_response_states_its_whole_length() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let r = c.get("/sized");
        assert_eq!(r.status, 200, "{what}");
        assert_eq!(r.header("content-length"), Some("204800"), "{what}: {r:?}");
        assert_eq!(r.body.len(), SIZED, "{what}");
        assert!(r.body.iter().all(|&b| b == b's'), "{what}");
        assert_eq!(c.get("/next").body, b"hello /next", "{what}");
    });
}

#[test]
fn an_unread_request_body_is_drained_and_the_connection_goes_on() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
        let r = c.response();
        assert_eq!(r.body, b"ignored", "{what}");
        assert!(!r.closes(), "{what}: {r:?}");
        assert_eq!(c.get("/a").body, b"hello /a", "{what}");
        c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("3\r\nabc\r\n0\r\n\r\n");
        assert_eq!(c.response().body, b"ignored", "{what}");
        assert_eq!(c.get("/b").body, b"hello /b", "{what}");
        // Too much to drain (over 256 KiB): answered, then the connection closes.
        let big = 1 << 20;
        c.send(&format!(
            "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {big}\r\n\r\n"
        ));
        let _ = c.s.write_all(&vec![b'x'; big]);
        assert_eq!(c.response().body, b"ignored", "{what}");
        c.expect_eof();
    });
}

#[test]
fn streamed_bodies_are_held_to_body_limit() {
    let o = HttpOptions {
        body_limit: Some(10),
        ..opts()
    };
    each_server(streaming_kinds(), o.clone(), |what, addr| {
        // Declared too large: refused before the handler runs.
        let mut c = Client::connect(addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 413, "{what}");
        assert!(r.closes(), "{what}: {r:?}");
        c.expect_eof();
        // (A blocking server lingers on a connection until its client closes.)
        drop(c);
        // Chunked, found too large while the handler reads it.
        let mut c = Client::connect(addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("5\r\nhello\r\n5\r\nworld\r\n1\r\n!\r\n0\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 413, "{what}");
        assert!(r.closes(), "{what}: {r:?}");
        c.expect_eof();
        drop(c);
        // At the limit: served.
        let mut c = Client::connect(addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
        assert_eq!(c.response().body, b"0123456789", "{what}");
    });
    // Buffered handlers are held to `max_body` instead.
    let buffered: Vec<_> = kinds()
        .into_iter()
        .filter(|(_, h)| h.body_mode() == BodyMode::Buffered)
        .collect();
    each_server(buffered, o, |what, addr| {
        let mut c = Client::connect(addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
        assert_eq!(c.response().body, b"hello world", "{what}");
    });
}

#[test]
fn a_malformed_streamed_body_is_400_whatever_the_handler_answers() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("5\r\nhelloXX0\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 400, "{what}");
        assert!(r.closes(), "{what}: {r:?}");
        c.expect_eof();
    });
}

#[test]
fn streaming_handler_panics_are_500s_and_the_server_goes_on() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let r = c.get("/panic");
        assert_eq!(r.status, 500, "{what}");
        assert_eq!(r.body, b"Internal Server Error\n", "{what}");
        // (A blocking server lingers on a connection until its client closes.)
        drop(c);
        assert_eq!(
            Client::connect(addr).get("/new").body,
            b"hello /new",
            "{what}"
        );
    });
}

// ---- Framing, limits and deadlines -----------------------------------------------------

#[test]
fn three_pipelined_requests_in_one_write() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send(concat!(
        "GET /p1 HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
        "GET /p3 HTTP/1.1\r\nHost: t\r\n\r\n",
    ));
    assert_eq!(c.response().body, b"hello /p1");
    assert_eq!(c.response().body, b"abc");
    let r = c.response();
    assert_eq!(r.body, b"hello /p3");
    assert!(!r.closes());
    let ev = srv
        .rec
        .wait_for(|ev| ev.iter().filter(|e| **e == Ev::Status('K')).count() == 3);
    assert_eq!(statuses(&ev), "RWKRWKRWK");
    let lines: Vec<&Ev> = ev.iter().filter(|e| matches!(e, Ev::Line(_))).collect();
    assert_eq!(
        lines,
        [
            &Ev::Line("GET /p1 HTTP/1.1".into()),
            &Ev::Line("POST /echo HTTP/1.1".into()),
            &Ev::Line("GET /p3 HTTP/1.1".into())
        ]
    );
    // And the connection goes on.
    assert_eq!(c.get("/p4").body, b"hello /p4");
}

#[test]
fn pipelined_request_split_across_writes() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HT");
    assert_eq!(c.response().body, b"hello /a");
    std::thread::sleep(Duration::from_millis(100));
    c.send("TP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.response().body, b"hello /b");
}

#[test]
fn chunked_request_body_with_extensions_and_trailers() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.send("5;ext=1\r\nhello\r\n");
    std::thread::sleep(Duration::from_millis(50));
    c.send("6\r\n wor");
    std::thread::sleep(Duration::from_millis(50));
    c.send("ld\r\n0\r\nX-Trailer: yes\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello world");
    assert!(!r.closes());
    // The trailers were consumed: the connection is in sync.
    assert_eq!(c.get("/next").body, b"hello /next");
}

#[test]
fn malformed_chunked_body_is_400() {
    let srv = start(opts());
    for bad in ["zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n"] {
        let mut c = Client::connect(srv.addr);
        c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send(bad);
        let r = c.response();
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(r.closes());
        c.expect_eof();
    }
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert_eq!(c.response().status, 400);
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert_eq!(c.response().status, 501);
}

#[test]
fn expect_100_continue() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 100);
    c.send("ping");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ping");
    // Chunked too.
    c.send(concat!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n",
        "Expect: 100-continue\r\n\r\n"
    ));
    assert_eq!(c.response().status, 100);
    c.send("2\r\nok\r\n0\r\n\r\n");
    assert_eq!(c.response().body, b"ok");
}

#[test]
fn expect_100_continue_over_the_limit_is_413_without_continue() {
    let srv = start(HttpOptions {
        max_body: 10,
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(r.closes());
    c.expect_eof();
}

#[test]
fn unknown_expectation_is_417() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET / HTTP/1.1\r\nHost: t\r\nExpect: the-unexpected\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 417);
    assert!(r.closes());
    c.expect_eof();
}

#[test]
fn long_request_line_is_414() {
    // The default limit (8190), the whole line sent at once.
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send(&format!(
        "GET /{} HTTP/1.1\r\nHost: t\r\n\r\n",
        "a".repeat(8200)
    ));
    let r = c.response();
    assert_eq!(r.status, 414);
    assert!(r.closes());
    c.expect_eof();
    // Exactly at the limit is fine.
    let mut c = Client::connect(srv.addr);
    let path = format!("/{}", "b".repeat(8190 - "GET  HTTP/1.1".len() - 1));
    let r = c.get(&path);
    assert_eq!(r.status, 200);
    // A small limit, refused before the line is even complete.
    let srv = start(HttpOptions {
        limits: RequestLimits {
            request_line: 64,
            ..RequestLimits::default()
        },
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    c.send(&format!("GET /{}", "c".repeat(100)));
    let r = c.response();
    assert_eq!(r.status, 414);
    let ev = srv.rec.wait_for(|ev| ev.contains(&Ev::Status('C')));
    assert_eq!(statuses(&ev), "RWC");
}

#[test]
fn large_or_too_many_fields_are_431() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send(&format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "v".repeat(8200)
    ));
    let r = c.response();
    assert_eq!(r.status, 431);
    assert!(r.closes());
    c.expect_eof();

    let mut c = Client::connect(srv.addr);
    let mut req = String::from("GET / HTTP/1.1\r\n");
    for i in 0..101 {
        req.push_str(&format!("X-F{i}: v\r\n"));
    }
    req.push_str("\r\n");
    c.send(&req);
    let r = c.response();
    assert_eq!(r.status, 431);
    c.expect_eof();

    // 100 fields are allowed (Host and 99 more).
    let mut c = Client::connect(srv.addr);
    let mut req = String::from("GET /many HTTP/1.1\r\nHost: t\r\n");
    for i in 0..99 {
        req.push_str(&format!("X-F{i}: v\r\n"));
    }
    req.push_str("\r\n");
    c.send(&req);
    assert_eq!(c.response().body, b"hello /many");
}

#[test]
fn stalled_head_gets_408_at_the_header_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(1),
            header_timeout_max: Duration::from_secs(1),
            header_min_rate: 0,
            ..RequestLimits::default()
        },
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    let t = Instant::now();
    // A byte now and then keeps every single read within Timeout, but not the whole head.
    for b in b"GET /trickle" {
        c.s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        if t.elapsed() > Duration::from_millis(1300) {
            break;
        }
    }
    let r = c.response();
    assert_eq!(r.status, 408);
    assert!(r.closes());
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn header_min_rate_extends_the_head_deadline_up_to_the_maximum() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(1),
            header_timeout_max: Duration::from_secs(3),
            header_min_rate: 20,
            ..RequestLimits::default()
        },
        ..opts()
    });
    // 10 bytes every 250 ms = 40 bytes/s, above MinRate: the deadline moves on, but never
    // beyond 3 s.
    let mut c = Client::connect(srv.addr);
    let t = Instant::now();
    c.send("GET /rate HTTP/1.1\r\n");
    while t.elapsed() < Duration::from_millis(3600) {
        if c.s.write_all(b"X-Pad: 12\r\n").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let r = c.response();
    assert_eq!(r.status, 408);
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(2500), "{waited:?}");

    // A head that arrives in time at that rate is served.
    let mut c = Client::connect(srv.addr);
    c.send("GET /rate HTTP/1.1\r\nHost: t\r\n");
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(250));
        c.send("X-Pad: 12\r\n");
    }
    c.send("\r\n");
    assert_eq!(c.response().body, b"hello /rate");
}

#[test]
fn stalled_body_gets_408_at_the_body_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(60),
        limits: RequestLimits {
            body_timeout: Duration::from_secs(1),
            body_min_rate: 0,
            ..RequestLimits::default()
        },
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    let t = Instant::now();
    let r = c.response();
    assert_eq!(r.status, 408);
    assert!(r.closes());
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn head_gets_the_length_and_no_body() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("8"));
    // No body bytes followed: the next response starts right away.
    let r = c.get("/g");
    assert_eq!(r.body, b"hello /g");
    let ev = srv.rec.wait_for(|ev| ev.contains(&Ev::Done(8)));
    assert!(ev.contains(&Ev::Done(0)), "HEAD counts no bytes: {ev:?}");
}

#[test]
fn half_closed_client_still_gets_its_answer() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /half HTTP/1.1\r\nHost: t\r\n\r\n");
    c.s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(c.response().body, b"hello /half");
    c.expect_eof();
}

#[test]
fn version_2_is_505() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET / HTTP/2.0\r\n\r\n");
    assert_eq!(c.response().status, 505);
    c.expect_eof();
}

#[test]
fn the_connection_future_is_small() {
    // What a parked connection's task holds: everything else lives in a box that exists only
    // while a request is served.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let opts = opts();
        let closing = Closing::new();
        let call = |_req: Request<RequestBody>| {
            std::future::ready(Reply::Full(Response::new(Bytes::new())))
        };
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let lean = serve_lean(s, addr, &opts, BodyMode::Buffered, call, &(), &closing);
        let lean = std::mem::size_of_val(&lean);
        println!(
            "connection future: lean {lean} bytes (HttpOptions: {} bytes)",
            std::mem::size_of::<HttpOptions>()
        );
        assert!(lean <= 1024, "lean connection future is {lean} bytes");
    });
}

/// A tiny deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Valid requests (HTTP/1.1 ones carry their Host), mutated by `fuzz_input`.
const TEMPLATES: &[&str] = &[
    "GET /x HTTP/1.1\r\nHost: t\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
];

fn fuzz_input(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        // Pure noise, sometimes with line breaks.
        0 => (0..rng.below(700))
            .map(|_| match rng.below(10) {
                0 => b'\r',
                1 => b'\n',
                _ => rng.next() as u8,
            })
            .collect(),
        // A valid request, mutated.
        _ => {
            let mut v = TEMPLATES[rng.below(TEMPLATES.len())].as_bytes().to_vec();
            for _ in 0..=rng.below(6) {
                let i = rng.below(v.len() + 1);
                let tricky = b"\r\n:; 0fF-\t\x00\xff9";
                match rng.below(5) {
                    0 if i < v.len() => v[i] = rng.next() as u8,
                    1 if i < v.len() => {
                        v.remove(i);
                    }
                    2 => v.insert(i, tricky[rng.below(tricky.len())]),
                    3 => v.truncate(i),
                    _ => {
                        let n = rng.below(40);
                        let digits: Vec<u8> = (0..n).map(|_| b'0' + rng.below(10) as u8).collect();
                        v.splice(i..i, digits);
                    }
                }
            }
            v
        }
    }
}

#[test]
fn random_bytes_never_panic_and_always_end_cleanly() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(2),
        keep_alive_timeout: Duration::from_secs(2),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(2),
            body_timeout: Duration::from_secs(2),
            ..RequestLimits::default()
        },
        ..opts()
    });
    let started = Instant::now();
    let runs: usize = 2000;
    let resets = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (addr, resets) = (srv.addr, resets.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0x1234_5678_9ABC));
                for i in 0..runs / 4 {
                    let input = fuzz_input(&mut rng);
                    let mut c = Client::connect(addr);
                    // The server may answer and close before all is written: fine.
                    let _ = c.s.write_all(&input);
                    let _ = c.s.shutdown(Shutdown::Write);
                    let mut got = Vec::new();
                    let end = loop {
                        let mut b = [0u8; 4096];
                        match c.s.read(&mut b) {
                            Ok(0) => break Ok(()),
                            Ok(n) => got.extend_from_slice(&b[..n]),
                            Err(e) => break Err(e),
                        }
                    };
                    let shown = String::from_utf8_lossy(&input).into_owned();
                    match end {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                            resets.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => panic!("thread {t} run {i}: {e} for input {shown:?}"),
                    }
                    assert!(
                        got.is_empty() || got.starts_with(b"HTTP/1.1 "),
                        "thread {t} run {i}: answer {:?} for input {shown:?}",
                        String::from_utf8_lossy(&got)
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(srv.panics.load(Ordering::SeqCst), 0);
    println!(
        "{runs} random inputs, {} ended in a reset",
        resets.load(Ordering::SeqCst)
    );
    // Every connection ended (C), and the server still serves.
    let ev = srv
        .rec
        .wait_for(|ev| ev.iter().filter(|e| **e == Ev::Status('C')).count() >= runs);
    assert_eq!(ev.iter().filter(|e| **e == Ev::Status('C')).count(), runs);
    assert_eq!(Client::connect(srv.addr).get("/still").status, 200);
    assert!(started.elapsed() < Duration::from_secs(60));
}

// ---- Measurements (ignored: run with --release -- --ignored --nocapture) ---------------

/// Which connection path a measurement server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// The engine (`serve_lean`).
    Lean,
    /// The floor: a task that only holds the socket and answers with a canned response.
    Bare,
}

impl PathKind {
    fn parse(s: &str) -> PathKind {
        match s {
            "lean" => PathKind::Lean,
            "bare" => PathKind::Bare,
            other => panic!("unknown path {other:?}"),
        }
    }
}

const BENCH_BODY: &[u8] = b"hello, world!\n";

fn bench_reply() -> Reply {
    Reply::Full(Response::new(Bytes::from_static(BENCH_BODY)))
}

/// How the measurement server runs its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Calls {
    /// Inline on the connection's task (the async path).
    Inline,
    /// On a worker thread, answering through a oneshot (the event strategy's default).
    Pool,
}

/// A server shaped like an event child (current-thread runtime, `spawn_local` per
/// connection), serving a 14-byte body with generous timeouts.
fn start_bench_server(path: PathKind, calls: Calls) -> (SocketAddr, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    type Job = (Request<RequestBody>, tokio::sync::oneshot::Sender<Reply>);
    let (jobs, rx) = crossbeam_channel::unbounded::<Job>();
    if calls == Calls::Pool {
        for _ in 0..2 {
            let rx = rx.clone();
            std::thread::spawn(move || {
                for (_req, reply) in rx {
                    let _ = reply.send(bench_reply());
                }
            });
        }
    }
    let opts = HttpOptions {
        keep_alive_timeout: Duration::from_secs(300),
        max_keep_alive_requests: 0,
        timeout: Duration::from_secs(300),
        ..HttpOptions::default()
    };
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // "/proc/self/task/<tid>": where this thread's CPU time can be read.
        let me = std::fs::read_link("/proc/thread-self").unwrap_or_default();
        let tid = me.file_name().map(|t| t.to_string_lossy().into_owned());
        let _ = tid_tx.send(format!("/proc/self/task/{}/stat", tid.unwrap_or_default()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let closing = Closing::new();
            loop {
                let Ok((s, peer)) = l.accept().await else {
                    continue;
                };
                let _ = s.set_nodelay(true);
                if path == PathKind::Bare {
                    tokio::task::spawn_local(bare(s));
                    continue;
                }
                // One task per connection, shaped like the event child's: it owns clones of
                // the options, the closing signal and the job sender.
                let (jobs, opts, closing) = (jobs.clone(), opts.clone(), closing.clone());
                tokio::task::spawn_local(async move {
                    let call = |req| {
                        let jobs = jobs.clone();
                        async move {
                            if calls == Calls::Inline {
                                drop(req);
                                return bench_reply();
                            }
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
    (addr, tid_rx.recv().unwrap())
}

/// Answer every read with the canned response, holding nothing but the socket.
async fn bare(s: tokio::net::TcpStream) -> mpm_core::http::ConnSummary {
    loop {
        if s.readable().await.is_err() {
            break;
        }
        let mut b = [0u8; 512];
        match s.try_read(&mut b) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
        let r = b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\nhello, world!\n";
        let _ = s.try_write(r);
    }
    mpm_core::http::ConnSummary::default()
}

/// CPU time (user + system) a thread has used, in clock ticks (1/100 s), from its `stat`.
fn cpu_ticks(stat_path: &str) -> u64 {
    let text = std::fs::read_to_string(stat_path).unwrap_or_default();
    let after_name = text.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 12th and 13th after the name.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// (Rss, Pss) of this process in KiB, from /proc/self/smaps_rollup.
fn memory_kib() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap();
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in smaps_rollup"))
    };
    (field("Rss:"), field("Pss:"))
}

fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    hard
}

/// One request on an open connection, its whole response read.
fn bench_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    if s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").is_err() {
        return false;
    }
    buf.clear();
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(BENCH_BODY) {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf.starts_with(b"HTTP/1.1 200 ")
}

/// The child half of `idle_memory_report` (does nothing unless that test started it).
#[test]
#[ignore]
fn idle_memory_child() {
    let Ok(path) = std::env::var("MPM_IDLE_PATH") else {
        return;
    };
    let path = PathKind::parse(&path);
    let n: usize = std::env::var("MPM_IDLE_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let hard = raise_nofile();
    assert!(
        hard as usize > 2 * n + 100,
        "fd limit {hard} too low for {n}"
    );
    let (addr, _) = start_bench_server(path, Calls::Inline);
    let mut buf = Vec::with_capacity(4096);
    // Warm up the runtime, the allocator and the free lists, then let those go.
    {
        let mut warm = Vec::new();
        for _ in 0..200 {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(READ_LIMIT)).unwrap();
            assert!(bench_request(&mut s, &mut buf));
            warm.push(s);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut conns: Vec<TcpStream> = Vec::with_capacity(n);
    let (rss0, pss0) = memory_kib();
    let t = Instant::now();
    for i in 0..n {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(READ_LIMIT)).unwrap();
        assert!(bench_request(&mut s, &mut buf), "request {i} failed");
        conns.push(s);
    }
    let opened = t.elapsed();
    // Let every connection settle into its keep-alive wait.
    std::thread::sleep(Duration::from_secs(1));
    let (rss1, pss1) = memory_kib();
    // Every held connection still answers.
    let second_ok = conns
        .iter_mut()
        .map(|s| bench_request(s, &mut buf))
        .filter(|ok| *ok)
        .count();
    println!(
        "IDLE_MEMORY path={path:?} conns={n} rss0={rss0} rss1={rss1} pss0={pss0} pss1={pss1} \
         second_ok={second_ok} open_ms={}",
        opened.as_millis()
    );
}

/// Memory per idle keep-alive connection, `serve_lean` vs the bare floor (a task holding
/// only its socket), each measured in a fresh process (this test binary re-run with
/// `idle_memory_child`): N connections (MPM_IDLE_CONNS, default 5000) each answer one
/// request, then the growth of the process's Rss/Pss is divided by N. Every held
/// connection must then answer a second request. MPM_IDLE_PATHS picks the paths
/// (default `lean,bare`).
#[test]
#[ignore]
fn idle_memory_report() {
    let n: usize = std::env::var("MPM_IDLE_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let exe = std::env::current_exe().unwrap();
    let mut lean_pss = None;
    let paths = std::env::var("MPM_IDLE_PATHS").unwrap_or_else(|_| "lean,bare".into());
    for path in paths.split(',') {
        let out = std::process::Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "idle_memory_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MPM_IDLE_PATH", path)
            .env("MPM_IDLE_CONNS", n.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.find("IDLE_MEMORY ").map(|i| &l[i..]))
            .unwrap_or_else(|| {
                panic!(
                    "no result from the {path} child: {stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let get = |k: &str| -> u64 {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let per = |a: u64, b: u64| (b.saturating_sub(a) as f64 * 1024.0) / n as f64;
        let rss = per(get("rss0"), get("rss1"));
        let pss = per(get("pss0"), get("pss1"));
        println!(
            "{path:>5}: {n} idle keep-alive connections: {rss:7.0} B/conn Rss, {pss:7.0} B/conn \
             Pss; second request answered on {}/{n}; opened in {} ms",
            get("second_ok"),
            get("open_ms"),
        );
        assert_eq!(get("second_ok") as usize, n, "{path}: {line}");
        if path == "lean" {
            lean_pss = Some(pss);
        }
    }
    let lean = lean_pss.unwrap_or(0.0);
    assert!(
        lean <= 2048.0,
        "lean path costs {lean:.0} B per idle connection"
    );
}

/// `wrk -t1 -c50` against the engine (keep-alive and `Connection: close`, inline handler
/// and worker-thread handler), MPM_WRK_ROUNDS rounds (default 3) of MPM_WRK_SECS seconds
/// (default 5) per configuration; prints the median requests/s, its p99 and the connection
/// thread's CPU per request. Skipped without `wrk`.
#[test]
#[ignore]
fn throughput_report() {
    let have_wrk = std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok();
    if !have_wrk {
        println!("wrk not installed (apt-get install -y wrk): skipped");
        return;
    }
    raise_nofile();
    let secs = std::env::var("MPM_WRK_SECS").unwrap_or_else(|_| "5".into());
    let rounds: usize = std::env::var("MPM_WRK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // Requests/s, p99, and the connection thread's CPU microseconds per request.
    let wrk = |(addr, stat): &(SocketAddr, String), close: bool| -> (f64, String, f64) {
        let cpu0 = cpu_ticks(stat);
        let mut cmd = std::process::Command::new("wrk");
        cmd.args(["-t1", "-c50", &format!("-d{secs}s"), "--latency"]);
        if close {
            cmd.args(["-H", "Connection: close"]);
        }
        let out = cmd.arg(format!("http://{addr}/")).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let rps = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        let p99 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("99%"))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into());
        if text.contains("Socket errors") || text.contains("Non-2xx") {
            println!("wrk reported errors:\n{text}");
        }
        let requests: f64 = text
            .lines()
            .find(|l| l.contains(" requests in "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let cpu_us = (cpu_ticks(stat) - cpu0) as f64 * 10_000.0 / requests.max(1.0);
        (rps, p99, cpu_us)
    };
    for calls in [Calls::Inline, Calls::Pool] {
        let lean = start_bench_server(PathKind::Lean, calls);
        for close in [false, true] {
            let mut r: Vec<(f64, String, f64)> = (0..rounds).map(|_| wrk(&lean, close)).collect();
            r.sort_by(|a, b| a.0.total_cmp(&b.0));
            let all: Vec<String> = r.iter().map(|(x, _, _)| format!("{x:.0}")).collect();
            let (rps, p99, _) = &r[r.len() / 2];
            let mut cpu: Vec<f64> = r.iter().map(|x| x.2).collect();
            cpu.sort_by(f64::total_cmp);
            let cpu = cpu[cpu.len() / 2];
            println!(
                "{:>6} {:>10} lean: median {rps:>9.0} req/s (p99 {p99}), \
                 {cpu:.1} µs CPU/request on the connection thread; runs {}",
                format!("{calls:?}"),
                if close { "close" } else { "keep-alive" },
                all.join(" "),
            );
        }
    }
}

// ---- The exchange's promises off its main paths -----------------------------------------

/// A server like [`start_blocking`]'s (one connection at a time on its own thread, as
/// prefork's child serves) calling `call` for each request; for each connection, its
/// summary and the moment `serve_lean` returned (after the lingering close) are sent on
/// `ended`.
struct Reporting {
    addr: SocketAddr,
    closing: Closing,
    ended: std::sync::mpsc::Receiver<(mpm_core::http::ConnSummary, Instant)>,
}

fn start_reporting<F, Fut>(mode: BodyMode, opts: HttpOptions, call: F) -> Reporting
where
    F: Fn(Request<RequestBody>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Reply>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let closing = Closing::new();
    let (tx, ended) = std::sync::mpsc::channel();
    let c2 = closing.clone();
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let peer = s.peer_addr().unwrap();
            s.set_nonblocking(true).unwrap();
            let summary = rt.block_on(async {
                let s = tokio::net::TcpStream::from_std(s).unwrap();
                serve_lean(s, peer, &opts, mode, &call, &(), &c2).await
            });
            let _ = tx.send((summary, Instant::now()));
        }
    });
    Reporting {
        addr,
        closing,
        ended,
    }
}

impl Reporting {
    /// The next connection's summary and end (bounded).
    fn ended(&self) -> (mpm_core::http::ConnSummary, Instant) {
        self.ended
            .recv_timeout(READ_LIMIT)
            .expect("the connection never ended")
    }
}

/// `service_app` as a reporting server's call.
fn service_call() -> impl Fn(Request<RequestBody>) -> mpm_core::http::ReplyFuture + Send {
    let Handler::Service(h) = Handler::service(service_app) else {
        unreachable!()
    };
    move |req| Box::pin(reply_service(h.as_ref(), req))
}

/// `stream_app` (the blocking writer) as a reporting server's call, run inline as
/// `serve_lean_blocking` runs it.
fn stream_call(
    h: Arc<dyn mpm_core::http::StreamHandler>,
) -> impl Fn(Request<RequestBody>) -> std::future::Ready<Reply> + Send {
    move |req| std::future::ready(reply_stream(h.as_ref(), req))
}

/// The summary a connection reports (the scoreboard's request and byte counts): every
/// request answered counts once, a refused one too (whether its head parsed or not), and
/// the response body bytes of whole, streamed, written and refusal responses add up.
#[test]
fn the_connection_summary_counts_requests_and_response_body_bytes() {
    let o = HttpOptions {
        body_limit: Some(10),
        ..opts()
    };
    let srv = start_reporting(BodyMode::Streamed, o.clone(), service_call());
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.get("/x").body, b"hello /x");
    let r = c.get("/chunks");
    assert_eq!(
        (r.header("transfer-encoding"), &r.body[..]),
        (Some("chunked"), &b"abcdef"[..])
    );
    // Refused after its head was parsed (and counted): 413.
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, &r.body[..]), (413, &b"Payload Too Large\n"[..]));
    c.expect_eof();
    drop(c);
    let (summary, _) = srv.ended();
    assert_eq!((summary.requests, summary.bytes), (3, 8 + 6 + 18));

    // Refused before its head could be parsed: still one request answered.
    let mut c = Client::connect(srv.addr);
    c.send("GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, &r.body[..]), (400, &b"Bad Request\n"[..]));
    c.expect_eof();
    drop(c);
    let (summary, _) = srv.ended();
    assert_eq!((summary.requests, summary.bytes), (1, 12));

    // The blocking writer's bytes.
    let srv = start_reporting(BodyMode::Writer, o, stream_call(Arc::new(stream_app)));
    let mut c = Client::connect(srv.addr);
    assert_eq!(c.get("/chunks").body, b"abcdef");
    assert_eq!(c.get("/x").body, b"hello /x");
    drop(c);
    let (summary, _) = srv.ended();
    assert_eq!((summary.requests, summary.bytes), (2, 6 + 8));
}

/// A graceful stop that fires while a blocking streaming handler runs: the head its
/// writer sends afterwards says `Connection: close` (the connection will not be kept),
/// and the connection ends after it.
#[test]
fn a_writer_head_sent_after_a_graceful_stop_says_connection_close() {
    let (entered_tx, entered) = crossbeam_channel::bounded::<()>(1);
    let (go, go_rx) = crossbeam_channel::bounded::<()>(1);
    let handler = move |_req: Request<BodyReader>, res: ResponseWriter| {
        entered_tx.send(()).unwrap();
        // Bounded: the test sends `go` right after the stop.
        go_rx.recv_timeout(READ_LIMIT).unwrap();
        let _ = res.send(Response::new(Bytes::from_static(b"late")));
    };
    let srv = start_reporting(BodyMode::Writer, opts(), stream_call(Arc::new(handler)));
    let mut c = Client::connect(srv.addr);
    c.send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    entered.recv_timeout(READ_LIMIT).unwrap();
    srv.closing.close();
    go.send(()).unwrap();
    let r = c.response();
    assert_eq!(r.body, b"late");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

/// A handler that takes an upgrade request's connection as it is ([`HandOff`], what the
/// tower adapter does for axum's WebSocket upgrade) gets the whole request replayed in
/// front of it, head included, with what the client sent after it.
#[test]
fn a_handed_off_upgrade_gets_the_whole_request_replayed() {
    use mpm_core::http::{HandOff, OnUpgrade};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const REQUEST: &str =
        "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nfirst frame";
    let call = |req: Request<RequestBody>| {
        let reply = if req.extensions().get::<OnUpgrade>().is_some() {
            Reply::HandOff(HandOff::new(|mut io| {
                Box::pin(async move {
                    // Echo what the connection yields, request included, then close.
                    let mut got = vec![0u8; REQUEST.len()];
                    if io.read_exact(&mut got).await.is_ok() {
                        let _ = io.write_all(&got).await;
                    }
                    let _ = io.shutdown().await;
                })
            }))
        } else {
            Reply::Full(Response::new(Bytes::from_static(b"no upgrade")))
        };
        std::future::ready(reply)
    };
    let srv = start_reporting(BodyMode::Streamed, opts(), call);
    let mut c = Client::connect(srv.addr);
    c.send(REQUEST);
    let mut echoed = Vec::new();
    c.s.read_to_end(&mut echoed)
        .expect("read (bounded by READ_LIMIT)");
    assert_eq!(String::from_utf8_lossy(&echoed), REQUEST);
}

/// RFC 9110 §15.2.2: after a `101 Switching Protocols` the connection is the handler's,
/// starting with the bytes the client sent right behind its request head.
#[test]
fn a_101_answer_hands_the_connection_and_what_followed_the_head_to_the_handler() {
    use mpm_core::http::OnUpgrade;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let call = |mut req: Request<RequestBody>| {
        let on_upgrade = req.extensions_mut().remove::<OnUpgrade>();
        let reply = match on_upgrade {
            Some(on_upgrade) => {
                tokio::spawn(async move {
                    if let Ok(mut io) = on_upgrade.await {
                        let mut got = [0u8; 5];
                        if io.read_exact(&mut got).await.is_ok() {
                            let _ = io.write_all(&got.to_ascii_uppercase()).await;
                        }
                        let _ = io.shutdown().await;
                    }
                });
                let mut r = Response::new(Bytes::new());
                *r.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
                let h = r.headers_mut();
                h.insert("connection", http::HeaderValue::from_static("upgrade"));
                h.insert("upgrade", http::HeaderValue::from_static("x"));
                Reply::Full(r)
            }
            None => Reply::Full(Response::new(Bytes::from_static(b"no upgrade"))),
        };
        std::future::ready(reply)
    };
    let srv = start_reporting(BodyMode::Streamed, opts(), call);
    let mut c = Client::connect(srv.addr);
    c.send("GET /up HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nhello");
    let r = c.head_response();
    assert_eq!(r.status, 101);
    assert_eq!(r.header("upgrade"), Some("x"), "{r:?}");
    assert_eq!(c.take(5), b"HELLO");
    c.expect_eof();
}

/// A streamed response may be the request body itself, echoed as it arrives (full
/// duplex): the engine must not read the rest of the body away before the response's
/// body has streamed it.
#[test]
fn a_streamed_response_can_echo_the_request_body_as_it_arrives() {
    let call = |req: Request<RequestBody>| {
        std::future::ready(Reply::Stream(Response::new(mpm_core::http::boxed(
            req.into_body(),
        ))))
    };
    let srv = start_reporting(BodyMode::Streamed, opts(), call);
    let mut c = Client::connect(srv.addr);
    // More than a response settles whole (64 KiB), so it streams.
    let body: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    c.send(&format!(
        "POST /pipe HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut w = c.s.try_clone().unwrap();
    let sent = body.clone();
    let writer = std::thread::spawn(move || w.write_all(&sent));
    let r = c.response();
    writer.join().unwrap().unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.body == body,
        "{} of {} bytes echoed",
        r.body.len(),
        body.len()
    );
    assert!(!r.closes(), "{r:?}");
    assert_eq!(c.get("/next").status, 200);
}

/// Options whose idle wait (`KeepAliveTimeout`) is short and whose head deadline is a
/// little longer: a kept-alive connection left idle must end quietly at the first, never
/// get a 408 at the second.
fn short_idle() -> HttpOptions {
    HttpOptions {
        keep_alive_timeout: Duration::from_millis(300),
        limits: RequestLimits {
            header_timeout: Duration::from_secs(2),
            ..RequestLimits::default()
        },
        ..opts()
    }
}

/// A body the handler did not read, answered with a streamed response: the rest is read
/// and dropped after the response, and the connection goes on with the next request; left
/// idle then, it ends at `KeepAliveTimeout` with a FIN and no 408 (nothing of a next
/// request was kept).
#[test]
fn an_unread_body_is_drained_after_a_streamed_answer_and_the_connection_goes_on() {
    for event in [false, true] {
        let addr = start_kind(Handler::service(service_app), event, short_idle());
        let mut c = Client::connect(addr);
        for (i, body) in ["0123456789", "abc"].iter().enumerate() {
            c.send(&format!(
                "POST /chunks HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
            let r = c.response();
            assert_eq!(r.body, b"abcdef", "event {event}, request {i}");
            assert!(!r.closes(), "event {event}, request {i}: {r:?}");
            if i == 0 {
                assert_eq!(c.get("/a").body, b"hello /a", "event {event}");
            }
        }
        let t = Instant::now();
        c.expect_eof();
        assert!(t.elapsed() < Duration::from_millis(1500), "event {event}");
    }
}

/// RFC 9110 §10.1.1: a client that asked for `100 Continue` and got a final answer
/// instead may send its body or not; the bytes that follow cannot be trusted to be a
/// request, so the connection ends (even if the body does come, then a request).
#[test]
fn a_client_still_waiting_for_100_continue_is_not_trusted_after_a_streamed_answer() {
    let addr = start_kind(Handler::service(service_app), true, opts());
    let mut c = Client::connect(addr);
    c.send("POST /chunks HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, &r.body[..]), (200, &b"abcdef"[..]));
    c.send("helloGET /next HTTP/1.1\r\nHost: t\r\n\r\n");
    c.expect_eof();
}

/// RFC 9112 §7.1: a chunked body the handler did not read turns out malformed after a
/// streamed answer went out: the connection cannot find the next request, so it ends
/// (what follows is not answered).
#[test]
fn a_malformed_unread_body_ends_the_connection_after_a_streamed_answer() {
    let addr = start_kind(Handler::service(service_app), true, opts());
    let mut c = Client::connect(addr);
    c.send(concat!(
        "POST /chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3\r\nabcXX\r\n0\r\n\r\n",
        "GET /next HTTP/1.1\r\nHost: t\r\n\r\n",
    ));
    let r = c.response();
    assert_eq!((r.status, &r.body[..]), (200, &b"abcdef"[..]));
    c.expect_eof();
}

/// An upgrade request the handler answers normally is an ordinary request: a request
/// pipelined behind it is served next, and when none follows the connection waits as
/// any kept-alive one (`KeepAliveTimeout`, then a quiet close, no 408).
#[test]
fn an_upgrade_request_answered_normally_goes_on_like_any_request() {
    const UPGRADE: &str =
        "GET /can-upgrade HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n";
    let addr = start_kind(Handler::service(service_app), true, short_idle());
    let mut c = Client::connect(addr);
    c.send(&format!("{UPGRADE}GET /next HTTP/1.1\r\nHost: t\r\n\r\n"));
    assert_eq!(c.response().body, b"yes");
    assert_eq!(c.response().body, b"hello /next");
    c.send(UPGRADE);
    assert_eq!(c.response().body, b"yes");
    let t = Instant::now();
    c.expect_eof();
    assert!(t.elapsed() < Duration::from_millis(1500));
}

/// After a 408 the lingering close is the shorter one (`LINGER_AFTER_TIMEOUT`): the
/// client is slow or silent, waiting the full `LINGER` for it only holds the connection.
#[test]
fn after_a_408_the_lingering_close_is_the_shorter_one() {
    use mpm_core::http::{LINGER, LINGER_AFTER_TIMEOUT};
    let o = HttpOptions {
        limits: RequestLimits {
            header_timeout: Duration::from_millis(300),
            ..RequestLimits::default()
        },
        ..opts()
    };
    let srv = start_reporting(BodyMode::Streamed, o, service_call());
    let mut c = Client::connect(srv.addr);
    c.send("GET /slow HTTP/1.1\r\nHost:");
    let r = c.response();
    assert_eq!(r.status, 408);
    let answered = Instant::now();
    // The client stays connected and silent: only the linger bound ends the connection.
    let (_, ended) = srv.ended();
    let lingered = ended.saturating_duration_since(answered);
    assert!(
        lingered < LINGER_AFTER_TIMEOUT + (LINGER - LINGER_AFTER_TIMEOUT) / 2,
        "{lingered:?}"
    );
    drop(c);
}

/// A handler's `Connection: close` makes its response the connection's last: a request
/// pipelined behind it is not answered, and the connection ends at once (not at
/// `KeepAliveTimeout`).
#[test]
fn a_handler_asking_to_close_ends_the_connection_before_a_pipelined_request() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    c.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.response();
    assert_eq!(r.body, b"bye");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

/// A graceful stop that fires while the handler runs: its response (whatever the handler
/// kind) says `Connection: close` and is the connection's last.
#[test]
fn a_graceful_stop_during_the_handler_makes_its_answer_the_last() {
    let (entered_tx, entered) = crossbeam_channel::bounded::<()>(1);
    let (go, go_rx) = crossbeam_channel::bounded::<()>(1);
    let call = move |_req: Request<RequestBody>| {
        entered_tx.send(()).unwrap();
        // Bounded: the test sends `go` right after the stop.
        go_rx.recv_timeout(READ_LIMIT).unwrap();
        std::future::ready(Reply::Full(Response::new(Bytes::from_static(b"late"))))
    };
    let srv = start_reporting(BodyMode::Buffered, opts(), call);
    let mut c = Client::connect(srv.addr);
    c.send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    entered.recv_timeout(READ_LIMIT).unwrap();
    srv.closing.close();
    go.send(()).unwrap();
    let r = c.response();
    assert_eq!(r.body, b"late");
    assert!(r.closes(), "{r:?}");
    c.expect_eof();
}

/// A whole response to a request whose unread body is too long to drain (over 256 KiB)
/// is the connection's last, and says so (RFC 9112 §9.6: `close` on the last response).
#[test]
fn an_answer_that_leaves_a_body_too_long_to_drain_says_connection_close() {
    each_server(streaming_kinds(), opts(), |what, addr| {
        let mut c = Client::connect(addr);
        let big = 1 << 20;
        c.send(&format!(
            "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {big}\r\n\r\n"
        ));
        let mut w = c.s.try_clone().unwrap();
        // Ends when the server closes, or at its write timeout.
        let writer = std::thread::spawn(move || {
            let _ = w.write_all(&vec![b'x'; big]);
        });
        let r = c.response();
        assert_eq!(r.body, b"ignored", "{what}");
        assert!(r.closes(), "{what}: {r:?}");
        c.expect_eof();
        drop(c);
        writer.join().unwrap();
    });
}
