//! Every kind of error the httpd-syntax path reports, and that all of a file's errors are
//! reported at once with file, line and directive as spelled.

use mpm_core::config::ServerConfig;
use mpm_core::{ConfigErrors, MpmKind};
use std::path::Path;

const ORIGIN: &str = "/etc/mpm/test.conf";

fn errs(kind: MpmKind, text: &str) -> Vec<(usize, String, String)> {
    match ServerConfig::from_config_str(text, Path::new(ORIGIN), kind, None) {
        Ok(c) => panic!("loaded: {c:?}"),
        Err(ConfigErrors(list)) => list
            .into_iter()
            .map(|e| {
                assert_eq!(e.file.as_deref(), Some(Path::new(ORIGIN)));
                (e.line.unwrap_or(0), e.directive, e.message)
            })
            .collect(),
    }
}

fn one(kind: MpmKind, text: &str) -> (usize, String, String) {
    let mut all = errs(kind, text);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn ok(kind: MpmKind, text: &str) -> ServerConfig {
    ServerConfig::from_config_str(text, Path::new(ORIGIN), kind, None)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Apache's labels by their short names, as the tables below read best.
#[allow(non_upper_case_globals)]
mod labels {
    use mpm_core::MpmKind;
    pub const Prefork: MpmKind = MpmKind::Prefork;
    pub const Worker: MpmKind = MpmKind::Worker;
    pub const Event: MpmKind = MpmKind::Event;
}

#[test]
fn value_errors() {
    use labels::*;
    let table: &[(MpmKind, &str, &str, &str)] = &[
        (Worker, "ThreadsPerChild abc", "ThreadsPerChild", "argument 'abc' is not a whole number"),
        (Worker, "threadsperchild 1.5", "threadsperchild", "argument '1.5' is not a whole number"),
        (Event, "MaxRequestWorkers -5", "MaxRequestWorkers", "negative value -5 is not allowed; use 0 or a positive whole number"),
        (Prefork, "StartServers 99999999999", "StartServers", "value 99999999999 is too large (at most 2147483647)"),
        (Prefork, "StartServers 999999999999999999999999", "StartServers", "value 999999999999999999999999 is too large (at most 2147483647)"),
        (Event, "Timeout -1", "Timeout", "negative value -1 is not allowed; use 0 or a positive whole number"),
        (Event, "KeepAliveTimeout -3", "KeepAliveTimeout", "negative value -3 is not allowed; use 0 or a positive whole number"),
        (Event, "GracefulShutdownTimeout -3", "GracefulShutdownTimeout", "negative value -3 is not allowed; use 0 or a positive whole number"),
        (Event, "MaxConnectionsPerChild -1", "MaxConnectionsPerChild", "negative value -1 is not allowed; use 0 or a positive whole number"),
        (Event, "ListenBacklog 0", "ListenBacklog", "ListenBacklog must be > 0"),
        (Worker, "ListenBacklog -1", "ListenBacklog", "ListenBacklog must be > 0"),
        (Event, "KeepAlive maybe", "KeepAlive", "KeepAlive must be On or Off, not 'maybe'"),
        (Event, "AsyncRequestWorkerFactor 2x", "AsyncRequestWorkerFactor", "error parsing value"),
        (Event, "AsyncRequestWorkerFactor inf", "AsyncRequestWorkerFactor", "error parsing value"),
        (Event, "AsyncRequestWorkerFactor 0", "AsyncRequestWorkerFactor", "AsyncRequestWorkerFactor argument must be a positive number"),
        (Event, "AsyncRequestWorkerFactor -1.5", "AsyncRequestWorkerFactor", "AsyncRequestWorkerFactor argument must be a positive number"),
        (Worker, "StartServers", "StartServers", "StartServers takes one argument, Number of child processes launched at server startup"),
        (Worker, "User a b", "User", "User takes one argument, Effective user id for this server"),
        (Worker, "LoadModule foo_module", "LoadModule", "LoadModule takes two arguments, modules are not loaded at run time; the MPM is chosen by cargo feature or `Mpm`"),
        (Worker, "Listen", "Listen", "Listen takes one or two arguments, A port number or a numeric IP address and a port number, and an optional protocol"),
        (Worker, "Mutex", "Mutex", "Mutex requires at least one argument, accept serialization is built into each strategy"),
        (Worker, "Include", "Include", "Include takes one argument, Name(s) of the config file(s) to be included"),
        (Worker, "MinSpareServers 5", "MinSpareServers", "MinSpareServers is not valid for the worker MPM"),
        (Event, "MaxSpareServers 5", "MaxSpareServers", "MaxSpareServers is not valid for the event MPM"),
        (Prefork, "ThreadsPerChild 5", "ThreadsPerChild", "ThreadsPerChild is not valid for the prefork MPM"),
        (Prefork, "ThreadLimit 5", "ThreadLimit", "ThreadLimit is not valid for the prefork MPM"),
        (Prefork, "MinSpareThreads 5", "MinSpareThreads", "MinSpareThreads is not valid for the prefork MPM"),
        (Worker, "AsyncRequestWorkerFactor 2", "AsyncRequestWorkerFactor", "AsyncRequestWorkerFactor is not valid for the worker MPM"),
        (Event, "StartServer 3", "StartServer", "Invalid command 'StartServer', perhaps misspelled or defined by a module not included in the server configuration; did you mean StartServers?"),
        (Event, "MaxSpareThread 3", "MaxSpareThread", "Invalid command 'MaxSpareThread', perhaps misspelled or defined by a module not included in the server configuration; did you mean MaxSpareThreads?"),
        (Event, "Frobnicate yes", "Frobnicate", "Invalid command 'Frobnicate', perhaps misspelled or defined by a module not included in the server configuration"),
        (Event, "PidFile \"run/x.pid", "PidFile", "unterminated quoted string: missing closing \""),
    ];
    for (kind, text, directive, message) in table {
        let got = one(*kind, text);
        assert_eq!(
            got,
            (1, directive.to_string(), message.to_string()),
            "{text}"
        );
    }
}

#[test]
fn zero_is_legal_and_clamped_with_a_warning() {
    let c = ok(
        MpmKind::Worker,
        "StartServers 0\nMaxConnectionsPerChild 0\nTimeout 0",
    );
    assert_eq!(c.limits.start_servers, 1);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.timeout.as_secs(), 0);
    let c = ok(MpmKind::Worker, "StartServers +4");
    assert_eq!(c.limits.start_servers, 4);
}

#[test]
fn all_errors_of_a_file_are_reported_in_order() {
    let text = "\
# header
StartServers abc
<IfModule mpm_worker_module>
    MaxSpareServers 3
    ThreadsPerChild 1 2
</IfModule>
Bogus
KeepAlive sometimes
";
    let got = errs(MpmKind::Worker, text);
    let located: Vec<(usize, &str)> = got.iter().map(|(l, d, _)| (*l, d.as_str())).collect();
    assert_eq!(
        located,
        [
            (2, "StartServers"),
            (4, "MaxSpareServers"),
            (5, "ThreadsPerChild"),
            (7, "Bogus"),
            (8, "KeepAlive")
        ]
    );
}

#[test]
fn section_errors() {
    use labels::Event;
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "</IfModule>",
            1,
            "</IfModule>",
            "</IfModule> without matching <IfModule> section",
        ),
        (
            "<IfModule mpm_event_module>\nStartServers 2",
            1,
            "<IfModule>",
            "<IfModule> was not closed",
        ),
        (
            "<IfModule x>\n</IfDefine>",
            2,
            "</IfDefine>",
            "Expected </IfModule> but saw </IfDefine>",
        ),
        (
            "<VirtualHost *:80>\n</VirtualHost>",
            1,
            "<VirtualHost>",
            "unknown section <VirtualHost>: only <IfModule> and <IfDefine> are supported",
        ),
        (
            "<IfModule a b>\n</IfModule>",
            1,
            "<IfModule>",
            "<IfModule> takes one argument",
        ),
        (
            "<IfModule>\n</IfModule>",
            1,
            "<IfModule>",
            "<IfModule> takes one argument",
        ),
        (
            "<IfModule mpm_event_module\n</IfModule>",
            1,
            "<IfModule>",
            "<IfModule> directive missing closing '>'",
        ),
    ];
    for (text, line, directive, message) in cases {
        let got = one(Event, text);
        assert_eq!(
            got,
            (*line, directive.to_string(), message.to_string()),
            "{text}"
        );
    }
}

#[test]
fn inactive_sections_are_not_validated_but_must_balance() {
    let c = ok(
        MpmKind::Event,
        "<IfModule mpm_winnt_module>\n  ThreadsPerChild x y z\n  <Directory />\n  Nonsense\n  </Directory>\n</IfModule>\n<IfDefine FOO>\nMaxThreads 5\n</IfDefine>",
    );
    assert!(c.warnings.is_empty());
    let got = one(
        MpmKind::Event,
        "<IfModule mpm_winnt_module>\n<Directory />\n</IfModule>\n",
    );
    assert_eq!(got.2, "Expected </Directory> but saw </IfModule>");
}

#[test]
fn aliases_set_the_new_directive_and_leave_a_notice() {
    let c = ok(MpmKind::Prefork, "MaxClients 100\nMaxRequestsPerChild 1000");
    assert_eq!(c.limits.max_request_workers, 100);
    assert_eq!(c.limits.max_connections_per_child, 1000);
    assert_eq!(
        c.notices,
        [
            format!("{ORIGIN}:1: MaxClients is deprecated, use MaxRequestWorkers instead."),
            format!(
                "{ORIGIN}:2: MaxRequestsPerChild is deprecated, use MaxConnectionsPerChild instead."
            ),
        ]
    );
    // The alias and the new name share one value: the last occurrence wins.
    let c = ok(MpmKind::Worker, "MaxRequestWorkers 200\nmaxclients 300");
    assert_eq!(c.limits.max_request_workers, 300);
    let c = ok(MpmKind::Worker, "MaxClients 300\nMaxRequestWorkers 200");
    assert_eq!(c.limits.max_request_workers, 200);
}

#[test]
fn ignored_directives_are_accepted_with_a_notice() {
    let text = "\
MaxMemFree 2048
ThreadStackSize 65536
ScoreBoardFile logs/apache_runtime_status
Mutex default mpm-accept
AcceptFilter http data
ListenCoresBucketsRatio 2
SendBufferSize 65536
ReceiveBufferSize 65536
CoreDumpDirectory /tmp
EnableExceptionHook On
ServerName www.example.com:80
ServerRoot \"/usr/local/apache2\"
LoadModule mpm_event_module modules/mod_mpm_event.so
";
    for kind in MpmKind::ALL {
        let c = ok(kind, text);
        assert_eq!(c.notices.len(), 13);
        for (i, n) in c.notices.iter().enumerate() {
            assert!(n.starts_with(&format!("{ORIGIN}:{}: ", i + 1)), "{n}");
            assert!(n.contains(" is accepted and ignored: "), "{n}");
        }
    }
}

#[test]
fn last_occurrence_wins() {
    let c = ok(
        MpmKind::Event,
        "StartServers 2\nStartServers 4\nKeepAlive Off\nKeepAlive ON",
    );
    assert_eq!(c.limits.start_servers, 4);
    assert!(c.keep_alive);
}

#[test]
fn listen_accumulates() {
    let c = ok(
        MpmKind::Event,
        "Listen 8080\nListen 127.0.0.1:8081\nListen [::1]:8082\nListen 127.0.0.1:8083 http",
    );
    let addrs: Vec<String> = c.listen.iter().map(|l| l.addr.to_string()).collect();
    assert_eq!(addrs.len(), 4);
    assert!(addrs[0].ends_with(":8080"));
    assert_eq!(addrs[1], "127.0.0.1:8081");
    assert_eq!(addrs[2], "[::1]:8082");
    assert_eq!(addrs[3], "127.0.0.1:8083");
    let got = one(MpmKind::Event, "Listen nonsense:port");
    assert_eq!((got.0, got.1.as_str()), (1, "Listen"));
}
