//! Lifecycle of the real `httpd` example under every strategy (mpm's three and the
//! example's own `reactor`): start counts and `?auto`, the HTML status page, graceful
//! restarts under load, crash respawn, stop, master death, recycling, privilege drop.

mod common;

use common::client::{self, Conn};
use common::load::Load;
use common::{procs, wait_until, Server};
use std::collections::HashSet;
use std::time::Duration;

/// Small limits per strategy: (config, start servers, threads per child, scoreboard length).
fn small(mpm: &str) -> (String, usize, usize, usize) {
    match mpm {
        // A fixed set of processes, one event loop and one scoreboard slot each.
        "reactor" => ("StartServers 2\n".into(), 2, 1, 2),
        "prefork" => (
            "StartServers 3\nMinSpareServers 1\nMaxSpareServers 10\nMaxRequestWorkers 20\n".into(),
            3,
            1,
            20,
        ),
        _ => (
            "StartServers 2\nServerLimit 8\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 40\nMaxRequestWorkers 16\n".into(),
            2,
            4,
            16,
        ),
    }
}

fn start_counts(mpm: &'static str) {
    let (conf, start, tpc, sb_len) = small(mpm);
    let server = Server::start(mpm, &conf);
    assert!(
        wait_until(Duration::from_secs(10), || server.children().len() == start),
        "expected {start} children, got {:?}",
        server.children()
    );
    // Every worker is up (idle) except the one serving the status request itself.
    let mut status = Default::default();
    let settled = wait_until(Duration::from_secs(10), || {
        status = server.status();
        status.get("IdleWorkers").map(String::as_str) == Some(&(start * tpc - 1).to_string())
    });
    assert!(settled, "status: {status:?}");
    assert_eq!(status["BusyWorkers"], "1", "{status:?}");
    assert_eq!(status["ServerMPM"], mpm);
    assert_eq!(status["Scoreboard"].len(), sb_len, "{status:?}");
    if tpc > 1 {
        for pid in server.children() {
            // ThreadsPerChild workers + the listener / connection-layer thread.
            assert!(
                wait_until(Duration::from_secs(5), || procs::threads(pid) == tpc + 1),
                "child {pid} has {} threads, expected {}",
                procs::threads(pid),
                tpc + 1
            );
        }
    }
    assert_eq!(
        std::process::id() as i32,
        procs::stat(server.pid()).unwrap().0
    );
}

/// The HTML status page of a running server names the strategy and honours `refresh`.
fn status_page_html(mpm: &'static str) {
    let (conf, start, _, _) = small(mpm);
    let server = Server::start(mpm, &conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    let r = client::get(server.addr, "/server-status?refresh=5").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let page = r.body_text();
    assert!(
        page.contains(&format!("<dt>Server MPM</dt><dd>{mpm}</dd>")),
        "{page}"
    );
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
    assert!(page.trim_end().ends_with("</html>"), "{page}");
}

fn graceful_restarts_under_load(mpm: &'static str) {
    let (conf, start, _, _) = small(mpm);
    let server = Server::start(mpm, &conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        >= start));
    let load = Load::start(server.addr, 4, 2);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        server.signal(libc::SIGUSR1);
    }
    std::thread::sleep(Duration::from_secs(1));
    let (ok, failed, errors) = load.finish();
    assert_eq!(
        failed,
        0,
        "{failed} failed requests of {}: {errors:?}",
        ok + failed
    );
    assert!(ok > 50, "only {ok} requests were served");
    let status = server.status();
    assert_eq!(status["ParentServerMPMGeneration"], "5", "{status:?}");
    // Old-generation children leave once their connections are done.
    let old_gone = wait_until(Duration::from_secs(15), || {
        let json = client::get(server.addr, "/server-status?json")
            .map(|r| r.body_text())
            .unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let procs = v["processes"].as_array().cloned().unwrap_or_default();
        !procs.is_empty()
            && procs
                .iter()
                .filter(|p| p["pid"].as_i64().unwrap_or(0) != 0)
                .all(|p| p["generation"].as_u64() == Some(5))
    });
    assert!(
        old_gone,
        "old-generation children remain; log:\n{}",
        server.log()
    );
}

fn child_crash_respawn(mpm: &'static str) {
    let (conf, start, _, _) = small(mpm);
    let server = Server::start(mpm, &conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    let before: HashSet<i32> = server.children().into_iter().collect();
    let victim = *before.iter().next().unwrap();
    let load = Load::start(server.addr, 0, 1);
    procs::kill(victim, libc::SIGKILL);
    let replaced = wait_until(Duration::from_secs(2), || {
        let now = server.children();
        now.len() == start && !now.contains(&victim)
    });
    let (ok, _failed, _) = load.finish();
    assert!(
        replaced,
        "no replacement within 2 s: {:?}",
        server.children()
    );
    assert!(ok > 0);
    assert!(
        wait_until(Duration::from_secs(5), || server
            .log()
            .contains(&format!("child pid {victim} exit signal SIGKILL"))),
        "crash not logged:\n{}",
        server.log()
    );
    // The server still serves.
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

fn term_stops_everything(mpm: &'static str) {
    let (conf, start, _, _) = small(mpm);
    let mut server = Server::start(mpm, &conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    assert!(server.pid_file().exists());
    let children = server.children();
    server.signal(libc::SIGTERM);
    assert!(
        server.wait_exit(Duration::from_secs(2)),
        "master still running"
    );
    assert!(
        wait_until(Duration::from_secs(2), || children
            .iter()
            .all(|p| !procs::alive(*p))),
        "children survive"
    );
    assert!(!server.pid_file().exists(), "PidFile left behind");
}

fn master_kill_takes_children(mpm: &'static str) {
    let (conf, start, _, _) = small(mpm);
    let mut server = Server::start(mpm, &conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    let children = server.children();
    server.signal(libc::SIGKILL);
    assert!(server.wait_exit(Duration::from_secs(2)));
    assert!(
        wait_until(Duration::from_secs(2), || children
            .iter()
            .all(|p| !procs::alive(*p))),
        "orphans survive the master: {children:?}"
    );
}

fn max_connections_per_child(mpm: &'static str) {
    let (conf, _, _, _) = small(mpm);
    let server = Server::start(mpm, &format!("{conf}MaxConnectionsPerChild 10\n"));
    let mut pids = HashSet::new();
    for i in 0..200 {
        let r = client::get(server.addr, "/pid")
            .unwrap_or_else(|e| panic!("request {i} failed: {e}\n{}", server.log()));
        assert_eq!(r.status, 200);
        pids.insert(r.body_text().trim().to_string());
    }
    assert!(pids.len() > 3, "child pids did not turn over: {pids:?}");
}

fn handler_panic_costs_one_response(mpm: &'static str) {
    let (conf, _, _, _) = small(mpm);
    let server = Server::start(mpm, &conf);
    let mut conn = Conn::open(server.addr).unwrap();
    let pid_before = conn.get("/pid").unwrap().body_text();
    let r = conn.get("/panic").unwrap();
    assert_eq!(r.status, 500);
    let r = client::get(server.addr, "/").unwrap();
    assert_eq!(r.status, 200);
    if mpm != "prefork" {
        // The same child, with its threads, goes on.
        let mut conn = Conn::open(server.addr).unwrap();
        let mut seen = HashSet::new();
        for _ in 0..20 {
            seen.insert(conn.get("/pid").unwrap().body_text());
        }
        assert!(
            server.children().len() >= 2 || seen.contains(&pid_before),
            "the child died"
        );
    }
    assert!(server.log().contains("panic"), "panic not logged");
}

fn privilege_drop(mpm: &'static str) {
    if !common::tools::require_root("privilege_drop") {
        return;
    }
    let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
        common::tools::skip_or_fail("privilege_drop", "no user nobody");
        return;
    };
    let (conf, start, _, _) = small(mpm);
    let server = Server::start(mpm, &format!("{conf}User nobody\n"));
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    assert!(wait_until(Duration::from_secs(5), || server
        .children()
        .iter()
        .all(
            |p| procs::ids(*p) == Some((nobody.uid.as_raw(), nobody.gid.as_raw()))
        )));
    assert_eq!(
        procs::ids(server.pid()).unwrap().0,
        0,
        "the master stays root"
    );
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

/// `mpm_state` of a `?json` status document (`MpmInfo.state`, Apache's
/// `AP_MPMQ_MPM_STATE`), or `""` when there is none.
fn mpm_state(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["mpm_state"].as_str().unwrap_or_default().to_string()
}

/// The master publishes where the server is in its life in the scoreboard, where a child's
/// status page reads it: `running` once a child serves, `stopping` once a graceful stop
/// begins (seen by a request that was being read when the stop came).
fn mpm_state_published(mpm: &'static str) {
    use std::io::{Read, Write};
    let (conf, _, _, _) = small(mpm);
    let mut server = Server::start(mpm, &conf);
    let json = |server: &Server| {
        client::get(server.addr, "/server-status?json")
            .map(|r| r.body_text())
            .unwrap_or_default()
    };
    let mut last = String::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            last = json(&server);
            mpm_state(&last) == "running"
        }),
        "the state never became running: {last}"
    );
    // A request whose head is still being read when the stop comes: it is served during
    // the drain, by a child of a master that has published `stopping`.
    let mut held = std::net::TcpStream::connect(server.addr).expect("connect");
    held.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    held.write_all(b"GET /server-status?json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || {
            last = json(&server);
            let v: serde_json::Value = serde_json::from_str(&last).unwrap_or_default();
            // A worker reading it (prefork, worker), or a connection counted beside the
            // status request's own (event reads a head in its loop, not in a worker).
            v["scoreboard"].as_str().unwrap_or_default().contains('R')
                || v["conns_total"].as_u64().unwrap_or(0) >= 2
        }),
        "the held request is not being read: {last}"
    );
    server.signal(libc::SIGWINCH);
    assert!(
        wait_until(Duration::from_secs(10), || server
            .log()
            .contains("shutting down gracefully")),
        "no graceful stop; log:\n{}",
        server.log()
    );
    held.write_all(b"Connection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    held.read_to_end(&mut answer)
        .expect("the held request's answer");
    let answer = String::from_utf8_lossy(&answer);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert_eq!(mpm_state(body), "stopping", "answer: {answer}");
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "master still running"
    );
}

macro_rules! for_each_mpm {
    ($($test:ident),* $(,)?) => {
        mod prefork { $( #[test] fn $test() { super::$test("prefork") } )* }
        mod worker { $( #[test] fn $test() { super::$test("worker") } )* }
        mod event { $( #[test] fn $test() { super::$test("event") } )* }
        // The fourth strategy, written in the httpd example with the public kit only.
        mod reactor { $( #[test] fn $test() { super::$test("reactor") } )* }
    };
}

for_each_mpm!(
    start_counts,
    status_page_html,
    graceful_restarts_under_load,
    child_crash_respawn,
    term_stops_everything,
    master_kill_takes_children,
    max_connections_per_child,
    handler_panic_costs_one_response,
    privilege_drop,
);

// mpm's three strategies: the example's `reactor` neither marks a worker reading nor
// counts its connections, so a head it is reading cannot be seen from outside.
mod prefork_state {
    #[test]
    fn mpm_state_published() {
        super::mpm_state_published("prefork")
    }
}
mod worker_state {
    #[test]
    fn mpm_state_published() {
        super::mpm_state_published("worker")
    }
}
mod event_state {
    #[test]
    fn mpm_state_published() {
        super::mpm_state_published("event")
    }
}
