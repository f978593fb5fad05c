//! Live scaling from outside: SIGTTIN / SIGTTOU move the spare targets at run time.

mod common;

use common::{wait_until, Server};
use std::time::Duration;

#[test]
fn ttin_ttou_move_spare_targets() {
    let server = Server::start(
        "prefork",
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 20\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    // Signals of one kind do not queue: send the next once the last was seen.
    for (min, max) in [(2, 3), (3, 4), (4, 5)] {
        server.signal(libc::SIGTTIN);
        let line = format!("SIGTTIN received: spare servers now {min}..{max}");
        assert!(
            wait_until(Duration::from_secs(10), || server.log().contains(&line)),
            "{line} missing:\n{}",
            server.log()
        );
    }
    assert!(
        wait_until(Duration::from_secs(15), || server.children().len() >= 4),
        "children did not grow: {:?}",
        server.children()
    );
    for (min, max) in [(3, 4), (2, 3), (1, 2)] {
        server.signal(libc::SIGTTOU);
        let line = format!("SIGTTOU received: spare servers now {min}..{max}");
        assert!(
            wait_until(Duration::from_secs(10), || server.log().contains(&line)),
            "{line} missing:\n{}",
            server.log()
        );
    }
    assert!(
        wait_until(Duration::from_secs(20), || server.children().len() <= 2),
        "children did not shrink: {:?}",
        server.children()
    );
}

/// A graceful restart rereads the configuration but keeps the listeners bound at start:
/// a changed `Listen` is said in the log (and the old address goes on serving); an
/// unchanged one says nothing.
#[test]
fn a_changed_listen_at_graceful_restart_is_reported_and_the_old_address_kept() {
    const WARNING: &str = "Listen directives changed";
    let server = Server::start(
        "prefork",
        "StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\n",
    );
    let generation = |server: &Server| {
        server
            .status()
            .get("ParentServerConfigGeneration")
            .cloned()
            .unwrap_or_default()
    };
    let restarted_to = |server: &Server, want: &str| {
        wait_until(Duration::from_secs(10), || generation(server) == want)
    };
    assert_eq!(generation(&server), "1", "log:\n{}", server.log());

    // Same configuration: the new generation comes up without the warning.
    server.signal(libc::SIGUSR1);
    assert!(
        restarted_to(&server, "2"),
        "no restart; log:\n{}",
        server.log()
    );
    assert!(!server.log().contains(WARNING), "{}", server.log());

    // Another address: warned, and still served where it was bound.
    let conf = std::fs::read_to_string(server.conf_path()).unwrap();
    let moved = conf.replacen("Listen 127.0.0.1:0", "Listen 127.0.0.1:1", 1);
    assert_ne!(
        conf, moved,
        "the test's config has no Listen line to change"
    );
    std::fs::write(server.conf_path(), moved).unwrap();
    server.signal(libc::SIGUSR1);
    assert!(
        restarted_to(&server, "3"),
        "no restart; log:\n{}",
        server.log()
    );
    assert!(
        server.log().contains(WARNING),
        "no warning; log:\n{}",
        server.log()
    );
    let answer = common::client::get(server.addr, "/").expect("the old address answers");
    assert_eq!(answer.status, 200);
}
