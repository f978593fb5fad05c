//! Generations and restarts: re-reading the configuration (keeping the old generation
//! when it is invalid), graceful restart (retire every child, start the new generation
//! beside the old), hard restart (reclaim, then start again).

use super::Master;
use crate::config::ServerConfig;
use crate::info::MpmState;
use nix::unistd::Pid;
use std::time::SystemTime;

impl Master<'_> {
    pub(super) fn reload(&self) -> Option<ServerConfig> {
        match self.source.load(self.kind(), Some(self.config.retained())) {
            Ok(config) => {
                for w in &config.warnings {
                    tracing::warn!("{}", w.restart);
                }
                if config.listen != self.config.listen {
                    tracing::warn!(
                        "Listen directives changed: the new addresses take effect only after a full stop and start; still listening on the old ones"
                    );
                }
                Some(config)
            }
            Err(e) => {
                tracing::error!(
                    "configuration error at restart, keeping generation {} running:\n{e}",
                    self.generation
                );
                None
            }
        }
    }

    pub(super) fn apply(&mut self, mut config: ServerConfig) {
        // Listeners stay as bound at start (see reload); the rest takes effect now.
        config.listen = self.config.listen.clone();
        self.config = config;
        self.generation += 1;
        self.scoreboard.set_generation(self.generation);
        self.scoreboard
            .set_config_generation(self.scoreboard.config_generation() + 1);
        self.rotate_ticket_keys();
    }

    pub(super) fn graceful_restart(&mut self) {
        tracing::info!("SIGUSR1 received.  Doing graceful restart");
        self.notifier.reloading();
        let Some(config) = self.reload() else {
            let status = self.status_line();
            self.notifier.ready(&status);
            return;
        };
        self.apply(config);
        self.scoreboard.set_state(MpmState::Starting);
        self.scoreboard.count_graceful_restart();
        let old: Vec<Pid> = self.children.pids();
        for pid in old {
            self.retire(pid);
        }
        // Apache holds the spawn rate for a while after a graceful restart: the new
        // generation's children are still being born.
        self.spares.reset(10);
        let start = self.config.limits.start_servers;
        self.spawn_up_to(start);
        self.ready_sent = false;
    }

    pub(super) fn restart(&mut self) {
        tracing::info!("SIGHUP received.  Attempting to restart");
        self.notifier.reloading();
        self.ready_sent = false;
        self.reclaim();
        if let Some(config) = self.reload() {
            self.apply(config);
        } else {
            self.generation += 1;
            self.scoreboard.set_generation(self.generation);
        }
        self.scoreboard.clear();
        self.scoreboard.set_master_pid(self.pid.as_raw());
        self.scoreboard.set_generation(self.generation);
        self.scoreboard.set_restart_time(SystemTime::now());
        self.scoreboard.set_state(MpmState::Starting);
        self.spares.reset(0);
        let start = self.config.limits.start_servers;
        self.spawn_up_to(start);
    }
}
