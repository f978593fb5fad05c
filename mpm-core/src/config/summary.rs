//! The effective-limits text `httpd -t` prints before `Syntax OK`.

use super::ServerConfig;
use crate::rules::Family;
use std::fmt::Write;

impl ServerConfig {
    /// Every effective limit, one `Name: value` per line (no trailing newline), including
    /// the values Apache derives: the children started (StartServers after the cap), the
    /// maximum number of children (`max_daemons`), and the scoreboard size.
    ///
    /// Spare bounds are in processes for prefork and in threads for worker/event, as the
    /// directives are. Durations are in whole seconds.
    pub fn summary(&self) -> String {
        let l = &self.limits;
        let mut lines: Vec<(&str, String)> = vec![
            ("Server MPM", l.kind.name().to_string()),
            ("StartServers", l.start_servers.to_string()),
            ("Children started", l.start_servers.to_string()),
            ("Maximum children", l.max_daemons.to_string()),
            ("ServerLimit", l.server_limit.to_string()),
            ("ThreadLimit", l.thread_limit.to_string()),
            ("ThreadsPerChild", l.threads_per_child.to_string()),
            ("MaxRequestWorkers", l.max_request_workers.to_string()),
            (
                "Scoreboard slots",
                format!("{} x {}", l.server_limit, l.thread_limit),
            ),
        ];
        let rules = l.kind.rules();
        if rules.takes(Family::ProcessSpares) {
            lines.push(("MinSpareServers", l.min_spare_servers.to_string()));
            lines.push(("MaxSpareServers", l.max_spare_servers.to_string()));
        }
        if rules.takes(Family::Threads) {
            lines.push(("MinSpareThreads", l.min_spare_threads.to_string()));
            lines.push(("MaxSpareThreads", l.max_spare_threads.to_string()));
        }
        if rules.takes(Family::AsyncConnections) {
            lines.push((
                "AsyncRequestWorkerFactor",
                l.async_request_worker_factor.to_string(),
            ));
        }
        lines.extend([
            (
                "MaxConnectionsPerChild",
                l.max_connections_per_child.to_string(),
            ),
            (
                "GracefulShutdownTimeout",
                l.graceful_shutdown_timeout.as_secs().to_string(),
            ),
            ("ListenBacklog", l.listen_backlog.to_string()),
        ]);
        for spec in &self.listen {
            lines.push(("Listen", spec.to_string()));
        }
        lines.extend([
            (
                "KeepAlive",
                if self.keep_alive { "On" } else { "Off" }.to_string(),
            ),
            (
                "KeepAliveTimeout",
                self.keep_alive_timeout.as_secs().to_string(),
            ),
            (
                "MaxKeepAliveRequests",
                self.max_keep_alive_requests.to_string(),
            ),
            ("Timeout", self.timeout.as_secs().to_string()),
            ("LimitRequestLine", self.limit_request_line.to_string()),
            (
                "LimitRequestFieldSize",
                self.limit_request_field_size.to_string(),
            ),
            ("LimitRequestFields", self.limit_request_fields.to_string()),
            ("LimitRequestBody", self.limit_request_body.to_string()),
            (
                "HandlerTimeout",
                self.handler_timeout.map_or(0, |d| d.as_secs()).to_string(),
            ),
            (
                "MaxConnectionsPerChildJitter",
                self.max_connections_per_child_jitter.to_string(),
            ),
            (
                "RequestReadTimeout",
                format!(
                    "header={} body={}",
                    self.request_read_timeout.header.display(),
                    self.request_read_timeout.body.display()
                ),
            ),
        ]);
        if let Some(user) = &self.user {
            lines.push(("User", user.clone()));
        }
        if let Some(group) = &self.group {
            lines.push(("Group", group.clone()));
        }
        if let Some(pid) = &self.pid_file {
            lines.push(("PidFile", pid.display().to_string()));
        }
        let mut out = String::new();
        for (i, (name, value)) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = write!(out, "{name}: {value}");
        }
        out
    }
}
