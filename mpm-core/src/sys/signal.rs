//! Signals delivered through a self-pipe, so a poll loop (the master's, or a child's
//! accept loop) wakes on them and handles them outside the handler.
//!
//! One pipe per process: a forked child calls [`SignalPipe::install`] again, which
//! replaces the inherited pipe and handlers.

use nix::fcntl::OFlag;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Write end of the current pipe, for the handler (-1 = none).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// Bit `n` set = signal `n` arrived and was not yet taken.
static PENDING: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work here: an atomic OR and a write(2); errno is preserved.
    PENDING.fetch_or(1u64 << (sig as u64 & 63), Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let saved = nix::errno::Errno::last_raw();
        let byte = sig as u8;
        // SAFETY: `fd` is the write end of a pipe this process owns for as long as the
        // handler is installed; writing one byte from a stack variable is async-signal-safe.
        // A full pipe (EAGAIN, non-blocking) is fine: the PENDING bit carries the signal.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
        nix::errno::Errno::set_raw(saved);
    }
}

/// The self-pipe with its handlers installed.
#[derive(Debug)]
pub struct SignalPipe {
    read: OwnedFd,
    /// Held open for the handler, which writes to it by its raw number.
    _write: OwnedFd,
}

impl SignalPipe {
    /// Create the pipe (non-blocking, CLOEXEC) and route `signals` to it.
    pub fn install(signals: &[Signal]) -> io::Result<SignalPipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
            .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        PIPE_WRITE.store(write.as_raw_fd(), Ordering::SeqCst);
        PENDING.store(0, Ordering::SeqCst);
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for &sig in signals {
            // SAFETY: `on_signal` only touches atomics and calls write(2), both
            // async-signal-safe; it never allocates, locks or unwinds.
            unsafe { sigaction(sig, &action) }
                .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        }
        Ok(SignalPipe {
            read,
            _write: write,
        })
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Empty the pipe and return the signals that arrived since the last call, in signal
    /// number order (each at most once).
    pub fn take(&self) -> Vec<Signal> {
        let mut buf = [0u8; 64];
        while let Ok(n) = nix::unistd::read(&self.read, &mut buf) {
            if n == 0 {
                break;
            }
        }
        take_pending()
    }
}

/// Signals that arrived (through any installed pipe) and were not yet taken; clears them.
pub fn take_pending() -> Vec<Signal> {
    let bits = PENDING.swap(0, Ordering::SeqCst);
    (1..64)
        .filter(|n| bits & (1u64 << n) != 0)
        .filter_map(|n| Signal::try_from(n).ok())
        .collect()
}

/// Whether `sig` arrived and is still pending (does not clear it).
pub fn is_pending(sig: Signal) -> bool {
    PENDING.load(Ordering::SeqCst) & (1u64 << (sig as i32 as u64)) != 0
}

/// Put `signals` back to their default action.
pub fn restore_default(signals: &[Signal]) {
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for &sig in signals {
        // SAFETY: installing SIG_DFL has no handler code to be unsafe about.
        let _ = unsafe { sigaction(sig, &dfl) };
    }
}

/// Ignore `signals` (e.g. SIGPIPE).
pub fn ignore(signals: &[Signal]) {
    let ign = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for &sig in signals {
        // SAFETY: installing SIG_IGN has no handler code to be unsafe about.
        let _ = unsafe { sigaction(sig, &ign) };
    }
}

/// Unblock every signal in the calling thread (a forked child inherits the mask).
pub fn unblock_all() {
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
}

/// Block every signal in the calling thread, returning the previous mask. The master
/// brackets `fork` with this so a signal cannot reach the child while it still runs the
/// master's handlers (which would write into the master's pipe).
pub fn block_all() -> SigSet {
    let mut old = SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut old),
    );
    old
}

/// Restore a mask returned by [`block_all`].
pub fn restore_mask(old: &SigSet) {
    let _ =
        nix::sys::signal::sigprocmask(nix::sys::signal::SigmaskHow::SIG_SETMASK, Some(old), None);
}
