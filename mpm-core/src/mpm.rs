//! The contract between the shared master and a strategy, and the facts `httpd -V` and
//! `ap_mpm_query` report.

use crate::child::ChildContext;
use crate::http::Handler;
use crate::kind::MpmKind;
use crate::limits::Limits;
use crate::policy::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use serde::{Deserialize, Serialize};

/// A process-management strategy: everything that differs between prefork, worker, event
/// and any other model.
///
/// Binding, forking, reaping, signals, the spawn-rate arithmetic, generations, restarts
/// and the scoreboard are the shared master's ([`crate::Server`]). A strategy says what a
/// child does once forked ([`child_main`](Mpm::child_main)), and answers the master's
/// questions: its label and configuration rules ([`kind`](Mpm::kind)), how idle capacity
/// is counted, what spare maintenance decides, what a hung handler costs, which handlers
/// it serves.
///
/// `child_main` runs in a freshly forked, single-threaded child with privileges already
/// dropped; it may create threads and runtimes. It returns the process exit code
/// ([`exit`] codes: 0 normal, [`exit::CHILD_SICK`], [`exit::CHILD_FATAL`]).
pub trait Mpm: Send + Sync + 'static {
    /// The strategy's label and configuration rules (defaults, directives, validation).
    fn kind(&self) -> MpmKind;

    /// Run one child until it is told to stop (or reaches MaxConnectionsPerChild).
    fn child_main(&self, ctx: ChildContext<'_>) -> i32;

    /// What `child` adds to the idle count and whether it may be retired; `None` leaves
    /// it out of the count.
    fn count_idle(&self, child: &ChildCensus<'_>) -> Option<IdleCount>;

    /// Spare maintenance: from the server's census under `limits`, retire, spawn or
    /// hold.
    fn spares(&self, census: &Census, limits: &Limits) -> SpareDecision;

    /// What a child with a handler past HandlerTimeout costs.
    fn hung_handler(&self) -> HungHandler;

    /// Whether this strategy serves `handler`. Checked once before any child is forked;
    /// the error says why not and what to use instead.
    fn supports(&self, handler: &Handler) -> Result<(), String> {
        let _ = handler;
        Ok(())
    }

    /// What `httpd -V` and `ap_mpm_query` report under `limits`.
    fn info(&self, limits: &Limits, generation: u32, state: MpmState) -> MpmInfo {
        MpmInfo::new(self.kind(), limits, generation, state)
    }
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
    /// The facts for `kind` under `limits` (what its rules report).
    pub fn new(kind: MpmKind, limits: &Limits, generation: u32, state: MpmState) -> MpmInfo {
        let mut info = kind.rules().info(limits, generation, state);
        info.name = kind.name();
        info
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
