//! The master: one single-threaded loop, written once for every strategy. This file runs
//! the loop (signals in, commands out, a tick a second); its parts live beside it:
//!
//! * `children.rs` — the children table, forking, retiring, reaping, crash respawn;
//! * `spares.rs` — spare maintenance, HandlerTimeout, SIGTTIN/SIGTTOU, carried out as
//!   `spare_decision.rs` decides (pure functions of a snapshot, unit-tested);
//! * `generations.rs` — reloading the configuration, graceful and hard restarts;
//! * `stop.rs` — graceful and immediate stops, the TERM → KILL escalation;
//! * `service.rs` — readiness and status for systemd, the binary upgrade.

mod children;
mod generations;
mod service;
mod spare_decision;
mod spares;
mod stop;

use crate::config::{ConfigSource, ServerConfig};
use crate::control::Command;
use crate::error::Result;
use crate::http::Handler;
use crate::info::MpmState;
use crate::kind::MpmKind;
use crate::listen::Listener;
use crate::mpm::Mpm;
use crate::notify::Notifier;
use crate::pidfile::PidFile;
use crate::scoreboard::Scoreboard;
use crate::sys::privileges::{self, Identity};
use crate::sys::process;
use crate::sys::signal::{self, SignalPipe};
use crate::upgrade::{Invocation, Progress, Upgrade};
use children::{Children, Respawns};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use spares::SpareState;
use std::time::{Duration, Instant, SystemTime};

/// The signals the master handles.
const MASTER_SIGNALS: [Signal; 9] = [
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGCHLD,
];

/// The master loop's state. Lives only in the master process.
pub(crate) struct Master<'a> {
    mpm: &'a dyn Mpm,
    source: &'a ConfigSource,
    config: ServerConfig,
    listeners: Vec<Listener>,
    scoreboard: Scoreboard,
    handler: Handler,
    identity: Identity,
    signals: SignalPipe,
    pid: Pid,
    pid_file: Option<PidFile>,
    /// Every child not reaped yet.
    children: Children,
    /// The running generation (0 at start, +1 at each restart).
    generation: u32,
    /// Spare maintenance between ticks.
    spares: SpareState,
    /// Crash respawns in a row.
    respawns: Respawns,
    /// A current-generation child exited fatally: stop.
    fatal: bool,
    notifier: Notifier,
    ready_sent: bool,
    invocation: Option<Invocation>,
    upgrade: Option<Upgrade>,
    /// When the TLS session-ticket keys were last made (`None`: not yet).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    tickets_rotated: Option<Instant>,
}

impl<'a> Master<'a> {
    pub(crate) fn new(
        mpm: &'a dyn Mpm,
        source: &'a ConfigSource,
        config: ServerConfig,
        listeners: Vec<Listener>,
        scoreboard: Scoreboard,
        handler: Handler,
    ) -> Result<Master<'a>> {
        let identity = privileges::resolve(config.user.as_deref(), config.group.as_deref())
            .map_err(crate::Error::Privileges)?;
        if (config.user.is_some() || config.group.is_some()) && !privileges::is_root() {
            tracing::info!("not running as root: User/Group directives have no effect");
        }
        signal::ignore(&[Signal::SIGPIPE, Signal::SIGXFSZ]);
        let notifier = Notifier::from_env();
        let invocation = Invocation::current();
        let signals = SignalPipe::install(&MASTER_SIGNALS)?;
        let pid = process::pid();
        let pid_file = match &config.pid_file {
            Some(path) => {
                let (file, overwritten) = PidFile::write(path, pid)?;
                if overwritten {
                    tracing::warn!(
                        "pid file {} overwritten -- Unclean shutdown of previous run?",
                        path.display()
                    );
                }
                Some(file)
            }
            None => None,
        };
        scoreboard.set_master_pid(pid.as_raw());
        scoreboard.set_generation(0);
        scoreboard.set_config_generation(1);
        scoreboard.set_restart_time(SystemTime::now());
        scoreboard.set_state(MpmState::Starting);
        Ok(Master {
            mpm,
            source,
            config,
            listeners,
            scoreboard,
            handler,
            identity,
            signals,
            pid,
            pid_file,
            children: Children::default(),
            generation: 0,
            spares: SpareState::default(),
            respawns: Respawns::default(),
            fatal: false,
            notifier,
            ready_sent: false,
            invocation,
            upgrade: None,
            tickets_rotated: None,
        })
    }

    fn kind(&self) -> MpmKind {
        self.mpm.kind()
    }

    /// Run until stopped. Returns when every child is gone.
    pub(crate) fn run(mut self) -> Result<()> {
        for addr in self.listeners.iter().map(|l| l.local_addr) {
            tracing::info!("listening on {addr}");
        }
        self.rotate_ticket_keys();
        if self.kind() == MpmKind::Prefork && (self.config.http2.h2 || self.config.http2.h2c) {
            tracing::warn!(
                "The prefork MPM is in use: HTTP/2 (Protocols h2/h2c) will not be offered; HTTP/1.1 is, over TLS too"
            );
        }
        let start = self.config.limits.start_servers;
        self.spawn_up_to(start);
        tracing::info!(
            "mpm/{} ({}) configured -- resuming normal operations",
            env!("CARGO_PKG_VERSION"),
            self.kind()
        );
        let mut last_tick = Instant::now();
        loop {
            let mut wait = Duration::from_secs(1).saturating_sub(last_tick.elapsed());
            if let Some(w) = self.notifier.watchdog_interval() {
                wait = wait.min(w);
            }
            if !self.ready_sent || self.upgrade.is_some() {
                wait = wait.min(Duration::from_millis(100));
            }
            self.wait_for_signal(wait);
            self.notifier.watchdog_tick();
            let mut command: Option<Command> = None;
            for sig in self.signals.take() {
                if let Some(c @ (Command::MoreSpares | Command::FewerSpares)) =
                    Command::from_signal(sig)
                {
                    self.adjust_spares(c == Command::MoreSpares);
                    continue;
                }
                if let Some(c) = Command::from_signal(sig) {
                    if command.is_none_or(|p| c.strength() > p.strength()) {
                        command = Some(c);
                    }
                }
            }
            self.reap();
            if self.fatal {
                command = Some(Command::Stop);
            }
            match command {
                Some(Command::Stop) => {
                    return self.finish(false, "caught SIGTERM, shutting down");
                }
                Some(Command::GracefulStop) => {
                    return self.finish(true, "caught SIGWINCH, shutting down gracefully");
                }
                Some(Command::Restart) => self.restart(),
                Some(Command::GracefulRestart) => self.graceful_restart(),
                Some(Command::Upgrade) => self.start_upgrade(),
                Some(Command::MoreSpares | Command::FewerSpares) | None => {}
            }
            if !self.ready_sent && self.any_worker_ready() {
                self.ready_sent = true;
                self.scoreboard.set_state(MpmState::Running);
                let status = self.status_line();
                self.notifier.ready(&status);
            }
            if let Some(up) = &self.upgrade {
                match up.progress() {
                    Progress::Waiting => {}
                    Progress::Ready => {
                        let up = self.upgrade.take().expect("upgrade in progress");
                        let why = format!(
                            "upgrade: new master {} is ready; this generation drains and exits",
                            up.pid
                        );
                        up.complete();
                        return self.finish(true, &why);
                    }
                    Progress::TimedOut => {
                        let up = self.upgrade.take().expect("upgrade in progress");
                        tracing::error!(
                            "upgrade: new master {} did not report ready in time; killing it and going on serving",
                            up.pid
                        );
                        up.abort(false);
                    }
                }
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                #[cfg(feature = "tls")]
                if self
                    .tickets_rotated
                    .is_some_and(|t| t.elapsed() >= crate::tls::tickets::ROTATION)
                {
                    self.rotate_ticket_keys();
                }
                self.maintenance();
                let status = self.status_line();
                self.notifier.status(&status);
            }
        }
    }

    /// TLS: a new session-ticket key in the scoreboard mapping, the current one kept as
    /// the previous (at start, every rotation period, every restart); children read the
    /// keys from there, so all of them, of every generation, seal and open alike.
    fn rotate_ticket_keys(&mut self) {
        #[cfg(feature = "tls")]
        if self.config.tls.is_some() {
            match crate::tls::tickets::rotate(&self.scoreboard) {
                Ok(()) => {
                    tracing::debug!("TLS session-ticket keys rotated");
                    self.tickets_rotated = Some(Instant::now());
                }
                Err(_) => tracing::error!(
                    "cannot make a TLS session-ticket key (no system randomness); keeping the old one"
                ),
            }
        }
    }

    fn wait_for_signal(&self, wait: Duration) {
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(self.signals.fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        let _ = poll(&mut fds, timeout);
    }
}

impl Drop for Master<'_> {
    fn drop(&mut self) {
        // Never leave children behind, whatever path leads out of the master.
        if !self.children.is_empty() {
            self.reclaim();
        }
    }
}
