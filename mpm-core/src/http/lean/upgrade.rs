//! Protocol upgrades (RFC 9110 §7.8, §15.2.2): after a `101 Switching Protocols` response
//! the connection belongs to the handler, with any bytes the client sent past the request
//! head.
//!
//! An async handler takes the [`OnUpgrade`] the connection put in the request's
//! extensions (only for an HTTP/1.1 request with `Connection: upgrade`, an `Upgrade`
//! field and no body), answers 101, and awaits it for an [`Upgraded`] stream. The
//! connection's task lives on until that stream is dropped, so the connection stays
//! counted (and, under prefork and worker, its thread keeps driving the handler's tasks).

use super::transport::Transport;
use bytes::{Buf, Bytes};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

/// The connection after a `101` response: read and write the new protocol on it.
///
/// Reads return the bytes the client sent past the request head first. Dropping it
/// closes the connection.
pub struct Upgraded {
    io: Arc<Transport>,
    read_buf: Bytes,
    /// Dropped with the stream: tells the connection's task that the connection is done.
    _done: oneshot::Sender<()>,
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("buffered", &self.read_buf.len())
            .finish()
    }
}

impl Upgraded {
    /// A stream over `io` that first yields `read_buf`; the receiver resolves once it is
    /// dropped.
    pub(crate) fn new(io: Arc<Transport>, read_buf: Bytes) -> (Upgraded, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (
            Upgraded {
                io,
                read_buf,
                _done: tx,
            },
            rx,
        )
    }

    /// The client's address.
    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.io.tcp().peer_addr()
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.read_buf.is_empty() {
            let n = buf.remaining().min(self.read_buf.len());
            buf.put_slice(&self.read_buf[..n]);
            self.read_buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(self.io.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match self.io.try_read(unfilled) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.io.poll_write_ready(cx))?;
            match self.io.try_write(data) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.close_notify();
        ready!(self.io.poll_flush(cx))?;
        let r = socket2::SockRef::from(&*self.io).shutdown(std::net::Shutdown::Write);
        Poll::Ready(match r {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        })
    }
}

/// Why an upgrade did not happen.
#[derive(Debug, thiserror::Error)]
#[error("the connection was not upgraded (the response was not 101, or it failed)")]
pub struct UpgradeError;

/// The connection of an upgrade request, once the handler's `101` is sent: take it from
/// the request's extensions (`req.extensions_mut().remove::<OnUpgrade>()`) and await it.
///
/// Clones share one connection: the first to await it gets it, the others an error.
#[derive(Clone)]
pub struct OnUpgrade {
    rx: Arc<std::sync::Mutex<Option<oneshot::Receiver<Upgraded>>>>,
}

impl fmt::Debug for OnUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnUpgrade")
    }
}

impl OnUpgrade {
    pub(crate) fn new() -> (OnUpgrade, oneshot::Sender<Upgraded>) {
        let (tx, rx) = oneshot::channel();
        let rx = Arc::new(std::sync::Mutex::new(Some(rx)));
        (OnUpgrade { rx }, tx)
    }
}

impl Future for OnUpgrade {
    type Output = Result<Upgraded, UpgradeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        let Some(rx) = slot.as_mut() else {
            return Poll::Ready(Err(UpgradeError));
        };
        let r = ready!(Pin::new(rx).poll(cx));
        *slot = None;
        Poll::Ready(r.map_err(|_| UpgradeError))
    }
}

/// A future that owns a handed-off connection until it is done with it.
pub type HandOffFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A handler that takes the raw connection of an upgrade request instead of answering it
/// through the engine (the `tower` adapter hands it to hyper, so that axum's own
/// `WebSocketUpgrade` works). It gets the connection with the whole request (head
/// included) still unread in front of it.
pub struct HandOff(pub(crate) Box<dyn FnOnce(Upgraded) -> HandOffFuture + Send>);

impl HandOff {
    /// A hand-off to `f`.
    pub fn new(f: impl FnOnce(Upgraded) -> HandOffFuture + Send + 'static) -> HandOff {
        HandOff(Box::new(f))
    }
}

impl fmt::Debug for HandOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandOff")
    }
}
