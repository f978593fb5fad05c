//! `server-status?auto` golden output, counting rules, scoreboard string, formatting helpers.

use mpm_core::scoreboard::{ScoreboardSnapshot, WorkerSnapshot};
use mpm_core::status::{
    format_apache_time, format_g, format_uptime, parse_refresh, render_auto, scoreboard_string,
    worker_counts, StatusContext, WorkerCounts,
};
use mpm_core::MpmKind;
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_795_705_445; // Thursday, 26-Nov-2026 15:04:05 UTC
const UPTIME: u64 = 93_784; // 1 day 2 hours 3 minutes 4 seconds

fn set(snap: &mut ScoreboardSnapshot, slot: usize, letters: &str) {
    for (t, c) in letters.chars().enumerate() {
        snap.processes[slot].workers[t].status = c;
    }
}

fn worker(snap: &mut ScoreboardSnapshot, slot: usize, t: usize) -> &mut WorkerSnapshot {
    &mut snap.processes[slot].workers[t]
}

/// The event snapshot shared by the golden tests.
pub fn event_snapshot() -> ScoreboardSnapshot {
    let mut s = ScoreboardSnapshot::empty(MpmKind::Event, 4, 4);
    s.generation = 3;
    s.config_generation = 4;
    s.restart_time = NOW - UPTIME;
    s.master_pid = 1;
    // Slot 0: current generation, running.
    let p = &mut s.processes[0];
    (p.pid, p.generation, p.connections, p.keep_alive) = (100, 3, 7, 2);
    (p.writing, p.closing, p.wait_io) = (1, 1, 1);
    set(&mut s, 0, "_WKG");
    // Slot 1: old generation, stopping: not counted in Busy/Idle/Graceful.
    let p = &mut s.processes[1];
    (p.pid, p.generation, p.quiescing, p.connections, p.closing) = (101, 2, true, 1, 1);
    p.not_accepting = true;
    set(&mut s, 1, "GW..");
    // Slot 2: old generation, not stopping: its `_` is not idle.
    let p = &mut s.processes[2];
    (p.pid, p.generation) = (102, 2);
    set(&mut s, 2, "_SR.");
    // Totals (slot 3 is dead but keeps its lifetime totals).
    let w = worker(&mut s, 0, 0);
    (w.access_count, w.bytes_served, w.duration_us) = (10, 10_240, 50_000);
    let w = worker(&mut s, 0, 1);
    (w.access_count, w.bytes_served, w.duration_us) = (5, 2_048, 25_000);
    w.client = "192.0.2.7".into();
    w.request = "GET /<script> HTTP/1.1".into();
    let w = worker(&mut s, 1, 0);
    (w.access_count, w.bytes_served, w.duration_us) = (1, 0, 1_000);
    let w = worker(&mut s, 3, 0);
    (w.access_count, w.bytes_served, w.duration_us) = (4, 4_096, 4_000);
    s
}

fn ctx(kind: MpmKind, max_daemons: u32, tpc: u32) -> StatusContext {
    let mut c = StatusContext::new("www.example.com", kind, max_daemons, tpc);
    c.server_version = "mpm/0.1.0 (Unix)".into();
    c.server_built = "Nov 26 2026 12:00:00".into();
    c.now = UNIX_EPOCH + Duration::from_secs(NOW);
    c.load = Some([0.5, 0.25, 1.0]);
    c
}

#[test]
fn golden_event_auto() {
    let snap = event_snapshot();
    let got = render_auto(&snap, &ctx(MpmKind::Event, 3, 3));
    let expected = "\
www.example.com
ServerVersion: mpm/0.1.0 (Unix)
ServerMPM: event
Server Built: Nov 26 2026 12:00:00
CurrentTime: Thursday, 26-Nov-2026 15:04:05 UTC
RestartTime: Wednesday, 25-Nov-2026 13:01:01 UTC
ParentServerConfigGeneration: 4
ParentServerMPMGeneration: 3
ServerUptimeSeconds: 93784
ServerUptime: 1 day 2 hours 3 minutes 4 seconds
Load1: 0.50
Load5: 0.25
Load15: 1.00
Total Accesses: 20
Total kBytes: 16
Total Duration: 80
Uptime: 93784
ReqPerSec: 0.000213256
BytesPerSec: 0.174699
BytesPerReq: 819.2
DurationPerReq: 4
BusyWorkers: 3
GracefulWorkers: 1
IdleWorkers: 1
Processes: 3
Stopping: 1
ConnsTotal: 8
ConnsAsyncWaitIO: 1
ConnsAsyncWriting: 1
ConnsAsyncKeepAlive: 2
ConnsAsyncClosing: 2
Scoreboard: _WKGGW._SR
";
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(g, e, "line {}", i + 1);
    }
    assert_eq!(got, expected);
}

#[test]
fn golden_prefork_auto_fresh_start() {
    let mut snap = ScoreboardSnapshot::empty(MpmKind::Prefork, 8, 1);
    snap.config_generation = 1;
    snap.restart_time = NOW;
    for slot in 0..3 {
        snap.processes[slot].pid = 200 + slot as i32;
        set(&mut snap, slot, "_");
    }
    let mut c = ctx(MpmKind::Prefork, 5, 1);
    c.load = None;
    let got = render_auto(&snap, &c);
    // Zero uptime and no accesses: no rate lines; ServerUptime empty after the colon.
    let expected = "\
www.example.com
ServerVersion: mpm/0.1.0 (Unix)
ServerMPM: prefork
Server Built: Nov 26 2026 12:00:00
CurrentTime: Thursday, 26-Nov-2026 15:04:05 UTC
RestartTime: Thursday, 26-Nov-2026 15:04:05 UTC
ParentServerConfigGeneration: 1
ParentServerMPMGeneration: 0
ServerUptimeSeconds: 0
ServerUptime:
Load1: -1.00
Load5: -1.00
Load15: -1.00
Total Accesses: 0
Total kBytes: 0
Total Duration: 0
Uptime: 0
BusyWorkers: 0
GracefulWorkers: 0
IdleWorkers: 3
Scoreboard: ___..
";
    assert_eq!(got, expected);
}

#[test]
fn extended_status_off_hides_totals() {
    let snap = event_snapshot();
    let mut c = ctx(MpmKind::Worker, 3, 3);
    c.extended_status = false;
    let mut snap = snap;
    snap.kind = MpmKind::Worker;
    let got = render_auto(&snap, &c);
    for absent in [
        "Total Accesses",
        "Total kBytes",
        "Total Duration",
        "\nUptime:",
        "ReqPerSec",
        "BytesPerSec",
        "BytesPerReq",
        "DurationPerReq",
        "Processes:",
        "ConnsTotal",
    ] {
        assert!(!got.contains(absent), "{absent} in\n{got}");
    }
    let tail: Vec<&str> = got.lines().skip(13).collect();
    assert_eq!(
        tail,
        [
            "BusyWorkers: 3",
            "GracefulWorkers: 1",
            "IdleWorkers: 1",
            "Scoreboard: _WKGGW._SR"
        ]
    );
}

#[test]
fn counting_rules() {
    let snap = event_snapshot();
    assert_eq!(
        worker_counts(&snap),
        WorkerCounts {
            busy: 3,
            idle: 1,
            graceful: 1
        }
    );
    // Every busy letter counts as busy; `.`, `S`, `I` count as nothing.
    let mut s = ScoreboardSnapshot::empty(MpmKind::Worker, 2, 11);
    s.processes[0].pid = 10;
    set(&mut s, 0, ".S_RWKLDCGI");
    assert_eq!(
        worker_counts(&s),
        WorkerCounts {
            busy: 6,
            idle: 1,
            graceful: 1
        }
    );
    // A slot without a pid counts nothing, whatever its letters.
    set(&mut s, 1, "RRRRR______");
    assert_eq!(worker_counts(&s).busy, 6);
    // Quiescing processes count nothing.
    s.processes[0].quiescing = true;
    assert_eq!(worker_counts(&s), WorkerCounts::default());
}

#[test]
fn scoreboard_string_lengths() {
    // prefork defaults: ServerLimit 256, MaxRequestWorkers 256.
    let s = ScoreboardSnapshot::empty(MpmKind::Prefork, 256, 1);
    assert_eq!(scoreboard_string(&s, 256, 1).len(), 256);
    // worker/event defaults: ServerLimit 16, ThreadLimit 64, ThreadsPerChild 25, MRW 400.
    for kind in [MpmKind::Worker, MpmKind::Event] {
        let s = ScoreboardSnapshot::empty(kind, 16, 64);
        let sb = scoreboard_string(&s, 16, 25);
        assert_eq!(sb.len(), 400);
        assert!(sb.chars().all(|c| c == '.'));
    }
    // The seed configuration: ServerLimit 200, ThreadLimit 100, TPC 100, MRW 5000.
    let s = ScoreboardSnapshot::empty(MpmKind::Worker, 200, 100);
    assert_eq!(scoreboard_string(&s, 5000 / 100, 100).len(), 5000);
    // A live slot beyond the limits is shown (not disabled).
    let mut s = ScoreboardSnapshot::empty(MpmKind::Worker, 16, 64);
    s.processes[15].workers[63].status = 'G';
    let sb = scoreboard_string(&s, 16, 25);
    assert_eq!(sb.len(), 401);
    assert!(sb.ends_with('G'));
}

#[test]
fn percent_g() {
    for (v, e) in [
        (0.25, "0.25"),
        (2048.0, "2048"),
        (4.0 / 3.0, "1.33333"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1.234e-5, "1.234e-05"),
        (123_456.0, "123456"),
        (1_234_567.0, "1.23457e+06"),
        (999_999.5, "1e+06"),
        (100_000.0, "100000"),
        (1e100, "1e+100"),
        (-2.5, "-2.5"),
        (0.1 + 0.2, "0.3"),
        (0.0, "0"),
        (819.2, "819.2"),
        (20.0 / 93_784.0, "0.000213256"),
        (f64::INFINITY, "inf"),
    ] {
        assert_eq!(format_g(v), e, "{v}");
    }
}

#[test]
fn uptime_text() {
    assert_eq!(format_uptime(0), "");
    assert_eq!(format_uptime(1), " 1 second");
    assert_eq!(format_uptime(60), " 1 minute");
    assert_eq!(format_uptime(3601), " 1 hour 1 second");
    assert_eq!(format_uptime(2 * 86_400 + 120), " 2 days 2 minutes");
    assert_eq!(format_uptime(UPTIME), " 1 day 2 hours 3 minutes 4 seconds");
}

#[test]
fn time_format() {
    let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
    assert_eq!(format_apache_time(t), "Tuesday, 29-Feb-2000 00:00:00 UTC");
    let t = UNIX_EPOCH + Duration::from_secs(NOW);
    assert_eq!(format_apache_time(t), "Thursday, 26-Nov-2026 15:04:05 UTC");
}

#[test]
fn refresh_parameter() {
    assert_eq!(parse_refresh(""), None);
    assert_eq!(parse_refresh("auto"), None);
    assert_eq!(parse_refresh("refresh=5"), Some(5));
    assert_eq!(parse_refresh("?auto&refresh=30"), Some(30));
    assert_eq!(parse_refresh("refresh=42;fish"), Some(42));
    assert_eq!(parse_refresh("refresh=fish"), Some(10));
    assert_eq!(parse_refresh("refresh=0"), Some(10));
    assert_eq!(parse_refresh("refresh=-3"), Some(10));
    assert_eq!(parse_refresh("refresh"), Some(10));
    assert_eq!(parse_refresh("refresh=99999999999999"), Some(u32::MAX));
    assert_eq!(parse_refresh("norefresh=5"), None);
}
