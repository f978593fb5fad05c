//! Directives → validated limits, with Apache 2.4's defaults, clamping order and warnings.
//!
//! [`validate`] reproduces, for one strategy, what Apache 2.4 does between reading the
//! configuration and starting children:
//!
//! 1. the defaults each MPM's `*_pre_config` sets (see [`defaults`]);
//! 2. the range checks of `*_check_config`, in Apache's order, each with both of Apache's
//!    message forms ([`Warning::startup`] for the console at startup, [`Warning::restart`]
//!    for the error log at a restart), the same conditions and the same resulting numbers;
//! 3. the silent fix-ups of `*_run` for a single listener bucket (no message).
//!
//! Deliberate differences from Apache (all of them reject input Apache would accept
//! silently or misbehave on; none change a number Apache would compute for valid input):
//!
//! * negative numbers are an error (Apache's `atoi` accepts them, then clamps some and
//!   misbehaves on others, e.g. a negative MaxConnectionsPerChild stops worker/event
//!   children right after they start); `0` stays legal and gets Apache's clamp + warning;
//! * values above `i32::MAX` are an error (Apache's `atoi` overflows);
//! * a directive that belongs to another MPM (e.g. `MinSpareServers` under worker) is an
//!   error, as Apache's "Invalid command" is when the module is not loaded;
//! * `ListenBacklog` must be > 0 and `AsyncRequestWorkerFactor` a positive finite number,
//!   as in Apache, but they are checked here too for directives that came from serde/code.
//!
//! Notes on values Apache keeps in another form:
//!
//! * `AsyncRequestWorkerFactor` below 1 becomes 1, as in Apache; a fraction is kept as
//!   given (Apache stores it ×16 and its event MPM later floors `factor` before use, see
//!   the reference notes — that quirk belongs to the event strategy, not to validation).
//!   For prefork and worker the field holds the default, 2.
//! * `max_request_workers` is the value Apache keeps: rounded down to a multiple of
//!   ThreadsPerChild, but *not* lowered when it needs more than ServerLimit processes (only
//!   `max_daemons` is), exactly as worker/event do.

use crate::config::Directives;
use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The effective MPM limits of one strategy after Apache's validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// The strategy these limits were validated for.
    pub kind: MpmKind,
    /// StartServers (after clamping and the silent fix-ups of `*_run`).
    pub start_servers: u32,
    /// ServerLimit: scoreboard process slots.
    pub server_limit: u32,
    /// ThreadLimit: scoreboard worker slots per process (1 for prefork).
    pub thread_limit: u32,
    /// ThreadsPerChild (1 for prefork).
    pub threads_per_child: u32,
    /// MaxRequestWorkers (as Apache keeps it; see `max_daemons` for the process cap).
    pub max_request_workers: u32,
    /// Maximum number of active children: prefork MaxRequestWorkers, worker/event
    /// min(MaxRequestWorkers / ThreadsPerChild, ServerLimit).
    pub max_daemons: u32,
    /// MinSpareServers (prefork; 0 otherwise).
    pub min_spare_servers: u32,
    /// MaxSpareServers (prefork; 0 otherwise).
    pub max_spare_servers: u32,
    /// MinSpareThreads (worker/event; 0 for prefork).
    pub min_spare_threads: u32,
    /// MaxSpareThreads (worker/event; 0 for prefork).
    pub max_spare_threads: u32,
    /// MaxConnectionsPerChild; 0 = unlimited.
    pub max_connections_per_child: u64,
    /// AsyncRequestWorkerFactor (event; at least 1; the default 2 for prefork/worker).
    pub async_request_worker_factor: f64,
    /// GracefulShutdownTimeout; zero = wait forever.
    pub graceful_shutdown_timeout: Duration,
    /// ListenBacklog.
    pub listen_backlog: i32,
}

impl Limits {
    /// The low-water mark of idle capacity, in the unit maintenance counts: idle processes
    /// for prefork, idle threads for worker/event.
    pub fn min_spare(&self) -> u32 {
        match self.kind {
            MpmKind::Prefork => self.min_spare_servers,
            _ => self.min_spare_threads,
        }
    }

    /// The high-water mark of idle capacity, in the same unit as [`Limits::min_spare`].
    pub fn max_spare(&self) -> u32 {
        match self.kind {
            MpmKind::Prefork => self.max_spare_servers,
            _ => self.max_spare_threads,
        }
    }
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

/// What survives restarts: the values that size the scoreboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retained {
    /// ServerLimit of the first load.
    pub server_limit: u32,
    /// ThreadLimit of the first load.
    pub thread_limit: u32,
}

/// Limits plus the warnings their validation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The effective limits.
    pub limits: Limits,
    /// Every warning Apache would print, in Apache's order.
    pub warnings: Vec<Warning>,
}

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

/// DEFAULT_LISTENBACKLOG.
pub const DEFAULT_LISTEN_BACKLOG: i64 = 511;
/// DEFAULT_WORKER_FACTOR (event's AsyncRequestWorkerFactor).
pub const DEFAULT_ASYNC_REQUEST_WORKER_FACTOR: f64 = 2.0;

/// The defaults and compile-time limits of `kind`, as Apache 2.4 sets them.
pub fn defaults(kind: MpmKind) -> Defaults {
    match kind {
        MpmKind::Prefork => Defaults {
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
        MpmKind::Worker | MpmKind::Event => Defaults {
            start_servers: 3,
            server_limit: 16,
            max_server_limit: 20_000,
            thread_limit: 64,
            max_thread_limit: if kind == MpmKind::Event {
                100_000
            } else {
                20_000
            },
            threads_per_child: 25,
            max_request_workers: 16 * 25,
            // DEFAULT_MIN_FREE_DAEMON × DEFAULT_THREADS_PER_CHILD, DEFAULT_MAX_FREE_DAEMON × it.
            min_spare: 3 * 25,
            max_spare: 10 * 25,
        },
    }
}

/// Collects warnings in both forms.
struct Log(Vec<Warning>);

impl Log {
    fn warn(&mut self, directive: &str, startup: String, restart: String) {
        self.0.push(Warning {
            directive: directive.to_string(),
            startup,
            restart,
        });
    }
}

/// Validate `d` for `kind` with Apache's rules; `retained` is `Some` on a restart.
///
/// Errors (every one found, not just the first): a directive of another MPM, a negative or
/// out-of-range number, `ListenBacklog` not > 0, `AsyncRequestWorkerFactor` not a positive
/// number. Everything else Apache corrects is corrected the same way, with its warnings.
pub fn validate(
    kind: MpmKind,
    d: &Directives,
    retained: Option<Retained>,
) -> Result<Validated, ConfigErrors> {
    let errors = crate::config::check_directives(kind, d);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let def = defaults(kind);
    let mut log = Log(Vec::new());
    let v = match kind {
        MpmKind::Prefork => prefork(d, &def, retained, &mut log),
        MpmKind::Worker | MpmKind::Event => threaded(kind, d, &def, retained, &mut log),
    };
    let factor = d
        .async_request_worker_factor
        .unwrap_or(DEFAULT_ASYNC_REQUEST_WORKER_FACTOR)
        .max(1.0);
    let limits = Limits {
        kind,
        start_servers: to_u32(v.start_servers),
        server_limit: to_u32(v.server_limit),
        thread_limit: to_u32(v.thread_limit),
        threads_per_child: to_u32(v.threads_per_child),
        max_request_workers: to_u32(v.max_request_workers),
        max_daemons: to_u32(v.max_daemons),
        min_spare_servers: to_u32(v.min_spare_servers),
        max_spare_servers: to_u32(v.max_spare_servers),
        min_spare_threads: to_u32(v.min_spare_threads),
        max_spare_threads: to_u32(v.max_spare_threads),
        max_connections_per_child: u64::try_from(d.max_connections_per_child.unwrap_or(0))
            .unwrap_or(0),
        async_request_worker_factor: factor,
        graceful_shutdown_timeout: Duration::from_secs(
            u64::try_from(d.graceful_shutdown_timeout.unwrap_or(0)).unwrap_or(0),
        ),
        listen_backlog: i32::try_from(d.listen_backlog.unwrap_or(DEFAULT_LISTEN_BACKLOG))
            .unwrap_or(i32::MAX),
    };
    Ok(Validated {
        limits,
        warnings: log.0,
    })
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// The numbers being validated, as Apache's globals (signed, like its `int`s).
#[derive(Default)]
struct Work {
    start_servers: i64,
    server_limit: i64,
    thread_limit: i64,
    threads_per_child: i64,
    max_request_workers: i64,
    max_daemons: i64,
    min_spare_servers: i64,
    max_spare_servers: i64,
    min_spare_threads: i64,
    max_spare_threads: i64,
}

/// Steps 1–2 shared by all MPMs: ServerLimit range, then the restart rule.
fn check_server_limit(
    mut server_limit: i64,
    def: &Defaults,
    retained: Option<Retained>,
    log: &mut Log,
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

fn warn_start_servers(start: &mut i64, log: &mut Log) {
    if *start < 1 {
        log.warn(
            "StartServers",
            format!("WARNING: StartServers of {start} not allowed, increasing to 1."),
            format!("StartServers of {start} not allowed, increasing to 1"),
        );
        *start = 1;
    }
}

fn warn_min_spare(name: &str, min: &mut i64, log: &mut Log) {
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

/// `prefork_check_config`, then the fix-ups of `prefork_run` with one bucket.
fn prefork(d: &Directives, def: &Defaults, retained: Option<Retained>, log: &mut Log) -> Work {
    const BUCKETS: i64 = 1;
    let server_limit = check_server_limit(
        d.server_limit.unwrap_or(def.server_limit),
        def,
        retained,
        log,
    );
    let mut mrw = d.max_request_workers.unwrap_or(def.max_request_workers);
    if mrw > server_limit {
        log.warn(
            "MaxRequestWorkers",
            format!(
                "WARNING: MaxRequestWorkers of {mrw} exceeds ServerLimit value of \
                 {server_limit} servers, decreasing MaxRequestWorkers to {server_limit}. \
                 To increase, please see the ServerLimit directive."
            ),
            format!(
                "MaxRequestWorkers of {mrw} exceeds ServerLimit value of {server_limit}, \
                 decreasing to match"
            ),
        );
        mrw = server_limit;
    } else if mrw < 1 {
        log.warn(
            "MaxRequestWorkers",
            format!("WARNING: MaxRequestWorkers of {mrw} not allowed, increasing to 1."),
            format!("MaxRequestWorkers of {mrw} not allowed, increasing to 1"),
        );
        mrw = 1;
    }
    let mut start = d.start_servers.unwrap_or(def.start_servers);
    warn_start_servers(&mut start, log);
    let mut min_free = d.min_spare_servers.unwrap_or(def.min_spare);
    warn_min_spare("MinSpareServers", &mut min_free, log);
    let mut max_free = d.max_spare_servers.unwrap_or(def.max_spare);

    // prefork_run, silently.
    mrw = mrw.max(BUCKETS);
    start = start.max(BUCKETS);
    min_free = min_free.max(BUCKETS);
    if max_free < min_free + BUCKETS {
        max_free = min_free + BUCKETS;
    }
    start = start.min(mrw);
    Work {
        start_servers: start,
        server_limit,
        thread_limit: 1,
        threads_per_child: 1,
        max_request_workers: mrw,
        max_daemons: mrw,
        min_spare_servers: min_free,
        max_spare_servers: max_free,
        ..Work::default()
    }
}

/// `worker_check_config` / `event_check_config` (same logic), then the fix-ups of
/// `worker_run` / `event_run` with one bucket.
fn threaded(
    kind: MpmKind,
    d: &Directives,
    def: &Defaults,
    retained: Option<Retained>,
    log: &mut Log,
) -> Work {
    const BUCKETS: i64 = 1;
    let _ = kind;
    let server_limit = check_server_limit(
        d.server_limit.unwrap_or(def.server_limit),
        def,
        retained,
        log,
    );

    let mut thread_limit = d.thread_limit.unwrap_or(def.thread_limit);
    let max_tl = def.max_thread_limit;
    if thread_limit > max_tl {
        log.warn(
            "ThreadLimit",
            format!(
                "WARNING: ThreadLimit of {thread_limit} exceeds compile-time limit of \
                 {max_tl} threads, decreasing to {max_tl}."
            ),
            format!(
                "ThreadLimit of {thread_limit} exceeds compile-time limit of {max_tl}, \
                 decreasing to match"
            ),
        );
        thread_limit = max_tl;
    } else if thread_limit < 1 {
        log.warn(
            "ThreadLimit",
            format!("WARNING: ThreadLimit of {thread_limit} not allowed, increasing to 1."),
            format!("ThreadLimit of {thread_limit} not allowed, increasing to 1"),
        );
        thread_limit = 1;
    }
    if let Some(r) = retained {
        let first = i64::from(r.thread_limit);
        if thread_limit != first {
            let msg = format!(
                "changing ThreadLimit to {thread_limit} from original value of {first} \
                 not allowed during restart"
            );
            log.warn("ThreadLimit", msg.clone(), msg);
            thread_limit = first;
        }
    }

    let mut tpc = d.threads_per_child.unwrap_or(def.threads_per_child);
    if tpc > thread_limit {
        log.warn(
            "ThreadsPerChild",
            format!(
                "WARNING: ThreadsPerChild of {tpc} exceeds ThreadLimit of {thread_limit} \
                 threads, decreasing to {thread_limit}. To increase, please see the \
                 ThreadLimit directive."
            ),
            format!(
                "ThreadsPerChild of {tpc} exceeds ThreadLimit of {thread_limit}, \
                 decreasing to match"
            ),
        );
        tpc = thread_limit;
    } else if tpc < 1 {
        log.warn(
            "ThreadsPerChild",
            format!("WARNING: ThreadsPerChild of {tpc} not allowed, increasing to 1."),
            format!("ThreadsPerChild of {tpc} not allowed, increasing to 1"),
        );
        tpc = 1;
    }

    let mut mrw = d.max_request_workers.unwrap_or(def.max_request_workers);
    if mrw < tpc {
        log.warn(
            "MaxRequestWorkers",
            format!(
                "WARNING: MaxRequestWorkers of {mrw} is less than ThreadsPerChild of {tpc}, \
                 increasing to {tpc}. MaxRequestWorkers must be at least as large as the \
                 number of threads in a single server."
            ),
            format!(
                "MaxRequestWorkers of {mrw} is less than ThreadsPerChild of {tpc}, \
                 increasing to match"
            ),
        );
        mrw = tpc;
    }

    let mut daemons = mrw / tpc;
    if mrw % tpc != 0 {
        let rounded = daemons * tpc;
        log.warn(
            "MaxRequestWorkers",
            format!(
                "WARNING: MaxRequestWorkers of {mrw} is not an integer multiple of \
                 ThreadsPerChild of {tpc}, decreasing to nearest multiple {rounded}, for a \
                 maximum of {daemons} servers."
            ),
            format!(
                "MaxRequestWorkers of {mrw} is not an integer multiple of ThreadsPerChild \
                 of {tpc}, decreasing to nearest multiple {rounded}"
            ),
        );
        mrw = rounded;
    }

    if daemons > server_limit {
        let to = server_limit * tpc;
        log.warn(
            "MaxRequestWorkers",
            format!(
                "WARNING: MaxRequestWorkers of {mrw} would require {daemons} servers and \
                 would exceed ServerLimit of {server_limit}, decreasing to {to}. To \
                 increase, please see the ServerLimit directive."
            ),
            format!(
                "MaxRequestWorkers of {mrw} would require {daemons} servers and exceed \
                 ServerLimit of {server_limit}, decreasing to {to}"
            ),
        );
        // As Apache: only the process cap is lowered; MaxRequestWorkers keeps its value.
        daemons = server_limit;
    }

    let mut start = d.start_servers.unwrap_or(def.start_servers);
    warn_start_servers(&mut start, log);
    let mut min_threads = d.min_spare_threads.unwrap_or(def.min_spare);
    warn_min_spare("MinSpareThreads", &mut min_threads, log);
    let mut max_threads = d.max_spare_threads.unwrap_or(def.max_spare);

    // worker_run / event_run, silently.
    daemons = daemons.max(BUCKETS);
    start = start.max(BUCKETS);
    min_threads = min_threads.max(tpc * (BUCKETS - 1) + BUCKETS);
    if max_threads < min_threads + (tpc + 1) * BUCKETS {
        max_threads = min_threads + (tpc + 1) * BUCKETS;
    }
    start = start.min(daemons);
    Work {
        start_servers: start,
        server_limit,
        thread_limit,
        threads_per_child: tpc,
        max_request_workers: mrw,
        max_daemons: daemons,
        min_spare_threads: min_threads,
        max_spare_threads: max_threads,
        ..Work::default()
    }
}
