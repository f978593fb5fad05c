//! What a forked child gets from the master, and what it may ask about itself.

use crate::config::ServerConfig;
use crate::http::Handler;
use crate::kind::MpmKind;
use crate::listen::Listener;
use crate::scoreboard::Scoreboard;
use crate::slots::ChildSlots;
use crate::sys::signal::{self, SignalPipe};
use nix::sys::signal::Signal;
use std::os::fd::BorrowedFd;
use std::sync::OnceLock;

/// Everything a strategy's `child_main` needs, borrowed from the master's copy of the
/// memory, which the child inherited at fork.
pub struct ChildContext<'a> {
    slot: usize,
    generation: u32,
    scoreboard: &'a Scoreboard,
    listeners: &'a [Listener],
    config: &'a ServerConfig,
    handler: &'a Handler,
    signals: &'a ChildSignals,
}

impl<'a> ChildContext<'a> {
    pub(crate) fn new(
        slot: usize,
        generation: u32,
        scoreboard: &'a Scoreboard,
        listeners: &'a [Listener],
        config: &'a ServerConfig,
        handler: &'a Handler,
        signals: &'a ChildSignals,
    ) -> ChildContext<'a> {
        ChildContext {
            slot,
            generation,
            scoreboard,
            listeners,
            config,
            handler,
            signals,
        }
    }

    /// This child's scoreboard process slot.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The generation this child belongs to.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// This child's own scoreboard slots, the only ones it writes.
    pub fn slots(&self) -> ChildSlots {
        ChildSlots::new(self.scoreboard.clone(), self.slot)
    }

    /// The scoreboard itself (the TLS ticket keys live in its mapping).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn scoreboard(&self) -> &'a Scoreboard {
        self.scoreboard
    }

    /// The listening sockets, bound by the master.
    pub fn listeners(&self) -> &'a [Listener] {
        self.listeners
    }

    /// The configuration of this generation.
    pub fn config(&self) -> &'a ServerConfig {
        self.config
    }

    /// The application's handler.
    pub fn handler(&self) -> &'a Handler {
        self.handler
    }

    /// Graceful-stop notification from the master.
    pub fn signals(&self) -> &'a ChildSignals {
        self.signals
    }

    /// Whether the master asked this child to stop: by signal, or by the quiescing flag
    /// of its slot (set for a retirement before the signal arrives).
    pub fn stop_requested(&self) -> bool {
        self.signals.graceful_requested() || self.scoreboard.process(self.slot).quiescing()
    }

    /// [`stop_requested`](Self::stop_requested) as a closure that owns what it needs, for
    /// a [`Closing`](crate::http::Closing) probe or another thread.
    pub fn stop_probe(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let slots = self.slots();
        move || ChildSignals::pending() || slots.process().quiescing()
    }

    /// This child's connection budget: MaxConnectionsPerChild plus a random share of
    /// MaxConnectionsPerChildJitter (0 = unlimited), so children started together do not
    /// all recycle at the same moment.
    pub fn max_connections(&self) -> u64 {
        let base = self.config.limits.max_connections_per_child;
        let jitter = self.config.max_connections_per_child_jitter;
        if base == 0 || jitter == 0 {
            return base;
        }
        // Randomness enough for spreading: pid and clock mixed (no cryptographic need).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        let mixed = (u64::from(std::process::id()) ^ nanos.rotate_left(17))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        base + (mixed >> 11) % (jitter + 1)
    }
}

/// How the master tells a child to finish gracefully: `SIGUSR1` (through a self-pipe the
/// child can poll) and the `quiescing` flag of its scoreboard slot. A plain `SIGTERM` keeps
/// its default action: the child ends at once.
#[derive(Debug)]
pub struct ChildSignals {
    pipe: SignalPipe,
}

impl ChildSignals {
    /// Route SIGUSR1 to a fresh pipe (called once in the child, right after fork).
    pub(crate) fn install() -> std::io::Result<ChildSignals> {
        Ok(ChildSignals {
            pipe: SignalPipe::install(&[Signal::SIGUSR1])?,
        })
    }

    /// Whether the master asked this child to stop gracefully. Sticky: once true, stays true.
    pub fn graceful_requested(&self) -> bool {
        Self::pending()
    }

    /// The same, without a reference (the request is process-wide).
    fn pending() -> bool {
        signal::is_pending(Signal::SIGUSR1)
    }

    /// A descriptor that becomes readable when a graceful stop is requested; poll it beside
    /// the listeners.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.pipe.fd()
    }

    /// The same notification for an asynchronous loop: [`StopWatch::requested`] completes
    /// once a graceful stop is requested. Call it inside the child's tokio runtime.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated or registered with the runtime.
    pub fn watch(&self) -> std::io::Result<StopWatch> {
        let fd = self.pipe.fd().try_clone_to_owned()?;
        Ok(StopWatch {
            fd: crate::sys::fd::async_fd(fd)?,
        })
    }
}

/// Waits asynchronously for the master's graceful-stop request (see
/// [`ChildSignals::watch`]).
#[derive(Debug)]
pub struct StopWatch {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

impl StopWatch {
    /// Completes when a graceful stop has been requested (at once if it already was).
    /// Cancel-safe: use it in `select!` as often as needed.
    pub async fn requested(&self) {
        // The pipe is never drained, so once readable it stays readable.
        let _ = self.fd.readable().await;
    }
}

/// Facts about the running child, for handlers (e.g. a status page) that need them.
#[derive(Clone)]
pub struct ChildInfo {
    /// The strategy.
    pub kind: MpmKind,
    /// Scoreboard slot.
    pub slot: usize,
    /// Generation.
    pub generation: u32,
    /// The configuration this child runs with.
    pub config: ServerConfig,
    /// The scoreboard, read only through [`ChildInfo::snapshot`].
    pub(crate) scoreboard: Scoreboard,
}

impl ChildInfo {
    /// A copy of the whole scoreboard as it is now (what status pages render).
    pub fn snapshot(&self) -> crate::scoreboard::ScoreboardSnapshot {
        self.scoreboard.snapshot()
    }
}

static CURRENT: OnceLock<ChildInfo> = OnceLock::new();

pub(crate) fn set_current(info: ChildInfo) {
    let _ = CURRENT.set(info);
}

/// The running child's facts; `None` in the master or outside a server.
pub fn current() -> Option<&'static ChildInfo> {
    CURRENT.get()
}
