//! Read-only access to a running server's scoreboard, for the embedding application:
//! the master writes the header and each child its own slots; everyone else reads.

use crate::info::MpmState;
use crate::kind::MpmKind;
use crate::scoreboard::{Scoreboard, ScoreboardSnapshot};
use std::fmt;

/// A read-only handle on the scoreboard (cheap to clone; valid in every child, since the
/// mapping is shared).
#[derive(Clone)]
pub struct ScoreboardView {
    inner: Scoreboard,
}

impl ScoreboardView {
    pub(crate) fn new(inner: Scoreboard) -> ScoreboardView {
        ScoreboardView { inner }
    }

    /// A copy of every slot and counter as they are now.
    pub fn snapshot(&self) -> ScoreboardSnapshot {
        self.inner.snapshot()
    }

    /// The strategy that sized it.
    pub fn kind(&self) -> MpmKind {
        self.inner.kind()
    }

    /// The running generation.
    pub fn generation(&self) -> u32 {
        self.inner.generation()
    }

    /// Where the server is in its life, as the master published it.
    pub fn state(&self) -> MpmState {
        self.inner.state()
    }

    /// Process slots (ServerLimit).
    pub fn server_limit(&self) -> u32 {
        self.inner.server_limit()
    }

    /// Worker slots per process (ThreadLimit).
    pub fn thread_limit(&self) -> u32 {
        self.inner.thread_limit()
    }
}

impl fmt::Debug for ScoreboardView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
