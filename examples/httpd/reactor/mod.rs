//! `reactor`: nginx's process model as a fourth strategy, written with nothing but
//! mpm's public strategy kit — the proof that a strategy needs no change to `mpm-core`.
//!
//! A fixed number of processes (StartServers; nginx's `worker_processes`), each running
//! one asynchronous event loop that accepts, parses and answers every connection it
//! takes. There is no spare maintenance: the master keeps exactly that many children,
//! replacing one that dies and the whole set at a graceful restart. Async handlers run on
//! the loop; blocking handlers run on the loop's blocking pool so they never stall it.
//!
//! The three parts of a strategy, one file each:
//! * `rules.rs` — its label, defaults, directives and validation ([`Rules`]);
//! * this file — its answers to the master ([`Mpm`]);
//! * `child.rs` — what a child does.

mod child;
mod rules;

use mpm::http::Handler;
use mpm::kit::ChildContext;
use mpm::kit::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use mpm::{Limits, Mpm, MpmKind};

pub use rules::KIND;

/// The reactor strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReactorMpm;

impl Mpm for ReactorMpm {
    fn kind(&self) -> MpmKind {
        KIND
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        child::run(ctx)
    }

    /// Capacity is not counted: the process count is fixed.
    fn count_idle(&self, _child: &ChildCensus<'_>) -> Option<IdleCount> {
        None
    }

    fn spares(&self, census: &Census, limits: &Limits) -> SpareDecision {
        fixed_count(census, limits)
    }

    /// The loop itself goes on serving: retire the child gracefully, kill it later.
    fn hung_handler(&self, _handler: &mpm_core::http::Handler) -> HungHandler {
        HungHandler::RetireThenKill
    }

    fn supports(&self, handler: &Handler) -> Result<(), String> {
        match handler {
            Handler::Connection(_) => Err(
                "reactor serves HTTP handlers; use the worker MPM for a ConnectionHandler".into(),
            ),
            _ => Ok(()),
        }
    }
}

/// Keep exactly `max_daemons` (= StartServers) children: spawn when one is missing,
/// never retire for idleness.
fn fixed_count(census: &Census, limits: &Limits) -> SpareDecision {
    if census.active < limits.max_daemons as usize {
        SpareDecision::Spawn
    } else {
        SpareDecision::Steady
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(conf: &str) -> Limits {
        mpm::ServerConfig::from_config_str(conf, std::path::Path::new("t.conf"), KIND, None)
            .expect("valid")
            .limits
    }

    #[test]
    fn keeps_a_fixed_count() {
        let l = limits("StartServers 3\n");
        let at = |active| {
            fixed_count(
                &Census {
                    idle: 0,
                    active,
                    children: active + 5,
                },
                &l,
            )
        };
        assert_eq!(at(2), SpareDecision::Spawn);
        assert_eq!(at(3), SpareDecision::Steady);
    }

    #[test]
    fn refuses_raw_connection_handlers_before_fork() {
        let h = Handler::connection(|_s: std::net::TcpStream, _p| {});
        assert!(ReactorMpm.supports(&h).is_err());
    }
}
