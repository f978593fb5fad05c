//! Exhausted descriptors and a crash storm: nothing spins, nothing leaks, and the only
//! requests lost are those of the children that were killed.

mod common;

use common::client::Conn;
use common::{procs, wait_until, Server};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = &text[text.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

#[test]
fn event_out_of_descriptors_backs_off_and_recovers() {
    common::threads::raise_nofile();
    // One child with a descriptor limit of 256 (set with prlimit on the master, inherited
    // by the child) and 400 clients that each hold a keep-alive connection.
    let server = Server::start_with(
        "event",
        "StartServers 1\nServerLimit 1\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\n\
         MaxSpareThreads 8\nMaxRequestWorkers 4\nAsyncRequestWorkerFactor 200\nKeepAliveTimeout 60\n",
        &[],
    );
    let status = std::process::Command::new("prlimit")
        .args(["--nofile=256:256", "--pid", &server.pid().to_string()])
        .status();
    if !matches!(status, Ok(s) if s.success())
        && !common::tools::skip_or_fail(
            "event_out_of_descriptors_backs_off_and_recovers",
            &format!("prlimit (Debian package util-linux) failed: {status:?}"),
        )
    {
        return;
    }
    // The running child keeps its old limit: replace it by a graceful restart.
    server.signal(libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(15), || {
        let c = server.children();
        c.len() == 1
            && std::fs::read_to_string(format!("/proc/{}/limits", c[0]))
                .map(|l| {
                    l.lines()
                        .any(|x| x.starts_with("Max open files") && x.contains(" 256 "))
                })
                .unwrap_or(false)
    }));
    let child = server.children()[0];
    let release = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for _ in 0..400 {
        let (release, served, failures, addr) = (
            release.clone(),
            served.clone(),
            failures.clone(),
            server.addr,
        );
        clients.push(std::thread::spawn(move || {
            let mut conn = match Conn::open(addr) {
                Ok(c) => c,
                Err(e) => return failures.lock().unwrap().push(format!("connect: {e}")),
            };
            match conn.get("/") {
                Ok(r) if r.status == 200 => {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                other => return failures.lock().unwrap().push(format!("{other:?}")),
            }
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }));
    }
    // Saturated: some clients served and holding, the rest waiting in the backlog.
    assert!(wait_until(Duration::from_secs(20), || server
        .log()
        .contains("backing off until descriptors or memory free up")));
    let held = served.load(Ordering::SeqCst);
    assert!(held < 400, "the descriptor limit was never reached");
    let before = cpu_ticks(child);
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let used = (cpu_ticks(child) - before) as f64 / 100.0 / t.elapsed().as_secs_f64();
    eprintln!(
        "while out of descriptors: {held} held, child CPU {:.1}% of a core",
        used * 100.0
    );
    assert!(
        used < 0.10,
        "the child spins: {:.0}% of a core",
        used * 100.0
    );
    // Load drops: everyone waiting is served.
    release.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.join();
    }
    assert!(
        failures.lock().unwrap().is_empty(),
        "{:?}",
        failures.lock().unwrap()
    );
    assert_eq!(served.load(Ordering::SeqCst), 400);
    let log = server.log();
    assert_eq!(
        log.matches("backing off until descriptors or memory free up")
            .count(),
        1,
        "the condition is logged once per episode:\n{log}"
    );
    // (The end of the episode is logged at the first accept a second after the last
    // failure, which may come after this test's last client.)
}

fn chaos(mpm: &'static str) {
    let conf = if mpm == "prefork" {
        // MaxSpareServers is at least MinSpareServers + 1 (Apache's fix-up), and keep-alive
        // clients hold prefork children busy, so the load grows the pool; once it stops,
        // idle children retire down to MaxSpareServers = StartServers.
        "StartServers 5\nMinSpareServers 4\nMaxSpareServers 5\nMaxRequestWorkers 32\n"
    } else {
        "StartServers 3\nServerLimit 16\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 8\nMaxSpareThreads 12\nMaxRequestWorkers 64\n"
    };
    let start = if mpm == "prefork" { 5 } else { 3 };
    let server = Server::start(mpm, conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == start));
    let killed = Arc::new(Mutex::new(HashSet::<i32>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (killed, stop, ok, bad, addr) = (
            killed.clone(),
            stop.clone(),
            ok.clone(),
            bad.clone(),
            server.addr,
        );
        clients.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok(mut conn) = Conn::open(addr) else {
                    bad.lock().unwrap().push("connect failed".into());
                    continue;
                };
                // Which child holds this connection (keep-alive pins it there).
                let owner: i32 = match conn.get("/pid") {
                    Ok(r) => r.body_text().trim().parse().unwrap_or(0),
                    Err(_) => continue, // can't attribute: the child may have just died
                };
                for _ in 0..20 {
                    match conn.get("/") {
                        Ok(r) if r.status == 200 => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            if r.closes() {
                                break;
                            }
                        }
                        other => {
                            // The killer records a victim before it kills it.
                            if !killed.lock().unwrap().contains(&owner) {
                                bad.lock().unwrap().push(format!(
                                    "request on live child {owner} failed: {other:?}"
                                ));
                            }
                            break;
                        }
                    }
                }
            }
        }));
    }
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(500));
        let children = server.children();
        if children.is_empty() {
            continue;
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let victim = children[(n >> 33) as usize % children.len()];
        killed.lock().unwrap().insert(victim);
        procs::kill(victim, libc::SIGKILL);
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.join();
    }
    assert!(bad.lock().unwrap().is_empty(), "{:?}", bad.lock().unwrap());
    assert!(ok.load(Ordering::SeqCst) > 100);
    // The server settles back to StartServers children, reaps everything and frees slots.
    assert!(
        wait_until(Duration::from_secs(20), || server.children().len() == start),
        "children: {:?}",
        server.children()
    );
    assert!(wait_until(Duration::from_secs(5), || {
        let zombies = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&p| procs::stat(p) == Some((server.pid(), 'Z')))
            .count();
        zombies == 0
    }));
    let json = common::client::get(server.addr, "/server-status?json")
        .unwrap()
        .body_text();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let live: HashSet<i64> = server.children().iter().map(|&p| p as i64).collect();
    for p in v["processes"].as_array().unwrap() {
        let pid = p["pid"].as_i64().unwrap_or(0);
        assert!(
            pid == 0 || live.contains(&pid),
            "slot held by dead pid {pid}: {json}"
        );
    }
}

#[test]
fn chaos_prefork() {
    chaos("prefork");
}

#[test]
fn chaos_worker() {
    chaos("worker");
}

#[test]
fn chaos_event() {
    chaos("event");
}
