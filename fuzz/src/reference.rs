//! A reference decoder of the chunked transfer coding, written straight from the grammar
//! the engine enforces (RFC 9112 §7.1, read strictly), for differential checks against
//! `mpm_core::http::fuzzing::chunked`. It is deliberately naive: it looks at the whole
//! input at once, line by line, and is not incremental.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = size-line chunk-data CRLF
//! size-line    = 1*HEXDIG BWS *( ";" BWS name BWS [ "=" BWS value BWS ] ) CRLF
//! name         = 1*tchar
//! value        = 1*tchar / quoted-string
//! last-chunk   = 1*"0" (the same size-line, size 0)
//! BWS          = *( SP / HTAB )
//! ```
//!
//! The size fits in 64 bits; a size line has at most 4096 bytes before its CR. The
//! trailer section is field lines up to an empty line, every line ended by CRLF (a bare LF
//! is 400), each at most `field_size` bytes (431, as soon as a line is surely longer), at
//! most `fields` of them (431), then each must be `token ":" OWS value OWS` with a value of
//! HTAB, SP, VCHAR or obs-text (else 400). A body limit refuses (413) a chunk whose
//! declared size takes the body over the limit as soon as its size line is complete.

/// The limits the reference applies.
#[derive(Debug, Clone, Copy)]
pub struct RefLimits {
    /// The longest trailer line (0: 1 MiB, the engine's own cap).
    pub field_size: usize,
    /// The most trailer fields (0: 10,000, the engine's own cap).
    pub fields: usize,
    /// The body limit (`None`: none).
    pub body: Option<u64>,
}

impl RefLimits {
    /// The reference's reading of the engine's limits.
    pub fn of(l: &mpm_core::http::RequestLimits, body: Option<u64>) -> RefLimits {
        RefLimits {
            field_size: if l.field_size == 0 {
                1 << 20
            } else {
                l.field_size
            },
            fields: if l.fields == 0 {
                10_000
            } else {
                l.fields.min(10_000)
            },
            body,
        }
    }
}

/// What the reference makes of a chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefOutcome {
    /// The input ends before the body does; the data so far.
    Partial(Vec<u8>),
    /// Refused with this status (400, 413 or 431).
    Refused(u16),
    /// The body ends after `consumed` bytes.
    Complete {
        /// The data.
        data: Vec<u8>,
        /// Bytes of the body, framing and trailers included.
        consumed: usize,
        /// Trailer field lines.
        trailers: usize,
    },
}

/// The longest size line (bytes before its CR).
const MAX_SIZE_LINE: usize = 4096;

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn bws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Why a size line did not parse.
#[derive(Debug, PartialEq)]
enum LineError {
    /// The bytes end where more of a valid line could follow.
    Short,
    /// No line starts like this.
    Bad,
}

/// A cursor over the bytes of a size line (everything before its CR).
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_bws(&mut self) {
        while self.peek().is_some_and(bws) {
            self.i += 1;
        }
    }
    /// One or more `tchar`.
    fn token(&mut self) -> Result<(), LineError> {
        match self.peek() {
            None => return Err(LineError::Short),
            Some(b) if !tchar(b) => return Err(LineError::Bad),
            _ => {}
        }
        while self.peek().is_some_and(tchar) {
            self.i += 1;
        }
        Ok(())
    }
    /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE`, at a DQUOTE.
    fn quoted(&mut self) -> Result<(), LineError> {
        self.i += 1;
        loop {
            let Some(b) = self.peek() else {
                return Err(LineError::Short);
            };
            self.i += 1;
            match b {
                b'"' => return Ok(()),
                b'\\' => {
                    let Some(q) = self.peek() else {
                        return Err(LineError::Short);
                    };
                    if !(q == b'\t' || q == b' ' || (0x21..=0x7e).contains(&q) || q >= 0x80) {
                        return Err(LineError::Bad);
                    }
                    self.i += 1;
                }
                b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => {}
                _ => return Err(LineError::Bad),
            }
        }
    }
}

/// Parse a whole size line (without its CRLF): the size, or why not. `Short` means the
/// line is a valid beginning that cannot end here.
fn size_line(s: &[u8]) -> Result<u64, LineError> {
    let mut c = Cursor { s, i: 0 };
    let mut size: u64 = 0;
    let mut digits = 0;
    while let Some(b) = c.peek() {
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        size = size
            .checked_mul(16)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(LineError::Bad)?;
        digits += 1;
        c.i += 1;
    }
    if digits == 0 {
        return Err(if s.is_empty() {
            LineError::Short
        } else {
            LineError::Bad
        });
    }
    c.skip_bws();
    loop {
        match c.peek() {
            None => return Ok(size),
            Some(b';') => c.i += 1,
            Some(_) => return Err(LineError::Bad),
        }
        c.skip_bws();
        c.token()?;
        c.skip_bws();
        if c.peek() == Some(b'=') {
            c.i += 1;
            c.skip_bws();
            match c.peek() {
                None => return Err(LineError::Short),
                Some(b'"') => c.quoted()?,
                Some(_) => c.token()?,
            }
            c.skip_bws();
        }
    }
}

/// Whether a complete trailer field line (its line end removed) is `token ":" OWS value
/// OWS` with a valid value.
fn field_line_ok(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    !name.is_empty()
        && name.iter().all(|&b| tchar(b))
        && value
            .iter()
            .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80)
}

/// Decode the chunked body at the start of `input`.
pub fn decode(input: &[u8], limits: &RefLimits) -> RefOutcome {
    let mut data = Vec::new();
    let mut total: u64 = 0;
    let mut at = 0;
    loop {
        // The size line: everything up to its CR.
        let rest = &input[at..];
        let cr = rest.iter().position(|&b| b == b'\r');
        let line = &rest[..cr.unwrap_or(rest.len())];
        if line.len() > MAX_SIZE_LINE {
            return RefOutcome::Refused(400);
        }
        let parsed = size_line(line);
        let Some(cr) = cr else {
            // No CR yet: fine as long as the line can still become one.
            return match parsed {
                Err(LineError::Bad) => RefOutcome::Refused(400),
                _ => RefOutcome::Partial(data),
            };
        };
        let Ok(size) = parsed else {
            return RefOutcome::Refused(400);
        };
        match rest.get(cr + 1) {
            None => return RefOutcome::Partial(data),
            Some(b'\n') => {}
            Some(_) => return RefOutcome::Refused(400),
        }
        at += cr + 2;
        if size == 0 {
            return trailers(input, at, data, limits);
        }
        if limits.body.is_some_and(|l| total.saturating_add(size) > l) {
            return RefOutcome::Refused(413);
        }
        total += size;
        // The data, then exactly CRLF.
        let avail = (input.len() - at) as u64;
        if avail < size {
            data.extend_from_slice(&input[at..]);
            return RefOutcome::Partial(data);
        }
        let size = size as usize;
        data.extend_from_slice(&input[at..at + size]);
        at += size;
        match input.get(at..at + 2) {
            Some(b"\r\n") => at += 2,
            Some(_) => return RefOutcome::Refused(400),
            None if input.get(at).is_none_or(|&b| b == b'\r') => return RefOutcome::Partial(data),
            None => return RefOutcome::Refused(400),
        }
    }
}

/// The refusal a trailer line (its content so far, without CRLF) has earned: a bare CR
/// (400) or the byte past `max` (431), whichever comes first in the bytes.
fn line_verdict(content: &[u8], max: usize) -> Option<u16> {
    let long_at = (content.len() > max).then_some(max);
    let cr_at = content.iter().position(|&b| b == b'\r');
    match (cr_at, long_at) {
        (Some(c), Some(l)) if l < c => Some(431),
        (Some(_), _) => Some(400),
        (None, Some(_)) => Some(431),
        (None, None) => None,
    }
}

/// The trailer section at `input[at..]`, after the last chunk.
fn trailers(input: &[u8], mut at: usize, data: Vec<u8>, limits: &RefLimits) -> RefOutcome {
    let mut fields: Vec<&[u8]> = Vec::new();
    loop {
        let rest = &input[at..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            // An incomplete line: refused once it surely breaks a rule (a CR at its end
            // may be the start of its CRLF).
            let content = rest.strip_suffix(b"\r").unwrap_or(rest);
            if let Some(status) = line_verdict(content, limits.field_size) {
                return RefOutcome::Refused(status);
            }
            return RefOutcome::Partial(data);
        };
        let (line, bare_lf) = match rest[..nl].strip_suffix(b"\r") {
            Some(l) => (l, false),
            None => (&rest[..nl], true),
        };
        // The rule broken first in the bytes decides: a bare CR or the limit, then the
        // bare LF at the line's end (every line ends with CRLF).
        if let Some(status) = line_verdict(line, limits.field_size) {
            return RefOutcome::Refused(status);
        }
        if bare_lf {
            return RefOutcome::Refused(400);
        }
        at += nl + 1;
        if line.is_empty() {
            // Only now, the section complete, are the fields themselves checked.
            if fields.iter().all(|f| field_line_ok(f)) {
                return RefOutcome::Complete {
                    data,
                    consumed: at,
                    trailers: fields.len(),
                };
            }
            return RefOutcome::Refused(400);
        }
        if line.len() > limits.field_size || fields.len() >= limits.fields {
            return RefOutcome::Refused(431);
        }
        fields.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: RefLimits = RefLimits {
        field_size: 1 << 20,
        fields: 100,
        body: None,
    };

    fn complete(data: &[u8], consumed: usize, trailers: usize) -> RefOutcome {
        RefOutcome::Complete {
            data: data.to_vec(),
            consumed,
            trailers,
        }
    }

    #[test]
    fn decodes() {
        assert_eq!(decode(b"0\r\n\r\n", &NONE), complete(b"", 5, 0));
        assert_eq!(
            decode(b"5\r\nhello\r\n0\r\nA: b\r\n\r\nGET", &NONE),
            complete(b"hello", 21, 1)
        );
        assert_eq!(
            decode(b"3 \t;a=b ;c=\"q\\\"\" ; d\r\nabc\r\n0\n", &NONE),
            RefOutcome::Refused(400)
        );
        assert_eq!(
            decode(b"3 \t;a=b ;c=\"q\\\"\" ; d\r\nabc\r\n0\r\n", &NONE),
            RefOutcome::Partial(b"abc".to_vec())
        );
        assert_eq!(
            decode(b"5\r\nhel", &NONE),
            RefOutcome::Partial(b"hel".to_vec())
        );
        assert_eq!(
            decode(b"5\r\nhello\r", &NONE),
            RefOutcome::Partial(b"hello".to_vec())
        );
        assert_eq!(decode(b"5\r\nhello\n", &NONE), RefOutcome::Refused(400));
        assert_eq!(decode(b"", &NONE), RefOutcome::Partial(vec![]));
        assert_eq!(decode(b"\r\n", &NONE), RefOutcome::Refused(400));
        assert_eq!(decode(b";", &NONE), RefOutcome::Refused(400));
        assert_eq!(decode(b"1;", &NONE), RefOutcome::Partial(vec![]));
        assert_eq!(decode(b"1;\r", &NONE), RefOutcome::Refused(400));
        assert_eq!(decode(b"1;a=", &NONE), RefOutcome::Partial(vec![]));
        assert_eq!(decode(b"1;a=\r", &NONE), RefOutcome::Refused(400));
        assert_eq!(
            decode(b"10000000000000000", &NONE),
            RefOutcome::Refused(400)
        );
        assert_eq!(
            decode(b"0\r\nbad line\r\n", &NONE),
            RefOutcome::Partial(vec![])
        );
        assert_eq!(
            decode(b"0\r\nbad line\r\n\r\n", &NONE),
            RefOutcome::Refused(400)
        );
        let small = RefLimits {
            body: Some(4),
            ..NONE
        };
        assert_eq!(
            decode(b"2\r\nab\r\n3\r\n", &small),
            RefOutcome::Refused(413)
        );
        assert_eq!(
            decode(b"2\r\nab\r\n2\r\n", &small),
            RefOutcome::Partial(b"ab".to_vec())
        );
    }
}
