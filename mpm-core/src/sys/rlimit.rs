//! `RLIMIT_NOFILE`: read it, raise the soft limit to the hard one.

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use std::io;

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
