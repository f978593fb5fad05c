//! What the master's once-a-second maintenance decides, apart from the running master:
//! plain functions of a snapshot (the children table, the scoreboard, the limits, the
//! spawn-rate state) that return the steps to take, in order ([`Step`]). The master
//! (`spares.rs`) gathers the snapshot, calls these and carries the steps out (fork,
//! signal, log); nothing here forks, signals or logs, so the unit tests below reach every
//! branch without a running server.
//!
//! * [`tally_idle`] — idle capacity of the current generation and the child to retire;
//! * [`SpareState::decide`] — spawn (at a rate doubling up to 32 a tick), retire one, or
//!   nothing, and Apache's warnings once per episode;
//! * [`judge_hung`] — HandlerTimeout: which children to recycle, which to kill;
//! * [`shift_spares`] — SIGTTIN / SIGTTOU.

use super::children::Children;
use crate::limits::Limits;
use crate::policy::{Census, HungHandler, IdleCount, SpareDecision};
use crate::rules::SpareUnit;
use crate::scoreboard::{Scoreboard, WorkerStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Apache's cap on children forked per maintenance tick.
pub(super) const MAX_SPAWN_RATE: u32 = 32;

/// One thing the master does, in the order the decision lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Log at ERROR.
    Error(String),
    /// Log at INFO.
    Info(String),
    /// Log at DEBUG.
    Debug(String),
    /// Fork a child into this scoreboard slot.
    Spawn(usize),
    /// Ask this child to finish gracefully.
    Retire(Pid),
    /// Retire this child gracefully, and kill it if it is still there at `kill_at`.
    RetireThenKillAt(Pid, Instant),
    /// SIGKILL this child.
    Kill(Pid),
}

/// The state spare maintenance keeps between ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What spare maintenance reads once a tick.
#[derive(Debug, Clone)]
pub(super) struct Snapshot<'a> {
    /// Idle capacity, active and all children.
    pub(super) census: Census,
    /// The strategy's answer for `census` ([`Mpm::spares`](crate::Mpm::spares)).
    pub(super) decision: SpareDecision,
    /// The child to retire if there is too much idle capacity ([`tally_idle`]).
    pub(super) retire: Option<Pid>,
    /// Free scoreboard slots, lowest first; the first [`MAX_SPAWN_RATE`] are enough.
    pub(super) free_slots: Vec<usize>,
    /// MaxRequestWorkers (as `max_daemons`), the spare bounds and their unit.
    pub(super) limits: &'a Limits,
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

    /// One maintenance tick: Apache's `perform_idle_server_maintenance` after the count.
    /// Too much idle capacity: retire the candidate (if the strategy says now). Too
    /// little: fork `spawn_rate` children into the lowest free slots, within
    /// MaxRequestWorkers, then double the rate; at MaxRequestWorkers log so once per
    /// episode, with no free slot log "scoreboard is full" every tick. Any tick that does
    /// not fork puts the rate back to 1; one within bounds also ends the episode.
    pub(super) fn decide(&mut self, s: &Snapshot<'_>) -> Vec<Step> {
        let Census {
            idle,
            active,
            children,
        } = s.census;
        let threads = s.limits.kind.rules().spare_unit() == SpareUnit::Threads;
        let max = s.limits.max_daemons as usize;
        let mut steps = Vec::new();
        match s.decision {
            SpareDecision::Retire { now } => {
                if let (Some(pid), true) = (s.retire, now) {
                    steps.push(Step::Debug(format!(
                        "idle {idle} > max spare {}: retiring {pid}",
                        s.limits.max_spare()
                    )));
                    steps.push(Step::Retire(pid));
                }
                self.spawn_rate = 1;
            }
            SpareDecision::Spawn if active >= max => {
                if !self.max_workers_reported {
                    self.max_workers_reported = true;
                    steps.push(Step::Error(if idle > 0 && threads {
                        "server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting".into()
                    } else {
                        "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting".into()
                    }));
                }
                self.spawn_rate = 1;
            }
            SpareDecision::Spawn => {
                let n = (self.spawn_rate as usize).min(max - active);
                let free = &s.free_slots[..n.min(s.free_slots.len())];
                if free.is_empty() {
                    steps.push(Step::Error(
                        "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.".into(),
                    ));
                    self.spawn_rate = 1;
                    return steps;
                }
                if self.spawn_rate >= 8 {
                    let n = free.len();
                    let what = if threads {
                        format!("StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning {n} children, there are around {idle} idle threads")
                    } else {
                        format!("StartServers, or Min/MaxSpareServers), spawning {n} children, there are {idle} idle")
                    };
                    steps.push(Step::Info(format!(
                        "server seems busy, (you may need to increase {what}, and {children} total children"
                    )));
                }
                steps.extend(free.iter().map(|&slot| Step::Spawn(slot)));
                self.grow();
            }
            SpareDecision::Steady => {
                self.spawn_rate = 1;
                // The MaxRequestWorkers episode is over once spares are back.
                self.max_workers_reported = false;
            }
        }
        steps
    }
}

/// Idle capacity of the current generation's children not asked to stop, and the child
/// to retire if there is too much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct IdleTally {
    /// Summed over the counted children, in the strategy's unit.
    pub(super) idle: u32,
    /// The retirable child with the highest slot.
    pub(super) retire: Option<Pid>,
}

/// Count idle capacity over the children of `generation` not asked to stop; `count`
/// answers for one child's slot as the strategy does
/// ([`Mpm::count_idle`](crate::Mpm::count_idle)), `None` for a child that offers nothing
/// and may not be retired.
pub(super) fn tally_idle(
    children: &Children,
    generation: u32,
    mut count: impl FnMut(usize) -> Option<IdleCount>,
) -> IdleTally {
    let mut idle = 0u32;
    let mut to_retire: Option<(usize, Pid)> = None;
    for (pid, child) in children.iter() {
        if child.generation != generation || child.quiescing {
            continue;
        }
        let Some(c) = count(child.slot) else {
            continue;
        };
        idle += c.idle;
        if c.retirable {
            // Slots are unique among live children: the highest slot wins.
            to_retire = to_retire.max(Some((child.slot, pid)));
        }
    }
    IdleTally {
        idle,
        retire: to_retire.map(|(_, p)| p),
    }
}

/// HandlerTimeout: the handlers running too long (in BusyWrite for more than `limit`, or
/// twice `limit` for a strategy whose children cancel their own overrunning calls) and
/// the children to recycle for them as `policy` says ([`HungHandler`]): killed at once,
/// or retired gracefully and killed if still there another `limit` after `now`; and the
/// children so retired earlier whose time is up. `wall_us` is the wall clock
/// (microseconds since the epoch) the handlers' running times are measured against.
pub(super) fn judge_hung(
    children: &Children,
    scoreboard: &Scoreboard,
    threads_per_child: usize,
    limit: Duration,
    policy: HungHandler,
    now: Instant,
    wall_us: u64,
) -> Vec<Step> {
    // A child that cancels its own overrunning calls is only stepped in for when one
    // outlived its cancellation (it blocks its thread).
    let overrun = match policy {
        HungHandler::Cancel => limit.saturating_mul(2),
        _ => limit,
    };
    let mut steps = Vec::new();
    let mut recycle = Vec::new();
    let mut overdue = Vec::new();
    for (pid, child) in children.iter() {
        if child.killed {
            continue;
        }
        if let Some(at) = child.hung_kill_at {
            if now >= at {
                overdue.push(pid);
            }
            continue;
        }
        for t in 0..threads_per_child {
            let w = scoreboard.worker(child.slot, t);
            if w.status() != WorkerStatus::BusyWrite {
                continue;
            }
            let snap = w.snapshot_at(wall_us);
            let ran = Duration::from_millis(snap.request_duration_ms);
            if ran > overrun {
                steps.push(Step::Error(format!(
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
                )));
                recycle.push(pid);
                break;
            }
        }
    }
    steps.extend(recycle.into_iter().map(|pid| match policy {
        HungHandler::RetireThenKill | HungHandler::Cancel => {
            Step::RetireThenKillAt(pid, now + limit)
        }
        HungHandler::Kill => Step::Kill(pid),
    }));
    for pid in overdue {
        steps.push(Step::Error(format!(
            "handler timeout: child pid {pid} did not finish gracefully; killing it"
        )));
        steps.push(Step::Kill(pid));
    }
    steps
}

/// SIGTTIN (`more`) / SIGTTOU: move both spare bounds of `l` up or down by one child's
/// worth of workers (ThreadsPerChild): the minimum stays within 1..=MaxRequestWorkers, the
/// maximum within one child more than that, and always above the minimum. Returns the
/// line to log.
pub(super) fn shift_spares(l: &mut Limits, more: bool) -> String {
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
    format!(
        "{} received: spare {} now {}..{}",
        if more { "SIGTTIN" } else { "SIGTTOU" },
        match unit {
            SpareUnit::Processes => "servers",
            SpareUnit::Threads => "threads",
        },
        l.min_spare(),
        l.max_spare()
    )
}

#[cfg(test)]
mod tests {
    use super::super::children::tests::child;
    use super::*;
    use crate::{Directives, MpmKind};

    fn limits(kind: MpmKind, d: Directives) -> Limits {
        crate::config::validate(kind, &d, None)
            .expect("valid")
            .limits
    }

    /// prefork with MaxRequestWorkers 100 (max_daemons 100), spares 5..10 processes.
    fn prefork() -> Limits {
        limits(
            MpmKind::Prefork,
            Directives {
                max_request_workers: Some(100),
                min_spare_servers: Some(5),
                max_spare_servers: Some(10),
                ..Default::default()
            },
        )
    }

    /// worker with ThreadsPerChild 25, MaxRequestWorkers 100 (max_daemons 4).
    fn worker() -> Limits {
        limits(
            MpmKind::Worker,
            Directives {
                threads_per_child: Some(25),
                max_request_workers: Some(100),
                ..Default::default()
            },
        )
    }

    /// A snapshot of `active` children (none stopping) with `idle` spare capacity, the
    /// strategy's `decision`, and `free` free slots from slot 10 up.
    fn snap(
        l: &Limits,
        decision: SpareDecision,
        idle: u32,
        active: usize,
        free: usize,
    ) -> Snapshot<'_> {
        Snapshot {
            census: Census {
                idle,
                active,
                children: active,
            },
            decision,
            retire: Some(Pid::from_raw(77)),
            free_slots: (10..10 + free).collect(),
            limits: l,
        }
    }

    fn spawned(steps: &[Step]) -> Vec<usize> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Spawn(slot) => Some(*slot),
                _ => None,
            })
            .collect()
    }

    fn logged(steps: &[Step]) -> Vec<Step> {
        steps
            .iter()
            .filter(|s| matches!(s, Step::Error(_) | Step::Info(_) | Step::Debug(_)))
            .cloned()
            .collect()
    }

    const REACHED: &str =
        "server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting";
    const WITHIN: &str = "server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting";
    const FULL: &str = "scoreboard is full, not at MaxRequestWorkers.Increase ServerLimit.";

    #[test]
    fn the_rate_doubles_to_32_unless_held_off() {
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

    #[test]
    fn spawns_one_then_doubles_up_to_32_while_idle_is_below_min_spare() {
        let l = prefork();
        let mut s = SpareState::default();
        // Plenty of free slots and room below MaxRequestWorkers: the rate alone limits.
        let per_tick: Vec<usize> = (0..7)
            .map(|_| spawned(&s.decide(&snap(&l, SpareDecision::Spawn, 0, 3, 64))).len())
            .collect();
        assert_eq!(per_tick, [1, 2, 4, 8, 16, 32, 32]);
    }

    #[test]
    fn spawns_into_the_lowest_free_slots_in_order() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 2,
            ..SpareState::default()
        };
        let mut sn = snap(&l, SpareDecision::Spawn, 0, 3, 0);
        sn.free_slots = vec![2, 5, 7];
        assert_eq!(s.decide(&sn), [Step::Spawn(2), Step::Spawn(5)]);
        assert_eq!(s.spawn_rate, 4, "a tick that forked doubles the rate");
    }

    #[test]
    fn spawns_no_more_than_max_request_workers_leaves_room_for() {
        // max_daemons 100, 97 active: 3 more at most, whatever the rate.
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 8,
            ..SpareState::default()
        };
        let steps = s.decide(&snap(&l, SpareDecision::Spawn, 0, 97, 32));
        assert_eq!(spawned(&steps), [10, 11, 12]);
        // Fewer free slots than the rate: those there are.
        let mut s = SpareState {
            spawn_rate: 8,
            ..SpareState::default()
        };
        let steps = s.decide(&snap(&l, SpareDecision::Spawn, 0, 3, 2));
        assert_eq!(spawned(&steps), [10, 11]);
    }

    #[test]
    fn logs_server_seems_busy_only_from_a_rate_of_8_with_apaches_wording() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 4,
            ..SpareState::default()
        };
        let steps = s.decide(&snap(&l, SpareDecision::Spawn, 2, 6, 64));
        assert_eq!(logged(&steps), [], "rate 4: no message");
        assert_eq!(s.spawn_rate, 8);
        let steps = s.decide(&snap(&l, SpareDecision::Spawn, 2, 6, 64));
        assert_eq!(
            steps[0],
            Step::Info("server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), spawning 8 children, there are 2 idle, and 6 total children".into()),
            "logged before the forks"
        );
        assert_eq!(spawned(&steps).len(), 8);
        // Threaded wording, and the count is of the children actually forked (room for 1).
        let l = worker();
        let mut s = SpareState {
            spawn_rate: 16,
            ..SpareState::default()
        };
        let steps = s.decide(&snap(&l, SpareDecision::Spawn, 7, 3, 64));
        assert_eq!(
            logged(&steps),
            [Step::Info("server seems busy, (you may need to increase StartServers, ThreadsPerChild or Min/MaxSpareThreads), spawning 1 children, there are around 7 idle threads, and 3 total children".into())]
        );
    }

    #[test]
    fn logs_reached_max_request_workers_once_per_episode_and_forks_nothing() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 16,
            ..SpareState::default()
        };
        // 100 active = max_daemons: no fork, the message once, the rate back to 1.
        let first = s.decide(&snap(&l, SpareDecision::Spawn, 0, 100, 32));
        assert_eq!(first, [Step::Error(REACHED.into())]);
        assert_eq!(s.spawn_rate, 1);
        let again = s.decide(&snap(&l, SpareDecision::Spawn, 0, 100, 32));
        assert_eq!(again, [], "once per episode");
        // Within bounds for a tick: the episode is over, the next one logs again.
        assert_eq!(s.decide(&snap(&l, SpareDecision::Steady, 5, 100, 32)), []);
        assert!(!s.max_workers_reported);
        let next = s.decide(&snap(&l, SpareDecision::Spawn, 0, 100, 32));
        assert_eq!(next, [Step::Error(REACHED.into())]);
        // A tick that forks does not end the episode (only spares back do).
        let mut s = SpareState::default();
        s.decide(&snap(&l, SpareDecision::Spawn, 0, 100, 32));
        assert_eq!(
            spawned(&s.decide(&snap(&l, SpareDecision::Spawn, 0, 99, 32))),
            [10]
        );
        assert_eq!(s.decide(&snap(&l, SpareDecision::Spawn, 0, 100, 32)), []);
    }

    #[test]
    fn a_threaded_server_with_idle_threads_at_max_request_workers_is_within_min_spare_threads() {
        let l = worker();
        let at_max =
            |idle| SpareState::default().decide(&snap(&l, SpareDecision::Spawn, idle, 4, 32));
        assert_eq!(at_max(3), [Step::Error(WITHIN.into())]);
        assert_eq!(at_max(1), [Step::Error(WITHIN.into())]);
        assert_eq!(
            at_max(0),
            [Step::Error(REACHED.into())],
            "none idle: reached"
        );
        // prefork counts processes: idle or not, it has reached MaxRequestWorkers.
        let l = prefork();
        let steps = SpareState::default().decide(&snap(&l, SpareDecision::Spawn, 3, 100, 32));
        assert_eq!(steps, [Step::Error(REACHED.into())]);
    }

    #[test]
    fn logs_scoreboard_is_full_every_tick_when_no_slot_is_free_below_max_request_workers() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 4,
            ..SpareState::default()
        };
        for _ in 0..3 {
            assert_eq!(
                s.decide(&snap(&l, SpareDecision::Spawn, 0, 50, 0)),
                [Step::Error(FULL.into())],
                "every tick, unlike the MaxRequestWorkers message"
            );
            assert_eq!(s.spawn_rate, 1);
            assert!(!s.max_workers_reported);
        }
    }

    #[test]
    fn kills_one_idle_child_when_above_max_spare() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 8,
            ..SpareState::default()
        };
        let steps = s.decide(&snap(&l, SpareDecision::Retire { now: true }, 12, 20, 32));
        assert_eq!(
            steps,
            [
                Step::Debug("idle 12 > max spare 10: retiring 77".into()),
                Step::Retire(Pid::from_raw(77))
            ]
        );
        assert_eq!(s.spawn_rate, 1);
    }

    #[test]
    fn retires_nothing_when_the_strategy_waits_or_no_child_may_go_but_the_rate_drops() {
        let l = worker();
        let mut s = SpareState {
            spawn_rate: 8,
            max_workers_reported: true,
            ..SpareState::default()
        };
        let wait = s.decide(&snap(&l, SpareDecision::Retire { now: false }, 80, 4, 32));
        assert_eq!(wait, []);
        assert_eq!(s.spawn_rate, 1);
        s.spawn_rate = 4;
        let mut none = snap(&l, SpareDecision::Retire { now: true }, 80, 4, 32);
        none.retire = None;
        assert_eq!(s.decide(&none), []);
        assert_eq!(s.spawn_rate, 1);
        assert!(
            s.max_workers_reported,
            "only a tick within bounds ends the MaxRequestWorkers episode"
        );
    }

    #[test]
    fn within_bounds_does_nothing_and_puts_the_rate_back_to_1() {
        let l = prefork();
        let mut s = SpareState {
            spawn_rate: 32,
            hold_off: 3,
            max_workers_reported: true,
        };
        assert_eq!(s.decide(&snap(&l, SpareDecision::Steady, 7, 10, 32)), []);
        assert_eq!(
            s,
            SpareState {
                spawn_rate: 1,
                hold_off: 3,
                max_workers_reported: false
            }
        );
    }

    #[test]
    fn idle_is_summed_over_current_children_and_the_highest_retirable_slot_goes() {
        let mut c = Children::default();
        // Pids in a different order from slots, so "first seen" and "highest slot" differ.
        c.insert(Pid::from_raw(10), child(1, 2, false));
        c.insert(Pid::from_raw(11), child(4, 2, false)); // highest retirable
        c.insert(Pid::from_raw(12), child(0, 2, false));
        c.insert(Pid::from_raw(13), child(6, 2, false)); // higher, but not retirable
        c.insert(Pid::from_raw(14), child(7, 1, false)); // old generation
        c.insert(Pid::from_raw(15), child(8, 2, true)); // quiescing
        c.insert(Pid::from_raw(16), child(9, 2, false)); // offers nothing (None)
        let mut asked = Vec::new();
        let tally = tally_idle(&c, 2, |slot| {
            asked.push(slot);
            match slot {
                9 => None,
                6 => Some(IdleCount {
                    idle: 5,
                    retirable: false,
                }),
                _ => Some(IdleCount {
                    idle: slot as u32 + 1,
                    retirable: true,
                }),
            }
        });
        assert_eq!(
            tally,
            IdleTally {
                idle: 2 + 5 + 1 + 5,
                retire: Some(Pid::from_raw(11))
            }
        );
        asked.sort();
        assert_eq!(
            asked,
            [0, 1, 4, 6, 9],
            "old and quiescing children are not asked"
        );
        // None retirable: no candidate; none current: nothing idle.
        let none = tally_idle(&c, 2, |_| Some(IdleCount::default()));
        assert_eq!(none, IdleTally::default());
        assert_eq!(tally_idle(&c, 3, |_| unreachable!()), IdleTally::default());
    }

    /// A scoreboard of 6 slots of 2 threads whose slot 0 thread 1 runs a request in
    /// BusyWrite, and the wall clock `ran_ms` milliseconds (exactly, as the scoreboard
    /// measures) after it started.
    fn busy_scoreboard(ran_ms: u64) -> (Scoreboard, u64) {
        let sb = Scoreboard::create(MpmKind::Worker, 6, 2).expect("scoreboard");
        let w = sb.worker(0, 1);
        w.set_client("192.0.2.1");
        w.set_request("GET /slow HTTP/1.1");
        w.set_status(WorkerStatus::BusyWrite);
        w.start_request();
        // The start stamp is not readable directly: find the wall clock at which the
        // snapshot says `ran_ms` (it counts whole milliseconds, so step by them).
        let mut wall = scoreboard_now() + ran_ms * 1000;
        while w.snapshot_at(wall).request_duration_ms > ran_ms {
            wall -= 1000;
        }
        while w.snapshot_at(wall).request_duration_ms < ran_ms {
            wall += 1000;
        }
        (sb, wall)
    }

    fn scoreboard_now() -> u64 {
        crate::scoreboard::now_micros()
    }

    fn one_child(slot: usize) -> Children {
        let mut c = Children::default();
        c.insert(Pid::from_raw(40), child(slot, 0, false));
        c
    }

    const SLOW: &str = "handler timeout: slot 0 thread 1 pid 40 client 192.0.2.1 request \"GET /slow HTTP/1.1\" running for 5.0s (HandlerTimeout 4s); recycling the child";

    #[test]
    fn a_handler_in_busy_write_longer_than_handler_timeout_costs_its_child() {
        let (sb, wall) = busy_scoreboard(5000);
        let c = one_child(0);
        let now = Instant::now();
        let limit = Duration::from_secs(4);
        let judge = |policy, limit| judge_hung(&c, &sb, 2, limit, policy, now, wall);
        assert_eq!(
            judge(HungHandler::Kill, limit),
            [Step::Error(SLOW.into()), Step::Kill(Pid::from_raw(40))]
        );
        assert_eq!(
            judge(HungHandler::RetireThenKill, limit),
            [
                Step::Error(SLOW.into()),
                Step::RetireThenKillAt(Pid::from_raw(40), now + limit)
            ],
            "retired, to be killed a HandlerTimeout later"
        );
        // Exactly HandlerTimeout is not over it.
        assert_eq!(judge(HungHandler::Kill, Duration::from_millis(5000)), []);
        assert_eq!(
            judge(HungHandler::Kill, Duration::from_millis(4999)).len(),
            2
        );
        // Only the threads the child has are looked at.
        assert_eq!(
            judge_hung(&c, &sb, 1, limit, HungHandler::Kill, now, wall),
            []
        );
    }

    #[test]
    fn a_child_that_cancels_its_own_calls_is_recycled_only_after_twice_handler_timeout() {
        let (sb, wall) = busy_scoreboard(5000);
        let c = one_child(0);
        let now = Instant::now();
        let judge = |limit| judge_hung(&c, &sb, 2, limit, HungHandler::Cancel, now, wall);
        assert_eq!(
            judge(Duration::from_millis(2500)),
            [],
            "5 s is not over 2 × 2.5 s"
        );
        let limit = Duration::from_millis(2499);
        assert_eq!(
            judge(limit),
            [
                Step::Error("handler timeout: slot 0 thread 1 pid 40 client 192.0.2.1 request \"GET /slow HTTP/1.1\" running for 5.0s (HandlerTimeout 2s, not cancelled); recycling the child".into()),
                Step::RetireThenKillAt(Pid::from_raw(40), now + limit)
            ]
        );
    }

    #[test]
    fn only_busy_write_handlers_count_and_killed_children_are_left_alone() {
        let (sb, wall) = busy_scoreboard(5000);
        let now = Instant::now();
        let limit = Duration::from_secs(1);
        // Reading a request for long is the client's doing, not a hung handler.
        sb.worker(0, 1).set_status(WorkerStatus::BusyRead);
        assert_eq!(
            judge_hung(&one_child(0), &sb, 2, limit, HungHandler::Kill, now, wall),
            []
        );
        sb.worker(0, 1).set_status(WorkerStatus::BusyWrite);
        let mut c = one_child(0);
        c.get_mut(Pid::from_raw(40)).unwrap().killed = true;
        assert_eq!(
            judge_hung(&c, &sb, 2, limit, HungHandler::Kill, now, wall),
            [],
            "already killed: its death is awaited"
        );
        // Another child's slot is not this one's.
        assert_eq!(
            judge_hung(&one_child(1), &sb, 2, limit, HungHandler::Kill, now, wall),
            []
        );
    }

    #[test]
    fn a_child_retired_for_a_hung_handler_is_killed_once_its_time_is_up() {
        let (sb, wall) = busy_scoreboard(5000);
        let now = Instant::now();
        let limit = Duration::from_secs(1);
        let mut c = one_child(0);
        let at = |c: &mut Children, t| c.get_mut(Pid::from_raw(40)).unwrap().hung_kill_at = Some(t);
        at(&mut c, now + Duration::from_secs(1));
        assert_eq!(
            judge_hung(&c, &sb, 2, limit, HungHandler::RetireThenKill, now, wall),
            [],
            "not yet, and not recycled twice"
        );
        for t in [now, now - Duration::from_secs(1)] {
            at(&mut c, t);
            assert_eq!(
                judge_hung(&c, &sb, 2, limit, HungHandler::RetireThenKill, now, wall),
                [
                    Step::Error(
                        "handler timeout: child pid 40 did not finish gracefully; killing it"
                            .into()
                    ),
                    Step::Kill(Pid::from_raw(40))
                ]
            );
        }
    }

    #[test]
    fn sigttin_and_sigttou_move_the_spare_bounds_by_one_child_within_max_request_workers() {
        // worker: ThreadsPerChild 25, MaxRequestWorkers 100, spares 30..80 threads.
        let mut l = limits(
            MpmKind::Worker,
            Directives {
                threads_per_child: Some(25),
                max_request_workers: Some(100),
                min_spare_threads: Some(30),
                max_spare_threads: Some(80),
                ..Default::default()
            },
        );
        let bounds = |l: &Limits| (l.min_spare_threads, l.max_spare_threads);
        assert_eq!(
            shift_spares(&mut l, true),
            "SIGTTIN received: spare threads now 55..105"
        );
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
            MpmKind::Prefork,
            Directives {
                max_request_workers: Some(10),
                min_spare_servers: Some(5),
                max_spare_servers: Some(10),
                ..Default::default()
            },
        );
        shift_spares(&mut l, true);
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (6, 11));
        shift_spares(&mut l, false);
        assert_eq!(
            shift_spares(&mut l, false),
            "SIGTTOU received: spare servers now 4..9"
        );
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (4, 9));
        assert_eq!((l.min_spare_threads, l.max_spare_threads), (0, 0));
    }
}
