//! Prefork's answers to the master: capacity is idle processes (a child has one worker
//! slot), only an idle child is retired, a hung handler costs its whole child.

use mpm_core::kit::SpareDecision;
use mpm_core::kit::{spares_between, Census, ChildCensus, HungHandler, IdleCount};
use mpm_core::Limits;

/// One idle process counts one; a busy one is not a retirement candidate (retiring it
/// would cut its connection short of nothing but a graceful finish).
pub(crate) fn count_idle(child: &ChildCensus<'_>) -> IdleCount {
    let idle = child.idle_workers().min(1);
    IdleCount {
        idle,
        retirable: idle > 0,
    }
}

/// Apache's prefork rule: MinSpareServers..MaxSpareServers idle processes.
pub(crate) fn spares(census: &Census, limits: &Limits) -> SpareDecision {
    spares_between(census.idle, limits)
}

/// Nothing else runs in the child: kill it at once, the one request is lost anyway.
pub(crate) const HUNG_HANDLER: HungHandler = HungHandler::Kill;

#[cfg(test)]
mod tests {
    use super::*;
    use mpm_core::scoreboard::WorkerStatus;
    use mpm_core::{Directives, MpmKind, ServerConfig};

    fn limits(d: &Directives) -> Limits {
        ServerConfig::from_directives(d, MpmKind::Prefork, None)
            .expect("valid")
            .limits
    }

    fn child(status: WorkerStatus) -> IdleCount {
        count_idle(&ChildCensus {
            slot: 0,
            workers: &[status],
            not_accepting: false,
        })
    }

    #[test]
    fn an_idle_process_counts_one_and_may_retire() {
        assert_eq!(
            child(WorkerStatus::Ready),
            IdleCount {
                idle: 1,
                retirable: true
            }
        );
        assert_eq!(child(WorkerStatus::Starting).idle, 1);
        let busy = child(WorkerStatus::BusyWrite);
        assert_eq!(busy.idle, 0);
        assert!(!busy.retirable, "a busy child is never retired for spares");
    }

    #[test]
    fn spares_follow_min_and_max_spare_servers() {
        let d = Directives {
            min_spare_servers: Some(2),
            max_spare_servers: Some(4),
            ..Directives::default()
        };
        let l = limits(&d);
        let at = |idle| {
            spares(
                &Census {
                    idle,
                    active: 5,
                    children: 5,
                },
                &l,
            )
        };
        assert_eq!(at(1), SpareDecision::Spawn);
        assert_eq!(at(2), SpareDecision::Steady);
        assert_eq!(at(4), SpareDecision::Steady);
        assert_eq!(at(5), SpareDecision::Retire { now: true });
    }

    #[test]
    fn validation_is_apaches() {
        let mut d = Directives {
            max_request_workers: Some(300),
            ..Directives::default()
        };
        let c = ServerConfig::from_directives(&d, MpmKind::Prefork, None).unwrap();
        assert_eq!(c.limits.max_request_workers, 256);
        assert!(c.warnings[0]
            .startup
            .starts_with("WARNING: MaxRequestWorkers of 300 exceeds ServerLimit value of 256"));
        d.min_spare_threads = Some(3);
        assert!(ServerConfig::from_directives(&d, MpmKind::Prefork, None).is_err());
    }
}
