//! Blocking reads and writes on a connection's (non-blocking) socket, for the blocking
//! streaming handler: its `Read` and `Write` run on the handler's thread while the
//! connection's task waits for the handler, so they go to the socket directly (plain
//! system calls, not the runtime's readiness, which nobody drives while a prefork child's
//! only thread is in the handler). Every wait has a deadline, so a client that stops
//! reading or sending cannot hold a worker for ever.

use super::transport::Transport;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::time::Instant;

/// Wait until `stream` is readable (`read`) or writable, or `deadline` passes.
fn wait(stream: &Transport, read: bool, deadline: Instant) -> io::Result<()> {
    let flags = if read {
        PollFlags::POLLIN
    } else {
        PollFlags::POLLOUT
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                if read {
                    "timed out reading the request body"
                } else {
                    "timed out writing the response"
                },
            ));
        }
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(stream.as_fd(), flags)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Read once into `buf`'s spare capacity (growing it by up to `step`), waiting until
/// `deadline` at most; `Ok(0)` is end-of-file.
pub(crate) fn read_some(
    stream: &Transport,
    buf: &mut Vec<u8>,
    step: usize,
    deadline: Instant,
) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(start + step, 0);
    let r = loop {
        match stream.sync_read(&mut buf[start..]) {
            Ok(n) => break Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = wait(stream, true, deadline) {
                    break Err(e);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(start + *r.as_ref().unwrap_or(&0));
    r
}

/// Write every slice completely; each wait for the socket to take more ends at
/// `Timeout` from its start.
pub(crate) fn write_all(
    stream: &Transport,
    parts: &[&[u8]],
    timeout: std::time::Duration,
) -> io::Result<()> {
    let mut parts: Vec<&[u8]> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    let mut first = 0;
    while first < parts.len() {
        let slices: Vec<IoSlice<'_>> = parts[first..].iter().map(|p| IoSlice::new(p)).collect();
        match stream.sync_write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(mut n) => {
                while n > 0 && first < parts.len() {
                    let take = n.min(parts[first].len());
                    parts[first] = &parts[first][take..];
                    n -= take;
                    if parts[first].is_empty() {
                        first += 1;
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(stream, false, Instant::now() + timeout)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // TLS: records rustls still holds go out before the write counts as done.
    loop {
        match stream.sync_try_flush() {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait(stream, false, Instant::now() + timeout)?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
