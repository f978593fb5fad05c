//! What a parsed head means for the message: the request-target's form, the Host, how the
//! body is delimited, and whether the connection persists. Every rule here is one a
//! request-smuggling or cache-poisoning attack leans on, so the stricter reading is taken
//! wherever the RFCs allow one, and at least what both Apache 2.4 and nginx refuse is
//! refused. Each refusal is answered and the connection closed.

use super::head::Head;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING, UPGRADE};
use http::{Method, StatusCode, Version};

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` bytes (0 when there is no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What the head says about the body and the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// How the body is delimited.
    pub(crate) framing: Framing,
    /// `Expect: 100-continue` (HTTP/1.1).
    pub(crate) expect_continue: bool,
    /// The client does not keep the connection alive (`Connection: close`, or HTTP/1.0
    /// without `keep-alive`).
    pub(crate) client_close: bool,
    /// The client asks to switch protocols (`Upgrade` named in `Connection`, HTTP/1.1).
    #[allow(dead_code)] // read by the upgrade hand-off
    pub(crate) upgrade: bool,
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// The elements of a comma-separated list field (RFC 9110 §5.6.1), OWS trimmed, empty
/// ones kept (the caller decides whether an empty element is an error).
pub(crate) fn elements<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> impl Iterator<Item = &'a [u8]> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|t| t.trim_ascii())
}

/// `tchar` (RFC 9110 §5.6.2): what tokens (methods, field names, codings, chunk
/// extension names) are made of.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(t: &[u8]) -> bool {
    !t.is_empty() && t.iter().all(|&b| is_tchar(b))
}

/// Check the request-target's form against the method (RFC 9112 §3.2): origin-form for
/// any method, absolute-form (`http`/`https`) for any method, authority-form only for
/// CONNECT (§3.2.3), asterisk-form only for OPTIONS (§3.2.4).
fn check_target(head: &Head) -> Result<(), StatusCode> {
    let uri = &head.uri;
    let connect = head.method == Method::CONNECT;
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(a)) => {
            // RFC 9112 §3.2.2: an absolute-form target of a scheme we serve.
            let served =
                scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            if connect || !served || a.host().is_empty() || !valid_host(a.as_str().as_bytes()) {
                return Err(BAD);
            }
        }
        (None, Some(a)) => {
            // Authority-form: host and port (RFC 9112 §3.2.3), CONNECT only.
            let with_port = a.port_u16().is_some();
            if !connect || !with_port || !valid_host(a.as_str().as_bytes()) {
                return Err(BAD);
            }
        }
        (None, None) => {
            let path = uri.path();
            let asterisk = path == "*" && uri.query().is_none();
            let origin = path.starts_with('/');
            if connect || (asterisk && head.method != Method::OPTIONS) || !(asterisk || origin) {
                return Err(BAD);
            }
        }
        (Some(_), None) => return Err(BAD),
    }
    Ok(())
}

/// A Host value: `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2–3.2.3), not empty.
pub(crate) fn valid_host(v: &[u8]) -> bool {
    let (host, port) = if let Some(rest) = v.strip_prefix(b"[") {
        // IP-literal: an IPv6 address (IPvFuture is not served).
        let Some(end) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        let ok = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
            .is_some();
        if !ok {
            return false;
        }
        match &rest[end + 1..] {
            [] => return true,
            [b':', port @ ..] => (&b"x"[..], port),
            _ => return false,
        }
    } else {
        match v.iter().rposition(|&b| b == b':') {
            Some(i) => (&v[..i], &v[i + 1..]),
            None => (v, &b""[..]),
        }
    };
    // reg-name = *( unreserved / pct-encoded / sub-delims ), which covers IPv4 too.
    let mut i = 0;
    while i < host.len() {
        let b = host[i];
        if b == b'%' {
            let hex = host.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
            continue;
        }
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let sub_delim = b"!$&'()*+,;=".contains(&b);
        if !(unreserved || sub_delim) {
            return false;
        }
        i += 1;
    }
    !host.is_empty() && port.iter().all(u8::is_ascii_digit)
}

/// Exactly one valid Host on HTTP/1.1; at most one, valid, on HTTP/1.0 (RFC 9112 §3.2:
/// "a server MUST respond with a 400 … to any HTTP/1.1 request message that lacks a Host
/// header field and to any request message that contains more than one Host header field
/// line or a Host header field with an invalid field value"). An absolute-form target's
/// authority takes the Host's place (§3.2.2): the handler sees it as the Host.
fn check_host(head: &mut Head) -> Result<(), StatusCode> {
    let mut hosts = head.headers.get_all(HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err(BAD);
    }
    match first {
        None if head.version == Version::HTTP_11 => return Err(BAD),
        None => {}
        Some(v) if !valid_host(v.as_bytes()) => return Err(BAD),
        Some(_) => {}
    }
    if head.uri.scheme().is_some() {
        if let Some(a) = head.uri.authority() {
            let v = HeaderValue::from_str(a.as_str()).map_err(|_| BAD)?;
            head.headers.insert(HOST, v);
        }
    }
    Ok(())
}

/// The body's framing (RFC 9112 §6): Transfer-Encoding must end in `chunked` applied once
/// and is refused on HTTP/1.0 and beside Content-Length; Content-Length is one field of
/// digits. No list element may be empty.
fn framing(h: &HeaderMap, version: Version) -> Result<Framing, StatusCode> {
    if h.contains_key(TRANSFER_ENCODING) {
        // §6.1: a server MAY reject TE on HTTP/1.0 (a 1.0 intermediary may not have
        // understood it); both TE and CL is a smuggling shape (§6.1, §11.2): refused as
        // nginx refuses it rather than guessing which one the sender meant.
        if version == Version::HTTP_10 || h.contains_key(CONTENT_LENGTH) {
            return Err(BAD);
        }
        let codings: Vec<&[u8]> = elements(h, &TRANSFER_ENCODING).collect();
        if codings.iter().any(|c| !is_token(c)) {
            return Err(BAD);
        }
        let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
        return match codings.as_slice() {
            [only] if chunked(only) => Ok(Framing::Chunked),
            // §6.1: chunked is applied at most once, and last.
            [first @ .., last] if chunked(last) && !first.iter().any(chunked) => {
                // §6.1: a coding we do not decode (gzip, …) under the chunking.
                Err(StatusCode::NOT_IMPLEMENTED)
            }
            // §6.3: chunked not last — the length cannot be determined.
            _ => Err(BAD),
        };
    }
    let mut lines = h.get_all(CONTENT_LENGTH).iter();
    let Some(value) = lines.next() else {
        return Ok(Framing::Length(0));
    };
    // §8.6 allows a list of identical values; Apache and nginx refuse lists and repeated
    // lines, so do we: a single field of digits.
    if lines.next().is_some() {
        return Err(BAD);
    }
    parse_length(value.as_bytes())
        .map(Framing::Length)
        .ok_or(BAD)
}

/// `Content-Length = 1*DIGIT`, within u64.
pub(crate) fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Decide the body framing and connection persistence from the head, refusing what is
/// ambiguous. `Err` is the status to answer with before closing.
pub(crate) fn plan(head: &mut Head) -> Result<Plan, StatusCode> {
    check_target(head)?;
    if head.method == Method::CONNECT {
        // A well-formed CONNECT: understood, but no tunnel is offered here (RFC 9110
        // §9.3.6), and the connection is not reused.
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    check_host(head)?;
    let h = &head.headers;
    let http10 = head.version == Version::HTTP_10;
    let framing = framing(h, head.version)?;

    let mut close = false;
    let mut keep_alive = false;
    let mut upgrade_token = false;
    for t in elements(h, &CONNECTION) {
        close |= t.eq_ignore_ascii_case(b"close");
        keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
        upgrade_token |= t.eq_ignore_ascii_case(b"upgrade");
    }
    let client_close = close || (http10 && !keep_alive);

    let mut expect_continue = false;
    for v in h.get_all(EXPECT) {
        // RFC 9110 §10.1.1: 100-continue is the only expectation defined.
        if v.as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"100-continue")
        {
            expect_continue = !http10;
        } else {
            return Err(StatusCode::EXPECTATION_FAILED);
        }
    }
    // RFC 9110 §7.8: Upgrade is only honoured on HTTP/1.1 with the `upgrade` connection
    // option.
    let upgrade = !http10 && upgrade_token && h.contains_key(UPGRADE);
    Ok(Plan {
        framing,
        expect_continue,
        client_close,
        upgrade,
    })
}

/// Whether the list field `name` has an element equal to `token` (ASCII case-insensitive).
pub(crate) fn has_element(headers: &HeaderMap, name: &HeaderName, token: &[u8]) -> bool {
    elements(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::super::head::parse;
    use super::*;

    fn plan_of(raw: &str) -> Result<Plan, StatusCode> {
        let fields = raw.matches("\r\n").count().saturating_sub(2);
        let mut head = parse(raw.as_bytes(), fields).expect("parses");
        plan(&mut head)
    }

    fn status_of(raw: &str) -> StatusCode {
        plan_of(raw).err().unwrap_or(StatusCode::OK)
    }

    #[test]
    fn content_length_is_one_field_of_digits() {
        let ok = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(plan_of(ok).unwrap().framing, Framing::Length(5));
        for cl in [
            "5,",
            ",5",
            "5, 5",
            "5,6",
            "",
            "-1",
            "+5",
            "0x5",
            "5 5",
            "99999999999999999999",
        ] {
            let raw = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(status_of(&raw), StatusCode::BAD_REQUEST, "{cl:?}");
        }
        let twice = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(status_of(twice), StatusCode::BAD_REQUEST);
        let empty_line =
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length:\r\n\r\n";
        assert_eq!(status_of(empty_line), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn transfer_encoding_is_chunked_once_and_last() {
        let te = |v: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
        assert_eq!(plan_of(&te("chunked")).unwrap().framing, Framing::Chunked);
        assert_eq!(plan_of(&te("Chunked")).unwrap().framing, Framing::Chunked);
        assert_eq!(status_of(&te("gzip, chunked")), StatusCode::NOT_IMPLEMENTED);
        for bad in [
            "chunked ,",
            ", chunked",
            "chunked, chunked",
            "chunked, gzip",
            "identity",
            "xchunked",
            "chunked;q=1",
            "",
        ] {
            assert_eq!(status_of(&te(bad)), StatusCode::BAD_REQUEST, "{bad:?}");
        }
        let two_lines = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status_of(two_lines), StatusCode::BAD_REQUEST);
        let with_cl =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(status_of(with_cl), StatusCode::BAD_REQUEST);
        let http10 = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status_of(http10), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn host_is_single_and_valid() {
        let host = |v: &str| format!("GET / HTTP/1.1\r\nHost: {v}\r\n\r\n");
        for ok in [
            "a",
            "a.b:80",
            "a:",
            "127.0.0.1:8080",
            "[::1]:80",
            "[::1]",
            "x%41y",
            "a-b_c~d",
        ] {
            assert_eq!(status_of(&host(ok)), StatusCode::OK, "{ok:?}");
        }
        for bad in [
            "", "a b", "x/y", "a@b", "a:b", "[::1", "[zz]", ":80", "a:80:80", "%4", "a?b",
        ] {
            assert_eq!(status_of(&host(bad)), StatusCode::BAD_REQUEST, "{bad:?}");
        }
        assert_eq!(status_of("GET / HTTP/1.1\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of("GET / HTTP/1.0\r\n\r\n"), StatusCode::OK);
        assert_eq!(
            status_of("GET / HTTP/1.0\r\nHost: a b\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        // Absolute-form: its authority becomes the Host the handler sees.
        let mut head = parse(
            b"GET http://x.example:81/p HTTP/1.1\r\nHost: other\r\n\r\n",
            1,
        )
        .unwrap();
        plan(&mut head).unwrap();
        assert_eq!(head.headers[HOST], "x.example:81");
    }

    #[test]
    fn target_form_matches_the_method() {
        let req = |m: &str, t: &str| format!("{m} {t} HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(status_of(&req("OPTIONS", "*")), StatusCode::OK);
        assert_eq!(status_of(&req("GET", "*")), StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of(&req("GET", "a.example:80")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(&req("GET", "http://a.example/x")), StatusCode::OK);
        assert_eq!(
            status_of(&req("GET", "ftp://a.example/x")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(&req("CONNECT", "a.example:443")),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(status_of(&req("CONNECT", "/")), StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of(&req("CONNECT", "a.example")),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn persistence_expectation_and_upgrade() {
        let p = plan_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
        assert!(p.client_close);
        let p = plan_of("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(p.client_close);
        let p = plan_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(!p.client_close);
        assert_eq!(
            status_of("GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n"),
            StatusCode::EXPECTATION_FAILED
        );
        let p = plan_of(
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        )
        .unwrap();
        assert!(p.expect_continue);
        let p = plan_of(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        )
        .unwrap();
        assert!(p.upgrade);
        let p = plan_of("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").unwrap();
        assert!(!p.upgrade);
    }

    #[test]
    fn an_absolute_form_authority_is_a_valid_host() {
        let req = |t: &str| format!("GET {t} HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(status_of(&req("http://a.example:8080/x")), StatusCode::OK);
        // RFC 9112 §3.2.2 / RFC 9110 §4.2.4: no userinfo in an http(s) target.
        for bad in ["http://user@a.example/x", "https://u:p@a.example/x"] {
            assert_eq!(status_of(&req(bad)), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn a_host_takes_pct_encoded_triplets_anywhere_and_checks_each() {
        let host = |v: &str| format!("GET / HTTP/1.1\r\nHost: {v}\r\n\r\n");
        for ok in ["%41y", "ab%41", "%41%42", "a%41.b%7e:80"] {
            assert_eq!(status_of(&host(ok)), StatusCode::OK, "{ok:?}");
        }
        // After a good triplet, the next one is checked from its own `%`.
        for bad in ["ab%41%zz", "%41%4", "%41%g1", "%%41"] {
            assert_eq!(status_of(&host(bad)), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn has_element_finds_a_token_in_any_line_of_a_list_field_ignoring_case() {
        let mut h = HeaderMap::new();
        h.append(CONNECTION, HeaderValue::from_static("keep-alive , Upgrade"));
        h.append(CONNECTION, HeaderValue::from_static("x-other"));
        assert!(has_element(&h, &CONNECTION, b"upgrade"));
        assert!(has_element(&h, &CONNECTION, b"KEEP-ALIVE"));
        assert!(has_element(&h, &CONNECTION, b"x-other"));
        assert!(!has_element(&h, &CONNECTION, b"close"));
        assert!(!has_element(&h, &CONNECTION, b"upgrad"));
        assert!(!has_element(&h, &UPGRADE, b"upgrade"), "another field");
    }
}
