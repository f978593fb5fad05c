//! The children table: which child holds which scoreboard slot, of which generation, and
//! whether it was asked to stop; forking one, retiring one, and what its death means.

use super::{Master, MASTER_SIGNALS};
use crate::child::{self, ChildContext, ChildInfo, ChildSignals};
use crate::mpm::exit;
use crate::scoreboard::WorkerStatus;
use crate::sys::privileges;
use crate::sys::process::{self, ExitCause};
use crate::sys::signal;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::time::Instant;

/// Crash respawns allowed back to back before waiting for maintenance.
const MAX_SUCCESSIVE_KILLS: u32 = 3;

/// A child the master forked and has not reaped yet.
#[derive(Debug, Clone)]
pub(super) struct Child {
    pub(super) slot: usize,
    pub(super) generation: u32,
    /// The master asked it to finish (graceful restart, idle retirement, stop).
    pub(super) quiescing: bool,
    /// The master sent it SIGTERM/SIGKILL, so its death by signal is expected.
    pub(super) killed: bool,
    /// A handler of this child overran HandlerTimeout: when to kill it if it has not
    /// finished gracefully by then (strategies that retire such a child first).
    pub(super) hung_kill_at: Option<Instant>,
}

/// Every child not reaped yet, by pid.
#[derive(Debug, Default)]
pub(super) struct Children {
    map: BTreeMap<Pid, Child>,
}

impl Children {
    /// Up to `limit` process slots below `server_limit` that no live child (of any
    /// generation) holds, lowest first.
    pub(super) fn free_slots(&self, server_limit: usize, limit: usize) -> Vec<usize> {
        let used: std::collections::BTreeSet<usize> = self.map.values().map(|c| c.slot).collect();
        (0..server_limit)
            .filter(|s| !used.contains(s))
            .take(limit)
            .collect()
    }

    /// Children of `generation` that were not asked to stop.
    pub(super) fn active(&self, generation: u32) -> usize {
        self.map
            .values()
            .filter(|c| c.generation == generation && !c.quiescing)
            .count()
    }

    pub(super) fn insert(&mut self, pid: Pid, child: Child) {
        self.map.insert(pid, child);
    }

    pub(super) fn remove(&mut self, pid: Pid) -> Option<Child> {
        self.map.remove(&pid)
    }

    pub(super) fn get_mut(&mut self, pid: Pid) -> Option<&mut Child> {
        self.map.get_mut(&pid)
    }

    pub(super) fn pids(&self) -> Vec<Pid> {
        self.map.keys().copied().collect()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Pid, &Child)> {
        self.map.iter().map(|(p, c)| (*p, c))
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Crash respawns in a row since the last maintenance tick.
#[derive(Debug, Default)]
pub(super) struct Respawns {
    pub(super) streak: u32,
    pub(super) warned: bool,
}

impl Master<'_> {
    /// Children of the current generation that were not asked to stop.
    pub(super) fn active_children(&self) -> usize {
        self.children.active(self.generation)
    }

    /// Fork children until `n` active ones exist (bounded by free slots and max_daemons).
    pub(super) fn spawn_up_to(&mut self, n: u32) {
        let max = self.config.limits.max_daemons as usize;
        let want = (n as usize).min(max).saturating_sub(self.active_children());
        for slot in self
            .children
            .free_slots(self.scoreboard.server_limit() as usize, want)
        {
            self.spawn(slot);
        }
    }

    pub(super) fn spawn(&mut self, slot: usize) {
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
    pub(super) fn child_entry(&self, slot: usize) -> i32 {
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
        let ctx = ChildContext::new(
            slot,
            self.generation,
            &self.scoreboard,
            &self.listeners,
            &self.config,
            &self.handler,
            &signals,
        );
        self.mpm.child_main(ctx)
    }

    /// Ask a child to finish gracefully: flag in the scoreboard, then SIGUSR1.
    pub(super) fn retire(&mut self, pid: Pid) {
        if let Some(child) = self.children.get_mut(pid) {
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

    pub(super) fn reap(&mut self) {
        while let Some((pid, cause)) = process::reap_one() {
            self.child_exited(pid, cause);
        }
    }

    pub(super) fn child_exited(&mut self, pid: Pid, cause: ExitCause) {
        if self.upgrade.as_ref().is_some_and(|u| u.pid == pid) {
            let up = self.upgrade.take().expect("upgrade in progress");
            tracing::error!(
                "upgrade: new master {pid} exited before it was ready ({cause:?}); this generation goes on serving"
            );
            up.abort(true);
            return;
        }
        let Some(child) = self.children.remove(pid) else {
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
                self.spares.spawn_rate = 1;
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
                    self.respawns.streak += 1;
                    if self.respawns.streak <= MAX_SUCCESSIVE_KILLS {
                        self.spawn_replacement(child.slot);
                    } else if !self.respawns.warned {
                        self.respawns.warned = true;
                        tracing::warn!("children are killed successively!");
                    }
                }
            }
        }
    }

    pub(super) fn spawn_replacement(&mut self, slot: usize) {
        if self.active_children() < self.config.limits.max_daemons as usize {
            self.spawn(slot);
        }
    }

    pub(super) fn kill(&mut self, pid: Pid, sig: Signal) {
        if let Some(c) = self.children.get_mut(pid) {
            c.killed = true;
            c.quiescing = true;
        }
        let _ = process::signal(pid, sig);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A child record as the master keeps it (the spare decision's tests use it too).
    pub(in crate::master) fn child(slot: usize, generation: u32, quiescing: bool) -> Child {
        Child {
            slot,
            generation,
            quiescing,
            killed: false,
            hung_kill_at: None,
        }
    }

    #[test]
    pub(super) fn free_slots_skip_those_held_by_any_generation() {
        let mut c = Children::default();
        c.insert(Pid::from_raw(10), child(0, 1, false));
        c.insert(Pid::from_raw(11), child(2, 0, true));
        assert_eq!(c.free_slots(5, 10), vec![1, 3, 4]);
        assert_eq!(c.free_slots(5, 1), vec![1]);
        assert_eq!(c.free_slots(2, 10), vec![1]);
    }

    #[test]
    pub(super) fn active_counts_the_generation_s_unretired_children() {
        let mut c = Children::default();
        c.insert(Pid::from_raw(10), child(0, 1, false));
        c.insert(Pid::from_raw(11), child(1, 1, true));
        c.insert(Pid::from_raw(12), child(2, 0, false));
        assert_eq!(c.active(1), 1);
        assert_eq!(c.active(0), 1);
        assert_eq!(c.len(), 3);
    }
}
