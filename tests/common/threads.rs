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
///
/// Read from `/proc/<pid>/task/<tid>/syscall` (the syscall number, known for x86_64 and
/// aarch64), else from its `wchan` (the kernel function it waits in, when the kernel shows
/// it). `None` when neither tells: `syscall` needs ptrace access and a kernel built with
/// it, `wchan` shows `0` where symbols are hidden.
pub fn in_sleep(pid: i32, tid: i32) -> Option<bool> {
    let task = format!("/proc/{pid}/task/{tid}");
    // nanosleep, clock_nanosleep
    let sleeps: Option<[&str; 2]> = if cfg!(target_arch = "x86_64") {
        Some(["35", "230"])
    } else if cfg!(target_arch = "aarch64") {
        Some(["101", "115"])
    } else {
        None
    };
    if let (Some(sleeps), Ok(s)) = (sleeps, std::fs::read_to_string(format!("{task}/syscall"))) {
        // "running" when the thread is on a CPU: not asleep.
        if let Some(nr) = s.split_whitespace().next() {
            return Some(sleeps.contains(&nr));
        }
    }
    let wchan = std::fs::read_to_string(format!("{task}/wchan")).ok()?;
    let wchan = wchan.trim();
    (!wchan.is_empty() && wchan != "0").then(|| wchan.contains("nanosleep"))
}

/// How many of the `worker-*` threads of `pid` are inside the `/sleep` handler, if the
/// kernel lets us see it (`None` also while `pid` has no worker thread).
pub fn sleeping_workers(pid: i32) -> Option<usize> {
    let workers = named(pid, "worker-");
    if workers.is_empty() {
        return None;
    }
    let mut n = 0;
    for t in workers {
        n += usize::from(in_sleep(pid, t)?);
    }
    Some(n)
}

/// Whether the kernel shows what `pid`'s (idle) worker threads are blocked in, polled for
/// up to 10 s; if it never does, skip `test` with a notice or, under `CI=true`, fail it
/// (a saturation test cannot know its slow requests reached the workers without it).
pub fn require_sleep_visible(test: &str, pid: i32) -> bool {
    super::wait_until(std::time::Duration::from_secs(10), || {
        sleeping_workers(pid).is_some()
    }) || super::tools::skip_or_fail(
        test,
        &format!(
            "the kernel does not show what the worker threads of {pid} are blocked in \
             (/proc/<pid>/task/<tid>/syscall and wchan)"
        ),
    )
}

/// Wait until exactly `n` workers of `pid` are in the `/sleep` handler, seen in /proc;
/// false when that is not seen within `timeout` (also when /proc does not show it: check
/// [`require_sleep_visible`] first).
pub fn wait_sleeping_workers(pid: i32, n: usize, timeout: std::time::Duration) -> bool {
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
