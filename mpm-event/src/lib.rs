//! # mpm-event
//!
//! Apache's event model. (Serving lands with its own issue; until then a child exits at once.)

use mpm_core::{ChildContext, Mpm, MpmKind};

/// The event strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventMpm;

impl Mpm for EventMpm {
    fn kind(&self) -> MpmKind {
        MpmKind::Event
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        let _ = ctx;
        mpm_core::mpm::exit::CHILD_FATAL
    }
}
