//! A real fork: a child writes its scoreboard slots, the parent sees every value.
//!
//! Runs without the libtest harness (`harness = false`) so the process is single-threaded
//! when it forks. Prints `N passed, M failed` and exits non-zero on failure.

use mpm_core::scoreboard::{Scoreboard, WorkerStatus};
use mpm_core::MpmKind;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, ForkResult, Pid};
use std::time::{Duration, Instant};

const SLOT: usize = 2;
const GO: u32 = 9;
const DEADLINE: Duration = Duration::from_secs(10);

macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), stringify!($cond)));
        }
    };
    ($left:expr, $right:expr) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{}:{}: {} = {:?}, expected {:?}",
                file!(),
                line!(),
                stringify!($left),
                l,
                r
            ));
        }
    }};
}

/// What the child does in its slot. Returns the exit code.
fn child(sb: &Scoreboard) -> i32 {
    // Wait for the parent's signal written after the fork: proves parent → child sharing.
    let start = Instant::now();
    while sb.config_generation() != GO {
        if start.elapsed() > DEADLINE {
            return 3;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let p = sb.process(SLOT);
    p.set_pid(getpid().as_raw());
    p.set_generation(sb.generation());
    p.set_not_accepting(true);
    p.add_connections(3);
    p.add_keep_alive(2);
    p.add_writing(1);
    p.add_closing(1);
    p.add_wait_io(1);
    p.worker(0).set_status(WorkerStatus::Ready);
    let w = p.worker(1);
    w.set_status(WorkerStatus::BusyWrite);
    w.set_client("203.0.113.5");
    w.set_request("GET http://u:pw@example.com/fork HTTP/1.1");
    w.set_vhost("example.com:80");
    w.set_protocol("HTTP/1.1");
    w.new_connection();
    for bytes in [100, 200, 300] {
        w.start_request();
        w.finish_request(bytes);
    }
    0
}

fn wait_bounded(pid: Pid) -> Result<i32, String> {
    let start = Instant::now();
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(other) => return Err(format!("child ended abnormally: {other:?}")),
            Err(e) => return Err(format!("waitpid: {e}")),
        }
        if start.elapsed() > DEADLINE {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
            return Err("child did not exit within the deadline; killed".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn fork_child_writes_parent_reads() -> Result<(), String> {
    let sb = Scoreboard::create(MpmKind::Event, 4, 4).map_err(|e| e.to_string())?;
    sb.set_generation(5);
    sb.set_master_pid(getpid().as_raw());
    // SAFETY: this binary runs without the test harness, so the process is single-threaded
    // here, so the child is a consistent copy; it only touches the inherited scoreboard
    // mapping, sleeps, and leaves with `process::exit` without returning into the parent's
    // code or running its destructors.
    let result = unsafe { fork() }.map_err(|e| format!("fork: {e}"))?;
    let child_pid = match result {
        ForkResult::Child => {
            let code = std::panic::catch_unwind(|| child(&sb)).unwrap_or(101);
            // Nothing is buffered in stdio yet (the parent prints only after its tests).
            std::process::exit(code);
        }
        ForkResult::Parent { child } => child,
    };
    sb.set_config_generation(GO);
    let code = wait_bounded(child_pid)?;
    check!(code, 0);

    let snap = sb.snapshot();
    check!(snap.generation, 5);
    check!(snap.config_generation, GO);
    let p = &snap.processes[SLOT];
    check!(p.pid, child_pid.as_raw());
    check!(p.generation, 5);
    check!(!p.quiescing);
    check!(p.not_accepting);
    check!(
        (p.connections, p.keep_alive, p.writing, p.closing, p.wait_io),
        (3, 2, 1, 1, 1)
    );
    check!(p.workers[0].status, '_');
    let w = &p.workers[1];
    check!(w.status, 'W');
    check!(w.client.as_str(), "203.0.113.5");
    check!(w.request.as_str(), "GET http://u@example.com/fork HTTP/1.1");
    check!(w.vhost.as_str(), "example.com:80");
    check!(w.protocol.as_str(), "HTTP/1.1");
    check!((w.access_count, w.my_access_count), (3, 3));
    check!((w.bytes_served, w.my_bytes_served), (600, 600));
    check!((w.conn_count, w.conn_bytes), (3, 600));
    check!(w.last_used > 0);
    check!(p.workers[2].status, '.');
    check!(snap.processes[0].pid, 0);

    // The master's part after reaping: reset the slot, lifetime totals survive.
    sb.reset_process(SLOT);
    let w = sb.worker(SLOT, 1).snapshot();
    check!(w.status, '.');
    check!((w.access_count, w.bytes_served), (3, 600));
    check!((w.my_access_count, w.my_bytes_served), (0, 0));
    check!(sb.process(SLOT).pid(), 0);
    Ok(())
}

/// One test of this binary.
type TestFn = fn() -> Result<(), String>;

fn main() {
    let tests: [(&str, TestFn); 1] = [(
        "fork_child_writes_parent_reads",
        fork_child_writes_parent_reads,
    )];
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        match test() {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
