//! Stopping a child that will not stop, and children that crash: the TERM → KILL
//! escalation on Apache's schedule, the "killed successively" guard against a crash
//! loop, and a child that aborts (the `/abort` test route).

mod common;

use common::client::{self, Conn};
use common::{procs, wait_until, Server};
use std::time::Duration;

/// The time of a log line, in seconds (of the day, or since the epoch): Apache's
/// `[Tue Dec 01 02:43:17.929856 2026] …` or `[secs.micros] …`. Only differences are used
/// (a difference across midnight is corrected by [`times`]).
fn stamp(line: &str) -> f64 {
    let inside = line
        .strip_prefix('[')
        .and_then(|l| l.split(']').next())
        .unwrap_or_else(|| panic!("no time stamp in {line:?}"));
    if let Ok(secs) = inside.parse() {
        return secs;
    }
    let clock = inside
        .split_whitespace()
        .find(|w| w.contains(':'))
        .unwrap_or_else(|| panic!("no time of day in {line:?}"));
    let parts: Vec<f64> = clock
        .split(':')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("bad time in {line:?}")))
        .collect();
    assert_eq!(parts.len(), 3, "bad time in {line:?}");
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// Times of the log lines containing `needle`, relative to `t0`.
fn times(log: &str, needle: &str, t0: f64) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(needle))
        .map(|l| (stamp(l) - t0).rem_euclid(86_400.0))
        .collect()
}

/// No core files from the crashes these tests cause (children inherit the limit).
fn no_core_dumps() {
    use nix::sys::resource::{setrlimit, Resource};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
}

/// A child that ignores SIGTERM (here: stopped with SIGSTOP, so the TERMs stay pending)
/// gets SIGTERM again at 3, 5 and 7 s and SIGKILL at 9 s after the stop began, each
/// logged with Apache's words; the children that obey are never named; the master then
/// exits with nothing left behind.
#[test]
fn stop_escalates_term_then_kill_for_a_child_that_does_not_exit() {
    let mut server = Server::start(
        "prefork",
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nMaxRequestWorkers 4\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let children = server.children();
    let (stuck, obedient) = (children[0], children[1]);
    procs::kill(stuck, libc::SIGSTOP);
    assert!(wait_until(Duration::from_secs(5), || matches!(
        procs::stat(stuck),
        Some((_, 'T'))
    )));
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(Duration::from_secs(15)),
        "the master did not exit; log:\n{}",
        server.log()
    );
    let log = server.log();
    let t0 = log
        .lines()
        .find(|l| l.contains("caught SIGTERM, shutting down"))
        .map(stamp)
        .unwrap_or_else(|| panic!("no `caught SIGTERM` line:\n{log}"));
    let terms = times(
        &log,
        &format!("child process {stuck} still did not exit, sending a SIGTERM"),
        t0,
    );
    let kills = times(
        &log,
        &format!("child process {stuck} still did not exit, sending a SIGKILL"),
        t0,
    );
    let on_time = |got: &[f64], want: &[f64]| {
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| *g >= w - 0.05 && *g < w + 0.75)
    };
    assert!(
        on_time(&terms, &[3.0, 5.0, 7.0]),
        "SIGTERM repeats at {terms:?}, expected 3, 5, 7 s:\n{log}"
    );
    assert!(
        on_time(&kills, &[9.0]),
        "SIGKILL at {kills:?}, expected 9 s:\n{log}"
    );
    assert!(
        !log.contains("could not make child process"),
        "a SIGKILLed child counts as reclaimed:\n{log}"
    );
    assert!(
        !log.contains(&format!("child process {obedient} still did not exit")),
        "the child that obeyed the first SIGTERM was escalated too:\n{log}"
    );
    assert!(
        wait_until(Duration::from_secs(2), || !procs::alive(stuck)
            && !procs::alive(obedient)),
        "children survive the master"
    );
    assert!(!server.pid_file().exists(), "PidFile left behind");
}

/// Apache's crash-loop guard: a crashed child is replaced at once only three times in a
/// row; after that the master logs "children are killed successively!" once and leaves
/// the rest to its once-a-second spare maintenance (which, with spares enough, forks no
/// more). Killing eight children at once therefore leaves between three and seven, never
/// eight, and the warning is logged once per run. (Eight, so that even a maintenance tick falling
/// amid the reaping, which restarts the count, leaves one run of more than three.)
#[test]
fn a_crash_burst_is_respawned_three_at_once_then_left_to_maintenance() {
    let server = Server::start(
        "worker",
        "StartServers 8\nServerLimit 10\nThreadLimit 1\nThreadsPerChild 1\n\
         MaxRequestWorkers 10\nMinSpareThreads 1\nMaxSpareThreads 10\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 8));
    let victims = server.children();
    for &pid in &victims {
        procs::kill(pid, libc::SIGKILL);
    }
    const MSG: &str = "children are killed successively!";
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(MSG)),
        "no crash-loop warning after 8 crashes at once:\n{}",
        server.log()
    );
    for pid in &victims {
        let line = format!("child pid {pid} exit signal SIGKILL");
        assert!(
            wait_until(Duration::from_secs(5), || server.log().contains(&line)),
            "{line:?} missing:\n{}",
            server.log()
        );
    }
    // Two maintenance ticks: idle threads (≥ 3) are within the spare bounds, so nothing
    // more is forked.
    std::thread::sleep(Duration::from_millis(2500)); // observation window
    let now = server.children();
    assert!(now.iter().all(|p| !victims.contains(p)), "{now:?}");
    assert!(
        (3..8).contains(&now.len()),
        "{} children after the burst (3 respawned at once, the rest left to maintenance):\n{}",
        now.len(),
        server.log()
    );
    // Once per run of crashes (a tick amid the reaping would start a second run).
    let warned = server.log().matches(MSG).count();
    assert!((1..=2).contains(&warned), "{}", server.log());
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

/// `/abort` crashes the child serving it (SIGABRT): that connection gets no answer, the
/// crash is logged with its signal and counted, and the child is replaced at once.
fn abort_route_crash(mpm: &'static str) {
    no_core_dumps();
    let conf = if mpm == "prefork" {
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\n"
    } else {
        "StartServers 2\nServerLimit 4\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 8\n\
         MinSpareThreads 1\nMaxSpareThreads 8\n"
    };
    let server = Server::start(mpm, conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let mut conn = Conn::open(server.addr).unwrap();
    let victim: i32 = conn
        .get("/pid")
        .unwrap()
        .body_text()
        .trim()
        .parse()
        .unwrap();
    conn.send("/abort", false).unwrap();
    assert!(conn.recv().is_err(), "an aborted child answered");
    let line = format!("child pid {victim} exit signal SIGABRT (6)");
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(&line)),
        "{line:?} missing:\n{}",
        server.log()
    );
    assert!(
        wait_until(Duration::from_secs(2), || {
            let now = server.children();
            now.len() == 2 && !now.contains(&victim)
        }),
        "not replaced at once: {:?}",
        server.children()
    );
    let metrics = client::get(server.addr, "/metrics").unwrap().body_text();
    assert!(
        metrics
            .lines()
            .any(|l| l == "mpm_child_crashes_total{signal=\"SIGABRT\"} 1"),
        "{metrics}"
    );
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

#[test]
fn prefork_abort_route_crash() {
    abort_route_crash("prefork");
}

#[test]
fn event_abort_route_crash() {
    abort_route_crash("event");
}

/// Small limits: two children (one thread each for prefork, two for the threaded ones).
fn two_children(mpm: &str) -> &'static str {
    if mpm == "prefork" {
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nMaxRequestWorkers 8\n"
    } else {
        "StartServers 2\nServerLimit 4\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 8\n\
         MinSpareThreads 1\nMaxSpareThreads 8\n"
    }
}

/// The child and scoreboard slot of a kept-alive connection.
fn owner(server: &Server, c: &mut Conn) -> (i32, u64) {
    let pid: i32 = c.get("/pid").unwrap().body_text().trim().parse().unwrap();
    let v: serde_json::Value = serde_json::from_str(
        &client::get(server.addr, "/server-status?json")
            .unwrap()
            .body_text(),
    )
    .unwrap();
    let slot = v["processes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["pid"] == pid))
        .and_then(|p| p["slot"].as_u64())
        .unwrap_or_else(|| panic!("no slot for {pid}: {v}"));
    (pid, slot)
}

/// Keep-alive connections until one is on a child other than the first's.
fn connections_on_two_children(server: &Server) -> ((Conn, i32, u64), (Conn, i32, u64)) {
    let mut first = Conn::open(server.addr).unwrap();
    let (p1, s1) = owner(server, &mut first);
    for _ in 0..200 {
        let mut c = Conn::open(server.addr).unwrap();
        let (p2, s2) = owner(server, &mut c);
        if p2 != p1 {
            return ((first, p1, s1), (c, p2, s2));
        }
    }
    panic!("every connection went to child {p1}");
}

/// Lifecycle's crash respawn, strictly: a SIGKILLed child costs only its own connections
/// (a connection on the other child goes on), it is logged, and a new child takes its
/// scoreboard slot at once. (Supersedes `tests/lifecycle.rs` `child_crash_respawn`, which
/// discards the failures it counts.)
fn a_killed_child_costs_only_its_connections(mpm: &'static str) {
    let server = Server::start(mpm, two_children(mpm));
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let ((mut on_victim, victim, slot), (mut on_other, other, _)) =
        connections_on_two_children(&server);
    procs::kill(victim, libc::SIGKILL);
    assert!(
        on_victim.get("/").is_err(),
        "a connection of the killed child was answered"
    );
    let line = format!("child pid {victim} exit signal SIGKILL");
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(&line)),
        "{line:?} missing:\n{}",
        server.log()
    );
    // After the master has reaped the crash: the other child's connection goes on.
    for _ in 0..5 {
        let r = on_other.get("/pid").expect("the other child's connection");
        assert_eq!(r.body_text().trim(), other.to_string());
    }
    let mut last = serde_json::Value::Null;
    assert!(
        wait_until(Duration::from_secs(2), || {
            last = client::get(server.addr, "/server-status?json")
                .ok()
                .and_then(|r| serde_json::from_str(&r.body_text()).ok())
                .unwrap_or_default();
            last["processes"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["slot"].as_u64() == Some(slot)
                        && p["pid"] != victim
                        && p["pid"].as_i64().unwrap_or(0) != 0
                })
            })
        }),
        "slot {slot} not refilled within 2 s: {last}"
    );
    assert!(!server.children().contains(&victim));
}

/// Lifecycle's panic test, strictly: a handler panic costs that one response (500) —
/// the connection goes on, on the same child, with all its threads, and nothing crashed.
/// (Supersedes `tests/lifecycle.rs` `handler_panic_costs_one_response`, whose threaded
/// check `children().len() >= 2 || …` always holds with StartServers 2.)
fn a_handler_panic_costs_one_response(mpm: &'static str) {
    let server = Server::start(mpm, two_children(mpm));
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let mut conn = Conn::open(server.addr).unwrap();
    let (pid, _) = owner(&server, &mut conn);
    let threads = procs::threads(pid);
    let r = conn.get("/panic").unwrap();
    assert_eq!(r.status, 500);
    // The same connection (or, had it been closed, a new one to that child) goes on.
    let r = if r.closes() {
        None
    } else {
        Some(conn.get("/pid").expect("the connection after the panic"))
    };
    if let Some(r) = r {
        assert_eq!(r.body_text().trim(), pid.to_string());
    }
    assert!(procs::alive(pid), "the child died of a handler panic");
    assert!(
        wait_until(Duration::from_secs(5), || procs::threads(pid) == threads),
        "child {pid}: {} threads after the panic, {threads} before",
        procs::threads(pid)
    );
    let log = server.log();
    assert!(log.contains("panic"), "panic not logged:\n{log}");
    assert!(!log.contains("exit signal"), "a child crashed:\n{log}");
    let mut pids = server.children();
    pids.sort_unstable();
    assert!(pids.contains(&pid));
    assert_eq!(pids.len(), 2);
}

macro_rules! for_each_mpm {
    ($($test:ident),* $(,)?) => {
        mod prefork { $( #[test] fn $test() { super::$test("prefork") } )* }
        mod worker { $( #[test] fn $test() { super::$test("worker") } )* }
        mod event { $( #[test] fn $test() { super::$test("event") } )* }
    };
}

for_each_mpm!(
    a_killed_child_costs_only_its_connections,
    a_handler_panic_costs_one_response,
);
