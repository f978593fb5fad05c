//! Run the `httpd` example as a command (`-t`, `-V`, `-k …`) with a deadline, and a guard
//! for a server started detached by `-k start` that stops it, by the pid in its PidFile,
//! however the test ends.

use super::{httpd_path, procs, wait_until};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a finished `httpd` command printed, and its exit code.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panic with everything printed unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code: {self:#?}");
        self
    }
}

/// Run `httpd ARGS` in `cwd`, wait at most `timeout` (then kill it and panic).
/// stdout and stderr go to files, so a detached grandchild holding them never blocks us.
pub fn run_in(cwd: &Path, args: &[&str], timeout: Duration) -> Output {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("stdout");
    let err = out_dir.path().join("stderr");
    let mut child = Command::new(httpd_path())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn httpd");
    let mut status = None;
    let done = wait_until(timeout, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if !done {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output = Output {
        code: status.and_then(|s| s.code()),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    };
    assert!(
        done,
        "httpd {args:?} did not finish within {timeout:?}: {output:#?}"
    );
    output
}

/// Run `httpd ARGS` in the current directory with a 30 s deadline.
pub fn run(args: &[&str]) -> Output {
    run_in(Path::new("."), args, Duration::from_secs(30))
}

/// A directory with `httpd.conf` (`Listen 127.0.0.1:0`, a PidFile, and the caller's
/// directives) for `httpd -k …`, and the server `-k start` left running there. Dropping it
/// stops that server — SIGTERM, then SIGKILL to the master and its children — by pid.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub mpm: &'static str,
    /// Every master pid seen in the PidFile, so Drop can stop them all.
    seen: Vec<i32>,
}

impl Daemon {
    /// Write the config; starts nothing.
    pub fn new(mpm: &'static str, conf: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Daemon {
            dir,
            mpm,
            seen: Vec::new(),
        };
        d.write_conf(conf);
        d
    }

    /// Replace the caller's directives (the Listen and PidFile lines stay).
    pub fn write_conf(&self, conf: &str) {
        let full = format!(
            "Listen 127.0.0.1:0\nPidFile {}\n{conf}\n",
            self.pid_file().display()
        );
        std::fs::write(self.conf_path(), full).expect("write conf");
    }

    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("httpd.conf")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.dir.path().join("httpd.pid")
    }

    /// The detached server's error log (`-E`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("error_log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `httpd -f CONF --mpm M -E LOG --test-routes --log-level=debug -k CMD`.
    pub fn k(&mut self, cmd: &str) -> Output {
        let conf = self.conf_path().display().to_string();
        let log = self.log_path().display().to_string();
        let mpm = format!("--mpm={}", self.mpm);
        let out = run_in(
            self.dir.path(),
            &[
                "-f",
                &conf,
                &mpm,
                "-E",
                &log,
                "--test-routes",
                "--log-level=debug",
                "-k",
                cmd,
            ],
            Duration::from_secs(30),
        );
        self.remember_pid();
        out
    }

    /// The pid the PidFile names, if any (remembered for Drop).
    pub fn pid(&mut self) -> Option<i32> {
        self.remember_pid();
        read_pid(&self.pid_file())
    }

    fn remember_pid(&mut self) {
        if let Some(pid) = read_pid(&self.pid_file()) {
            if !self.seen.contains(&pid) {
                self.seen.push(pid);
            }
        }
    }

    /// The address from the first `listening on` line of the log (waits up to 10 s).
    pub fn addr(&self) -> SocketAddr {
        let mut found = None;
        let ok = wait_until(Duration::from_secs(10), || {
            found = listen_addrs(&self.log()).into_iter().next();
            found.is_some()
        });
        assert!(ok, "no `listening on` line; log:\n{}", self.log());
        found.unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.remember_pid();
        for &pid in &self.seen {
            if !procs::alive(pid) {
                continue;
            }
            let children = procs::children_of(pid);
            procs::kill(pid, libc::SIGTERM);
            if !wait_until(Duration::from_secs(12), || !procs::alive(pid)) {
                procs::kill(pid, libc::SIGKILL);
            }
            for c in children {
                procs::kill(c, libc::SIGKILL);
            }
        }
    }
}

/// The pid in a PidFile.
pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Every address of the `listening on ADDR` lines in a log, in order.
pub fn listen_addrs(log: &str) -> Vec<SocketAddr> {
    log.lines()
        .filter_map(|l| {
            l.split("listening on ")
                .nth(1)
                .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        })
        .collect()
}
