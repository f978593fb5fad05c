//! What the engine reads and writes: a plain socket, or TLS over one (feature `tls`).
//!
//! The plain case is the socket's own non-blocking calls, unchanged (one match per call);
//! TLS mirrors them ([`crate::tls::conn`]) and adds a flush, because rustls may hold
//! encrypted records after it took the bytes of a write.

use bytes::BufMut;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{Context, Poll};
use tokio::net::TcpStream;

/// A connection's byte stream.
pub(crate) enum Transport {
    /// Cleartext.
    Plain(TcpStream),
    /// TLS, after its handshake.
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::conn::TlsConn>),
}

impl Transport {
    /// The socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.tcp(),
        }
    }

    /// Ready when a read may make progress.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Plain(s) => s.poll_read_ready(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.poll_read_ready(cx),
        }
    }

    /// Ready when a write may make progress.
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_write_ready(cx)
    }

    /// Wait until a write may make progress.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.tcp().writable().await
    }

    /// Read without blocking (`WouldBlock` when nothing is there).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.try_read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_read(buf, true),
        }
    }

    /// Read without blocking into `buf`'s spare capacity.
    pub(crate) fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.try_read_buf(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => {
                // Decrypted bytes are copied out of rustls anyway; one more copy through a
                // stack array keeps this free of `unsafe` (the spare capacity is
                // uninitialised).
                let mut tmp = [0u8; 4096];
                let len = buf.remaining_mut().min(tmp.len());
                let n = t.try_read(&mut tmp[..len], true)?;
                buf.put_slice(&tmp[..n]);
                Ok(n)
            }
        }
    }

    /// Write without blocking.
    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.try_write(data),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_write_vectored(&[IoSlice::new(data)], true),
        }
    }

    /// Write several slices without blocking.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.try_write_vectored(bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_write_vectored(bufs, true),
        }
    }

    /// Send what the transport still holds (nothing for a plain socket).
    pub(crate) fn poll_flush(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Plain(_) => Poll::Ready(Ok(())),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.poll_flush(_cx),
        }
    }

    /// [`poll_flush`](Self::poll_flush) as a future.
    pub(crate) async fn flush(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// A blocking thread's read: plain system calls, `WouldBlock` when nothing is there.
    pub(crate) fn sync_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => (&*socket2::SockRef::from(s)).read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_read(buf, false),
        }
    }

    /// A blocking thread's write: plain system calls, `WouldBlock` when the socket is full.
    pub(crate) fn sync_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => (&*socket2::SockRef::from(s)).write_vectored(bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_write_vectored(bufs, false),
        }
    }

    /// A blocking thread's flush step: `WouldBlock` while records wait for the socket.
    pub(crate) fn sync_try_flush(&self) -> io::Result<()> {
        match self {
            Transport::Plain(_) => Ok(()),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.try_flush(false),
        }
    }

    /// Before the socket's write side is shut: TLS sends close_notify (RFC 8446 §6.1).
    pub(crate) fn close_notify(&self) {
        #[cfg(feature = "tls")]
        if let Transport::Tls(t) = self {
            t.close_notify();
        }
    }

    /// Whether this is a TLS connection.
    pub(crate) fn is_tls(&self) -> bool {
        !matches!(self, Transport::Plain(_))
    }
}

impl AsFd for Transport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tcp().as_fd()
    }
}
