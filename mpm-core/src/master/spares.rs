//! Spare maintenance, once a second: the strategy counts idle capacity and decides; the
//! master forks at a rate doubling up to 32 a second while short, retires one child a
//! tick while over, and logs Apache's warnings once per episode. Also HandlerTimeout's
//! check and SIGTTIN/SIGTTOU.

use super::Master;
use crate::limits::Limits;
use crate::policy::{Census, ChildCensus, HungHandler, SpareDecision};
use crate::rules::SpareUnit;
use crate::scoreboard::WorkerStatus;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Apache's cap on children forked per maintenance tick.
const MAX_SPAWN_RATE: u32 = 32;

/// The state spare maintenance keeps between ticks.
#[derive(Debug)]
pub(super) struct SpareState {
    /// Children forked per tick while short of spares (1, 2, 4 … 32).
    pub(super) spawn_rate: u32,
    /// Ticks during which the rate does not grow (after a graceful restart).
    pub(super) hold_off: u32,
    /// "server reached MaxRequestWorkers" was logged for this episode.
    pub(super) max_workers_reported: bool,
}

impl Default for SpareState {
    fn default() -> Self {
        SpareState {
            spawn_rate: 1,
            hold_off: 0,
            max_workers_reported: false,
        }
    }
}

impl SpareState {
    /// Forget the episode: a restart starts counting again.
    pub(super) fn reset(&mut self, hold_off: u32) {
        *self = SpareState {
            hold_off,
            ..SpareState::default()
        };
    }

    /// After a tick that forked: double the rate, unless held off.
    pub(super) fn grow(&mut self) {
        if self.hold_off > 0 {
            self.hold_off -= 1;
        } else if self.spawn_rate < MAX_SPAWN_RATE {
            self.spawn_rate *= 2;
        }
    }
}

impl Master<'_> {
    /// Idle capacity of current-generation, non-quiescing children, counted by the
    /// strategy, and the child to retire if there is too much (the highest slot among the
    /// strategy's candidates).
    pub(super) fn idle_count(&self) -> (u32, Option<Pid>) {
        let tpc = self.config.limits.threads_per_child as usize;
        let mut idle = 0u32;
        let mut to_retire: Option<(usize, Pid)> = None;
        let mut workers = Vec::with_capacity(tpc);
        for (pid, child) in self.children.iter() {
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

    /// HandlerTimeout: find handlers running too long and recycle their children as the
    /// strategy says ([`HungHandler`]): killed at once (nothing else runs in the child),
    /// or retired gracefully so its other requests can finish, then killed if it has not
    /// left within another HandlerTimeout.
    pub(super) fn check_hung_handlers(&mut self) {
        let Some(limit) = self.config.handler_timeout else {
            return;
        };
        let tpc = self.config.limits.threads_per_child as usize;
        let policy = self.mpm.hung_handler(&self.handler);
        // A child that cancels its own overrunning calls is only stepped in for when one
        // outlived its cancellation (it blocks its thread).
        let overrun = match policy {
            HungHandler::Cancel => limit.saturating_mul(2),
            _ => limit,
        };
        let now = Instant::now();
        let mut to_retire = Vec::new();
        let mut to_kill = Vec::new();
        for (pid, child) in self.children.iter() {
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
                if ran > overrun {
                    tracing::error!(
                        "handler timeout: slot {} thread {t} pid {pid} client {} request \"{}\" running for {:.1}s (HandlerTimeout {}s{}); recycling the child",
                        child.slot,
                        snap.client,
                        snap.request,
                        ran.as_secs_f64(),
                        limit.as_secs(),
                        if policy == HungHandler::Cancel {
                            ", not cancelled"
                        } else {
                            ""
                        }
                    );
                    to_retire.push(pid);
                    break;
                }
            }
        }
        for pid in to_retire {
            match policy {
                HungHandler::RetireThenKill | HungHandler::Cancel => {
                    self.retire(pid);
                    if let Some(c) = self.children.get_mut(pid) {
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

    pub(super) fn maintenance(&mut self) {
        self.check_hung_handlers();
        if self.respawns.streak > 0 {
            self.respawns.streak = 0;
            self.respawns.warned = false;
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
            self.spares.spawn_rate = 1;
        } else if decision == SpareDecision::Spawn {
            if active >= max {
                if !self.spares.max_workers_reported {
                    self.spares.max_workers_reported = true;
                    if idle > 0 && threads {
                        tracing::error!("server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting");
                    } else {
                        tracing::error!("server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting");
                    }
                }
                self.spares.spawn_rate = 1;
                return;
            }
            let free = self.children.free_slots(
                self.scoreboard.server_limit() as usize,
                (self.spares.spawn_rate as usize).min(max - active),
            );
            if free.is_empty() {
                tracing::error!(
                    "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit."
                );
                self.spares.spawn_rate = 1;
                return;
            }
            if self.spares.spawn_rate >= 8 {
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
            self.spares.grow();
        } else {
            self.spares.spawn_rate = 1;
            // The MaxRequestWorkers episode is over once spares are back.
            self.spares.max_workers_reported = false;
        }
    }

    /// SIGTTIN / SIGTTOU: move both spare bounds by one child's worth of workers, keeping
    /// them within what MaxRequestWorkers allows. Lasts until the next restart re-reads
    /// the configuration.
    pub(super) fn adjust_spares(&mut self, more: bool) {
        let l = &mut self.config.limits;
        shift_spares(l, more);
        tracing::info!(
            "{} received: spare {} now {}..{}",
            if more { "SIGTTIN" } else { "SIGTTOU" },
            match l.kind.rules().spare_unit() {
                SpareUnit::Processes => "servers",
                SpareUnit::Threads => "threads",
            },
            l.min_spare(),
            l.max_spare()
        );
    }
}

/// Move both spare bounds of `l` up (`more`) or down by one child's worth of workers
/// (ThreadsPerChild): the minimum stays within 1..=MaxRequestWorkers, the maximum within
/// one child more than that, and always above the minimum.
fn shift_spares(l: &mut Limits, more: bool) {
    let step = l.threads_per_child.max(1);
    let cap = l.max_request_workers.max(step);
    let (min, max) = match l.kind.rules().spare_unit() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn the_rate_doubles_to_32_unless_held_off() {
        let mut s = SpareState::default();
        let rates: Vec<u32> = (0..7)
            .map(|_| {
                s.grow();
                s.spawn_rate
            })
            .collect();
        assert_eq!(rates, [2, 4, 8, 16, 32, 32, 32]);
        s.reset(2);
        s.grow();
        s.grow();
        assert_eq!(s.spawn_rate, 1, "held off for two ticks");
        s.grow();
        assert_eq!(s.spawn_rate, 2);
    }

    fn limits(kind: crate::MpmKind, d: crate::Directives) -> Limits {
        crate::config::validate(kind, &d, None)
            .expect("valid")
            .limits
    }

    #[test]
    fn sigttin_and_sigttou_move_the_spare_bounds_by_one_child_within_max_request_workers() {
        // worker: ThreadsPerChild 25, MaxRequestWorkers 100, spares 30..80 threads.
        let mut l = limits(
            crate::MpmKind::Worker,
            crate::Directives {
                threads_per_child: Some(25),
                max_request_workers: Some(100),
                min_spare_threads: Some(30),
                max_spare_threads: Some(80),
                ..Default::default()
            },
        );
        let bounds = |l: &Limits| (l.min_spare_threads, l.max_spare_threads);
        shift_spares(&mut l, true);
        assert_eq!(bounds(&l), (55, 105));
        shift_spares(&mut l, true);
        assert_eq!(
            bounds(&l),
            (80, 125),
            "the maximum stops one child over the cap"
        );
        shift_spares(&mut l, true);
        assert_eq!(
            bounds(&l),
            (100, 125),
            "the minimum stops at MaxRequestWorkers"
        );
        for _ in 0..6 {
            shift_spares(&mut l, false);
        }
        assert_eq!(
            bounds(&l),
            (1, 2),
            "the minimum stays 1, the maximum above it"
        );
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (0, 0));
        // prefork: one process a step, the process bounds move.
        let mut l = limits(
            crate::MpmKind::Prefork,
            crate::Directives {
                max_request_workers: Some(10),
                min_spare_servers: Some(5),
                max_spare_servers: Some(10),
                ..Default::default()
            },
        );
        shift_spares(&mut l, true);
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (6, 11));
        shift_spares(&mut l, false);
        shift_spares(&mut l, false);
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (4, 9));
        assert_eq!((l.min_spare_threads, l.max_spare_threads), (0, 0));
    }
}
