//! The master: one single-threaded loop, written once for every strategy — signals,
//! reaping, the once-a-second spare maintenance, generations, restarts and the
//! TERM → KILL escalation.

use crate::child::{self, ChildContext, ChildInfo, ChildSignals};
use crate::config::ServerConfig;
use crate::control::Command;
use crate::error::Result;
use crate::http::Handler;
use crate::kind::MpmKind;
use crate::listen::Listener;
use crate::mpm::{exit, Mpm};
use crate::notify::Notifier;
use crate::pidfile::PidFile;
use crate::policy::{Census, ChildCensus, HungHandler, SpareDecision};
use crate::rules::SpareUnit;
use crate::scoreboard::{Scoreboard, WorkerStatus};
use crate::server::ConfigSource;
use crate::sys::privileges::{self, Identity};
use crate::sys::process::{self, ExitCause};
use crate::sys::signal::{self, SignalPipe};
use crate::upgrade::{Invocation, Progress, Upgrade};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// Apache's cap on children forked per maintenance tick.
const MAX_SPAWN_RATE: u32 = 32;
/// Crash respawns allowed back to back before waiting for maintenance.
const MAX_SUCCESSIVE_KILLS: u32 = 3;
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

/// A child the master forked and has not reaped yet.
#[derive(Debug, Clone)]
struct Child {
    slot: usize,
    generation: u32,
    /// The master asked it to finish (graceful restart, idle retirement, stop).
    quiescing: bool,
    /// The master sent it SIGTERM/SIGKILL, so its death by signal is expected.
    killed: bool,
    /// A handler of this child overran HandlerTimeout: when to kill it if it has not
    /// finished gracefully by then (threaded strategies).
    hung_kill_at: Option<Instant>,
}

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
    children: BTreeMap<Pid, Child>,
    generation: u32,
    spawn_rate: u32,
    hold_off: u32,
    max_workers_reported: bool,
    crash_streak: u32,
    crash_warned: bool,
    fatal: bool,
    notifier: Notifier,
    ready_sent: bool,
    invocation: Option<Invocation>,
    upgrade: Option<Upgrade>,
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
            children: BTreeMap::new(),
            generation: 0,
            spawn_rate: 1,
            hold_off: 0,
            max_workers_reported: false,
            crash_streak: 0,
            crash_warned: false,
            fatal: false,
            notifier,
            ready_sent: false,
            invocation,
            upgrade: None,
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
                    tracing::info!("caught SIGTERM, shutting down");
                    return self.finish(false);
                }
                Some(Command::GracefulStop) => {
                    tracing::info!("caught SIGWINCH, shutting down gracefully");
                    return self.finish(true);
                }
                Some(Command::Restart) => self.restart(),
                Some(Command::GracefulRestart) => self.graceful_restart(),
                Some(Command::Upgrade) => self.start_upgrade(),
                Some(Command::MoreSpares | Command::FewerSpares) | None => {}
            }
            if !self.ready_sent && self.any_worker_ready() {
                self.ready_sent = true;
                let status = self.status_line();
                self.notifier.ready(&status);
            }
            if let Some(up) = &self.upgrade {
                match up.progress() {
                    Progress::Waiting => {}
                    Progress::Ready => {
                        let up = self.upgrade.take().expect("upgrade in progress");
                        tracing::info!(
                            "upgrade: new master {} is ready; this generation drains and exits",
                            up.pid
                        );
                        up.complete();
                        return self.finish(true);
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
                self.maintenance();
                let status = self.status_line();
                self.notifier.status(&status);
            }
        }
    }

    fn wait_for_signal(&self, wait: Duration) {
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(self.signals.fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        let _ = poll(&mut fds, timeout);
    }

    // ----------------------------------------------------------------------------------
    // children

    /// A process slot is free when no live child (of any generation) holds it.
    fn free_slots(&self, limit: usize) -> Vec<usize> {
        let used: std::collections::BTreeSet<usize> =
            self.children.values().map(|c| c.slot).collect();
        (0..self.scoreboard.server_limit() as usize)
            .filter(|s| !used.contains(s))
            .take(limit)
            .collect()
    }

    /// Children of the current generation that were not asked to stop.
    fn active_children(&self) -> usize {
        self.children
            .values()
            .filter(|c| c.generation == self.generation && !c.quiescing)
            .count()
    }

    /// Fork children until `n` active ones exist (bounded by free slots and max_daemons).
    fn spawn_up_to(&mut self, n: u32) {
        let max = self.config.limits.max_daemons as usize;
        let want = (n as usize).min(max).saturating_sub(self.active_children());
        for slot in self.free_slots(want) {
            self.spawn(slot);
        }
    }

    fn spawn(&mut self, slot: usize) {
        let tpc = self.config.limits.threads_per_child as usize;
        self.scoreboard.reset_process(slot);
        let proc_slot = self.scoreboard.process(slot);
        proc_slot.set_generation(self.generation);
        for t in 0..tpc.min(self.scoreboard.thread_limit() as usize) {
            self.scoreboard
                .worker(slot, t)
                .set_status(WorkerStatus::Starting);
        }
        let mask = signal::block_all();
        let forked = process::fork_child(|| self.child_entry(slot));
        signal::restore_mask(&mask);
        match forked {
            Ok(pid) => {
                self.scoreboard.process(slot).set_pid(pid.as_raw());
                self.children.insert(
                    pid,
                    Child {
                        slot,
                        generation: self.generation,
                        quiescing: false,
                        killed: false,
                        hung_kill_at: None,
                    },
                );
                tracing::debug!(
                    "Child {slot} started: pid {pid}, gen {}, active {}/{}",
                    self.generation,
                    self.active_children(),
                    self.config.limits.max_daemons
                );
            }
            Err(e) => {
                self.scoreboard.reset_process(slot);
                tracing::error!("fork: Unable to fork new process: {e}");
            }
        }
    }

    /// Runs in the forked child; returns its exit code.
    fn child_entry(&self, slot: usize) -> i32 {
        signal::restore_default(&MASTER_SIGNALS);
        let signals = match ChildSignals::install() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("child {slot}: cannot install signal handling: {e}");
                return exit::CHILD_SICK;
            }
        };
        signal::unblock_all();
        if !process::die_with_parent(self.pid) {
            return 0; // the master died between fork and here
        }
        if let Err(e) = privileges::assume(&self.identity) {
            tracing::error!("child {slot}: cannot drop privileges: {e}");
            return exit::CHILD_FATAL;
        }
        self.scoreboard
            .process(slot)
            .set_pid(process::pid().as_raw());
        child::set_current(ChildInfo {
            kind: self.kind(),
            slot,
            generation: self.generation,
            config: self.config.clone(),
            scoreboard: self.scoreboard.clone(),
        });
        let ctx = ChildContext {
            slot,
            generation: self.generation,
            scoreboard: &self.scoreboard,
            listeners: &self.listeners,
            config: &self.config,
            handler: &self.handler,
            signals: &signals,
        };
        self.mpm.child_main(ctx)
    }

    /// Ask a child to finish gracefully: flag in the scoreboard, then SIGUSR1.
    fn retire(&mut self, pid: Pid) {
        if let Some(child) = self.children.get_mut(&pid) {
            child.quiescing = true;
            let slot = self.scoreboard.process(child.slot);
            slot.set_quiescing(true);
            for t in 0..self.scoreboard.thread_limit() as usize {
                let w = self.scoreboard.worker(child.slot, t);
                if matches!(w.status(), WorkerStatus::Ready | WorkerStatus::Starting) {
                    w.set_status(WorkerStatus::Graceful);
                }
            }
            if let Err(e) = process::signal(pid, Signal::SIGUSR1) {
                tracing::warn!("cannot signal child {pid}: {e}");
            }
        }
    }

    fn reap(&mut self) {
        while let Some((pid, cause)) = process::reap_one() {
            self.child_exited(pid, cause);
        }
    }

    fn child_exited(&mut self, pid: Pid, cause: ExitCause) {
        if self.upgrade.as_ref().is_some_and(|u| u.pid == pid) {
            let up = self.upgrade.take().expect("upgrade in progress");
            tracing::error!(
                "upgrade: new master {pid} exited before it was ready ({cause:?}); this generation goes on serving"
            );
            up.abort(true);
            return;
        }
        let Some(child) = self.children.remove(&pid) else {
            tracing::warn!("long lost child came home! (pid {pid})");
            return;
        };
        self.scoreboard.reset_process(child.slot);
        let current = child.generation == self.generation;
        match cause {
            ExitCause::Exited(exit::CHILD_FATAL) => {
                if current {
                    tracing::error!("Child {pid} returned a Fatal error... server is exiting!");
                    self.fatal = true;
                } else {
                    tracing::warn!(
                        "Ignoring fatal error in child of previous generation (pid {pid})."
                    );
                }
            }
            ExitCause::Exited(exit::CHILD_SICK) => {
                tracing::warn!("child pid {pid} exited: resource shortage");
                self.spawn_rate = 1;
            }
            ExitCause::Exited(code) => {
                if code != 0 {
                    tracing::warn!("child pid {pid} exited with status {code}");
                }
                // A child that retired itself (MaxConnectionsPerChild) is replaced at once,
                // one for one, so capacity does not wait for the next tick.
                if current && !child.quiescing && !self.fatal {
                    self.spawn_replacement(child.slot);
                }
            }
            ExitCause::Signaled { signal: sig, core } => {
                if child.killed && matches!(sig, Signal::SIGTERM | Signal::SIGKILL) {
                    return;
                }
                if core {
                    tracing::error!(
                        "child pid {pid} exit signal {} ({}), possible coredump",
                        sig.as_str(),
                        sig as i32
                    );
                } else {
                    tracing::error!(
                        "child pid {pid} exit signal {} ({})",
                        sig.as_str(),
                        sig as i32
                    );
                }
                self.scoreboard.count_crash(sig as i32);
                if current && !child.quiescing && !self.fatal {
                    self.crash_streak += 1;
                    if self.crash_streak <= MAX_SUCCESSIVE_KILLS {
                        self.spawn_replacement(child.slot);
                    } else if !self.crash_warned {
                        self.crash_warned = true;
                        tracing::warn!("children are killed successively!");
                    }
                }
            }
        }
    }

    fn spawn_replacement(&mut self, slot: usize) {
        if self.active_children() < self.config.limits.max_daemons as usize {
            self.spawn(slot);
        }
    }

    // ----------------------------------------------------------------------------------
    // once a second

    /// Idle capacity of current-generation, non-quiescing children, counted by the
    /// strategy, and the child to retire if there is too much (the highest slot among the
    /// strategy's candidates).
    fn idle_count(&self) -> (u32, Option<Pid>) {
        let tpc = self.config.limits.threads_per_child as usize;
        let mut idle = 0u32;
        let mut to_retire: Option<(usize, Pid)> = None;
        let mut workers = Vec::with_capacity(tpc);
        for (&pid, child) in &self.children {
            if child.generation != self.generation || child.quiescing {
                continue;
            }
            workers.clear();
            workers.extend((0..tpc).map(|t| self.scoreboard.worker(child.slot, t).status()));
            let census = ChildCensus {
                slot: child.slot,
                workers: &workers,
                not_accepting: self.scoreboard.process(child.slot).not_accepting(),
            };
            let Some(count) = self.mpm.count_idle(&census) else {
                continue;
            };
            idle += count.idle;
            if count.retirable && to_retire.is_none_or(|(s, _)| child.slot > s) {
                to_retire = Some((child.slot, pid));
            }
        }
        (idle, to_retire.map(|(_, p)| p))
    }

    /// HandlerTimeout: find handlers running too long and recycle their children —
    /// prefork's at once (the one request is lost anyway), a threaded child gracefully
    /// so its other requests can finish, then killed if it has not left within another
    /// HandlerTimeout.
    fn check_hung_handlers(&mut self) {
        let Some(limit) = self.config.handler_timeout else {
            return;
        };
        let tpc = self.config.limits.threads_per_child as usize;
        let now = Instant::now();
        let mut to_retire = Vec::new();
        let mut to_kill = Vec::new();
        for (&pid, child) in &self.children {
            if child.killed {
                continue;
            }
            if let Some(at) = child.hung_kill_at {
                if now >= at {
                    to_kill.push(pid);
                }
                continue;
            }
            for t in 0..tpc {
                let w = self.scoreboard.worker(child.slot, t);
                if w.status() != WorkerStatus::BusyWrite {
                    continue;
                }
                let snap = w.snapshot();
                let ran = Duration::from_millis(snap.request_duration_ms);
                if ran > limit {
                    tracing::error!(
                        "handler timeout: slot {} thread {t} pid {pid} client {} request \"{}\" running for {:.1}s (HandlerTimeout {}s); recycling the child",
                        child.slot,
                        snap.client,
                        snap.request,
                        ran.as_secs_f64(),
                        limit.as_secs()
                    );
                    to_retire.push(pid);
                    break;
                }
            }
        }
        for pid in to_retire {
            match self.mpm.hung_handler() {
                HungHandler::RetireThenKill => {
                    self.retire(pid);
                    if let Some(c) = self.children.get_mut(&pid) {
                        c.hung_kill_at = Some(now + limit);
                    }
                }
                HungHandler::Kill => self.kill(pid, Signal::SIGKILL),
            }
        }
        for pid in to_kill {
            tracing::error!(
                "handler timeout: child pid {pid} did not finish gracefully; killing it"
            );
            self.kill(pid, Signal::SIGKILL);
        }
    }

    fn maintenance(&mut self) {
        self.check_hung_handlers();
        if self.crash_streak > 0 {
            self.crash_streak = 0;
            self.crash_warned = false;
        }
        let limits = self.config.limits.clone();
        let (idle, retire) = self.idle_count();
        let active = self.active_children();
        let max = limits.max_daemons as usize;
        let census = Census {
            idle,
            active,
            children: self.children.len(),
        };
        let threads = limits.kind.rules().spare_unit() == SpareUnit::Threads;
        let decision = self.mpm.spares(&census, &limits);
        if let SpareDecision::Retire { now } = decision {
            if let (Some(pid), true) = (retire, now) {
                tracing::debug!(
                    "idle {idle} > max spare {}: retiring {pid}",
                    limits.max_spare()
                );
                self.retire(pid);
            }
            self.spawn_rate = 1;
        } else if decision == SpareDecision::Spawn {
            if active >= max {
                if !self.max_workers_reported {
                    self.max_workers_reported = true;
                    if idle > 0 && threads {
                        tracing::error!("server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting");
                    } else {
                        tracing::error!("server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting");
                    }
                }
                self.spawn_rate = 1;
                return;
            }
            let free = self.free_slots((self.spawn_rate as usize).min(max - active));
            if free.is_empty() {
                tracing::error!(
                    "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit."
                );
                self.spawn_rate = 1;
                return;
            }
            if self.spawn_rate >= 8 {
                let n = free.len();
                let what = if threads {
                    format!("StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning {n} children, there are around {idle} idle threads")
                } else {
                    format!("StartServers, or Min/MaxSpareServers), spawning {n} children, there are {idle} idle")
                };
                tracing::info!(
                    "server seems busy, (you may need to increase {what}, and {} total children",
                    self.children.len()
                );
            }
            for slot in free {
                self.spawn(slot);
            }
            if self.hold_off > 0 {
                self.hold_off -= 1;
            } else if self.spawn_rate < MAX_SPAWN_RATE {
                self.spawn_rate *= 2;
            }
        } else {
            self.spawn_rate = 1;
            // The MaxRequestWorkers episode is over once spares are back.
            self.max_workers_reported = false;
        }
    }

    // ----------------------------------------------------------------------------------
    // restarts and stops

    fn reload(&self) -> Option<ServerConfig> {
        match self.source.load(self.kind(), Some(self.config.retained())) {
            Ok(config) => {
                for w in &config.warnings {
                    tracing::warn!("{}", w.restart);
                }
                if config.listen != self.config.listen {
                    tracing::warn!(
                        "Listen directives changed: the new addresses take effect only after a full stop and start; still listening on the old ones"
                    );
                }
                Some(config)
            }
            Err(e) => {
                tracing::error!(
                    "configuration error at restart, keeping generation {} running:\n{e}",
                    self.generation
                );
                None
            }
        }
    }

    fn apply(&mut self, mut config: ServerConfig) {
        // Listeners stay as bound at start (see reload); the rest takes effect now.
        config.listen = self.config.listen.clone();
        self.config = config;
        self.generation += 1;
        self.scoreboard.set_generation(self.generation);
        self.scoreboard
            .set_config_generation(self.scoreboard.config_generation() + 1);
    }

    fn graceful_restart(&mut self) {
        tracing::info!("SIGUSR1 received.  Doing graceful restart");
        self.notifier.reloading();
        let Some(config) = self.reload() else {
            let status = self.status_line();
            self.notifier.ready(&status);
            return;
        };
        self.apply(config);
        self.scoreboard.count_graceful_restart();
        let old: Vec<Pid> = self.children.keys().copied().collect();
        for pid in old {
            self.retire(pid);
        }
        self.spawn_rate = 1;
        self.hold_off = 10;
        self.max_workers_reported = false;
        let start = self.config.limits.start_servers;
        self.spawn_up_to(start);
        self.ready_sent = false;
    }

    fn restart(&mut self) {
        tracing::info!("SIGHUP received.  Attempting to restart");
        self.notifier.reloading();
        self.ready_sent = false;
        self.reclaim();
        if let Some(config) = self.reload() {
            self.apply(config);
        } else {
            self.generation += 1;
            self.scoreboard.set_generation(self.generation);
        }
        self.scoreboard.clear();
        self.scoreboard.set_master_pid(self.pid.as_raw());
        self.scoreboard.set_generation(self.generation);
        self.scoreboard.set_restart_time(SystemTime::now());
        self.spawn_rate = 1;
        self.hold_off = 0;
        self.max_workers_reported = false;
        let start = self.config.limits.start_servers;
        self.spawn_up_to(start);
    }

    /// Stop serving: gracefully (drain, bounded by GracefulShutdownTimeout) or at once.
    fn finish(mut self, graceful: bool) -> Result<()> {
        self.notifier.stopping();
        if let Some(up) = self.upgrade.take() {
            tracing::warn!(
                "upgrade: stopping, so the new master {} is stopped too",
                up.pid
            );
            up.abort(false);
        }
        if graceful {
            // New connections are refused once every copy of the listeners is closed: ours
            // now, the children's as each one stops accepting.
            self.listeners.clear();
            let pids: Vec<Pid> = self.children.keys().copied().collect();
            for pid in pids {
                self.retire(pid);
            }
            let limit = self.config.limits.graceful_shutdown_timeout;
            let started = Instant::now();
            while !self.children.is_empty() {
                if !limit.is_zero() && started.elapsed() >= limit {
                    tracing::warn!(
                        "GracefulShutdownTimeout of {}s reached, stopping the remaining {} children",
                        limit.as_secs(),
                        self.children.len()
                    );
                    break;
                }
                self.wait_for_signal(Duration::from_millis(200));
                let stop_now = self
                    .signals
                    .take()
                    .into_iter()
                    .any(|s| matches!(s, Signal::SIGTERM | Signal::SIGINT));
                self.reap();
                if stop_now {
                    tracing::info!("caught SIGTERM, shutting down");
                    break;
                }
            }
        }
        self.reclaim();
        if let Some(p) = self.pid_file.take() {
            p.remove();
        }
        Ok(())
    }

    /// SIGTTIN / SIGTTOU: move both spare bounds by one child's worth of workers, keeping
    /// them within what MaxRequestWorkers allows. Lasts until the next restart re-reads
    /// the configuration.
    fn adjust_spares(&mut self, more: bool) {
        let l = &mut self.config.limits;
        let step = l.threads_per_child.max(1);
        let cap = l.max_request_workers.max(step);
        let unit = l.kind.rules().spare_unit();
        let (min, max) = match unit {
            SpareUnit::Processes => (&mut l.min_spare_servers, &mut l.max_spare_servers),
            SpareUnit::Threads => (&mut l.min_spare_threads, &mut l.max_spare_threads),
        };
        if more {
            *min = (*min + step).min(cap);
            *max = (*max + step).min(cap + step).max(*min + 1);
        } else {
            *min = min.saturating_sub(step).max(1);
            *max = max.saturating_sub(step).max(*min + 1);
        }
        tracing::info!(
            "{} received: spare {} now {}..{}",
            if more { "SIGTTIN" } else { "SIGTTOU" },
            match unit {
                SpareUnit::Processes => "servers",
                SpareUnit::Threads => "threads",
            },
            l.min_spare(),
            l.max_spare()
        );
    }

    fn start_upgrade(&mut self) {
        if let Some(up) = &self.upgrade {
            tracing::warn!("upgrade: already in progress (new master {})", up.pid);
            return;
        }
        let Some(inv) = self.invocation.clone() else {
            tracing::error!("upgrade: cannot tell which executable this master runs");
            return;
        };
        let pid_file = self.pid_file.as_ref().map(|p| p.path().to_path_buf());
        match Upgrade::start(&inv, &self.listeners, pid_file.as_deref()) {
            Ok(up) => {
                tracing::info!(
                    "SIGUSR2 received.  Starting {} as pid {} with {} inherited listeners",
                    inv.exe.display(),
                    up.pid,
                    self.listeners.len()
                );
                self.upgrade = Some(up);
            }
            Err(e) => tracing::error!("upgrade: cannot start {}: {e}", inv.exe.display()),
        }
    }

    /// Whether some current-generation worker is waiting for connections.
    fn any_worker_ready(&self) -> bool {
        let tpc = self.config.limits.threads_per_child as usize;
        self.children.values().any(|c| {
            c.generation == self.generation
                && (0..tpc)
                    .any(|t| self.scoreboard.worker(c.slot, t).status() == WorkerStatus::Ready)
        })
    }

    /// One line for the service manager: generation, children, busy and idle workers.
    fn status_line(&self) -> String {
        let tpc = self.config.limits.threads_per_child as usize;
        let (mut busy, mut idle) = (0usize, 0usize);
        for c in self.children.values() {
            for t in 0..tpc {
                match self.scoreboard.worker(c.slot, t).status() {
                    WorkerStatus::Ready => idle += 1,
                    WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::Graceful => {}
                    _ => busy += 1,
                }
            }
        }
        format!(
            "generation {}, {} children, {busy} busy and {idle} idle workers",
            self.generation,
            self.children.len()
        )
    }

    /// SIGTERM every child and wait, escalating on Apache's schedule: SIGTERM again at 3, 5
    /// and 7 s, SIGKILL at 9 s, give up at 10 s.
    fn reclaim(&mut self) {
        let pids: Vec<Pid> = self.children.keys().copied().collect();
        for pid in &pids {
            self.kill(*pid, Signal::SIGTERM);
        }
        let started = Instant::now();
        let mut next_step = 0usize;
        let steps = [3u64, 5, 7, 9, 10];
        while !self.children.is_empty() {
            self.wait_for_signal(Duration::from_millis(50));
            let _ = self.signals.take();
            self.reap();
            if self.children.is_empty() {
                break;
            }
            let elapsed = started.elapsed();
            if next_step < steps.len() && elapsed >= Duration::from_secs(steps[next_step]) {
                let pids: Vec<Pid> = self.children.keys().copied().collect();
                for pid in pids {
                    match steps[next_step] {
                        3 | 5 | 7 => {
                            tracing::warn!(
                                "child process {pid} still did not exit, sending a SIGTERM"
                            );
                            self.kill(pid, Signal::SIGTERM);
                        }
                        9 => {
                            tracing::error!(
                                "child process {pid} still did not exit, sending a SIGKILL"
                            );
                            self.kill(pid, Signal::SIGKILL);
                        }
                        _ => {
                            tracing::error!("could not make child process {pid} exit, attempting to continue anyway");
                            if let Some(c) = self.children.remove(&pid) {
                                self.scoreboard.reset_process(c.slot);
                            }
                        }
                    }
                }
                next_step += 1;
            }
        }
    }

    fn kill(&mut self, pid: Pid, sig: Signal) {
        if let Some(c) = self.children.get_mut(&pid) {
            c.killed = true;
            c.quiescing = true;
        }
        let _ = process::signal(pid, sig);
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
