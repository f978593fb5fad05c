//! Send one case over a fresh connection and record the outcome: one implementation for
//! the test against our server and for the refresh against Apache and nginx, so the three
//! columns of a case are measured the same way.

use super::corpus::{escape, Case, Outcome, DEFAULT_PAUSE_MS};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// When reading stops.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// No byte for this long after the last write or read: the server has said all it
    /// will, and the connection counts as kept open.
    pub silence: Duration,
    /// Reading never lasts longer than this (a server trickling bytes).
    pub cap: Duration,
}

impl Timing {
    /// 2 s of silence, 10 s at most; `MPM_CONFORMANCE_SILENCE_MS` overrides the silence
    /// (a slow machine may need more, a quick look less).
    pub fn from_env() -> Timing {
        let silence = std::env::var("MPM_CONFORMANCE_SILENCE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(2));
        Timing {
            silence,
            cap: Duration::from_secs(10).max(silence * 2),
        }
    }
}

/// What one run of a case gave.
#[derive(Clone, Debug)]
pub struct Got {
    pub outcome: Outcome,
    /// Every byte received, for failure messages.
    pub received: Vec<u8>,
}

impl Got {
    /// The start of what came back, escaped, for messages.
    pub fn shown(&self) -> String {
        const SHOW: usize = 600;
        let mut s = escape(&self.received[..self.received.len().min(SHOW)]);
        if self.received.len() > SHOW {
            s.push_str(&format!("… ({} bytes)", self.received.len()));
        }
        s
    }
}

/// Connect to `addr`, send the case's writes (pausing between them), optionally half-close,
/// and read until the server closes, goes silent, or the cap passes.
///
/// A write that fails because the server already gave up on the connection is not an
/// error: the answer it sent before closing is what the case is about. Only failing to
/// connect is.
pub fn run_case(addr: SocketAddr, case: &Case, timing: Timing) -> io::Result<Got> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let writes = case.writes();
    let pause = Duration::from_millis(case.pause_ms.unwrap_or(DEFAULT_PAUSE_MS));
    for (i, bytes) in writes.iter().enumerate() {
        if i > 0 {
            // Not synchronisation: the pause is part of the case, so the server sees the
            // parts in separate reads.
            std::thread::sleep(pause);
        }
        if (&stream).write_all(bytes).is_err() {
            break;
        }
    }
    if case.half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let (received, closed) = read_all(&stream, timing);
    let (statuses, garbage) = parse_responses(&received, case.head);
    Ok(Got {
        outcome: Outcome {
            statuses,
            garbage,
            closed,
        },
        received,
    })
}

/// Read until end-of-file or reset (`true`), or silence / the cap (`false`).
fn read_all(mut stream: &TcpStream, timing: Timing) -> (Vec<u8>, bool) {
    let start = Instant::now();
    let mut last = start;
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        let quiet_until = last + timing.silence;
        let until = quiet_until.min(start + timing.cap);
        if now >= until {
            return (received, false);
        }
        // A zero timeout would mean "block forever".
        let wait = (until - now).max(Duration::from_millis(1));
        if stream.set_read_timeout(Some(wait)).is_err() {
            return (received, true);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (received, true),
            Ok(n) => {
                received.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset (the server closed with our bytes unread) ends the connection too.
            Err(_) => return (received, true),
        }
    }
}

/// Count the final responses in `buf`: the status of each complete one, and whether bytes
/// follow that are not a complete response (cut short, or not HTTP at all). With `head`,
/// responses have no body (they answer HEAD).
pub fn parse_responses(buf: &[u8], head: bool) -> (Vec<u16>, bool) {
    let mut statuses = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        match parse_one(rest, head) {
            Some((status, used)) => {
                rest = &rest[used..];
                if status == 101 {
                    // The connection speaks something else from here on.
                    statuses.push(status);
                    return (statuses, false);
                }
                if status >= 200 {
                    statuses.push(status);
                }
            }
            None => return (statuses, true),
        }
    }
    (statuses, false)
}

/// One response at the start of `buf`: its status and length, or `None` if it is not a
/// complete response. A response without a length runs to the end of what was received.
fn parse_one(buf: &[u8], head: bool) -> Option<(u16, usize)> {
    let head_end = find(buf, b"\r\n\r\n").map(|p| p + 4)?;
    let text = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    let code = parts.next()?;
    if !(version == "HTTP/1.1" || version == "HTTP/1.0") || code.len() != 3 {
        return None;
    }
    let status: u16 = code.parse().ok()?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let body = &buf[head_end..];
    let no_body = head || status < 200 || status == 204 || status == 304;
    let used = if no_body {
        0
    } else if chunked {
        chunked_len(body)?
    } else if let Some(n) = length {
        if body.len() < n {
            return None;
        }
        n
    } else {
        body.len()
    };
    Some((status, head_end + used))
}

/// The length of a complete chunked body (through the trailers' empty line).
fn chunked_len(body: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let line_end = find(&body[pos..], b"\r\n")? + pos;
        let line = std::str::from_utf8(&body[pos..line_end]).ok()?;
        let size_text = line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        pos = line_end + 2;
        if size == 0 {
            loop {
                let end = find(&body[pos..], b"\r\n")? + pos;
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Some(pos);
                }
            }
        }
        if body.len() < pos + size + 2 || &body[pos + size..pos + size + 2] != b"\r\n" {
            return None;
        }
        pos += size + 2;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
