//! Request bodies: `Content-Length` and chunked (with trailers), under the body deadline.

use super::chunked::{Decoder, Step};
use super::framing::Framing;
use super::io::{read_deadline, read_some, write_all, Budget, ReadError};
use super::transport::Transport;
use crate::http::HttpOptions;
use bytes::{BufMut, Bytes};
use http::StatusCode;

/// Bodies grow by at most this much per read (a declared length is not trusted for an
/// up-front allocation).
const BODY_STEP: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub(super) enum BodyError {
    /// Answer with this status, then close (the rest of the body stays unread).
    Refuse(StatusCode),
    /// The client closed its side before the body was complete.
    Eof,
    /// The body deadline or `Timeout` passed.
    TimedOut,
    /// The connection failed.
    Io(std::io::Error),
}

impl From<ReadError> for BodyError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::TimedOut => BodyError::TimedOut,
            ReadError::Io(e) => BodyError::Io(e),
        }
    }
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Read the body that starts at `buf[*pos..]` (and continues on the socket). On success,
/// `*pos` is the end of the body within `buf`; what follows is the next (pipelined) request.
pub(super) async fn read(
    stream: &Transport,
    opts: &HttpOptions,
    buf: &mut Vec<u8>,
    pos: &mut usize,
    framing: Framing,
    expect_continue: bool,
) -> Result<Bytes, BodyError> {
    let budget = Budget::body(&opts.limits);
    if let Framing::Length(n) = framing {
        if n > opts.max_body as u64 {
            // Refused before the client is told to go ahead.
            return Err(BodyError::Refuse(StatusCode::PAYLOAD_TOO_LARGE));
        }
    }
    if expect_continue && framing != Framing::Length(0) && buf.len() <= *pos {
        // The client waits for our go-ahead before sending the body.
        write_all(stream, CONTINUE, &[], opts.timeout)
            .await
            .map_err(BodyError::Io)?;
    }
    match framing {
        Framing::Length(n) => read_length(stream, opts, buf, pos, n, budget).await,
        Framing::Chunked => read_chunked(stream, opts, buf, pos, budget).await,
    }
}

async fn read_length(
    stream: &Transport,
    opts: &HttpOptions,
    buf: &mut [u8],
    pos: &mut usize,
    n: u64,
    budget: Budget,
) -> Result<Bytes, BodyError> {
    if n > opts.max_body as u64 {
        return Err(BodyError::Refuse(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let n = n as usize;
    let start = (*pos).min(buf.len());
    let have = &buf[start..];
    if have.len() >= n {
        *pos = start + n;
        return Ok(Bytes::copy_from_slice(&have[..n]));
    }
    let mut body = Vec::with_capacity(n.min(BODY_STEP).max(have.len()));
    body.extend_from_slice(have);
    *pos = buf.len();
    while body.len() < n {
        let want = n - body.len();
        body.reserve(want.min(BODY_STEP));
        let deadline = read_deadline(opts.timeout, budget.deadline(body.len()));
        let mut limited = (&mut body).limit(want);
        if read_some(stream, &mut limited, deadline).await? == 0 {
            return Err(BodyError::Eof);
        }
    }
    Ok(Bytes::from(body))
}

async fn read_chunked(
    stream: &Transport,
    opts: &HttpOptions,
    buf: &mut Vec<u8>,
    pos: &mut usize,
    budget: Budget,
) -> Result<Bytes, BodyError> {
    let max = opts.max_body as u64;
    let mut body: Vec<u8> = Vec::new();
    let mut decoder = Decoder::new();
    // Bytes received for this body (framing included), for the MinRate extension.
    let mut received = 0usize;
    loop {
        let avail = buf.get(*pos..).unwrap_or(&[]);
        match decoder
            .decode(avail, &opts.limits)
            .map_err(BodyError::Refuse)?
        {
            Step::Data { start, len } => {
                if (body.len() + len) as u64 > max || decoder.data_left() > max {
                    return Err(BodyError::Refuse(StatusCode::PAYLOAD_TOO_LARGE));
                }
                body.extend_from_slice(&avail[start..start + len]);
                *pos += start + len;
                continue;
            }
            Step::End(used, _trailers) => {
                // Trailer fields were checked; a buffered body drops them.
                *pos += used;
                return Ok(Bytes::from(body));
            }
            Step::Need(used) => *pos += used,
        }
        // A declared chunk size over the limit is refused before its data arrives.
        if (body.len() as u64).saturating_add(decoder.data_left()) > max {
            return Err(BodyError::Refuse(StatusCode::PAYLOAD_TOO_LARGE));
        }
        // Need more bytes: drop what is consumed (an incomplete trailer section stays at
        // the front), make room, read.
        if *pos > 0 {
            buf.drain(..(*pos).min(buf.len()));
            *pos = 0;
        }
        if buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().max(1024));
        }
        let deadline = read_deadline(opts.timeout, budget.deadline(received));
        let n = read_some(stream, buf, deadline).await?;
        if n == 0 {
            return Err(BodyError::Eof);
        }
        received = received.saturating_add(n);
    }
}
