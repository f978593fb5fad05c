//! Configuration rules of a strategy — its defaults, the directives it takes, how it
//! validates them — and Apache's two validation sequences as reusable parts.
//!
//! A strategy's [`MpmKind`](crate::MpmKind) label carries its [`Rules`]. Apache validates
//! in one of two shapes: counting processes (its prefork: [`ProcessRules`]) or counting
//! threads in processes (its worker and event: [`ThreadRules`]). A new strategy reuses
//! one of them with its own [`Defaults`], or writes its own [`Rules::clamp`] from the
//! message helpers here ([`check_server_limit`], …), so Apache's wording stays one copy.

mod process;
mod threads;

pub use process::ProcessRules;
pub use threads::ThreadRules;

use crate::info::Capability;
use serde::{Deserialize, Serialize};

/// Apache 2.4's compile-time constants and `*_pre_config` defaults for one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// DEFAULT_START_DAEMON (StartServers).
    pub start_servers: i64,
    /// DEFAULT_SERVER_LIMIT.
    pub server_limit: i64,
    /// MAX_SERVER_LIMIT (the compile-time ceiling).
    pub max_server_limit: i64,
    /// DEFAULT_THREAD_LIMIT (1 for prefork).
    pub thread_limit: i64,
    /// MAX_THREAD_LIMIT (1 for prefork).
    pub max_thread_limit: i64,
    /// DEFAULT_THREADS_PER_CHILD (1 for prefork).
    pub threads_per_child: i64,
    /// MaxRequestWorkers as `*_pre_config` sets it: computed from the *default*
    /// ServerLimit (× default ThreadsPerChild), before any directive is read. So a
    /// configured ServerLimit or ThreadsPerChild does not move this default.
    pub max_request_workers: i64,
    /// MinSpareServers (prefork) / MinSpareThreads (worker, event).
    pub min_spare: i64,
    /// MaxSpareServers (prefork) / MaxSpareThreads (worker, event).
    pub max_spare: i64,
}

/// What survives restarts: the values that size the scoreboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retained {
    /// ServerLimit of the first load.
    pub server_limit: u32,
    /// ThreadLimit of the first load.
    pub thread_limit: u32,
}

/// A warning Apache would log for this input, in its two forms.
///
/// The texts are Apache 2.4's, without the `AHxxxxx:` log prefix. Apache has a single form
/// for the restart-only messages ("changing ServerLimit to %d from original value of %d not
/// allowed during restart", same for ThreadLimit); both fields then hold that one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The directive concerned, as Apache names it.
    pub directive: String,
    /// The form printed on the console at startup (`WARNING: ...`).
    pub startup: String,
    /// The form logged at a restart.
    pub restart: String,
}

/// A family of directives that only some strategies take; a directive of a family the
/// strategy does not take is an error, as Apache's "Invalid command" is when the module
/// that defines it is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// MinSpareServers, MaxSpareServers: spares counted in processes.
    ProcessSpares,
    /// ThreadsPerChild, ThreadLimit, MinSpareThreads, MaxSpareThreads.
    Threads,
    /// AsyncRequestWorkerFactor: an asynchronous connection layer.
    AsyncConnections,
}

/// The unit spare capacity is counted in, which decides which spare directives the
/// limits hold and how Apache words its maintenance messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpareUnit {
    /// Idle processes (MinSpareServers / MaxSpareServers).
    Processes,
    /// Idle threads (MinSpareThreads / MaxSpareThreads).
    Threads,
}

/// The process and thread counts as configured (`None` = not given), what [`Rules::clamp`]
/// works from; the other directives do not concern a strategy's rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requested {
    /// StartServers.
    pub start_servers: Option<i64>,
    /// ServerLimit.
    pub server_limit: Option<i64>,
    /// ThreadLimit.
    pub thread_limit: Option<i64>,
    /// ThreadsPerChild.
    pub threads_per_child: Option<i64>,
    /// MaxRequestWorkers (or MaxClients).
    pub max_request_workers: Option<i64>,
    /// MinSpareServers.
    pub min_spare_servers: Option<i64>,
    /// MaxSpareServers.
    pub max_spare_servers: Option<i64>,
    /// MinSpareThreads.
    pub min_spare_threads: Option<i64>,
    /// MaxSpareThreads.
    pub max_spare_threads: Option<i64>,
}

/// The numbers a validation produces, as Apache keeps them (signed, like its `int`s).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// StartServers.
    pub start_servers: i64,
    /// ServerLimit.
    pub server_limit: i64,
    /// ThreadLimit.
    pub thread_limit: i64,
    /// ThreadsPerChild.
    pub threads_per_child: i64,
    /// MaxRequestWorkers.
    pub max_request_workers: i64,
    /// The cap on active children.
    pub max_daemons: i64,
    /// MinSpareServers.
    pub min_spare_servers: i64,
    /// MaxSpareServers.
    pub max_spare_servers: i64,
    /// MinSpareThreads.
    pub min_spare_threads: i64,
    /// MaxSpareThreads.
    pub max_spare_threads: i64,
}

/// Collects Apache's warnings, each in its startup and restart form.
#[derive(Debug, Default)]
pub struct WarningLog(pub(crate) Vec<Warning>);

impl WarningLog {
    /// Record a warning about `directive`.
    pub fn warn(&mut self, directive: &str, startup: String, restart: String) {
        self.0.push(Warning {
            directive: directive.to_string(),
            startup,
            restart,
        });
    }
}

/// What a strategy's configuration looks like: the part of a strategy that a
/// configuration check needs, reachable from its label alone.
pub trait Rules: Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// Apache's compile-time limits and `*_pre_config` defaults for this strategy.
    fn defaults(&self) -> Defaults;

    /// Whether this strategy takes the directives of `family`.
    fn takes(&self, family: Family) -> bool;

    /// Range-check and correct the counts `d` in Apache's order, logging each
    /// correction; `retained` is `Some` on a restart (ServerLimit and ThreadLimit cannot
    /// change then). The directives were checked for range and family before.
    fn clamp(
        &self,
        d: &Requested,
        def: &Defaults,
        retained: Option<Retained>,
        log: &mut WarningLog,
    ) -> Counts;

    /// The unit spare capacity is counted in.
    fn spare_unit(&self) -> SpareUnit;

    /// Connections one fully loaded child may hold at once with `threads_per_child`
    /// threads and AsyncRequestWorkerFactor `async_factor` (for the descriptor estimate).
    fn connections_per_child(&self, threads_per_child: u32, async_factor: f64) -> u64;

    /// Whether the status output carries the asynchronous connection block (Apache's
    /// event: processes, stopping, ConnsTotal, ConnsAsync*).
    fn reports_async_connections(&self) -> bool {
        self.takes(Family::AsyncConnections)
    }

    /// What `httpd -V` and `ap_mpm_query` say of the model (see
    /// [`MpmInfo`](crate::MpmInfo)): threads per child fixed or none, processes variable
    /// (spare maintenance) or fixed, connections asynchronous or not.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            threaded: match self.spare_unit() {
                SpareUnit::Threads => Capability::Fixed,
                SpareUnit::Processes => Capability::No,
            },
            forked: Capability::Variable,
            is_async: self.reports_async_connections(),
        }
    }
}

/// The model's answers to `ap_mpm_query`'s IS_THREADED, IS_FORKED and IS_ASYNC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Threads per child.
    pub threaded: Capability,
    /// Processes.
    pub forked: Capability,
    /// Connections handled asynchronously.
    pub is_async: bool,
}

impl std::fmt::Debug for dyn Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("defaults", &self.defaults())
            .field("spare_unit", &self.spare_unit())
            .finish_non_exhaustive()
    }
}

/// ServerLimit against the compile-time range, then the restart rule (a restart cannot
/// change it), with Apache's messages. Every strategy's validation starts here.
pub fn check_server_limit(
    mut server_limit: i64,
    def: &Defaults,
    retained: Option<Retained>,
    log: &mut WarningLog,
) -> i64 {
    let max = def.max_server_limit;
    if server_limit > max {
        log.warn(
            "ServerLimit",
            format!(
                "WARNING: ServerLimit of {server_limit} exceeds compile-time limit of {max} \
                 servers, decreasing to {max}."
            ),
            format!(
                "ServerLimit of {server_limit} exceeds compile-time limit of {max}, \
                 decreasing to match"
            ),
        );
        server_limit = max;
    } else if server_limit < 1 {
        log.warn(
            "ServerLimit",
            format!("WARNING: ServerLimit of {server_limit} not allowed, increasing to 1."),
            format!("ServerLimit of {server_limit} not allowed, increasing to 1"),
        );
        server_limit = 1;
    }
    if let Some(r) = retained {
        let first = i64::from(r.server_limit);
        if server_limit != first {
            let msg = format!(
                "changing ServerLimit to {server_limit} from original value of {first} \
                 not allowed during restart"
            );
            log.warn("ServerLimit", msg.clone(), msg);
            server_limit = first;
        }
    }
    server_limit
}

/// StartServers below 1 becomes 1, with Apache's warning.
pub fn warn_start_servers(start: &mut i64, log: &mut WarningLog) {
    if *start < 1 {
        log.warn(
            "StartServers",
            format!("WARNING: StartServers of {start} not allowed, increasing to 1."),
            format!("StartServers of {start} not allowed, increasing to 1"),
        );
        *start = 1;
    }
}

/// A minimum of spares (`name`: MinSpareServers or MinSpareThreads) below 1 becomes 1,
/// with Apache's warning.
pub fn warn_min_spare(name: &str, min: &mut i64, log: &mut WarningLog) {
    if *min < 1 {
        log.warn(
            name,
            format!(
                "WARNING: {name} of {min} not allowed, increasing to 1 to avoid almost \
                 certain server failure. Please read the documentation."
            ),
            format!("{name} of {min} not allowed, increasing to 1"),
        );
        *min = 1;
    }
}
