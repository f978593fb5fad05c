//! Worker's answers to the master: capacity is idle threads, any child may be retired
//! (the highest slot goes), a hung handler retires its child gracefully first.

use mpm_core::kit::SpareDecision;
use mpm_core::kit::{spares_between, Census, ChildCensus, HungHandler, IdleCount};
use mpm_core::Limits;

/// Each idle thread counts; every child is a candidate, so the highest slot is retired
/// whatever its load (its busy threads finish first).
pub(crate) fn count_idle(child: &ChildCensus<'_>) -> IdleCount {
    IdleCount {
        idle: child.idle_workers(),
        retirable: true,
    }
}

/// Apache's worker rule: MinSpareThreads..MaxSpareThreads idle threads.
pub(crate) fn spares(census: &Census, limits: &Limits) -> SpareDecision {
    spares_between(census.idle, limits)
}

/// Other threads of the child are serving too: let them finish, kill later.
pub(crate) const HUNG_HANDLER: HungHandler = HungHandler::RetireThenKill;

#[cfg(test)]
mod tests {
    use super::*;
    use mpm_core::scoreboard::WorkerStatus;
    use mpm_core::{Directives, MpmKind, ServerConfig};

    #[test]
    fn idle_threads_count_and_busy_children_may_retire() {
        use WorkerStatus::*;
        let c = count_idle(&ChildCensus {
            slot: 3,
            workers: &[Ready, BusyWrite, Starting, BusyRead],
            not_accepting: true,
        });
        assert_eq!(
            c,
            IdleCount {
                idle: 2,
                retirable: true
            }
        );
    }

    #[test]
    fn spares_follow_min_and_max_spare_threads() {
        let d = Directives {
            min_spare_threads: Some(10),
            max_spare_threads: Some(60),
            ..Directives::default()
        };
        let l = ServerConfig::from_directives(&d, MpmKind::Worker, None)
            .unwrap()
            .limits;
        let at = |idle| {
            spares(
                &Census {
                    idle,
                    active: 2,
                    children: 3,
                },
                &l,
            )
        };
        assert_eq!(at(9), SpareDecision::Spawn);
        assert_eq!(at(10), SpareDecision::Steady);
        assert_eq!(at(61), SpareDecision::Retire { now: true });
    }

    #[test]
    fn validation_is_apaches() {
        let mut d = Directives {
            threads_per_child: Some(100),
            ..Directives::default()
        };
        let c = ServerConfig::from_directives(&d, MpmKind::Worker, None).unwrap();
        assert_eq!(c.limits.threads_per_child, 64);
        d.async_request_worker_factor = Some(2.0);
        let e = ServerConfig::from_directives(&d, MpmKind::Worker, None).unwrap_err();
        assert!(
            e.to_string().contains("not valid for the worker MPM"),
            "{e}"
        );
    }
}
