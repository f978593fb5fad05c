//! Request heads: an incremental line scan that enforces the `LimitRequest*` limits while
//! bytes arrive, then one `httparse` pass over the complete head.

use super::framing::is_tchar;
use crate::http::{RequestLimits, MAX_FIELDS_UNLIMITED};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};

/// At most this many empty lines are skipped before a request line (RFC 9112 §2.2 asks for
/// at least one); more is a malformed request.
const MAX_LEADING_EMPTY_LINES: usize = 8;

/// The longest line accepted when `LimitRequestLine` or `LimitRequestFieldSize` is 0.
const UNLIMITED_LINE: usize = 1 << 20;

/// The most header fields accepted (`LimitRequestFields` 0 means up to this many).
fn max_fields(limits: &RequestLimits) -> usize {
    match limits.fields {
        0 => MAX_FIELDS_UNLIMITED,
        n => n.min(MAX_FIELDS_UNLIMITED),
    }
}

/// Header slots parsed on the stack; a head with more fields uses a heap array.
const STACK_FIELDS: usize = 48;

/// What the scan found so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scan {
    /// The head is not complete yet and within the limits.
    Partial,
    /// The head (or trailer section) ends at this offset (after its empty line).
    Complete(usize),
    /// A limit was exceeded or the head is malformed: answer with this status.
    Reject(StatusCode),
}

/// Scans a head line by line as bytes arrive, remembering where it stopped.
///
/// Offsets are relative to the slice passed to [`HeadScan::scan`]; the caller passes a
/// slice that starts at the same byte every time (it may grow at the end).
#[derive(Debug, Clone)]
pub(crate) struct HeadScan {
    /// Start of the line not yet complete.
    line_start: usize,
    /// Complete non-empty lines so far (the request line counts as one).
    lines: usize,
    /// Empty lines skipped before the request line.
    leading: usize,
    /// Lines must end with CRLF (a chunked trailer section), not a bare LF.
    crlf_only: bool,
}

impl HeadScan {
    /// A scan of a request head (request line, then fields).
    pub(super) fn request() -> HeadScan {
        HeadScan {
            line_start: 0,
            lines: 0,
            leading: 0,
            crlf_only: false,
        }
    }

    /// A scan of a chunked body's trailer section (fields only).
    pub(super) fn trailers() -> HeadScan {
        HeadScan {
            line_start: 0,
            lines: 1,
            leading: 0,
            crlf_only: true,
        }
    }

    /// Header fields seen so far.
    pub(super) fn fields(&self) -> usize {
        self.lines.saturating_sub(1)
    }

    /// Continue scanning `buf` (which starts where the previous calls' slices started).
    pub(super) fn scan(&mut self, buf: &[u8], limits: &RequestLimits) -> Scan {
        loop {
            let Some(rest) = buf.get(self.line_start..) else {
                // The caller shrank the slice: a bug upstream, but never a panic.
                return Scan::Reject(StatusCode::BAD_REQUEST);
            };
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                // The line is incomplete: refuse it as soon as it surely breaks a rule — a
                // request line that cannot become one (its method is not a token: a TLS
                // handshake, binary junk) or a line surely too long — with the verdict the
                // complete line would get, so it never depends on how the bytes arrive.
                let content = match rest.split_last() {
                    Some((b'\r', before)) => before,
                    _ => rest,
                };
                return match self.verdict(content, limits) {
                    Some(status) => Scan::Reject(status),
                    None => Scan::Partial,
                };
            };
            let (line, bare_lf) = match rest[..nl].strip_suffix(b"\r") {
                Some(l) => (l, false),
                None => (&rest[..nl], true),
            };
            // A line too long was too long before its end arrived: that verdict first, so
            // it does not depend on whether the end came in the same segment.
            if let Some(status) = self.verdict(line, limits) {
                return Scan::Reject(status);
            }
            // RFC 9112 §7.1.2: in a chunked body's framing a line ends with CRLF (a proxy
            // that requires it would read on where we stopped).
            if bare_lf && self.crlf_only {
                return Scan::Reject(StatusCode::BAD_REQUEST);
            }
            self.line_start += nl + 1;
            if line.is_empty() {
                if self.lines == 0 {
                    self.leading += 1;
                    if self.leading > MAX_LEADING_EMPTY_LINES {
                        return Scan::Reject(StatusCode::BAD_REQUEST);
                    }
                    continue;
                }
                return Scan::Complete(self.line_start);
            }
            if self.lines > max_fields(limits) {
                // This line is field number `lines`: one too many.
                return Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            }
            self.lines += 1;
        }
    }

    /// The refusal a line (its content so far, without CRLF) has earned, if any: the rule
    /// it breaks first in its bytes decides — a non-token byte in a request line's method
    /// or a bare CR (400), or the byte that takes it over the length limit (414 or 431).
    fn verdict(&self, content: &[u8], limits: &RequestLimits) -> Option<StatusCode> {
        let (max, too_long) = self.line_limit(limits);
        let long_at = (content.len() > max).then_some(max);
        let bad_method_at = if self.lines == 0 {
            content
                .iter()
                .take_while(|&&b| b != b' ')
                .position(|&b| !is_tchar(b))
        } else {
            None
        };
        // A CR inside a line is not followed by LF (that LF would have ended the line):
        // RFC 9112 §2.2 lets a bare CR be refused, and httparse refuses it later anyway.
        let bare_cr_at = memchr::memchr(b'\r', content);
        let malformed_at = match (bad_method_at, bare_cr_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (malformed_at, long_at) {
            (Some(m), Some(l)) if l < m => Some(too_long),
            (Some(_), _) => Some(StatusCode::BAD_REQUEST),
            (None, Some(_)) => Some(too_long),
            (None, None) => None,
        }
    }

    /// The longest line allowed here (0 in the limits: none of our own, but
    /// [`UNLIMITED_LINE`] keeps a runaway line bounded) and the status that refuses it.
    fn line_limit(&self, limits: &RequestLimits) -> (usize, StatusCode) {
        let or_unlimited = |n: usize| if n == 0 { UNLIMITED_LINE } else { n };
        if self.lines == 0 {
            (or_unlimited(limits.request_line), StatusCode::URI_TOO_LONG)
        } else {
            (
                or_unlimited(limits.field_size),
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            )
        }
    }
}

/// Methods are case-sensitive (RFC 9110 §9.1) and every registered one is upper-case; a
/// method with lower-case letters is not one this server implements (Apache answers it
/// 501, nginx 400).
fn implemented_method(m: &str) -> bool {
    !m.bytes().any(|b| b.is_ascii_lowercase())
}

/// A parsed request head, owning its data.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
}

impl Head {
    /// The target as the scoreboard shows it: the path and query (`/` if the URI has none).
    pub(crate) fn target(&self) -> &str {
        crate::http::request_line::origin_target(&self.uri)
    }
}

/// Parse a complete head (`buf` ends with its empty line) that has `fields` header fields.
pub(crate) fn parse(buf: &[u8], fields: usize) -> Result<Head, StatusCode> {
    // One slot more than the scan counted: a disagreement shows up as TooManyHeaders.
    let n = fields.saturating_add(1);
    if n <= STACK_FIELDS {
        let mut slots = [httparse::EMPTY_HEADER; STACK_FIELDS];
        parse_with(buf, &mut slots[..n])
    } else {
        let mut slots = vec![httparse::EMPTY_HEADER; n];
        parse_with(buf, &mut slots)
    }
}

fn parse_with<'b>(buf: &'b [u8], slots: &mut [httparse::Header<'b>]) -> Result<Head, StatusCode> {
    let mut req = httparse::Request::new(slots);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(StatusCode::BAD_REQUEST),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        }
        Err(_) => return Err(StatusCode::BAD_REQUEST),
    }
    let method_str = req.method.unwrap_or("");
    let method = Method::from_bytes(method_str.as_bytes()).map_err(|_| StatusCode::BAD_REQUEST)?;
    if !implemented_method(method_str) {
        return Err(StatusCode::NOT_IMPLEMENTED);
    }
    let uri = Uri::try_from(req.path.unwrap_or("")).map_err(|_| StatusCode::BAD_REQUEST)?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(StatusCode::HTTP_VERSION_NOT_SUPPORTED),
    };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name =
            HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| StatusCode::BAD_REQUEST)?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| StatusCode::BAD_REQUEST)?;
        headers.append(name, value);
    }
    Ok(Head {
        method,
        uri,
        version,
        headers,
    })
}

/// A request line whose version httparse refused: 505 for a well-formed `HTTP/x.y` of
/// another major version, 400 for anything else (`GET / FOO`).
fn version_error(buf: &[u8]) -> StatusCode {
    let line = first_line(buf);
    let version = line.rsplit(' ').next().unwrap_or("").as_bytes();
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() && *major != b'1' =>
        {
            StatusCode::HTTP_VERSION_NOT_SUPPORTED
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The request line as far as it arrived, for the scoreboard of a refused request.
pub(super) fn first_line(buf: &[u8]) -> String {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let rest = &buf[start..];
    let end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len())
        .min(256);
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            request_line: 20,
            field_size: 10,
            fields: 2,
            ..RequestLimits::default()
        }
    }

    fn scan_all(bytes: &[u8]) -> Scan {
        let mut s = HeadScan::request();
        // Byte by byte, as the slowest client would send it.
        for i in 1..=bytes.len() {
            match s.scan(&bytes[..i], &limits()) {
                Scan::Partial => {}
                other => return other,
            }
        }
        Scan::Partial
    }

    #[test]
    fn scan_finds_the_end_and_enforces_limits() {
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"),
            Scan::Complete(24)
        );
        assert_eq!(scan_all(b"\r\n\nGET / HTTP/1.1\n\n"), Scan::Complete(19));
        assert_eq!(
            scan_all(b"GET /aaaaaaaaaaaaaaaaaaaaaaaaa"),
            Scan::Reject(StatusCode::URI_TOO_LONG)
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nAbc: defghijk"),
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nA: b\r\nB: c\r\nC: d\r\n\r\n"),
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            scan_all(&b"\r\n".repeat(20)),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn parse_and_version() {
        let h = parse(b"POST /p?q HTTP/1.1\r\nHost: a\r\n\r\n", 1).unwrap();
        assert_eq!(
            crate::http::request_line(&h.method, h.target(), h.version),
            "POST /p?q HTTP/1.1"
        );
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\n\r\n", 0).unwrap_err(),
            StatusCode::HTTP_VERSION_NOT_SUPPORTED
        );
        assert_eq!(
            parse(b"GET / FOO/1.1\r\n\r\n", 0).unwrap_err(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(first_line(b"\r\nGET /x\r\nHost"), "GET /x");
        assert_eq!(
            parse(b"get / HTTP/1.1\r\n\r\n", 0).unwrap_err(),
            StatusCode::NOT_IMPLEMENTED
        );
    }

    /// The verdict is a function of the bytes, not of how they arrive (fuzz finding H1).
    #[test]
    fn the_verdict_does_not_depend_on_how_the_bytes_arrive() {
        let whole = |bytes: &[u8]| {
            let mut s = HeadScan::request();
            s.scan(bytes, &limits())
        };
        for input in [
            &b"GE(T / HTTP/1.1\r\nHost: a\r\n"[..],
            b"eeeeeeeeeeeeeeeeeeeeeeee\x01 / HTTP/1.1\r\n",
            b"eeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            b"ee\x01eeeeeeeeeeeeeeeeeeeeeeeeeeee / HTTP/1.1\r\n",
            b"GE(T / HTTP/1.1\r\nAbc: defghijklmnop\r\n",
        ] {
            let v = whole(input);
            assert_ne!(v, Scan::Partial, "{:?}", String::from_utf8_lossy(input));
            assert_eq!(scan_all(input), v, "{:?}", String::from_utf8_lossy(input));
        }
    }

    /// A trailer line too long and ended by a bare LF: the length rule, broken first, decides
    /// however the bytes arrive (fuzz finding H2).
    #[test]
    fn a_long_bare_lf_trailer_line_is_431_however_it_arrives() {
        let line = b"aaaaaaaaaaaaaaa\n";
        let mut whole = HeadScan::trailers();
        let verdict = whole.scan(line, &limits());
        assert_eq!(
            verdict,
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let mut pieces = HeadScan::trailers();
        let mut got = Scan::Partial;
        for i in 1..=line.len() {
            got = pieces.scan(&line[..i], &limits());
            if got != Scan::Partial {
                break;
            }
        }
        assert_eq!(got, verdict);
        // A bare CR before the limit decides first (fuzz: 400 whole and in pieces).
        let line = b"a\raaaaaaaaaaaaaaaaaa\n";
        let mut whole = HeadScan::trailers();
        assert_eq!(
            whole.scan(line, &limits()),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
        let mut pieces = HeadScan::trailers();
        let mut got = Scan::Partial;
        for i in 1..=line.len() {
            got = pieces.scan(&line[..i], &limits());
            if got != Scan::Partial {
                break;
            }
        }
        assert_eq!(got, Scan::Reject(StatusCode::BAD_REQUEST));
        // A short one is refused for its bare LF.
        let mut short = HeadScan::trailers();
        assert_eq!(
            short.scan(b"a: b\n", &limits()),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn a_line_that_cannot_be_a_request_is_refused_before_its_end() {
        assert_eq!(
            scan_all(b"\x16\x03\x01\x02\x00"),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            scan_all(b"GE(T / HTTP/1.1"),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
        assert_eq!(scan_all(b"\r"), Scan::Partial);
        assert_eq!(scan_all(b"\r\nGET /unfinished"), Scan::Partial);
    }

    /// Scan `bytes` whole with `limits`.
    fn scan_with(bytes: &[u8], limits: &RequestLimits) -> Scan {
        HeadScan::request().scan(bytes, limits)
    }

    #[test]
    fn up_to_eight_empty_lines_before_the_request_line_are_skipped() {
        let with = |n: usize| [&b"\r\n".repeat(n)[..], b"GET / HTTP/1.1\r\n\r\n"].concat();
        let eight = with(8);
        assert_eq!(scan_all(&eight), Scan::Complete(eight.len()));
        assert_eq!(scan_all(&with(9)), Scan::Reject(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn zero_limits_are_none_of_our_own_but_stay_bounded() {
        let zero = RequestLimits {
            request_line: 0,
            field_size: 0,
            fields: 0,
            ..RequestLimits::default()
        };
        // Lines far over the test limits pass; a line over 1 MiB does not.
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000));
        assert_eq!(
            scan_with(long_line.as_bytes(), &zero),
            Scan::Complete(long_line.len())
        );
        let long_field = format!("GET / HTTP/1.1\r\nA: {}\r\n\r\n", "b".repeat(100_000));
        assert_eq!(
            scan_with(long_field.as_bytes(), &zero),
            Scan::Complete(long_field.len())
        );
        let huge = format!("GET /{}", "a".repeat(UNLIMITED_LINE));
        assert_eq!(
            scan_with(huge.as_bytes(), &zero),
            Scan::Reject(StatusCode::URI_TOO_LONG)
        );
        let huge = format!("GET / HTTP/1.1\r\nA: {}", "b".repeat(UNLIMITED_LINE));
        assert_eq!(
            scan_with(huge.as_bytes(), &zero),
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        // Fields: 0 means up to MAX_FIELDS_UNLIMITED, and so does a larger limit.
        let fields = |n: usize| {
            let mut h = b"GET / HTTP/1.1\r\n".to_vec();
            for i in 0..n {
                h.extend_from_slice(format!("F{i}: x\r\n").as_bytes());
            }
            h.extend_from_slice(b"\r\n");
            h
        };
        let at_cap = fields(MAX_FIELDS_UNLIMITED);
        let over_cap = fields(MAX_FIELDS_UNLIMITED + 1);
        for l in [
            &zero,
            &RequestLimits {
                fields: MAX_FIELDS_UNLIMITED * 2,
                ..zero.clone()
            },
        ] {
            assert_eq!(scan_with(&at_cap, l), Scan::Complete(at_cap.len()));
            assert_eq!(
                scan_with(&over_cap, l),
                Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            );
        }
    }

    #[test]
    fn a_head_with_more_fields_than_the_stack_holds_parses_whole() {
        for n in [STACK_FIELDS - 1, STACK_FIELDS, STACK_FIELDS + 20] {
            let mut h = b"GET / HTTP/1.1\r\n".to_vec();
            for i in 0..n {
                h.extend_from_slice(format!("F{i}: {i}\r\n").as_bytes());
            }
            h.extend_from_slice(b"\r\n");
            let head = parse(&h, n).unwrap();
            assert_eq!(head.headers.len(), n);
            assert_eq!(
                head.headers[format!("F{}", n - 1).as_str()],
                (n - 1).to_string()
            );
        }
    }

    #[test]
    fn only_a_well_formed_other_major_version_is_505() {
        for (line, status) in [
            (
                &b"GET / HTTP/3.0\r\n\r\n"[..],
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ),
            (b"GET / HTTP/1.2\r\n\r\n", StatusCode::BAD_REQUEST),
            (b"GET / HTTP/2\r\n\r\n", StatusCode::BAD_REQUEST),
            (b"GET / HTTP/2.x\r\n\r\n", StatusCode::BAD_REQUEST),
            (b"GET / HTTP/x.0\r\n\r\n", StatusCode::BAD_REQUEST),
            (b"GET / HTTX/2.0\r\n\r\n", StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(
                parse(line, 0).unwrap_err(),
                status,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn the_scoreboard_line_of_a_refused_request_is_its_first_256_bytes() {
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(400));
        assert_eq!(first_line(long.as_bytes()), long[..256]);
        assert_eq!(first_line(b"\n\r\nGET /x\nHost"), "GET /x");
        assert_eq!(first_line(b"\r\n"), "");
    }

    #[test]
    fn a_line_exactly_at_its_limit_passes_one_byte_more_does_not() {
        // limits(): request line 20 bytes, field line 10 (without the CRLF).
        let line = |n: usize| format!("GET /{} HTTP/1.1", "a".repeat(n - 14));
        let field = |n: usize| format!("Abc: {}", "d".repeat(n - 5));
        assert_eq!((line(20).len(), field(10).len()), (20, 10));
        let head = |l: &str, f: &str| format!("{l}\r\n{f}\r\n\r\n");
        let at = head(&line(20), &field(10));
        assert_eq!(scan_all(at.as_bytes()), Scan::Complete(at.len()));
        assert_eq!(
            scan_all(head(&line(21), &field(10)).as_bytes()),
            Scan::Reject(StatusCode::URI_TOO_LONG)
        );
        assert_eq!(
            scan_all(head(&line(20), &field(11)).as_bytes()),
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn a_bare_cr_that_is_also_the_first_byte_over_the_limit_is_400() {
        // Field limit 10: the CR is byte 11, both malformed and too long; the malformed
        // verdict wins the tie, whole and in pieces. One byte later, the length decides.
        let tie = b"GET / HTTP/1.1\r\nAbc: defgh\rX\r\n\r\n";
        assert_eq!(scan_all(tie), Scan::Reject(StatusCode::BAD_REQUEST));
        assert_eq!(
            scan_with(tie, &limits()),
            Scan::Reject(StatusCode::BAD_REQUEST)
        );
        let later = b"GET / HTTP/1.1\r\nAbc: defghi\rX\r\n\r\n";
        assert_eq!(
            scan_all(later),
            Scan::Reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }
}
