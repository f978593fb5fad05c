//! RLIMIT_NOFILE: raised to the hard limit, and the estimate compared with it.
//!
//! One test only: it lowers this test process's own hard limit (irreversibly), so it must
//! not share a process with other tests.

use mpm_core::config::ServerConfig;
use mpm_core::descriptors::{descriptors_needed, ensure_nofile, nofile, BASE_DESCRIPTORS};
use mpm_core::MpmKind;
use nix::sys::resource::{setrlimit, Resource};
use std::path::Path;

fn limits(kind: MpmKind, text: &str) -> mpm_core::Limits {
    ServerConfig::from_config_str(text, Path::new("t.conf"), kind, None)
        .unwrap()
        .limits
}

#[test]
fn raised_to_the_hard_limit_and_warned_when_short() {
    let prefork = limits(MpmKind::Prefork, "");
    let worker = limits(MpmKind::Worker, "ThreadsPerChild 25");
    let event = limits(
        MpmKind::Event,
        "ThreadsPerChild 64\nThreadLimit 64\nAsyncRequestWorkerFactor 2",
    );
    assert_eq!(descriptors_needed(&prefork, 1), BASE_DESCRIPTORS + 1 + 1);
    assert_eq!(descriptors_needed(&worker, 2), BASE_DESCRIPTORS + 2 + 26);
    assert_eq!(
        descriptors_needed(&event, 1),
        BASE_DESCRIPTORS + 1 + 64 * 3 + 1
    );

    let start = nofile().unwrap();
    let hard = start.hard.min(150);
    assert!(
        hard > 100,
        "this test needs a hard limit above 100 ({start:?})"
    );
    setrlimit(Resource::RLIMIT_NOFILE, 100, hard).unwrap();

    let r = ensure_nofile(&prefork, 1).unwrap();
    assert_eq!(r.before.soft, 100);
    assert_eq!(r.after.soft, hard, "soft raised to the hard limit");
    assert_eq!(nofile().unwrap().soft, hard);
    assert!(!r.short(), "{r:?}");

    let r = ensure_nofile(&event, 1).unwrap();
    assert_eq!(r.needed, 226);
    assert!(r.short(), "{r:?}");
}
