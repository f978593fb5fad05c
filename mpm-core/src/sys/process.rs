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
