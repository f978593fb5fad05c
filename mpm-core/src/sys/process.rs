//! Processes: fork, reaping, signalling, parent-death notification.

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};
use std::io;

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCause {
    /// It called exit with this code.
    Exited(i32),
    /// It was killed by this signal (`core` if it dumped core).
    Signaled {
        /// The signal.
        signal: Signal,
        /// Whether a core was dumped.
        core: bool,
    },
}

/// Threads of the calling process, from `/proc/self/task`.
pub fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// Fork; the child runs `child` and exits with the code it returns, never returning here.
///
/// Refuses (with `EDEADLK`-free clarity: an `io::ErrorKind::Other` error) to fork a process
/// that has more than one thread, because only the calling thread survives a fork and any
/// lock another thread held (allocator, runtime, logger) would stay locked forever in the
/// child. This is the rule "the master is single-threaded" enforced, not just documented.
pub fn fork_child<F: FnOnce() -> i32>(child: F) -> io::Result<Pid> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "refusing to fork a process with {threads} threads (the master must stay single-threaded)"
        )));
    }
    // SAFETY: the process has exactly one thread (checked just above), so the child is a
    // faithful copy with no lock held by a vanished thread; the child never returns into
    // the caller's frames but exits after `child` runs.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Parent { child }) => Ok(child),
        Ok(ForkResult::Child) => {
            let code = child();
            std::process::exit(code)
        }
        Err(e) => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

/// Reap one exited child without blocking; `None` when no child has exited.
pub fn reap_one() -> Option<(Pid, ExitCause)> {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => return Some((pid, ExitCause::Exited(code))),
            Ok(WaitStatus::Signaled(pid, signal, core)) => {
                return Some((pid, ExitCause::Signaled { signal, core }))
            }
            Ok(WaitStatus::StillAlive) => return None,
            Ok(_) => continue, // stopped/continued: not an exit
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None, // ECHILD: no children at all
        }
    }
}

/// Send `signal` to `pid`; a vanished process is not an error.
pub fn signal(pid: Pid, signal: Signal) -> io::Result<()> {
    match kill(pid, signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

/// Whether a process with this pid exists (and may be signalled by us).
pub fn is_alive(pid: Pid) -> bool {
    matches!(kill(pid, None), Ok(()) | Err(nix::errno::Errno::EPERM))
}

/// Ask the kernel to send `SIGTERM` to this process when its parent dies, then check the
/// parent is still `expected_parent` (closing the race where it died before the call).
/// Returns false when the parent is already gone.
pub fn die_with_parent(expected_parent: Pid) -> bool {
    // Best effort: without the prctl (non-Linux) the getppid check still runs.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    nix::unistd::getppid() == expected_parent
}

/// The calling process's pid.
pub fn pid() -> Pid {
    nix::unistd::getpid()
}

/// Start `exe` with `args` as a new process that inherits `fds` as descriptors 3, 4, …
/// (systemd's socket-passing convention) with `LISTEN_FDS`, `LISTEN_PID` (its own pid) and
/// the extra `env` variables set. Used for a binary upgrade. Returns its pid; the caller
/// reaps it like any other child.
pub fn spawn_with_fds(
    exe: &std::path::Path,
    args: &[std::ffi::OsString],
    fds: &[std::os::fd::RawFd],
    env: &[(String, String)],
) -> io::Result<Pid> {
    use std::ffi::CString;
    use std::os::unix::process::CommandExt;
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(
            "refusing to spawn from a multi-threaded master",
        ));
    }
    // Everything the child needs is prepared here, before fork, so the pre-exec code
    // neither allocates nor formats.
    let count = CString::new(fds.len().to_string()).map_err(io::Error::other)?;
    let extra: Vec<(CString, CString)> = env
        .iter()
        .map(|(k, v)| Ok((CString::new(k.as_str())?, CString::new(v.as_str())?)))
        .collect::<Result<_, std::ffi::NulError>>()
        .map_err(io::Error::other)?;
    let fds: Vec<std::os::fd::RawFd> = fds.to_vec();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args);
    let pre_exec = move || -> io::Result<()> {
        // First move every descriptor above the target range so dup2 never overwrites a
        // source that is still needed, then place them at 3, 4, … (dup2 clears CLOEXEC).
        let mut high = [0 as libc::c_int; 64];
        for (i, &fd) in fds.iter().enumerate().take(high.len()) {
            // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor the master owns.
            let h = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3 + 64) };
            if h < 0 {
                return Err(io::Error::last_os_error());
            }
            high[i] = h;
        }
        for (i, &h) in high.iter().enumerate().take(fds.len()) {
            // SAFETY: dup2 onto a small fixed descriptor number in the child about to exec.
            if unsafe { libc::dup2(h, 3 + i as libc::c_int) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let mut pid_buf = [0u8; 16];
        let pid_str = format_pid(
            // SAFETY: getpid has no preconditions.
            unsafe { libc::getpid() },
            &mut pid_buf,
        );
        // SAFETY: setenv in the forked child of a single-threaded parent (checked above):
        // no other thread can hold the environment lock; the strings are NUL-terminated.
        unsafe {
            libc::setenv(c"LISTEN_PID".as_ptr(), pid_str.as_ptr().cast(), 1);
            libc::setenv(c"LISTEN_FDS".as_ptr(), count.as_ptr(), 1);
            for (k, v) in &extra {
                libc::setenv(k.as_ptr(), v.as_ptr(), 1);
            }
        }
        Ok(())
    };
    // SAFETY: the closure only calls async-signal-safe functions (fcntl, dup2, getpid) and
    // setenv, which is safe here because the parent is single-threaded (checked above), so
    // the child cannot inherit a held lock; it does not allocate.
    unsafe { cmd.pre_exec(pre_exec) };
    let child = cmd.spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}

/// Write `pid` as NUL-terminated decimal into `buf` without allocating.
fn format_pid(pid: libc::pid_t, buf: &mut [u8; 16]) -> &[u8] {
    let mut n = pid.max(0) as u32;
    let mut digits = [0u8; 10];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[i] = digits[len - 1 - i];
    }
    buf[len] = 0;
    &buf[..=len]
}

/// Reap `pid` if it has exited, without blocking.
pub fn reap_pid(pid: Pid) -> Option<(Pid, ExitCause)> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(p, code)) => Some((p, ExitCause::Exited(code))),
        Ok(WaitStatus::Signaled(p, signal, core)) => {
            Some((p, ExitCause::Signaled { signal, core }))
        }
        _ => None,
    }
}
