//! Descriptors: `RLIMIT_NOFILE` raised to the hard limit at start, and checked against
//! what the configuration may need.
//!
//! ## The estimate ([`descriptors_needed`])
//!
//! The limit is per process, and every child inherits the master's, so what counts is the
//! busiest process: a child at full load. It holds
//!
//! * a base of [`BASE_DESCRIPTORS`]: stdin/stdout/stderr, the error log, the signal
//!   self-pipe (2), the runtime's epoll and wake-up descriptors, and slack for what a
//!   handler opens itself (a file, an upstream connection);
//! * its copy of every listening socket;
//! * its connections, as the strategy's rules estimate them
//!   ([`Rules::connections_per_child`](crate::rules::Rules::connections_per_child)):
//!   one for a process per connection, `ThreadsPerChild` plus one being handed over for
//!   threads, `ThreadsPerChild × (1 + AsyncRequestWorkerFactor)` plus one with an async
//!   connection layer (Apache's per-child connection limit: busy workers plus the factor
//!   per idle worker; connections in lingering close come on top and are short-lived).
//!
//! The master holds only the base and the listeners, so it never needs more than a child.
//! This is an estimate, not a bound: a handler that opens many files needs more.

use crate::limits::Limits;
pub use crate::sys::rlimit::{nofile, raise_nofile, NoFile};

/// Descriptors a process needs besides listeners and connections (see the module docs).
pub const BASE_DESCRIPTORS: u64 = 32;

/// The descriptors one process (a fully loaded child) may need under `limits` with
/// `listeners` listening sockets; see the module docs for the estimate.
pub fn descriptors_needed(limits: &Limits, listeners: usize) -> u64 {
    let conns = limits
        .kind
        .rules()
        .connections_per_child(limits.threads_per_child, limits.async_request_worker_factor);
    BASE_DESCRIPTORS
        .saturating_add(listeners as u64)
        .saturating_add(conns)
}

/// What [`ensure_nofile`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFileReport {
    /// The limits at start.
    pub before: NoFile,
    /// The limits after raising (equal to `before` when nothing could be raised).
    pub after: NoFile,
    /// The estimate of [`descriptors_needed`].
    pub needed: u64,
}

impl NoFileReport {
    /// Whether the soft limit is below the estimate.
    pub fn short(&self) -> bool {
        self.after.soft < self.needed
    }
}

/// Raise `RLIMIT_NOFILE` where allowed and log: `info` when it was raised, a `warn` with
/// both numbers when it is still lower than the configuration may need. Never fails the
/// start: a failure to read or raise the limit is logged.
pub fn ensure_nofile(limits: &Limits, listeners: usize) -> Option<NoFileReport> {
    let needed = descriptors_needed(limits, listeners);
    let (before, after) = match raise_nofile() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("cannot raise RLIMIT_NOFILE: {e}");
            match nofile() {
                Ok(n) => (n, n),
                Err(_) => return None,
            }
        }
    };
    if after.soft > before.soft {
        tracing::info!(
            "RLIMIT_NOFILE raised from {} to {} (the hard limit)",
            before.soft,
            after.soft
        );
    }
    let report = NoFileReport {
        before,
        after,
        needed,
    };
    if report.short() {
        tracing::warn!(
            "RLIMIT_NOFILE is {} (hard limit {}) but the configuration may need {} descriptors \
             per child ({} MPM, ThreadsPerChild {}, {} listener(s)); raise the hard limit \
             (ulimit -Hn, systemd LimitNOFILE=) or lower ThreadsPerChild / \
             AsyncRequestWorkerFactor",
            after.soft,
            limit_text(after.hard),
            needed,
            limits.kind.name(),
            limits.threads_per_child,
            listeners
        );
    }
    Some(report)
}

fn limit_text(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".to_string()
    } else {
        v.to_string()
    }
}
