//! Validation counting processes: Apache's prefork sequence.

use super::{check_server_limit, warn_min_spare, warn_start_servers};
use super::{Counts, Family, Requested, Rules, SpareUnit, WarningLog};
use super::{Defaults, Retained};

/// Rules of a strategy whose children serve one connection at a time, spares counted in
/// processes (MinSpareServers / MaxSpareServers).
#[derive(Debug, Clone, Copy)]
pub struct ProcessRules {
    /// The strategy's defaults.
    pub defaults: Defaults,
}

impl Rules for ProcessRules {
    fn defaults(&self) -> Defaults {
        self.defaults
    }

    fn takes(&self, family: Family) -> bool {
        family == Family::ProcessSpares
    }

    fn clamp(
        &self,
        d: &Requested,
        def: &Defaults,
        retained: Option<Retained>,
        log: &mut WarningLog,
    ) -> Counts {
        clamp_processes(d, def, retained, log)
    }

    fn spare_unit(&self) -> SpareUnit {
        SpareUnit::Processes
    }

    fn connections_per_child(&self, _threads_per_child: u32, _async_factor: f64) -> u64 {
        1
    }
}

/// `prefork_check_config`, then the fix-ups of `prefork_run` with one bucket.
fn clamp_processes(
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
    Counts {
        start_servers: start,
        server_limit,
        thread_limit: 1,
        threads_per_child: 1,
        max_request_workers: mrw,
        max_daemons: mrw,
        min_spare_servers: min_free,
        max_spare_servers: max_free,
        ..Counts::default()
    }
}
