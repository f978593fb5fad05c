//! Loading real files: the shared sample configurations, a fixture shaped like Apache's
//! stock `extra/httpd-mpm.conf`, includes, and the line syntax.

use mpm_core::config::ServerConfig;
use mpm_core::limits::Retained;
use mpm_core::{ConfigErrors, MpmKind};
use std::path::{Path, PathBuf};

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conf")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(path: &Path, kind: MpmKind) -> ServerConfig {
    ServerConfig::from_file(path, kind, None)
        .unwrap_or_else(|e| panic!("{} under {kind}: {e}", path.display()))
}

fn load_err(path: &Path, kind: MpmKind) -> ConfigErrors {
    match ServerConfig::from_file(path, kind, None) {
        Ok(c) => panic!("{} under {kind} loaded: {c:?}", path.display()),
        Err(e) => e,
    }
}

/// (kind, StartServers, ServerLimit, ThreadLimit, ThreadsPerChild, MaxRequestWorkers,
/// max_daemons, min spare, max spare)
type Row = (MpmKind, u32, u32, u32, u32, u32, u32, u32, u32);

fn check(c: &ServerConfig, row: Row) {
    let l = &c.limits;
    let got: Row = (
        l.kind,
        l.start_servers,
        l.server_limit,
        l.thread_limit,
        l.threads_per_child,
        l.max_request_workers,
        l.max_daemons,
        l.min_spare(),
        l.max_spare(),
    );
    assert_eq!(got, row);
}

#[test]
fn seed_under_worker_caps_start_servers_without_warnings() {
    let c = load(&shared("seed-httpd-mpm.conf"), MpmKind::Worker);
    // StartServers 100 is capped at MaxRequestWorkers / ThreadsPerChild = 50; MaxSpareThreads
    // 3000 already exceeds MinSpareThreads + ThreadsPerChild + 1 = 1101.
    check(
        &c,
        (MpmKind::Worker, 50, 200, 100, 100, 5000, 50, 1000, 3000),
    );
    assert_eq!(c.limits.max_connections_per_child, 0);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert!(c.notices.is_empty(), "{:?}", c.notices);
}

#[test]
fn seed_under_event_has_only_a_worker_block_so_defaults_apply() {
    let c = load(&shared("seed-httpd-mpm.conf"), MpmKind::Event);
    check(&c, (MpmKind::Event, 3, 16, 64, 25, 400, 16, 75, 250));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn seed_block_moved_to_event_gives_the_worker_numbers() {
    let text = std::fs::read_to_string(shared("seed-httpd-mpm.conf")).unwrap();
    let text = text.replace("mpm_worker_module", "mpm_event_module");
    let c =
        ServerConfig::from_config_str(&text, Path::new("seed-event.conf"), MpmKind::Event, None)
            .unwrap();
    check(
        &c,
        (MpmKind::Event, 50, 200, 100, 100, 5000, 50, 1000, 3000),
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn distro_conf_under_each_kind() {
    let rows: [Row; 3] = [
        (MpmKind::Prefork, 5, 256, 1, 1, 150, 150, 5, 10),
        (MpmKind::Worker, 2, 16, 64, 25, 150, 6, 25, 75),
        (MpmKind::Event, 2, 16, 64, 25, 150, 6, 25, 75),
    ];
    for row in rows {
        let c = load(&shared("distro-httpd-mpm.conf"), row.0);
        check(&c, row);
        assert_eq!(c.limits.max_connections_per_child, 0);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(c.notices.is_empty(), "{:?}", c.notices);
        assert!(c.keep_alive);
        assert_eq!(c.timeout.as_secs(), 60);
    }
}

#[test]
fn stock_httpd_mpm_conf_loads_under_each_kind_with_notices() {
    let path = fixture("stock-httpd-mpm.conf");
    let rows: [Row; 3] = [
        (MpmKind::Prefork, 5, 256, 1, 1, 250, 250, 5, 10),
        (MpmKind::Worker, 3, 16, 64, 25, 400, 16, 75, 250),
        (MpmKind::Event, 3, 16, 64, 25, 400, 16, 75, 250),
    ];
    for row in rows {
        let c = load(&path, row.0);
        check(&c, row);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.pid_file.as_deref(), Some(Path::new("logs/httpd.pid")));
        assert_eq!(
            c.notices,
            vec![format!(
                "{}:68: MaxMemFree is accepted and ignored: memory is managed by Rust's \
                 allocator, not APR pools",
                path.display()
            )]
        );
    }
}

/// (line, directive as spelled, message)
type Expected = (usize, &'static str, &'static str);

#[test]
fn bad_examples_report_file_line_and_directive() {
    let path = fixture_shared_bad();
    let cases: [(MpmKind, &[Expected]); 3] = [
        (
            MpmKind::Worker,
            &[(4, "ThreadsPerChild", "argument 'abc' is not a whole number")],
        ),
        (
            MpmKind::Event,
            &[
                (
                    7,
                    "MaxRequestWorkers",
                    "negative value -5 is not allowed; use 0 or a positive whole number",
                ),
                (
                    8,
                    "StartServer",
                    "Invalid command 'StartServer', perhaps misspelled or defined by a module \
                     not included in the server configuration; did you mean StartServers?",
                ),
            ],
        ),
        (
            MpmKind::Prefork,
            &[(
                11,
                "MaxSpareServers",
                "MaxSpareServers takes one argument, Maximum number of idle children",
            )],
        ),
    ];
    for (kind, expected) in cases {
        let errs = load_err(&path, kind);
        let got: Vec<(usize, &str, &str)> = errs
            .0
            .iter()
            .map(|e| {
                assert_eq!(e.file.as_deref(), Some(path.as_path()));
                (e.line.unwrap(), e.directive.as_str(), e.message.as_str())
            })
            .collect();
        assert_eq!(got, expected, "under {kind}");
    }
    let text = load_err(&path, MpmKind::Worker).to_string();
    assert_eq!(
        text,
        format!(
            "{}:4: ThreadsPerChild: argument 'abc' is not a whole number",
            path.display()
        )
    );
}

fn fixture_shared_bad() -> PathBuf {
    shared("bad-examples.conf")
}

#[test]
fn includes_relative_wildcard_and_optional() {
    let c = load(&fixture("main-with-includes.conf"), MpmKind::Event);
    // include/*.conf in order (10-start then 20-threads: last StartServers wins), then
    // single/one.conf; ignored.txt is not matched; both IncludeOptional find nothing.
    check(&c, (MpmKind::Event, 6, 16, 64, 20, 200, 10, 75, 250));
}

#[test]
fn include_of_a_directory_reads_its_files_recursively_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    std::fs::write(dir.path().join("d/a"), "StartServers 1\n").unwrap();
    std::fs::write(dir.path().join("d/b"), "StartServers 2\n").unwrap();
    std::fs::create_dir(dir.path().join("d/c")).unwrap();
    std::fs::write(dir.path().join("d/c/x"), "ThreadsPerChild 5\n").unwrap();
    let main = dir.path().join("main.conf");
    std::fs::write(&main, "Include d\n").unwrap();
    let c = load(&main, MpmKind::Worker);
    assert_eq!(c.limits.start_servers, 2);
    assert_eq!(c.limits.threads_per_child, 5);
}

#[test]
fn missing_include_is_an_error_at_the_include_line() {
    let path = fixture("missing-include.conf");
    let errs = load_err(&path, MpmKind::Event);
    let lines: Vec<_> = errs
        .0
        .iter()
        .map(|e| {
            (
                e.file.clone().unwrap(),
                e.line.unwrap(),
                e.directive.clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (path.clone(), 2, "Include".to_string()),
            (path.clone(), 3, "Include".to_string()),
        ]
    );
    assert!(
        errs.0[0].message.contains("No such file or directory"),
        "{errs}"
    );
    assert!(
        errs.0[1].message.starts_with("No matches for the wildcard"),
        "{errs}"
    );
}

#[test]
fn include_cycle_is_an_error() {
    let errs = load_err(&fixture("cycle-a.conf"), MpmKind::Event);
    assert_eq!(errs.0.len(), 1, "{errs}");
    let e = &errs.0[0];
    assert_eq!(e.file.as_deref(), Some(fixture("cycle-b.conf").as_path()));
    assert_eq!(e.line, Some(1));
    assert_eq!(e.directive, "Include");
    assert!(e.message.starts_with("Include cycle:"), "{e}");
}

#[test]
fn missing_top_file_is_an_error_naming_it() {
    let path = fixture("does-not-exist.conf");
    let errs = load_err(&path, MpmKind::Event);
    assert_eq!(errs.0[0].file.as_deref(), Some(path.as_path()));
    assert!(errs.0[0]
        .message
        .starts_with("could not open configuration file"));
}

#[test]
fn continuation_quotes_and_case() {
    let c = load(&fixture("syntax.conf"), MpmKind::Event);
    check(&c, (MpmKind::Event, 4, 16, 64, 10, 100, 10, 75, 250));
    assert!(!c.keep_alive);
    assert_eq!(c.user.as_deref(), Some("www data"));
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("run/my httpd.pid")));
    assert_eq!(c.timeout.as_secs(), 1);
    assert_eq!(c.keep_alive_timeout.as_secs(), 7);
    assert_eq!(c.max_keep_alive_requests, 0);

    let w = load(&fixture("syntax.conf"), MpmKind::Worker);
    assert_eq!(w.timeout.as_secs(), 60);
    assert_eq!(w.keep_alive_timeout.as_secs(), 5);
}

#[test]
fn errors_after_a_continuation_name_its_first_line() {
    let errs = ServerConfig::from_config_str(
        "# x\nStartServers \\\n  1 \\\n  2\n",
        Path::new("c.conf"),
        MpmKind::Worker,
        None,
    )
    .unwrap_err();
    assert_eq!(errs.0[0].line, Some(2));
    assert_eq!(errs.0[0].directive, "StartServers");
}

#[test]
fn restart_with_a_different_server_limit_keeps_the_retained_one() {
    let retained = Retained {
        server_limit: 16,
        thread_limit: 64,
    };
    let c = ServerConfig::from_file(
        &shared("seed-httpd-mpm.conf"),
        MpmKind::Worker,
        Some(retained),
    )
    .unwrap();
    assert_eq!(c.retained(), retained);
    let restart: Vec<&str> = c.warnings.iter().map(|w| w.restart.as_str()).collect();
    assert_eq!(
        restart,
        [
            "changing ServerLimit to 200 from original value of 16 not allowed during restart",
            "changing ThreadLimit to 100 from original value of 64 not allowed during restart",
            "ThreadsPerChild of 100 exceeds ThreadLimit of 64, decreasing to match",
            "MaxRequestWorkers of 5000 is not an integer multiple of ThreadsPerChild of 64, \
             decreasing to nearest multiple 4992",
            "MaxRequestWorkers of 4992 would require 78 servers and exceed ServerLimit of 16, \
             decreasing to 1024",
        ]
    );
    assert_eq!(c.limits.max_daemons, 16);
    assert_eq!(c.limits.start_servers, 16);
}

#[test]
fn errors_across_includes_come_in_reading_order() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.conf");
    let inc = dir.path().join("inc.conf");
    std::fs::write(
        &main,
        "# m\nStartServers x\nInclude inc.conf\nThreadsPerChild y\n",
    )
    .unwrap();
    std::fs::write(&inc, "ServerLimit z\n").unwrap();
    let errs = load_err(&main, MpmKind::Worker);
    let got: Vec<(PathBuf, usize, String)> = errs
        .0
        .into_iter()
        .map(|e| (e.file.unwrap(), e.line.unwrap(), e.directive))
        .collect();
    assert_eq!(
        got,
        [
            (main.clone(), 2, "StartServers".to_string()),
            (inc, 1, "ServerLimit".to_string()),
            (main, 4, "ThreadsPerChild".to_string()),
        ]
    );
}
