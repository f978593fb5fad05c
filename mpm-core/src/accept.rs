//! Accepting connections in a blocking child (prefork) or listener thread (worker):
//! poll every listener plus a wake-up descriptor, accept without blocking, and treat accept
//! errors as the normal events they are.

use crate::listen::Listener;
use crate::scoreboard::Scoreboard;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// What one call to [`Acceptor::accept`] produced.
#[derive(Debug)]
pub enum Accepted {
    /// A client connection.
    Conn(TcpStream, SocketAddr),
    /// The wake-up descriptor became readable (e.g. a graceful stop was requested).
    Woken,
    /// Nothing within the timeout (or a spurious wake-up, or another process won the race).
    Nothing,
    /// An error that should end this child (the listener is gone or broken).
    Fatal(io::Error),
}

/// Accepts from several listeners without starving any: listeners are polled together and
/// served round-robin, so a child never sleeps on one socket while another has clients.
pub struct Acceptor<'a> {
    listeners: &'a [Listener],
    next: usize,
    shortage: Shortage,
}

/// One descriptor/memory shortage episode at a time: logged once when it starts and once
/// when it ends, counted in the scoreboard, never a busy loop.
#[derive(Default)]
pub struct Shortage {
    since: Option<Instant>,
    scoreboard: Option<Scoreboard>,
}

impl Shortage {
    /// Count episodes in `scoreboard`'s lifecycle counters.
    pub fn counting(scoreboard: Scoreboard) -> Shortage {
        Shortage {
            since: None,
            scoreboard: Some(scoreboard),
        }
    }

    /// An accept failed for lack of resources: log and count if this starts an episode.
    /// The caller then waits [`SHORTAGE_BACKOFF`] before accepting again.
    pub fn hit(&mut self, e: &io::Error) {
        if self.since.is_none() {
            self.since = Some(Instant::now());
            tracing::error!("accept: {e}; backing off until descriptors or memory free up");
            if let Some(sb) = &self.scoreboard {
                sb.count_accept_backoff();
            }
        }
    }

    /// An accept succeeded: end the episode, if any.
    pub fn recovered(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                "accept: resources available again after {:.1}s",
                since.elapsed().as_secs_f64()
            );
        }
    }
}

/// How long to back off after a descriptor or memory shortage before accepting again.
pub const SHORTAGE_BACKOFF: Duration = Duration::from_millis(100);

impl<'a> Acceptor<'a> {
    /// Put the listeners in non-blocking mode (they are shared by every child; all
    /// strategies want them non-blocking) and make an acceptor.
    pub fn new(listeners: &'a [Listener]) -> io::Result<Acceptor<'a>> {
        for l in listeners {
            l.socket.set_nonblocking(true)?;
        }
        Ok(Acceptor {
            listeners,
            next: 0,
            shortage: Shortage::default(),
        })
    }

    /// Count shortage episodes in `scoreboard`.
    pub fn counting(mut self, scoreboard: Scoreboard) -> Acceptor<'a> {
        self.shortage = Shortage::counting(scoreboard);
        self
    }

    /// Wait up to `timeout` for a connection on any listener or for `wake` to be readable.
    pub fn accept(&mut self, wake: Option<BorrowedFd<'_>>, timeout: Duration) -> Accepted {
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(self.listeners.len() + 1);
        if let Some(w) = wake {
            fds.push(PollFd::new(w, PollFlags::POLLIN));
        }
        for l in self.listeners {
            fds.push(PollFd::new(l.socket.as_fd(), PollFlags::POLLIN));
        }
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) | Err(Errno::EINTR) => return Accepted::Nothing,
            Ok(_) => {}
            Err(e) => return Accepted::Fatal(io::Error::from_raw_os_error(e as i32)),
        }
        let offset = usize::from(wake.is_some());
        if wake.is_some() && fds[0].any().unwrap_or(false) {
            return Accepted::Woken;
        }
        let ready: Vec<usize> = (0..self.listeners.len())
            .filter(|i| fds[i + offset].any().unwrap_or(false))
            .collect();
        drop(fds);
        if ready.is_empty() {
            return Accepted::Nothing;
        }
        // Round-robin among the ready listeners.
        let pick = ready
            .iter()
            .copied()
            .find(|&i| i >= self.next)
            .unwrap_or(ready[0]);
        self.next = (pick + 1) % self.listeners.len();
        self.accept_from(pick)
    }

    fn accept_from(&mut self, index: usize) -> Accepted {
        match self.listeners[index].socket.accept() {
            Ok((stream, peer)) => {
                self.shortage.recovered();
                Accepted::Conn(stream, peer)
            }
            Err(e) => match classify(&e) {
                AcceptError::Retry => Accepted::Nothing,
                AcceptError::Shortage => {
                    self.shortage.hit(&e);
                    std::thread::sleep(SHORTAGE_BACKOFF);
                    Accepted::Nothing
                }
                AcceptError::Fatal => Accepted::Fatal(e),
            },
        }
    }
}

/// How an accept error is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptError {
    /// Transient (another process took it, the client gave up, a signal): try again.
    Retry,
    /// Out of descriptors or memory: back off, log once per episode, resume by itself.
    Shortage,
    /// The listener itself is broken.
    Fatal,
}

/// Classify an accept error (Apache's list of ignorable errors, plus resource shortages
/// that must not spin or kill the child).
pub fn classify(e: &io::Error) -> AcceptError {
    let errno = e.raw_os_error().map(Errno::from_raw);
    match errno {
        Some(
            Errno::EAGAIN
            | Errno::EINTR
            | Errno::ECONNABORTED
            | Errno::ECONNRESET
            | Errno::ETIMEDOUT
            | Errno::EHOSTUNREACH
            | Errno::ENETUNREACH
            | Errno::EPROTO
            | Errno::EPERM,
        ) => AcceptError::Retry,
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
            AcceptError::Shortage
        }
        _ if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
            AcceptError::Retry
        }
        _ => AcceptError::Fatal,
    }
}
