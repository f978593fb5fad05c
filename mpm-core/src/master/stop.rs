//! Stopping: graceful (drain, bounded by GracefulShutdownTimeout) or at once, and the
//! TERM → KILL escalation that reclaims every child.

use super::Master;
use crate::error::Result;
use crate::http::LINGER;
use crate::info::MpmState;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// How long children get, once GracefulShutdownTimeout has passed, to close their idle
/// connections (a lingering close each, up to [`LINGER`]) before the rest is stopped.
const DRAIN_EXPIRED_GRACE: Duration = LINGER.saturating_add(Duration::from_secs(1));

impl Master<'_> {
    /// Stop serving: gracefully (drain, bounded by GracefulShutdownTimeout) or at once;
    /// `why` is logged once `stopping` is published, so whoever reads the line and then
    /// asks a child sees that state.
    pub(super) fn finish(mut self, graceful: bool, why: &str) -> Result<()> {
        self.scoreboard.set_state(MpmState::Stopping);
        tracing::info!("{why}");
        self.notifier.stopping();
        if let Some(up) = self.upgrade.take() {
            tracing::warn!(
                "upgrade: stopping, so the new master {} is stopped too",
                up.pid
            );
            up.abort(false);
        }
        if graceful {
            // New connections are refused once every copy of the listeners is closed: ours
            // now, the children's as each one stops accepting.
            self.listeners.clear();
            let pids: Vec<Pid> = self.children.pids();
            for pid in pids {
                self.retire(pid);
            }
            let limit = self.config.limits.graceful_shutdown_timeout;
            let started = Instant::now();
            let mut deadline = (!limit.is_zero()).then(|| started + limit);
            let mut expired = false;
            while !self.children.is_empty() {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    if expired {
                        tracing::warn!(
                            "GracefulShutdownTimeout of {}s reached, stopping the remaining {} children",
                            limit.as_secs(),
                            self.children.len()
                        );
                        break;
                    }
                    // First the children close their idle connections (those with no
                    // byte of a request waiting: nothing is cut off), and get a moment to
                    // finish them before what is still busy is stopped.
                    expired = true;
                    deadline = Some(Instant::now() + DRAIN_EXPIRED_GRACE);
                    for (_, c) in self.children.iter() {
                        self.scoreboard.process(c.slot).set_drain_expired();
                    }
                }
                self.wait_for_signal(Duration::from_millis(100));
                let stop_now = self
                    .signals
                    .take()
                    .into_iter()
                    .any(|s| matches!(s, Signal::SIGTERM | Signal::SIGINT));
                self.reap();
                if stop_now {
                    tracing::info!("caught SIGTERM, shutting down");
                    break;
                }
            }
        }
        self.reclaim();
        if let Some(p) = self.pid_file.take() {
            p.remove();
        }
        Ok(())
    }

    /// SIGTERM every child and wait, escalating on Apache's schedule: SIGTERM again at 3, 5
    /// and 7 s, SIGKILL at 9 s, give up at 10 s.
    pub(super) fn reclaim(&mut self) {
        let pids: Vec<Pid> = self.children.pids();
        for pid in &pids {
            self.kill(*pid, Signal::SIGTERM);
        }
        let started = Instant::now();
        let mut next_step = 0usize;
        let steps = [3u64, 5, 7, 9, 10];
        while !self.children.is_empty() {
            self.wait_for_signal(Duration::from_millis(50));
            let _ = self.signals.take();
            self.reap();
            if self.children.is_empty() {
                break;
            }
            let elapsed = started.elapsed();
            if next_step < steps.len() && elapsed >= Duration::from_secs(steps[next_step]) {
                let pids: Vec<Pid> = self.children.pids();
                for pid in pids {
                    match steps[next_step] {
                        3 | 5 | 7 => {
                            tracing::warn!(
                                "child process {pid} still did not exit, sending a SIGTERM"
                            );
                            self.kill(pid, Signal::SIGTERM);
                        }
                        9 => {
                            tracing::error!(
                                "child process {pid} still did not exit, sending a SIGKILL"
                            );
                            self.kill(pid, Signal::SIGKILL);
                        }
                        _ => {
                            tracing::error!("could not make child process {pid} exit, attempting to continue anyway");
                            if let Some(c) = self.children.remove(pid) {
                                self.scoreboard.reset_process(c.slot);
                            }
                        }
                    }
                }
                next_step += 1;
            }
        }
    }
}
