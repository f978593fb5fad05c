//! The service-manager notification protocol (`sd_notify`): `READY=1`, `RELOADING=1`,
//! `STOPPING=1`, `STATUS=…` and watchdog pings, sent as datagrams to `$NOTIFY_SOCKET`.
//!
//! The same protocol carries a new master's readiness to the old one during a binary
//! upgrade (see [`crate::upgrade`]), so there is one code path for both.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// A connection to the notify socket named by `$NOTIFY_SOCKET` (absent = no-op).
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
    last_ping: Instant,
    last_status: String,
}

fn socket_addr(path: &str) -> io::Result<SocketAddr> {
    if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes())
    } else {
        SocketAddr::from_pathname(path)
    }
}

impl Notifier {
    /// Read `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (honouring `$WATCHDOG_PID`), then remove
    /// them from the environment so children and a re-executed binary do not inherit them
    /// by accident. Call in the single-threaded master before any thread exists.
    pub fn from_env() -> Notifier {
        let target = std::env::var("NOTIFY_SOCKET").ok().and_then(|path| {
            let addr = socket_addr(&path).ok()?;
            let sock = UnixDatagram::unbound().ok()?;
            Some((sock, addr))
        });
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .is_none_or(|p| p == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us)
            .map(Duration::from_micros);
        // Environment mutation is only sound without other threads; the master has exactly
        // one here (and checks it again before every fork).
        for var in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            std::env::remove_var(var);
        }
        Notifier {
            target,
            watchdog,
            last_ping: Instant::now(),
            last_status: String::new(),
        }
    }

    /// A notifier that sends to `path` (used by the upgrade handshake and tests).
    pub fn to_path(path: &str) -> io::Result<Notifier> {
        Ok(Notifier {
            target: Some((UnixDatagram::unbound()?, socket_addr(path)?)),
            watchdog: None,
            last_ping: Instant::now(),
            last_status: String::new(),
        })
    }

    /// Whether a notify socket is configured.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Send raw `KEY=VALUE` lines; errors are logged at debug level (the manager may be
    /// gone, which must never stop the server).
    pub fn send(&self, message: &str) {
        if let Some((sock, addr)) = &self.target {
            if let Err(e) = sock.send_to_addr(message.as_bytes(), addr) {
                tracing::debug!("sd_notify {message:?}: {e}");
            }
        }
    }

    /// `READY=1` with the master's pid and a status line.
    pub fn ready(&mut self, status: &str) {
        self.last_status = status.to_string();
        self.send(&format!(
            "READY=1\nMAINPID={}\nSTATUS={status}",
            std::process::id()
        ));
    }

    /// `RELOADING=1` (with `MONOTONIC_USEC`, as `Type=notify-reload` requires).
    pub fn reloading(&self) {
        let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1000)
            .unwrap_or(0);
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// `STATUS=…`, only when it changed.
    pub fn status(&mut self, status: &str) {
        if status != self.last_status {
            self.last_status = status.to_string();
            self.send(&format!("STATUS={status}"));
        }
    }

    /// `WATCHDOG=1` when half the watchdog period has passed since the last ping.
    pub fn watchdog_tick(&mut self) {
        if let Some(period) = self.watchdog {
            if self.last_ping.elapsed() >= period / 2 {
                self.last_ping = Instant::now();
                self.send("WATCHDOG=1");
            }
        }
    }

    /// How often the master must wake up for the watchdog (`None` without one).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|p| p / 2)
    }
}
