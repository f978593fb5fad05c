//! # mpm-event
//!
//! Apache's event model on tokio: inside each child an asynchronous connection layer
//! (created after fork) accepts, reads request heads, parks idle keep-alive connections and
//! finishes writing responses; ThreadsPerChild worker threads run only the blocking handler
//! calls, and write their responses themselves as far as the socket takes them at once
//! (`ResponseWriter`, `ReplyWriter`); the connection layer completes what is left. Connections are served by `mpm_core::http::serve_lean`, which holds no buffer
//! while a connection is idle (≈ 1.5–2 KiB per parked keep-alive connection). A child stops accepting while its open connections exceed ThreadsPerChild + idle
//! workers × AsyncRequestWorkerFactor, as Apache's does.
//!
//! ```no_run
//! use mpm_core::{http::Handler, ConfigSource, Directives, Server};
//! let mut d = Directives::default();
//! d.listen.push("127.0.0.1:8080".parse().unwrap());
//! let server = Server::new(Box::new(mpm_event::EventMpm), ConfigSource::from(d))?;
//! server.run(Handler::http(|_req| http::Response::new(bytes::Bytes::from("hello\n"))))?;
//! # Ok::<(), mpm_core::Error>(())
//! ```

mod child;
mod conn_observer;
mod inline;
mod policy;
pub mod pool;

use mpm_core::kit::{Census, ChildCensus, HungHandler, IdleCount, SpareDecision};
use mpm_core::{ChildContext, Limits, Mpm, MpmKind};

/// The event strategy.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventMpm;

impl Mpm for EventMpm {
    fn kind(&self) -> MpmKind {
        MpmKind::Event
    }

    fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
        child::run(ctx)
    }

    fn count_idle(&self, child: &ChildCensus<'_>) -> Option<IdleCount> {
        policy::count_idle(child)
    }

    fn spares(&self, census: &Census, limits: &Limits) -> SpareDecision {
        policy::spares(census, limits)
    }

    fn hung_handler(&self, handler: &mpm_core::http::Handler) -> HungHandler {
        policy::hung_handler(handler)
    }

    fn supports(&self, handler: &mpm_core::http::Handler) -> Result<(), String> {
        policy::supports(handler)
    }
}
