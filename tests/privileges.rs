//! The privilege drop in every child (`User` / `Group`, as mod_unixd): the uid and gid,
//! and the supplementary groups — the user's own (initgroups), none of the master's.

mod common;

use common::{client, procs, wait_until, Server};
use nix::unistd::{getgrouplist, Gid, Group, User};
use std::collections::BTreeSet;
use std::ffi::CString;
use std::time::Duration;

/// The supplementary groups of a process (`Groups:` in /proc/PID/status).
fn groups(pid: i32) -> Option<BTreeSet<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Groups:"))?;
    line["Groups:".len()..]
        .split_whitespace()
        .map(|g| g.parse().ok())
        .collect()
}

/// A user who is a member of some group other than their primary one (as listed in the
/// group database), if any; otherwise `nobody`.
fn user_with_supplementary_groups() -> Option<User> {
    let text = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let members = text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() == 4 && !f[3].is_empty()).then(|| (f[2].parse::<u32>().ok(), f[3].to_string()))
    });
    for (gid, names) in members {
        for name in names.split(',') {
            if let Ok(Some(u)) = User::from_name(name) {
                if gid.is_some_and(|g| g != u.gid.as_raw()) && u.uid.as_raw() != 0 {
                    return Some(u);
                }
            }
        }
    }
    User::from_name("nobody").ok().flatten()
}

/// Each child runs as `User` with exactly that user's groups (primary and supplementary,
/// from the group database); the master's (root's) supplementary groups are gone.
#[test]
fn children_take_the_user_s_supplementary_groups_and_drop_the_master_s() {
    if !common::tools::require_root("children_take_the_user_s_supplementary_groups") {
        return;
    }
    let Some(user) = user_with_supplementary_groups() else {
        common::tools::skip_or_fail(
            "children_take_the_user_s_supplementary_groups",
            "no user other than root to run children as",
        );
        return;
    };
    let name = CString::new(user.name.clone()).unwrap();
    let expected: BTreeSet<u32> = getgrouplist(&name, user.gid)
        .expect("getgrouplist")
        .into_iter()
        .map(Gid::as_raw)
        .collect();
    eprintln!(
        "running children as {} (uid {}, gid {}), groups {expected:?}",
        user.name, user.uid, user.gid
    );
    let server = Server::start(
        "prefork",
        &format!(
            "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\nUser {}\n",
            user.name
        ),
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 2));
    let master_groups = groups(server.pid()).expect("master's groups");
    for pid in server.children() {
        assert!(
            wait_until(Duration::from_secs(5), || procs::ids(pid)
                == Some((user.uid.as_raw(), user.gid.as_raw()))),
            "child {pid} ids {:?}",
            procs::ids(pid)
        );
        let got = groups(pid).expect("child's groups");
        assert_eq!(
            got, expected,
            "child {pid}: supplementary groups {got:?}, {}'s are {expected:?} (master's {master_groups:?})",
            user.name
        );
        let foreign: Vec<&u32> = master_groups
            .iter()
            .filter(|g| got.contains(g) && !expected.contains(g))
            .collect();
        assert!(foreign.is_empty(), "master's groups kept: {foreign:?}");
    }
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}

/// `Group` names the primary group: the child takes it, plus the user's supplementary
/// groups (initgroups with that group), as mod_unixd.
#[test]
fn group_directive_sets_the_primary_group() {
    if !common::tools::require_root("group_directive_sets_the_primary_group") {
        return;
    }
    let (Ok(Some(user)), Ok(Some(group))) = (User::from_name("nobody"), Group::from_name("daemon"))
    else {
        common::tools::skip_or_fail(
            "group_directive_sets_the_primary_group",
            "no user nobody or group daemon",
        );
        return;
    };
    let server = Server::start(
        "worker",
        "StartServers 1\nServerLimit 2\nThreadLimit 2\nThreadsPerChild 2\nMaxRequestWorkers 4\n\
         MinSpareThreads 1\nMaxSpareThreads 4\nUser nobody\nGroup daemon\n",
    );
    assert!(wait_until(Duration::from_secs(10), || server
        .children()
        .len()
        == 1));
    let child = server.children()[0];
    let name = CString::new("nobody").unwrap();
    let expected: BTreeSet<u32> = getgrouplist(&name, group.gid)
        .expect("getgrouplist")
        .into_iter()
        .map(Gid::as_raw)
        .collect();
    assert!(
        wait_until(Duration::from_secs(5), || procs::ids(child)
            == Some((user.uid.as_raw(), group.gid.as_raw()))),
        "child ids {:?}",
        procs::ids(child)
    );
    assert_eq!(groups(child).expect("child's groups"), expected);
    assert_eq!(client::get(server.addr, "/").unwrap().status, 200);
}
