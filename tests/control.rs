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
