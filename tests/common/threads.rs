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
/// `None` when the kernel does not show it (`/proc/<pid>/task/<tid>/syscall` needs ptrace
/// access, and its numbers are the x86_64 ones).
pub fn in_sleep(pid: i32, tid: i32) -> Option<bool> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")).ok()?;
    Some(matches!(
        s.split_whitespace().next(),
        Some("35") | Some("230") // nanosleep, clock_nanosleep
    ))
}

/// How many of the `worker-*` threads of `pid` are inside the `/sleep` handler, if the
/// kernel lets us see it.
pub fn sleeping_workers(pid: i32) -> Option<usize> {
    let mut n = 0;
    for t in named(pid, "worker-") {
        n += usize::from(in_sleep(pid, t)?);
    }
    Some(n)
}

/// Wait until `n` workers of `pid` are in the `/sleep` handler. Where that cannot be
/// seen, wait a fixed, generous settling time instead.
pub fn wait_sleeping_workers(pid: i32, n: usize, timeout: std::time::Duration) -> bool {
    if sleeping_workers(pid).is_none() {
        eprintln!("cannot see worker threads' syscalls; settling for 500 ms instead");
        std::thread::sleep(std::time::Duration::from_millis(500));
        return true;
    }
    super::wait_until(timeout, || sleeping_workers(pid) == Some(n))
}

/// Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it);
/// returns the new soft limit.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).expect("setrlimit");
    getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit").0
}
