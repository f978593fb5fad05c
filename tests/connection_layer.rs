//! Promises about connections, with the real binary: under event, async handlers run
//! inline are counted in the scoreboard like blocking ones and cancelled alone at
//! HandlerTimeout; write completion shows as ConnsAsyncWriting; a graceful stop closes
//! idle keep-alive connections when GracefulShutdownTimeout expires (every strategy).

mod common;

use common::client::Conn;
use common::{wait_until, Server};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One child of four worker slots that spare maintenance leaves alone.
const ONE_CHILD: &str = "StartServers 1\nServerLimit 2\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 8\nMaxRequestWorkers 8\n";

fn num(status: &std::collections::HashMap<String, String>, key: &str) -> u64 {
    status
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in ?auto: {status:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number: {status:?}"))
}

/// Wait until `?auto` shows every `key: value` of `want` at once; fail with what it last
/// showed.
fn await_status(server: &Server, want: &[(&str, &str)]) {
    let mut seen = None;
    let ok = wait_until(Duration::from_secs(10), || {
        let s = server.status();
        let ok = want
            .iter()
            .all(|(k, v)| s.get(*k).map(String::as_str) == Some(*v));
        seen = Some(s);
        ok
    });
    assert!(ok, "wanted {want:?}, saw {seen:?}\n{}", server.log());
}

#[test]
fn inline_async_requests_are_counted_and_shown_busy() {
    let server = Server::start_with("event", ONE_CHILD, &["--handler", "async"]);
    // The child's four slots are ready workers (spare maintenance counts them).
    // The status request itself is one busy worker.
    await_status(&server, &[("IdleWorkers", "3"), ("BusyWorkers", "1")]);
    let before = num(&server.status(), "Total Accesses");
    let mut c = Conn::open(server.addr).unwrap();
    for _ in 0..50 {
        assert_eq!(c.get("/").unwrap().status, 200);
    }
    let after = num(&server.status(), "Total Accesses");
    // The 50 requests, and the status request that reports them (counted when it ends).
    assert!(after > before + 50, "Total Accesses {before} → {after}");

    // A request in flight holds a slot: busy, with its request line.
    let mut sleeper = Conn::open(server.addr).unwrap();
    sleeper.send("/sleep?ms=3000", false).unwrap();
    await_status(&server, &[("BusyWorkers", "2"), ("IdleWorkers", "2")]);
    let html = common::client::get(server.addr, "/server-status")
        .unwrap()
        .body_text();
    assert!(html.contains("GET /sleep?ms=3000 HTTP/1.1"), "{html}");
    assert_eq!(sleeper.recv().unwrap().status, 200);
    await_status(&server, &[("BusyWorkers", "1")]);
}

#[test]
fn inline_handler_timeout_cancels_only_that_request() {
    let conf = format!("{ONE_CHILD}HandlerTimeout 1\n");
    let server = Server::start_with("event", &conf, &["--handler", "async"]);
    let mut neighbour = Conn::open(server.addr).unwrap();
    let pid: i32 = neighbour
        .get("/pid")
        .unwrap()
        .body_text()
        .trim()
        .parse()
        .unwrap();

    let mut hung = Conn::open(server.addr).unwrap();
    hung.send("/sleep?ms=20000", false).unwrap();
    let started = Instant::now();
    let r = hung.recv().expect("the overrunning request is answered");
    assert_eq!(r.status, 503, "{}", server.log());
    assert!(r.closes(), "a cancelled request closes its connection");
    // Cancelled at HandlerTimeout, long before the handler would have finished.
    assert!(started.elapsed() < Duration::from_secs(15));
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("handler timeout:"))
        .unwrap_or_else(|| panic!("no handler timeout logged:\n{log}"));
    assert!(line.contains("cancelled"), "{line}");
    assert!(line.contains("GET /sleep?ms=20000 HTTP/1.1"), "{line}");

    // The child was not recycled: the neighbour's kept-alive connection still answers,
    // from the same process, and the slot is free again.
    let again: i32 = neighbour
        .get("/pid")
        .unwrap()
        .body_text()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(again, pid);
    assert!(
        !server.log().contains("recycling the child"),
        "{}",
        server.log()
    );
    await_status(&server, &[("BusyWorkers", "1")]);
}

/// A client that asks for a large response and does not read it: the handler is done,
/// the connection layer holds the rest of the response.
fn slow_reader(server: &Server) -> TcpStream {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /bytes/16000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    s
}

fn counts_async_writing(handler: &str) {
    let server = Server::start_with("event", ONE_CHILD, &["--handler", handler]);
    let _reader = slow_reader(&server);
    // The worker that produced the response is free again: only the status request is
    // busy.
    await_status(&server, &[("ConnsAsyncWriting", "1"), ("BusyWorkers", "1")]);
}

#[test]
fn write_completion_counts_as_async_writing_blocking_handler() {
    counts_async_writing("blocking");
}

#[test]
fn write_completion_counts_as_async_writing_async_handler() {
    counts_async_writing("async");
}

/// Room for six connections at once (five idle, one busy) under each strategy.
fn six_connections(mpm: &str) -> &'static str {
    match mpm {
        "prefork" => "StartServers 8\nMinSpareServers 8\nMaxSpareServers 16\nServerLimit 16\nMaxRequestWorkers 16\n",
        _ => "StartServers 1\nServerLimit 2\nThreadLimit 8\nThreadsPerChild 8\nMinSpareThreads 1\nMaxSpareThreads 16\nMaxRequestWorkers 16\n",
    }
}

fn graceful_stop_closes_idle_keepalive(mpm: &'static str) {
    let conf = format!(
        "{}KeepAliveTimeout 60\nGracefulShutdownTimeout 2\n",
        six_connections(mpm)
    );
    let mut server = Server::start(mpm, &conf);
    let mut idle: Vec<Conn> = (0..5)
        .map(|_| {
            let mut c = Conn::open(server.addr).unwrap();
            assert_eq!(c.get("/").unwrap().status, 200);
            c
        })
        .collect();
    // A request in flight when the stop begins, running past the deadline.
    let mut busy = Conn::open(server.addr).unwrap();
    busy.send("/sleep?ms=3000", false).unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        // The status request and the sleeping one are both being served.
        let s = server.status();
        s.get("Scoreboard")
            .is_some_and(|b| b.matches('W').count() == 2)
    }));
    let stop = Instant::now();
    server.signal(libc::SIGWINCH);

    // The request in flight is answered, and told the connection ends.
    let r = busy.recv().expect("the request in flight is answered");
    assert_eq!(r.status, 200);
    assert!(r.closes());
    drop(busy);
    // Each idle connection ends cleanly (end of file, no reset) at the deadline, long
    // before its keep-alive timeout.
    for mut c in idle.drain(..) {
        assert!(c.closed_cleanly().expect("a clean close, not a reset"));
    }
    let closed_after = stop.elapsed();
    assert!(
        closed_after < Duration::from_secs(20),
        "idle connections lingered {closed_after:?}"
    );
    // The children left by themselves: the master did not have to stop them.
    assert!(
        server.wait_exit(Duration::from_secs(20)),
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(!log.contains("GracefulShutdownTimeout of"), "{log}");
    assert!(!log.contains("still did not exit"), "{log}");
}

#[test]
fn graceful_stop_closes_idle_keepalive_at_graceful_shutdown_timeout_event() {
    graceful_stop_closes_idle_keepalive("event");
}

#[test]
fn graceful_stop_closes_idle_keepalive_at_graceful_shutdown_timeout_worker() {
    graceful_stop_closes_idle_keepalive("worker");
}

#[test]
fn graceful_stop_closes_idle_keepalive_at_graceful_shutdown_timeout_prefork() {
    graceful_stop_closes_idle_keepalive("prefork");
}
