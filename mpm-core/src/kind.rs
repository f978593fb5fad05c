//! Which strategy (MPM) is in use.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the three process models, as Apache names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MpmKind {
    /// One single-threaded process per connection.
    Prefork,
    /// Processes × threads; a worker thread holds a connection for its whole life.
    Worker,
    /// Processes × threads for handlers, connection I/O asynchronous.
    Event,
}

impl MpmKind {
    /// All kinds, in Apache's default-selection priority (event > worker > prefork).
    pub const ALL: [MpmKind; 3] = [MpmKind::Event, MpmKind::Worker, MpmKind::Prefork];

    /// The name Apache prints (`ServerMPM`, `httpd -V`).
    pub fn name(self) -> &'static str {
        match self {
            MpmKind::Prefork => "prefork",
            MpmKind::Worker => "worker",
            MpmKind::Event => "event",
        }
    }

    /// The module identifier used by `<IfModule mpm_X_module>`.
    pub fn module_name(self) -> &'static str {
        match self {
            MpmKind::Prefork => "mpm_prefork_module",
            MpmKind::Worker => "mpm_worker_module",
            MpmKind::Event => "mpm_event_module",
        }
    }

    /// The source file name also accepted by `<IfModule prefork.c>`.
    pub fn source_name(self) -> &'static str {
        match self {
            MpmKind::Prefork => "prefork.c",
            MpmKind::Worker => "worker.c",
            MpmKind::Event => "event.c",
        }
    }

    /// True for the strategies that run several threads per child.
    pub fn is_threaded(self) -> bool {
        !matches!(self, MpmKind::Prefork)
    }
}

impl fmt::Display for MpmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown MPM name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MPM {0:?}: expected prefork, worker or event")]
pub struct UnknownMpm(pub String);

impl FromStr for MpmKind {
    type Err = UnknownMpm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "prefork" | "mpm_prefork_module" => Ok(MpmKind::Prefork),
            "worker" | "mpm_worker_module" => Ok(MpmKind::Worker),
            "event" | "mpm_event_module" => Ok(MpmKind::Event),
            _ => Err(UnknownMpm(s.to_string())),
        }
    }
}
