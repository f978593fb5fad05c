//! Directives → validated limits, with Apache 2.4's defaults, clamping order and warnings.
//!
//! STUB: the config helper owns this file. The types below are the agreed contract.

use crate::config::Directives;
use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The effective MPM limits of one strategy after Apache's validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// The strategy these limits were validated for.
    pub kind: MpmKind,
    /// StartServers (after clamping and the silent fix-ups of `*_run`).
    pub start_servers: u32,
    /// ServerLimit: scoreboard process slots.
    pub server_limit: u32,
    /// ThreadLimit: scoreboard worker slots per process (1 for prefork).
    pub thread_limit: u32,
    /// ThreadsPerChild (1 for prefork).
    pub threads_per_child: u32,
    /// MaxRequestWorkers (as Apache keeps it; see `max_daemons` for the process cap).
    pub max_request_workers: u32,
    /// Maximum number of active children: prefork MaxRequestWorkers, worker/event
    /// min(MaxRequestWorkers / ThreadsPerChild, ServerLimit).
    pub max_daemons: u32,
    /// MinSpareServers (prefork; 0 otherwise).
    pub min_spare_servers: u32,
    /// MaxSpareServers (prefork; 0 otherwise).
    pub max_spare_servers: u32,
    /// MinSpareThreads (worker/event; 0 for prefork).
    pub min_spare_threads: u32,
    /// MaxSpareThreads (worker/event; 0 for prefork).
    pub max_spare_threads: u32,
    /// MaxConnectionsPerChild; 0 = unlimited.
    pub max_connections_per_child: u64,
    /// AsyncRequestWorkerFactor (event).
    pub async_request_worker_factor: f64,
    /// GracefulShutdownTimeout; zero = wait forever.
    pub graceful_shutdown_timeout: Duration,
    /// ListenBacklog.
    pub listen_backlog: i32,
}

impl Limits {
    /// The low-water mark of idle capacity, in the unit maintenance counts: idle processes
    /// for prefork, idle threads for worker/event.
    pub fn min_spare(&self) -> u32 {
        match self.kind {
            MpmKind::Prefork => self.min_spare_servers,
            _ => self.min_spare_threads,
        }
    }

    /// The high-water mark of idle capacity, in the same unit as [`Limits::min_spare`].
    pub fn max_spare(&self) -> u32 {
        match self.kind {
            MpmKind::Prefork => self.max_spare_servers,
            _ => self.max_spare_threads,
        }
    }
}

/// A warning Apache would log for this input, in its two forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The directive concerned, as Apache names it.
    pub directive: String,
    /// The form printed on the console at startup (`WARNING: ...`).
    pub startup: String,
    /// The form logged at a restart.
    pub restart: String,
}

/// What survives restarts: the values that size the scoreboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retained {
    /// ServerLimit of the first load.
    pub server_limit: u32,
    /// ThreadLimit of the first load.
    pub thread_limit: u32,
}

/// Limits plus the warnings their validation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The effective limits.
    pub limits: Limits,
    /// Every warning Apache would print, in Apache's order.
    pub warnings: Vec<Warning>,
}

/// Validate `d` for `kind` with Apache's rules; `retained` is `Some` on a restart.
pub fn validate(
    kind: MpmKind,
    d: &Directives,
    retained: Option<Retained>,
) -> Result<Validated, ConfigErrors> {
    let _ = (kind, d, retained);
    unimplemented!("config helper")
}
