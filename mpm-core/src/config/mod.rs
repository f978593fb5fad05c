//! Configuration: Apache's httpd syntax, serde, and a builder.
//!
//! Three ways in, one validation ([`validate`]):
//!
//! * [`ServerConfig::from_file`] / [`ServerConfig::from_config_str`]: Apache's syntax, with
//!   `<IfModule>` / `<IfDefine>` sections, `Include` / `IncludeOptional`, quotes, `\`
//!   continuations and case-insensitive directive names (see [`parser`] and [`directives`]);
//! * [`ServerConfig::from_directives`]: a [`Directives`] value from serde or code;
//! * [`ServerConfig::builder`]: a typed builder.
//!
//! Every error of a file is reported at once ([`ConfigErrors`]), each naming the file, the
//! line and the directive as spelled.

mod builder;
pub mod directives;
mod lexer;
pub mod parser;
pub mod reqtimeout;
mod source;
mod summary;
mod validate;

pub use builder::ConfigBuilder;
pub use directives::check_directives;
pub use reqtimeout::{EffectiveReadTimeouts, ReadTimeouts, StageTimeout};
pub use source::{CommandLine, ConfigSource};
pub use validate::validate;

use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use crate::limits::{Limits, Retained, Warning};
use crate::listen::ListenSpec;
use crate::log::LogLevel;
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
    /// LimitRequestLine, bytes (at least 1)
    pub limit_request_line: Option<i64>,
    /// LimitRequestFieldSize, bytes (at least 1)
    pub limit_request_field_size: Option<i64>,
    /// LimitRequestFields; 0 = unlimited
    pub limit_request_fields: Option<i64>,
    /// LimitRequestBody, bytes; 0 = unlimited (default [`DEFAULT_LIMIT_REQUEST_BODY`])
    pub limit_request_body: Option<i64>,
    /// HandlerTimeout, seconds; 0 = none (ours, as gunicorn's `timeout`)
    pub handler_timeout: Option<i64>,
    /// MaxConnectionsPerChildJitter (ours, as gunicorn's `max_requests_jitter`)
    pub max_connections_per_child_jitter: Option<i64>,
    /// RequestReadTimeout (mod_reqtimeout): per stage, unset stages keep their defaults
    pub request_read_timeout: Option<ReadTimeouts>,
    /// ErrorLog: a file (unset: stderr); honoured by [`crate::log::install`]
    pub error_log: Option<PathBuf>,
    /// LogLevel (unset: warn); honoured by [`crate::log::install`]
    pub log_level: Option<LogLevel>,
    /// SSLEngine on|off (mod_ssl; server-wide): `on` makes every listener speak TLS,
    /// `off` none; unset: the listeners whose `Listen` says `https`
    #[serde(rename = "SSLEngine")]
    pub ssl_engine: Option<bool>,
    /// SSLCertificateFile: PEM certificate chain, leaf first
    #[serde(rename = "SSLCertificateFile")]
    pub ssl_certificate_file: Option<PathBuf>,
    /// SSLCertificateKeyFile: PEM private key
    #[serde(rename = "SSLCertificateKeyFile")]
    pub ssl_certificate_key_file: Option<PathBuf>,
    /// SSLProtocol, its words (`all -TLSv1.2`; see [`crate::tls::TlsVersions::parse`])
    #[serde(rename = "SSLProtocol")]
    pub ssl_protocol: Option<Vec<String>>,
    /// Protocols (`h2 h2c http/1.1`; unset: `http/1.1`)
    pub protocols: Option<Vec<String>>,
    /// H2MaxSessionStreams (mod_http2; default 100)
    pub h2_max_session_streams: Option<i64>,
    /// H2WindowSize, bytes (mod_http2; default 65535)
    pub h2_window_size: Option<i64>,
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
    /// LimitRequestLine: longest request line, bytes.
    #[serde(default = "default_limit_request_line")]
    pub limit_request_line: u32,
    /// LimitRequestFieldSize: longest header field, bytes.
    #[serde(default = "default_limit_request_field_size")]
    pub limit_request_field_size: u32,
    /// LimitRequestFields: most header fields (0 = unlimited).
    #[serde(default = "default_limit_request_fields")]
    pub limit_request_fields: u32,
    /// LimitRequestBody: largest request body, bytes (0 = unlimited for streamed bodies;
    /// buffered handlers are also capped by [`crate::http::DEFAULT_MAX_BODY`]).
    #[serde(default = "default_limit_request_body")]
    pub limit_request_body: u64,
    /// RequestReadTimeout, defaults filled in.
    #[serde(default)]
    pub request_read_timeout: EffectiveReadTimeouts,
    /// HandlerTimeout: a handler running longer gets its child recycled (`None` = never).
    #[serde(default)]
    pub handler_timeout: Option<Duration>,
    /// MaxConnectionsPerChildJitter: each child adds a random 0..=N to
    /// MaxConnectionsPerChild (when that is non-zero).
    #[serde(default)]
    pub max_connections_per_child_jitter: u64,
    /// ErrorLog: where [`crate::log::install`] writes (`None`: stderr).
    #[serde(default)]
    pub error_log: Option<PathBuf>,
    /// LogLevel: the least severe level [`crate::log::install`] writes (default warn).
    #[serde(default)]
    pub log_level: LogLevel,
    /// TLS (mod_ssl's directives), when some listener speaks it.
    #[serde(default)]
    pub tls: Option<crate::tls::TlsSettings>,
    /// `Protocols` and mod_http2's limits.
    #[serde(default)]
    pub http2: Http2Settings,
    /// The certificate and key [`ServerConfig::tls`] names, loaded when the configuration
    /// was validated (with the `tls` feature); not serialised.
    #[serde(skip)]
    pub tls_material: crate::tls::TlsMaterial,
    /// Warnings of validation.
    pub warnings: Vec<Warning>,
    /// One-line notices (deprecated aliases, directives accepted but without effect here).
    pub notices: Vec<String>,
}

/// The result of reading configuration text, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// The values of the directives that apply to the MPM.
    pub directives: Directives,
    /// Notices: deprecated aliases and directives accepted without effect.
    pub notices: Vec<String>,
}

/// Read the httpd-syntax file at `path` for `kind`, without validating the limits.
pub fn load_file(path: &Path, kind: MpmKind) -> Result<Loaded, ConfigErrors> {
    let mut p = parser::Parser::new(kind);
    p.read_file(path);
    finish(kind, p)
}

/// Read httpd-syntax `text` for `kind`; `origin` names it in errors and is where relative
/// `Include`s are resolved from (its directory), as if the text were that file.
pub fn load_str(text: &str, origin: &Path, kind: MpmKind) -> Result<Loaded, ConfigErrors> {
    let mut p = parser::Parser::new(kind);
    p.read_text_as(text, origin);
    finish(kind, p)
}

/// Read what [`CommandLine`] names, for `kind`, without validating the limits.
pub fn load_command_line(c: &CommandLine, kind: MpmKind) -> Result<Loaded, ConfigErrors> {
    let mut p = parser::Parser::new(kind);
    for name in &c.defines {
        p.define(name);
    }
    if !c.before.is_empty() {
        p.read_text(&c.before.join("\n"), Some(Path::new("-C")));
    }
    if let Some(file) = &c.file {
        p.read_file(file);
    }
    if !c.after.is_empty() {
        p.read_text(&c.after.join("\n"), Some(Path::new("-c")));
    }
    finish(kind, p)
}

fn finish(kind: MpmKind, p: parser::Parser) -> Result<Loaded, ConfigErrors> {
    let applied = directives::apply(kind, &p.items);
    if !applied.errors.is_empty() {
        return Err(ConfigErrors(applied.errors));
    }
    Ok(Loaded {
        directives: applied.directives,
        notices: applied.notices,
    })
}

impl ServerConfig {
    /// Load and validate an httpd-syntax file for `kind`.
    ///
    /// `retained` is `Some` on a restart: ServerLimit and ThreadLimit then keep their
    /// retained values (with Apache's warning).
    pub fn from_file(
        path: &Path,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let loaded = load_file(path, kind)?;
        Self::from_loaded(loaded, kind, retained)
    }

    /// Load and validate httpd-syntax `text` as if it were the file `origin`.
    pub fn from_config_str(
        text: &str,
        origin: &Path,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let loaded = load_str(text, origin, kind)?;
        Self::from_loaded(loaded, kind, retained)
    }

    /// Validate what [`load_file`] or [`load_str`] read.
    pub fn from_loaded(
        loaded: Loaded,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let mut config = Self::from_directives(&loaded.directives, kind, retained)?;
        config.notices = loaded.notices;
        Ok(config)
    }

    /// Validate directives that came from code or serde (errors carry no file).
    pub fn from_directives(
        d: &Directives,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let validated = validate(kind, d, retained)?;
        let (tls, tls_material) = tls_settings(d)?;
        let count = |v: Option<i64>, default: u32| {
            v.map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        let secs = |v: Option<i64>, default: u64| {
            Duration::from_secs(v.map_or(default, |v| u64::try_from(v).unwrap_or(0)))
        };
        Ok(ServerConfig {
            limits: validated.limits,
            listen: d.listen.clone(),
            keep_alive: d.keep_alive.unwrap_or(true),
            keep_alive_timeout: secs(d.keep_alive_timeout, DEFAULT_KEEP_ALIVE_TIMEOUT),
            max_keep_alive_requests: d
                .max_keep_alive_requests
                .map_or(DEFAULT_MAX_KEEP_ALIVE_REQUESTS, |v| {
                    u32::try_from(v).unwrap_or(u32::MAX)
                }),
            timeout: secs(d.timeout, DEFAULT_TIMEOUT),
            user: d.user.clone(),
            group: d.group.clone(),
            pid_file: d.pid_file.clone(),
            limit_request_line: count(d.limit_request_line, DEFAULT_LIMIT_REQUEST_LINE),
            limit_request_field_size: count(
                d.limit_request_field_size,
                DEFAULT_LIMIT_REQUEST_FIELD_SIZE,
            ),
            limit_request_fields: count(d.limit_request_fields, DEFAULT_LIMIT_REQUEST_FIELDS),
            limit_request_body: match d.limit_request_body {
                None => DEFAULT_LIMIT_REQUEST_BODY,
                Some(v) => u64::try_from(v).unwrap_or(DEFAULT_LIMIT_REQUEST_BODY),
            },
            request_read_timeout: d.request_read_timeout.unwrap_or_default().effective(),
            handler_timeout: d
                .handler_timeout
                .filter(|&s| s > 0)
                .map(|s| Duration::from_secs(s.unsigned_abs())),
            max_connections_per_child_jitter: d
                .max_connections_per_child_jitter
                .map_or(0, |j| j.unsigned_abs()),
            error_log: d.error_log.clone(),
            log_level: d.log_level.unwrap_or_default(),
            tls,
            tls_material,
            http2: http2_settings(d, kind)?,
            warnings: validated.warnings,
            notices: Vec::new(),
        })
    }

    /// A typed builder for configuration written in code.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The values that must survive restarts.
    pub fn retained(&self) -> Retained {
        Retained {
            server_limit: self.limits.server_limit,
            thread_limit: self.limits.thread_limit,
        }
    }
}

/// `Protocols` and mod_http2's limits, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Http2Settings {
    /// `h2`: HTTP/2 over TLS, chosen by ALPN (RFC 9113 §3.2).
    pub h2: bool,
    /// `h2c`: HTTP/2 in cleartext with prior knowledge (RFC 9113 §3.3).
    pub h2c: bool,
    /// `http/1.1`.
    pub http11: bool,
    /// `H2MaxSessionStreams`: concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS).
    pub max_session_streams: u32,
    /// `H2WindowSize`: each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE), so the
    /// request data a connection buffers is at most this × `max_session_streams`.
    pub window_size: u32,
}

impl Default for Http2Settings {
    /// Apache's: `Protocols http/1.1`, 100 streams, a 65535-byte window.
    fn default() -> Self {
        Http2Settings {
            h2: false,
            h2c: false,
            http11: true,
            max_session_streams: 100,
            window_size: 65_535,
        }
    }
}

fn http2_settings(d: &Directives, kind: MpmKind) -> Result<Http2Settings, ConfigErrors> {
    let mut s = Http2Settings::default();
    if let Some(words) = &d.protocols {
        s.http11 = false;
        for w in words {
            match w.to_ascii_lowercase().as_str() {
                "h2" => s.h2 = true,
                "h2c" => s.h2c = true,
                "http/1.1" => s.http11 = true,
                _ => {
                    return Err(tls_error(
                        "Protocols",
                        format!("Protocols: unknown protocol '{w}' (h2, h2c, http/1.1)"),
                    ))
                }
            }
        }
        if !s.http11 {
            return Err(tls_error(
                "Protocols",
                "Protocols without http/1.1 is not supported: every connection starts as HTTP/1.1 or h2".to_string(),
            ));
        }
    }
    if let Some(n) = d.h2_max_session_streams {
        s.max_session_streams = u32::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
            tls_error(
                "H2MaxSessionStreams",
                format!("H2MaxSessionStreams must be at least 1, not {n}"),
            )
        })?;
    }
    if let Some(n) = d.h2_window_size {
        // RFC 9113 §6.9.1: at most 2^31-1.
        s.window_size = u32::try_from(n)
            .ok()
            .filter(|&n| (1024..=0x7fff_ffff).contains(&n))
            .ok_or_else(|| {
                tls_error(
                    "H2WindowSize",
                    format!("H2WindowSize must be 1024 to 2147483647, not {n}"),
                )
            })?;
    }
    let _ = kind;
    Ok(s)
}

fn tls_error(directive: &str, message: String) -> ConfigErrors {
    ConfigErrors(vec![crate::error::ConfigError {
        file: None,
        line: None,
        directive: directive.to_string(),
        message,
    }])
}

/// The TLS settings the directives ask for, with the certificate and key loaded (feature
/// `tls`); `None` when no listener speaks TLS.
fn tls_settings(
    d: &Directives,
) -> Result<(Option<crate::tls::TlsSettings>, crate::tls::TlsMaterial), ConfigErrors> {
    let none = || (None, crate::tls::TlsMaterial::default());
    let https = d.listen.iter().find(|l| l.https);
    let wanted = match d.ssl_engine {
        Some(false) => {
            if let Some(l) = https {
                return Err(tls_error(
                    "Listen",
                    format!("Listen {l}: TLS listener with SSLEngine off"),
                ));
            }
            false
        }
        Some(true) => true,
        None => https.is_some(),
    };
    if !wanted {
        return Ok(none());
    }
    if !crate::tls::COMPILED_IN {
        return Err(tls_error(
            if https.is_some() {
                "Listen"
            } else {
                "SSLEngine"
            },
            "TLS is not compiled in (cargo feature `tls`)".to_string(),
        ));
    }
    let (Some(cert), Some(key)) = (&d.ssl_certificate_file, &d.ssl_certificate_key_file) else {
        let missing = if d.ssl_certificate_file.is_none() {
            "SSLCertificateFile"
        } else {
            "SSLCertificateKeyFile"
        };
        return Err(tls_error(
            missing,
            format!("{missing} is required: a listener speaks TLS"),
        ));
    };
    let versions = match &d.ssl_protocol {
        Some(words) => {
            crate::tls::TlsVersions::parse(words).map_err(|m| tls_error("SSLProtocol", m))?
        }
        None => crate::tls::TlsVersions::default(),
    };
    let settings = crate::tls::TlsSettings {
        certificate_file: cert.clone(),
        certificate_key_file: key.clone(),
        versions,
        all_listeners: d.ssl_engine == Some(true),
    };
    #[cfg(feature = "tls")]
    let material =
        crate::tls::TlsMaterial::load(&settings).map_err(|(dir, m)| tls_error(dir, m))?;
    #[cfg(not(feature = "tls"))]
    let material = crate::tls::TlsMaterial::default();
    Ok((Some(settings), material))
}

/// DEFAULT_TIMEOUT, seconds.
pub const DEFAULT_TIMEOUT: u64 = 60;
/// DEFAULT_KEEPALIVE_TIMEOUT, seconds.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: u64 = 5;
/// DEFAULT_KEEPALIVE (MaxKeepAliveRequests).
pub const DEFAULT_MAX_KEEP_ALIVE_REQUESTS: u32 = 100;
/// LimitRequestLine's default (Apache's DEFAULT_LIMIT_REQUEST_LINE).
pub const DEFAULT_LIMIT_REQUEST_LINE: u32 = 8190;
/// LimitRequestFieldSize's default (Apache's DEFAULT_LIMIT_REQUEST_FIELDSIZE).
pub const DEFAULT_LIMIT_REQUEST_FIELD_SIZE: u32 = 8190;
/// LimitRequestFields' default (Apache's DEFAULT_LIMIT_REQUEST_FIELDS).
pub const DEFAULT_LIMIT_REQUEST_FIELDS: u32 = 100;
/// LimitRequestBody when unset: 1 GiB, Apache's default since 2.4.53. Streamed bodies
/// are held to it as they arrive; 0 means unlimited.
pub const DEFAULT_LIMIT_REQUEST_BODY: u64 = 1 << 30;

fn default_limit_request_line() -> u32 {
    DEFAULT_LIMIT_REQUEST_LINE
}
fn default_limit_request_field_size() -> u32 {
    DEFAULT_LIMIT_REQUEST_FIELD_SIZE
}
fn default_limit_request_fields() -> u32 {
    DEFAULT_LIMIT_REQUEST_FIELDS
}
fn default_limit_request_body() -> u64 {
    DEFAULT_LIMIT_REQUEST_BODY
}
