//! # mpm-worker
//!
//! Apache's worker model: each child runs a listener thread and ThreadsPerChild worker
//! threads. The listener accepts only after reserving an idle worker, so a saturated child
//! leaves new connections in the kernel backlog (for another child) instead of queueing
//! them behind busy threads. A worker serves one connection at a time, keep-alive waits
//! included. The master keeps between MinSpareThreads and MaxSpareThreads idle threads.
//!
//! ```no_run
//! use mpm_core::{http::Handler, ConfigSource, Directives, Server};
//! let mut d = Directives::default();
//! d.listen.push("127.0.0.1:8080".parse().unwrap());
//! let server = Server::new(Box::new(mpm_worker::WorkerMpm), ConfigSource::from(d))?;
//! server.run(Handler::http(|_req| http::Response::new(bytes::Bytes::from("hello\n"))))?;
//! # Ok::<(), mpm_core::Error>(())
//! ```

mod child;
pub mod handoff;
mod policy;

use mpm_core::kit::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use mpm_core::{ChildContext, Limits, Mpm, MpmKind};

/// The worker strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerMpm;

impl Mpm for WorkerMpm {
    fn kind(&self) -> MpmKind {
        MpmKind::Worker
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        child::run(ctx)
    }

    fn count_idle(&self, child: &ChildCensus<'_>) -> Option<IdleCount> {
        Some(policy::count_idle(child))
    }

    fn spares(&self, census: &Census, limits: &Limits) -> SpareDecision {
        policy::spares(census, limits)
    }

    fn hung_handler(&self, _handler: &mpm_core::http::Handler) -> HungHandler {
        policy::HUNG_HANDLER
    }
}
