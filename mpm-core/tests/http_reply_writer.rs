//! `HttpOptions::reply_writer`: the thread that runs a blocking handler writes its whole
//! response itself through the request's `ReplyWriter`, as event's workers do, and the
//! connection goes on exactly as when its own task writes.
//!
//! The server is `serve_lean` on a current-thread runtime on 127.0.0.1:0; its call runs
//! every handler on a thread of its own, as event's pool does, and counts the writers it
//! was offered, so a test fails if the engine stops offering one.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use mpm_core::http::{
    current_thread_runtime, serve_lean, BodyMode, Closing, ConnObserver, HttpOptions, Reply,
    ReplyWriter, RequestBody,
};
use mpm_core::scoreboard::WorkerStatus;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// The large response: far more than loopback's socket buffers hold.
const LARGE: usize = 32 << 20;

/// What the server saw.
#[derive(Default)]
struct Seen {
    /// Writers the handler threads found in their requests.
    offered: AtomicUsize,
    /// `response_writing` calls: the connection's task finishing a write.
    completions: AtomicUsize,
    /// Handler threads whose `send` returned.
    sent: Mutex<Option<mpsc::Sender<()>>>,
}

struct Observer(Arc<Seen>);

impl ConnObserver for Observer {
    fn status(&self, _: WorkerStatus) {}
    fn request_line(&self, _: &str) {}
    fn request_done(&self, _: u64) {}
    fn response_writing(&self) {
        self.0.completions.fetch_add(1, Ordering::SeqCst);
    }
}

/// The handler: `/large` answers [`LARGE`] bytes of a repeating pattern, `/unsent` takes the
/// writer and drops it unused, anything else echoes its method, path and body length.
fn handle(req: &Request<Bytes>) -> Response<Bytes> {
    if req.uri().path() == "/large" {
        let body: Vec<u8> = (0..LARGE).map(|i| (i % 251) as u8).collect();
        return Response::new(Bytes::from(body));
    }
    let text = format!("{} {} {}", req.method(), req.uri().path(), req.body().len());
    Response::new(Bytes::from(text))
}

/// The whole body, which the engine read before the call (`BodyMode::Buffered`).
fn whole_body(body: RequestBody) -> Bytes {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(body.collect()).unwrap().to_bytes()
}

/// Run one request on a thread of its own and write its response there when offered.
async fn call(seen: Arc<Seen>, mut req: Request<RequestBody>) -> Reply {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let writer = ReplyWriter::take(&mut req);
        if writer.is_some() {
            seen.offered.fetch_add(1, Ordering::SeqCst);
        }
        let (parts, body) = req.into_parts();
        let body = whole_body(body);
        let req = Request::from_parts(parts, body);
        if req.uri().path() == "/unsent" {
            drop(writer);
            let _ = tx.send(Reply::Written);
            return;
        }
        let resp = handle(&req);
        let reply = match writer {
            Some(w) => w.send(resp),
            None => Reply::Full(resp),
        };
        if let Some(s) = seen.sent.lock().unwrap().as_ref() {
            let _ = s.send(());
        }
        let _ = tx.send(reply);
    });
    rx.await.unwrap_or(Reply::Written)
}

fn start(reply_writer: bool) -> (SocketAddr, Arc<Seen>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let opts = HttpOptions {
            reply_writer,
            ..HttpOptions::default()
        };
        let closing = Closing::new();
        let observer = Observer(seen2.clone());
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let peer = s.peer_addr().unwrap();
            s.set_nonblocking(true).unwrap();
            let _entered = rt.enter();
            let stream = tokio::net::TcpStream::from_std(s).unwrap();
            let c = |req| call(seen2.clone(), req);
            rt.block_on(serve_lean(
                stream,
                peer,
                &opts,
                BodyMode::Buffered,
                c,
                &observer,
                &closing,
            ));
        }
    });
    (addr, seen)
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.set_write_timeout(Some(LIMIT)).unwrap();
    BufReader::new(s)
}

/// One response: status, lower-cased head lines, body (by Content-Length).
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Vec<String>, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("a status line");
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line:?}"));
    let mut head = Vec::new();
    let mut len = 0;
    loop {
        let mut l = String::new();
        r.read_line(&mut l).expect("a head line");
        let l = l.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length: ") {
            len = v.parse().unwrap();
        }
        head.push(l);
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("the body");
    (status, head, body)
}

fn send(r: &mut BufReader<TcpStream>, req: &str) {
    r.get_mut().write_all(req.as_bytes()).unwrap();
}

fn assert_eof(r: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).expect("a clean EOF");
    assert!(rest.is_empty(), "bytes after the last response: {rest:?}");
}

#[test]
fn whole_responses_written_by_the_handler_thread_keep_the_connection_in_step() {
    let (addr, seen) = start(true);
    let mut c = connect(addr);
    send(&mut c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, head, body) = read_response(&mut c);
    assert_eq!(status, 200);
    assert!(
        !head.iter().any(|h| h.starts_with("connection:")),
        "{head:?}"
    );
    assert_eq!(body, b"GET /a 0");
    // A body read whole by the engine, then two requests pipelined in one write, then HEAD.
    send(
        &mut c,
        "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
         GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    for expected in ["POST /b 5", "GET /c 0", "GET /d 0"] {
        let (status, _, body) = read_response(&mut c);
        assert_eq!((status, body.as_slice()), (200, expected.as_bytes()));
    }
    send(&mut c, "HEAD /e HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
    let mut head = String::new();
    while line != "\r\n" {
        line.clear();
        c.read_line(&mut line).unwrap();
        head.push_str(&line);
    }
    assert!(
        head.to_ascii_lowercase().contains("content-length: 9\r\n"),
        "{head:?}"
    );
    // No body after HEAD's head: the next response follows at once.
    send(
        &mut c,
        "GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let (status, head, body) = read_response(&mut c);
    assert_eq!((status, body.as_slice()), (200, &b"GET /f 0"[..]));
    assert!(head.iter().any(|h| h == "connection: close"), "{head:?}");
    assert_eof(&mut c);
    assert_eq!(seen.offered.load(Ordering::SeqCst), 6);
    assert_eq!(seen.completions.load(Ordering::SeqCst), 0);
}

#[test]
fn an_http10_client_gets_keep_alive_from_the_writer() {
    let (addr, seen) = start(true);
    let mut c = connect(addr);
    send(&mut c, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let (status, head, _) = read_response(&mut c);
    assert_eq!(status, 200);
    assert!(
        head.iter().any(|h| h == "connection: keep-alive"),
        "{head:?}"
    );
    send(&mut c, "GET /b HTTP/1.0\r\n\r\n");
    let (_, head, body) = read_response(&mut c);
    assert_eq!(body, b"GET /b 0");
    assert!(head.iter().any(|h| h == "connection: close"), "{head:?}");
    assert_eof(&mut c);
    assert_eq!(seen.offered.load(Ordering::SeqCst), 2);
}

#[test]
fn a_response_the_socket_cannot_take_at_once_is_finished_without_the_handler_thread() {
    let (addr, seen) = start(true);
    let (sent_tx, sent_rx) = mpsc::channel();
    *seen.sent.lock().unwrap() = Some(sent_tx);
    let mut c = connect(addr);
    send(&mut c, "GET /large HTTP/1.1\r\nHost: x\r\n\r\n");
    // The handler thread is done while the client has read nothing of 32 MiB: the writer
    // did not wait for the client.
    sent_rx
        .recv_timeout(LIMIT)
        .expect("the handler thread's send returned before the client read");
    let (status, _, body) = read_response(&mut c);
    assert_eq!(status, 200);
    assert_eq!(body.len(), LARGE);
    assert!(body.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    assert_eq!(seen.completions.load(Ordering::SeqCst), 1);
    // The connection goes on after the completed write.
    send(&mut c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, _, body) = read_response(&mut c);
    assert_eq!((status, body.as_slice()), (200, &b"GET /next 0"[..]));
}

#[test]
fn a_handler_that_claims_a_response_it_never_wrote_gets_a_500_and_the_connection_closes() {
    let (addr, seen) = start(true);
    let mut c = connect(addr);
    send(
        &mut c,
        "GET /unsent HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let (status, head, _) = read_response(&mut c);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR.as_u16());
    assert!(head.iter().any(|h| h == "connection: close"), "{head:?}");
    assert_eof(&mut c);
    assert_eq!(seen.offered.load(Ordering::SeqCst), 1);
}

#[test]
fn without_the_option_no_writer_is_offered_and_the_task_writes() {
    let (addr, seen) = start(false);
    let mut c = connect(addr);
    send(&mut c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, _, body) = read_response(&mut c);
    assert_eq!((status, body.as_slice()), (200, &b"GET /a 0"[..]));
    assert_eq!(seen.offered.load(Ordering::SeqCst), 0);
}
