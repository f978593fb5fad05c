//! Request bodies: `Content-Length` and chunked (with trailers), under the body deadline.

use super::head::{Framing, HeadScan, Scan};
use super::io::{read_deadline, read_some, write_all, Budget, ReadError};
use crate::http::HttpOptions;
use bytes::{BufMut, Bytes};
use http::StatusCode;
use tokio::net::TcpStream;

/// Bodies grow by at most this much per read (a declared length is not trusted for an
/// up-front allocation).
const BODY_STEP: usize = 64 * 1024;

/// The longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_CHUNK_LINE: usize = 1024;

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
    stream: &TcpStream,
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
    stream: &TcpStream,
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

/// Where the chunked decoder is.
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes to go.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: the trailer section.
    Trailers(HeadScan),
}

async fn read_chunked(
    stream: &TcpStream,
    opts: &HttpOptions,
    buf: &mut Vec<u8>,
    pos: &mut usize,
    budget: Budget,
) -> Result<Bytes, BodyError> {
    let max = opts.max_body as u64;
    let mut body: Vec<u8> = Vec::new();
    let mut state = Chunk::Size;
    // Bytes received for this body (framing included), for the MinRate extension.
    let mut received = 0usize;
    loop {
        let avail = buf.get(*pos..).unwrap_or(&[]);
        // Progress as far as the buffered bytes go.
        let progressed = match &mut state {
            Chunk::Size => match httparse::parse_chunk_size(avail) {
                Ok(httparse::Status::Complete((used, size))) => {
                    *pos += used;
                    state = if size == 0 {
                        Chunk::Trailers(HeadScan::trailers())
                    } else if (body.len() as u64).saturating_add(size) > max {
                        return Err(BodyError::Refuse(StatusCode::PAYLOAD_TOO_LARGE));
                    } else {
                        Chunk::Data(size)
                    };
                    true
                }
                Ok(httparse::Status::Partial) if avail.len() <= MAX_CHUNK_LINE => false,
                _ => return Err(BodyError::Refuse(StatusCode::BAD_REQUEST)),
            },
            Chunk::Data(left) => {
                let take = avail
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                if take > 0 {
                    body.extend_from_slice(&avail[..take]);
                    *pos += take;
                    *left -= take as u64;
                }
                if *left == 0 {
                    state = Chunk::DataEnd;
                }
                take > 0 || matches!(state, Chunk::DataEnd)
            }
            Chunk::DataEnd => match avail {
                [b'\r', b'\n', ..] => {
                    *pos += 2;
                    state = Chunk::Size;
                    true
                }
                [] | [b'\r'] => false,
                _ => return Err(BodyError::Refuse(StatusCode::BAD_REQUEST)),
            },
            Chunk::Trailers(scan) => match scan.scan(avail, &opts.limits) {
                Scan::Complete(end) => {
                    // Trailer fields are checked for syntax, then dropped (as hyper's
                    // collected bodies drop them).
                    let mut slots = vec![httparse::EMPTY_HEADER; scan.fields()];
                    match httparse::parse_headers(&avail[..end], &mut slots) {
                        Ok(httparse::Status::Complete(_)) => {}
                        _ => return Err(BodyError::Refuse(StatusCode::BAD_REQUEST)),
                    }
                    *pos += end;
                    return Ok(Bytes::from(body));
                }
                Scan::Partial => false,
                Scan::Reject(status) => return Err(BodyError::Refuse(status)),
            },
        };
        if progressed {
            continue;
        }
        // Need more bytes: drop what is consumed (the trailer scan's offsets are relative to
        // `*pos`, so they survive), make room, read.
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
