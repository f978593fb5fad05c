//! Reading back what a server wrote: a sequence of HTTP/1.1 responses.

/// One final (non-1xx) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    /// Its status code.
    pub status: u16,
    /// It says `Connection: close`.
    pub close: bool,
    /// Its body (empty for a HEAD request's response).
    pub body: Vec<u8>,
}

/// The final responses in `out`, and the number of interim (1xx) ones. Every response
/// must be complete and delimited by `Content-Length` (the bodies the fuzz rigs and the
/// engine's refusals produce); a body may be missing only from the last response (a
/// HEAD request's). An error describes what is malformed.
pub fn parse(out: &[u8]) -> Result<(Vec<Resp>, usize), String> {
    let mut rest = out;
    let mut list = Vec::new();
    let mut interim = 0;
    while !rest.is_empty() {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut slots);
        let n = match r.parse(rest) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                return Err(format!("incomplete response head: {:?}", show(rest)))
            }
            Err(e) => return Err(format!("malformed response head ({e}): {:?}", show(rest))),
        };
        let status = r.code.unwrap_or(0);
        if r.version != Some(1) {
            return Err(format!("response version {:?}", r.version));
        }
        if (100..200).contains(&status) {
            interim += 1;
            rest = &rest[n..];
            continue;
        }
        let mut close = false;
        let mut length = None;
        for h in r.headers.iter() {
            if h.name.eq_ignore_ascii_case("connection") {
                close |= h
                    .value
                    .split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            } else if h.name.eq_ignore_ascii_case("content-length") {
                if length.is_some() {
                    return Err("two Content-Length fields in a response".into());
                }
                length = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok());
                if length.is_none() {
                    return Err(format!("bad Content-Length {:?}", show(h.value)));
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("a chunked response where none was expected".into());
            }
        }
        let Some(length) = length else {
            return Err(format!("response {status} without Content-Length"));
        };
        let after = &rest[n..];
        let body_len = if after.len() >= length {
            length
        } else if after.is_empty() {
            0
        } else {
            return Err(format!("truncated body: {} of {length} bytes", after.len()));
        };
        list.push(Resp {
            status,
            close,
            body: after[..body_len].to_vec(),
        });
        rest = &after[body_len..];
    }
    Ok((list, interim))
}

/// Bytes for a message (lossy, cut to 300 bytes).
pub fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned();
    if b.len() > 300 {
        s + "…"
    } else {
        s
    }
}
