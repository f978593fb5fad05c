//! Where the configuration comes from, so a restart can read it again.

use super::{Directives, ServerConfig};
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
