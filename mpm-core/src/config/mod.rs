//! Configuration: Apache's httpd syntax, serde, and a builder.
//!
//! STUB: the config helper owns this directory. The types below are the agreed contract.

use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use crate::limits::{Limits, Retained, Warning};
use crate::listen::ListenSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the user wrote: every directive mpm understands, unset ones `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase", deny_unknown_fields)]
pub struct Directives {
    /// StartServers
    pub start_servers: Option<i64>,
    /// ServerLimit
    pub server_limit: Option<i64>,
    /// MinSpareServers
    pub min_spare_servers: Option<i64>,
    /// MaxSpareServers
    pub max_spare_servers: Option<i64>,
    /// MinSpareThreads
    pub min_spare_threads: Option<i64>,
    /// MaxSpareThreads
    pub max_spare_threads: Option<i64>,
    /// ThreadsPerChild
    pub threads_per_child: Option<i64>,
    /// ThreadLimit
    pub thread_limit: Option<i64>,
    /// MaxRequestWorkers (alias MaxClients)
    pub max_request_workers: Option<i64>,
    /// MaxConnectionsPerChild (alias MaxRequestsPerChild)
    pub max_connections_per_child: Option<i64>,
    /// AsyncRequestWorkerFactor
    pub async_request_worker_factor: Option<f64>,
    /// GracefulShutdownTimeout, seconds
    pub graceful_shutdown_timeout: Option<i64>,
    /// ListenBacklog
    pub listen_backlog: Option<i64>,
    /// Listen (repeatable)
    pub listen: Vec<ListenSpec>,
    /// KeepAlive On|Off
    pub keep_alive: Option<bool>,
    /// KeepAliveTimeout, seconds
    pub keep_alive_timeout: Option<i64>,
    /// MaxKeepAliveRequests; 0 = unlimited
    pub max_keep_alive_requests: Option<i64>,
    /// Timeout, seconds
    pub timeout: Option<i64>,
    /// User
    pub user: Option<String>,
    /// Group
    pub group: Option<String>,
    /// PidFile
    pub pid_file: Option<PathBuf>,
}

/// Everything a server needs to run, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// The MPM limits.
    pub limits: Limits,
    /// The addresses to listen on.
    pub listen: Vec<ListenSpec>,
    /// KeepAlive.
    pub keep_alive: bool,
    /// KeepAliveTimeout.
    pub keep_alive_timeout: Duration,
    /// MaxKeepAliveRequests (0 = unlimited).
    pub max_keep_alive_requests: u32,
    /// Timeout.
    pub timeout: Duration,
    /// User to run children as (only applied when started as root).
    pub user: Option<String>,
    /// Group to run children as.
    pub group: Option<String>,
    /// PidFile path.
    pub pid_file: Option<PathBuf>,
    /// Warnings of validation.
    pub warnings: Vec<Warning>,
    /// One-line notices (deprecated aliases, directives accepted but without effect here).
    pub notices: Vec<String>,
}

impl ServerConfig {
    /// Load and validate an httpd-syntax file for `kind`.
    pub fn from_file(
        path: &Path,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let _ = (path, kind, retained);
        unimplemented!("config helper")
    }

    /// Validate directives that came from code or serde.
    pub fn from_directives(
        d: &Directives,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let _ = (d, kind, retained);
        unimplemented!("config helper")
    }

    /// The values that must survive restarts.
    pub fn retained(&self) -> Retained {
        Retained {
            server_limit: self.limits.server_limit,
            thread_limit: self.limits.thread_limit,
        }
    }
}
