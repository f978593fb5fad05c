//! systemd integration with real tools: socket activation under `systemd-socket-activate`
//! and the notify protocol on a real datagram socket.

mod common;

use common::{client, httpd_path, procs, wait_until};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kill a process tree on drop.
struct Kill(i32);
impl Drop for Kill {
    fn drop(&mut self) {
        let children = procs::children_of(self.0);
        procs::kill(self.0, libc::SIGTERM);
        if !wait_until(Duration::from_secs(12), || !procs::alive(self.0)) {
            procs::kill(self.0, libc::SIGKILL);
        }
        for c in children {
            procs::kill(c, libc::SIGKILL);
        }
    }
}

#[test]
fn socket_activation_with_systemd_socket_activate() {
    if !common::tools::require(
        "socket_activation_with_systemd_socket_activate",
        "systemd-socket-activate",
        "--help",
        "systemd",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("httpd.conf");
    // The configured Listen is never bound: the inherited socket replaces it.
    std::fs::write(
        &conf,
        format!(
            "Listen 127.0.0.1:1\nPidFile {}\nStartServers 2\n",
            dir.path().join("httpd.pid").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .arg(httpd_path())
        .arg("-f")
        .arg(&conf)
        .arg("--mpm=worker")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // systemd-socket-activate execs the server in place: same pid.
    let _guard = Kill(child.id() as i32);
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut last = None;
    let served = wait_until(Duration::from_secs(20), || {
        last = Some(client::get(addr, "/"));
        matches!(&last, Some(Ok(r)) if r.status == 200)
    });
    let log_text = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    assert!(served, "not served: {last:?}\n{log_text}");
    assert!(
        log_text.contains(&format!("listening on 127.0.0.1:{port}")),
        "{log_text}"
    );
    assert!(!log_text.contains("127.0.0.1:1"), "{log_text}");
    assert!(matches!(child.try_wait(), Ok(None)));
}

fn recv_until(sock: &UnixDatagram, what: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = msg.lines().any(|l| l == what);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }
    panic!("no {what} within {timeout:?}; got {seen:?}");
}

#[test]
fn sd_notify_ready_reloading_stopping_status_watchdog() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let conf = dir.path().join("httpd.conf");
    std::fs::write(
        &conf,
        format!(
            "Listen 127.0.0.1:0\nPidFile {}\nStartServers 2\n",
            dir.path().join("httpd.pid").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(httpd_path())
        .arg("-f")
        .arg(&conf)
        .arg("--mpm=event")
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let _guard = Kill(pid);
    let ready = recv_until(&sock, "READY=1", Duration::from_secs(20));
    let last = ready.last().unwrap();
    assert!(last.contains(&format!("MAINPID={pid}")), "{last}");
    assert!(last.contains("STATUS=generation 0"), "{last}");
    recv_until(&sock, "WATCHDOG=1", Duration::from_secs(5));
    procs::kill(pid, libc::SIGUSR1);
    let reload = recv_until(&sock, "READY=1", Duration::from_secs(20));
    assert!(
        reload
            .iter()
            .any(|m| m.starts_with("RELOADING=1\nMONOTONIC_USEC=")),
        "{reload:?}"
    );
    procs::kill(pid, libc::SIGTERM);
    recv_until(&sock, "STOPPING=1", Duration::from_secs(10));
    assert!(wait_until(Duration::from_secs(10), || matches!(
        child.try_wait(),
        Ok(Some(_))
    )));
}
