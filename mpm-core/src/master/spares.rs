//! Spare maintenance, once a second, and HandlerTimeout's check and SIGTTIN/SIGTTOU: the
//! running master's side. Each method gathers what the decision reads (the children
//! table, the scoreboard, the strategy's answers), asks `spare_decision.rs`, and carries
//! out the steps it returns (fork, signal, log); every choice is made there.

use super::children::Respawns;
use super::spare_decision::{self, Snapshot, Step, MAX_SPAWN_RATE};
use super::Master;
use crate::policy::{Census, ChildCensus};
use crate::scoreboard;
use nix::sys::signal::Signal;
use std::time::Instant;

pub(super) use super::spare_decision::SpareState;

impl Master<'_> {
    /// HandlerTimeout: recycle the children of handlers running too long, kill those
    /// retired for it earlier that have not left ([`spare_decision::judge_hung`]).
    pub(super) fn check_hung_handlers(&mut self) {
        let Some(limit) = self.config.handler_timeout else {
            return;
        };
        let steps = spare_decision::judge_hung(
            &self.children,
            &self.scoreboard,
            self.config.limits.threads_per_child as usize,
            limit,
            self.mpm.hung_handler(&self.handler),
            Instant::now(),
            scoreboard::now_micros(),
        );
        self.carry_out(steps);
    }

    /// The once-a-second tick: HandlerTimeout, the crash-respawn streak, then spares.
    pub(super) fn maintenance(&mut self) {
        self.check_hung_handlers();
        // A new tick: crash respawns may go back to back again.
        self.respawns = Respawns::default();
        let limits = self.config.limits.clone();
        let tpc = limits.threads_per_child as usize;
        let mut workers = Vec::with_capacity(tpc);
        let tally = spare_decision::tally_idle(&self.children, self.generation, |slot| {
            workers.clear();
            workers.extend((0..tpc).map(|t| self.scoreboard.worker(slot, t).status()));
            self.mpm.count_idle(&ChildCensus {
                slot,
                workers: &workers,
                not_accepting: self.scoreboard.process(slot).not_accepting(),
            })
        });
        let census = Census {
            idle: tally.idle,
            active: self.active_children(),
            children: self.children.len(),
        };
        let snapshot = Snapshot {
            census,
            decision: self.mpm.spares(&census, &limits),
            retire: tally.retire,
            free_slots: self.children.free_slots(
                self.scoreboard.server_limit() as usize,
                MAX_SPAWN_RATE as usize,
            ),
            limits: &limits,
        };
        let steps = self.spares.decide(&snapshot);
        self.carry_out(steps);
    }

    /// SIGTTIN / SIGTTOU: move both spare bounds by one child's worth of workers
    /// ([`spare_decision::shift_spares`]). Lasts until the next restart re-reads the
    /// configuration.
    pub(super) fn adjust_spares(&mut self, more: bool) {
        let line = spare_decision::shift_spares(&mut self.config.limits, more);
        tracing::info!("{line}");
    }

    /// Do what a decision says, in its order.
    fn carry_out(&mut self, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Error(line) => tracing::error!("{line}"),
                Step::Info(line) => tracing::info!("{line}"),
                Step::Debug(line) => tracing::debug!("{line}"),
                Step::Spawn(slot) => self.spawn(slot),
                Step::Retire(pid) => self.retire(pid),
                Step::RetireThenKillAt(pid, at) => {
                    self.retire(pid);
                    if let Some(c) = self.children.get_mut(pid) {
                        c.hung_kill_at = Some(at);
                    }
                }
                Step::Kill(pid) => self.kill(pid, Signal::SIGKILL),
            }
        }
    }
}
