//! The strategy kit: the second front door, for authors of a process model.
//!
//! A strategy is a type implementing [`Mpm`]: a label bound to configuration [`Rules`]
//! ([`MpmKind::new`]), the answers the master asks for once a second (how idle capacity
//! is counted, what spare maintenance decides, what a hung handler costs, which handlers
//! it serves) and what a child does once forked. The child works from a
//! [`ChildContext`]: listeners, configuration, handler, graceful-stop notification, and
//! [`ChildSlots`] — its own scoreboard slots, the only ones it can write. Connections go
//! to the one HTTP engine: [`serve_connection`] on a blocking thread, [`serve_lean`] on
//! an async loop.
//!
//! A whole strategy — one process serving one connection at a time, replaced when it
//! dies, selectable beside the compiled-in ones:
//!
//! ```no_run
//! use mpm::kit::*;
//! use mpm::{ConfigSource, Directives, Handler, Limits, Registry, Server};
//! use std::time::Duration;
//!
//! struct Single;
//!
//! const SINGLE_RULES: ProcessRules = ProcessRules {
//!     defaults: Defaults {
//!         start_servers: 1, server_limit: 1, max_server_limit: 1, thread_limit: 1,
//!         max_thread_limit: 1, threads_per_child: 1, max_request_workers: 1,
//!         min_spare: 1, max_spare: 2,
//!     },
//! };
//! const SINGLE: MpmKind = MpmKind::new("single", "mpm_single_module", "single.c", &SINGLE_RULES);
//!
//! impl Mpm for Single {
//!     fn kind(&self) -> MpmKind {
//!         SINGLE
//!     }
//!
//!     fn child_main(&self, ctx: ChildContext<'_>) -> i32 {
//!         let (Ok(rt), Ok(acceptor)) = (current_thread_runtime(), Acceptor::new(ctx.listeners()))
//!         else {
//!             return exit::CHILD_SICK;
//!         };
//!         let mut acceptor = acceptor.counting(ctx.slots());
//!         let observer = SlotObserver::new(ctx.slots(), 0);
//!         let opts = HttpOptions::from_config(ctx.config());
//!         let closing = Closing::with_probe(ctx.stop_probe());
//!         observer.set(WorkerStatus::Ready);
//!         while !ctx.stop_requested() {
//!             let wake = Some(ctx.signals().fd());
//!             if let Accepted::Conn(s, peer) = acceptor.accept(wake, Duration::from_secs(1)) {
//!                 serve_connection(&rt, ctx.handler(), &opts, &observer, &closing, s, peer);
//!                 observer.set(WorkerStatus::Ready);
//!             }
//!         }
//!         0
//!     }
//!
//!     fn count_idle(&self, child: &ChildCensus<'_>) -> Option<IdleCount> {
//!         Some(IdleCount { idle: child.idle_workers(), retirable: false })
//!     }
//!
//!     fn spares(&self, census: &Census, _limits: &Limits) -> SpareDecision {
//!         if census.active == 0 { SpareDecision::Spawn } else { SpareDecision::Steady }
//!     }
//!
//!     fn hung_handler(&self, _handler: &Handler) -> HungHandler {
//!         HungHandler::Kill
//!     }
//! }
//!
//! let mut strategies = Registry::compiled_in().with(Box::new(Single));
//! let mut d = Directives::default();
//! d.listen.push("127.0.0.1:8080".parse().unwrap());
//! let server = Server::new(strategies.take("single").unwrap(), ConfigSource::from(d))?;
//! server.run(Handler::http(|_req| http::Response::new(bytes::Bytes::from("hello\n"))))?;
//! # Ok::<(), mpm::Error>(())
//! ```
//!
//! The `httpd` example's `reactor` (nginx's model: a fixed set of processes, one event
//! loop each) is a complete strategy built from this kit alone; `docs/guide.md`, "Writing
//! a strategy", walks through it.

pub use mpm_core::kit::*;
