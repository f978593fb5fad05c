//! Where the configuration comes from, so a restart can read it again.

use super::{ConfigBuilder, Directives, ServerConfig};
use crate::error::ConfigErrors;
use crate::kind::MpmKind;
use crate::limits::Retained;
use std::path::PathBuf;

/// Where the configuration comes from, so a restart can read it again.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// An httpd-syntax file, re-read at every restart.
    File(PathBuf),
    /// Directives from code or serde, validated again at every restart.
    Directives(Box<Directives>),
    /// Apache's command line around an optional file (`-C`, `-f`, `-c`, `-D`), read again
    /// at every restart.
    CommandLine(Box<CommandLine>),
    /// A typed builder, validated for the server's strategy (settings of other strategies
    /// are left out with a notice), again at every restart.
    Builder(Box<ConfigBuilder>),
}

impl From<ConfigBuilder> for ConfigSource {
    fn from(b: ConfigBuilder) -> Self {
        ConfigSource::Builder(Box::new(b))
    }
}

/// What `httpd -C DIRECTIVE -f FILE -c DIRECTIVE -D NAME` reads: the `before` directives,
/// then the file (if any), then the `after` directives, with `<IfDefine>` true for
/// `defines`. A directive that takes one value keeps the last one read (so `-c` overrides
/// the file, and the file overrides `-C`); `Listen` accumulates. Errors name the option
/// and the argument's position, as `-C:2: Listen: …`.
///
/// ```
/// use mpm_core::config::{CommandLine, ConfigSource};
/// use mpm_core::MpmKind;
///
/// let source = ConfigSource::from(CommandLine {
///     before: vec!["Listen 127.0.0.1:0".into()],
///     after: vec!["<IfDefine SMALL>".into(), "StartServers 1".into(), "</IfDefine>".into()],
///     defines: vec!["SMALL".into()],
///     ..CommandLine::default()
/// });
/// let config = source.load(MpmKind::Event, None)?;
/// assert_eq!(config.limits.start_servers, 1);
/// assert_eq!(config.listen.len(), 1);
/// # Ok::<(), mpm_core::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// `-C`: read before the file.
    pub before: Vec<String>,
    /// `-f`: the file, if any.
    pub file: Option<PathBuf>,
    /// `-c`: read after the file.
    pub after: Vec<String>,
    /// `-D`: names for `<IfDefine>`.
    pub defines: Vec<String>,
}

impl From<CommandLine> for ConfigSource {
    fn from(c: CommandLine) -> Self {
        ConfigSource::CommandLine(Box::new(c))
    }
}

impl ConfigSource {
    /// Load and validate for `kind`.
    pub fn load(
        &self,
        kind: MpmKind,
        retained: Option<Retained>,
    ) -> Result<ServerConfig, ConfigErrors> {
        match self {
            ConfigSource::File(path) => ServerConfig::from_file(path, kind, retained),
            ConfigSource::Directives(d) => ServerConfig::from_directives(d, kind, retained),
            ConfigSource::Builder(b) => {
                let b = match retained {
                    Some(r) => b.as_ref().clone().retained(r),
                    None => b.as_ref().clone(),
                };
                b.build(kind)
            }
            ConfigSource::CommandLine(c) => {
                let loaded = super::load_command_line(c, kind)?;
                ServerConfig::from_loaded(loaded, kind, retained)
            }
        }
    }
}

impl From<Directives> for ConfigSource {
    fn from(d: Directives) -> Self {
        ConfigSource::Directives(Box::new(d))
    }
}

impl From<PathBuf> for ConfigSource {
    fn from(p: PathBuf) -> Self {
        ConfigSource::File(p)
    }
}
