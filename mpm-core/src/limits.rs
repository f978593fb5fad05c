//! Directives → validated limits, with Apache 2.4's defaults, clamping order and warnings.
//!
//! [`validate`](crate::config::validate) reproduces, for one strategy, what Apache 2.4 does between reading the
//! configuration and starting children:
//!
//! 1. the defaults each MPM's `*_pre_config` sets (see [`defaults`]);
//! 2. the range checks of `*_check_config`, in Apache's order, each with both of Apache's
//!    message forms ([`Warning::startup`] for the console at startup, [`Warning::restart`]
//!    for the error log at a restart), the same conditions and the same resulting numbers;
//! 3. the silent fix-ups of `*_run` for a single listener bucket (no message).
//!
//! Deliberate differences from Apache (all of them reject input Apache would accept
//! silently or misbehave on; none change a number Apache would compute for valid input):
//!
//! * negative numbers are an error (Apache's `atoi` accepts them, then clamps some and
//!   misbehaves on others, e.g. a negative MaxConnectionsPerChild stops worker/event
//!   children right after they start); `0` stays legal and gets Apache's clamp + warning;
//! * values above `i32::MAX` are an error (Apache's `atoi` overflows);
//! * a directive that belongs to another MPM (e.g. `MinSpareServers` under worker) is an
//!   error, as Apache's "Invalid command" is when the module is not loaded;
//! * `ListenBacklog` must be > 0 and `AsyncRequestWorkerFactor` a positive finite number,
//!   as in Apache, but they are checked here too for directives that came from serde/code.
//!
//! Notes on values Apache keeps in another form:
//!
//! * `AsyncRequestWorkerFactor` below 1 becomes 1, as in Apache; a fraction is kept as
//!   given (Apache stores it ×16 and its event MPM later floors `factor` before use, see
//!   the reference notes — that quirk belongs to the event strategy, not to validation).
//!   For prefork and worker the field holds the default, 2.
//! * `max_request_workers` is the value Apache keeps: rounded down to a multiple of
//!   ThreadsPerChild, but *not* lowered when it needs more than ServerLimit processes (only
//!   `max_daemons` is), exactly as worker/event do.

use crate::kind::MpmKind;
use crate::rules::SpareUnit;
pub use crate::rules::{Defaults, Retained, Warning};
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
    /// AsyncRequestWorkerFactor (event; at least 1; the default 2 for prefork/worker).
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
        match self.kind.rules().spare_unit() {
            SpareUnit::Processes => self.min_spare_servers,
            SpareUnit::Threads => self.min_spare_threads,
        }
    }

    /// The high-water mark of idle capacity, in the same unit as [`Limits::min_spare`].
    pub fn max_spare(&self) -> u32 {
        match self.kind.rules().spare_unit() {
            SpareUnit::Processes => self.max_spare_servers,
            SpareUnit::Threads => self.max_spare_threads,
        }
    }
}

/// Limits plus the warnings their validation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The effective limits.
    pub limits: Limits,
    /// Every warning Apache would print, in Apache's order.
    pub warnings: Vec<Warning>,
}

/// DEFAULT_LISTENBACKLOG.
pub const DEFAULT_LISTEN_BACKLOG: i64 = 511;
/// DEFAULT_WORKER_FACTOR (event's AsyncRequestWorkerFactor).
pub const DEFAULT_ASYNC_REQUEST_WORKER_FACTOR: f64 = 2.0;

/// The defaults and compile-time limits of `kind`, as Apache 2.4 sets them.
pub fn defaults(kind: MpmKind) -> Defaults {
    kind.rules().defaults()
}
