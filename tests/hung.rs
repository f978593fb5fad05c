//! HandlerTimeout (ours, as gunicorn's timeout) and MaxConnectionsPerChildJitter.

mod common;

use common::client::{self, Conn};
use common::{procs, wait_until, Server};
use std::collections::HashMap;
use std::time::Duration;

fn conf(mpm: &str) -> &'static str {
    if mpm == "prefork" {
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nHandlerTimeout 1\n"
    } else {
        "StartServers 1\nServerLimit 4\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 16\nMaxRequestWorkers 16\nHandlerTimeout 1\n"
    }
}

fn hung_handler_recycles_child(mpm: &'static str) {
    let server = Server::start(mpm, conf(mpm));
    let mut hung = Conn::open(server.addr).unwrap();
    let victim: i32 = hung
        .get("/pid")
        .unwrap()
        .body_text()
        .trim()
        .parse()
        .unwrap();
    // A neighbour on the same threaded child, shorter than the grace period.
    let neighbour = if mpm == "prefork" {
        None
    } else {
        let mut c = Conn::open(server.addr).unwrap();
        let pid: i32 = c.get("/pid").unwrap().body_text().trim().parse().unwrap();
        (pid == victim).then_some(c)
    };
    hung.send("/sleep?ms=20000", false).unwrap();
    let neighbour = neighbour.map(|mut c| {
        c.send("/sleep?ms=1500", false).unwrap();
        c
    });
    assert!(
        wait_until(Duration::from_secs(10), || server
            .log()
            .contains("handler timeout: slot")),
        "{}",
        server.log()
    );
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("handler timeout: slot"))
        .unwrap();
    assert!(line.contains(&format!("pid {victim}")), "{line}");
    assert!(line.contains("client 127.0.0.1"), "{line}");
    assert!(line.contains("GET /sleep?ms=20000 HTTP/1.1"), "{line}");
    if let Some(mut c) = neighbour {
        let r = c.recv().expect("the neighbour's request finishes");
        assert_eq!(r.status, 200);
    }
    assert!(
        wait_until(Duration::from_secs(10), || !procs::alive(victim)),
        "child {victim} survived"
    );
    assert!(hung.recv().is_err(), "the hung request cannot be answered");
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

#[test]
fn prefork_hung_handler() {
    hung_handler_recycles_child("prefork");
}

#[test]
fn worker_hung_handler() {
    hung_handler_recycles_child("worker");
}

#[test]
fn event_hung_handler() {
    hung_handler_recycles_child("event");
}

#[test]
fn max_connections_jitter_spreads_recycling() {
    let server = Server::start(
        "prefork",
        "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\nMaxConnectionsPerChild 2\nMaxConnectionsPerChildJitter 50\n",
    );
    let mut per_pid: HashMap<i32, u32> = HashMap::new();
    let mut order = Vec::new();
    for i in 0..400 {
        let r = client::get(server.addr, "/pid")
            .unwrap_or_else(|e| panic!("request {i}: {e}\n{}", server.log()));
        let pid: i32 = r.body_text().trim().parse().unwrap();
        if !per_pid.contains_key(&pid) {
            order.push(pid);
        }
        *per_pid.entry(pid).or_default() += 1;
        if order.len() >= 6 {
            break;
        }
    }
    // Children that finished their budget (all but the ones possibly still running).
    let done: Vec<u32> = per_pid
        .iter()
        .filter(|(pid, _)| !procs::alive(**pid))
        .map(|(_, n)| *n)
        .collect();
    assert!(done.len() >= 3, "{per_pid:?}");
    assert!(done.iter().all(|&n| n <= 52), "{per_pid:?}");
    let distinct: std::collections::HashSet<_> = done.iter().collect();
    assert!(distinct.len() >= 2, "no jitter: {per_pid:?}");
}
