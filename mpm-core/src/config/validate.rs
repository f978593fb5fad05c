//! Directives → validated limits for one strategy: the directive check, then the
//! strategy's rules (Apache's clamping order and warnings), then the strategy-neutral
//! values.

use super::Directives;
use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use crate::limits::DEFAULT_LISTEN_BACKLOG;
use crate::limits::{Limits, Retained, Validated, DEFAULT_ASYNC_REQUEST_WORKER_FACTOR};
use crate::rules::{Requested, WarningLog};
use std::time::Duration;

/// The counts a strategy's rules work from.
fn requested(d: &Directives) -> Requested {
    Requested {
        start_servers: d.start_servers,
        server_limit: d.server_limit,
        thread_limit: d.thread_limit,
        threads_per_child: d.threads_per_child,
        max_request_workers: d.max_request_workers,
        min_spare_servers: d.min_spare_servers,
        max_spare_servers: d.max_spare_servers,
        min_spare_threads: d.min_spare_threads,
        max_spare_threads: d.max_spare_threads,
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
    let errors = super::check_directives(kind, d);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let def = kind.rules().defaults();
    let mut log = WarningLog::default();
    let v = kind.rules().clamp(&requested(d), &def, retained, &mut log);
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
