//! The `httpd` example's command line: `-t` (effective limits, warnings, errors), `-V`,
//! `--mpm`, and `-k start|stop|restart|graceful|graceful-stop` against a real detached
//! server found through its PidFile.

mod common;

use common::client::{self, Conn};
use common::cmd::{self, Daemon};
use common::{procs, wait_until};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const MPMS: [&str; 3] = ["prefork", "worker", "event"];

/// The repository's copy of a shared test config.
fn conf(name: &str) -> String {
    format!("{}/tests/conf/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `Key: value` lines of `-t` output.
fn fields(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn assert_fields(mpm: &str, out: &cmd::Output, expected: &[(&str, &str)]) {
    let f = fields(&out.stdout);
    for (k, v) in expected {
        assert_eq!(
            f.get(*k).map(String::as_str),
            Some(*v),
            "{mpm}: {k} in -t output:\n{}",
            out.stdout
        );
    }
    assert!(out.stderr.contains("Syntax OK"), "{mpm}: {out:#?}");
    assert!(!out.stderr.contains("panicked"), "{mpm}: {out:#?}");
}

#[test]
fn t_seed_worker_shows_apache_numbers() {
    let path = conf("seed-httpd-mpm.conf");
    let out = cmd::run(&["-t", "--mpm", "worker", "-f", &path]);
    out.expect_code(0);
    assert_fields(
        "worker",
        &out,
        &[
            ("Server MPM", "worker"),
            ("StartServers", "50"),
            ("Children started", "50"),
            ("Maximum children", "50"),
            ("MaxRequestWorkers", "5000"),
            ("MinSpareThreads", "1000"),
            ("MaxSpareThreads", "3000"),
            ("ServerLimit", "200"),
            ("ThreadLimit", "100"),
            ("ThreadsPerChild", "100"),
        ],
    );
    assert!(
        out.stderr.trim_end().ends_with("Syntax OK"),
        "{}",
        out.stderr
    );
}

#[test]
fn t_distro_under_each_mpm() {
    let path = conf("distro-httpd-mpm.conf");
    let prefork: &[(&str, &str)] = &[
        ("Server MPM", "prefork"),
        ("StartServers", "5"),
        ("MinSpareServers", "5"),
        ("MaxSpareServers", "10"),
        ("MaxRequestWorkers", "150"),
        ("Maximum children", "150"),
        ("ServerLimit", "256"),
        ("MaxConnectionsPerChild", "0"),
    ];
    let threaded = |name: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("Server MPM", name),
            ("StartServers", "2"),
            ("MinSpareThreads", "25"),
            ("MaxSpareThreads", "75"),
            ("ThreadLimit", "64"),
            ("ThreadsPerChild", "25"),
            ("MaxRequestWorkers", "150"),
            ("Maximum children", "6"),
            ("ServerLimit", "16"),
            ("MaxConnectionsPerChild", "0"),
        ]
    };
    for mpm in MPMS {
        let out = cmd::run(&["-t", "--mpm", mpm, "-f", &path]);
        out.expect_code(0);
        match mpm {
            "prefork" => assert_fields(mpm, &out, prefork),
            "worker" => assert_fields(mpm, &out, &threaded("worker")),
            _ => assert_fields(mpm, &out, &threaded("event")),
        }
        assert!(
            !out.stderr.contains("WARNING"),
            "{mpm}: the distro file needs no correction: {}",
            out.stderr
        );
    }
}

#[test]
fn t_bad_examples_name_file_line_and_directive() {
    let path = conf("bad-examples.conf");
    let expected: &[(&str, &[(u32, &str)])] = &[
        ("worker", &[(4, "ThreadsPerChild")]),
        ("event", &[(7, "MaxRequestWorkers"), (8, "StartServer")]),
        ("prefork", &[(11, "MaxSpareServers")]),
    ];
    for (mpm, errors) in expected {
        let out = cmd::run(&["-t", "--mpm", mpm, "-f", &path]);
        out.expect_code(1);
        for (line, directive) in *errors {
            let want = format!("{path}:{line}: {directive}");
            assert!(
                out.stderr.contains(&want),
                "{mpm}: expected {want:?} in stderr:\n{}",
                out.stderr
            );
        }
        // Only this MPM's block is reported.
        for (other, other_errors) in expected.iter().filter(|(m, _)| m != mpm) {
            for (line, _) in *other_errors {
                assert!(
                    !out.stderr.contains(&format!("{path}:{line}:")),
                    "{mpm}: reported {other}'s line {line}:\n{}",
                    out.stderr
                );
            }
        }
        assert!(!out.stderr.contains("panicked"), "{mpm}: {out:#?}");
        assert!(!out.stderr.contains("Syntax OK"), "{mpm}: {out:#?}");
    }
}

#[test]
fn t_clamping_prints_apache_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clamp.conf");
    std::fs::write(&path, "ThreadsPerChild 80\n").unwrap();
    let path = path.display().to_string();
    let out = cmd::run(&["-t", "--mpm", "worker", "-f", &path]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "WARNING: ThreadsPerChild of 80 exceeds ThreadLimit of 64 threads, decreasing to 64. To increase, please see the ThreadLimit directive."
        ),
        "{}",
        out.stderr
    );
    // Default MaxRequestWorkers 400 is then no multiple of 64.
    assert!(
        out.stderr.contains(
            "WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers."
        ),
        "{}",
        out.stderr
    );
    assert_fields(
        "worker",
        &out,
        &[("ThreadsPerChild", "64"), ("MaxRequestWorkers", "384")],
    );
}

#[test]
fn v_prints_mpm_facts_for_each() {
    for mpm in MPMS {
        let out = cmd::run(&["-V", "--mpm", mpm]);
        out.expect_code(0);
        let lines: Vec<&str> = out.stdout.lines().collect();
        let threaded = if mpm == "prefork" {
            "  threaded:     no"
        } else {
            "  threaded:     yes (fixed thread count)"
        };
        for want in [
            format!("Server MPM:     {mpm}").as_str(),
            threaded,
            "    forked:     yes (variable process count)",
        ] {
            assert!(
                lines.contains(&want),
                "{mpm}: missing {want:?}:\n{}",
                out.stdout
            );
        }
    }
    let out = cmd::run(&["-V", "--mpm", "bogus"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("bogus") && out.stderr.contains("prefork, worker or event"),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("panicked"), "{out:#?}");
}

#[test]
fn v_lists_and_describes_the_example_s_own_strategy() {
    let out = cmd::run(&["-V", "--mpm", "reactor"]);
    out.expect_code(0);
    for want in [
        "Server MPM:     reactor",
        "  threaded:     no",
        "    forked:     yes (fixed process count)",
        " -D MPM_COMPILED_IN=\"event,worker,prefork,reactor\"",
        " -D DEFAULT_MPM=\"event\"",
    ] {
        assert!(
            out.stdout.lines().any(|l| l == want),
            "missing {want:?}:\n{}",
            out.stdout
        );
    }
    // Its directives are its own: no spare or thread directives.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.conf");
    std::fs::write(&path, "StartServers 3\nMinSpareThreads 5\n").unwrap();
    let out = cmd::run(&["-t", "--mpm", "reactor", "-f", &path.display().to_string()]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("MinSpareThreads is not valid for the reactor MPM"),
        "{out:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// -k

/// `?auto` of the server at `addr` as key → value (empty if unreachable).
fn status(addr: SocketAddr) -> HashMap<String, String> {
    client::get(addr, "/server-status?auto")
        .map(|r| r.body_text())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn generation(addr: SocketAddr) -> Option<u32> {
    status(addr).get("ParentServerMPMGeneration")?.parse().ok()
}

fn hello(addr: SocketAddr) -> bool {
    matches!(client::get(addr, "/"), Ok(r) if r.status == 200)
}

/// Small, stable limits: nothing grows or shrinks by itself.
fn small(mpm: &str) -> &'static str {
    match mpm {
        "prefork" => "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nMaxRequestWorkers 8",
        _ => "StartServers 2\nServerLimit 4\nThreadLimit 4\nThreadsPerChild 4\nMinSpareThreads 1\nMaxSpareThreads 16\nMaxRequestWorkers 16",
    }
}

/// `-k start`, then wait until the master's StartServers children are up and it serves.
fn start(mpm: &'static str) -> (Daemon, i32, SocketAddr) {
    let mut d = Daemon::new(mpm, small(mpm));
    let out = d.k("start");
    out.expect_code(0);
    let pid = d
        .pid()
        .unwrap_or_else(|| panic!("no PidFile after -k start: {out:#?}"));
    assert!(procs::alive(pid), "pid {pid} not alive; log:\n{}", d.log());
    let addr = d.addr();
    assert!(
        wait_until(Duration::from_secs(10), || procs::children_of(pid).len()
            == 2
            && hello(addr)),
        "{mpm}: not serving with 2 children; log:\n{}",
        d.log()
    );
    (d, pid, addr)
}

#[test]
fn k_start_twice_stop_and_stop_when_not_running() {
    let mut d = Daemon::new("prefork", small("prefork"));
    let out = d.k("stop");
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        "httpd (no pid file) not running",
        "{out:#?}"
    );
    drop(d);

    let (mut d, pid, addr) = start("prefork");
    let out = d.k("start");
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        format!("httpd (pid {pid}) already running"),
        "{out:#?}"
    );
    assert_eq!(d.pid(), Some(pid), "a second -k start replaced the server");
    assert!(hello(addr));

    let children = procs::children_of(pid);
    d.k("stop").expect_code(0);
    assert!(
        wait_until(Duration::from_secs(5), || !procs::alive(pid)),
        "master {pid} still alive after -k stop; log:\n{}",
        d.log()
    );
    assert!(!d.pid_file().exists(), "PidFile left behind");
    assert!(
        wait_until(Duration::from_secs(3), || children
            .iter()
            .all(|&c| !procs::alive(c))),
        "children left: {children:?}"
    );
    let out = d.k("stop");
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        "httpd (no pid file) not running",
        "{out:#?}"
    );
}

fn k_graceful(mpm: &'static str) {
    let (mut d, pid, addr) = start(mpm);
    assert_eq!(generation(addr), Some(0), "log:\n{}", d.log());
    // A keep-alive request in flight across the first graceful restart completes, and its
    // response tells the client the connection ends (it belongs to the old generation).
    let mut conn = Conn::open(addr).unwrap();
    conn.send("/sleep?ms=1000", false).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || status(addr)
            .get("BusyWorkers")
            .and_then(|b| b.parse::<u32>().ok())
            .is_some_and(|b| b >= 2)),
        "{mpm}: the sleep request never became busy: {:?}",
        status(addr)
    );
    d.k("graceful").expect_code(0);
    let resp = conn
        .recv()
        .unwrap_or_else(|e| panic!("{mpm}: in-flight request lost: {e}; log:\n{}", d.log()));
    assert_eq!(resp.status, 200);
    assert!(
        resp.closes(),
        "{mpm}: in-flight response across a graceful restart kept the connection alive: {:?}",
        resp.headers
    );
    drop(conn);
    assert!(
        wait_until(Duration::from_secs(10), || generation(addr) == Some(1)),
        "{mpm}: generation did not reach 1: {:?}; log:\n{}",
        status(addr),
        d.log()
    );
    for n in 2..=3u32 {
        d.k("graceful").expect_code(0);
        assert!(
            wait_until(Duration::from_secs(10), || generation(addr) == Some(n)),
            "{mpm}: generation did not reach {n}: {:?}; log:\n{}",
            status(addr),
            d.log()
        );
    }
    assert_eq!(d.pid(), Some(pid), "graceful restart changed the master");
    assert!(hello(addr));
}

#[test]
fn k_graceful_increments_generation_prefork() {
    k_graceful("prefork");
}

#[test]
fn k_graceful_increments_generation_worker() {
    k_graceful("worker");
}

#[test]
fn k_graceful_increments_generation_event() {
    k_graceful("event");
}

fn total_accesses(addr: SocketAddr) -> Option<u64> {
    status(addr).get("Total Accesses")?.parse().ok()
}

fn k_restart(mpm: &'static str) {
    let (mut d, pid, addr) = start(mpm);
    for _ in 0..30 {
        assert!(hello(addr));
    }
    let before = total_accesses(addr).expect("Total Accesses");
    assert!(before >= 30, "{mpm}: Total Accesses {before}");
    let old: HashSet<i32> = procs::children_of(pid).into_iter().collect();
    d.k("restart").expect_code(0);
    let mut now = Vec::new();
    let renewed = wait_until(Duration::from_secs(15), || {
        now = procs::children_of(pid);
        now.len() == 2 && now.iter().all(|c| !old.contains(c)) && generation(addr) == Some(1)
    });
    assert!(
        renewed,
        "{mpm}: children {now:?} (old {old:?}), status {:?}; log:\n{}",
        status(addr),
        d.log()
    );
    let after = total_accesses(addr).expect("Total Accesses");
    assert!(
        after < 5,
        "{mpm}: scoreboard not reset: Total Accesses {after}"
    );
    assert_eq!(d.pid(), Some(pid), "restart changed the master");
    assert!(d.log().contains("SIGHUP received.  Attempting to restart"));
}

#[test]
fn k_restart_renews_children_and_scoreboard_prefork() {
    k_restart("prefork");
}

#[test]
fn k_restart_renews_children_and_scoreboard_worker() {
    k_restart("worker");
}

#[test]
fn k_restart_renews_children_and_scoreboard_event() {
    k_restart("event");
}

fn k_graceful_stop(mpm: &'static str) {
    let (mut d, pid, addr) = start(mpm);
    let mut conn = Conn::open(addr).unwrap();
    conn.send("/sleep?ms=1500", false).unwrap();
    // In flight: one busy worker besides the one answering the status request.
    assert!(
        wait_until(Duration::from_secs(5), || status(addr)
            .get("BusyWorkers")
            .and_then(|b| b.parse::<u32>().ok())
            .is_some_and(|b| b >= 2)),
        "{mpm}: the sleep request never became busy: {:?}",
        status(addr)
    );
    let sent = Instant::now();
    d.k("graceful-stop").expect_code(0);
    let resp = conn
        .recv()
        .unwrap_or_else(|e| panic!("{mpm}: in-flight request lost: {e}; log:\n{}", d.log()));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_text(), "slept 1500\n");
    // The in-flight response is the connection's last: the keep-alive client is told so,
    // and the connection ends cleanly, not at KeepAliveTimeout.
    assert!(
        resp.closes(),
        "{mpm}: the response during graceful-stop kept the connection alive: {:?}",
        resp.headers
    );
    conn.stream()
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    assert!(
        matches!(conn.closed_cleanly(), Ok(true)),
        "{mpm}: connection not closed cleanly after its last response"
    );
    drop(conn);
    assert!(
        wait_until(Duration::from_secs(5), || !procs::alive(pid)),
        "{mpm}: master still alive {:?} after graceful-stop; log:\n{}",
        sent.elapsed(),
        d.log()
    );
    assert!(!d.pid_file().exists(), "{mpm}: PidFile left behind");
    assert!(d
        .log()
        .contains("caught SIGWINCH, shutting down gracefully"));
}

#[test]
fn k_graceful_stop_drains_prefork() {
    k_graceful_stop("prefork");
}

#[test]
fn k_graceful_stop_drains_worker() {
    k_graceful_stop("worker");
}

#[test]
fn k_graceful_stop_drains_event() {
    k_graceful_stop("event");
}

#[test]
fn bad_config_at_graceful_keeps_old_generation() {
    let mpm = "prefork";
    let (mut d, pid, addr) = start(mpm);
    let children = procs::children_of(pid);
    // Listen and PidFile are lines 1–2, then the directives, then the bad line.
    let good = small(mpm);
    let bad_line = 3 + good.lines().count();
    d.write_conf(&format!("{good}\nBogusDirective 1"));
    let out = d.k("graceful");
    out.expect_code(1);
    let want = format!("{}:{bad_line}: BogusDirective", d.conf_path().display());
    assert!(out.stderr.contains(&want), "want {want:?}: {out:#?}");
    assert_eq!(generation(addr), Some(0), "-k graceful signalled anyway");
    assert!(
        !d.log().contains("SIGUSR1 received"),
        "-k graceful signalled anyway"
    );

    // The signal sent directly: the master logs why and keeps the old generation.
    procs::kill(pid, libc::SIGUSR1);
    assert!(
        wait_until(Duration::from_secs(5), || d
            .log()
            .contains("configuration error at restart")),
        "log:\n{}",
        d.log()
    );
    assert!(d.log().contains(&format!(":{bad_line}: BogusDirective")));
    assert_eq!(generation(addr), Some(0));
    assert!(procs::alive(pid));
    for _ in 0..5 {
        assert!(hello(addr), "not serving after the refused restart");
    }
    assert_eq!(procs::children_of(pid), children, "children were replaced");

    // Fixed again, the next graceful restart goes through.
    d.write_conf(good);
    d.k("graceful").expect_code(0);
    assert!(
        wait_until(Duration::from_secs(10), || generation(addr) == Some(1)),
        "log:\n{}",
        d.log()
    );
}

/// A pid that belonged to a process that has exited (and was reaped).
fn dead_pid() -> i32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id() as i32;
    c.wait().unwrap();
    pid
}

#[test]
fn k_with_stale_or_garbage_pid_file() {
    let mut d = Daemon::new("prefork", small("prefork"));
    let stale = dead_pid();
    std::fs::write(d.pid_file(), format!("{stale}\n")).unwrap();
    let out = d.k("stop");
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        format!("httpd (pid {stale}?) not running")
    );
    let out = d.k("graceful-stop");
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        format!("httpd (pid {stale}?) not running")
    );

    // `-k start` over a stale PidFile starts, and the server says it overwrote it.
    d.k("start").expect_code(0);
    let pid = d.pid().expect("pid");
    assert_ne!(pid, stale);
    assert!(hello(d.addr()));
    assert!(
        d.log()
            .contains("overwritten -- Unclean shutdown of previous run?"),
        "log:\n{}",
        d.log()
    );
    d.k("stop").expect_code(0);
    assert!(wait_until(Duration::from_secs(5), || !procs::alive(pid)));

    // An unreadable PidFile is an error (exit 1) naming the file.
    std::fs::write(d.pid_file(), "garbage\n").unwrap();
    let out = d.k("stop");
    out.expect_code(1);
    assert!(
        out.stderr.contains(&d.pid_file().display().to_string()),
        "{out:#?}"
    );
}

#[test]
fn k_graceful_and_restart_start_a_stopped_server() {
    for cmd in ["graceful", "restart"] {
        let mut d = Daemon::new("prefork", small("prefork"));
        let out = d.k(cmd);
        out.expect_code(0);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some("httpd not running, trying to start"),
            "{cmd}: {out:#?}"
        );
        let pid = d
            .pid()
            .unwrap_or_else(|| panic!("{cmd}: no PidFile: {out:#?}"));
        assert!(procs::alive(pid));
        let addr = d.addr();
        // It says where it went: the real address, the PidFile, the log.
        assert_eq!(
            lines.get(1).copied().unwrap_or_default(),
            format!(
                "httpd (pid {pid}) listening on {addr}; PidFile {}; log {}",
                d.pid_file().display(),
                d.log_path().display()
            ),
            "{cmd}: {out:#?}"
        );
        assert!(
            wait_until(Duration::from_secs(10), || hello(addr)),
            "{cmd}: log:\n{}",
            d.log()
        );
        // Now running: the same command signals it instead.
        d.k(cmd).expect_code(0);
        assert!(
            wait_until(Duration::from_secs(10), || generation(addr) == Some(1)),
            "{cmd}: log:\n{}",
            d.log()
        );
        assert_eq!(d.pid(), Some(pid));
    }
}

#[test]
fn k_graceful_stop_bounded_by_graceful_shutdown_timeout() {
    let mut d = Daemon::new(
        "prefork",
        &format!("{}\nGracefulShutdownTimeout 1", small("prefork")),
    );
    d.k("start").expect_code(0);
    let pid = d.pid().expect("pid");
    let addr = d.addr();
    let mut conn = Conn::open(addr).unwrap();
    conn.send("/sleep?ms=20000", false).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || status(addr)
            .get("BusyWorkers")
            .is_some_and(|b| b == "2")),
        "{:?}",
        status(addr)
    );
    let sent = Instant::now();
    d.k("graceful-stop").expect_code(0);
    assert!(
        wait_until(Duration::from_secs(6), || !procs::alive(pid)),
        "master still alive {:?} after graceful-stop with a 1 s timeout; log:\n{}",
        sent.elapsed(),
        d.log()
    );
    assert!(
        d.log()
            .contains("GracefulShutdownTimeout of 1s reached, stopping the remaining 1 children"),
        "log:\n{}",
        d.log()
    );
    // The 20 s request was cut short: no response.
    assert!(conn.recv().is_err(), "the long request was answered");
    assert!(!d.pid_file().exists());
}

#[test]
fn k_start_reports_a_server_that_cannot_bind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut d = Daemon::new("prefork", &format!("Listen 127.0.0.1:{port}"));
    let out = d.k("start");
    out.expect_code(1);
    // The cause on the terminal, and where the log is.
    assert!(
        out.stderr
            .contains(&format!("could not bind to address 127.0.0.1:{port}")),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains(&format!(
            "the server exited during startup (exit status: 1); its log: {}",
            d.log_path().display()
        )),
        "{out:#?}"
    );
    assert!(
        d.log()
            .contains(&format!("could not bind to address 127.0.0.1:{port}")),
        "log:\n{}",
        d.log()
    );
    assert!(!d.pid_file().exists(), "PidFile of a server that never ran");
}

/// `-t` with `-C`, `-c` and `-D`: `-C` comes before the file (the file overrides it), `-c`
/// after it (it overrides the file), `-D` opens `<IfDefine>`; without `-f` they replace
/// the default Listen; an error in them names the option and its position.
#[test]
fn t_with_command_line_directives_and_defines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("httpd.conf");
    std::fs::write(
        &file,
        "Listen 127.0.0.1:0\nStartServers 2\n<IfDefine BIG>\nStartServers 6\n</IfDefine>\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let start_servers = |extra: &[&str]| {
        let mut args = vec!["-t", "--mpm", "prefork", "-f", &file];
        args.extend_from_slice(extra);
        let out = cmd::run(&args);
        out.expect_code(0);
        fields(&out.stdout)
            .get("StartServers")
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(start_servers(&[]), "2");
    assert_eq!(start_servers(&["-D", "BIG"]), "6");
    assert_eq!(
        start_servers(&["-D", "big"]),
        "2",
        "defines are case-sensitive"
    );
    assert_eq!(start_servers(&["-c", "StartServers 4"]), "4");
    assert_eq!(start_servers(&["-C", "StartServers 7"]), "2");

    // Without -f: -C's Listen replaces the default 127.0.0.1:8080.
    let out = cmd::run(&[
        "-t",
        "--mpm",
        "prefork",
        "-C",
        "Listen 127.0.0.1:0",
        "-c",
        "StartServers 3",
    ]);
    out.expect_code(0);
    let f = fields(&out.stdout);
    assert_eq!(
        f.get("StartServers").map(String::as_str),
        Some("3"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("127.0.0.1:0"), "{out:#?}");
    assert!(!out.stdout.contains("8080"), "{out:#?}");

    let out = cmd::run(&[
        "-t",
        "-f",
        &file,
        "-C",
        "KeepAlive On",
        "-C",
        "StartServers x",
    ]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("-C:2: StartServers: argument 'x' is not a whole number"),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("Syntax OK"), "{out:#?}");
}

/// Apache's `LogLevel` keywords; a wrong one (directive or `-e`) is refused with Apache's
/// message, as are the ErrorLog forms mpm cannot honour.
#[test]
fn t_refuses_bad_log_level_and_error_log() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("httpd.conf");
    let write =
        |text: &str| std::fs::write(&file, format!("Listen 127.0.0.1:0\n{text}\n")).unwrap();
    let path = file.display().to_string();
    write("LogLevel trace4 ssl:warn\nErrorLog logs/error_log");
    let out = cmd::run(&["-t", "-f", &path]);
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("LogLevel ssl:warn is accepted and ignored"),
        "{out:#?}"
    );
    write("LogLevel loud");
    let out = cmd::run(&["-t", "-f", &path]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "{path}:2: LogLevel: LogLevel requires level keyword: one of emerg/alert/crit/error/warn/notice/info/debug/trace1"
        )),
        "{out:#?}"
    );
    write("ErrorLog \"|/usr/bin/rotatelogs x 86400\"");
    let out = cmd::run(&["-t", "-f", &path]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("piped logs are not supported"),
        "{out:#?}"
    );
    let out = cmd::run(&["-t", "-e", "loud"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("-e loud: LogLevel requires level keyword"),
        "{out:#?}"
    );
}

/// A server started in the foreground with `ARGS` in `dir`, stderr to `dir/stderr`; it is
/// stopped by pid (TERM, then KILL to it and its children) when dropped.
struct Foreground {
    child: std::process::Child,
    stderr: std::path::PathBuf,
}

impl Foreground {
    fn start(dir: &std::path::Path, args: &[&str]) -> Foreground {
        let stderr = dir.join("stderr");
        let child = std::process::Command::new(common::httpd_path())
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("spawn httpd");
        Foreground { child, stderr }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The first `listening on` address of `log` (waits up to 20 s).
    fn addr_in(&mut self, log: &std::path::Path) -> SocketAddr {
        let mut found = None;
        let ok = wait_until(Duration::from_secs(20), || {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            found = cmd::listen_addrs(&text).into_iter().next();
            found.is_some() || matches!(self.child.try_wait(), Ok(Some(_)))
        });
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            ok && found.is_some(),
            "no `listening on`; log:\n{text}\nstderr:\n{}",
            self.stderr()
        );
        found.unwrap()
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        let children = procs::children_of(pid);
        procs::kill(pid, libc::SIGTERM);
        if !wait_until(Duration::from_secs(12), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            procs::kill(pid, libc::SIGKILL);
            let _ = self.child.wait();
        }
        for c in children {
            procs::kill(c, libc::SIGKILL);
        }
    }
}

/// `[Tue Dec 01 02:26:03.123456 2026] [mpm:notice] [pid N] …`: Apache's error-log date.
fn apache_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((date, rest)) = rest.split_once("] [mpm:") else {
        return false;
    };
    let w: Vec<&str> = date.split(' ').collect();
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time: Vec<&str> = w.get(3).map_or(vec![], |t| t.split([':', '.']).collect());
    w.len() == 5
        && days.contains(&w[0])
        && months.contains(&w[1])
        && digits(w[2], 2)
        && time.len() == 4
        && time[..3].iter().all(|t| digits(t, 2))
        && digits(time[3], 6)
        && digits(w[4], 4)
        && rest.contains("] [pid ")
}

/// Without a file: `-C` gives the port, `-c` a limit, `-E` the log file and `-e debug`
/// the level, for a plain (not `-k`) start; the log's lines carry Apache's date.
#[test]
fn c_options_e_and_big_e_for_a_foreground_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("startup.log");
    let log_arg = log.display().to_string();
    let mut s = Foreground::start(
        dir.path(),
        &[
            "--mpm",
            "prefork",
            "-C",
            "Listen 127.0.0.1:0",
            "-c",
            "StartServers 1",
            "-E",
            &log_arg,
            "-e",
            "debug",
        ],
    );
    let addr = s.addr_in(&log);
    assert!(hello(addr));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        cmd::listen_addrs(&text),
        vec![addr],
        "only -C's Listen:\n{text}"
    );
    assert!(
        text.contains("[mpm:debug]") && text.contains("Child 0 started"),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.iter().all(|l| apache_line(l)), "{text}");
    assert!(!s.stderr().contains("listening on"), "{}", s.stderr());
    // The default PidFile, relative to the working directory.
    assert_eq!(
        cmd::read_pid(&dir.path().join("httpd.pid")),
        Some(s.child.id() as i32)
    );
}

/// `ErrorLog` and `LogLevel` in the file: the log goes to that file (not stderr), at that
/// level (notice lines always, as Apache; no debug at `info`); an ErrorLog that cannot be
/// opened stops the start with its path and errno.
#[test]
fn error_log_and_log_level_directives() {
    let dir = tempfile::tempdir().unwrap();
    let error_log = dir.path().join("error_log");
    let conf = dir.path().join("httpd.conf");
    std::fs::write(
        &conf,
        format!(
            "Listen 127.0.0.1:0\nPidFile {}\nStartServers 1\nErrorLog {}\nLogLevel info\n",
            dir.path().join("httpd.pid").display(),
            error_log.display()
        ),
    )
    .unwrap();
    let conf_arg = conf.display().to_string();
    {
        let mut s = Foreground::start(dir.path(), &["--mpm", "prefork", "-f", &conf_arg]);
        let addr = s.addr_in(&error_log);
        assert!(hello(addr));
        let text = std::fs::read_to_string(&error_log).unwrap();
        assert!(
            text.contains("[mpm:notice]") && text.contains("resuming normal operations"),
            "{text}"
        );
        assert!(!text.contains("[mpm:debug]"), "{text}");
        assert!(text.lines().all(apache_line), "{text}");
        assert!(!s.stderr().contains("listening on"), "{}", s.stderr());
    }
    let missing = dir.path().join("no-such-dir").join("error_log");
    std::fs::write(
        &conf,
        format!("Listen 127.0.0.1:0\nErrorLog {}\n", missing.display()),
    )
    .unwrap();
    let out = cmd::run_in(dir.path(), &["-f", &conf_arg], Duration::from_secs(30));
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "could not open error log file {}: No such file or directory (os error 2)",
            missing.display()
        )),
        "{out:#?}"
    );
}

/// The tests' reading of log times agrees with the log's Apache date.
#[test]
fn log_line_time_reads_the_apache_date() {
    let t = common::log_line_time("[Mon Nov 30 23:49:18.198777 2026] [mpm:notice] [pid 1] x");
    assert_eq!(t, Some(1_796_082_558.198777));
    let t = common::log_line_time("[Tue Feb 29 00:00:00.000000 2000] [mpm:notice] x");
    assert_eq!(t, Some(951_782_400.0));
    assert_eq!(
        common::log_line_time("[1796082558.198777] [mpm:notice]"),
        None
    );
}
