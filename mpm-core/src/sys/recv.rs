//! A receive straight into a buffer's spare capacity, bypassing the runtime's readiness
//! bookkeeping (which knows nothing about a socket until the poller has reported it).

use std::io;
use std::os::fd::AsRawFd;

/// One non-blocking `recv(2)` of `fd` into the spare capacity of `buf`, whose length grows
/// by what was read. `WouldBlock` when nothing is waiting.
pub fn recv_spare(fd: &impl AsRawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    // SAFETY: the pointer and length describe `spare`, memory owned by `buf` that stays
    // alive and unaliased for the call; recv writes at most `spare.len()` bytes into it and
    // reads none. MSG_DONTWAIT makes the call non-blocking whatever the descriptor's mode.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            spare.as_mut_ptr().cast(),
            spare.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    let len = buf.len() + n;
    // SAFETY: recv initialised the first `n` bytes of the spare capacity (n ≤ spare.len()).
    unsafe { buf.set_len(len) };
    Ok(n)
}
