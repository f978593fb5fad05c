//! The facts `httpd -V` prints and `ap_mpm_query` answers.

use serde::{Deserialize, Serialize};

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

/// Where the server is in its life (`AP_MPMQ_MPM_STATE`). The master publishes it in the
/// scoreboard's header ([`Scoreboard::state`](crate::scoreboard::Scoreboard::state)), so a
/// child, a status page (`?json`'s `mpm_state`) or the embedding application sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MpmState {
    /// Starting up: before the first child serves, and again at each restart until the
    /// new generation serves (as Apache, whose restarts re-run its startup).
    #[default]
    Starting,
    /// Serving: a child of the running generation is ready.
    Running,
    /// Stopping, gracefully or at once (Apache has one state for both).
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
