//! Logging. mpm only *emits* [`tracing`] events (startup lines, Apache's warnings, crash
//! and HandlerTimeout reports, one line per handler panic); nothing is printed unless the
//! application installs a subscriber. This module is the ready-made one: it honours the
//! `ErrorLog` and `LogLevel` directives ([`ServerConfig::error_log`],
//! [`ServerConfig::log_level`]) and writes Apache's error-log line shape:
//!
//! ```text
//! [Tue Dec 01 02:26:03.123456 2026] [mpm:notice] [pid 4242] listening on 127.0.0.1:8080
//! ```
//!
//! (the date in UTC; `tracing`'s `INFO` is Apache's `notice`, which Apache writes at
//! every `LogLevel`; `LogLevel debug` adds `DEBUG`, `trace1`…`trace8` add `TRACE`).
//!
//! ```
//! use mpm_core::{log, MpmKind, ServerConfig};
//! use std::path::Path;
//!
//! let config = ServerConfig::from_config_str("LogLevel warn\n", Path::new("x.conf"), MpmKind::Event, None)?;
//! assert_eq!(config.log_level, log::LogLevel::Warn);
//! assert_eq!(config.error_log, None); // stderr
//! log::install(&config)?; // once, before `Server::new`
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A subscriber of your own works as well (`tracing_subscriber::fmt::init()`); install one
//! of them before [`Server::new`](crate::Server::new) and before any thread is started
//! (the master must stay single-threaded). The sink is chosen once: a restart that
//! changes `ErrorLog` or `LogLevel` keeps the installed one.

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Apache's `LogLevel` keywords, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// emerg
    Emerg,
    /// alert
    Alert,
    /// crit
    Crit,
    /// error
    Error,
    /// warn (Apache's default)
    #[default]
    Warn,
    /// notice (mpm's startup and restart lines are at this level)
    Notice,
    /// info
    Info,
    /// debug
    Debug,
    /// trace1 … trace8 (all the same to mpm: `tracing`'s TRACE)
    Trace,
}

/// Apache's error for an unknown keyword.
pub const LOG_LEVEL_ERROR: &str = "LogLevel requires level keyword: one of \
     emerg/alert/crit/error/warn/notice/info/debug/trace1/trace2/trace3/trace4/trace5/trace6/trace7/trace8";

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let l = s.to_ascii_lowercase();
        Ok(match l.as_str() {
            "emerg" => LogLevel::Emerg,
            "alert" => LogLevel::Alert,
            "crit" => LogLevel::Crit,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "notice" => LogLevel::Notice,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ if l.len() == 6
                && l.starts_with("trace")
                && (b'1'..=b'8').contains(&l.as_bytes()[5]) =>
            {
                LogLevel::Trace
            }
            _ => return Err(LOG_LEVEL_ERROR.to_string()),
        })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Emerg => "emerg",
            LogLevel::Alert => "alert",
            LogLevel::Crit => "crit",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Notice => "notice",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace8",
        })
    }
}

impl LogLevel {
    /// The most verbose `tracing` level shown at this `LogLevel`. As in Apache, `notice`
    /// lines (`tracing`'s `INFO`: startup, restarts, crashes) are written whatever the
    /// level; `debug` and `trace*` add `DEBUG` and `TRACE`.
    pub fn tracing_level(self) -> tracing::Level {
        match self {
            LogLevel::Emerg
            | LogLevel::Alert
            | LogLevel::Crit
            | LogLevel::Error
            | LogLevel::Warn
            | LogLevel::Notice
            | LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Trace => tracing::Level::TRACE,
        }
    }
}

/// `[Tue Dec 01 02:26:03.123456 2026]`'s inside, for `t` (UTC).
pub fn apache_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02}.{:06} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros(),
        year
    )
}

/// The event formatter: `[date] [mpm:level] [pid N] [span fields] message`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApacheFormat;

impl<S, N> FormatEvent<S, N> for ApacheFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "notice",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace1",
        };
        write!(
            writer,
            "[{}] [mpm:{level}] [pid {}] ",
            apache_time(SystemTime::now()),
            std::process::id()
        )?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "[{} {}] ", span.name(), fields)?;
                    }
                }
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Open `ErrorLog`'s file for appending (creating it), as the sink will.
pub fn open_error_log(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::ErrorLog {
            path: path.to_path_buf(),
            source,
        })
}

/// Install the sink for `config`'s `ErrorLog` (stderr when unset) and `LogLevel` as the
/// global `tracing` subscriber. An error if the file cannot be opened; a no-op if a
/// subscriber is already installed.
pub fn install(config: &ServerConfig) -> Result<()> {
    install_to(config.error_log.as_deref(), config.log_level)
}

/// Install the sink writing to `file` (stderr when `None`) at `level`.
pub fn install_to(file: Option<&Path>, level: LogLevel) -> Result<()> {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level.tracing_level())
        .with_ansi(false)
        .event_format(ApacheFormat);
    let _ = match file {
        Some(path) => {
            let file = open_error_log(path)?;
            builder.with_writer(Mutex::new(file)).try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    Ok(())
}

/// `ErrorLog`'s argument: a file path. Apache's `syslog` and `|program` forms are refused
/// with a message (mpm writes files or stderr only).
pub fn parse_error_log(arg: &str) -> Result<PathBuf, String> {
    if arg.starts_with('|') {
        return Err(format!(
            "ErrorLog {arg}: piped logs are not supported; give a file path (or install your own tracing subscriber)"
        ));
    }
    if arg.eq_ignore_ascii_case("syslog") || arg.to_ascii_lowercase().starts_with("syslog:") {
        return Err(format!(
            "ErrorLog {arg}: syslog is not supported; give a file path (or install your own tracing subscriber)"
        ));
    }
    Ok(PathBuf::from(arg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn apache_dates() {
        let t = UNIX_EPOCH + Duration::from_micros(1_796_082_558_198_777);
        assert_eq!(apache_time(t), "Mon Nov 30 23:49:18.198777 2026");
        assert_eq!(apache_time(UNIX_EPOCH), "Thu Jan 01 00:00:00.000000 1970");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(apache_time(leap), "Tue Feb 29 00:00:00.000000 2000");
    }

    #[test]
    fn levels() {
        assert_eq!("TRACE3".parse::<LogLevel>(), Ok(LogLevel::Trace));
        assert_eq!("notice".parse::<LogLevel>(), Ok(LogLevel::Notice));
        assert_eq!("loud".parse::<LogLevel>(), Err(LOG_LEVEL_ERROR.to_string()));
        assert_eq!(
            "trace9".parse::<LogLevel>(),
            Err(LOG_LEVEL_ERROR.to_string())
        );
        assert_eq!(LogLevel::Notice.tracing_level(), tracing::Level::INFO);
    }
}
