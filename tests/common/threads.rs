//! What a server's threads are doing, read from /proc (for saturation tests), and the
//! test process's own limits.

/// Thread ids of `pid` whose name starts with `prefix`.
pub fn named(pid: i32, prefix: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|tid| {
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                .is_ok_and(|c| c.trim_end().starts_with(prefix))
        })
        .collect()
}

/// Whether thread `tid` of `pid` is blocked in `nanosleep`/`clock_nanosleep` (the example's
/// `/sleep` route uses `std::thread::sleep`; idle workers wait on a futex instead).
pub fn in_sleep(pid: i32, tid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")).is_ok_and(|s| {
        matches!(
            s.split_whitespace().next(),
            Some("35") | Some("230") // x86_64 nanosleep, clock_nanosleep
        )
    })
}

/// How many of the `worker-*` threads of `pid` are inside the `/sleep` handler.
pub fn sleeping_workers(pid: i32) -> usize {
    named(pid, "worker-")
        .into_iter()
        .filter(|&t| in_sleep(pid, t))
        .count()
}

/// Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it);
/// returns the new soft limit.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
    getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit").0
}
