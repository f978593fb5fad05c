//! The blocking streaming handler's side of a request: the body as a [`Read`], the
//! response as a [`ResponseWriter`] whose body is a [`Write`].
//!
//! Both go to the socket directly from the handler's thread (see [`super::sync_io`]),
//! each wait bounded by `Timeout` (and the body's `RequestReadTimeout` deadline), so a
//! client that stops reading or sending costs a worker at most that long.

use super::incoming::{Drained, Link, RequestBody, DRAIN_MAX};
use super::outgoing::{chunk_line, last_chunk};
use super::response::{bodiless, declared_length, encode_head_parts, wants_close};
use super::response::{ConnHeader, OutFraming};
use super::sync_io;
use bytes::{Buf, Bytes};
use http::Response;
use std::io::{self, Read, Write};
use std::sync::Arc;

/// A request body read by a blocking handler: a [`Read`] of the body's data (chunked
/// trailers are skipped). Each read waits at most `Timeout`, and the whole body is under
/// `RequestReadTimeout`'s body deadline; a read error is final.
pub struct BodyReader {
    body: RequestBody,
    current: Bytes,
}

impl BodyReader {
    pub(crate) fn new(body: RequestBody) -> BodyReader {
        BodyReader {
            body,
            current: Bytes::new(),
        }
    }

    /// Read the whole body into memory, refusing more than `max` bytes
    /// (`io::ErrorKind::InvalidData`).
    pub fn read_to_bytes(&mut self, max: usize) -> io::Result<Bytes> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = self.read(&mut chunk)?;
            if n == 0 {
                return Ok(Bytes::from(out));
            }
            if out.len() + n > max {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("request body larger than {max} bytes"),
                ));
            }
            out.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next data of the body, or `None` at its end.
    fn refill(&mut self) -> io::Result<bool> {
        while self.current.is_empty() {
            let next = match self.body.link().cloned() {
                Some(link) => link.next_blocking()?,
                None => {
                    let whole = std::mem::take(&mut self.body).into_full();
                    whole.filter(|b| !b.is_empty()).map(http_body::Frame::data)
                }
            };
            match next {
                None => return Ok(false),
                Some(frame) => {
                    if let Ok(data) = frame.into_data() {
                        self.current = data;
                    }
                }
            }
        }
        Ok(true)
    }
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || !self.refill()? {
            return Ok(0);
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyReader")
            .field("body", &self.body)
            .finish()
    }
}

/// Where a blocking handler writes its response: either whole ([`send`](Self::send)) or
/// a head now and the body as it is produced ([`start`](Self::start)).
///
/// Dropping it without responding makes the connection answer `500` and log it.
pub struct ResponseWriter {
    link: Arc<Link>,
}

impl std::fmt::Debug for ResponseWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseWriter")
    }
}

impl ResponseWriter {
    pub(crate) fn new(link: Arc<Link>) -> ResponseWriter {
        ResponseWriter { link }
    }

    /// Write the head with `framing`, followed by `body` in the same write (a whole
    /// response's body; it is not sent for HEAD or a bodiless status); returns whether a
    /// body follows the head.
    fn write_head<B>(
        &self,
        resp: &Response<B>,
        framing: OutFraming,
        force_close: bool,
        body: &[u8],
    ) -> io::Result<bool> {
        let mut st = self.link.lock();
        let p = st.respond;
        let closing = st.closing.as_ref().is_some_and(|c| c.is_closed());
        let close = p.close
            || force_close
            || closing
            || wants_close(resp.headers())
            || framing == OutFraming::UntilClose;
        let conn = if close {
            ConnHeader::Close
        } else if p.http10 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::Keep
        };
        let mut head = Vec::with_capacity(256);
        encode_head_parts(
            &mut head,
            resp.status(),
            resp.headers(),
            p.head_request,
            conn,
            framing,
        );
        st.responded = true;
        st.written.close = close;
        st.written.head_sent = true;
        drop(st);
        let body_follows = !(p.head_request || bodiless(resp.status()));
        let body = if body_follows { body } else { &[] };
        sync_io::write_all(&self.link.stream, &[&head, body], self.link.timeout)?;
        Ok(body_follows)
    }

    /// Send a whole response (its length is the body's).
    ///
    /// The rest of the request body, if the handler left some unread, is read and dropped
    /// first (up to a bound): a framing error in it is answered instead of `resp` (400,
    /// 408, 413), and a body too long to drop closes the connection after `resp`.
    pub fn send(self, resp: Response<Bytes>) -> io::Result<()> {
        let (resp, force_close) = self.finish_request(resp)?;
        let framing = OutFraming::Length(resp.body().len() as u64);
        if self.write_head(&resp, framing, force_close, resp.body())? {
            self.link.lock().written.bytes = resp.body().len() as u64;
        }
        self.link.lock().written.complete = true;
        Ok(())
    }

    /// Finish reading the request before a whole response (see [`send`](Self::send)):
    /// the response to send and whether the connection must close after it.
    fn finish_request(&self, resp: Response<Bytes>) -> io::Result<(Response<Bytes>, bool)> {
        let (finished, waiting) = {
            let st = self.link.lock();
            (st.finished(), st.continue_pending())
        };
        if finished {
            return Ok((resp, false));
        }
        if waiting {
            // The client waits for `100 Continue`: it may never send the body.
            return Ok((resp, true));
        }
        match self.link.drain_blocking(DRAIN_MAX) {
            Drained::Finished => Ok((resp, false)),
            Drained::TooLong => Ok((resp, true)),
            Drained::Failed(e) => match e.status() {
                Some(status) => {
                    let reason = status.canonical_reason().unwrap_or("Error");
                    let mut r = Response::new(Bytes::from(format!("{reason}\n")));
                    *r.status_mut() = status;
                    Ok((r, true))
                }
                None => Err(e.into()),
            },
        }
    }

    /// Send the head of a response whose body follows through the returned writer. With a
    /// `Content-Length` header the body must be exactly that long; without one it is
    /// chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).
    pub fn start(self, head: Response<()>) -> io::Result<BodyWriter> {
        let version11 = !self.link.lock().respond.http10;
        let framing = match declared_length(head.headers()) {
            Some(n) => OutFraming::Length(n),
            None if version11 => OutFraming::Chunked,
            None => OutFraming::UntilClose,
        };
        let body_follows = self.write_head(&head, framing, false, &[])?;
        let mut w = BodyWriter {
            link: self.link.clone(),
            framing,
            sent: 0,
            done: false,
            failed: false,
        };
        if !body_follows {
            w.done = true;
            self.link.lock().written.complete = true;
        }
        Ok(w)
    }
}

/// A response body written by a blocking handler: a [`Write`] whose writes go to the
/// client (chunked when the length is unknown), each bounded by `Timeout`.
///
/// [`finish`](Self::finish) ends the body; dropping the writer finishes it too, unless the
/// thread is panicking — then the connection is cut, so the client sees a truncated
/// response rather than a complete-looking one.
pub struct BodyWriter {
    link: Arc<Link>,
    framing: OutFraming,
    sent: u64,
    done: bool,
    failed: bool,
}

impl std::fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyWriter")
            .field("framing", &self.framing)
            .field("sent", &self.sent)
            .finish()
    }
}

impl BodyWriter {
    fn fail(&mut self, e: io::Error) -> io::Error {
        self.failed = true;
        e
    }

    /// End the body (the last chunk, or a check that the declared length was written).
    pub fn finish(mut self) -> io::Result<()> {
        self.end()
    }

    fn end(&mut self) -> io::Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        if self.failed {
            return Err(io::Error::other("the response body failed earlier"));
        }
        match self.framing {
            OutFraming::Length(n) if self.sent != n => {
                self.failed = true;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("response body ended after {} of its {n} bytes", self.sent),
                ));
            }
            OutFraming::Chunked => {
                let end = last_chunk(None);
                if let Err(e) = sync_io::write_all(&self.link.stream, &[&end], self.link.timeout) {
                    return Err(self.fail(e));
                }
            }
            _ => {}
        }
        let mut st = self.link.lock();
        st.written.complete = true;
        st.written.bytes = self.sent;
        Ok(())
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.done || self.failed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the response body is finished or failed",
            ));
        }
        if data.is_empty() {
            return Ok(0);
        }
        if let OutFraming::Length(n) = self.framing {
            if self.sent + data.len() as u64 > n {
                let e = io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("response body longer than its Content-Length ({n})"),
                );
                return Err(self.fail(e));
            }
        }
        let r = if self.framing == OutFraming::Chunked {
            let mut line = [0u8; 18];
            let line = chunk_line(data.len(), &mut line);
            sync_io::write_all(&self.link.stream, &[line, data, b"\r\n"], self.link.timeout)
        } else {
            sync_io::write_all(&self.link.stream, &[data], self.link.timeout)
        };
        if let Err(e) = r {
            return Err(self.fail(e));
        }
        self.sent += data.len() as u64;
        self.link.lock().written.bytes = self.sent;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Every write goes to the socket at once: nothing is buffered here.
        Ok(())
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if std::thread::panicking() {
            self.failed = true;
            self.done = true;
            return;
        }
        if let Err(e) = self.end() {
            tracing::debug!(error = %e, "finishing a response body on drop failed");
        }
    }
}
