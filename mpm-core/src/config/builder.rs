//! A typed builder for configuration written in code.

use super::directives::{field_name, lookup, IntField};
use super::{Directives, ServerConfig, StageTimeout};
use crate::error::{ConfigError, ConfigErrors};
use crate::kind::MpmKind;
use crate::limits::Retained;
use crate::listen::ListenSpec;
use std::path::PathBuf;
use std::time::Duration;

/// Builds a [`ServerConfig`] from typed values; [`ConfigBuilder::build`] validates them
/// exactly as a file would be (defaults, clamping, warnings), with one difference: a
/// setting that does not apply to the strategy (ThreadsPerChild under prefork,
/// MinSpareServers under event, …) is left out with a notice instead of being an error,
/// so the same code runs under every strategy feature. (In a file, Apache's rule stands:
/// it is an error.)
///
/// A builder is also a [`ConfigSource`](super::ConfigSource): hand it to
/// [`Server::new`](crate::Server::new) and it is validated for the server's strategy (and
/// again at every restart).
///
/// ```
/// # use mpm_core::{config::ServerConfig, MpmKind};
/// let builder = ServerConfig::builder()
///     .start_servers(2)
///     .threads_per_child(10)
///     .listen("127.0.0.1:0");
/// let event = builder.clone().build(MpmKind::Event)?;
/// assert_eq!(event.limits.threads_per_child, 10);
/// let prefork = builder.build(MpmKind::Prefork)?;
/// assert_eq!(prefork.notices, ["ThreadsPerChild 10 does not apply to the prefork MPM: left out"]);
/// # Ok::<(), mpm_core::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    directives: Directives,
    retained: Option<Retained>,
    errors: Vec<ConfigError>,
}

macro_rules! count_setter {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        pub fn $name(mut self, value: u32) -> Self {
            self.directives.$name = Some(i64::from(value));
            self
        }
    )*};
}

impl ConfigBuilder {
    count_setter! {
        /// StartServers.
        start_servers,
        /// ServerLimit.
        server_limit,
        /// MinSpareServers (prefork).
        min_spare_servers,
        /// MaxSpareServers (prefork).
        max_spare_servers,
        /// MinSpareThreads (worker, event).
        min_spare_threads,
        /// MaxSpareThreads (worker, event).
        max_spare_threads,
        /// ThreadsPerChild (worker, event).
        threads_per_child,
        /// ThreadLimit (worker, event).
        thread_limit,
        /// MaxRequestWorkers.
        max_request_workers,
        /// MaxConnectionsPerChild; 0 = unlimited.
        max_connections_per_child,
        /// MaxKeepAliveRequests; 0 = unlimited.
        max_keep_alive_requests,
        /// ListenBacklog (must be > 0).
        listen_backlog,
        /// LimitRequestLine, bytes (at least 1).
        limit_request_line,
        /// LimitRequestFieldSize, bytes (at least 1).
        limit_request_field_size,
        /// LimitRequestFields; 0 = unlimited.
        limit_request_fields,
    }

    /// LimitRequestBody, bytes; 0 = unlimited (streamed bodies).
    pub fn limit_request_body(mut self, value: u64) -> Self {
        self.directives.limit_request_body = Some(i64::try_from(value).unwrap_or(i64::MAX));
        self
    }

    /// RequestReadTimeout's head stage (`header=…`).
    pub fn header_read_timeout(mut self, stage: StageTimeout) -> Self {
        let mut t = self.directives.request_read_timeout.unwrap_or_default();
        t.header = Some(stage);
        self.directives.request_read_timeout = Some(t);
        self
    }

    /// RequestReadTimeout's body stage (`body=…`).
    pub fn body_read_timeout(mut self, stage: StageTimeout) -> Self {
        let mut t = self.directives.request_read_timeout.unwrap_or_default();
        t.body = Some(stage);
        self.directives.request_read_timeout = Some(t);
        self
    }

    /// AsyncRequestWorkerFactor (event; a positive number).
    pub fn async_request_worker_factor(mut self, value: f64) -> Self {
        self.directives.async_request_worker_factor = Some(value);
        self
    }

    /// KeepAlive.
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.directives.keep_alive = Some(on);
        self
    }

    /// KeepAliveTimeout (whole seconds; a fraction is an error).
    pub fn keep_alive_timeout(mut self, value: Duration) -> Self {
        self.directives.keep_alive_timeout = self.seconds("KeepAliveTimeout", value);
        self
    }

    /// Timeout (whole seconds; a fraction is an error).
    pub fn timeout(mut self, value: Duration) -> Self {
        self.directives.timeout = self.seconds("Timeout", value);
        self
    }

    /// GracefulShutdownTimeout (whole seconds; zero waits forever).
    pub fn graceful_shutdown_timeout(mut self, value: Duration) -> Self {
        self.directives.graceful_shutdown_timeout = self.seconds("GracefulShutdownTimeout", value);
        self
    }

    /// Add a `Listen` address (`8080`, `127.0.0.1:8080`, `[::1]:8080`); a bad one is
    /// reported by [`ConfigBuilder::build`].
    pub fn listen(mut self, spec: &str) -> Self {
        match spec.parse::<ListenSpec>() {
            Ok(spec) => self.directives.listen.push(spec),
            Err(message) => self.error("Listen", message),
        }
        self
    }

    /// Add an already parsed `Listen` address.
    pub fn listen_spec(mut self, spec: ListenSpec) -> Self {
        self.directives.listen.push(spec);
        self
    }

    /// `SSLCertificateFile` and `SSLCertificateKeyFile`: the PEM certificate chain and its
    /// private key, for the listeners that speak TLS (`listen("… https")`). Loaded and
    /// checked by [`build`](Self::build) (feature `tls`).
    pub fn ssl_certificate(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.directives.ssl_certificate_file = Some(cert.into());
        self.directives.ssl_certificate_key_file = Some(key.into());
        self
    }

    /// `SSLEngine on|off`: on, every listener speaks TLS; off, none.
    pub fn ssl_engine(mut self, on: bool) -> Self {
        self.directives.ssl_engine = Some(on);
        self
    }

    /// `SSLProtocol` as its words, e.g. `"-all +TLSv1.3"`.
    pub fn ssl_protocol(mut self, words: &str) -> Self {
        let words: Vec<String> = words.split_whitespace().map(String::from).collect();
        match crate::tls::TlsVersions::parse(&words) {
            Ok(_) => self.directives.ssl_protocol = Some(words),
            Err(message) => self.error("SSLProtocol", message),
        }
        self
    }

    /// User.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.directives.user = Some(user.into());
        self
    }

    /// Group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.directives.group = Some(group.into());
        self
    }

    /// PidFile.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.directives.pid_file = Some(path.into());
        self
    }

    /// Validate as a restart of a server whose scoreboard was sized by `retained`.
    pub fn retained(mut self, retained: Retained) -> Self {
        self.retained = Some(retained);
        self
    }

    /// The directives set so far.
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// ErrorLog: where [`crate::log::install`] writes (stderr when unset).
    pub fn error_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.directives.error_log = Some(path.into());
        self
    }

    /// LogLevel.
    pub fn log_level(mut self, level: crate::log::LogLevel) -> Self {
        self.directives.log_level = Some(level);
        self
    }

    /// Validate for `kind`; settings of other strategies are left out with a notice.
    pub fn build(self, kind: MpmKind) -> Result<ServerConfig, ConfigErrors> {
        let mut errors = self.errors;
        let mut directives = self.directives;
        let mut notices = Vec::new();
        for field in IntField::ALL {
            let name = field_name(field);
            let applies = lookup(name).is_none_or(|s| s.scope.accepts(kind));
            if !applies {
                if let Some(v) = field.slot(&mut directives).take() {
                    notices.push(format!(
                        "{name} {v} does not apply to the {} MPM: left out",
                        kind.name()
                    ));
                }
            }
        }
        let name = "AsyncRequestWorkerFactor";
        if !lookup(name).is_none_or(|s| s.scope.accepts(kind)) {
            if let Some(v) = directives.async_request_worker_factor.take() {
                notices.push(format!(
                    "{name} {v} does not apply to the {} MPM: left out",
                    kind.name()
                ));
            }
        }
        match ServerConfig::from_directives(&directives, kind, self.retained) {
            Ok(mut config) if errors.is_empty() => {
                config.notices = notices;
                Ok(config)
            }
            Ok(_) => Err(ConfigErrors(errors)),
            Err(more) => {
                errors.extend(more.0);
                Err(ConfigErrors(errors))
            }
        }
    }

    fn seconds(&mut self, directive: &str, value: Duration) -> Option<i64> {
        if value.subsec_nanos() != 0 {
            self.error(
                directive,
                format!("{value:?} is not a whole number of seconds"),
            );
        }
        Some(i64::try_from(value.as_secs()).unwrap_or(i64::MAX))
    }

    fn error(&mut self, directive: &str, message: String) {
        self.errors.push(ConfigError {
            file: None,
            line: None,
            directive: directive.to_string(),
            message,
        });
    }
}
