//! Property-style checks with a small deterministic generator: no input panics, and
//! validated limits always keep Apache's invariants.

use mpm_core::config::validate;
use mpm_core::config::{Directives, ReadTimeouts, ServerConfig, StageTimeout};
use mpm_core::http::HttpOptions;
use mpm_core::limits::Retained;
use mpm_core::MpmKind;
use std::path::Path;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn number(&mut self) -> i64 {
        match self.below(6) {
            0 => 0,
            1 => self.below(3) as i64,
            2 => self.below(500) as i64,
            3 => self.below(300_000) as i64,
            4 => -(self.below(10) as i64),
            _ => [
                i64::MAX,
                i64::MIN,
                i32::MAX as i64,
                i32::MAX as i64 + 1,
                1 << 40,
            ][self.below(5)],
        }
    }
    fn stage(&mut self) -> Option<StageTimeout> {
        (self.below(3) != 0).then(|| StageTimeout {
            timeout: self.below(100) as u32,
            max: (self.below(2) == 0).then(|| self.below(200) as u32),
            min_rate: [0, 1, 500, u32::MAX][self.below(4)],
        })
    }
    fn maybe(&mut self) -> Option<i64> {
        if self.below(3) == 0 {
            None
        } else {
            Some(self.number())
        }
    }
}

const TOKENS: &[&str] = &[
    "StartServers",
    "ServerLimit",
    "MinSpareServers",
    "MaxSpareServers",
    "MinSpareThreads",
    "MaxSpareThreads",
    "ThreadsPerChild",
    "ThreadLimit",
    "MaxRequestWorkers",
    "MaxClients",
    "MaxConnectionsPerChild",
    "MaxRequestsPerChild",
    "AsyncRequestWorkerFactor",
    "GracefulShutdownTimeout",
    "ListenBacklog",
    "KeepAlive",
    "KeepAliveTimeout",
    "MaxKeepAliveRequests",
    "Timeout",
    "User",
    "Group",
    "PidFile",
    "MaxMemFree",
    "Mutex",
    "LimitRequestLine",
    "LimitRequestFieldSize",
    "LimitRequestFields",
    "LimitRequestBody",
    "RequestReadTimeout",
    "header=20-40,MinRate=500",
    "body=20,MinRate=500",
    "header=0",
    "body=5-1,MinRate=3",
    "handshake=5",
    "header=",
    ",MinRate=",
    "<IfModule",
    "<IfModule !",
    "mpm_event_module>",
    "mpm_worker_module>",
    "prefork.c>",
    "</IfModule>",
    "<IfDefine",
    "X>",
    "</IfDefine>",
    "<Directory",
    ">",
    "</Directory>",
    "#",
    "\\",
    "\n",
    "\n",
    "\n",
    "\r\n",
    " ",
    "\t",
    "\"",
    "'",
    "on",
    "Off",
    "1.5",
    "-3",
    "0",
    "25",
    "99999999999999999999",
    "abc",
    "é",
    "\u{0}",
    "<",
    "</",
    "!",
    "*",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        for kind in MpmKind::ALL {
            let _ =
                ServerConfig::from_config_str(&text, Path::new("/nonexistent/f.conf"), kind, None);
        }
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let n = rng.below(40);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(TOKENS[rng.below(TOKENS.len())]);
            if rng.below(2) == 0 {
                text.push(' ');
            }
        }
        for kind in MpmKind::ALL {
            if let Err(e) =
                ServerConfig::from_config_str(&text, Path::new("/nonexistent/f.conf"), kind, None)
            {
                assert!(!e.0.is_empty());
                for err in &e.0 {
                    assert!(err.line.is_some_and(|l| l >= 1), "{err:?} in {text:?}");
                }
            }
        }
    }
}

#[test]
fn random_numbers_keep_apaches_invariants() {
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let kind = MpmKind::ALL[rng.below(3)];
        let threaded = kind.is_threaded();
        let d = Directives {
            start_servers: rng.maybe(),
            server_limit: rng.maybe(),
            min_spare_servers: if threaded { None } else { rng.maybe() },
            max_spare_servers: if threaded { None } else { rng.maybe() },
            min_spare_threads: if threaded { rng.maybe() } else { None },
            max_spare_threads: if threaded { rng.maybe() } else { None },
            threads_per_child: if threaded { rng.maybe() } else { None },
            thread_limit: if threaded { rng.maybe() } else { None },
            max_request_workers: rng.maybe(),
            max_connections_per_child: rng.maybe(),
            limit_request_line: rng.maybe(),
            limit_request_field_size: rng.maybe(),
            limit_request_fields: rng.maybe(),
            limit_request_body: rng.maybe(),
            request_read_timeout: (rng.below(2) == 0).then(|| ReadTimeouts {
                header: rng.stage(),
                body: rng.stage(),
            }),
            ..Directives::default()
        };
        let retained = (rng.below(4) == 0).then(|| Retained {
            server_limit: 1 + rng.below(20_000) as u32,
            thread_limit: if threaded {
                1 + rng.below(20_000) as u32
            } else {
                1
            },
        });
        // The whole configuration (limits and the HTTP directives) never panics either,
        // and what it yields is usable.
        if let Ok(c) = ServerConfig::from_directives(&d, kind, retained) {
            let o = HttpOptions::from_config(&c);
            assert!(o.max_body >= 1 && o.limits.request_line >= 1, "{d:?}");
            assert!(
                o.limits.header_timeout_max >= o.limits.header_timeout
                    || o.limits.header_timeout.is_zero(),
                "{d:?}"
            );
            assert!(
                o.limits.body_timeout_max >= o.limits.body_timeout
                    || o.limits.body_timeout.is_zero(),
                "{d:?}"
            );
            let _ = c.summary();
        }
        let Ok(v) = validate(kind, &d, retained) else {
            continue;
        };
        let l = v.limits;
        // The enforced capacity never exceeds ServerLimit × ThreadsPerChild.
        assert!(
            u64::from(l.max_daemons) * u64::from(l.threads_per_child)
                <= u64::from(l.server_limit) * u64::from(l.threads_per_child),
            "{d:?}"
        );
        assert!(l.server_limit >= 1, "{d:?}");
        assert!(l.thread_limit >= 1 && l.threads_per_child >= 1, "{d:?}");
        assert!(l.threads_per_child <= l.thread_limit, "{d:?}");
        assert!(
            l.max_daemons >= 1 && l.max_daemons <= l.server_limit,
            "{d:?}"
        );
        assert!(
            l.start_servers >= 1 && l.start_servers <= l.max_daemons,
            "{d:?}"
        );
        assert!(l.min_spare() >= 1, "{d:?}");
        if threaded {
            assert!(l.max_request_workers % l.threads_per_child == 0, "{d:?}");
            assert!(
                l.max_spare_threads > l.min_spare_threads + l.threads_per_child,
                "{d:?}"
            );
        } else {
            assert_eq!((l.thread_limit, l.threads_per_child), (1, 1));
            assert!(l.max_spare_servers > l.min_spare_servers, "{d:?}");
            assert!(l.max_request_workers <= l.server_limit, "{d:?}");
        }
        if let Some(r) = retained {
            assert_eq!(l.server_limit, r.server_limit);
            if threaded {
                assert_eq!(l.thread_limit, r.thread_limit);
            }
        }
        for w in &v.warnings {
            assert!(!w.startup.is_empty() && !w.restart.is_empty());
        }
    }
}
