//! Apache's command line, as far as it concerns a process manager.

use clap::Parser;
use std::path::PathBuf;

/// An Apache-like HTTP server on mpm.
#[derive(Parser, Debug)]
#[command(name = "httpd", version, disable_version_flag = true)]
pub struct Cli {
    /// Configuration file (Apache httpd syntax).
    #[arg(short = 'f', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Test the configuration: print the effective limits and warnings, then `Syntax OK`.
    #[arg(short = 't')]
    pub test_config: bool,
    /// Print the build and MPM settings.
    #[arg(short = 'V')]
    pub version_info: bool,
    /// Signal a running server: start, stop, restart, graceful, graceful-stop.
    #[arg(short = 'k', value_name = "COMMAND")]
    pub command: Option<String>,
    /// The MPM to use among those compiled in (prefork, worker, event).
    #[arg(long = "mpm", value_name = "NAME")]
    pub mpm: Option<String>,
    /// A directive processed before the configuration file (repeatable), as Apache's
    /// `-C "Listen 127.0.0.1:8081"`.
    #[arg(short = 'C', value_name = "DIRECTIVE")]
    pub before: Vec<String>,
    /// A directive processed after the configuration file (repeatable).
    #[arg(short = 'c', value_name = "DIRECTIVE")]
    pub after: Vec<String>,
    /// Define NAME for `<IfDefine NAME>` sections (repeatable).
    #[arg(short = 'D', value_name = "NAME")]
    pub defines: Vec<String>,
    /// Where the server's log goes (appended to) instead of stderr; for `-k start` and
    /// a start by `-k restart|graceful`, the detached server's log.
    #[arg(short = 'E', value_name = "FILE")]
    pub error_log: Option<PathBuf>,
    /// Log level at startup, Apache's names (emerg … warn, notice, info, debug, trace1-8);
    /// the same as `--log-level`.
    #[arg(short = 'e', value_name = "LEVEL", conflicts_with = "log_level")]
    pub startup_level: Option<String>,
    /// Log level (error, warn, info, debug, trace); default info.
    #[arg(long = "log-level", value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// The kind of handler the routes are served through (`tower` needs the `tower`
    /// feature).
    #[arg(long = "handler", value_enum, default_value = "stream")]
    pub handler: crate::routes::Kind,
    /// The same as `--handler async` (kept for existing scripts).
    #[arg(long = "async-handler", hide = true)]
    pub async_handler: bool,
    /// Serve the routes the integration tests use (/pid, /sleep?ms=N, /panic, /abort).
    #[arg(long = "test-routes", hide = true)]
    pub test_routes: bool,
}

impl Cli {
    /// The level asked with `-e` or `--log-level`.
    pub fn level(&self) -> Option<&str> {
        self.startup_level.as_deref().or(self.log_level.as_deref())
    }
}
