//! Commanding a running master: from code, from another process, or from `httpd -k`.

use crate::error::{Error, Result};
use crate::pidfile;
use crate::sys::process;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::path::Path;

/// A lifecycle command, with Apache's signal for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Stop now (SIGTERM): in-flight connections are aborted.
    Stop,
    /// Restart (SIGHUP): children killed, config re-read, scoreboard reset.
    Restart,
    /// Graceful restart (SIGUSR1): new generation, old children finish their connections.
    GracefulRestart,
    /// Graceful stop (SIGWINCH): stop accepting, drain, bounded by GracefulShutdownTimeout.
    GracefulStop,
    /// Binary upgrade (SIGUSR2): start the executable again with the listeners inherited;
    /// once it is ready, this master drains and exits (see `crate::upgrade`).
    Upgrade,
    /// Raise the spare-capacity targets by one child's worth (SIGTTIN, as gunicorn):
    /// MinSpare and MaxSpare Servers (prefork) or Threads (+ThreadsPerChild).
    MoreSpares,
    /// Lower them by one child's worth (SIGTTOU), never below one idle unit.
    FewerSpares,
}

impl Command {
    /// The signal the master reacts to.
    pub fn signal(self) -> Signal {
        match self {
            Command::Stop => Signal::SIGTERM,
            Command::Restart => Signal::SIGHUP,
            Command::GracefulRestart => Signal::SIGUSR1,
            Command::GracefulStop => Signal::SIGWINCH,
            Command::Upgrade => Signal::SIGUSR2,
            Command::MoreSpares => Signal::SIGTTIN,
            Command::FewerSpares => Signal::SIGTTOU,
        }
    }

    /// The command a master signal means, if any (SIGINT also stops).
    pub fn from_signal(sig: Signal) -> Option<Command> {
        match sig {
            Signal::SIGTERM | Signal::SIGINT => Some(Command::Stop),
            Signal::SIGHUP => Some(Command::Restart),
            Signal::SIGUSR1 => Some(Command::GracefulRestart),
            Signal::SIGWINCH => Some(Command::GracefulStop),
            Signal::SIGUSR2 => Some(Command::Upgrade),
            Signal::SIGTTIN => Some(Command::MoreSpares),
            Signal::SIGTTOU => Some(Command::FewerSpares),
            _ => None,
        }
    }

    /// Strength when two commands are pending: stop beats graceful stop beats restart beats
    /// graceful restart (a TERM during a graceful stop makes it a hard stop, as Apache).
    pub fn strength(self) -> u8 {
        match self {
            Command::Upgrade | Command::MoreSpares | Command::FewerSpares => 0,
            Command::GracefulRestart => 1,
            Command::Restart => 2,
            Command::GracefulStop => 3,
            Command::Stop => 4,
        }
    }
}

/// A cloneable handle on a running master. It works from anywhere — the thread that called
/// `run`, a handler inside a child, another program — because it speaks to the master
/// with signals, the way `httpd -k` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    master: Pid,
}

impl Control {
    /// A handle on the master with this pid.
    pub fn for_pid(master: Pid) -> Control {
        Control { master }
    }

    /// A handle on the master named by a PidFile; errors if there is none or it is dead.
    pub fn from_pid_file(path: &Path) -> Result<Control> {
        match pidfile::read(path)? {
            Some(pid) if process::is_alive(pid) => Ok(Control::for_pid(pid)),
            Some(pid) => Err(Error::PidFile {
                path: path.to_path_buf(),
                source: std::io::Error::other(format!("httpd (pid {pid}?) not running")),
            }),
            None => Err(Error::PidFile {
                path: path.to_path_buf(),
                source: std::io::Error::other("httpd (no pid file) not running"),
            }),
        }
    }

    /// The master's pid.
    pub fn pid(&self) -> Pid {
        self.master
    }

    /// Whether the master still exists (and may be signalled by us).
    pub fn is_running(&self) -> bool {
        process::is_alive(self.master)
    }

    /// Send a command.
    pub fn send(&self, cmd: Command) -> Result<()> {
        nix::sys::signal::kill(self.master, cmd.signal()).map_err(|e| Error::sys("kill", e))
    }

    /// [`Command::Stop`].
    pub fn stop(&self) -> Result<()> {
        self.send(Command::Stop)
    }
    /// [`Command::Restart`].
    pub fn restart(&self) -> Result<()> {
        self.send(Command::Restart)
    }
    /// [`Command::GracefulRestart`].
    pub fn graceful_restart(&self) -> Result<()> {
        self.send(Command::GracefulRestart)
    }
    /// [`Command::GracefulStop`].
    pub fn graceful_stop(&self) -> Result<()> {
        self.send(Command::GracefulStop)
    }
    /// [`Command::Upgrade`].
    pub fn upgrade(&self) -> Result<()> {
        self.send(Command::Upgrade)
    }
    /// [`Command::MoreSpares`].
    pub fn more_spares(&self) -> Result<()> {
        self.send(Command::MoreSpares)
    }
    /// [`Command::FewerSpares`].
    pub fn fewer_spares(&self) -> Result<()> {
        self.send(Command::FewerSpares)
    }
}
