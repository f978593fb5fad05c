//! Capacity of the threaded strategies (worker, event) seen from outside: growth under
//! load, Apache's "server reached MaxRequestWorkers" / "within MinSpareThreads" /
//! "scoreboard is full" messages, a gracefully finishing (`G`) child keeping its slot
//! until it leaves and the slot then reused; out-of-descriptors back-off for prefork and
//! worker; SIGTTIN/SIGTTOU under worker and event.

mod common;

use common::client::{self, Conn, Response};
use common::threads::sleeping_workers;
use common::{procs, wait_until, Server};
use std::io;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const REACHED: &str =
    "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting";
const WITHIN: &str = "server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting";
const FULL: &str = "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.";

/// Worker threads of all the server's children inside the `/sleep` handler (None when
/// the kernel does not show it).
fn sleeping(server: &Server) -> Option<usize> {
    server
        .children()
        .into_iter()
        .map(sleeping_workers)
        .sum::<Option<usize>>()
}

/// Send `path` with `Connection: close` on a new connection now; read the answer on a
/// new thread (with when it came).
fn send(server: &Server, path: &str) -> JoinHandle<(io::Result<Response>, Instant)> {
    let mut c = Conn::open(server.addr).expect("connect");
    c.send(path, true).expect("send");
    std::thread::spawn(move || {
        let r = c.recv();
        (r, Instant::now())
    })
}

/// Whether the server answered nothing yet on `c` (peek without blocking).
fn unanswered(c: &Conn) -> bool {
    c.stream().set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let r = c.stream().peek(&mut b);
    c.stream().set_nonblocking(false).unwrap();
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// ServerLimit 3 × ThreadsPerChild 2 = MaxRequestWorkers 6, starting with one child.
const THREE_BY_TWO: &str = "StartServers 1\nServerLimit 3\nThreadLimit 2\nThreadsPerChild 2\n\
MaxRequestWorkers 6\nMinSpareThreads 1\nMaxSpareThreads 8\nKeepAliveTimeout 30\n";

/// Six clients, each holding a worker thread, arrive one after another: the server grows
/// from one child to three (each new client waits in the backlog until a child with an
/// idle thread exists), then logs "server reached MaxRequestWorkers" once for the episode
/// and forks no fourth child; a seventh client waits until a thread frees up.
///
/// Worker holds a thread per keep-alive connection; event holds one only while a handler
/// runs, so its clients send `/sleep`.
fn grows_then_reaches_max_request_workers(mpm: &'static str) {
    let server = Server::start(mpm, THREE_BY_TWO);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 1));
    let mut held = Vec::new();
    let mut sleepers = Vec::new();
    for i in 0..6 {
        if mpm == "worker" {
            let mut c = Conn::open(server.addr).unwrap();
            let r = c
                .get("/")
                .unwrap_or_else(|e| panic!("client {i}: {e}\n{}", server.log()));
            assert_eq!(r.status, 200);
            held.push(c);
        } else {
            sleepers.push(send(&server, "/sleep?ms=7000"));
            assert!(
                wait_until(Duration::from_secs(10), || sleeping(&server)
                    .is_none_or(|n| n == i + 1)),
                "client {i} did not reach a worker; children {:?}\n{}",
                server.children(),
                server.log()
            );
        }
    }
    assert_eq!(server.children().len(), 3, "children for 6 busy threads");
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(REACHED)),
        "{}",
        server.log()
    );
    let mut seventh = Conn::open(server.addr).unwrap();
    seventh.send("/pid", true).unwrap();
    // Two more maintenance ticks at the cap: once per episode, no fourth child, and the
    // seventh client waits.
    std::thread::sleep(Duration::from_millis(2200)); // observation window
    let log = server.log();
    assert_eq!(log.matches(REACHED).count(), 1, "{log}");
    assert!(!log.contains(FULL), "{log}");
    assert_eq!(server.children().len(), 3);
    assert!(unanswered(&seventh), "a seventh client was served");
    // A thread frees up: the seventh is served.
    held.truncate(5);
    let r = seventh
        .recv()
        .unwrap_or_else(|e| panic!("the seventh client: {e}\n{}", server.log()));
    assert_eq!(r.status, 200);
    for s in sleepers {
        let (r, _) = s.join().unwrap();
        assert_eq!(r.expect("a sleeper's answer").status, 200);
    }
}

#[test]
fn worker_grows_then_reaches_max_request_workers() {
    grows_then_reaches_max_request_workers("worker");
}

#[test]
fn event_grows_then_reaches_max_request_workers() {
    grows_then_reaches_max_request_workers("event");
}

/// At MaxRequestWorkers with idle threads fewer than MinSpareThreads (but some), Apache's
/// other message: "server is within MinSpareThreads of MaxRequestWorkers".
#[test]
fn worker_within_min_spare_threads_of_max_request_workers() {
    let server = Server::start(
        "worker",
        "StartServers 1\nServerLimit 2\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 4\n\
         MinSpareThreads 2\nMaxSpareThreads 8\nKeepAliveTimeout 30\n",
    );
    let mut held = Vec::new();
    for i in 0..3 {
        let mut c = Conn::open(server.addr).unwrap();
        let r = c
            .get("/")
            .unwrap_or_else(|e| panic!("client {i}: {e}\n{}", server.log()));
        assert_eq!(r.status, 200);
        held.push(c);
    }
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(WITHIN)),
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(!log.contains(REACHED), "{log}");
    assert_eq!(server.children().len(), 2);
}

/// A child that finishes gracefully (`G`) keeps its scoreboard slot until it has left:
/// with ServerLimit = MaxRequestWorkers / ThreadsPerChild, the new generation cannot get
/// its full complement and the master says "scoreboard is full" every tick; once the old
/// child's last request ends and it exits, its slot is reused by a new-generation child
/// and the message stops.
fn g_child_keeps_its_slot_then_it_is_reused(mpm: &'static str) {
    let server = Server::start(
        mpm,
        "StartServers 2\nServerLimit 2\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 4\n\
         MinSpareThreads 3\nMaxSpareThreads 8\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let slow = send(&server, "/sleep?ms=4500");
    let mut old = None;
    assert!(wait_until(Duration::from_secs(10), || {
        old = server
            .children()
            .into_iter()
            .find(|&p| sleeping_workers(p) == Some(1));
        old.is_some()
    }));
    let old = old.unwrap();
    let json = |server: &Server| -> serde_json::Value {
        let body = client::get(server.addr, "/server-status?json")
            .map(|r| r.body_text())
            .unwrap_or_default();
        serde_json::from_str(&body).unwrap_or_default()
    };
    let slot_of = |v: &serde_json::Value, pid: i32| {
        v["processes"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["pid"] == pid))
            .and_then(|p| p["slot"].as_u64())
    };
    let old_slot = slot_of(&json(&server), old).expect("the busy child's slot");
    server.signal(libc::SIGUSR1);
    // The old child stays, stopping (`G`, its idle thread finishing); the new generation gets
    // the other slot only, and the master says the scoreboard is full, every tick.
    let mut v = serde_json::Value::Null;
    assert!(
        wait_until(Duration::from_secs(10), || {
            v = json(&server);
            let procs = v["processes"].as_array().cloned().unwrap_or_default();
            // The old child's letters: its busy thread, and its other one finishing
            // (`G`) or already gone (`.`), never idle.
            let board: Vec<char> = v["scoreboard"].as_str().unwrap_or("").chars().collect();
            let letters = board.get(old_slot as usize * 2..old_slot as usize * 2 + 2);
            procs.len() == 2
                && procs
                    .iter()
                    .any(|p| p["pid"] == old && p["stopping"] == true)
                && letters
                    .is_some_and(|l| l.contains(&'W') && (l.contains(&'G') || l.contains(&'.')))
                && procs
                    .iter()
                    .any(|p| p["generation"] == 1 && p["pid"] != old)
        }),
        "{v}\n{}",
        server.log()
    );
    assert!(
        wait_until(Duration::from_secs(5), || server
            .log()
            .matches(FULL)
            .count()
            >= 2),
        "{}",
        server.log()
    );
    assert!(procs::alive(old));
    // The slow request ends; the old child leaves; its slot goes to the new generation.
    let (r, _) = slow.join().unwrap();
    assert_eq!(r.expect("the slow request").status, 200);
    assert!(wait_until(Duration::from_secs(5), || !procs::alive(old)));
    assert!(
        wait_until(Duration::from_secs(5), || {
            v = json(&server);
            let procs = v["processes"].as_array().cloned().unwrap_or_default();
            procs.len() == 2
                && procs.iter().all(|p| p["generation"] == 1)
                && procs.iter().any(|p| p["slot"].as_u64() == Some(old_slot))
        }),
        "slot {old_slot} not reused: {v}\n{}",
        server.log()
    );
    let full = server.log().matches(FULL).count();
    std::thread::sleep(Duration::from_millis(1500)); // observation window
    assert_eq!(
        server.log().matches(FULL).count(),
        full,
        "still full after the slot was reused:\n{}",
        server.log()
    );
}

#[test]
fn worker_g_child_keeps_its_slot_then_it_is_reused() {
    g_child_keeps_its_slot_then_it_is_reused("worker");
}

#[test]
fn event_g_child_keeps_its_slot_then_it_is_reused() {
    g_child_keeps_its_slot_then_it_is_reused("event");
}
