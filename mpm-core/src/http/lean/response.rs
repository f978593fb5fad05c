//! Response heads: status line, the handler's headers, `Date`, `Content-Length`,
//! `Connection`.

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, Response, StatusCode};
use std::cell::RefCell;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `Connection` header the connection layer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnHeader {
    /// None of ours (the handler's, if any, is kept).
    Keep,
    /// `Connection: close`: this is the connection's last response.
    Close,
    /// `Connection: keep-alive`: an HTTP/1.0 client asked for it and gets it.
    KeepAlive,
}

/// Whether a response with this status carries no body (1xx, 204, 304).
pub(crate) fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// Whether the handler asked to close the connection (`Connection: close`).
pub(crate) fn wants_close(headers: &HeaderMap) -> bool {
    super::framing::has_element(headers, &CONNECTION, b"close")
}

thread_local! {
    /// The `Date` value of the current second.
    static DATE_CACHE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

fn write_date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cached = DATE_CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs {
            *c = (secs, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(c.1.as_bytes());
    });
    if cached.is_err() {
        out.extend_from_slice(httpdate::fmt_http_date(now).as_bytes());
    }
}

/// How a response body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutFraming {
    /// `Content-Length` of this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1, length unknown).
    Chunked,
    /// Delimited by closing the connection (HTTP/1.0, length unknown).
    UntilClose,
}

/// Append the response head to `out`; returns the body bytes to write after it (none for
/// HEAD and bodiless statuses).
pub(crate) fn encode_head<'r>(
    out: &mut Vec<u8>,
    resp: &'r Response<Bytes>,
    head_request: bool,
    conn: ConnHeader,
) -> &'r [u8] {
    let body = resp.body();
    encode_head_parts(
        out,
        resp.status(),
        resp.headers(),
        head_request,
        conn,
        OutFraming::Length(body.len() as u64),
    );
    if head_request || bodiless(resp.status()) {
        &[]
    } else {
        body
    }
}

/// Append a response head with the given framing. The handler's own `Content-Length` is
/// kept only where it describes a body that is not sent (HEAD, 304); `Transfer-Encoding`
/// and (unless `conn` is [`ConnHeader::Keep`]) `Connection` are always the connection's.
pub(crate) fn encode_head_parts(
    out: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
    head_request: bool,
    conn: ConnHeader,
    framing: OutFraming,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let no_body = bodiless(status);
    // A HEAD response may state the length a GET would have (the handler knows it) and a
    // 304 the length of the representation; 1xx and 204 never carry one; otherwise the
    // length written is always the body's own.
    let handler_length = if status == StatusCode::NOT_MODIFIED {
        true
    } else {
        !no_body && head_request
    };
    for (name, value) in headers {
        let ours = name == TRANSFER_ENCODING
            || (name == CONTENT_LENGTH && !handler_length)
            || (name == CONNECTION && conn != ConnHeader::Keep);
        if ours {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(DATE) {
        out.extend_from_slice(b"date: ");
        write_date(out);
        out.extend_from_slice(b"\r\n");
    }
    let handler_states_length = handler_length && headers.contains_key(CONTENT_LENGTH);
    if !no_body && !handler_states_length {
        match framing {
            // Writing into a Vec cannot fail.
            OutFraming::Length(n) => {
                let _ = write!(out, "content-length: {n}\r\n");
            }
            OutFraming::Chunked if !head_request => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n")
            }
            OutFraming::Chunked | OutFraming::UntilClose => {}
        }
    }
    match conn {
        ConnHeader::Keep => {}
        ConnHeader::Close => out.extend_from_slice(b"connection: close\r\n"),
        ConnHeader::KeepAlive => out.extend_from_slice(b"connection: keep-alive\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// The declared `Content-Length` of a handler's response, when it has exactly one valid
/// value.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let v = values.next()?;
    if values.next().is_some() {
        return None;
    }
    super::framing::parse_length(v.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_of(resp: &Response<Bytes>, head: bool, conn: ConnHeader) -> (String, Vec<u8>) {
        let mut out = Vec::new();
        let body = encode_head(&mut out, resp, head, conn).to_vec();
        (String::from_utf8(out).unwrap(), body)
    }

    #[test]
    fn encodes_length_date_and_connection() {
        let mut r = Response::new(Bytes::from_static(b"hello"));
        r.headers_mut()
            .insert("x-a", http::HeaderValue::from_static("1"));
        r.headers_mut()
            .insert(CONTENT_LENGTH, http::HeaderValue::from_static("99"));
        let (h, body) = head_of(&r, false, ConnHeader::Close);
        assert!(h.starts_with("HTTP/1.1 200 OK\r\nx-a: 1\r\ndate: "), "{h}");
        assert!(
            h.ends_with("content-length: 5\r\nconnection: close\r\n\r\n"),
            "{h}"
        );
        assert_eq!(body, b"hello");
        // HEAD keeps the handler's length and writes no body.
        let (h, body) = head_of(&r, true, ConnHeader::Keep);
        assert!(h.contains("content-length: 99\r\n"), "{h}");
        assert!(!h.contains("content-length: 5"), "{h}");
        assert!(body.is_empty());
        // 204: no length, no body.
        *r.status_mut() = StatusCode::NO_CONTENT;
        let (h, body) = head_of(&r, false, ConnHeader::KeepAlive);
        assert!(!h.contains("content-length"), "{h}");
        assert!(h.contains("connection: keep-alive\r\n"), "{h}");
        assert!(body.is_empty());
        // 304 keeps the handler's length.
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        let (h, _) = head_of(&r, false, ConnHeader::Keep);
        assert!(h.contains("content-length: 99\r\n"), "{h}");
    }
}
