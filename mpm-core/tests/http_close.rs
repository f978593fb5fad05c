//! How the engine ends a connection after its last response (RFC 9112 §9.6): a plain close
//! when the client asked to close and sent nothing more, a lingering close (shut down
//! writing, read and drop until the client's FIN) whenever unread client bytes could turn
//! the close into a reset that destroys the response.
//!
//! The two are told apart from the client: after the response and its EOF, the client
//! writes a byte. A socket the server has closed answers it with a reset; a socket still
//! lingering reads and drops it. The server is `serve_lean_blocking`, as prefork's child
//! and worker's threads run it, in-process on 127.0.0.1:0.

use bytes::Bytes;
use http::{Request, Response};
use mpm_core::http::{current_thread_runtime, serve_lean_blocking, Closing, Handler, HttpOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const READ_LIMIT: Duration = Duration::from_secs(10);

/// A server whose `/held` requests wait until the test sends on the returned channel, and
/// which says (on the second channel) when the handler has started.
fn start(opts: HttpOptions) -> (SocketAddr, mpsc::Sender<()>, mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (release, released) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let started_tx = Mutex::new(started_tx);
    let handler = Handler::http(move |req: Request<Bytes>| {
        if req.uri().path() == "/held" {
            let _ = started_tx.lock().unwrap().send(());
            let _ = released.lock().unwrap().recv_timeout(READ_LIMIT);
        }
        Response::new(Bytes::from_static(b"done"))
    });
    let opts = Arc::new(opts);
    std::thread::spawn(move || {
        let rt = current_thread_runtime().unwrap();
        let closing = Closing::new();
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            let peer = s.peer_addr().unwrap();
            serve_lean_blocking(&rt, s, peer, &opts, &handler, &(), &closing);
        }
    });
    (addr, release, started)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, READ_LIMIT).unwrap();
    s.set_read_timeout(Some(READ_LIMIT)).unwrap();
    s.set_write_timeout(Some(READ_LIMIT)).unwrap();
    s
}

/// Read until EOF, which must come (not a reset, not the timeout); the bytes read.
fn read_to_eof(s: &mut TcpStream) -> String {
    let mut all = Vec::new();
    s.read_to_end(&mut all)
        .expect("the response and a clean EOF");
    String::from_utf8_lossy(&all).into_owned()
}

/// After the server's EOF, write a byte twice: whether the server's socket answered with
/// a reset (it was closed) rather than taking the bytes (it is lingering). On loopback the
/// reset comes back while the first write runs; the second write or the read sees it.
fn reset_after_eof(s: &mut TcpStream) -> bool {
    for _ in 0..2 {
        if let Err(e) = s.write_all(b"x") {
            return matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
        }
        let mut b = [0u8; 8];
        match s.read(&mut b) {
            Ok(0) => {}
            Ok(n) => panic!("bytes after EOF: {:?}", &b[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(e) => panic!("unexpected read error {e}"),
        }
    }
    false
}

#[test]
fn a_client_that_asked_to_close_and_sent_nothing_more_is_closed_at_once() {
    let (addr, _release, _started) = start(HttpOptions::default());
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_to_eof(&mut s);
    assert!(answer.ends_with("\r\n\r\ndone"), "{answer}");
    assert!(
        reset_after_eof(&mut s),
        "the server still holds the connection: it lingered for a client that asked to close"
    );
}

#[test]
fn an_http10_client_without_keep_alive_is_closed_at_once() {
    let (addr, _release, _started) = start(HttpOptions::default());
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let answer = read_to_eof(&mut s);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(reset_after_eof(&mut s), "the server lingered");
}

#[test]
fn a_close_the_server_decided_lingers() {
    // MaxKeepAliveRequests 1: the client did not ask to close and may already be sending
    // its next request, which must not turn into a reset.
    let (addr, _release, _started) = start(HttpOptions {
        max_keep_alive_requests: 1,
        ..HttpOptions::default()
    });
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let answer = read_to_eof(&mut s);
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(
        !reset_after_eof(&mut s),
        "the server closed at once where it had to linger"
    );
}

#[test]
fn bytes_sent_after_a_close_request_make_the_server_linger() {
    // A client that breaks its word (RFC 9112 §9.6: no request after `close`) while its
    // request is being handled: the bytes wait unread in the socket, and a plain close
    // would answer them with a reset.
    let (addr, release, started) = start(HttpOptions::default());
    let mut s = connect(addr);
    s.write_all(b"GET /held HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    started
        .recv_timeout(READ_LIMIT)
        .expect("the handler started");
    s.write_all(b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    release.send(()).unwrap();
    let answer = read_to_eof(&mut s);
    assert!(answer.ends_with("\r\n\r\ndone"), "{answer}");
    assert!(
        !reset_after_eof(&mut s),
        "the server closed with unread bytes instead of lingering"
    );
}
