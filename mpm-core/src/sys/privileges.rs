//! `User` / `Group`: resolve names in the master, assume them in each child.

use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::CString;

/// A resolved `User`/`Group` pair, ready to be assumed after fork.
#[derive(Debug, Clone)]
pub struct Identity {
    /// User name (for initgroups), if a user was given.
    pub user: Option<CString>,
    /// Target uid.
    pub uid: Option<Uid>,
    /// Target gid.
    pub gid: Option<Gid>,
}

fn numeric(spec: &str) -> Option<u32> {
    spec.strip_prefix('#').and_then(|n| n.parse().ok())
}

/// Resolve `User` and `Group` (names, or `#number` as Apache accepts). A user without a
/// group takes the user's primary group.
pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Identity, String> {
    let mut id = Identity {
        user: None,
        uid: None,
        gid: None,
    };
    if let Some(u) = user {
        let entry = match numeric(u) {
            Some(n) => User::from_uid(Uid::from_raw(n)),
            None => User::from_name(u),
        }
        .map_err(|e| format!("User {u}: cannot look up user: {e}"))?;
        match entry {
            Some(entry) => {
                id.uid = Some(entry.uid);
                id.gid = Some(entry.gid);
                id.user = CString::new(entry.name).ok();
            }
            None if numeric(u).is_some() => id.uid = numeric(u).map(Uid::from_raw),
            None => return Err(format!("User {u}: no such user")),
        }
    }
    if let Some(g) = group {
        let gid = match numeric(g) {
            Some(n) => Gid::from_raw(n),
            None => {
                Group::from_name(g)
                    .map_err(|e| format!("Group {g}: cannot look up group: {e}"))?
                    .ok_or_else(|| format!("Group {g}: no such group"))?
                    .gid
            }
        };
        id.gid = Some(gid);
    }
    Ok(id)
}

/// Whether the process runs as root (only then are `User`/`Group` applied, as Apache).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Assume `id` for good: group, supplementary groups, then user. Does nothing unless root.
pub fn assume(id: &Identity) -> Result<(), String> {
    if !is_root() {
        return Ok(());
    }
    if let Some(gid) = id.gid {
        nix::unistd::setgid(gid).map_err(|e| format!("setgid({gid}): {e}"))?;
        match &id.user {
            Some(name) => nix::unistd::initgroups(name, gid)
                .map_err(|e| format!("initgroups({name:?}, {gid}): {e}"))?,
            None => nix::unistd::setgroups(&[gid]).map_err(|e| format!("setgroups({gid}): {e}"))?,
        }
    }
    if let Some(uid) = id.uid {
        nix::unistd::setuid(uid).map_err(|e| format!("setuid({uid}): {e}"))?;
    }
    Ok(())
}
