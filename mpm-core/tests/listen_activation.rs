//! systemd socket activation with a real inherited descriptor.
//!
//! `harness = false`: `main` is single-threaded, so changing the environment is sound. The
//! test re-executes itself (through `sh`, so that `LISTEN_PID` can name the final process)
//! with `MPM_ADOPT_PROBE` set; the probe adopts, accepts one connection and writes its pid.

use mpm_core::listen::{adopt_systemd, bind_all, is_cloexec, BindOptions, ListenSpec};
use mpm_core::Error;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROBE: &str = "MPM_ADOPT_PROBE";

fn main() {
    match std::env::var(PROBE).as_deref() {
        Ok("accept") => probe_accept(),
        Ok("refuse") => probe_refuse(),
        _ => {
            run("absent or foreign LISTEN_PID is ignored", ignored_cases);
            run("inherited listener is adopted", adopted_listener_serves);
            run(
                "a non-listening descriptor is refused",
                non_listener_refused,
            );
            println!("listen_activation: all passed");
        }
    }
}

fn run(name: &str, f: fn()) {
    print!("test {name} ... ");
    f();
    println!("ok");
}

/// Probe: adopt fd 3, check it, accept one connection and write our pid to it.
fn probe_accept() {
    let ls = adopt_systemd()
        .expect("adopt_systemd")
        .expect("LISTEN_PID should name this process");
    assert_eq!(ls.len(), 1);
    assert_eq!(ls[0].socket.as_raw_fd(), 3);
    assert!(is_cloexec(&ls[0]), "adopted sockets are made close-on-exec");
    for v in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        assert!(std::env::var_os(v).is_none(), "{v} should be unset");
    }
    // Adopting twice finds nothing (the variables are gone).
    assert!(adopt_systemd().unwrap().is_none());
    let want: std::net::SocketAddr = std::env::var("EXPECT_ADDR").unwrap().parse().unwrap();
    assert_eq!(ls[0].local_addr, want);
    let (mut s, _) = ls[0].socket.accept().expect("accept");
    write!(s, "{}", std::process::id()).unwrap();
}

/// Probe: fd 3 is a connected (not listening) socket, adoption must fail.
fn probe_refuse() {
    match adopt_systemd() {
        Err(Error::SocketActivation(msg)) => {
            assert!(msg.contains("not a listening socket"), "{msg}");
            println!("refused: {msg}");
        }
        other => panic!("expected a SocketActivation error, got {other:?}"),
    }
}

fn ignored_cases() {
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    assert!(adopt_systemd().unwrap().is_none());
    // Meant for another process (our parent, say): ignored, variables left alone.
    let other = std::process::id() + 1;
    std::env::set_var("LISTEN_PID", other.to_string());
    std::env::set_var("LISTEN_FDS", "1");
    assert!(adopt_systemd().unwrap().is_none());
    assert_eq!(std::env::var("LISTEN_PID").unwrap(), other.to_string());
    // Malformed values are errors.
    std::env::set_var("LISTEN_PID", "12abc");
    assert!(matches!(adopt_systemd(), Err(Error::SocketActivation(_))));
    std::env::set_var("LISTEN_PID", std::process::id().to_string());
    std::env::set_var("LISTEN_FDS", "many");
    assert!(matches!(adopt_systemd(), Err(Error::SocketActivation(_))));
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
}

/// Spawn this test binary as a probe, with `fd` as its descriptor 3 and `LISTEN_PID` set to
/// the probe's own pid (`sh` exports its pid, then `exec`s the probe in the same process).
fn spawn_probe(mode: &str, fd: RawFd, extra: &[(&str, String)]) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$; export LISTEN_PID; exec \"$0\"")
        .arg(exe)
        .env(PROBE, mode)
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "http")
        .env_remove("LISTEN_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    // SAFETY: the closure runs in the forked child before exec and only calls dup2 and
    // fcntl, which are async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                // dup2(3, 3) would keep FD_CLOEXEC: clear it instead.
                if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().expect("spawn probe")
}

fn wait_bounded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("probe did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn adopted_listener_serves() {
    let ls = bind_all(
        &[ListenSpec::new("127.0.0.1:0".parse().unwrap())],
        BindOptions {
            backlog: 8,
            reuse_port: false,
        },
    )
    .unwrap();
    let addr = ls[0].local_addr;
    let mut child = spawn_probe(
        "accept",
        ls[0].socket.as_raw_fd(),
        &[("EXPECT_ADDR", addr.to_string())],
    );
    // The listener is shared with the child; we only connect.
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut got = String::new();
    c.read_to_string(&mut got).unwrap();
    let st = wait_bounded(&mut child);
    assert!(st.success(), "probe failed: {st:?}");
    assert_eq!(got, child.id().to_string(), "the probe itself answered");
}

fn non_listener_refused() {
    let ls = bind_all(
        &[ListenSpec::new("127.0.0.1:0".parse().unwrap())],
        BindOptions {
            backlog: 8,
            reuse_port: false,
        },
    )
    .unwrap();
    let conn = TcpStream::connect(ls[0].local_addr).unwrap();
    let mut child = spawn_probe("refuse", conn.as_raw_fd(), &[]);
    let st = wait_bounded(&mut child);
    assert!(st.success(), "probe failed: {st:?}");
}
