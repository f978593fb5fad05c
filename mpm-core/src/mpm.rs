//! The contract between the shared master and a strategy, and the facts `httpd -V` and
//! `ap_mpm_query` report.

use crate::child::ChildContext;
use crate::kind::MpmKind;
use crate::limits::Limits;
use serde::{Deserialize, Serialize};

/// A process-management strategy: what differs between prefork, worker and event.
///
/// Everything else — binding, forking, reaping, signals, spare maintenance, generations,
/// restarts, the scoreboard — is the shared master's ([`crate::Server`]). A strategy only
/// says what a child does once forked.
///
/// `child_main` runs in a freshly forked, single-threaded child with privileges already
/// dropped; it may create threads and runtimes. It returns the process exit code
/// ([`exit`] codes: 0 normal, [`exit::CHILD_SICK`], [`exit::CHILD_FATAL`]).
pub trait Mpm: Send + Sync + 'static {
    /// Which strategy this is.
    fn kind(&self) -> MpmKind;

    /// Run one child until it is told to stop (or reaches MaxConnectionsPerChild).
    fn child_main(&self, ctx: ChildContext<'_>) -> i32;
}

/// Child exit codes with a meaning for the master (Apache's values).
pub mod exit {
    /// Resource shortage: the master resets its spawn rate.
    pub const CHILD_SICK: i32 = 7;
    /// Unrecoverable (e.g. privileges cannot be dropped): the master shuts down.
    pub const CHILD_FATAL: i32 = 15;
}

/// How a count of processes or threads behaves (`ap_mpm_query`'s STATIC/DYNAMIC/NOT_SUPPORTED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Not supported (prefork's threads).
    No,
    /// Supported, fixed count.
    Fixed,
    /// Supported, variable count.
    Variable,
}

/// Where the server is in its life (`AP_MPMQ_MPM_STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MpmState {
    /// Starting up.
    Starting,
    /// Serving.
    Running,
    /// Stopping.
    Stopping,
}

/// What `httpd -V` prints and `ap_mpm_query` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpmInfo {
    /// `prefork`, `worker` or `event`.
    pub name: &'static str,
    /// Threads per child: prefork `No`, worker/event `Fixed`.
    pub threaded: Capability,
    /// Processes: `Variable` for all three.
    pub forked: Capability,
    /// Whether connections are handled asynchronously (event).
    pub is_async: bool,
    /// HARD_LIMIT_DAEMONS = ServerLimit.
    pub hard_limit_daemons: u32,
    /// HARD_LIMIT_THREADS = ThreadLimit (1 for prefork).
    pub hard_limit_threads: u32,
    /// MAX_THREADS = ThreadsPerChild (1 for prefork).
    pub max_threads: u32,
    /// MAX_DAEMONS: prefork MaxRequestWorkers, otherwise MaxRequestWorkers / ThreadsPerChild.
    pub max_daemons: u32,
    /// MIN_SPARE_DAEMONS / MAX_SPARE_DAEMONS (prefork; 0 otherwise).
    pub spare_daemons: (u32, u32),
    /// MIN_SPARE_THREADS / MAX_SPARE_THREADS (worker/event; 0 for prefork).
    pub spare_threads: (u32, u32),
    /// MAX_REQUESTS_DAEMON = MaxConnectionsPerChild.
    pub max_requests_daemon: u64,
    /// GENERATION.
    pub generation: u32,
    /// MPM_STATE.
    pub state: MpmState,
}

impl MpmInfo {
    /// The facts for `kind` under `limits`.
    pub fn new(kind: MpmKind, limits: &Limits, generation: u32, state: MpmState) -> MpmInfo {
        let threaded = kind.is_threaded();
        MpmInfo {
            name: kind.name(),
            threaded: if threaded {
                Capability::Fixed
            } else {
                Capability::No
            },
            forked: Capability::Variable,
            is_async: kind == MpmKind::Event,
            hard_limit_daemons: limits.server_limit,
            hard_limit_threads: if threaded { limits.thread_limit } else { 1 },
            max_threads: if threaded {
                limits.threads_per_child
            } else {
                1
            },
            max_daemons: limits.max_daemons,
            spare_daemons: if threaded {
                (0, 0)
            } else {
                (limits.min_spare_servers, limits.max_spare_servers)
            },
            spare_threads: if threaded {
                (limits.min_spare_threads, limits.max_spare_threads)
            } else {
                (0, 0)
            },
            max_requests_daemon: limits.max_connections_per_child,
            generation,
            state,
        }
    }

    /// The lines `httpd -V` prints for the MPM, exactly as Apache does.
    pub fn version_lines(&self) -> String {
        fn word(c: Capability, what: &str) -> String {
            match c {
                Capability::No => "no".to_string(),
                Capability::Fixed => format!("yes (fixed {what} count)"),
                Capability::Variable => format!("yes (variable {what} count)"),
            }
        }
        format!(
            "Server MPM:     {}\n  threaded:     {}\n    forked:     {}\n",
            self.name,
            word(self.threaded, "thread"),
            word(self.forked, "process")
        )
    }
}
