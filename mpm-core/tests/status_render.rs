//! JSON golden output and the HTML page.
#![recursion_limit = "256"]

use mpm_core::mpm::MpmState;
use mpm_core::scoreboard::ScoreboardSnapshot;
use mpm_core::status::{render_html, render_json, render_prometheus, StatusContext, StatusReport};
use mpm_core::MpmKind;
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_795_705_445;

fn snapshot() -> ScoreboardSnapshot {
    let mut s = ScoreboardSnapshot::empty(MpmKind::Event, 3, 2);
    s.generation = 2;
    s.config_generation = 3;
    s.restart_time = NOW - 100;
    s.master_pid = 42;
    s.state = MpmState::Running;
    let p = &mut s.processes[0];
    (p.pid, p.generation, p.connections, p.keep_alive, p.wait_io) = (100, 2, 3, 1, 1);
    let w = &mut p.workers[0];
    w.status = 'W';
    (
        w.access_count,
        w.my_access_count,
        w.bytes_served,
        w.my_bytes_served,
    ) = (6, 4, 3072, 2048);
    (w.conn_count, w.conn_bytes, w.duration_us) = (2, 512, 120_000);
    (w.last_used, w.request_duration_ms) = ((NOW - 5) * 1_000_000, 7);
    w.client = "198.51.100.9".into();
    w.request = "GET /?q=<b>&x=\"1\" HTTP/1.1".into();
    w.vhost = "www.example.com:80".into();
    w.protocol = "HTTP/1.1".into();
    p.workers[1].status = '_';
    let p = &mut s.processes[1];
    (p.pid, p.generation, p.quiescing, p.not_accepting, p.closing) = (101, 1, true, true, 2);
    p.workers[0].status = 'G';
    let w = &mut s.processes[2].workers[0];
    (w.access_count, w.bytes_served, w.duration_us) = (2, 1024, 40_000);
    s
}

fn ctx() -> StatusContext {
    let mut c = StatusContext::new("www.example.com", MpmKind::Event, 2, 2);
    c.server_version = "mpm/0.1.0 (Unix)".into();
    c.server_built = "test build".into();
    c.now = UNIX_EPOCH + Duration::from_secs(NOW);
    c.load = Some([0.5, 0.25, 1.0]);
    c
}

#[test]
fn golden_json() {
    let text = render_json(&snapshot(), &ctx());
    let got: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = json!({
        "server_name": "www.example.com",
        "server_version": "mpm/0.1.0 (Unix)",
        "server_mpm": "event",
        "server_built": "test build",
        "current_time": NOW,
        "restart_time": NOW - 100,
        "config_generation": 3,
        "mpm_generation": 2,
        "mpm_state": "running",
        "uptime_seconds": 100,
        "load": [0.5, 0.25, 1.0],
        "extended_status": true,
        "total_accesses": 8,
        "total_bytes": 4096,
        "total_kbytes": 4,
        "total_duration_ms": 160,
        "req_per_sec": 0.08,
        "bytes_per_sec": 40.96,
        "bytes_per_req": 512.0,
        "duration_per_req_ms": 20.0,
        "busy_workers": 1,
        "graceful_workers": 0,
        "idle_workers": 1,
        "process_count": 2,
        "stopping_count": 1,
        "conns_total": 3,
        "conns_async_wait_io": 1,
        "conns_async_writing": 0,
        "conns_async_keep_alive": 1,
        "conns_async_closing": 2,
        "scoreboard": "W_G.",
        "processes": [
            {
                "slot": 0, "pid": 100, "generation": 2, "stopping": false,
                "old_generation": false, "accepting": true, "connections": 3,
                "busy": 1, "graceful": 0, "idle": 1,
                "wait_io": 1, "writing": 0, "keep_alive": 1, "closing": 0
            },
            {
                "slot": 1, "pid": 101, "generation": 1, "stopping": true,
                "old_generation": true, "accepting": false, "connections": 0,
                "busy": 0, "graceful": 1, "idle": 0,
                "wait_io": 0, "writing": 0, "keep_alive": 0, "closing": 2
            }
        ],
        "workers": [
            {
                "slot": 0, "thread": 0, "pid": 100, "status": "W",
                "conn_count": 2, "child_accesses": 4, "slot_accesses": 6,
                "conn_bytes": 512, "child_bytes": 2048, "slot_bytes": 3072,
                "request_duration_ms": 7, "seconds_since_last_used": 5,
                "client": "198.51.100.9", "vhost": "www.example.com:80",
                "protocol": "HTTP/1.1", "request": "GET /?q=<b>&x=\"1\" HTTP/1.1"
            },
            {
                "slot": 0, "thread": 1, "pid": 100, "status": "_",
                "conn_count": 0, "child_accesses": 0, "slot_accesses": 0,
                "conn_bytes": 0, "child_bytes": 0, "slot_bytes": 0,
                "request_duration_ms": 0, "seconds_since_last_used": null,
                "client": "", "vhost": "", "protocol": "", "request": ""
            },
            {
                "slot": 1, "thread": 0, "pid": 101, "status": "G",
                "conn_count": 0, "child_accesses": 0, "slot_accesses": 0,
                "conn_bytes": 0, "child_bytes": 0, "slot_bytes": 0,
                "request_duration_ms": 0, "seconds_since_last_used": null,
                "client": "", "vhost": "", "protocol": "", "request": ""
            }
        ]
    });
    let (g, e) = (got.as_object().unwrap(), expected.as_object().unwrap());
    for (k, v) in e {
        assert_eq!(g.get(k), Some(v), "field {k}");
    }
    assert_eq!(g.len(), e.len(), "no unexpected fields");
    // The document deserializes into the public struct.
    let report: StatusReport = serde_json::from_str(&text).unwrap();
    assert_eq!(report.scoreboard, "W_G.");
}

#[test]
fn json_without_extended_status() {
    let mut c = ctx();
    c.extended_status = false;
    let got: serde_json::Value = serde_json::from_str(&render_json(&snapshot(), &c)).unwrap();
    for k in [
        "total_accesses",
        "total_bytes",
        "total_kbytes",
        "total_duration_ms",
        "req_per_sec",
        "bytes_per_sec",
        "bytes_per_req",
        "duration_per_req_ms",
    ] {
        assert_eq!(got[k], serde_json::Value::Null, "{k}");
    }
    assert_eq!(got["workers"], json!([]));
    assert_eq!(got["busy_workers"], 1);
}

#[test]
fn html_page() {
    let html = render_html(&snapshot(), &ctx(), Some(0));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"));
    assert!(html.contains("<title>Server Status for www.example.com</title>"));
    // Escaped request text; the raw markup never appears.
    assert!(html.contains("GET /?q=&lt;b&gt;&amp;x=&quot;1&quot; HTTP/1.1"));
    assert!(!html.contains("<b>&x"));
    // Coloured letters and the legend.
    assert!(html.contains("<span class=\"write\">W</span>"));
    assert!(html.contains("<span class=\"dead\">.</span>"));
    assert!(html.contains("Waiting for Connection"));
    assert!(html.contains("Open slot with no current process"));
    assert!(html.contains("Gracefully finishing"));
    // Process table: stopping old-generation child, not accepting.
    assert!(html.contains("<td>yes (old gen)</td><td>0</td><td>no</td>"));
    assert!(html.contains("<td>no</td><td>3</td><td>yes</td>"));
    // Worker table lists non-dead slots only.
    assert!(html.contains("<td>0-0</td>"));
    assert!(html.contains("<td>1-0</td>"));
    assert!(!html.contains("<td>2-0</td>"));
    assert!(html.trim_end().ends_with("</html>"));

    assert!(!render_html(&snapshot(), &ctx(), None).contains("http-equiv"));
    assert!(render_html(&snapshot(), &ctx(), Some(42)).contains("content=\"42\""));
}

#[test]
fn html_grid_wraps_every_64() {
    let mut s = ScoreboardSnapshot::empty(MpmKind::Worker, 16, 64);
    s.processes[0].pid = 1;
    s.processes[0].workers[3].status = 'R';
    let mut c = ctx();
    c.kind = MpmKind::Worker;
    c.max_daemons = 16;
    c.threads_per_child = 25;
    let html = render_html(&s, &c, None);
    let start = html.find("<pre class=\"scoreboard\">").unwrap();
    let end = html[start..].find("</pre>").unwrap() + start;
    let grid = &html[start..end];
    let rows: Vec<String> = grid
        .lines()
        .map(|l| {
            // Drop the markup, keep the letters.
            let mut out = String::new();
            let mut in_tag = false;
            for ch in l.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out
        })
        .collect();
    assert_eq!(rows.len(), 7, "400 letters = 6 rows of 64 + 16");
    assert!(rows[..6].iter().all(|r| r.chars().count() == 64));
    assert_eq!(rows[6].chars().count(), 16);
    assert_eq!(rows[0].chars().nth(3), Some('R'));
}

#[test]
fn prometheus_text() {
    let mut c = ctx();
    c.server_name = "a\"b".into();
    let text = render_prometheus(&snapshot(), &c);
    for line in [
        "# TYPE mpm_info gauge",
        "mpm_info{mpm=\"event\",version=\"mpm/0.1.0 (Unix)\",server=\"a\\\"b\"} 1",
        "mpm_uptime_seconds 100",
        "mpm_generation 2",
        "mpm_config_generation 3",
        "# TYPE mpm_accesses_total counter",
        "mpm_accesses_total 8",
        "mpm_sent_bytes_total 4096",
        "mpm_request_duration_seconds_total 0.16",
        "mpm_workers{state=\"busy\"} 1",
        "mpm_workers{state=\"idle\"} 1",
        "mpm_workers{state=\"graceful\"} 0",
        "mpm_scoreboard{state=\"write\"} 1",
        "mpm_scoreboard{state=\"dead\"} 1",
        "mpm_processes{state=\"running\"} 1",
        "mpm_processes{state=\"stopping\"} 1",
        "mpm_connections{state=\"total\"} 3",
        "mpm_connections{state=\"closing\"} 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.ends_with('\n'));
}
