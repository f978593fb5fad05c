//! Raw file descriptors inherited across `exec` (systemd socket activation).
//!
//! A descriptor number handed over by a parent (`LISTEN_FDS`) is not owned by any Rust object
//! yet. The functions here are the only places that turn such a number into a borrowed or
//! owned descriptor; a process-wide registry makes sure each number is taken at most once, so
//! two owners can never close the same descriptor.

use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

/// Descriptor numbers already turned into an [`OwnedFd`] by [`take_inherited`].
static TAKEN: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

fn already_taken(fd: RawFd) -> bool {
    TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .contains(&fd)
}

/// Whether `fd` is an open descriptor of this process.
pub fn is_open(fd: RawFd) -> bool {
    if fd < 0 {
        return false;
    }
    // SAFETY: F_GETFD only reads the descriptor flags of the number given; it touches no
    // memory of ours and is harmless on a closed or foreign number (it fails with EBADF).
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    r >= 0
}

/// Run `f` with a socket view of the inherited descriptor `fd`, without taking ownership.
///
/// Returns `None` when `fd` is not open or has already been taken by [`take_inherited`]
/// (its owner may close it at any time, so it must not be borrowed by number any more).
pub fn inspect_inherited<R>(fd: RawFd, f: impl FnOnce(socket2::SockRef<'_>) -> R) -> Option<R> {
    if already_taken(fd) || !is_open(fd) {
        return None;
    }
    // SAFETY: `fd` is open (F_GETFD just succeeded) and no Rust owner exists for it (it is
    // not in the registry of taken descriptors), so nothing can close it while the borrow
    // lives; the borrow does not escape this function, and `SockRef` never closes.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Some(f(socket2::SockRef::from(&borrowed)))
}

/// Take ownership of the inherited descriptor `fd` (it is closed when the result drops).
///
/// Fails with `EBADF` when `fd` is not open and with `EALREADY` when it was taken before.
/// Only descriptor numbers that were inherited at `exec` and that no other part of the
/// program has wrapped may be given here; the registry enforces "at most once" for the
/// numbers that pass through this function.
pub fn take_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if taken.contains(&fd) {
        return Err(io::Error::from_raw_os_error(libc::EALREADY));
    }
    if !is_open(fd) {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    taken.push(fd);
    // SAFETY: `fd` is open, was inherited from our parent rather than opened by Rust code,
    // and the registry (checked and updated under its lock just above) guarantees this is
    // the only `OwnedFd` ever built from this number, so it has exactly one owner.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether the close-on-exec flag is set on `fd` (`None` when the descriptor is not open).
pub fn cloexec(fd: &impl std::os::fd::AsFd) -> Option<bool> {
    use std::os::fd::AsRawFd;
    let raw = fd.as_fd().as_raw_fd();
    // SAFETY: F_GETFD only reads the flags of a descriptor we hold a borrow of.
    let r = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    (r >= 0).then_some(r & libc::FD_CLOEXEC != 0)
}

/// Register an owned descriptor with the current tokio reactor, to await its readiness
/// (e.g. the graceful-stop pipe). Must be called inside a runtime.
pub fn async_fd(fd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: the AsyncFd takes ownership of `fd`, so the descriptor stays open for exactly
    // as long as it is registered and is closed only after deregistration, which is the
    // I/O-safety contract `register` asks for.
    unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(io::Error::from)
}
