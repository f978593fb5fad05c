//! Event's answers to the master: capacity is idle threads of children that accept
//! connections; a child is retired only when that cannot starve the scoreboard of slots;
//! raw connection handlers are refused before any fork.

use mpm_core::http::Handler;
use mpm_core::kit::SpareDecision;
use mpm_core::kit::{spares_between, Census, ChildCensus, HungHandler, IdleCount};
use mpm_core::Limits;

/// A child at its connection limit (it stopped accepting) offers no capacity, whatever
/// its idle threads, as in Apache's event; the others count their idle threads.
pub(crate) fn count_idle(child: &ChildCensus<'_>) -> Option<IdleCount> {
    if child.not_accepting {
        return None;
    }
    Some(IdleCount {
        idle: child.idle_workers(),
        retirable: true,
    })
}

/// MinSpareThreads..MaxSpareThreads, but a retirement waits while other children are
/// still stopping, unless enough scoreboard slots stay free for a full complement of
/// children: stopping children keep their slots, and event's keep-alive connections can
/// keep a child stopping for long.
pub(crate) fn spares(census: &Census, limits: &Limits) -> SpareDecision {
    match spares_between(census.idle, limits) {
        SpareDecision::Retire { .. } => {
            let free_slots = (limits.server_limit as usize).saturating_sub(census.children);
            SpareDecision::Retire {
                now: census.stopping() == 0 || free_slots > limits.max_daemons as usize,
            }
        }
        other => other,
    }
}

/// An async handler runs inline on the connection layer: the child cancels the one call
/// (recycling the child would drop every connection it holds). A blocking handler's thread
/// cannot be cancelled, and other connections of the child are being served: let them
/// finish, kill later.
pub(crate) fn hung_handler(handler: &Handler) -> HungHandler {
    match handler {
        Handler::Async(_) | Handler::Service(_) => HungHandler::Cancel,
        _ => HungHandler::RetireThenKill,
    }
}

/// A raw connection handler blocks its thread for the connection's life: that is the
/// worker strategy's model, not a connection layer's.
pub(crate) fn supports(handler: &Handler) -> Result<(), String> {
    match handler {
        Handler::Connection(_) => {
            Err("event serves HTTP handlers; use the worker MPM for a ConnectionHandler".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpm_core::scoreboard::WorkerStatus;
    use mpm_core::{Directives, MpmKind, ServerConfig};

    fn limits() -> Limits {
        let d = Directives {
            server_limit: Some(4),
            threads_per_child: Some(2),
            max_request_workers: Some(4),
            min_spare_threads: Some(1),
            max_spare_threads: Some(4),
            ..Directives::default()
        };
        ServerConfig::from_directives(&d, MpmKind::Event, None)
            .unwrap()
            .limits
    }

    #[test]
    fn a_child_not_accepting_offers_nothing() {
        let child = |not_accepting| ChildCensus {
            slot: 1,
            workers: &[WorkerStatus::Ready, WorkerStatus::Ready],
            not_accepting,
        };
        assert_eq!(count_idle(&child(true)), None);
        assert_eq!(count_idle(&child(false)).map(|c| c.idle), Some(2));
    }

    /// The decision with many idle workers to spare, `active` of `children` running.
    fn retire_with_idle_to_spare(l: &Limits, active: usize, children: usize) -> SpareDecision {
        spares(
            &Census {
                idle: 10,
                active,
                children,
            },
            l,
        )
    }

    #[test]
    fn retirement_waits_for_stopping_children_when_slots_are_short() {
        let l = limits();
        assert_eq!((l.server_limit, l.max_daemons), (4, 2));
        let at = |active, children| retire_with_idle_to_spare(&l, active, children);
        assert_eq!(at(2, 2), SpareDecision::Retire { now: true });
        // One stopping, 4 - 3 = 1 free slot, not more than max_daemons 2: wait.
        assert_eq!(at(2, 3), SpareDecision::Retire { now: false });
        assert_eq!(at(1, 1), SpareDecision::Retire { now: true });
    }

    #[test]
    fn async_handlers_are_cancelled_in_the_child_blocking_ones_retired_then_killed() {
        // The connection layer can drop an async call's future; a blocking handler's
        // thread cannot be stopped from outside, so its child is recycled.
        let asynchronous = Handler::asynchronous(|_r: http::Request<bytes::Bytes>| async {
            http::Response::new(bytes::Bytes::new())
        });
        assert_eq!(hung_handler(&asynchronous), HungHandler::Cancel);
        let service = Handler::service(|_r: http::Request<mpm_core::http::RequestBody>| async {
            http::Response::new(String::new())
        });
        assert_eq!(hung_handler(&service), HungHandler::Cancel);
        let blocking = Handler::http(|_r| http::Response::new(bytes::Bytes::new()));
        assert_eq!(hung_handler(&blocking), HungHandler::RetireThenKill);
    }

    #[test]
    fn raw_connection_handlers_are_refused_before_fork() {
        let h = Handler::connection(|_s: std::net::TcpStream, _p| {});
        assert!(supports(&h).unwrap_err().contains("worker MPM"));
        let h = Handler::http(|_r| http::Response::new(bytes::Bytes::new()));
        assert!(supports(&h).is_ok());
    }

    #[test]
    fn validation_is_apaches() {
        let mut d = Directives {
            async_request_worker_factor: Some(0.5),
            ..Directives::default()
        };
        let c = ServerConfig::from_directives(&d, MpmKind::Event, None).unwrap();
        assert_eq!(c.limits.async_request_worker_factor, 1.0);
        d.thread_limit = Some(50_000);
        let c = ServerConfig::from_directives(&d, MpmKind::Event, None).unwrap();
        assert_eq!(
            c.limits.thread_limit, 50_000,
            "event's MAX_THREAD_LIMIT is 100000"
        );
    }

    #[test]
    fn retirement_goes_ahead_with_stopping_children_only_when_more_slots_than_max_daemons_are_free()
    {
        let l = limits();
        let at = |active, children| retire_with_idle_to_spare(&l, active, children);
        // One stopping, 4 - 2 = 2 free slots: exactly max_daemons, not more: wait.
        assert_eq!(at(1, 2), SpareDecision::Retire { now: false });
        // One stopping, 4 - 1 = 3 free slots, more than max_daemons 2: retire now.
        assert_eq!(at(0, 1), SpareDecision::Retire { now: true });
    }
}
