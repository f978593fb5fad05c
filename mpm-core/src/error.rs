//! Errors a user of mpm can meet.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One problem in a configuration, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the directive came from (`None` when built from code or serde).
    pub file: Option<PathBuf>,
    /// 1-based line number in `file`.
    pub line: Option<usize>,
    /// The directive as the user spelled it (empty for syntax errors outside a directive).
    pub directive: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{}: ", file.display(), line)?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            _ => {}
        }
        if !self.directive.is_empty() {
            write!(f, "{}: ", self.directive)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one configuration (loading goes on after the first one so the
/// user sees them all at once).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

/// The errors of running a server.
///
/// Its `Debug` is its message (with the OS error's), so `fn main() -> Result<(), Error>`
/// and `?` print a readable line rather than a structure dump:
///
/// ```
/// let e = mpm_core::Error::NoListeners;
/// assert_eq!(format!("{e:?}"), "no listening sockets available, shutting down");
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// A listening socket could not be opened.
    #[error("could not bind to address {addr}: {source}")]
    Bind {
        /// The address from the `Listen` directive.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// No listening socket was configured or adopted.
    #[error("no listening sockets available, shutting down")]
    NoListeners,
    /// Inherited sockets (`LISTEN_FDS`) were malformed.
    #[error("socket activation: {0}")]
    SocketActivation(String),
    /// The shared-memory scoreboard could not be created.
    #[error("unable to create or access scoreboard: {0}")]
    Scoreboard(io::Error),
    /// The strategy does not serve this kind of handler (checked before any fork).
    #[error("the {mpm} MPM cannot serve this handler: {reason}")]
    UnsupportedHandler {
        /// The strategy's name.
        mpm: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// The `User` or `Group` could not be resolved or assumed.
    #[error("{0}")]
    Privileges(String),
    /// The PidFile could not be written, read or used.
    #[error("PidFile {path}: {source}")]
    PidFile {
        /// The PidFile path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// `ErrorLog`'s file could not be opened.
    #[error("could not open error log file {}: {source}", path.display())]
    ErrorLog {
        /// The ErrorLog path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call or action that failed.
        call: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Any other I/O error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// Wrap an errno from a named system call.
    pub fn sys(call: &'static str, errno: nix::errno::Errno) -> Self {
        Error::Sys {
            call,
            source: io::Error::from_raw_os_error(errno as i32),
        }
    }
}

/// The result type of mpm.
pub type Result<T, E = Error> = std::result::Result<T, E>;
