//! The code paths: serde round trip of `Directives`, `from_directives`, the builder, and
//! the `httpd -t` summary.

use mpm_core::config::{Directives, ServerConfig};
use mpm_core::limits::Retained;
use mpm_core::MpmKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn sample() -> Directives {
    Directives {
        start_servers: Some(4),
        server_limit: Some(20),
        min_spare_threads: Some(10),
        max_spare_threads: Some(80),
        threads_per_child: Some(10),
        thread_limit: Some(32),
        max_request_workers: Some(150),
        max_connections_per_child: Some(1000),
        async_request_worker_factor: Some(1.5),
        graceful_shutdown_timeout: Some(30),
        listen_backlog: Some(128),
        listen: Vec::new(),
        keep_alive: Some(false),
        keep_alive_timeout: Some(3),
        max_keep_alive_requests: Some(50),
        timeout: Some(30),
        user: Some("www".into()),
        group: Some("www".into()),
        pid_file: Some(PathBuf::from("/run/mpm.pid")),
        ..Directives::default()
    }
}

#[test]
fn directives_round_trip_through_json() {
    let d = sample();
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"StartServers\":4"), "{json}");
    assert!(json.contains("\"AsyncRequestWorkerFactor\":1.5"), "{json}");
    let back: Directives = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    let empty: Directives = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, Directives::default());
    assert!(serde_json::from_str::<Directives>(r#"{"StartServer": 3}"#).is_err());
}

#[test]
fn from_directives_validates_like_a_file() {
    let c = ServerConfig::from_directives(&sample(), MpmKind::Event, None).unwrap();
    let l = &c.limits;
    assert_eq!(
        (l.start_servers, l.max_request_workers, l.max_daemons),
        (4, 150, 15)
    );
    assert_eq!((l.min_spare_threads, l.max_spare_threads), (10, 80));
    assert_eq!(l.graceful_shutdown_timeout, Duration::from_secs(30));
    assert_eq!(l.listen_backlog, 128);
    assert_eq!(l.async_request_worker_factor, 1.5);
    assert!(!c.keep_alive);
    assert_eq!(c.keep_alive_timeout, Duration::from_secs(3));
    assert_eq!(c.max_keep_alive_requests, 50);
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("/run/mpm.pid")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.retained(),
        Retained {
            server_limit: 20,
            thread_limit: 32
        }
    );
}

#[test]
fn from_directives_errors_have_no_file() {
    let d = Directives {
        min_spare_servers: Some(3),
        max_request_workers: Some(-1),
        listen_backlog: Some(0),
        async_request_worker_factor: Some(0.0),
        ..Directives::default()
    };
    let errs = ServerConfig::from_directives(&d, MpmKind::Event, None).unwrap_err();
    let got: Vec<(Option<&Path>, Option<usize>, &str, &str)> = errs
        .0
        .iter()
        .map(|e| {
            (
                e.file.as_deref(),
                e.line,
                e.directive.as_str(),
                e.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                None,
                None,
                "MinSpareServers",
                "MinSpareServers is not valid for the event MPM"
            ),
            (
                None,
                None,
                "MaxRequestWorkers",
                "negative value -1 is not allowed; use 0 or a positive whole number"
            ),
            (None, None, "ListenBacklog", "ListenBacklog must be > 0"),
            (
                None,
                None,
                "AsyncRequestWorkerFactor",
                "AsyncRequestWorkerFactor argument must be a positive number"
            ),
        ]
    );
    assert_eq!(
        errs.0[0].to_string(),
        "MinSpareServers: MinSpareServers is not valid for the event MPM"
    );
    let nan = Directives {
        async_request_worker_factor: Some(f64::NAN),
        ..Directives::default()
    };
    let errs = ServerConfig::from_directives(&nan, MpmKind::Event, None).unwrap_err();
    assert_eq!(errs.0[0].message, "error parsing value");
}

#[test]
fn builder_builds_and_validates() {
    let c = ServerConfig::builder()
        .start_servers(2)
        .threads_per_child(10)
        .max_request_workers(95)
        .keep_alive(false)
        .timeout(Duration::from_secs(10))
        .user("nobody")
        .build(MpmKind::Event)
        .unwrap();
    assert_eq!(c.limits.start_servers, 2);
    assert_eq!(c.limits.threads_per_child, 10);
    assert_eq!(c.limits.max_request_workers, 90);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(
        c.warnings[0].restart,
        "MaxRequestWorkers of 95 is not an integer multiple of ThreadsPerChild of 10, decreasing to nearest multiple 90"
    );
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.user.as_deref(), Some("nobody"));

    let errs = ServerConfig::builder()
        .min_spare_servers(3)
        .timeout(Duration::from_millis(1500))
        .build(MpmKind::Worker)
        .unwrap_err();
    let names: Vec<&str> = errs.0.iter().map(|e| e.directive.as_str()).collect();
    // In code, a setting of another strategy is left out with a notice (the same code
    // runs under every strategy feature); the fractional Timeout stays an error.
    assert_eq!(names, ["Timeout"]);
    let c = ServerConfig::builder()
        .min_spare_servers(3)
        .build(MpmKind::Worker)
        .unwrap();
    assert_eq!(
        c.notices,
        ["MinSpareServers 3 does not apply to the worker MPM: left out"]
    );
    // From serde (as from a file) it is still an error, as Apache's.
    let d = Directives {
        min_spare_servers: Some(3),
        ..Directives::default()
    };
    let errs = ServerConfig::from_directives(&d, MpmKind::Worker, None).unwrap_err();
    assert_eq!(errs.0[0].directive, "MinSpareServers");

    let retained = Retained {
        server_limit: 16,
        thread_limit: 64,
    };
    let c = ServerConfig::builder()
        .server_limit(8)
        .retained(retained)
        .build(MpmKind::Worker)
        .unwrap();
    assert_eq!(c.retained(), retained);
}

#[test]
fn builder_listen() {
    let c = ServerConfig::builder()
        .listen("127.0.0.1:0")
        .build(MpmKind::Event)
        .unwrap();
    assert_eq!(c.listen.len(), 1);
    let errs = ServerConfig::builder()
        .listen("not an address")
        .build(MpmKind::Event)
        .unwrap_err();
    assert_eq!(errs.0[0].directive, "Listen");
}

#[test]
fn summary_lists_every_effective_limit() {
    let c = ServerConfig::from_directives(&sample(), MpmKind::Event, None).unwrap();
    assert_eq!(
        c.summary(),
        "\
Server MPM: event
StartServers: 4
Children started: 4
Maximum children: 15
ServerLimit: 20
ThreadLimit: 32
ThreadsPerChild: 10
MaxRequestWorkers: 150
Scoreboard slots: 20 x 32
MinSpareThreads: 10
MaxSpareThreads: 80
AsyncRequestWorkerFactor: 1.5
MaxConnectionsPerChild: 1000
GracefulShutdownTimeout: 30
ListenBacklog: 128
KeepAlive: Off
KeepAliveTimeout: 3
MaxKeepAliveRequests: 50
Timeout: 30
LimitRequestLine: 8190
LimitRequestFieldSize: 8190
LimitRequestFields: 100
LimitRequestBody: 1073741824
HandlerTimeout: 0
MaxConnectionsPerChildJitter: 0
RequestReadTimeout: header=20-40,MinRate=500 body=20,MinRate=500
User: www
Group: www
PidFile: /run/mpm.pid"
    );
    let p = ServerConfig::from_directives(&Directives::default(), MpmKind::Prefork, None)
        .unwrap()
        .summary();
    assert!(p.starts_with("Server MPM: prefork\n"), "{p}");
    assert!(p.contains("\nMaximum children: 256\n"), "{p}");
    assert!(
        p.contains("\nMinSpareServers: 5\nMaxSpareServers: 10\n"),
        "{p}"
    );
    assert!(p.contains("\nKeepAlive: On\n"), "{p}");
    assert!(!p.contains("AsyncRequestWorkerFactor"), "{p}");
    for line in p.lines() {
        assert!(line.contains(": "), "{line}");
    }
}
