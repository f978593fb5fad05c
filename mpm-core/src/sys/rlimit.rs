//! `RLIMIT_NOFILE`: raised to the hard limit at start, and checked against what the
//! configuration may need.
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
//! * its connections: prefork 1, worker `ThreadsPerChild` (a connection per worker thread,
//!   plus one being handed over), event `ThreadsPerChild × (1 + AsyncRequestWorkerFactor)`
//!   (Apache's per-child connection limit: busy workers plus the factor per idle worker;
//!   connections in lingering close come on top and are short-lived), plus one being
//!   handed over.
//!
//! The master holds only the base and the listeners, so it never needs more than a child.
//! This is an estimate, not a bound: a handler that opens many files needs more.

use crate::limits::Limits;
use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use std::io;

/// Descriptors a process needs besides listeners and connections (see the module docs).
pub const BASE_DESCRIPTORS: u64 = 32;

/// The soft and hard `RLIMIT_NOFILE` (`u64::MAX` = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    /// The enforced limit.
    pub soft: u64,
    /// The ceiling an unprivileged process may raise `soft` to.
    pub hard: u64,
}

/// The current `RLIMIT_NOFILE`.
pub fn nofile() -> io::Result<NoFile> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    Ok(NoFile {
        soft: unlimited(soft),
        hard: unlimited(hard),
    })
}

fn unlimited(v: u64) -> u64 {
    if v == RLIM_INFINITY {
        u64::MAX
    } else {
        v
    }
}

/// The kernel's ceiling on any process's descriptor table (`/proc/sys/fs/nr_open`); an
/// unlimited hard limit can only be used up to it.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Raise the soft limit to the hard limit (or to `nr_open` when the hard limit is
/// unlimited). Returns the limits before and after; on failure the limit is unchanged.
pub fn raise_nofile() -> io::Result<(NoFile, NoFile)> {
    let before = nofile()?;
    let mut target = before.hard;
    if target == u64::MAX {
        target = nr_open().unwrap_or(1 << 20);
    }
    if target <= before.soft {
        return Ok((before, before));
    }
    let hard_raw = if before.hard == u64::MAX {
        RLIM_INFINITY
    } else {
        before.hard
    };
    setrlimit(Resource::RLIMIT_NOFILE, target, hard_raw).map_err(io::Error::from)?;
    Ok((before, nofile()?))
}

/// The descriptors one process (a fully loaded child) may need under `limits` with
/// `listeners` listening sockets; see the module docs for the estimate.
pub fn descriptors_needed(limits: &Limits, listeners: usize) -> u64 {
    let conns = limits.kind.rules().connections_per_child(limits);
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
