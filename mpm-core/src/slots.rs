//! A child's own part of the scoreboard: its process slot and its worker slots, and
//! nothing else. This is the only write access a strategy gets; the rest of the
//! scoreboard (its header, other children's slots) is the master's.

use crate::scoreboard::{ProcessSlot, Scoreboard, WorkerSlot};
use std::fmt;

/// Handles to one child's own scoreboard slots (cheap to clone, usable from any thread
/// of the child).
#[derive(Clone)]
pub struct ChildSlots {
    scoreboard: Scoreboard,
    slot: usize,
}

impl ChildSlots {
    pub(crate) fn new(scoreboard: Scoreboard, slot: usize) -> ChildSlots {
        ChildSlots { scoreboard, slot }
    }

    /// The process slot's index.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// How many worker slots the child has (ThreadLimit).
    pub fn workers(&self) -> usize {
        self.scoreboard.thread_limit() as usize
    }

    /// The child's process slot: its flags (quiescing, not accepting) and connection
    /// counters.
    pub fn process(&self) -> ProcessSlot<'_> {
        self.scoreboard.process(self.slot)
    }

    /// The child's worker slot `thread`.
    ///
    /// # Panics
    ///
    /// When `thread` is not below [`workers`](Self::workers).
    pub fn worker(&self, thread: usize) -> WorkerSlot<'_> {
        assert!(
            thread < self.workers(),
            "worker slot {thread} of {}",
            self.workers()
        );
        self.scoreboard.worker(self.slot, thread)
    }

    /// Count an accept back-off (descriptor or memory shortage) in the server's
    /// lifecycle counters.
    pub fn count_accept_backoff(&self) {
        self.scoreboard.count_accept_backoff();
    }
}

// Here rather than in `scoreboard.rs`, so the scoreboard does not depend on its handles.
impl Scoreboard {
    /// Handles to process slot `slot` and its worker slots only: what the master hands
    /// the child it forks into that slot (and what a test serving outside a server uses).
    ///
    /// # Panics
    ///
    /// If `slot >= server_limit()` (a programming error).
    pub fn child_slots(&self, slot: usize) -> ChildSlots {
        assert!(slot < self.server_limit() as usize, "process slot {slot}");
        ChildSlots::new(self.clone(), slot)
    }
}

impl fmt::Debug for ChildSlots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSlots")
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}
