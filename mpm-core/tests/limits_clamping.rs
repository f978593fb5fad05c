//! Apache's defaults and every check of `*_check_config` (both message forms, exact), then
//! the silent fix-ups of `*_run`.

use mpm_core::config::validate;
use mpm_core::config::Directives;
use mpm_core::limits::{Limits, Retained, Validated};
use mpm_core::MpmKind;

// The labels by their short names, as the cases below read best.
#[allow(non_upper_case_globals)]
const Event: MpmKind = MpmKind::Event;
#[allow(non_upper_case_globals)]
const Prefork: MpmKind = MpmKind::Prefork;
#[allow(non_upper_case_globals)]
const Worker: MpmKind = MpmKind::Worker;

fn run(kind: MpmKind, d: &Directives) -> Validated {
    validate(kind, d, None).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn texts(v: &Validated) -> Vec<(String, String)> {
    v.warnings
        .iter()
        .map(|w| (w.startup.clone(), w.restart.clone()))
        .collect()
}

fn d() -> Directives {
    Directives::default()
}

#[test]
fn defaults_per_kind() {
    let p = run(Prefork, &d()).limits;
    assert_eq!(
        (
            p.start_servers,
            p.server_limit,
            p.thread_limit,
            p.threads_per_child
        ),
        (5, 256, 1, 1)
    );
    assert_eq!((p.max_request_workers, p.max_daemons), (256, 256));
    assert_eq!((p.min_spare_servers, p.max_spare_servers), (5, 10));
    assert_eq!((p.min_spare_threads, p.max_spare_threads), (0, 0));
    for kind in [Worker, Event] {
        let l: Limits = run(kind, &d()).limits;
        assert_eq!(
            (
                l.start_servers,
                l.server_limit,
                l.thread_limit,
                l.threads_per_child
            ),
            (3, 16, 64, 25)
        );
        assert_eq!((l.max_request_workers, l.max_daemons), (400, 16));
        assert_eq!((l.min_spare_threads, l.max_spare_threads), (75, 250));
        assert_eq!((l.min_spare_servers, l.max_spare_servers), (0, 0));
        assert_eq!(l.async_request_worker_factor, 2.0);
        assert_eq!(l.graceful_shutdown_timeout.as_secs(), 0);
        assert_eq!(l.listen_backlog, 511);
        assert_eq!(l.max_connections_per_child, 0);
    }
    for kind in MpmKind::ALL {
        assert!(run(kind, &d()).warnings.is_empty());
    }
}

#[test]
fn max_request_workers_default_comes_from_the_default_server_limit() {
    // As Apache's pre_config: the default is fixed before directives are read.
    let v = run(
        Worker,
        &Directives {
            server_limit: Some(32),
            threads_per_child: Some(50),
            ..d()
        },
    );
    assert_eq!(
        (v.limits.max_request_workers, v.limits.max_daemons),
        (400, 8)
    );
    assert!(v.warnings.is_empty());

    let v = run(
        Prefork,
        &Directives {
            server_limit: Some(100),
            ..d()
        },
    );
    assert_eq!(v.limits.max_request_workers, 100);
    assert_eq!(v.warnings.len(), 1);
}

/// (case, kind, directives, expected warnings (startup, restart), check of the limits)
type Case = (
    &'static str,
    MpmKind,
    Directives,
    Vec<(&'static str, &'static str)>,
    fn(&Limits),
);

fn cases() -> Vec<Case> {
    vec![
        // ---- prefork ----
        (
            "prefork ServerLimit over the compile-time limit",
            Prefork,
            Directives { server_limit: Some(300_000), ..d() },
            vec![(
                "WARNING: ServerLimit of 300000 exceeds compile-time limit of 200000 servers, decreasing to 200000.",
                "ServerLimit of 300000 exceeds compile-time limit of 200000, decreasing to match",
            )],
            |l| assert_eq!(l.server_limit, 200_000),
        ),
        (
            "prefork ServerLimit 0",
            Prefork,
            Directives { server_limit: Some(0), ..d() },
            vec![
                (
                    "WARNING: ServerLimit of 0 not allowed, increasing to 1.",
                    "ServerLimit of 0 not allowed, increasing to 1",
                ),
                (
                    "WARNING: MaxRequestWorkers of 256 exceeds ServerLimit value of 1 servers, decreasing MaxRequestWorkers to 1. To increase, please see the ServerLimit directive.",
                    "MaxRequestWorkers of 256 exceeds ServerLimit value of 1, decreasing to match",
                ),
            ],
            |l| assert_eq!((l.server_limit, l.max_request_workers, l.max_daemons, l.start_servers), (1, 1, 1, 1)),
        ),
        (
            "prefork MaxRequestWorkers over ServerLimit",
            Prefork,
            Directives { max_request_workers: Some(300), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 300 exceeds ServerLimit value of 256 servers, decreasing MaxRequestWorkers to 256. To increase, please see the ServerLimit directive.",
                "MaxRequestWorkers of 300 exceeds ServerLimit value of 256, decreasing to match",
            )],
            |l| assert_eq!((l.max_request_workers, l.max_daemons), (256, 256)),
        ),
        (
            "prefork MaxRequestWorkers 0",
            Prefork,
            Directives { max_request_workers: Some(0), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 0 not allowed, increasing to 1.",
                "MaxRequestWorkers of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!((l.max_request_workers, l.start_servers), (1, 1)),
        ),
        (
            "prefork StartServers 0",
            Prefork,
            Directives { start_servers: Some(0), ..d() },
            vec![(
                "WARNING: StartServers of 0 not allowed, increasing to 1.",
                "StartServers of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!(l.start_servers, 1),
        ),
        (
            "prefork MinSpareServers 0",
            Prefork,
            Directives { min_spare_servers: Some(0), ..d() },
            vec![(
                "WARNING: MinSpareServers of 0 not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.",
                "MinSpareServers of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!((l.min_spare_servers, l.max_spare_servers), (1, 10)),
        ),
        (
            "prefork silent: MaxSpareServers raised to MinSpareServers + 1, StartServers capped",
            Prefork,
            Directives {
                min_spare_servers: Some(20),
                max_spare_servers: Some(10),
                start_servers: Some(50),
                max_request_workers: Some(30),
                ..d()
            },
            vec![],
            |l| assert_eq!((l.min_spare_servers, l.max_spare_servers, l.start_servers), (20, 21, 30)),
        ),
        // ---- worker / event ----
        (
            "worker ServerLimit over the compile-time limit",
            Worker,
            Directives { server_limit: Some(30_000), ..d() },
            vec![(
                "WARNING: ServerLimit of 30000 exceeds compile-time limit of 20000 servers, decreasing to 20000.",
                "ServerLimit of 30000 exceeds compile-time limit of 20000, decreasing to match",
            )],
            |l| assert_eq!((l.server_limit, l.max_daemons), (20_000, 16)),
        ),
        (
            "event ServerLimit 0",
            Event,
            Directives { server_limit: Some(0), ..d() },
            vec![
                (
                    "WARNING: ServerLimit of 0 not allowed, increasing to 1.",
                    "ServerLimit of 0 not allowed, increasing to 1",
                ),
                (
                    "WARNING: MaxRequestWorkers of 400 would require 16 servers and would exceed ServerLimit of 1, decreasing to 25. To increase, please see the ServerLimit directive.",
                    "MaxRequestWorkers of 400 would require 16 servers and exceed ServerLimit of 1, decreasing to 25",
                ),
            ],
            |l| assert_eq!((l.server_limit, l.max_request_workers, l.max_daemons, l.start_servers), (1, 400, 1, 1)),
        ),
        (
            "worker ThreadLimit over the compile-time limit",
            Worker,
            Directives { thread_limit: Some(30_000), ..d() },
            vec![(
                "WARNING: ThreadLimit of 30000 exceeds compile-time limit of 20000 threads, decreasing to 20000.",
                "ThreadLimit of 30000 exceeds compile-time limit of 20000, decreasing to match",
            )],
            |l| assert_eq!(l.thread_limit, 20_000),
        ),
        (
            "event ThreadLimit limit is 100000",
            Event,
            Directives { thread_limit: Some(200_000), ..d() },
            vec![(
                "WARNING: ThreadLimit of 200000 exceeds compile-time limit of 100000 threads, decreasing to 100000.",
                "ThreadLimit of 200000 exceeds compile-time limit of 100000, decreasing to match",
            )],
            |l| assert_eq!(l.thread_limit, 100_000),
        ),
        (
            "event ThreadLimit 30000 is fine",
            Event,
            Directives { thread_limit: Some(30_000), ..d() },
            vec![],
            |l| assert_eq!(l.thread_limit, 30_000),
        ),
        (
            "worker ThreadLimit 0",
            Worker,
            Directives { thread_limit: Some(0), ..d() },
            vec![
                (
                    "WARNING: ThreadLimit of 0 not allowed, increasing to 1.",
                    "ThreadLimit of 0 not allowed, increasing to 1",
                ),
                (
                    "WARNING: ThreadsPerChild of 25 exceeds ThreadLimit of 1 threads, decreasing to 1. To increase, please see the ThreadLimit directive.",
                    "ThreadsPerChild of 25 exceeds ThreadLimit of 1, decreasing to match",
                ),
                (
                    "WARNING: MaxRequestWorkers of 400 would require 400 servers and would exceed ServerLimit of 16, decreasing to 16. To increase, please see the ServerLimit directive.",
                    "MaxRequestWorkers of 400 would require 400 servers and exceed ServerLimit of 16, decreasing to 16",
                ),
            ],
            |l| assert_eq!((l.thread_limit, l.threads_per_child, l.max_daemons), (1, 1, 16)),
        ),
        (
            "worker ThreadsPerChild over ThreadLimit",
            Worker,
            Directives { threads_per_child: Some(100), ..d() },
            vec![
                (
                    "WARNING: ThreadsPerChild of 100 exceeds ThreadLimit of 64 threads, decreasing to 64. To increase, please see the ThreadLimit directive.",
                    "ThreadsPerChild of 100 exceeds ThreadLimit of 64, decreasing to match",
                ),
                (
                    "WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384, for a maximum of 6 servers.",
                    "MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 64, decreasing to nearest multiple 384",
                ),
            ],
            |l| assert_eq!((l.threads_per_child, l.max_request_workers, l.max_daemons), (64, 384, 6)),
        ),
        (
            "event ThreadsPerChild 0",
            Event,
            Directives { threads_per_child: Some(0), max_request_workers: Some(10), ..d() },
            vec![(
                "WARNING: ThreadsPerChild of 0 not allowed, increasing to 1.",
                "ThreadsPerChild of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!((l.threads_per_child, l.max_daemons), (1, 10)),
        ),
        (
            "worker MaxRequestWorkers below ThreadsPerChild",
            Worker,
            Directives { max_request_workers: Some(10), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 10 is less than ThreadsPerChild of 25, increasing to 25. MaxRequestWorkers must be at least as large as the number of threads in a single server.",
                "MaxRequestWorkers of 10 is less than ThreadsPerChild of 25, increasing to match",
            )],
            |l| assert_eq!((l.max_request_workers, l.max_daemons, l.start_servers), (25, 1, 1)),
        ),
        (
            "event MaxRequestWorkers 0 is below ThreadsPerChild",
            Event,
            Directives { max_request_workers: Some(0), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 0 is less than ThreadsPerChild of 25, increasing to 25. MaxRequestWorkers must be at least as large as the number of threads in a single server.",
                "MaxRequestWorkers of 0 is less than ThreadsPerChild of 25, increasing to match",
            )],
            |l| assert_eq!(l.max_request_workers, 25),
        ),
        (
            "event MaxRequestWorkers not a multiple",
            Event,
            Directives { max_request_workers: Some(410), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 410 is not an integer multiple of ThreadsPerChild of 25, decreasing to nearest multiple 400, for a maximum of 16 servers.",
                "MaxRequestWorkers of 410 is not an integer multiple of ThreadsPerChild of 25, decreasing to nearest multiple 400",
            )],
            |l| assert_eq!((l.max_request_workers, l.max_daemons), (400, 16)),
        ),
        (
            "worker MaxRequestWorkers needs more servers than ServerLimit",
            Worker,
            Directives { max_request_workers: Some(1000), ..d() },
            vec![(
                "WARNING: MaxRequestWorkers of 1000 would require 40 servers and would exceed ServerLimit of 16, decreasing to 400. To increase, please see the ServerLimit directive.",
                "MaxRequestWorkers of 1000 would require 40 servers and exceed ServerLimit of 16, decreasing to 400",
            )],
            // As Apache: only the process cap drops; MaxRequestWorkers keeps 1000.
            |l| assert_eq!((l.max_request_workers, l.max_daemons), (1000, 16)),
        ),
        (
            "worker StartServers 0",
            Worker,
            Directives { start_servers: Some(0), ..d() },
            vec![(
                "WARNING: StartServers of 0 not allowed, increasing to 1.",
                "StartServers of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!(l.start_servers, 1),
        ),
        (
            "event MinSpareThreads 0",
            Event,
            Directives { min_spare_threads: Some(0), ..d() },
            vec![(
                "WARNING: MinSpareThreads of 0 not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.",
                "MinSpareThreads of 0 not allowed, increasing to 1",
            )],
            |l| assert_eq!((l.min_spare_threads, l.max_spare_threads), (1, 250)),
        ),
        (
            "worker silent: MaxSpareThreads raised to Min + ThreadsPerChild + 1, StartServers capped",
            Worker,
            Directives {
                min_spare_threads: Some(300),
                max_spare_threads: Some(100),
                start_servers: Some(20),
                ..d()
            },
            vec![],
            |l| assert_eq!((l.min_spare_threads, l.max_spare_threads, l.start_servers), (300, 326, 16)),
        ),
        (
            "event MaxSpareThreads 0 raised silently",
            Event,
            Directives { max_spare_threads: Some(0), ..d() },
            vec![],
            |l| assert_eq!(l.max_spare_threads, 75 + 25 + 1),
        ),
    ]
}

#[test]
fn every_check_config_rule_with_both_messages() {
    for (name, kind, directives, expected, check) in cases() {
        let v = run(kind, &directives);
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(s, r)| (s.to_string(), r.to_string()))
            .collect();
        assert_eq!(texts(&v), expected, "{name}");
        for w in &v.warnings {
            assert!(w.startup.starts_with("WARNING: "), "{name}: {w:?}");
            assert!(!w.restart.starts_with("WARNING"), "{name}: {w:?}");
        }
        check(&v.limits);
    }
}

#[test]
fn warnings_name_their_directive() {
    let v = run(
        Worker,
        &Directives {
            server_limit: Some(0),
            thread_limit: Some(0),
            start_servers: Some(0),
            min_spare_threads: Some(0),
            ..d()
        },
    );
    let names: Vec<&str> = v.warnings.iter().map(|w| w.directive.as_str()).collect();
    assert_eq!(
        names,
        [
            "ServerLimit",
            "ThreadLimit",
            "ThreadsPerChild",
            "MaxRequestWorkers",
            "StartServers",
            "MinSpareThreads"
        ]
    );
}

#[test]
fn server_limit_and_thread_limit_cannot_change_on_restart() {
    let first = run(
        Event,
        &Directives {
            server_limit: Some(32),
            thread_limit: Some(128),
            ..d()
        },
    );
    let retained = Retained {
        server_limit: first.limits.server_limit,
        thread_limit: first.limits.thread_limit,
    };
    // Same values: no warning.
    let same = validate(
        Event,
        &Directives {
            server_limit: Some(32),
            thread_limit: Some(128),
            ..d()
        },
        Some(retained),
    )
    .unwrap();
    assert!(same.warnings.is_empty());

    let changed = validate(
        Event,
        &Directives {
            server_limit: Some(64),
            thread_limit: Some(256),
            threads_per_child: Some(200),
            ..d()
        },
        Some(retained),
    )
    .unwrap();
    let msgs: Vec<(String, String)> = texts(&changed);
    let sl = "changing ServerLimit to 64 from original value of 32 not allowed during restart";
    let tl = "changing ThreadLimit to 256 from original value of 128 not allowed during restart";
    assert_eq!(msgs[0], (sl.to_string(), sl.to_string()));
    assert_eq!(msgs[1], (tl.to_string(), tl.to_string()));
    assert_eq!(
        msgs[2].1,
        "ThreadsPerChild of 200 exceeds ThreadLimit of 128, decreasing to match"
    );
    assert_eq!(
        (changed.limits.server_limit, changed.limits.thread_limit),
        (32, 128)
    );

    // Clamping comes first, then the comparison with the retained value.
    let clamped = validate(
        Prefork,
        &Directives {
            server_limit: Some(0),
            ..d()
        },
        Some(Retained {
            server_limit: 256,
            thread_limit: 1,
        }),
    )
    .unwrap();
    assert_eq!(
        clamped.warnings[1].restart,
        "changing ServerLimit to 1 from original value of 256 not allowed during restart"
    );
    assert_eq!(clamped.limits.server_limit, 256);
    assert_eq!(clamped.warnings.len(), 2);
}

#[test]
fn prefork_forces_one_thread() {
    let l = run(Prefork, &d()).limits;
    assert_eq!((l.thread_limit, l.threads_per_child), (1, 1));
    assert_eq!(l.min_spare(), 5);
    assert_eq!(l.max_spare(), 10);
}

#[test]
fn async_request_worker_factor_below_one_becomes_one() {
    let l = run(
        Event,
        &Directives {
            async_request_worker_factor: Some(0.5),
            ..d()
        },
    )
    .limits;
    assert_eq!(l.async_request_worker_factor, 1.0);
    let l = run(
        Event,
        &Directives {
            async_request_worker_factor: Some(1.5),
            ..d()
        },
    )
    .limits;
    assert_eq!(l.async_request_worker_factor, 1.5);
}

#[test]
fn server_limit_at_the_compile_time_ceiling_is_kept_one_over_is_lowered_with_a_warning() {
    for kind in [Prefork, Worker, Event] {
        let max = mpm_core::limits::defaults(kind).max_server_limit;
        let at = run(
            kind,
            &Directives {
                server_limit: Some(max),
                ..d()
            },
        );
        assert_eq!(i64::from(at.limits.server_limit), max, "{kind}");
        assert!(
            at.warnings.iter().all(|w| w.directive != "ServerLimit"),
            "{kind}: {:?}",
            texts(&at)
        );
        let over = run(
            kind,
            &Directives {
                server_limit: Some(max + 1),
                ..d()
            },
        );
        assert_eq!(i64::from(over.limits.server_limit), max, "{kind}");
        assert!(
            texts(&over).iter().any(|(startup, _)| startup
                == &format!(
                    "WARNING: ServerLimit of {} exceeds compile-time limit of {max} servers, decreasing to {max}.",
                    max + 1
                )),
            "{kind}: {:?}",
            texts(&over)
        );
    }
}

#[test]
fn the_rules_say_what_the_model_is_threads_fixed_processes_variable_only_event_async() {
    use mpm_core::kit::{Capability, SpareUnit};
    for (kind, threaded, unit, is_async) in [
        (Prefork, Capability::No, SpareUnit::Processes, false),
        (Worker, Capability::Fixed, SpareUnit::Threads, false),
        (Event, Capability::Fixed, SpareUnit::Threads, true),
    ] {
        let rules = kind.rules();
        assert_eq!(rules.reports_async_connections(), is_async, "{kind}");
        let c = rules.capabilities();
        assert_eq!(
            (c.threaded, c.forked, c.is_async),
            (threaded, Capability::Variable, is_async),
            "{kind}"
        );
        // Its Debug names the defaults and the spare unit.
        let debug = format!("{rules:?}");
        assert!(
            debug.starts_with("Rules {")
                && debug.contains("defaults: Defaults {")
                && debug.contains(&format!("spare_unit: {unit:?}")),
            "{kind}: {debug}"
        );
    }
}

#[test]
fn one_is_the_smallest_value_kept_without_a_warning() {
    let prefork = run(
        Prefork,
        &Directives {
            server_limit: Some(1),
            max_request_workers: Some(1),
            start_servers: Some(1),
            min_spare_servers: Some(1),
            max_spare_servers: Some(2),
            ..d()
        },
    );
    assert_eq!(texts(&prefork), vec![], "prefork");
    let l = &prefork.limits;
    assert_eq!(
        (
            l.server_limit,
            l.max_request_workers,
            l.start_servers,
            l.min_spare_servers,
            l.max_spare_servers
        ),
        (1, 1, 1, 1, 2)
    );
    let worker = run(
        Worker,
        &Directives {
            server_limit: Some(1),
            thread_limit: Some(1),
            threads_per_child: Some(1),
            max_request_workers: Some(1),
            start_servers: Some(1),
            min_spare_threads: Some(1),
            max_spare_threads: Some(2),
            ..d()
        },
    );
    assert_eq!(texts(&worker), vec![], "worker");
    assert_eq!(worker.limits.min_spare_threads, 1);
}

#[test]
fn prefork_max_spare_servers_is_raised_silently_to_one_over_the_minimum() {
    for (min, max, effective) in [(5, 5, 6), (5, 2, 6), (5, 6, 6), (5, 7, 7)] {
        let v = run(
            Prefork,
            &Directives {
                min_spare_servers: Some(min),
                max_spare_servers: Some(max),
                ..d()
            },
        );
        assert_eq!(
            (v.limits.min_spare_servers, v.limits.max_spare_servers),
            (min as u32, effective),
            "MinSpareServers {min}, MaxSpareServers {max}"
        );
        assert_eq!(texts(&v), vec![], "silent, as prefork_run");
    }
}

#[test]
fn connections_per_child_for_the_descriptor_estimate() {
    // Prefork: one connection; worker: one per thread, plus one; event: threads times
    // (1 + AsyncRequestWorkerFactor), rounded up, plus one.
    assert_eq!(Prefork.rules().connections_per_child(1, 2.0), 1);
    assert_eq!(Prefork.rules().connections_per_child(25, 2.0), 1);
    assert_eq!(Worker.rules().connections_per_child(25, 2.0), 26);
    assert_eq!(Worker.rules().connections_per_child(0, 2.0), 2);
    assert_eq!(Event.rules().connections_per_child(25, 2.0), 76);
    assert_eq!(Event.rules().connections_per_child(25, 0.5), 39);
    assert_eq!(Event.rules().connections_per_child(3, 0.0), 4);
}

#[test]
fn thread_limit_at_the_compile_time_ceiling_is_kept_one_over_is_lowered_with_a_warning() {
    for kind in [Worker, Event] {
        let max = mpm_core::limits::defaults(kind).max_thread_limit;
        let with = |tl: i64| {
            run(
                kind,
                &Directives {
                    thread_limit: Some(tl),
                    ..d()
                },
            )
        };
        let at = with(max);
        assert_eq!(i64::from(at.limits.thread_limit), max, "{kind}");
        assert!(
            at.warnings.iter().all(|w| w.directive != "ThreadLimit"),
            "{kind}: {:?}",
            texts(&at)
        );
        let over = with(max + 1);
        assert_eq!(i64::from(over.limits.thread_limit), max, "{kind}");
        assert!(
            texts(&over).iter().any(|(startup, _)| startup
                == &format!(
                    "WARNING: ThreadLimit of {} exceeds compile-time limit of {max} threads, decreasing to {max}.",
                    max + 1
                )),
            "{kind}: {:?}",
            texts(&over)
        );
    }
}

#[test]
fn threaded_max_spare_threads_is_raised_silently_to_a_child_and_one_over_the_minimum() {
    // ThreadsPerChild 25: MaxSpareThreads at least MinSpareThreads + 26.
    for kind in [Worker, Event] {
        for (min, max, effective) in [
            (75, 80, 101),
            (75, 99, 101),
            (75, 100, 101),
            (75, 101, 101),
            (75, 102, 102),
            (1, 1, 27),
        ] {
            let v = run(
                kind,
                &Directives {
                    min_spare_threads: Some(min),
                    max_spare_threads: Some(max),
                    ..d()
                },
            );
            assert_eq!(
                (v.limits.min_spare_threads, v.limits.max_spare_threads),
                (min as u32, effective),
                "{kind}: MinSpareThreads {min}, MaxSpareThreads {max}"
            );
            assert_eq!(texts(&v), vec![], "{kind}: silent, as *_run");
        }
    }
}
