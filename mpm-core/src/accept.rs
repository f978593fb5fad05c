//! Accepting connections in a blocking child (prefork) or listener thread (worker):
//! poll every listener plus a wake-up descriptor, accept without blocking, and treat accept
//! errors as the normal events they are.

use crate::listen::Listener;
use crate::slots::ChildSlots;
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
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

/// Accepts from several listeners without starving any: listeners are waited on together
/// and served round-robin, so a child never sleeps on one socket while another has
/// clients.
///
/// The wait is an epoll set with the listeners registered `EPOLLEXCLUSIVE`: when a
/// connection arrives, the kernel wakes one waiting process (or a few), not every idle
/// child — the thundering herd Apache avoids with its accept mutex, without the mutex.
pub struct Acceptor<'a> {
    listeners: &'a [Listener],
    next: usize,
    shortage: Shortage,
    epoll: Epoll,
    wake: Option<RawFd>,
    /// The last accept found a connection: under load the next one is usually waiting
    /// already, so it is taken without asking the poller first (one `epoll_wait` and a
    /// wake-up less per connection); the first miss goes back to waiting.
    hot: bool,
}

/// The epoll data of the wake-up descriptor (listeners use their index).
const WAKE: u64 = u64::MAX;
/// One descriptor/memory shortage episode at a time: logged once when it starts and once
/// when it ends, counted in the scoreboard, never a busy loop. While descriptors free up
/// one at a time, accepts succeed and fail in turn: an episode ends only at a successful
/// accept [`EPISODE_GAP`] after the last failure, so the log says it once.
#[derive(Default)]
pub struct Shortage {
    since: Option<Instant>,
    last_hit: Option<Instant>,
    slots: Option<ChildSlots>,
}

/// Quiet time after the last shortage before an episode counts as over.
pub const EPISODE_GAP: Duration = Duration::from_secs(1);

impl Shortage {
    /// Count episodes in the scoreboard's lifecycle counters, through `slots`.
    pub fn counting(slots: ChildSlots) -> Shortage {
        Shortage {
            since: None,
            last_hit: None,
            slots: Some(slots),
        }
    }

    /// An accept failed for lack of resources: log and count if this starts an episode.
    /// The caller then waits [`SHORTAGE_BACKOFF`] before accepting again.
    pub fn hit(&mut self, e: &io::Error) {
        self.last_hit = Some(Instant::now());
        if self.since.is_none() {
            self.since = Some(Instant::now());
            tracing::error!("accept: {e}; backing off until descriptors or memory free up");
            if let Some(slots) = &self.slots {
                slots.count_accept_backoff();
            }
        }
    }

    /// An accept succeeded: end the episode, if any.
    pub fn recovered(&mut self) {
        if self.last_hit.is_some_and(|t| t.elapsed() < EPISODE_GAP) {
            return;
        }
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
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(io::Error::from)?;
        for (i, l) in listeners.iter().enumerate() {
            l.socket.set_nonblocking(true)?;
            let interest = EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE;
            epoll
                .add(&l.socket, EpollEvent::new(interest, i as u64))
                .map_err(io::Error::from)?;
        }
        Ok(Acceptor {
            listeners,
            next: 0,
            shortage: Shortage::default(),
            epoll,
            wake: None,
            hot: false,
        })
    }

    /// Count shortage episodes in the scoreboard, through `slots`.
    pub fn counting(mut self, slots: ChildSlots) -> Acceptor<'a> {
        self.shortage = Shortage::counting(slots);
        self
    }

    /// Wait up to `timeout` for a connection on any listener or for `wake` to be readable.
    pub fn accept(&mut self, wake: Option<BorrowedFd<'_>>, timeout: Duration) -> Accepted {
        if let Some(w) = wake {
            if self.wake != Some(w.as_raw_fd()) {
                if let Err(e) = self
                    .epoll
                    .add(w, EpollEvent::new(EpollFlags::EPOLLIN, WAKE))
                {
                    return Accepted::Fatal(io::Error::from(e));
                }
                self.wake = Some(w.as_raw_fd());
            }
        }
        if self.hot && !self.listeners.is_empty() {
            let index = self.next;
            self.next = (index + 1) % self.listeners.len();
            match self.accept_from(index) {
                Accepted::Nothing => self.hot = false,
                other => return other,
            }
        }
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut events = [EpollEvent::empty(); 8];
        let n = match self.epoll.wait(
            &mut events,
            EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::MAX),
        ) {
            Ok(0) | Err(Errno::EINTR) => return Accepted::Nothing,
            Ok(n) => n,
            Err(e) => return Accepted::Fatal(io::Error::from(e)),
        };
        let ready = &events[..n];
        if wake.is_some() && ready.iter().any(|e| e.data() == WAKE) {
            return Accepted::Woken;
        }
        // Round-robin among the ready listeners: the first ready at or after `next`, else
        // the lowest ready one (no allocation: this runs once per connection).
        let ready_listeners = ready
            .iter()
            .map(|e| e.data() as usize)
            .filter(|&i| i < self.listeners.len());
        let next = self.next;
        let pick = ready_listeners
            .clone()
            .filter(|&i| i >= next)
            .min()
            .or_else(|| ready_listeners.min());
        let Some(pick) = pick else {
            return Accepted::Nothing;
        };
        self.next = (pick + 1) % self.listeners.len();
        self.accept_from(pick)
    }

    fn accept_from(&mut self, index: usize) -> Accepted {
        match self.listeners[index].socket.accept() {
            Ok((stream, peer)) => {
                self.shortage.recovered();
                self.hot = true;
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
