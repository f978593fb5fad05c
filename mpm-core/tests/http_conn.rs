//! The HTTP/1.1 connection glue, driven by raw TCP clients.
//!
//! Servers run in-process on 127.0.0.1:0, on their own thread and tokio runtime; clients are
//! blocking `std` sockets with a read timeout on every read.

use bytes::Bytes;
use http::{Request, Response};
use mpm_core::http::{
    call_handler, current_thread_runtime, serve_http1, serve_http1_blocking, Closing, ConnObserver,
    Handler, HttpHandler, HttpOptions,
};
use mpm_core::scoreboard::WorkerStatus;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
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
        p => Response::new(Bytes::from(format!("hello {p}"))),
    }
}

struct Server {
    addr: SocketAddr,
    closing: Closing,
    rec: Arc<Recorder>,
}

/// An async server: accept loop on a multi-thread runtime, one spawned task per connection
/// (the way the event strategy uses `serve_http1`), the handler on the blocking pool.
fn start(opts: HttpOptions) -> Server {
    let closing = Closing::new();
    let rec = Arc::new(Recorder::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (c2, r2) = (closing.clone(), rec.clone());
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
                tokio::spawn(async move {
                    let call = |req: Request<Bytes>| {
                        let h = h.clone();
                        async move {
                            tokio::task::spawn_blocking(move || call_handler(&*h, req))
                                .await
                                .unwrap()
                        }
                    };
                    serve_http1(s, peer, &opts, call, &*rec, &closing).await
                });
            }
        });
    });
    Server { addr, closing, rec }
}

/// A blocking server as prefork/worker run it: accept, then `serve_http1_blocking`.
fn start_blocking(opts: HttpOptions) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let h: Arc<dyn HttpHandler> = Arc::new(app);
        let closing = Closing::new();
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let peer = s.peer_addr().unwrap();
            serve_http1_blocking(&rt, s, peer, &opts, &*h, &(), &closing);
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

    fn response(&mut self) -> Resp {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(self.fill() > 0, "EOF before a response head");
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_string(), v.trim().to_string())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        while self.buf.len() < head_end + len {
            assert!(self.fill() > 0, "EOF inside a response body");
        }
        let body = self.buf[head_end..head_end + len].to_vec();
        self.buf.drain(..head_end + len);
        Resp {
            status,
            headers,
            body,
        }
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

#[test]
fn get_is_answered() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    let r = c.get("/x");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello /x");
    assert!(r.header("date").is_some(), "{r:?}");
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
    // Same connection still usable, and a new connection is served.
    assert_eq!(c.get("/after").status, 200);
    let mut c2 = Client::connect(srv.addr);
    assert_eq!(c2.get("/new").body, b"hello /new");
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
fn closing_while_idle_answers_the_next_request_then_closes() {
    let srv = start(opts());
    let mut c = Client::connect(srv.addr);
    assert!(!c.get("/before").closes());
    // The connection is now idle in keep-alive; a graceful restart begins.
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
    // The server is fine afterwards.
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
fn partial_head_is_answered_408_after_timeout() {
    let srv = start(HttpOptions {
        timeout: Duration::from_secs(1),
        ..opts()
    });
    let mut c = Client::connect(srv.addr);
    c.send("GET /slow HTTP/1.1\r\nHost:");
    let t = Instant::now();
    // A head was started: 408, then a clean end; never a hang.
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
