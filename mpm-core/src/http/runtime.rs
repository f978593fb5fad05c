//! What every connection shares whatever serves it: its summary, the lingering-close
//! durations, the runtime a blocking thread serves connections on.

use std::io;
use std::time::Duration;

/// How long a closing connection keeps reading (and dropping) what the client still sends,
/// so unread data never turns into a reset that destroys the last response.
pub const LINGER: Duration = Duration::from_secs(2);

/// The shorter lingering close after a 408: the client is slow or silent, so it gets a
/// moment to read the answer but does not hold the connection for long.
pub const LINGER_AFTER_TIMEOUT: Duration = Duration::from_millis(500);

/// What one connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnSummary {
    /// Requests answered (including error answers such as 413).
    pub requests: u64,
    /// Response body bytes produced.
    pub bytes: u64,
}

/// A current-thread tokio runtime with I/O and timers, as serving a connection from a
/// blocking thread needs ([`super::serve_lean_blocking`]).
///
/// Build it in the child (after `fork`), once per process (prefork) or per thread (worker).
pub fn current_thread_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
