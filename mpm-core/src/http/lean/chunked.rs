//! A strict, incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
//!
//! It is ours rather than `httparse::parse_chunk_size`, which takes an empty size (`\r\n`,
//! `;x\r\n`) as the last chunk and a bare LF inside an extension as part of it — both are
//! request-smuggling shapes: the bytes after them would be read as another request.
//!
//! The decoder holds no buffer: it is fed whatever bytes are at hand, consumes framing
//! byte by byte (so a client may split anything anywhere), points at data bytes in place,
//! and keeps unconsumed only a trailer section that is not complete yet (the caller keeps
//! those bytes at the front of its buffer and calls again with more).

use super::framing::is_tchar;
use super::head::{HeadScan, Scan};
use crate::http::RequestLimits;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// The longest chunk-size line (size and extensions, without the CRLF) accepted.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// What one call to [`Decoder::decode`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// `input[start..start + len]` is chunk data; everything up to its end is consumed.
    Data { start: usize, len: usize },
    /// More input is needed; this many bytes were consumed (framing only).
    Need(usize),
    /// The body ended (last chunk and trailer section); this many bytes were consumed.
    /// The trailer fields, if there were any.
    End(usize, Option<HeaderMap>),
}

/// Where the decoder is.
#[derive(Debug, Clone)]
enum State {
    /// At the start of a chunk-size line: at least one hex digit must come.
    SizeStart,
    /// Inside the hex digits (more may come).
    Size,
    /// After the size (and BWS): `;` or CRLF may come, or more BWS.
    SizeBws,
    /// After `;`: BWS, then an extension name.
    ExtNameStart,
    /// Inside an extension name.
    ExtName,
    /// After a name (and BWS): `=`, `;`, CRLF, or more BWS.
    ExtAfterName,
    /// After `=`: BWS, then a token or a quoted string.
    ExtValueStart,
    /// Inside a token value.
    ExtToken,
    /// Inside a quoted-string value.
    ExtQuoted,
    /// After a backslash inside a quoted string.
    ExtQuotedPair,
    /// After a value (and BWS): `;`, CRLF, or more BWS.
    ExtAfterValue,
    /// A CR ended the size line: LF must follow.
    SizeLf,
    /// Inside chunk data.
    Data(u64),
    /// After chunk data: CR must follow.
    DataCr,
    /// After that CR: LF must follow.
    DataLf,
    /// After the last chunk: the trailer section, up to its empty line.
    Trailers(HeadScan),
    /// The body is complete.
    Done,
}

/// The decoder of one chunked body.
#[derive(Debug, Clone)]
pub(crate) struct Decoder {
    state: State,
    /// The chunk size being read.
    size: u64,
    /// Bytes of the current chunk-size line so far.
    line: usize,
}

/// `qdtext` (RFC 9110 §5.6.4): HTAB, SP, visible ASCII but `"` and `\`, obs-text.
fn is_qdtext(b: u8) -> bool {
    b == b'\t'
        || b == b' '
        || b == 0x21
        || (0x23..=0x5b).contains(&b)
        || (0x5d..=0x7e).contains(&b)
        || b >= 0x80
}

fn is_bws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A framing error: the request is answered 400 and the connection closed.
const BAD: StatusCode = StatusCode::BAD_REQUEST;

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a chunked body.
    pub(crate) fn new() -> Decoder {
        Decoder {
            state: State::SizeStart,
            size: 0,
            line: 0,
        }
    }

    /// Data bytes of the current chunk still to come (a declared size is known before its
    /// data arrives, so a size over a limit can be refused at once).
    pub(crate) fn data_left(&self) -> u64 {
        match self.state {
            State::Data(left) => left,
            _ => 0,
        }
    }

    /// Decode from `input`. Errors are the status to answer with (always 400 here but for
    /// an oversize trailer section, 431).
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        limits: &RequestLimits,
    ) -> Result<Step, StatusCode> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            if let State::Data(left) = self.state {
                let len = (input.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                let left = left - len as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data(left)
                };
                return Ok(Step::Data { start: i, len });
            }
            if let State::Trailers(_) = self.state {
                return self.trailers(&input[i..], i, limits);
            }
            if matches!(self.state, State::Done) {
                return Ok(Step::End(i, None));
            }
            i += 1;
            let in_size_line = matches!(
                self.state,
                State::SizeStart
                    | State::Size
                    | State::SizeBws
                    | State::ExtNameStart
                    | State::ExtName
                    | State::ExtAfterName
                    | State::ExtValueStart
                    | State::ExtToken
                    | State::ExtQuoted
                    | State::ExtQuotedPair
                    | State::ExtAfterValue
            );
            if in_size_line && b != b'\r' {
                // RFC 9112 §7.1: a chunk-size line is bounded here (8 KiB in hyper and
                // Pingora); an endless extension must not grow without end.
                self.line += 1;
                if self.line > MAX_CHUNK_LINE {
                    return Err(BAD);
                }
            }
            self.state = match (&self.state, b) {
                // chunk-size = 1*HEXDIG (RFC 9112 §7.1): at least one digit, value in u64.
                (State::SizeStart | State::Size, _) if b.is_ascii_hexdigit() => {
                    let d = u64::from((b as char).to_digit(16).unwrap_or(0) as u8);
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(d))
                        .ok_or(BAD)?;
                    State::Size
                }
                (State::SizeStart, _) => return Err(BAD),
                // BWS before `;` (RFC 9112 §7.1.1 chunk-ext) or before CRLF.
                (State::Size | State::SizeBws, _) if is_bws(b) => State::SizeBws,
                (
                    State::Size
                    | State::SizeBws
                    | State::ExtAfterName
                    | State::ExtToken
                    | State::ExtAfterValue,
                    b';',
                ) => State::ExtNameStart,
                (
                    State::Size
                    | State::SizeBws
                    | State::ExtName
                    | State::ExtAfterName
                    | State::ExtToken
                    | State::ExtAfterValue,
                    b'\r',
                ) => State::SizeLf,
                // chunk-ext-name = token.
                (State::ExtNameStart, _) if is_bws(b) => State::ExtNameStart,
                (State::ExtNameStart | State::ExtName, _) if is_tchar(b) => State::ExtName,
                (State::ExtName | State::ExtAfterName, _) if is_bws(b) => State::ExtAfterName,
                (State::ExtName, b';') => State::ExtNameStart,
                (State::ExtName | State::ExtAfterName, b'=') => State::ExtValueStart,
                // chunk-ext-val = token / quoted-string.
                (State::ExtValueStart, _) if is_bws(b) => State::ExtValueStart,
                (State::ExtValueStart, b'"') => State::ExtQuoted,
                (State::ExtValueStart | State::ExtToken, _) if is_tchar(b) => State::ExtToken,
                (State::ExtToken | State::ExtAfterValue, _) if is_bws(b) => State::ExtAfterValue,
                (State::ExtQuoted, b'"') => State::ExtAfterValue,
                (State::ExtQuoted, b'\\') => State::ExtQuotedPair,
                (State::ExtQuoted, _) if is_qdtext(b) => State::ExtQuoted,
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
                (State::ExtQuotedPair, _)
                    if b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80 =>
                {
                    State::ExtQuoted
                }
                // The line ends with CRLF, never a bare LF (RFC 9112 §7.1, §2.2).
                (State::SizeLf, b'\n') => {
                    self.line = 0;
                    let size = std::mem::take(&mut self.size);
                    if size == 0 {
                        State::Trailers(HeadScan::trailers())
                    } else {
                        State::Data(size)
                    }
                }
                // chunk-data is followed by exactly CRLF.
                (State::DataCr, b'\r') => State::DataLf,
                (State::DataLf, b'\n') => State::SizeStart,
                // Anything else — a bare LF, a CTL, a stray byte — is a framing error.
                _ => return Err(BAD),
            };
        }
        Ok(Step::Need(i))
    }

    /// Scan the trailer section at `rest` (which starts `offset` bytes into the input).
    fn trailers(
        &mut self,
        rest: &[u8],
        offset: usize,
        limits: &RequestLimits,
    ) -> Result<Step, StatusCode> {
        let State::Trailers(scan) = &mut self.state else {
            return Err(BAD);
        };
        match scan.scan(rest, limits) {
            // Not complete: nothing of it is consumed; the caller keeps the bytes.
            Scan::Partial => Ok(Step::Need(offset)),
            Scan::Reject(status) => Err(status),
            Scan::Complete(end) => {
                let fields = scan.fields();
                let trailers = parse_trailers(&rest[..end], fields)?;
                self.state = State::Done;
                Ok(Step::End(offset + end, trailers))
            }
        }
    }
}

/// Parse a complete trailer section (RFC 9112 §7.1.2: field lines, then the empty line)
/// with the same rules as a head's fields (httparse: no obs-fold, no space before the
/// colon, no CTL in a value).
fn parse_trailers(section: &[u8], fields: usize) -> Result<Option<HeaderMap>, StatusCode> {
    if fields == 0 {
        return Ok(None);
    }
    let mut slots = vec![httparse::EMPTY_HEADER; fields];
    match httparse::parse_headers(section, &mut slots) {
        Ok(httparse::Status::Complete((_, parsed))) => {
            let mut map = HeaderMap::with_capacity(parsed.len());
            for h in parsed {
                let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| BAD)?;
                let value = HeaderValue::from_bytes(h.value).map_err(|_| BAD)?;
                map.append(name, value);
            }
            Ok(Some(map))
        }
        _ => Err(BAD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode `input` fed in pieces of `step` bytes (trailer bytes kept as a caller keeps
    /// them); returns the data and the trailer count, or the refusal.
    fn run(input: &[u8], step: usize) -> Result<(Vec<u8>, usize, usize), StatusCode> {
        let limits = RequestLimits::default();
        let mut d = Decoder::new();
        let mut data = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let more = (input.len() - fed).min(step);
            pending.extend_from_slice(&input[fed..fed + more]);
            fed += more;
            loop {
                match d.decode(&pending, &limits)? {
                    Step::Data { start, len } => {
                        data.extend_from_slice(&pending[start..start + len]);
                        pending.drain(..start + len);
                    }
                    Step::Need(used) => {
                        pending.drain(..used);
                        break;
                    }
                    Step::End(used, t) => {
                        pending.drain(..used);
                        return Ok((data, t.map_or(0, |t| t.len()), fed - pending.len()));
                    }
                }
            }
            if fed == input.len() {
                return Err(StatusCode::REQUEST_TIMEOUT);
            }
        }
    }

    fn all_splits(input: &[u8]) -> Result<(Vec<u8>, usize, usize), StatusCode> {
        let whole = run(input, input.len().max(1));
        for step in 1..input.len().min(8) {
            assert_eq!(run(input, step), whole, "split every {step} bytes");
        }
        whole
    }

    #[test]
    fn decodes_data_extensions_and_trailers_however_split() {
        let ok = all_splits(b"5\r\nhello\r\n1A;a=b ; c=\"q\\\"x\" ;d\r\n01234567890123456789012345\r\n0\r\nX-T: 1\r\n\r\nNEXT");
        let (data, trailers, consumed) = ok.unwrap();
        assert_eq!(data.len(), 5 + 26);
        assert_eq!(trailers, 1);
        assert!(consumed > 0);
        assert_eq!(all_splits(b"0\r\n\r\n").unwrap(), (vec![], 0, 5));
        assert_eq!(
            all_splits(b"000a\r\n0123456789\r\n0\r\n\r\n")
                .unwrap()
                .0
                .len(),
            10
        );
        assert_eq!(
            all_splits(b"3 \t\r\nabc\r\n0 ;x\r\n\r\n").unwrap().0,
            b"abc"
        );
    }

    #[test]
    fn refuses_the_smuggling_shapes() {
        for bad in [
            &b"\r\n"[..],                  // empty size
            b";x\r\n",                     // extension without a size
            b" 5\r\nhello\r\n0\r\n\r\n",   // space before the size
            b"2;\nxx\r\n0\r\n\r\n",        // bare LF inside an extension
            b"2;a\nxx\r\n0\r\n\r\n",       // bare LF after an extension name
            b"2\nxx\r\n0\r\n\r\n",         // bare LF ending the size line
            b"2\rxx\r\n0\r\n\r\n",         // CR without LF
            b"2;a=\"x\r\n",                // CR inside a quoted string
            b"2;a\x01\r\nxx\r\n0\r\n\r\n", // CTL in an extension
            b"2;=x\r\nxx\r\n0\r\n\r\n",    // extension without a name
            b"2;a=\r\nxx\r\n0\r\n\r\n",    // `=` without a value
            b"2 3\r\nxx\r\n0\r\n\r\n",     // two numbers
            b"-2\r\nxx\r\n0\r\n\r\n",      // sign
            b"0x2\r\nxx\r\n0\r\n\r\n",     // prefix
            b"2\r\nxxx\r\n0\r\n\r\n",      // data longer than the size
            b"2\r\nxx\n0\r\n\r\n",         // bare LF after data
            b"2\r\nxx0\r\n\r\n",           // no CRLF after data
            b"10000000000000000\r\n",      // 2^64 overflows
            b"0\r\n\tfolded: x\r\n\r\n",   // obs-fold in a trailer
            b"0\r\nbad name: x\r\n\r\n",   // space in a trailer name
        ] {
            for step in 1..=bad.len() {
                assert_eq!(
                    run(bad, step),
                    Err(StatusCode::BAD_REQUEST),
                    "{:?} split every {step}",
                    String::from_utf8_lossy(bad)
                );
            }
        }
        // 16 hex digits fit; leading zeros do not count towards an overflow.
        assert!(matches!(
            run(b"0000000000000000000001\r\nx\r\n0\r\n\r\n", 64),
            Ok((d, 0, _)) if d == b"x"
        ));
        let big = b"ffffffffffffffff\r\n";
        assert_eq!(run(big, big.len()), Err(StatusCode::REQUEST_TIMEOUT));
    }

    #[test]
    fn a_declared_size_is_known_before_its_data() {
        let limits = RequestLimits::default();
        let mut d = Decoder::new();
        assert_eq!(d.data_left(), 0);
        assert_eq!(d.decode(b"10\r\n", &limits), Ok(Step::Need(4)));
        assert_eq!(d.data_left(), 16);
        assert_eq!(
            d.decode(b"abc", &limits),
            Ok(Step::Data { start: 0, len: 3 })
        );
        assert_eq!(d.data_left(), 13);
    }

    #[test]
    fn quoted_extension_values_take_qdtext_and_quoted_pairs_only() {
        // qdtext: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text; quoted-pair: \ + any of
        // HTAB, SP, VCHAR, obs-text.
        for ok in [
            &b"1;a=\"x y\t!#[]~\x80\xff\"\r\nx\r\n0\r\n\r\n"[..],
            b"1;a=\"\\\"\\\\\\\t\\ \\\x80\"\r\nx\r\n0\r\n\r\n",
            b"1;a=\"\"\r\nx\r\n0\r\n\r\n",
        ] {
            assert_eq!(run(ok, ok.len()).map(|r| r.0), Ok(b"x".to_vec()), "{ok:?}");
        }
        for bad in [
            &b"1;a=\"\x7f\"\r\nx\r\n0\r\n\r\n"[..],
            b"1;a=\"\x01\"\r\nx\r\n0\r\n\r\n",
            b"1;a=\"\\\x01\"\r\nx\r\n0\r\n\r\n",
            b"1;a=\"\\\x7f\"\r\nx\r\n0\r\n\r\n",
        ] {
            assert_eq!(run(bad, bad.len()), Err(StatusCode::BAD_REQUEST), "{bad:?}");
        }
    }

    #[test]
    fn bounds_the_size_line() {
        let mut long = b"1;".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_CHUNK_LINE - 1));
        long.extend_from_slice(b"\r\n");
        assert_eq!(run(&long, long.len()), Err(StatusCode::BAD_REQUEST));
        let mut ok = b"1;".to_vec();
        ok.extend(std::iter::repeat_n(b'a', MAX_CHUNK_LINE - 2));
        ok.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(run(&ok, 100).unwrap().0, b"x");
    }

    #[test]
    fn extension_names_and_values_are_tokens_with_bws_around_them() {
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
        for ok in [
            &b"1;a;b\r\nx\r\n0\r\n\r\n"[..], // a name without a value, then another
            b"1;a =b\r\nx\r\n0\r\n\r\n",     // BWS before `=`
            b"1;a ;b\r\nx\r\n0\r\n\r\n",     // BWS after a name without a value
            b"1;a\t=\tb \r\nx\r\n0\r\n\r\n", // BWS around `=` and after the value
            b"1;a=b ;c\r\nx\r\n0\r\n\r\n",   // BWS after a value, then another
        ] {
            for step in [1, ok.len()] {
                assert_eq!(run(ok, step).map(|r| r.0), Ok(b"x".to_vec()), "{ok:?}");
            }
        }
        for bad in [
            &b"1;a=b c\r\nx\r\n0\r\n\r\n"[..], // two values
            b"1;a b\r\nx\r\n0\r\n\r\n",        // two names
            b"1;a=b\"c\r\nx\r\n0\r\n\r\n",     // a quote inside a token value
            b"1;a=@\r\nx\r\n0\r\n\r\n",        // a value that is no token
            b"1;a@\r\nx\r\n0\r\n\r\n",         // a name that is no token
        ] {
            assert_eq!(run(bad, bad.len()), Err(StatusCode::BAD_REQUEST), "{bad:?}");
        }
    }

    #[test]
    fn every_trailer_field_is_kept() {
        for (input, trailers) in [
            (&b"0\r\n\r\n"[..], 0),
            (b"0\r\nA: 1\r\n\r\n", 1),
            (b"0\r\nA: 1\r\nB: 2\r\n\r\n", 2),
            (b"0\r\nA: 1\r\nB: 2\r\nA: 3\r\n\r\n", 3),
        ] {
            assert_eq!(all_splits(input).map(|r| r.1), Ok(trailers), "{input:?}");
        }
    }
}
