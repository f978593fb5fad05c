//! `/metrics`: Prometheus text exposition of the scoreboard and lifecycle, checked by
//! `promtool check metrics` (Debian package prometheus) and by its values.

mod common;

use common::{client, procs, wait_until, Server};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn promtool_check(text: &str) -> Option<(bool, String)> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let msg = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), msg))
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn scrape_after_lifecycle(mpm: &'static str) {
    let conf = match mpm {
        "prefork" => "StartServers 2\nMinSpareServers 1\nMaxSpareServers 5\n",
        // The example's own strategy: a fixed set of processes, no spare directives.
        "reactor" => "StartServers 2\n",
        _ => "StartServers 2\nThreadsPerChild 4\nThreadLimit 4\nServerLimit 8\nMinSpareThreads 1\nMaxSpareThreads 40\nMaxRequestWorkers 16\n",
    };
    let server = Server::start(mpm, conf);
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    for _ in 0..10 {
        assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
    }
    // A streamed response is counted once its last byte is written, which can be after
    // the client has it: wait until all ten are counted (and every earlier scrape, each
    // one a request too) before a child is killed, or its uncounted request is lost.
    let mut scrapes = 0.0;
    assert!(wait_until(Duration::from_secs(10), || {
        let counted = client::get(server.addr, "/metrics")
            .ok()
            .and_then(|r| value(&r.body_text(), "mpm_accesses_total"));
        let settled = counted.is_some_and(|n| n >= 10.0 + scrapes);
        scrapes += 1.0;
        settled
    }));
    let victim = server.children()[0];
    procs::kill(victim, libc::SIGABRT);
    assert!(wait_until(Duration::from_secs(5), || server
        .log()
        .contains("exit signal SIGABRT")));
    server.signal(libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(10), || {
        client::get(server.addr, "/metrics")
            .map(|r| value(&r.body_text(), "mpm_generation") == Some(1.0))
            .unwrap_or(false)
    }));
    let r = client::get(server.addr, "/metrics").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.body_text();
    assert!(
        value(&text, "mpm_accesses_total").unwrap() >= 10.0,
        "{text}"
    );
    assert_eq!(
        value(&text, "mpm_restarts_total{kind=\"graceful\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "mpm_child_crashes_total{signal=\"SIGABRT\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains(&format!("mpm_info{{mpm=\"{mpm}\"")), "{text}");
    match promtool_check(&text) {
        Some((ok, msg)) => assert!(ok, "promtool check metrics failed:\n{msg}\n{text}"),
        None => {
            common::tools::skip_or_fail(
                &format!("promtool check of {mpm}'s /metrics"),
                "promtool is not installed (Debian package prometheus)",
            );
        }
    }
}

#[test]
fn metrics_prefork() {
    scrape_after_lifecycle("prefork");
}

#[test]
fn metrics_worker() {
    scrape_after_lifecycle("worker");
}

#[test]
fn metrics_event() {
    scrape_after_lifecycle("event");
}

#[test]
fn metrics_reactor() {
    scrape_after_lifecycle("reactor");
}
