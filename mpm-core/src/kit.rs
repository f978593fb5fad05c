//! The strategy kit: what a strategy author needs, and only that.
//!
//! A strategy is a type implementing [`Mpm`]: a label with configuration [`Rules`]
//! ([`MpmKind::new`]), answers to the master's questions (how idle capacity is counted,
//! what spare maintenance decides, what a hung handler costs, which handlers it serves),
//! and what a child does once forked. The child gets a [`ChildContext`]: its listeners,
//! configuration, handler, graceful-stop notification, and [`ChildSlots`], handles to its
//! own scoreboard slots and no others. Connections are served by the one HTTP engine
//! ([`serve_lean`] on an async loop, [`serve_connection`] on a blocking thread).
//!
//! The facade `mpm` re-exports this module as `mpm::kit`, with a whole strategy as its
//! example. The rules part alone — a label of one's own, validated with Apache's
//! process-counting sequence:
//!
//! ```
//! use mpm_core::kit::{Defaults, MpmKind, ProcessRules};
//! use mpm_core::ServerConfig;
//! use std::path::Path;
//!
//! const RULES: ProcessRules = ProcessRules {
//!     defaults: Defaults {
//!         start_servers: 2, server_limit: 8, max_server_limit: 64, thread_limit: 1,
//!         max_thread_limit: 1, threads_per_child: 1, max_request_workers: 8,
//!         min_spare: 1, max_spare: 4,
//!     },
//! };
//! const MINE: MpmKind = MpmKind::new("mine", "mpm_mine_module", "mine.c", &RULES);
//!
//! let text = "<IfModule mpm_mine_module>\nMaxRequestWorkers 20\n</IfModule>\n";
//! let config = ServerConfig::from_config_str(text, Path::new("mine.conf"), MINE, None).unwrap();
//! assert_eq!(config.limits.max_request_workers, 8);
//! assert!(config.warnings[0].startup.contains("exceeds ServerLimit value of 8"));
//! ```
//!
//! The `httpd` example's `reactor` strategy (nginx's model) is a fuller one, written
//! outside the workspace crates; `docs/guide.md` walks through it.

pub use crate::accept::{
    classify, AcceptError, Accepted, Acceptor, Shortage, EPISODE_GAP, SHORTAGE_BACKOFF,
};
pub use crate::child::{ChildContext, ChildSignals, StopWatch};
pub use crate::http::{
    current_thread_runtime, reply_async, reply_blocking, reply_service, reply_stream, serve_lean,
    serve_lean_blocking, BodyMode, Closing, ConnObserver, ConnSummary, HttpOptions, Reply,
    RequestBody,
};
pub use crate::idle_stack::{idle_stack, Dispatcher, Waiter};
pub use crate::info::{Capability, MpmInfo, MpmState};
pub use crate::kind::MpmKind;
pub use crate::mpm::{exit, Mpm};
pub use crate::observe::{connection_span, serve_connection, SlotObserver};
pub use crate::policy::{
    spares_between, Census, ChildCensus, HungHandler, IdleCount, SpareDecision,
};
pub use crate::rules::{
    check_server_limit, warn_min_spare, warn_start_servers, Capabilities, Counts, Defaults, Family,
    ProcessRules, Requested, Retained, Rules, SpareUnit, ThreadRules, Warning, WarningLog,
};
pub use crate::scoreboard::{ProcessSlot, WorkerSlot, WorkerStatus};
pub use crate::slots::ChildSlots;
