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
    let mut seen: Vec<String> = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            v = json(&server);
            let state = format!(
                "{} {:?}",
                v["scoreboard"],
                v["processes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| format!(
                        "{}:{}:{}:{}",
                        p["slot"], p["pid"], p["generation"], p["stopping"]
                    ))
                    .collect::<Vec<_>>()
            );
            if seen.last() != Some(&state) {
                seen.push(state);
            }
            let procs = v["processes"].as_array().cloned().unwrap_or_default();
            // The old child's letters: its busy thread, and its other one finishing
            // (`G`) or already gone (`.`), never idle `_` (Apache's event writes
            // `dying ? SERVER_GRACEFUL : SERVER_READY` when a worker finishes).
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
        "old child {old} in slot {old_slot}; states seen: {seen:#?}\n{}",
        server.log()
    );
    // Meanwhile the old child's idle thread never shows `_`.
    let mut idle_shown = None;
    assert!(
        wait_until(Duration::from_secs(5), || {
            let v = json(&server);
            let board: Vec<char> = v["scoreboard"].as_str().unwrap_or("").chars().collect();
            let i = old_slot as usize * 2;
            if board.get(i..i + 2).is_some_and(|l| l.contains(&'_')) && procs::alive(old) {
                idle_shown = Some(v["scoreboard"].clone());
            }
            server.log().matches(FULL).count() >= 2
        }),
        "{}",
        server.log()
    );
    assert!(
        idle_shown.is_none(),
        "the stopping child's slot {old_slot} showed an idle `_`: {idle_shown:?}"
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

// ---------------------------------------------------------------------------------------
// Out of descriptors (prefork and worker; event's case is in chaos.rs).

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = &text[text.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

/// The lowest descriptor number `pid` does not use: with its soft RLIMIT_NOFILE set
/// there, its next new descriptor fails with EMFILE.
fn lowest_free_fd(pid: i32) -> u64 {
    let used: std::collections::BTreeSet<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    (0..).find(|n| !used.contains(n)).unwrap()
}

/// (soft, hard) RLIMIT_NOFILE of a process.
fn nofile(pid: i32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let f: Vec<&str> = line.split_whitespace().collect();
    (f[3].to_string(), f[4].to_string())
}

/// `prlimit --nofile=SOFT:HARD --pid PID` on a running process (the hard limit kept).
fn set_soft_nofile(pid: i32, soft: &str) {
    let hard = nofile(pid).1;
    let status = std::process::Command::new("prlimit")
        .arg(format!("--nofile={soft}:{hard}"))
        .arg("--pid")
        .arg(pid.to_string())
        .status()
        .expect("run prlimit");
    assert!(status.success(), "prlimit on {pid}: {status}");
}

/// A child whose accept fails for lack of descriptors backs off (logged once, no busy
/// loop, the client waits in the backlog instead of being dropped) and serves again, the
/// same child, once descriptors are available.
fn out_of_descriptors_backs_off_and_recovers(mpm: &'static str) {
    if !common::tools::require(
        &format!("{mpm}_out_of_descriptors_backs_off_and_recovers"),
        "prlimit",
        "--version",
        "util-linux",
    ) {
        return;
    }
    let conf = if mpm == "prefork" {
        "StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 1\n"
    } else {
        "StartServers 1\nServerLimit 1\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 2\n\
         MinSpareThreads 1\nMaxSpareThreads 4\n"
    };
    let server = Server::start(mpm, conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 1));
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
    let child = server.children()[0];
    assert!(wait_until(Duration::from_secs(5), || procs::threads(child)
        == if mpm == "prefork" { 1 } else { 3 }));
    // The soft limit at the lowest free descriptor number; again if a descriptor below it
    // was closed meanwhile (the warm-up connection's), until none is free below it.
    let (soft, _) = nofile(child);
    let mut limit = u64::MAX;
    assert!(wait_until(Duration::from_secs(5), || {
        let free = lowest_free_fd(child);
        if free == limit {
            return true;
        }
        limit = free;
        set_soft_nofile(child, &limit.to_string());
        false
    }));
    let mut waiting = Conn::open(server.addr).unwrap();
    waiting.send("/pid", true).unwrap();
    const MSG: &str = "backing off until descriptors or memory free up";
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(MSG)),
        "{}",
        server.log()
    );
    let before = cpu_ticks(child);
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(1)); // measuring CPU over a second
    let used = (cpu_ticks(child) - before) as f64 / 100.0 / t.elapsed().as_secs_f64();
    assert!(
        used < 0.10,
        "the child spins: {:.0}% of a core",
        used * 100.0
    );
    assert!(unanswered(&waiting), "answered without a descriptor?");
    set_soft_nofile(child, &soft);
    let r = waiting
        .recv()
        .unwrap_or_else(|e| panic!("the waiting client: {e}\n{}", server.log()));
    assert_eq!(r.body_text().trim(), child.to_string());
    // The episode ends at an accept a second after the last failure: logged once each.
    assert!(
        wait_until(Duration::from_secs(5), || {
            client::get(server.addr, "/").is_ok_and(|r| r.status == 200)
                && server.log().contains("accept: resources available again")
        }),
        "{}",
        server.log()
    );
    assert_eq!(server.log().matches(MSG).count(), 1, "{}", server.log());
    assert_eq!(server.children(), vec![child]);
}

#[test]
fn prefork_out_of_descriptors_backs_off_and_recovers() {
    out_of_descriptors_backs_off_and_recovers("prefork");
}

#[test]
fn worker_out_of_descriptors_backs_off_and_recovers() {
    out_of_descriptors_backs_off_and_recovers("worker");
}

// ---------------------------------------------------------------------------------------
// SIGTTIN / SIGTTOU under the threaded strategies (prefork's: control.rs).

/// Each SIGTTIN raises MinSpareThreads and MaxSpareThreads by ThreadsPerChild (logged),
/// so spare maintenance forks a child; each SIGTTOU lowers them, and the excess child is
/// retired.
fn ttin_ttou_move_spare_threads(mpm: &'static str) {
    let server = Server::start(
        mpm,
        "StartServers 1\nServerLimit 4\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 8\n\
         MinSpareThreads 1\nMaxSpareThreads 4\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 1));
    // Signals of one kind do not queue: send the next once the last was seen.
    let signal = |sig: i32, name: &str, min: u32, max: u32| {
        server.signal(sig);
        let line = format!("{name} received: spare threads now {min}..{max}");
        assert!(
            wait_until(Duration::from_secs(10), || server.log().contains(&line)),
            "{line} missing:\n{}",
            server.log()
        );
    };
    signal(libc::SIGTTIN, "SIGTTIN", 3, 6);
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == 2),
        "no growth to 2 children (4 idle threads ≥ 3): {:?}",
        server.children()
    );
    signal(libc::SIGTTIN, "SIGTTIN", 5, 8);
    // (The spawn rate has doubled: it may fork two at once.)
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() >= 3),
        "no growth to 3 children (6 idle threads ≥ 5): {:?}",
        server.children()
    );
    signal(libc::SIGTTOU, "SIGTTOU", 3, 6);
    signal(libc::SIGTTOU, "SIGTTOU", 1, 4);
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == 2),
        "no retirement, one a tick, to 2 children (4 idle threads ≤ 4): {:?}",
        server.children()
    );
}

#[test]
fn worker_ttin_ttou_move_spare_threads() {
    ttin_ttou_move_spare_threads("worker");
}

#[test]
fn event_ttin_ttou_move_spare_threads() {
    ttin_ttou_move_spare_threads("event");
}
