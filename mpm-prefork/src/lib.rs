//! # mpm-prefork
//!
//! Apache's prefork model: every child is a single-threaded process serving one
//! connection at a time, keep-alive included. The master (shared, in `mpm-core`) keeps
//! between MinSpareServers and MaxSpareServers idle children.
//!
//! ```no_run
//! use mpm_core::{http::Handler, ConfigSource, Directives, Server};
//! let mut d = Directives::default();
//! d.listen.push("127.0.0.1:8080".parse().unwrap());
//! let server = Server::new(Box::new(mpm_prefork::PreforkMpm), ConfigSource::from(d))?;
//! server.run(Handler::http(|_req| http::Response::new(bytes::Bytes::from("hello\n"))))?;
//! # Ok::<(), mpm_core::Error>(())
//! ```

mod child;
mod policy;

use mpm_core::kit::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use mpm_core::{ChildContext, Limits, Mpm, MpmKind};

/// The prefork strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreforkMpm;

impl Mpm for PreforkMpm {
    fn kind(&self) -> MpmKind {
        MpmKind::Prefork
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        child::run(ctx)
    }

    fn count_idle(&self, child: &ChildCensus<'_>) -> Option<IdleCount> {
        Some(policy::count_idle(child))
    }

    fn spares(&self, census: &Census, limits: &Limits) -> SpareDecision {
        policy::spares(census, limits)
    }

    fn hung_handler(&self, _handler: &mpm_core::http::Handler) -> HungHandler {
        policy::HUNG_HANDLER
    }
}
