//! HTTP/2 through the example server (`Protocols h2 h2c http/1.1`): h2c prior knowledge
//! and ALPN `h2` over TLS with the `h2` crate's client, streams multiplexed under event, a
//! connection per worker thread under worker, no HTTP/2 under prefork (with the warning),
//! GOAWAY on a graceful restart with the open stream finished; and hostile clients written
//! frame by frame (RFC 9113 §4.1): rapid reset, CONTINUATION flood, HPACK bomb, SETTINGS
//! and PING floods — each bounded.

mod common;

use bytes::Bytes;
use common::{wait_until, Server};
use http::{Request, StatusCode};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROTOCOLS: &str = "Protocols h2 h2c http/1.1\n";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Read a whole response body, giving the window back as it arrives.
async fn read_body(mut body: h2::RecvStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("body chunk");
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out
}

/// An h2c connection (prior knowledge) and the task driving it.
async fn h2c(
    addr: SocketAddr,
) -> (
    h2::client::SendRequest<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.expect("h2c handshake");
    (client, tokio::spawn(conn))
}

async fn get(client: &mut h2::client::SendRequest<Bytes>, path: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::get(format!("http://localhost{path}"))
        .body(())
        .unwrap();
    let mut c = client.clone().ready().await.expect("ready");
    let (resp, _) = c.send_request(req, true).expect("send_request");
    let resp = resp.await.expect("response");
    let status = resp.status();
    (status, read_body(resp.into_body()).await)
}

async fn post(
    client: &mut h2::client::SendRequest<Bytes>,
    path: &str,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    let req = Request::post(format!("http://localhost{path}"))
        .body(())
        .unwrap();
    let mut c = client.clone().ready().await.expect("ready");
    let (resp, mut send) = c.send_request(req, false).expect("send_request");
    // Sent beside the reading of the response: an echo needs both at once (each side's
    // window opens only as the other side reads).
    let sender = tokio::spawn(async move {
        let mut rest = body;
        while !rest.is_empty() {
            send.reserve_capacity(rest.len());
            let Some(Ok(cap)) = std::future::poll_fn(|cx| send.poll_capacity(cx)).await else {
                return;
            };
            let chunk = rest.split_to(cap.min(rest.len()));
            if send.send_data(chunk, rest.is_empty()).is_err() {
                return;
            }
        }
    });
    let resp = resp.await.expect("response");
    let status = resp.status();
    let body = read_body(resp.into_body()).await;
    let _ = sender.await;
    (status, body)
}

/// h2c: a GET, a 200 KB body echoed (flow control both ways), and `streams` requests at
/// once on one connection.
fn h2c_serves(mpm: &'static str, handler: &str, streams: usize) {
    let srv = Server::start_with(mpm, PROTOCOLS, &["--handler", handler]);
    rt().block_on(async {
        let (mut client, conn) = h2c(srv.addr).await;
        let (status, body) = get(&mut client, "/").await;
        assert_eq!(status, 200);
        assert_eq!(body, b"Hello, world!\n");
        let big: Bytes = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let (status, echoed) = post(&mut client, "/echo", big.clone()).await;
        assert_eq!(status, 200);
        assert!(
            echoed == big,
            "{mpm}/{handler}: echo differs ({} bytes)",
            echoed.len()
        );
        let mut all = Vec::new();
        for _ in 0..streams {
            let mut c = client.clone();
            all.push(tokio::spawn(async move { get(&mut c, "/").await }));
        }
        for t in all {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 200);
            assert_eq!(body, b"Hello, world!\n");
        }
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
    });
    // HTTP/1.1 still works on the same listener.
    let r = common::client::get(srv.addr, "/").unwrap();
    assert_eq!(r.body_text(), "Hello, world!\n");
}

#[test]
fn h2c_under_event_async() {
    h2c_serves("event", "async", 50);
}

#[test]
fn h2c_under_event_blocking() {
    h2c_serves("event", "blocking", 50);
}

#[test]
fn h2c_under_event_tower() {
    h2c_serves("event", "tower", 20);
}

#[test]
fn h2c_under_worker() {
    h2c_serves("worker", "blocking", 10);
}

/// Under event, streams of one connection run their blocking handlers on several worker
/// threads at once: four `/sleep?ms=600` streams take about 0.6 s, not 2.4 s.
#[test]
fn streams_are_multiplexed_under_event() {
    let srv = Server::start_with("event", PROTOCOLS, &["--handler", "blocking"]);
    rt().block_on(async {
        let (client, _conn) = h2c(srv.addr).await;
        let started = Instant::now();
        let mut all = Vec::new();
        for _ in 0..4 {
            let mut c = client.clone();
            all.push(tokio::spawn(
                async move { get(&mut c, "/sleep?ms=600").await },
            ));
        }
        for t in all {
            assert_eq!(t.await.unwrap().0, 200);
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1800),
            "four streams took {took:?}"
        );
    });
}

/// Under prefork, HTTP/2 is not offered (as mod_http2), with a warning at startup: the
/// preface is answered as HTTP/1.1 would answer it.
#[test]
fn prefork_offers_no_http2() {
    let srv = Server::start("prefork", PROTOCOLS);
    assert!(
        wait_until(Duration::from_secs(5), || srv
            .log()
            .contains("HTTP/2 (Protocols h2/h2c) will not be offered")),
        "no warning; log:\n{}",
        srv.log()
    );
    let mut t = TcpStream::connect(srv.addr).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    t.write_all(PREFACE).unwrap();
    let mut out = Vec::new();
    let _ = t.read_to_end(&mut out);
    assert!(
        out.starts_with(b"HTTP/1.1 505"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
}

/// ALPN `h2` over TLS (and `http/1.1` for a client that offers only that).
#[test]
fn alpn_h2_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (certs.path().join("c.pem"), certs.path().join("c.key"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let conf = format!(
        "Listen 127.0.0.1:0 https\nSSLCertificateFile {}\nSSLCertificateKeyFile {}\n{PROTOCOLS}",
        cert.display(),
        key.display()
    );
    let srv = Server::start_with("event", &conf, &["--handler", "async"]);
    let addr = srv.addrs()[1];
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let config = |alpn: &[&[u8]]| {
        let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        c.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        Arc::new(c)
    };
    rt().block_on(async {
        let connector = tokio_rustls::TlsConnector::from(config(&[b"h2", b"http/1.1"]));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name.clone(), tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut client, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
        tokio::spawn(conn);
        let (status, body) = get(&mut client, "/").await;
        assert_eq!(status, 200);
        assert_eq!(body, b"Hello, world!\n");
        let big: Bytes = (0..300_000u32).map(|i| b'A' + (i % 26) as u8).collect();
        let (status, echoed) = post(&mut client, "/echo", big.clone()).await;
        assert_eq!(status, 200);
        assert!(echoed == big, "echo over TLS differs");

        let connector = tokio_rustls::TlsConnector::from(config(&[b"http/1.1"]));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    });
}

/// A graceful restart sends GOAWAY (RFC 9113 §6.8, NO_ERROR): the stream in flight
/// finishes with its whole response, then the connection ends.
#[test]
fn graceful_restart_sends_goaway_and_finishes_streams() {
    // A long KeepAliveTimeout: the connection must end because of the GOAWAY, not idle.
    let conf = format!("{PROTOCOLS}KeepAliveTimeout 30\n");
    let srv = Server::start_with("event", &conf, &["--handler", "blocking"]);
    let mut t = raw(srv.addr);
    let mut block = vec![0x82, 0x86, 0x04, 14];
    block.extend_from_slice(b"/sleep?ms=2000");
    block.extend_from_slice(&[0x01, 9]);
    block.extend_from_slice(b"localhost");
    t.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, 1, &block))
        .unwrap();
    // The restart begins once the slow stream's handler runs on a worker thread: the
    // scoreboard then counts it busy beside the status request itself.
    assert!(
        wait_until(Duration::from_secs(10), || srv
            .status()
            .get("BusyWorkers")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
            >= 2),
        "the slow stream never started"
    );
    srv.signal(libc::SIGUSR1);
    let seen = read_frames(&mut t, Duration::from_secs(15), |s| s.closed);
    assert_eq!(seen.goaway, Some(0), "no GOAWAY NO_ERROR: {seen:?}");
    assert_eq!(
        seen.headers,
        vec![1],
        "the open stream was not answered: {seen:?}"
    );
    assert_eq!(seen.status, vec![0x88], "not a 200: {seen:?}");
    assert!(seen.closed, "the connection did not end: {seen:?}");
}

/// What the clients of [`graceful_restarts_under_load_fail_no_stream`] saw.
#[derive(Default)]
struct LoadTally {
    ok: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
    reconnects: std::sync::atomic::AtomicU64,
    errors: std::sync::Mutex<Vec<String>>,
}

/// One h2c client: `streams` requests at a time on one connection, a new connection when
/// the server has said GOAWAY (a request the client never got to send is not a failure:
/// the server told it to go elsewhere). Every request that was sent must come back 200.
async fn h2_load_client(
    addr: SocketAddr,
    streams: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
    t: Arc<LoadTally>,
) {
    use std::sync::atomic::Ordering::SeqCst;
    while !stop.load(SeqCst) {
        let Ok(tcp) = tokio::net::TcpStream::connect(addr).await else {
            t.errors.lock().unwrap().push("connect refused".into());
            t.failed.fetch_add(1, SeqCst);
            return;
        };
        let Ok((client, conn)) = h2::client::handshake(tcp).await else {
            t.errors.lock().unwrap().push("handshake failed".into());
            t.failed.fetch_add(1, SeqCst);
            return;
        };
        let conn = tokio::spawn(conn);
        let mut inflight = tokio::task::JoinSet::new();
        let mut going_away = false;
        while !stop.load(SeqCst) && !going_away {
            while inflight.len() < streams {
                let ready = client.clone().ready().await;
                let mut c = match ready {
                    Ok(c) => c,
                    Err(_) => {
                        going_away = true;
                        break;
                    }
                };
                let req = Request::get("http://localhost/sleep?ms=20")
                    .body(())
                    .unwrap();
                match c.send_request(req, true) {
                    Ok((resp, _)) => {
                        inflight.spawn(async move {
                            let resp = resp.await?;
                            let status = resp.status();
                            let body = read_body(resp.into_body()).await;
                            Ok::<_, h2::Error>((status, body))
                        });
                    }
                    Err(_) => {
                        going_away = true;
                        break;
                    }
                }
            }
            let Some(done) = inflight.join_next().await else {
                break;
            };
            match done.expect("request task") {
                Ok((status, body)) if status == 200 && body.starts_with(b"slept") => {
                    t.ok.fetch_add(1, SeqCst);
                }
                Ok((status, _)) => {
                    t.errors.lock().unwrap().push(format!("status {status}"));
                    t.failed.fetch_add(1, SeqCst);
                }
                Err(e) => {
                    t.errors.lock().unwrap().push(format!("stream: {e}"));
                    t.failed.fetch_add(1, SeqCst);
                }
            }
        }
        // The requests already sent on this connection must all be answered.
        while let Some(done) = inflight.join_next().await {
            match done.expect("request task") {
                Ok((status, _)) if status == 200 => {
                    t.ok.fetch_add(1, SeqCst);
                }
                Ok((status, _)) => {
                    t.errors.lock().unwrap().push(format!("status {status}"));
                    t.failed.fetch_add(1, SeqCst);
                }
                Err(e) => {
                    t.errors
                        .lock()
                        .unwrap()
                        .push(format!("stream after GOAWAY: {e}"));
                    t.failed.fetch_add(1, SeqCst);
                }
            }
        }
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
        if going_away {
            t.reconnects.fetch_add(1, SeqCst);
        }
    }
}

/// Graceful restarts under HTTP/2 load (RFC 9113 §6.8): each old connection gets GOAWAY,
/// every stream it accepted is answered, the clients move to new connections, and no
/// stream fails.
#[test]
fn graceful_restarts_under_load_fail_no_stream() {
    use std::sync::atomic::Ordering::SeqCst;
    let conf = format!(
        "{PROTOCOLS}KeepAliveTimeout 30\nStartServers 2\nMinSpareThreads 1\nMaxSpareThreads 200\n"
    );
    let srv = Server::start_with("event", &conf, &["--handler", "async"]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tally = Arc::new(LoadTally::default());
    let runtime = std::thread::spawn({
        let (stop, tally, addr) = (stop.clone(), tally.clone(), srv.addr);
        move || {
            rt().block_on(async move {
                let clients: Vec<_> = (0..8)
                    .map(|_| tokio::spawn(h2_load_client(addr, 4, stop.clone(), tally.clone())))
                    .collect();
                for c in clients {
                    c.await.expect("client");
                }
            })
        }
    });
    assert!(
        wait_until(Duration::from_secs(10), || tally.ok.load(SeqCst) >= 100),
        "the load never got going: {:?}",
        tally.errors.lock().unwrap()
    );
    for round in 1..=3u64 {
        srv.signal(libc::SIGUSR1);
        // Each restart has moved at least one client to a new connection, and the load
        // goes on there.
        let ok_before = tally.ok.load(SeqCst);
        assert!(
            wait_until(Duration::from_secs(15), || tally.reconnects.load(SeqCst)
                >= round
                && tally.ok.load(SeqCst) >= ok_before + 100),
            "restart {round}: reconnects {}, ok {}, errors {:?}",
            tally.reconnects.load(SeqCst),
            tally.ok.load(SeqCst),
            tally.errors.lock().unwrap()
        );
    }
    stop.store(true, SeqCst);
    runtime.join().expect("load thread");
    let errors = tally.errors.lock().unwrap();
    assert_eq!(tally.failed.load(SeqCst), 0, "failed streams: {errors:?}");
    assert!(tally.ok.load(SeqCst) >= 400);
}

// ---- hostile clients, frame by frame ----

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// An HPACK header block for `GET /` (RFC 7541: static-table indices; `:authority` as a
/// literal without indexing).
fn get_block() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 9];
    b.extend_from_slice(b"localhost");
    b
}

/// A raw h2c connection past the preface and an empty SETTINGS frame.
fn raw(addr: SocketAddr) -> TcpStream {
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    t.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    t.write_all(&hello).unwrap();
    t
}

/// What the server sent, frame by frame, until it closed or `limit` passed.
#[derive(Debug, Default)]
struct Seen {
    goaway: Option<u32>,
    headers: Vec<u32>,
    status: Vec<u8>,
    resets: usize,
    closed: bool,
}

fn read_frames(t: &mut TcpStream, limit: Duration, stop: impl Fn(&Seen) -> bool) -> Seen {
    let deadline = Instant::now() + limit;
    let mut seen = Seen::default();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        while buf.len() >= 9 {
            let len =
                (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
            if buf.len() < 9 + len {
                break;
            }
            let (ty, stream) = (
                buf[3],
                u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff,
            );
            let payload = &buf[9..9 + len];
            match ty {
                GOAWAY if len >= 8 => {
                    seen.goaway = Some(u32::from_be_bytes([
                        payload[4], payload[5], payload[6], payload[7],
                    ]))
                }
                HEADERS => {
                    seen.headers.push(stream);
                    // The first byte of a response block: 0x88 is `:status 200`, 0x8d
                    // … 0x8e other static statuses; a literal otherwise.
                    seen.status.push(payload.first().copied().unwrap_or(0));
                }
                RST_STREAM => seen.resets += 1,
                _ => {}
            }
            buf.drain(..9 + len);
        }
        if stop(&seen) || Instant::now() >= deadline {
            return seen;
        }
        t.set_read_timeout(Some(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        ))
        .unwrap();
        match t.read(&mut chunk) {
            Ok(0) | Err(_) => {
                seen.closed = true;
                return seen;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn hostile_server() -> Server {
    Server::start_with("event", PROTOCOLS, &["--handler", "async"])
}

/// The server still answers a fresh HTTP/1.1 request.
fn still_serves(srv: &Server) {
    let r = common::client::get(srv.addr, "/").unwrap();
    assert_eq!(r.body_text(), "Hello, world!\n");
}

/// Rapid reset (CVE-2023-44487): streams opened and reset at once end the connection
/// with GOAWAY ENHANCE_YOUR_CALM long before 5,000 of them were handled.
#[test]
fn rapid_reset_is_cut() {
    let srv = hostile_server();
    let mut t = raw(srv.addr);
    let mut burst = Vec::new();
    for i in 0..5000u32 {
        let id = 1 + 2 * i;
        burst.extend(frame(HEADERS, END_HEADERS | END_STREAM, id, &get_block()));
        burst.extend(frame(RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let _ = t.write_all(&burst);
    let seen = read_frames(&mut t, Duration::from_secs(10), |s| s.goaway.is_some());
    assert_eq!(
        seen.goaway,
        Some(ENHANCE_YOUR_CALM),
        "rapid reset not cut: {seen:?}"
    );
    assert!(seen.headers.len() < 500, "{} responses", seen.headers.len());
    still_serves(&srv);
}

/// CONTINUATION flood: a header block that never ends is cut (GOAWAY), not buffered.
#[test]
fn continuation_flood_is_cut() {
    let srv = hostile_server();
    let mut t = raw(srv.addr);
    let mut flood = frame(HEADERS, 0, 1, &get_block());
    // 1 MiB of header-block bytes in 16 KiB CONTINUATION frames, never END_HEADERS.
    let piece = vec![b'a'; 16 * 1024];
    for _ in 0..64 {
        flood.extend(frame(CONTINUATION, 0, 1, &piece));
    }
    let _ = t.write_all(&flood);
    let seen = read_frames(&mut t, Duration::from_secs(10), |s| s.goaway.is_some());
    assert!(
        seen.goaway.is_some() || seen.closed,
        "CONTINUATION flood not cut: {seen:?}"
    );
    assert!(seen.headers.is_empty(), "a response came: {seen:?}");
    still_serves(&srv);
}

/// HPACK bomb: one 4 KiB value put in the dynamic table, then referenced 1,000 times in
/// one small header block (4 MB decoded): refused (431 or a reset), never decoded whole.
#[test]
fn hpack_bomb_is_refused() {
    let srv = hostile_server();
    let mut t = raw(srv.addr);
    // Stream 1: GET / plus `x-b: <4000 × b>` with incremental indexing (RFC 7541 §6.2.1):
    // it becomes dynamic-table entry 62.
    let mut block = get_block();
    block.push(0x40);
    block.push(3);
    block.extend_from_slice(b"x-b");
    // Value length 4000 as an HPACK integer with a 7-bit prefix: 127, then 3873.
    block.push(0x7f);
    let mut rest = 4000 - 127;
    while rest >= 128 {
        block.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    block.push(rest as u8);
    block.extend(std::iter::repeat_n(b'b', 4000));
    let mut out = frame(HEADERS, END_HEADERS | END_STREAM, 1, &block);
    // Stream 3: GET / plus entry 62 indexed 1,000 times (0xbe = indexed 62).
    let mut bomb = get_block();
    bomb.extend(std::iter::repeat_n(0xbe, 1000));
    out.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &bomb));
    let _ = t.write_all(&out);
    let seen = read_frames(&mut t, Duration::from_secs(10), |s| {
        s.headers.contains(&3) || s.resets > 0 || s.goaway.is_some()
    });
    let stream3_ok = seen
        .headers
        .iter()
        .zip(&seen.status)
        .any(|(&id, &st)| id == 3 && st == 0x88);
    assert!(!stream3_ok, "the HPACK bomb was served 200: {seen:?}");
    assert!(
        seen.headers.contains(&3) || seen.resets > 0 || seen.goaway.is_some() || seen.closed,
        "no answer to the HPACK bomb: {seen:?}"
    );
    still_serves(&srv);
}

/// Resident memory of the server's children, KiB.
fn children_rss(srv: &Server) -> u64 {
    srv.children()
        .iter()
        .filter_map(|p| {
            let s = std::fs::read_to_string(format!("/proc/{p}/status")).ok()?;
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// SETTINGS and PING floods from a client that never reads: the server's memory stays
/// bounded (its answers wait in the socket, then it stops reading), and other clients
/// are served meanwhile.
fn flood(ty: u8, payload: &[u8]) {
    let srv = hostile_server();
    let before = children_rss(&srv);
    let mut t = raw(srv.addr);
    let one = frame(ty, 0, 0, payload);
    let chunk: Vec<u8> = one.iter().copied().cycle().take(one.len() * 4096).collect();
    let started = Instant::now();
    let mut sent = 0usize;
    while started.elapsed() < Duration::from_secs(3) {
        match t.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    still_serves(&srv);
    let after = children_rss(&srv);
    assert!(
        after < before + 32 * 1024,
        "memory grew from {before} KiB to {after} KiB after {sent} bytes of flood"
    );
}

#[test]
fn settings_flood_is_bounded() {
    flood(SETTINGS, &[0, 3, 0, 0, 0, 100]);
}

#[test]
fn ping_flood_is_bounded() {
    flood(PING, &[1, 2, 3, 4, 5, 6, 7, 8]);
}

/// A stream whose client never opens its window (zero-window stall): the response waits,
/// bounded by the send buffer; the connection's other streams and other clients go on.
#[test]
fn zero_window_stall_is_bounded() {
    let srv = hostile_server();
    let mut t = raw(srv.addr);
    // SETTINGS_INITIAL_WINDOW_SIZE = 0: no DATA may be sent to us.
    let mut out = frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 0]);
    let mut block = vec![0x82, 0x86, 0x04, 14];
    block.extend_from_slice(b"/bytes/5000000");
    block.extend_from_slice(&[0x01, 9]);
    block.extend_from_slice(b"localhost");
    out.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &block));
    t.write_all(&out).unwrap();
    let seen = read_frames(&mut t, Duration::from_secs(3), |s| !s.headers.is_empty());
    assert_eq!(seen.headers, vec![1], "{seen:?}");
    let before = children_rss(&srv);
    still_serves(&srv);
    // No DATA frame can have come: the 5 MB body waits behind a zero window, and what
    // the server buffers for it stays small.
    let mut buf = [0u8; 9];
    t.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    if let Ok(9) = t.read(&mut buf) {
        assert_ne!(buf[3], DATA, "DATA sent into a zero window");
    }
    assert!(children_rss(&srv) < before + 8 * 1024);
}

/// The scoreboard's Protocol column says `HTTP/2` for the worker holding an HTTP/2
/// connection (worker: a connection per thread), `HTTP/1.1` for the status request.
#[test]
fn scoreboard_shows_http2() {
    let srv = Server::start_with("worker", PROTOCOLS, &["--handler", "blocking"]);
    rt().block_on(async {
        let (mut client, _conn) = h2c(srv.addr).await;
        assert_eq!(get(&mut client, "/").await.0, 200);
        let json = common::client::get(srv.addr, "/server-status?json")
            .unwrap()
            .body_text();
        assert!(
            json.contains(r#""protocol":"HTTP/2""#),
            "no HTTP/2 worker in {json}"
        );
        assert!(json.contains(r#""protocol":"HTTP/1.1""#), "{json}");
    });
}

/// `H2MaxSessionStreams` and `H2WindowSize` are what the server's SETTINGS announce
/// (SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE; RFC 9113 §6.5.2), with
/// a bounded header list (SETTINGS_MAX_HEADER_LIST_SIZE).
#[test]
fn settings_follow_the_directives() {
    let conf = format!("{PROTOCOLS}H2MaxSessionStreams 7\nH2WindowSize 32768\n");
    let srv = Server::start_with("event", &conf, &["--handler", "async"]);
    let mut t = raw(srv.addr);
    let mut head = [0u8; 9];
    t.read_exact(&mut head).unwrap();
    assert_eq!(head[3], SETTINGS, "first frame is not SETTINGS: {head:?}");
    let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    t.read_exact(&mut payload).unwrap();
    let settings: std::collections::HashMap<u16, u32> = payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect();
    assert_eq!(settings.get(&3), Some(&7), "{settings:?}");
    assert_eq!(settings.get(&4), Some(&32768), "{settings:?}");
    assert!(
        settings.get(&6).is_some_and(|&n| n <= 64 * 1024),
        "{settings:?}"
    );
}
