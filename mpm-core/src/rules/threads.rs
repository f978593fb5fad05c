//! Validation counting threads in processes: Apache's worker and event sequence.

use super::{check_server_limit, warn_min_spare, warn_start_servers};
use super::{Counts, Family, Requested, Rules, SpareUnit, WarningLog};
use super::{Defaults, Retained};

/// Rules of a strategy whose children run ThreadsPerChild threads, spares counted in
/// threads (MinSpareThreads / MaxSpareThreads).
#[derive(Debug, Clone, Copy)]
pub struct ThreadRules {
    /// The strategy's defaults.
    pub defaults: Defaults,
    /// Whether connections live in an asynchronous layer beside the threads: the
    /// strategy then takes AsyncRequestWorkerFactor, a child may hold ThreadsPerChild ×
    /// (1 + factor) connections, and the status output carries the async block.
    pub async_connections: bool,
}

impl Rules for ThreadRules {
    fn defaults(&self) -> Defaults {
        self.defaults
    }

    fn takes(&self, family: Family) -> bool {
        match family {
            Family::Threads => true,
            Family::AsyncConnections => self.async_connections,
            Family::ProcessSpares => false,
        }
    }

    fn clamp(
        &self,
        d: &Requested,
        def: &Defaults,
        retained: Option<Retained>,
        log: &mut WarningLog,
    ) -> Counts {
        clamp_threads(d, def, retained, log)
    }

    fn spare_unit(&self) -> SpareUnit {
        SpareUnit::Threads
    }

    fn connections_per_child(&self, threads_per_child: u32, async_factor: f64) -> u64 {
        let tpc = u64::from(threads_per_child.max(1));
        if self.async_connections {
            let factor = async_factor.max(0.0);
            (tpc as f64 * (1.0 + factor)).ceil() as u64 + 1
        } else {
            tpc + 1
        }
    }
}

/// `worker_check_config` / `event_check_config` (same logic), then the fix-ups of
/// `worker_run` / `event_run` with one bucket.
fn clamp_threads(
    d: &Requested,
    def: &Defaults,
    retained: Option<Retained>,
    log: &mut WarningLog,
) -> Counts {
    const BUCKETS: i64 = 1;
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
    Counts {
        start_servers: start,
        server_limit,
        thread_limit,
        threads_per_child: tpc,
        max_request_workers: mrw,
        max_daemons: daemons,
        min_spare_threads: min_threads,
        max_spare_threads: max_threads,
        ..Counts::default()
    }
}
