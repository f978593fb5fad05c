//! One TLS connection over a non-blocking socket, with the same surface the HTTP/1.1 engine
//! uses on a plain `TcpStream`: `try_read`/`try_write` that never block, readiness from
//! the socket (or "readable now" while decrypted bytes wait), and a flush for the records
//! rustls still holds.
//!
//! The rustls state sits behind a mutex because the engine shares its connection between
//! the connection's task and, for a blocking streaming handler, the handler's thread; the
//! two never use it at the same moment, so the lock is never contended in practice.

use rustls::ServerConnection;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tokio::time::{sleep_until, Instant};

/// A TLS connection on a tokio socket.
pub(crate) struct TlsConn {
    tcp: TcpStream,
    tls: Mutex<ServerConnection>,
}

/// The socket as `Read`/`Write` for rustls: through tokio (`async_mode`, so that a
/// `WouldBlock` clears tokio's readiness) or with plain system calls (a blocking handler's
/// thread, where nobody drives the runtime).
struct Raw<'a> {
    tcp: &'a TcpStream,
    async_mode: bool,
}

impl Read for Raw<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.async_mode {
            self.tcp.try_read(buf)
        } else {
            (&*socket2::SockRef::from(self.tcp)).read(buf)
        }
    }
}

impl Write for Raw<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.async_mode {
            self.tcp.try_write(buf)
        } else {
            (&*socket2::SockRef::from(self.tcp)).write(buf)
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.async_mode {
            self.tcp.try_write_vectored(bufs)
        } else {
            (&*socket2::SockRef::from(self.tcp)).write_vectored(bufs)
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl TlsConn {
    /// Run the server handshake on `tcp` until it completes or `deadline` passes (RFC 8446
    /// §4 / RFC 5246 §7.3: nothing but handshake records until then). A failure sends
    /// rustls' alert, if any, before the error is returned.
    pub(crate) async fn accept(
        tcp: TcpStream,
        config: Arc<rustls::ServerConfig>,
        deadline: Instant,
    ) -> io::Result<TlsConn> {
        let conn = ServerConnection::new(config).map_err(tls_error)?;
        let t = TlsConn {
            tcp,
            tls: Mutex::new(conn),
        };
        let sleep = sleep_until(deadline);
        tokio::pin!(sleep);
        loop {
            let (handshaking, wants_write) = {
                let c = t.lock();
                (c.is_handshaking(), c.wants_write())
            };
            if wants_write {
                poll_fn(|cx| {
                    if let Poll::Ready(r) = t.poll_flush(cx) {
                        return Poll::Ready(r);
                    }
                    sleep.as_mut().poll(cx).map(|()| Err(timed_out()))
                })
                .await?;
                continue;
            }
            if !handshaking {
                return Ok(t);
            }
            poll_fn(|cx| {
                if let Poll::Ready(r) = t.tcp.poll_read_ready(cx) {
                    return Poll::Ready(r);
                }
                sleep.as_mut().poll(cx).map(|()| Err(timed_out()))
            })
            .await?;
            let mut c = t.lock();
            match c.read_tls(&mut t.raw(true)) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {
                    if let Err(e) = c.process_new_packets() {
                        let _ = c.write_tls(&mut t.raw(true));
                        return Err(tls_error(e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, ServerConnection> {
        self.tls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn raw(&self, async_mode: bool) -> Raw<'_> {
        Raw {
            tcp: &self.tcp,
            async_mode,
        }
    }

    /// The socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Whether ALPN chose HTTP/2 (RFC 7301; RFC 9113 §3.2).
    #[cfg(feature = "http2")]
    pub(crate) fn alpn_is_h2(&self) -> bool {
        self.lock().alpn_protocol() == Some(b"h2")
    }

    /// Ready when decrypted bytes (or the peer's close) wait, or the socket is readable.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        {
            let mut c = self.lock();
            match c.process_new_packets() {
                Ok(st) if st.plaintext_bytes_to_read() > 0 || st.peer_has_closed() => {
                    return Poll::Ready(Ok(()))
                }
                Ok(_) => {}
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
        self.tcp.poll_read_ready(cx)
    }

    /// Read decrypted bytes without blocking: `Ok(0)` is the end (close_notify, or the
    /// socket's end), `WouldBlock` when no whole record is there yet.
    pub(crate) fn try_read(&self, out: &mut [u8], async_mode: bool) -> io::Result<usize> {
        let mut c = self.lock();
        loop {
            match c.reader().read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The socket ended without close_notify: for HTTP/1.1 the framing tells
                // whether anything was cut (RFC 8446 §6.1 leaves it to the application).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if out.is_empty() {
                return Ok(0);
            }
            match c.read_tls(&mut self.raw(async_mode)) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    if let Err(e) = c.process_new_packets() {
                        let _ = c.write_tls(&mut self.raw(async_mode));
                        return Err(tls_error(e));
                    }
                    // Post-handshake messages may want an answer (a key update).
                    if c.wants_write() {
                        let _ = flush_locked(&mut c, &mut self.raw(async_mode));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypt what fits and send what the socket takes; `WouldBlock` while earlier records
    /// still wait for the socket. Records left over are sent by the next call or a flush.
    pub(crate) fn try_write_vectored(
        &self,
        bufs: &[IoSlice<'_>],
        async_mode: bool,
    ) -> io::Result<usize> {
        let mut c = self.lock();
        flush_locked(&mut c, &mut self.raw(async_mode))?;
        let n = c.writer().write_vectored(bufs)?;
        if n == 0 && bufs.iter().any(|b| !b.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match flush_locked(&mut c, &mut self.raw(async_mode)) {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(n),
        }
    }

    /// Send every record rustls holds (non-blocking: `WouldBlock` when the socket is full).
    pub(crate) fn try_flush(&self, async_mode: bool) -> io::Result<()> {
        flush_locked(&mut self.lock(), &mut self.raw(async_mode))
    }

    /// Send every record rustls holds, waiting for the socket as needed.
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self.try_flush(true) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::task::ready!(self.tcp.poll_write_ready(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Queue close_notify (RFC 8446 §6.1) and send what the socket takes now.
    pub(crate) fn close_notify(&self) {
        let mut c = self.lock();
        c.send_close_notify();
        let _ = flush_locked(&mut c, &mut self.raw(true));
    }
}

fn flush_locked(c: &mut ServerConnection, raw: &mut Raw<'_>) -> io::Result<()> {
    while c.wants_write() {
        if c.write_tls(raw)? == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
    }
    Ok(())
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")
}
