//! # mpm-worker
//!
//! Apache's worker model. (Serving lands with its own issue; until then a child exits at once.)

use mpm_core::{ChildContext, Mpm, MpmKind};

/// The worker strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerMpm;

impl Mpm for WorkerMpm {
    fn kind(&self) -> MpmKind {
        MpmKind::Worker
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        let _ = ctx;
        mpm_core::mpm::exit::CHILD_FATAL
    }
}
