//! The embedding API: build a server from a configuration and a strategy, then run it.

pub use crate::config::ConfigSource;
use crate::config::ServerConfig;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::http::Handler;
use crate::listen::{self, BindOptions, Listener};
use crate::master::Master;
use crate::mpm::{Mpm, MpmInfo};
use crate::scoreboard::Scoreboard;
use crate::scoreboard_view::ScoreboardView;
use std::net::SocketAddr;

/// A server ready to run: configuration validated, listeners bound (or adopted from
/// systemd), scoreboard mapped. Nothing is forked until [`Server::run`].
pub struct Server {
    mpm: Box<dyn Mpm>,
    source: ConfigSource,
    config: ServerConfig,
    listeners: Vec<Listener>,
    scoreboard: Scoreboard,
}

impl Server {
    /// Validate the configuration for `mpm`, bind its listeners and create the scoreboard.
    /// `source`: a [`ConfigBuilder`](crate::config::ConfigBuilder), a file's path, a
    /// [`Directives`](crate::Directives) value or any other [`ConfigSource`].
    pub fn new(mpm: Box<dyn Mpm>, source: impl Into<ConfigSource>) -> Result<Server> {
        let source = source.into();
        let kind = mpm.kind();
        let config = source.load(kind, None)?;
        for w in &config.warnings {
            tracing::warn!("{}", w.startup);
        }
        for n in &config.notices {
            tracing::info!("{n}");
        }
        let listeners = match listen::adopt_systemd()? {
            Some(mut adopted) if !adopted.is_empty() => {
                listen::mark_https(&mut adopted, &config.listen);
                adopted
            }
            _ => {
                let opts = BindOptions {
                    backlog: config.limits.listen_backlog,
                    reuse_port: false,
                };
                listen::bind_all(&config.listen, opts)?
            }
        };
        if listeners.is_empty() {
            return Err(Error::NoListeners);
        }
        crate::descriptors::ensure_nofile(&config.limits, listeners.len());
        let scoreboard =
            Scoreboard::create(kind, config.limits.server_limit, config.limits.thread_limit)?;
        Ok(Server {
            mpm,
            source,
            config,
            listeners,
            scoreboard,
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The addresses actually bound (the real port where `:0` was asked).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|l| l.local_addr).collect()
    }

    /// The shared scoreboard, read only (a handle that stays valid in every child).
    pub fn scoreboard(&self) -> ScoreboardView {
        ScoreboardView::new(self.scoreboard.clone())
    }

    /// What `httpd -V` / `ap_mpm_query` report.
    ///
    /// Asked of a server that has not run (`run` consumes it), so `state` is
    /// [`MpmState::Starting`](crate::mpm::MpmState::Starting); once it runs, the master publishes `Running` and `Stopping`
    /// in the scoreboard, where [`ScoreboardView::state`] (from a child or a handler) and
    /// the status page's JSON (`mpm_state`) read it.
    pub fn info(&self) -> MpmInfo {
        self.mpm.info(
            &self.config.limits,
            self.scoreboard.generation(),
            self.scoreboard.state(),
        )
    }

    /// A handle that commands this server once it runs (the master is this process).
    pub fn control(&self) -> Control {
        Control::for_pid(nix::unistd::getpid())
    }

    /// Become the master: fork the children and manage them until stopped. Must be called
    /// from a single-threaded process (checked before every fork).
    pub fn run(self, handler: Handler) -> Result<()> {
        let Server {
            mpm,
            source,
            config,
            listeners,
            scoreboard,
        } = self;
        // Before the PidFile and the first fork, so the error reaches the caller instead of
        // a child exiting fatally.
        mpm.supports(&handler)
            .map_err(|reason| Error::UnsupportedHandler {
                mpm: mpm.kind().name(),
                reason,
            })?;
        let master = Master::new(
            mpm.as_ref(),
            &source,
            config,
            listeners,
            scoreboard,
            handler,
        )?;
        master.run()
    }
}
