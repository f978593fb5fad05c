//! Zero-downtime binary upgrade (SIGUSR2, the nginx/Unicorn convention).
//!
//! The old master starts the executable again (the file at the path it was started from,
//! so a newly installed binary is picked up) with the listening sockets inherited as
//! descriptors 3, 4, … (`LISTEN_FDS`, the systemd convention the core already adopts) and a
//! private notify socket. It renames its PidFile to `<PidFile>.oldbin`. When the new master
//! says `READY=1` on that socket, the old one drains like a graceful stop and exits; if the
//! new one exits or stays silent past the timeout, it is killed, the PidFile is restored,
//! and the old generation goes on serving as if nothing happened.

use crate::listen::Listener;
use crate::sys::process;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a new master may take to report ready, unless `MPM_UPGRADE_TIMEOUT` (seconds)
/// says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The command line this process was started with, captured before anything can replace
/// the executable.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The executable path (as the kernel saw it at start).
    pub exe: PathBuf,
    /// Arguments after argv\[0\].
    pub args: Vec<OsString>,
}

impl Invocation {
    /// Capture the current process's invocation.
    pub fn current() -> Option<Invocation> {
        let exe = std::env::current_exe().ok()?;
        // A binary replaced on disk shows as "<path> (deleted)"; keep the path itself.
        let exe = match exe.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
            Some(p) => PathBuf::from(p),
            None => exe,
        };
        Some(Invocation {
            exe,
            args: std::env::args_os().skip(1).collect(),
        })
    }
}

/// An upgrade in progress.
#[derive(Debug)]
pub struct Upgrade {
    /// The new master's pid.
    pub pid: Pid,
    socket: UnixDatagram,
    socket_path: PathBuf,
    started: Instant,
    timeout: Duration,
    pid_file: Option<(PathBuf, PathBuf)>,
}

/// What an upgrade in progress is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Still starting.
    Waiting,
    /// The new master reported ready: drain and exit.
    Ready,
    /// It did not report ready in time.
    TimedOut,
}

fn timeout_from_env() -> Duration {
    std::env::var("MPM_UPGRADE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

impl Upgrade {
    /// Start the new binary. `pid_file` is renamed to `.oldbin` so the new master can write
    /// its own.
    pub fn start(
        inv: &Invocation,
        listeners: &[Listener],
        pid_file: Option<&Path>,
    ) -> std::io::Result<Upgrade> {
        let dir = std::env::temp_dir();
        let socket_path = dir.join(format!("mpm-upgrade-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&socket_path);
        let socket = UnixDatagram::bind(&socket_path)?;
        socket.set_nonblocking(true)?;
        let fds: Vec<_> = listeners.iter().map(|l| l.socket.as_raw_fd()).collect();
        let renamed = match pid_file {
            Some(p) if p.exists() => {
                let old = PathBuf::from(format!("{}.oldbin", p.display()));
                std::fs::rename(p, &old)?;
                Some((p.to_path_buf(), old))
            }
            _ => None,
        };
        let env = vec![(
            "NOTIFY_SOCKET".to_string(),
            socket_path.display().to_string(),
        )];
        let pid = match process::spawn_with_fds(&inv.exe, &inv.args, &fds, &env) {
            Ok(pid) => pid,
            Err(e) => {
                if let Some((p, old)) = &renamed {
                    let _ = std::fs::rename(old, p);
                }
                let _ = std::fs::remove_file(&socket_path);
                return Err(e);
            }
        };
        Ok(Upgrade {
            pid,
            socket,
            socket_path,
            started: Instant::now(),
            timeout: timeout_from_env(),
            pid_file: renamed,
        })
    }

    /// Check for `READY=1` and the deadline.
    pub fn progress(&self) -> Progress {
        let mut buf = [0u8; 512];
        while let Ok(n) = self.socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            if text.lines().any(|l| l == "READY=1") {
                return Progress::Ready;
            }
        }
        if self.started.elapsed() >= self.timeout {
            Progress::TimedOut
        } else {
            Progress::Waiting
        }
    }

    /// The new master took over: forget our renamed PidFile.
    pub fn complete(self) {
        if let Some((_, old)) = &self.pid_file {
            let _ = std::fs::remove_file(old);
        }
        let _ = std::fs::remove_file(&self.socket_path);
    }

    /// The new master failed: make sure it is gone (TERM, then KILL after 5 s; the caller
    /// reaps it) and put our PidFile back.
    pub fn abort(self, already_exited: bool) {
        if !already_exited {
            let _ = process::signal(self.pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while process::is_alive(self.pid) && Instant::now() < deadline {
                if process::reap_pid(self.pid).is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = process::signal(self.pid, Signal::SIGKILL);
            let _ = process::reap_pid(self.pid);
        }
        if let Some((p, old)) = &self.pid_file {
            let _ = std::fs::rename(old, p);
        }
        let _ = std::fs::remove_file(&self.socket_path);
    }
}
