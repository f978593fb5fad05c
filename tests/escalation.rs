//! Stopping a child that will not stop, and children that crash: the TERM → KILL
//! escalation on Apache's schedule, the "killed successively" guard against a crash
//! loop, and a child that aborts (the `/abort` test route).

mod common;

use common::client::{self, Conn};
use common::{procs, wait_until, Server};
use std::time::Duration;

/// The time (seconds since the epoch) of a log line `[secs.micros] [mpm:level] …`.
fn stamp(line: &str) -> f64 {
    line.strip_prefix('[')
        .and_then(|l| l.split(']').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time stamp in {line:?}"))
}

/// Times of the log lines containing `needle`, relative to `t0`.
fn times(log: &str, needle: &str, t0: f64) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(needle))
        .map(|l| stamp(l) - t0)
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
/// more). Killing six children at once therefore leaves between three and five, never
/// six, and the warning is logged once.
#[test]
fn a_crash_burst_is_respawned_three_at_once_then_left_to_maintenance() {
    let server = Server::start(
        "worker",
        "StartServers 6\nServerLimit 8\nThreadLimit 1\nThreadsPerChild 1\n\
         MaxRequestWorkers 8\nMinSpareThreads 1\nMaxSpareThreads 8\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 6));
    let victims = server.children();
    for &pid in &victims {
        procs::kill(pid, libc::SIGKILL);
    }
    const MSG: &str = "children are killed successively!";
    assert!(
        wait_until(Duration::from_secs(5), || server.log().contains(MSG)),
        "no crash-loop warning after 6 crashes at once:\n{}",
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
        (3..6).contains(&now.len()),
        "{} children after the burst (3 respawned at once, the rest left to maintenance):\n{}",
        now.len(),
        server.log()
    );
    assert_eq!(server.log().matches(MSG).count(), 1, "{}", server.log());
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
