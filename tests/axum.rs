//! An axum Router runs unchanged under every strategy (examples/axum.rs), served
//! natively: streamed bodies, and WebSockets through axum's own `WebSocketUpgrade`.

mod common;

use common::{client, example_path, procs, wait_until, websocket};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

fn serve_axum(mpm: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(example_path("axum"))
        .args(["--mpm", mpm, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut addr: Option<SocketAddr> = None;
    let up = wait_until(Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        addr = text.lines().find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .and_then(|a| a.trim().parse().ok())
        });
        addr.is_some()
    });
    let result = std::panic::catch_unwind(|| {
        assert!(up, "axum example did not start");
        let addr = addr.unwrap();
        let r = client::get(addr, "/").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_text(), "Hello from axum\n");
        let r = client::get(addr, "/json").unwrap();
        assert_eq!(r.body_text(), r#"{"served_by":"axum"}"#);
        // Served by a child of the master, not the master itself.
        let served_by: i32 = client::get(addr, "/pid")
            .unwrap()
            .body_text()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(procs::stat(served_by).map(|s| s.0), Some(pid));
        // The request body streams back.
        let r = client::request(addr, "POST", "/echo", b"streamed through axum").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_text(), "streamed through axum");
        // axum's own WebSocketUpgrade: two messages echoed on one upgraded connection.
        let mut ws = websocket::connect(addr, "/ws");
        for msg in ["first", "second message"] {
            ws.send_text(msg);
            assert_eq!(ws.recv_text(), msg);
        }
        ws.close();
        let mut conn = client::Conn::open(addr).unwrap();
        for _ in 0..3 {
            assert_eq!(conn.get("/").unwrap().status, 200);
        }
    });
    let children = procs::children_of(pid);
    procs::kill(pid, libc::SIGTERM);
    if !wait_until(Duration::from_secs(12), || {
        matches!(child.try_wait(), Ok(Some(_)))
    }) {
        procs::kill(pid, libc::SIGKILL);
        let _ = child.wait();
    }
    for c in children {
        procs::kill(c, libc::SIGKILL);
    }
    if let Err(e) = result {
        eprintln!("{}", std::fs::read_to_string(&log_path).unwrap_or_default());
        std::panic::resume_unwind(e);
    }
}

#[test]
fn axum_under_prefork() {
    serve_axum("prefork");
}

#[test]
fn axum_under_worker() {
    serve_axum("worker");
}

#[test]
fn axum_under_event() {
    serve_axum("event");
}
