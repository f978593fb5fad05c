//! A whole response written by the thread that ran a blocking handler.
//!
//! Under event, a blocking handler runs on a worker thread while its connection's task
//! waits on the child's one connection thread. Handing the response back for that thread
//! to write puts the costliest system call of a small exchange (the `writev` that delivers
//! it, loopback delivery included) on the thread that every connection of the child
//! shares: with 50 keep-alive clients on two cores, a profile showed one child's
//! connection thread at 85 % of a CPU while the machine stayed 15–20 % idle.
//!
//! So when [`HttpOptions::reply_writer`](crate::http::HttpOptions::reply_writer) is set,
//! the engine puts a [`ReplyWriter`] in a buffered request's extensions. The worker encodes
//! the head exactly as the connection's task would (the same `Connection` decision) and
//! writes what the socket takes at once, without waiting. When the socket is full, the rest
//! goes back to the connection's task, which finishes it without holding the worker (write
//! completion: the connection counts in ConnsAsyncWriting), as Apache's event MPM does.
//!
//! Only whole responses on cleartext connections, with no request body left to read and no
//! upgrade asked for: everything else still goes through the connection's task.

use super::io::{give_buf, take_buf};
use super::response::{encode_head, wants_close, ConnHeader};
use super::transport::Transport;
use super::Reply;
use crate::http::Closing;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, PoisonError};

/// Writes one whole response from the thread that ran the handler (see the module docs).
/// Take it from the request with [`ReplyWriter::take`] before the handler sees the request,
/// and give the handler's response to [`ReplyWriter::send`].
pub struct ReplyWriter {
    stream: Arc<Transport>,
    /// The engine closes after this response whatever the handler says (client's
    /// `Connection: close`, KeepAlive Off, MaxKeepAliveRequests reached, a stop).
    close: bool,
    http10: bool,
    head_request: bool,
    closing: Closing,
    outcome: Outcome,
}

impl std::fmt::Debug for ReplyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyWriter")
            .field("close", &self.close)
            .field("head_request", &self.head_request)
            .finish()
    }
}

/// Where the writer leaves what it did, for the connection's task.
pub(super) type Outcome = Arc<Mutex<Option<Written>>>;

/// What [`ReplyWriter::send`] did.
pub(super) struct Written {
    /// Body bytes of the response (0 for HEAD), as the scoreboard counts them.
    pub(super) bytes: u64,
    /// The response says `Connection: close`: the connection ends after it.
    pub(super) close: bool,
    /// What is left for the connection's task.
    pub(super) rest: Rest,
}

/// The part of a response the writer could not send.
pub(super) enum Rest {
    /// Nothing: all of it went out.
    Nothing,
    /// The socket was full: `head` and `body` from byte `sent` on (counted across both).
    Part {
        head: Vec<u8>,
        body: Bytes,
        sent: usize,
    },
    /// The write failed; the connection is done.
    Failed(io::Error),
}

/// The extension that carries the writer: `http::Extensions` wants `Clone`, and one
/// response must have one writer, so the clones share a slot that only one can empty.
#[derive(Clone)]
struct Slot(Arc<Mutex<Option<ReplyWriter>>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each update under these locks is a single `Option` replace: never half done.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReplyWriter {
    /// Put a writer in `req` and return where it will leave its outcome.
    pub(super) fn offer<B>(
        req: &mut Request<B>,
        stream: Arc<Transport>,
        close: bool,
        http10: bool,
        head_request: bool,
        closing: Closing,
    ) -> Outcome {
        let outcome = Outcome::default();
        let writer = ReplyWriter {
            stream,
            close,
            http10,
            head_request,
            closing,
            outcome: outcome.clone(),
        };
        req.extensions_mut()
            .insert(Slot(Arc::new(Mutex::new(Some(writer)))));
        outcome
    }

    /// Take the writer the engine offered with `req`, if it did. Take it before the handler
    /// gets the request: the handler is not meant to see it.
    pub fn take<B>(req: &mut Request<B>) -> Option<ReplyWriter> {
        let slot = req.extensions_mut().remove::<Slot>()?;
        let writer = lock(&slot.0).take();
        writer
    }

    /// Write `resp` to the client from this thread, as much as the socket takes now, and
    /// return what the connection's task is to be told: [`Reply::Written`], or `resp` back
    /// as [`Reply::Full`] when it is a `101` (switching protocols is the connection task's
    /// work).
    pub fn send(self, resp: Response<Bytes>) -> Reply {
        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            return Reply::Full(resp);
        }
        // The same decision the connection's task makes for a whole response.
        let close = self.close || self.closing.is_closed() || wants_close(resp.headers());
        let conn = if close {
            ConnHeader::Close
        } else if self.http10 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::Keep
        };
        let bytes = if self.head_request {
            0
        } else {
            resp.body().len() as u64
        };
        let mut head = take_buf();
        let body_sent = !encode_head(&mut head, &resp, self.head_request, conn).is_empty();
        let body = if body_sent {
            resp.into_body()
        } else {
            Bytes::new()
        };
        let rest = write_now(&self.stream, head, body);
        *lock(&self.outcome) = Some(Written { bytes, close, rest });
        Reply::Written
    }
}

/// Write `head` then `body` without waiting: stop at the first write the socket refuses.
fn write_now(stream: &Transport, head: Vec<u8>, body: Bytes) -> Rest {
    let total = head.len() + body.len();
    let mut sent = 0;
    while sent < total {
        let (h, b) = if sent < head.len() {
            (&head[sent..], &body[..])
        } else {
            (&[][..], &body[sent - head.len()..])
        };
        match stream.try_write_vectored(&[IoSlice::new(h), IoSlice::new(b)]) {
            Ok(0) => return Rest::Failed(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Rest::Part { head, body, sent };
            }
            Err(e) => {
                give_buf(head);
                return Rest::Failed(e);
            }
        }
    }
    give_buf(head);
    Rest::Nothing
}
