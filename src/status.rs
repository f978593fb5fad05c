//! The scoreboard as the outside sees it: snapshots, and Apache's renderings of them
//! (`?auto`, JSON, HTML, Prometheus).

pub use mpm_core::scoreboard::{
    LifecycleCounters, ProcessSnapshot, ScoreboardSnapshot, WorkerSnapshot, WorkerStatus,
};
pub use mpm_core::status::*;
