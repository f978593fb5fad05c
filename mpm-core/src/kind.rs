//! Which strategy (MPM) is in use: its label, and the registry of Apache's three labels.
//!
//! An [`MpmKind`] is a label — the names Apache prints and `<IfModule>` tests — bound to
//! the strategy's configuration [`Rules`] (defaults, directives, validation), so a
//! configuration can be checked with nothing but a label (`httpd -t`, the fuzz targets).
//! The label is open: a strategy written outside this crate makes its own with
//! [`MpmKind::new`]. This file is the only place that binds Apache's three module names to
//! rule sets; nothing else in `mpm-core` names a concrete strategy.

use crate::rules::{Defaults, ProcessRules, Rules, SpareUnit, ThreadRules};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A strategy's label and configuration rules. Two labels are equal when their names are.
#[derive(Clone, Copy)]
pub struct MpmKind {
    name: &'static str,
    module_name: &'static str,
    source_name: &'static str,
    rules: &'static dyn Rules,
}

/// Apache's prefork: `*_pre_config` defaults (DEFAULT_START_DAEMON 5, DEFAULT_SERVER_LIMIT
/// 256, MAX_SERVER_LIMIT 200000, spares 5..10).
const PREFORK_RULES: ProcessRules = ProcessRules {
    defaults: Defaults {
        start_servers: 5,
        server_limit: 256,
        max_server_limit: 200_000,
        thread_limit: 1,
        max_thread_limit: 1,
        threads_per_child: 1,
        max_request_workers: 256,
        min_spare: 5,
        max_spare: 10,
    },
};

/// Apache's worker and event share these defaults; they differ in MAX_THREAD_LIMIT.
const fn threaded_defaults(max_thread_limit: i64) -> Defaults {
    Defaults {
        start_servers: 3,
        server_limit: 16,
        max_server_limit: 20_000,
        thread_limit: 64,
        max_thread_limit,
        threads_per_child: 25,
        max_request_workers: 16 * 25,
        // DEFAULT_MIN_FREE_DAEMON × DEFAULT_THREADS_PER_CHILD, DEFAULT_MAX_FREE_DAEMON × it.
        min_spare: 3 * 25,
        max_spare: 10 * 25,
    }
}

const WORKER_RULES: ThreadRules = ThreadRules {
    defaults: threaded_defaults(20_000),
    async_connections: false,
};

const EVENT_RULES: ThreadRules = ThreadRules {
    defaults: threaded_defaults(100_000),
    async_connections: true,
};

// The constants keep the enum-variant spelling the label had before it became open, so
// `MpmKind::Worker` reads as it always did.
#[allow(non_upper_case_globals)]
impl MpmKind {
    /// Apache's prefork: one single-threaded process per connection.
    pub const Prefork: MpmKind =
        MpmKind::new("prefork", "mpm_prefork_module", "prefork.c", &PREFORK_RULES);
    /// Apache's worker: processes × threads; a thread holds a connection for its life.
    pub const Worker: MpmKind =
        MpmKind::new("worker", "mpm_worker_module", "worker.c", &WORKER_RULES);
    /// Apache's event: processes × threads for handlers, connection I/O asynchronous.
    pub const Event: MpmKind = MpmKind::new("event", "mpm_event_module", "event.c", &EVENT_RULES);

    /// Apache's three labels, in its default-selection priority (event > worker > prefork).
    pub const ALL: [MpmKind; 3] = [MpmKind::Event, MpmKind::Worker, MpmKind::Prefork];

    /// A label for a strategy: `name` as `httpd -V` prints it, the `<IfModule>` module
    /// and source names, and the configuration rules.
    pub const fn new(
        name: &'static str,
        module_name: &'static str,
        source_name: &'static str,
        rules: &'static dyn Rules,
    ) -> MpmKind {
        MpmKind {
            name,
            module_name,
            source_name,
            rules,
        }
    }

    /// The name Apache prints (`ServerMPM`, `httpd -V`).
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The module identifier used by `<IfModule mpm_X_module>`.
    pub fn module_name(self) -> &'static str {
        self.module_name
    }

    /// The source file name also accepted by `<IfModule prefork.c>`.
    pub fn source_name(self) -> &'static str {
        self.source_name
    }

    /// The configuration rules: defaults, directives taken, validation.
    pub fn rules(self) -> &'static dyn Rules {
        self.rules
    }

    /// True when spare capacity is counted in threads (several threads per child).
    pub fn is_threaded(self) -> bool {
        self.rules.spare_unit() == SpareUnit::Threads
    }
}

impl PartialEq for MpmKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for MpmKind {}

impl Hash for MpmKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl fmt::Debug for MpmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for MpmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Serialize for MpmKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// Only Apache's three labels deserialize: a label of another strategy is bound to rules
/// this crate cannot know, so its owner builds it with [`MpmKind::new`].
impl<'de> Deserialize<'de> for MpmKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The error of parsing an unknown MPM name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MPM {0:?}: expected prefork, worker or event")]
pub struct UnknownMpm(pub String);

/// Apache's three labels by name or module name (case-insensitive). Strategies from
/// elsewhere resolve through the facade's registry of compiled-in strategies.
impl FromStr for MpmKind {
    type Err = UnknownMpm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MpmKind::ALL
            .into_iter()
            .find(|k| s.eq_ignore_ascii_case(k.name) || s.eq_ignore_ascii_case(k.module_name))
            .ok_or_else(|| UnknownMpm(s.to_string()))
    }
}
