//! # mpm-core
//!
//! The contract and shared machinery of mpm — Apache httpd's Multi-Processing Modules
//! rebuilt in Rust: configuration in Apache's syntax with Apache's validation, the
//! shared-memory scoreboard, status pages, listeners, the master process loop, signals and
//! the handler API. The strategies (`mpm-prefork`, `mpm-worker`, `mpm-event`, or one of
//! your own) plug into it through the [`Mpm`] trait; `mpm-core` names none of them
//! (Apache's three labels and their configuration rules are in [`kind`]).
//!
//! Two audiences, two doors: an application uses the crate root ([`Server`],
//! [`ConfigSource`], [`http`] handlers, [`config`], [`Control`], [`status`]); a strategy
//! author uses [`kit`]. The facade `mpm` re-exports the two.
//!
//! Loading an Apache `httpd-mpm.conf` block gives Apache's effective limits and warnings:
//!
//! ```
//! use mpm_core::{MpmKind, ServerConfig};
//! use std::path::Path;
//!
//! let text = "<IfModule mpm_worker_module>\n\
//!             ThreadsPerChild 100\n\
//!             MaxRequestWorkers 450\n\
//!             </IfModule>\n";
//! let config = ServerConfig::from_config_str(text, Path::new("mpm.conf"), MpmKind::Worker, None)
//!     .expect("valid");
//! // ThreadsPerChild 100 exceeds the default ThreadLimit 64: clamped, with Apache's warning.
//! assert_eq!(config.limits.threads_per_child, 64);
//! assert!(config.warnings[0].startup.starts_with("WARNING: ThreadsPerChild of 100 exceeds ThreadLimit of 64"));
//! ```
//!
//! Serving: build a [`Server`] from a strategy and a [`ConfigSource`], then
//! [`Server::run`] it with a [`http::Handler`] (see the strategy crates and the `mpm`
//! facade).

mod accept;
pub mod child;
pub mod config;
pub mod control;
pub mod descriptors;
pub mod error;
pub mod http;
mod idle_stack;
mod info;
pub mod kind;
pub mod kit;
pub mod limits;
pub mod listen;
pub mod log;
mod master;
pub mod mpm;
pub mod notify;
mod observe;
pub mod pidfile;
mod policy;
mod rules;
pub mod scoreboard;
mod scoreboard_view;
pub mod server;
mod slots;
pub mod status;
pub mod status_page;
mod sys;
pub mod tls;
pub mod upgrade;

pub use child::ChildContext;
pub use config::{Directives, ServerConfig};
pub use control::{Command, Control};
pub use error::{ConfigError, ConfigErrors, Error, Result};
pub use kind::MpmKind;
pub use limits::Limits;
pub use mpm::{Mpm, MpmInfo};
pub use scoreboard_view::ScoreboardView;
pub use server::{ConfigSource, Server};
