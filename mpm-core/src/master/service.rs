//! What the master tells the outside: readiness and status for the service manager,
//! and the binary upgrade on SIGUSR2.

use super::Master;
use crate::scoreboard::WorkerStatus;
use crate::upgrade::Upgrade;

impl Master<'_> {
    pub(super) fn start_upgrade(&mut self) {
        if let Some(up) = &self.upgrade {
            tracing::warn!("upgrade: already in progress (new master {})", up.pid);
            return;
        }
        let Some(inv) = self.invocation.clone() else {
            tracing::error!("upgrade: cannot tell which executable this master runs");
            return;
        };
        let pid_file = self.pid_file.as_ref().map(|p| p.path().to_path_buf());
        match Upgrade::start(&inv, &self.listeners, pid_file.as_deref()) {
            Ok(up) => {
                tracing::info!(
                    "SIGUSR2 received.  Starting {} as pid {} with {} inherited listeners",
                    inv.exe.display(),
                    up.pid,
                    self.listeners.len()
                );
                self.upgrade = Some(up);
            }
            Err(e) => tracing::error!("upgrade: cannot start {}: {e}", inv.exe.display()),
        }
    }

    /// Whether some current-generation worker is waiting for connections.
    pub(super) fn any_worker_ready(&self) -> bool {
        let tpc = self.config.limits.threads_per_child as usize;
        self.children.iter().map(|(_, c)| c).any(|c| {
            c.generation == self.generation
                && (0..tpc)
                    .any(|t| self.scoreboard.worker(c.slot, t).status() == WorkerStatus::Ready)
        })
    }

    /// One line for the service manager: generation, children, busy and idle workers.
    pub(super) fn status_line(&self) -> String {
        let tpc = self.config.limits.threads_per_child as usize;
        let (mut busy, mut idle) = (0usize, 0usize);
        for c in self.children.iter().map(|(_, c)| c) {
            for t in 0..tpc {
                match self.scoreboard.worker(c.slot, t).status() {
                    WorkerStatus::Ready => idle += 1,
                    WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::Graceful => {}
                    _ => busy += 1,
                }
            }
        }
        format!(
            "generation {}, {} children, {busy} busy and {idle} idle workers",
            self.generation,
            self.children.len()
        )
    }
}
