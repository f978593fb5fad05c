//! # mpm-core
//!
//! The contract and shared machinery of mpm — Apache httpd's Multi-Processing Modules
//! rebuilt in Rust: configuration in Apache's syntax with Apache's validation, the
//! shared-memory scoreboard, status pages, listeners, the master process loop, signals and
//! the handler API. The strategies (`mpm-prefork`, `mpm-worker`, `mpm-event`) plug into it
//! through the [`Mpm`] trait.

pub mod config;
pub mod error;
pub mod http;
pub mod kind;
pub mod limits;
pub mod listen;
pub mod scoreboard;
pub mod status;
pub mod sys;

pub use error::{ConfigError, ConfigErrors, Error, Result};
pub use kind::MpmKind;
