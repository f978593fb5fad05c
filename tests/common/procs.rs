//! Processes, read from /proc.

/// Pids whose parent is `ppid` (zombies excluded).
pub fn children_of(ppid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some((parent, state)) = stat(pid) {
            if parent == ppid && state != 'Z' {
                out.push(pid);
            }
        }
    }
    out.sort_unstable();
    out
}

/// (ppid, state) of a process.
pub fn stat(pid: i32) -> Option<(i32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Whether the process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    matches!(stat(pid), Some((_, s)) if s != 'Z')
}

/// Threads of a process.
pub fn threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// (uid, gid) of a process (effective).
pub fn ids(pid: i32) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u32> {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()
    };
    Some((field("Uid:")?, field("Gid:")?))
}

/// Send a signal, ignoring a vanished process.
pub fn kill(pid: i32, sig: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::try_from(sig).ok(),
    );
}
