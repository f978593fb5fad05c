//! # mpm
//!
//! Apache httpd's Multi-Processing Modules — prefork, worker and event — as a Rust
//! library. Choose the strategy with a cargo feature (`prefork`, `worker`, `event`;
//! default `event`); when several are compiled in, pick one at run time with
//! [`mpm_for`] or a [`Registry`], as Apache 2.4 does with loadable MPMs.
//!
//! Two front doors:
//!
//! * **this crate root, the embedding API**, for an application that serves with mpm: a
//!   [`Server`] built from a strategy and a [`ConfigSource`], [`Handler`]s ([`http`]),
//!   configuration ([`config`], [`limits`]), a [`Control`] handle, the status renderers
//!   and page ([`status`], [`status_page`]);
//! * **[`kit`], the strategy kit**, for an author of a process model: the [`Mpm`] trait
//!   and what a strategy's child works with.
//!
//! A whole server, the same code under every strategy feature:
//!
//! ```
//! use mpm::http::{Bytes, Handler, Response};
//! use mpm::log::LogLevel;
//! use mpm::{Server, ServerConfig};
//!
//! # fn main() -> Result<(), mpm::Error> { run(false) }
//! # fn run(serve: bool) -> Result<(), mpm::Error> {
//! // mpm logs through `tracing` and prints nothing by itself: install a subscriber first.
//! // This one writes Apache's error-log lines (stderr, or ErrorLog's file) at LogLevel.
//! mpm::log::install_to(None, LogLevel::Notice)?;
//!
//! let config = ServerConfig::builder()
//!     .listen("127.0.0.1:0")
//!     .start_servers(1)
//!     // Worker's and event's; under prefork it is left out with a notice.
//!     .threads_per_child(4);
//! let server = Server::new(mpm::selected(), config)?;
//! println!("{} MPM listening on {:?}", server.config().limits.kind, server.local_addrs());
//! # if !serve { return Ok(()); }
//! server.run(Handler::http(|_req| Response::new(Bytes::from("hello\n"))))
//! # }
//! ```
//!
//! `mpm::Error`'s `Debug` is its message, so `?` up to `main` prints a readable line.
//! `Handler::tower` (feature `tower`) serves an axum `Router` as it is.

#[cfg(not(any(feature = "prefork", feature = "worker", feature = "event")))]
compile_error!("enable at least one of the features `prefork`, `worker`, `event`");

pub mod http;
pub mod kit;
mod registry;
pub mod status;

pub use registry::Registry;

/// The `bytes` crate (`Bytes` bodies); the `http` crate's types are in [`http`].
pub use bytes;
/// Apache-syntax configuration, serde and the builder; [`config::validate`].
pub use mpm_core::config;
pub use mpm_core::http::{
    AsyncHandler, ConnectionHandler, Handler, HttpHandler, RequestBody, ResponseBody, StreamHandler,
};
/// Effective limits and Apache's warnings.
pub use mpm_core::limits;
/// Logging: mpm emits `tracing` events; [`log::install`] is the sink honouring `ErrorLog`
/// and `LogLevel` (Apache's error-log lines on stderr or in a file).
pub use mpm_core::log;
/// The PidFile, as `httpd -k` reads it.
pub use mpm_core::pidfile;
/// `/server-status` and `/metrics` for a handler.
pub use mpm_core::status_page;
pub use mpm_core::{
    config::CommandLine, Command, ConfigError, ConfigErrors, ConfigSource, Control, Directives,
    Error, Limits, Mpm, MpmInfo, MpmKind, Result, ScoreboardView, Server, ServerConfig,
};
/// Facts about the running child, for a handler: [`child::current`].
pub mod child {
    pub use mpm_core::child::{current, ChildInfo};
}
pub use mpm_core::mpm::MpmState;

#[cfg(feature = "event")]
pub use mpm_event::EventMpm;
#[cfg(feature = "prefork")]
pub use mpm_prefork::PreforkMpm;
#[cfg(feature = "worker")]
pub use mpm_worker::WorkerMpm;

/// The strategy this build selects by default: event > worker > prefork among the enabled
/// features.
#[cfg(feature = "event")]
pub type Selected = mpm_event::EventMpm;
/// The strategy this build selects by default: event > worker > prefork among the enabled
/// features.
#[cfg(all(feature = "worker", not(feature = "event")))]
pub type Selected = mpm_worker::WorkerMpm;
/// The strategy this build selects by default: event > worker > prefork among the enabled
/// features.
#[cfg(all(feature = "prefork", not(feature = "event"), not(feature = "worker")))]
pub type Selected = mpm_prefork::PreforkMpm;

/// The strategies compiled into this build, in selection priority.
pub fn compiled_in() -> Vec<MpmKind> {
    Registry::compiled_in().kinds()
}

/// The default strategy of this build (see [`Selected`]).
pub fn default_kind() -> MpmKind {
    Selected::default().kind()
}

/// The default strategy, boxed for [`Server::new`].
pub fn selected() -> Box<dyn Mpm> {
    Box::new(Selected::default())
}

/// The strategy labelled `kind`, if this build has it.
pub fn mpm_for(kind: MpmKind) -> Option<Box<dyn Mpm>> {
    Registry::compiled_in().take(kind.name())
}
