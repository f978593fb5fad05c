//! # mpm
//!
//! Apache httpd's Multi-Processing Modules — prefork, worker and event — as a Rust library.

pub use mpm_core as core;
pub use mpm_core::{Error, MpmKind, Result};
