//! Shared by the integration tests: start the real `httpd` example as its own process on
//! 127.0.0.1 (port 0, the bound port read from its log), talk to it over real sockets,
//! and stop every process it started, by pid.
#![allow(dead_code)]

pub mod client;
pub mod cmd;
pub mod keepalive;
pub mod load;
pub mod procs;
pub mod threads;
pub mod tools;
pub mod websocket;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Poll `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port free right now (bound then released), for a second `Listen` line:
/// the server binds `127.0.0.1:0` only once however often it is listed. Another process
/// could take the port in between; on this loopback-only test machine that is improbable.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("reserve a loopback port")
        .port()
}

/// The example binary, built with every strategy (cargo test builds examples; if it is
/// missing, build it once).
pub fn httpd_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| example_path("httpd")).clone()
}

/// Build (if needed) and locate the example `name`, with every strategy compiled in.
pub fn example_path(name: &str) -> PathBuf {
    {
        let exe = std::env::current_exe().expect("test exe path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let candidate = profile_dir.join("examples").join(name);
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name, "--all-features"])
            // The axum example lives in its own workspace member (extras/), out of the
            // httpd example's build.
            .args(if name == "axum" {
                vec!["-p", "mpm-extras"]
            } else {
                vec![]
            })
            .args(if profile_dir.ends_with("release") {
                vec!["--release"]
            } else {
                vec![]
            })
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the {name} example failed");
        assert!(candidate.exists(), "{} missing", candidate.display());
        candidate
    }
}

/// A running `httpd` master and the directory holding its config, PidFile and log.
pub struct Server {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub mpm: &'static str,
}

impl Server {
    /// Start `httpd --mpm <mpm>` with `conf` (directives; `Listen 127.0.0.1:0` and the
    /// PidFile are added) and wait until it listens and its children are up.
    pub fn start(mpm: &'static str, conf: &str) -> Server {
        Self::start_with(mpm, conf, &[])
    }

    /// As [`Server::start`], with extra command-line arguments.
    pub fn start_with(mpm: &'static str, conf: &str, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, &httpd_path(), mpm, conf, extra, &[])
    }

    /// Start a given executable (e.g. a copy of httpd in `dir`) with extra environment.
    pub fn start_in(
        dir: tempfile::TempDir,
        exe: &Path,
        mpm: &'static str,
        conf: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Server {
        let conf_path = dir.path().join("httpd.conf");
        let full = format!(
            "Listen 127.0.0.1:0\nPidFile {}\n{conf}\n",
            dir.path().join("httpd.pid").display()
        );
        std::fs::write(&conf_path, full).expect("write conf");
        let log = std::fs::File::create(dir.path().join("error_log")).expect("log file");
        // A binary copied just now (the upgrade tests run a copy) can be briefly "busy":
        // another test thread forking while the copy's write descriptor was open hands
        // that descriptor to its child until the child's exec. Retry for a moment.
        let mut tries = 0;
        let child = loop {
            let spawned = Command::new(exe)
                .envs(envs.iter().copied())
                .arg("-f")
                .arg(&conf_path)
                .arg(format!("--mpm={mpm}"))
                .arg("--test-routes")
                .arg("--log-level=debug")
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("log file"))
                .spawn();
            match spawned {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.expect("spawn httpd"),
            }
        };
        let mut server = Server {
            child,
            dir,
            addr: "127.0.0.1:1".parse().unwrap(),
            mpm,
        };
        let mut found = None;
        let up = wait_until(Duration::from_secs(20), || {
            found = server.log().lines().find_map(|l| {
                l.split("listening on ")
                    .nth(1)
                    .and_then(|a| a.trim().parse::<SocketAddr>().ok())
            });
            found.is_some() || matches!(server.child.try_wait(), Ok(Some(_)))
        });
        assert!(up, "httpd did not start; log:\n{}", server.log());
        server.addr = found.unwrap_or_else(|| panic!("httpd exited; log:\n{}", server.log()));
        server
    }

    /// The master's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error_log")).unwrap_or_default()
    }

    /// Every address the master logged as `listening on` (several `Listen` lines).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        cmd::listen_addrs(&self.log())
    }

    /// Path of the PidFile.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.path().join("httpd.pid")
    }

    /// Path of the config file.
    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("httpd.conf")
    }

    /// Live child pids of the master.
    pub fn children(&self) -> Vec<i32> {
        procs::children_of(self.pid())
    }

    /// Send a signal to the master.
    pub fn signal(&self, sig: i32) {
        procs::kill(self.pid(), sig);
    }

    /// `?auto` as key → value.
    pub fn status(&self) -> std::collections::HashMap<String, String> {
        let body = client::get(self.addr, "/server-status?auto")
            .map(|r| r.body_text())
            .unwrap_or_default();
        body.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Wait for the master to exit; returns whether it did within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        wait_until(timeout, || matches!(self.child.try_wait(), Ok(Some(_))))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let children = self.children();
        if matches!(self.child.try_wait(), Ok(None)) {
            procs::kill(self.pid(), libc::SIGTERM);
            if !self.wait_exit(Duration::from_secs(12)) {
                procs::kill(self.pid(), libc::SIGKILL);
                let _ = self.child.wait();
            }
        }
        for pid in children {
            procs::kill(pid, libc::SIGKILL);
        }
    }
}

/// The time of a log line `[Tue Dec 01 02:26:03.123456 2026] [mpm:level] …` (the Apache
/// error-log date `mpm::log` writes, in UTC), as seconds since the epoch.
pub fn log_line_time(line: &str) -> Option<f64> {
    let date = line.strip_prefix('[')?.split(']').next()?;
    let w: Vec<&str> = date.split(' ').collect();
    let [_, month, day, time, year] = w.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == month)? as i64 + 1;
    let (d, y): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let (hms, micros) = time.split_once('.')?;
    let t: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, min, s] = t.as_slice() else {
        return None;
    };
    // Days since 1970-01-01 of a civil date (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 + s;
    Some(secs as f64 + micros.parse::<f64>().ok()? / 1e6)
}
