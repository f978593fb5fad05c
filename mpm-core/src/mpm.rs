//! The contract between the shared master and a strategy, and the facts `httpd -V` and
//! `ap_mpm_query` report.

use crate::child::ChildContext;
use crate::http::Handler;
pub use crate::info::{Capability, MpmInfo, MpmState};
use crate::kind::MpmKind;
use crate::limits::Limits;
use crate::policy::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use crate::rules::SpareUnit;

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

    /// What a child running `handler` costs when one of its calls overruns HandlerTimeout.
    fn hung_handler(&self, handler: &Handler) -> HungHandler;

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

// Built from a label here, beside the trait, so the facts themselves (`info.rs`) depend
// on nothing.
impl MpmInfo {
    /// The facts for `kind` under `limits` (what its rules report).
    pub fn new(kind: MpmKind, limits: &Limits, generation: u32, state: MpmState) -> MpmInfo {
        let caps = kind.rules().capabilities();
        let threads = caps.threaded != Capability::No;
        let spare_servers = kind.rules().spare_unit() == SpareUnit::Processes;
        MpmInfo {
            name: kind.name(),
            threaded: caps.threaded,
            forked: caps.forked,
            is_async: caps.is_async,
            hard_limit_daemons: limits.server_limit,
            hard_limit_threads: if threads { limits.thread_limit } else { 1 },
            max_threads: if threads { limits.threads_per_child } else { 1 },
            max_daemons: limits.max_daemons,
            spare_daemons: if spare_servers {
                (limits.min_spare_servers, limits.max_spare_servers)
            } else {
                (0, 0)
            },
            spare_threads: if spare_servers {
                (0, 0)
            } else {
                (limits.min_spare_threads, limits.max_spare_threads)
            },
            max_requests_daemon: limits.max_connections_per_child,
            generation,
            state,
        }
    }
}
