//! Zero-downtime binary upgrade (SIGUSR2): a new executable takes over the listening
//! sockets while requests keep flowing; a new binary that fails leaves the old one serving.

mod common;

use common::client;
use common::load::Load;
use common::{httpd_path, procs, wait_until, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CONF: &str = "StartServers 2
<IfModule mpm_prefork_module>
    MinSpareServers 1
    MaxSpareServers 10
</IfModule>
<IfModule !mpm_prefork_module>
    MinSpareThreads 1
    MaxSpareThreads 100
    ThreadsPerChild 4
    ThreadLimit 4
    ServerLimit 8
    MaxRequestWorkers 16
</IfModule>
";

/// Install `source` at `target` as a new file (new inode), as a package upgrade does.
fn install(source: &Path, target: &Path) {
    let tmp = target.with_extension("new");
    std::fs::copy(source, &tmp).expect("copy binary");
    std::fs::rename(&tmp, target).expect("install binary");
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Stops a master that is not our child (the upgraded one) when the test ends.
struct Reaper(Option<i32>);
impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let children = procs::children_of(pid);
            procs::kill(pid, libc::SIGTERM);
            if !wait_until(Duration::from_secs(12), || !procs::alive(pid)) {
                procs::kill(pid, libc::SIGKILL);
            }
            for c in children {
                procs::kill(c, libc::SIGKILL);
            }
        }
    }
}

fn start_copy(mpm: &'static str, envs: &[(&str, &str)]) -> (Server, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("httpd-bin");
    install(&httpd_path(), &exe);
    let server = Server::start_in(dir, &exe, mpm, CONF, &[], envs);
    (server, exe)
}

fn upgrade_under_load(mpm: &'static str) {
    let (mut server, exe) = start_copy(mpm, &[]);
    let old = server.pid();
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        >= 2));
    let load = Load::start(server.addr, 4, 2);
    let ok = || load.tally.ok.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        wait_until(Duration::from_secs(10), || ok() >= 20),
        "the load did not get going"
    );
    install(&httpd_path(), &exe);
    let at_signal = ok();
    server.signal(libc::SIGUSR2);
    let pid_file = server.pid_file();
    let mut new_pid = None;
    let took_over = wait_until(Duration::from_secs(30), || {
        new_pid = read_pid(&pid_file).filter(|&p| p != old && procs::alive(p));
        new_pid.is_some()
    });
    let _reaper = Reaper(new_pid);
    assert!(
        took_over,
        "no new master in the PidFile; log:\n{}",
        server.log()
    );
    let at_takeover = ok();
    assert!(
        server.wait_exit(Duration::from_secs(30)),
        "old master did not exit; log:\n{}",
        server.log()
    );
    // Requests were answered while the upgrade ran (signal to the new master's PidFile),
    // and go on being answered, by the new master's children, after the old one left.
    assert!(
        at_takeover > at_signal,
        "no request answered between SIGUSR2 and the takeover ({at_signal} before, {at_takeover} after)"
    );
    let at_exit = ok();
    eprintln!(
        "{mpm}: {at_signal} answered before SIGUSR2, {at_takeover} at the takeover, {at_exit} when the old master exited"
    );
    assert!(
        wait_until(Duration::from_secs(10), || ok() >= at_exit + 20),
        "the load stalled after the old master exited; log:\n{}",
        server.log()
    );
    let (ok, failed, errors) = load.finish();
    assert_eq!(failed, 0, "{failed} failed of {}: {errors:?}", ok + failed);
    let new_pid = new_pid.unwrap();
    let r = client::get(server.addr, "/pid").expect("served after upgrade");
    let child: i32 = r.body_text().trim().parse().unwrap();
    assert_eq!(procs::stat(child).map(|s| s.0), Some(new_pid));
    assert!(!Path::new(&format!("{}.oldbin", pid_file.display())).exists());
}

fn failed_upgrade_keeps_serving(mpm: &'static str) {
    let (server, exe) = start_copy(mpm, &[("MPM_UPGRADE_TIMEOUT", "2")]);
    let old = server.pid();
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        >= 2));
    // A "new binary" that exits at once, then one that never becomes ready.
    for (script, expect) in [
        ("#!/bin/sh\nexit 3\n", "exited before it was ready"),
        ("#!/bin/sh\nexec sleep 60\n", "did not report ready in time"),
    ] {
        std::fs::write(exe.with_extension("new"), script).unwrap();
        let tmp = exe.with_extension("new");
        let mut perm = std::fs::metadata(&tmp).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&tmp, perm).unwrap();
        std::fs::rename(&tmp, &exe).unwrap();
        let load = Load::start(server.addr, 1, 1);
        server.signal(libc::SIGUSR2);
        assert!(
            wait_until(Duration::from_secs(15), || server.log().contains(expect)),
            "no {expect:?} in log:\n{}",
            server.log()
        );
        assert!(wait_until(Duration::from_secs(5), || read_pid(
            &server.pid_file()
        ) == Some(old)));
        let (ok, failed, errors) = load.finish();
        assert_eq!(failed, 0, "{errors:?}");
        assert!(ok > 0);
        assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
    }
    assert!(procs::alive(old));
}

#[test]
fn prefork_upgrade_under_load() {
    upgrade_under_load("prefork");
}

#[test]
fn event_upgrade_under_load() {
    upgrade_under_load("event");
}

#[test]
fn worker_failed_upgrade_keeps_serving() {
    failed_upgrade_keeps_serving("worker");
}
