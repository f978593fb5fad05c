//! A strategy's run-time policy, as the master asks for it: how idle capacity is counted
//! from the scoreboard, what spare maintenance decides, what a hung handler costs.
//!
//! The master owns the mechanics (forking, the spawn rate doubling up to 32 a second,
//! Apache's warnings, one retirement a tick); the strategy answers the questions below
//! through its [`Mpm`](crate::Mpm) methods.

use crate::limits::Limits;
use crate::scoreboard::WorkerStatus;

/// One current-generation child that was not asked to stop, as maintenance sees it.
#[derive(Debug, Clone, Copy)]
pub struct ChildCensus<'a> {
    /// Its scoreboard process slot.
    pub slot: usize,
    /// The status of each of its ThreadsPerChild worker slots.
    pub workers: &'a [WorkerStatus],
    /// Whether it said it accepts no more connections for now (its own limit).
    pub not_accepting: bool,
}

impl ChildCensus<'_> {
    /// Worker slots free for a new connection: ready, starting or not yet started (a
    /// child being born counts as idle so it is not forked twice).
    pub fn idle_workers(&self) -> u32 {
        self.workers
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::Ready
                )
            })
            .count() as u32
    }
}

/// What one child adds to the idle count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdleCount {
    /// Idle capacity, in the strategy's unit (processes or threads).
    pub idle: u32,
    /// Whether the child may be retired when there is too much idle capacity (the
    /// candidate with the highest slot is retired).
    pub retirable: bool,
}

/// The whole server, as maintenance sees it once a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// Idle capacity summed over the counted children.
    pub idle: u32,
    /// Current-generation children not asked to stop.
    pub active: usize,
    /// Every child not reaped yet, of any generation, stopping or not.
    pub children: usize,
}

impl Census {
    /// Children still finishing: older generations and retired ones.
    pub fn stopping(&self) -> usize {
        self.children - self.active
    }
}

/// What spare maintenance does this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpareDecision {
    /// Too much idle capacity: retire one candidate, or none yet (`now` false) when the
    /// strategy wants to wait, e.g. for stopping children to leave first.
    Retire {
        /// Whether to retire one now.
        now: bool,
    },
    /// Too little: fork more children (at the spawn rate, within MaxRequestWorkers).
    Spawn,
    /// Within bounds.
    Steady,
}

/// Apache's spare rule: retire above the maximum, spawn below the minimum.
pub fn spares_between(idle: u32, limits: &Limits) -> SpareDecision {
    if idle > limits.max_spare() {
        SpareDecision::Retire { now: true }
    } else if idle < limits.min_spare() {
        SpareDecision::Spawn
    } else {
        SpareDecision::Steady
    }
}

/// What the master does with a child one of whose handlers overran HandlerTimeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HungHandler {
    /// Kill the child at once: nothing else runs in it (one connection per process).
    Kill,
    /// Retire it gracefully, so its other connections finish, and kill it if it is still
    /// there another HandlerTimeout later.
    RetireThenKill,
    /// The child cancels the overrunning call itself (an async handler's future is
    /// dropped, its request answered 503) and keeps serving; the master steps in only if
    /// the call is still there after twice HandlerTimeout (a handler that blocks its
    /// thread cannot be cancelled), and then as for [`RetireThenKill`](Self::RetireThenKill).
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MpmKind;

    #[test]
    fn idle_workers_are_dead_starting_or_ready_slots() {
        use WorkerStatus::*;
        let workers = [
            Dead,
            Starting,
            Ready,
            BusyRead,
            BusyWrite,
            BusyKeepalive,
            BusyLog,
            BusyDns,
            Closing,
            Graceful,
            IdleKill,
            Ready,
        ];
        let child = ChildCensus {
            slot: 0,
            workers: &workers,
            not_accepting: false,
        };
        assert_eq!(child.idle_workers(), 4);
        let none = ChildCensus {
            workers: &[BusyWrite, Graceful],
            ..child
        };
        assert_eq!(none.idle_workers(), 0);
    }

    #[test]
    fn stopping_children_are_those_not_active() {
        let c = |active, children| Census {
            idle: 0,
            active,
            children,
        };
        assert_eq!(c(3, 3).stopping(), 0);
        assert_eq!(c(3, 5).stopping(), 2);
        assert_eq!(c(4, 8).stopping(), 4);
    }

    #[test]
    fn spares_between_retires_above_the_maximum_spawns_below_the_minimum() {
        let d = crate::Directives {
            min_spare_servers: Some(5),
            max_spare_servers: Some(10),
            ..Default::default()
        };
        let l = crate::config::validate(MpmKind::Prefork, &d, None)
            .expect("valid")
            .limits;
        for (idle, decision) in [
            (0, SpareDecision::Spawn),
            (4, SpareDecision::Spawn),
            (5, SpareDecision::Steady),
            (7, SpareDecision::Steady),
            (10, SpareDecision::Steady),
            (11, SpareDecision::Retire { now: true }),
            (40, SpareDecision::Retire { now: true }),
        ] {
            assert_eq!(spares_between(idle, &l), decision, "idle {idle}");
        }
    }
}
