//! The scoreboard's API on one process: header, process and worker slots, text, resets.

use mpm_core::mpm::MpmState;
use mpm_core::scoreboard::{
    Scoreboard, ScoreboardSnapshot, WorkerStatus, LAYOUT_VERSION, MAGIC, REQUEST_MAX,
};
use mpm_core::{Error, MpmKind};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[test]
fn create_sets_header() {
    let sb = Scoreboard::create(MpmKind::Worker, 4, 8).unwrap();
    assert_eq!(sb.kind(), MpmKind::Worker);
    assert_eq!(sb.server_limit(), 4);
    assert_eq!(sb.thread_limit(), 8);
    assert_eq!(sb.magic(), MAGIC);
    assert_eq!(sb.layout_version(), LAYOUT_VERSION);
    assert_eq!(sb.generation(), 0);
    assert_eq!(sb.master_pid(), 0);
    assert_eq!(sb.restart_time(), UNIX_EPOCH);

    sb.set_generation(3);
    sb.set_config_generation(4);
    sb.set_master_pid(1234);
    let t = UNIX_EPOCH + Duration::from_secs(1_795_705_445);
    sb.set_restart_time(t + Duration::from_millis(700));
    let clone = sb.clone();
    assert_eq!(clone.generation(), 3);
    assert_eq!(clone.config_generation(), 4);
    assert_eq!(clone.master_pid(), 1234);
    assert_eq!(clone.restart_time(), t, "kept to the second");
}

#[test]
fn the_published_state_reads_back_through_every_handle_and_the_snapshot() {
    let sb = Scoreboard::create(MpmKind::Event, 2, 2).unwrap();
    assert_eq!(sb.state(), MpmState::Starting, "a new mapping is starting");
    assert_eq!(sb.snapshot().state, MpmState::Starting);
    let clone = sb.clone();
    for state in [
        MpmState::Running,
        MpmState::Stopping,
        MpmState::Starting,
        MpmState::Running,
    ] {
        sb.set_state(state);
        assert_eq!(clone.state(), state);
        assert_eq!(clone.snapshot().state, state);
    }
}

#[test]
fn create_rejects_bad_limits() {
    assert!(matches!(
        Scoreboard::create(MpmKind::Prefork, 0, 1),
        Err(Error::Scoreboard(_))
    ));
    assert!(matches!(
        Scoreboard::create(MpmKind::Event, 1, 0),
        Err(Error::Scoreboard(_))
    ));
    assert!(matches!(
        Scoreboard::create(MpmKind::Event, u32::MAX, u32::MAX),
        Err(Error::Scoreboard(_))
    ));
}

#[test]
fn seed_sized_scoreboard_is_created() {
    let sb = Scoreboard::create(MpmKind::Worker, 200, 100).unwrap();
    sb.worker(199, 99).set_status(WorkerStatus::Ready);
    let snap = sb.snapshot();
    assert_eq!(snap.processes.len(), 200);
    assert!(snap.processes.iter().all(|p| p.workers.len() == 100));
    assert_eq!(snap.processes[199].workers[99].status, '_');
}

#[test]
fn letters_and_codes() {
    let letters: String = WorkerStatus::ALL.iter().map(|s| s.letter()).collect();
    assert_eq!(letters, ".S_RWKLDCGI");
    for (i, s) in WorkerStatus::ALL.iter().enumerate() {
        assert_eq!(*s as usize, i);
        assert_eq!(WorkerStatus::from_u8(i as u8), Some(*s));
        assert_eq!(WorkerStatus::from_letter(s.letter()), Some(*s));
    }
    assert_eq!(WorkerStatus::from_u8(11), None);
    assert_eq!(WorkerStatus::from_letter('X'), None);
    assert_eq!(WorkerStatus::from_letter(' '), None);
}

#[test]
fn process_slot_fields() {
    let sb = Scoreboard::create(MpmKind::Event, 2, 2).unwrap();
    let p = sb.process(1);
    assert_eq!(p.index(), 1);
    p.set_pid(4242);
    p.set_generation(7);
    p.set_quiescing(true);
    p.set_not_accepting(true);
    p.add_connections(5);
    p.sub_connections(2);
    p.sub_keep_alive(1); // saturates at 0
    p.add_keep_alive(u32::MAX);
    p.add_keep_alive(1); // saturates at MAX
    p.set_writing(4);
    p.add_closing(2);
    p.add_wait_io(1);
    let q = sb.process(1);
    assert_eq!(q.pid(), 4242);
    assert_eq!(q.generation(), 7);
    assert!(q.quiescing());
    assert!(q.not_accepting());
    assert_eq!(q.connections(), 3);
    assert_eq!(q.keep_alive(), u32::MAX);
    assert_eq!(q.writing(), 4);
    assert_eq!(q.closing(), 2);
    assert_eq!(q.wait_io(), 1);
    q.set_quiescing(false);
    assert!(!p.quiescing());
    // The worker handle of a process slot is the same record as Scoreboard::worker.
    p.worker(1).set_status(WorkerStatus::BusyWrite);
    assert_eq!(sb.worker(1, 1).status(), WorkerStatus::BusyWrite);
    let snap = sb.snapshot();
    let ps = &snap.processes[1];
    assert_eq!(
        (
            ps.slot,
            ps.pid,
            ps.generation,
            ps.quiescing,
            ps.not_accepting
        ),
        (1, 4242, 7, false, true)
    );
    assert_eq!(
        (
            ps.connections,
            ps.keep_alive,
            ps.writing,
            ps.closing,
            ps.wait_io
        ),
        (3, u32::MAX, 4, 2, 1)
    );
    assert_eq!(snap.processes[0].pid, 0);
}

#[test]
#[should_panic(expected = "out of range")]
fn process_out_of_range_panics() {
    let sb = Scoreboard::create(MpmKind::Prefork, 2, 1).unwrap();
    let _ = sb.process(2);
}

#[test]
#[should_panic(expected = "out of range")]
fn worker_out_of_range_panics() {
    let sb = Scoreboard::create(MpmKind::Worker, 2, 3).unwrap();
    let _ = sb.worker(0, 3);
}

#[test]
fn worker_counters() {
    let sb = Scoreboard::create(MpmKind::Worker, 1, 2).unwrap();
    let w = sb.worker(0, 1);
    assert_eq!(w.last_used(), None);
    let before = SystemTime::now();
    w.new_connection();
    w.start_request();
    std::thread::sleep(Duration::from_millis(5));
    w.finish_request(100);
    w.start_request();
    w.finish_request(50);
    assert_eq!(w.access_count(), 2);
    assert_eq!(w.my_access_count(), 2);
    assert_eq!(w.bytes_served(), 150);
    assert_eq!(w.my_bytes_served(), 150);
    assert_eq!(w.conn_count(), 2);
    assert_eq!(w.conn_bytes(), 150);
    assert!(w.last_used().unwrap() >= before);
    w.new_connection();
    assert_eq!((w.conn_count(), w.conn_bytes()), (0, 0));
    assert_eq!(w.access_count(), 2);
    let snap = w.snapshot();
    assert!(snap.duration_us >= 5_000, "{snap:?}");
    assert_eq!(snap.thread, 1);
    // The other slot is untouched.
    assert_eq!(sb.worker(0, 0).access_count(), 0);
}

#[test]
fn request_duration_in_progress_and_finished() {
    let sb = Scoreboard::create(MpmKind::Worker, 1, 1).unwrap();
    let w = sb.worker(0, 0);
    assert_eq!(w.snapshot().request_duration_ms, 0);
    w.start_request();
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        w.snapshot().request_duration_ms >= 20,
        "in progress counts time so far"
    );
    w.finish_request(1);
    let d = w.snapshot().request_duration_ms;
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(
        w.snapshot().request_duration_ms,
        d,
        "finished: fixed duration"
    );
}

#[test]
fn text_round_trip_and_truncation() {
    let sb = Scoreboard::create(MpmKind::Event, 1, 1).unwrap();
    let w = sb.worker(0, 0);
    assert_eq!(w.request(), "");
    w.set_client("2001:db8::1");
    w.set_request("GET /index.html HTTP/1.1");
    w.set_vhost("www.example.com:443");
    w.set_protocol("HTTP/1.1");
    assert_eq!(w.client(), "2001:db8::1");
    assert_eq!(w.request(), "GET /index.html HTTP/1.1");
    assert_eq!(w.vhost(), "www.example.com:443");
    assert_eq!(w.protocol(), "HTTP/1.1");

    // Exactly 63 bytes kept; a shorter rewrite leaves no tail behind.
    let long = format!("GET /{} HTTP/1.1", "a".repeat(200));
    w.set_request(&long);
    assert_eq!(w.request(), &long[..REQUEST_MAX]);
    assert_eq!(w.request().len(), 63);
    w.set_request("GET / HTTP/1.0");
    assert_eq!(w.request(), "GET / HTTP/1.0");

    // Truncation never splits a character.
    let utf8 = format!("GET /{} HTTP/1.1", "é".repeat(40));
    w.set_request(&utf8);
    let got = w.request();
    assert!(got.len() <= 63 && got.len() >= 62);
    assert!(utf8.starts_with(&got));

    let client = "c".repeat(100);
    w.set_client(&client);
    assert_eq!(w.client(), "c".repeat(63));
    w.set_vhost(&"v".repeat(50));
    assert_eq!(w.vhost().len(), 31);
    w.set_protocol(&"p".repeat(50));
    assert_eq!(w.protocol().len(), 15);

    let snap = w.snapshot();
    assert_eq!(snap.client, "c".repeat(63));
    assert_eq!(snap.request, got);
}

#[test]
fn request_password_is_stripped() {
    let sb = Scoreboard::create(MpmKind::Prefork, 1, 1).unwrap();
    let w = sb.worker(0, 0);
    w.set_request("GET http://alice:s3cret@example.com/private HTTP/1.1");
    assert_eq!(w.request(), "GET http://alice@example.com/private HTTP/1.1");
    // Stripped before truncation, so the secret never reaches the scoreboard.
    let pw = "p".repeat(80);
    w.set_request(&format!("GET https://bob:{pw}@h.example/ HTTP/1.1"));
    assert_eq!(w.request(), "GET https://bob@h.example/ HTTP/1.1");
    // Origin-form targets and user-only userinfo are left alone.
    w.set_request("GET /a:b@c HTTP/1.1");
    assert_eq!(w.request(), "GET /a:b@c HTTP/1.1");
    w.set_request("GET ftp://carol@h.example/ HTTP/1.1");
    assert_eq!(w.request(), "GET ftp://carol@h.example/ HTTP/1.1");
}

#[test]
fn reset_process_keeps_lifetime_totals() {
    let sb = Scoreboard::create(MpmKind::Worker, 2, 2).unwrap();
    let p = sb.process(0);
    p.set_pid(99);
    p.set_generation(2);
    p.set_quiescing(true);
    p.set_not_accepting(true);
    p.add_connections(3);
    p.add_keep_alive(1);
    for t in 0..2 {
        let w = p.worker(t);
        w.set_status(WorkerStatus::BusyWrite);
        w.set_client("10.0.0.1");
        w.set_request("GET / HTTP/1.1");
        w.start_request();
        w.finish_request(1000);
    }
    sb.worker(1, 0).set_status(WorkerStatus::Ready);

    sb.reset_process(0);
    let snap = sb.snapshot();
    let ps = &snap.processes[0];
    assert_eq!(ps.pid, 0);
    assert!(!ps.quiescing && !ps.not_accepting);
    assert_eq!((ps.connections, ps.keep_alive), (0, 0));
    for w in &ps.workers {
        assert_eq!(w.status, '.');
        assert_eq!((w.my_access_count, w.my_bytes_served), (0, 0));
        assert_eq!((w.conn_count, w.conn_bytes), (0, 0));
        assert_eq!((w.access_count, w.bytes_served), (1, 1000), "totals kept");
        assert_eq!(w.client, "");
        assert_eq!(w.request, "");
    }
    assert_eq!(
        snap.processes[1].workers[0].status, '_',
        "other slots untouched"
    );
}

#[test]
fn clear_zeroes_all_but_limits_kind_and_master() {
    let sb = Scoreboard::create(MpmKind::Event, 2, 2).unwrap();
    sb.set_master_pid(77);
    sb.set_generation(5);
    sb.set_config_generation(6);
    sb.set_restart_time(SystemTime::now());
    sb.process(1).set_pid(100);
    sb.process(1).add_connections(4);
    let w = sb.worker(1, 1);
    w.set_status(WorkerStatus::BusyRead);
    w.set_request("GET / HTTP/1.1");
    w.start_request();
    w.finish_request(10);

    sb.clear();
    assert_eq!(sb.hard_restarts(), 1);
    let snap = sb.snapshot();
    let mut expected = ScoreboardSnapshot::empty(MpmKind::Event, 2, 2);
    expected.master_pid = 77;
    expected.hard_restarts = 1;
    expected.lifecycle.hard_restarts = 1;
    assert_eq!(snap, expected);
    assert_eq!(sb.magic(), MAGIC);
}

#[test]
fn seqlock_readers_see_whole_text() {
    let sb = Scoreboard::create(MpmKind::Worker, 1, 1).unwrap();
    let a = "A".repeat(63);
    let b = "b".repeat(20);
    sb.worker(0, 0).set_request(&a);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut reads, mut torn) = (0u64, 0u64);
    std::thread::scope(|s| {
        s.spawn(|| {
            let w = sb.worker(0, 0);
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                w.set_request(if i % 2 == 0 { &b } else { &a });
                i += 1;
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let w = sb.worker(0, 0);
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < deadline {
            let r = w.request();
            reads += 1;
            if r != a && r != b {
                torn += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // Readers retry a bounded number of times and never block, so a torn read is possible
    // in theory under a writer that never pauses; in practice it must be (almost) absent.
    eprintln!("seqlock: {torn} torn of {reads} reads");
    assert!(reads > 1000, "reads {reads}");
    assert!(torn * 1000 <= reads, "torn {torn} of {reads}");
}

#[test]
fn snapshot_serde_round_trip() {
    let sb = Scoreboard::create(MpmKind::Event, 1, 2).unwrap();
    sb.process(0).set_pid(5);
    sb.worker(0, 1).set_status(WorkerStatus::Graceful);
    sb.worker(0, 1).set_client("127.0.0.1");
    let snap = sb.snapshot();
    let json = serde_json::to_string(&snap).unwrap();
    assert!(json.contains("\"status\":\"G\""), "{json}");
    assert!(json.contains("\"kind\":\"event\""), "{json}");
    let back: ScoreboardSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    assert_eq!(
        back.processes[0].workers[1].worker_status(),
        WorkerStatus::Graceful
    );
}
