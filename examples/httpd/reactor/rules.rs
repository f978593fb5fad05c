//! The reactor's configuration: StartServers processes (at most ServerLimit), no spare
//! directives, no thread directives.

use mpm::kit::Capability;
use mpm::kit::{check_server_limit, warn_start_servers};
use mpm::kit::{Capabilities, Counts, Defaults, Family, Requested, Retained};
use mpm::kit::{Rules, SpareUnit, WarningLog};
use mpm::MpmKind;

/// The label: `--mpm reactor`, `<IfModule mpm_reactor_module>`.
pub const KIND: MpmKind = MpmKind::new("reactor", "mpm_reactor_module", "reactor.c", &ReactorRules);

/// How many connections one loop is expected to hold at most, for the descriptor
/// estimate (nginx's default `worker_connections` is 512; twice that leaves room).
const CONNECTIONS_PER_LOOP: u64 = 1024;

/// The reactor's [`Rules`].
#[derive(Debug, Clone, Copy)]
pub struct ReactorRules;

impl Rules for ReactorRules {
    /// One process per CPU by default, as nginx's `worker_processes auto`.
    fn defaults(&self) -> Defaults {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
        Defaults {
            start_servers: cpus,
            server_limit: 16.max(cpus),
            max_server_limit: 20_000,
            thread_limit: 1,
            max_thread_limit: 1,
            threads_per_child: 1,
            max_request_workers: cpus,
            min_spare: 0,
            max_spare: 0,
        }
    }

    fn takes(&self, _family: Family) -> bool {
        false
    }

    fn clamp(
        &self,
        d: &Requested,
        def: &Defaults,
        retained: Option<Retained>,
        log: &mut WarningLog,
    ) -> Counts {
        let server_limit = check_server_limit(
            d.server_limit.unwrap_or(def.server_limit),
            def,
            retained,
            log,
        );
        let mut start = d.start_servers.unwrap_or(def.start_servers);
        warn_start_servers(&mut start, log);
        if start > server_limit {
            log.warn(
                "StartServers",
                format!(
                    "WARNING: StartServers of {start} exceeds ServerLimit of {server_limit}, \
                     decreasing to {server_limit}."
                ),
                format!(
                    "StartServers of {start} exceeds ServerLimit of {server_limit}, \
                     decreasing to match"
                ),
            );
            start = server_limit;
        }
        // One loop per process is the unit of work; MaxRequestWorkers does not bound it.
        Counts {
            start_servers: start,
            server_limit,
            thread_limit: 1,
            threads_per_child: 1,
            max_request_workers: start,
            max_daemons: start,
            ..Counts::default()
        }
    }

    fn spare_unit(&self) -> SpareUnit {
        SpareUnit::Processes
    }

    fn connections_per_child(&self, _threads_per_child: u32, _async_factor: f64) -> u64 {
        CONNECTIONS_PER_LOOP
    }

    /// `httpd -V`: not threaded, a fixed number of processes, asynchronous.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            threaded: Capability::No,
            forked: Capability::Fixed,
            is_async: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(conf: &str) -> Result<mpm::ServerConfig, mpm::ConfigErrors> {
        mpm::ServerConfig::from_config_str(conf, Path::new("t.conf"), KIND, None)
    }

    #[test]
    fn start_servers_is_the_fixed_count_capped_by_server_limit() {
        let c = load("StartServers 4\n").unwrap();
        assert_eq!((c.limits.start_servers, c.limits.max_daemons), (4, 4));
        let c = load("ServerLimit 2\nStartServers 5\n").unwrap();
        assert_eq!(c.limits.max_daemons, 2);
        assert_eq!(
            c.warnings[0].startup,
            "WARNING: StartServers of 5 exceeds ServerLimit of 2, decreasing to 2."
        );
    }

    #[test]
    fn spare_and_thread_directives_are_not_ours() {
        for d in [
            "MinSpareServers 2",
            "ThreadsPerChild 4",
            "AsyncRequestWorkerFactor 2",
        ] {
            let e = load(d).unwrap_err();
            assert!(
                e.to_string().contains("not valid for the reactor MPM"),
                "{e}"
            );
        }
    }

    #[test]
    fn if_module_sees_the_label() {
        let c = load("<IfModule mpm_reactor_module>\nStartServers 3\n</IfModule>\n").unwrap();
        assert_eq!(c.limits.start_servers, 3);
    }
}
