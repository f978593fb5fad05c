//! The HTML status page's structure (what a browser shows): columns by strategy, no
//! always-empty columns, cells that do not wrap, readable durations, Apache's CPU line.

use mpm_core::scoreboard::ScoreboardSnapshot;
use mpm_core::status::{format_duration_ms, render_html, CpuUsage, StatusContext};
use mpm_core::MpmKind;
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_795_705_445;

fn snapshot(kind: MpmKind) -> ScoreboardSnapshot {
    let mut s = ScoreboardSnapshot::empty(kind, 2, 12);
    s.generation = 1;
    s.restart_time = NOW - 100;
    s.master_pid = 42;
    let p = &mut s.processes[0];
    (p.pid, p.generation) = (100, 1);
    let w = &mut p.workers[10];
    w.status = 'W';
    (w.access_count, w.bytes_served, w.duration_us) = (3_300_000, 46_200_000, 1_001_000);
    w.client = "127.0.0.1".into();
    w.request = "GET / HTTP/1.1".into();
    s
}

fn ctx(kind: MpmKind) -> StatusContext {
    let mut c = StatusContext::new("localhost", kind, 2, 12);
    c.now = UNIX_EPOCH + Duration::from_secs(NOW);
    c.cpu = Some(CpuUsage {
        user: 1.5,
        system: 0.25,
        children_user: 0.0,
        children_system: 0.0,
    });
    c
}

#[test]
fn async_columns_only_for_the_strategy_that_has_async_connections() {
    for (kind, expected) in [
        (MpmKind::Prefork, false),
        (MpmKind::Worker, false),
        (MpmKind::Event, true),
    ] {
        let html = render_html(&snapshot(kind), &ctx(kind), None);
        assert_eq!(html.contains("Async connections"), expected, "{kind}");
        assert_eq!(
            html.contains("<th>total</th><th>accepting</th>"),
            expected,
            "{kind}"
        );
        // Every row has as many cells as the header announces.
        let columns = if expected { 4 + 2 + 3 + 4 } else { 4 + 3 };
        let row = html
            .lines()
            .find(|l| l.starts_with("<tr><td>0</td><td>100</td>"))
            .unwrap_or_else(|| panic!("{kind}: no process row:\n{html}"));
        assert_eq!(row.matches("<td>").count(), columns, "{kind}: {row}");
    }
}

#[test]
fn no_always_empty_columns_and_no_wrapping_cells() {
    let html = render_html(&snapshot(MpmKind::Worker), &ctx(MpmKind::Worker), None);
    assert!(!html.contains("<th>Protocol</th>") && !html.contains("<th>VHost</th>"));
    assert!(html.contains("<td>0-10</td>"), "{html}");
    // Only the request line may wrap.
    assert!(
        html.contains(
            "<td class=\"text\">127.0.0.1</td><td class=\"text request\">GET / HTTP/1.1</td>"
        ),
        "{html}"
    );
    assert!(html.contains("td.request{white-space:normal"), "{html}");
    assert!(
        html.contains("th,td{") && html.contains("white-space:nowrap"),
        "cells must not wrap"
    );
}

#[test]
fn readable_durations_and_the_cpu_line() {
    assert_eq!(format_duration_ms(0.000303323), "0.3 µs");
    assert_eq!(format_duration_ms(0.84), "840 µs");
    assert_eq!(format_duration_ms(12.34), "12.3 ms");
    assert_eq!(format_duration_ms(2500.0), "2.5 s");
    let html = render_html(&snapshot(MpmKind::Worker), &ctx(MpmKind::Worker), None);
    // 1 s over 3.3 million requests (the "0.000303323 ms/request").
    assert!(html.contains("0.3 µs/request"), "{html}");
    // 1.75 s of CPU in 100 s of uptime.
    assert!(
        html.contains("<dt>CPU Usage</dt><dd>u1.5 s0.25 cu0 cs0 &middot; 1.75% CPU load</dd>"),
        "{html}"
    );
    let mut c = ctx(MpmKind::Worker);
    c.cpu = None;
    assert!(!render_html(&snapshot(MpmKind::Worker), &c, None).contains("CPU Usage"));
}

#[test]
fn cpu_usage_reads_this_process() {
    let me = std::process::id();
    let cpu = CpuUsage::read(me, [me, 0]).expect("/proc/self/stat");
    assert!(cpu.user >= 0.0 && cpu.system >= 0.0 && cpu.total() >= 0.0);
}
