//! The generated families: every spelling of one framing element crossed with the contexts
//! it matters in, each with the outcome our engine's rules give (the rules are written out
//! once here, per family, so a changed rule is one edit and a regenerated file).
//!
//! The output is committed as `cases/gen-*.txt` (so Apache's and nginx's outcomes can be
//! stored beside each case); the `generated_families_are_current` test checks the files
//! still match, and rewrites them with `MPM_CONFORMANCE_BLESS=1`.
//!
//! Body cases send the request under test followed, in the same write, by
//! [`NEXT`]: a correct server answers both (`200 200 close`) or refuses the first and
//! closes (`400 close`); a server that frames the body differently answers something else,
//! which is what a smuggling difference looks like. `NEXT` ends with `Connection: close`, so
//! a case does not wait for silence unless a server is waiting for bytes that never come.

use super::corpus::{escape, Case};

/// A generated case file.
pub struct Family {
    /// File name under `cases/`.
    pub file: &'static str,
    /// What the family covers (the file's leading comment).
    pub about: Vec<String>,
    pub cases: Vec<Case>,
}

/// A complete request the server should answer after a correctly framed one.
pub const NEXT: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
const BOTH: &str = "200 200 close";
const BAD: &str = "400 close";
const ONE: &str = "200 close";
/// Our body limit: `LimitRequestBody`'s default, 1 GiB (Apache's default too).
const BODY_LIMIT: u128 = 1 << 30;

/// A case from raw bytes.
fn case(name: String, bytes: &[u8], expect: &str) -> Case {
    Case::new(name, escape(bytes), expect)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Every generated family, in file order.
pub fn families() -> Vec<Family> {
    vec![
        chunk_size(),
        chunk_ext(),
        chunk_end(),
        content_length(),
        transfer_encoding(),
        host(),
        target(),
        version(),
        expect(),
        whitespace(),
        line_endings(),
        empty_lines(),
        limits(),
    ]
}

/// A POST with a chunked body given raw, then [`NEXT`].
fn chunked_post(body: &[u8]) -> Vec<u8> {
    cat(&[
        b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
        body,
        NEXT.as_bytes(),
    ])
}

fn chunk_size() -> Family {
    // (label, spelling, value if the spelling is valid for us)
    let sizes: &[(&str, &str, Option<usize>)] = &[
        ("5", "5", Some(5)),
        ("05", "05", Some(5)),
        ("0005", "0005", Some(5)),
        ("16-digits", "0000000000000005", Some(5)),
        ("17-digits-leading-zeros", "00000000000000005", Some(5)),
        ("a", "a", Some(10)),
        ("upper-A", "A", Some(10)),
        ("0a", "0a", Some(10)),
        ("hex-prefix", "0x5", None),
        ("plus", "+5", None),
        ("minus", "-5", None),
        ("decimal-point", "5.0", None),
        ("leading-sp", " 5", None),
        ("empty", "", None),
        ("non-hex", "g", None),
        ("hex-then-junk", "5g", None),
        ("overflow-17-significant", "10000000000000005", None),
    ];
    // (label, what ends the size line, valid)
    let terms: &[(&str, &str, bool)] = &[
        ("crlf", "\r\n", true),
        ("lf", "\n", false),
        ("cr", "\r", false),
        ("cr-cr-lf", "\r\r\n", false),
        ("sp-crlf", " \r\n", true),
        ("htab-crlf", "\t\r\n", true),
        ("sp-htab-sp-crlf", " \t \r\n", true),
        ("semicolon-crlf", ";\r\n", false),
        ("ext-crlf", ";x\r\n", true),
    ];
    let mut cases = Vec::new();
    for &(sl, size, value) in sizes {
        for &(tl, term, term_ok) in terms {
            let data = "x".repeat(value.unwrap_or(5));
            let body = format!("{size}{term}{data}\r\n0\r\n\r\n");
            let ok = value.is_some() && term_ok;
            cases.push(case(
                format!("chunk-size/{sl}/{tl}"),
                &chunked_post(body.as_bytes()),
                if ok { BOTH } else { BAD },
            ));
        }
    }
    Family {
        file: "gen-chunk-size.txt",
        about: vec![
            "Chunk-size spellings x what ends the size line, in a POST followed by a".into(),
            "pipelined GET. Ours: 1*HEXDIG, leading zeros allowed, at most 16 significant".into(),
            "digits; BWS only before `;` or CRLF; the line ends with CRLF; else 400.".into(),
        ],
        cases,
    }
}

fn chunk_ext() -> Family {
    let exts: &[(&str, &[u8], bool)] = &[
        ("name", b";a", true),
        ("name-token-value", b";a=b", true),
        ("name-quoted-value", b";a=\"b c\"", true),
        ("quoted-escaped-quote", b";a=\"b\\\"c\"", true),
        ("quoted-htab", b";a=\"b\tc\"", true),
        ("quoted-obs-text", b";a=\"\x80\"", true),
        ("two", b";a;b=c", true),
        ("bws-before-semicolon", b" ;a", true),
        ("htab-before-semicolon", b"\t;a", true),
        ("bws-after-semicolon", b"; a", true),
        ("bws-around-equals", b";a = b", true),
        ("bws-after-equals", b";a= b", true),
        ("bws-before-equals", b";a =b", true),
        ("empty-name", b";", false),
        ("double-semicolon", b";;a", false),
        ("no-name", b";=b", false),
        ("empty-value", b";a=", false),
        ("value-with-space", b";a=b c", false),
        ("unterminated-quote", b";a=\"b", false),
        ("name-with-space", b";a b", false),
        // BWS before the CRLF: not in RFC 9112's grammar, but accepted by Apache and nginx
        // and harmless (nothing can be read two ways), so accepted.
        ("trailing-sp-after-value", b";a=b ", true),
        ("trailing-sp-after-name", b";a ", true),
        ("trailing-semicolon", b";a=b;", false),
        ("comma", b";a,b", false),
        ("lf-inside", b";a\nb", false),
        ("cr-inside", b";a\rb", false),
        ("nul", b";a\x00", false),
        ("x01", b";a\x01", false),
        ("del", b";a\x7f", false),
        ("obs-text-in-token", b";a=\x80", false),
        ("quoted-nul", b";a=\"\x00\"", false),
    ];
    let mut cases = Vec::new();
    for &(label, ext, ok) in exts {
        let body = cat(&[b"5", ext, b"\r\nhello\r\n0\r\n\r\n"]);
        cases.push(case(
            format!("chunk-ext/{label}"),
            &chunked_post(&body),
            if ok { BOTH } else { BAD },
        ));
    }
    // The same extensions on the last chunk, where a lenient parser would also end the body.
    for &(label, ext, ok) in exts.iter().filter(|e| !e.2 || e.0 == "name-token-value") {
        let body = cat(&[b"5\r\nhello\r\n0", ext, b"\r\n\r\n"]);
        cases.push(case(
            format!("chunk-ext/last-chunk/{label}"),
            &chunked_post(&body),
            if ok { BOTH } else { BAD },
        ));
    }
    Family {
        file: "gen-chunk-ext.txt",
        about: vec![
            "Chunk extensions on a 5-byte chunk, then on the last chunk. Ours: *( BWS \";\" BWS"
                .into(),
            "token [ BWS \"=\" BWS ( token / quoted-string ) ] ), nothing after; any CTL or a"
                .into(),
            "bare LF/CR in an extension → 400.".into(),
        ],
        cases,
    }
}

fn chunk_end() -> Family {
    let mut cases = Vec::new();
    // What follows the 5 data bytes.
    let after_data: &[(&str, &[u8], bool)] = &[
        ("crlf", b"\r\n0\r\n\r\n", true),
        ("lf", b"\n0\r\n\r\n", false),
        ("nothing", b"0\r\n\r\n", false),
        ("cr", b"\r0\r\n\r\n", false),
        ("cr-cr-lf", b"\r\r\n0\r\n\r\n", false),
        ("sp-crlf", b" \r\n0\r\n\r\n", false),
        ("extra-byte", b"!\r\n0\r\n\r\n", false),
        ("crlf-crlf", b"\r\n\r\n0\r\n\r\n", false),
    ];
    for &(label, tail, ok) in after_data {
        cases.push(case(
            format!("chunk-end/after-data/{label}"),
            &chunked_post(&cat(&[b"5\r\nhello", tail])),
            if ok { BOTH } else { BAD },
        ));
    }
    let last: &[(&str, &[u8], bool)] = &[
        ("0", b"0\r\n\r\n", true),
        ("00", b"00\r\n\r\n", true),
        ("000000", b"000000\r\n\r\n", true),
        ("0-sp", b"0 \r\n\r\n", true),
        ("0-lf", b"0\n\r\n", false),
        ("0-lf-lf", b"0\n\n", false),
        ("0-cr-cr-lf", b"0\r\r\n\r\n", false),
    ];
    for &(label, tail, ok) in last {
        cases.push(case(
            format!("chunk-end/last-chunk/{label}"),
            &chunked_post(&cat(&[b"5\r\nhello\r\n", tail])),
            if ok { BOTH } else { BAD },
        ));
    }
    // The trailer section after `0\r\n`, through its empty line.
    let trailers: &[(&str, &[u8], bool)] = &[
        ("none", b"\r\n", true),
        ("one", b"X-T: v\r\n\r\n", true),
        ("two", b"X-T: v\r\nX-U: w\r\n\r\n", true),
        ("empty-value", b"X-T:\r\n\r\n", true),
        ("content-length", b"Content-Length: 5\r\n\r\n", true),
        (
            "transfer-encoding",
            b"Transfer-Encoding: chunked\r\n\r\n",
            true,
        ),
        // Chunked framing ends its lines with CRLF, trailers included (as Apache; nginx
        // takes a bare LF, hyper does not — a proxy on hyper would read on where a lenient
        // server stopped: fuzz finding D1).
        ("lf-ends-field", b"X-T: v\n\r\n", false),
        ("lf-ends-section", b"X-T: v\r\n\n", false),
        ("lf-only", b"\n", false),
        ("space-before-colon", b"X-T : v\r\n\r\n", false),
        ("leading-space", b" X-T: v\r\n\r\n", false),
        ("obs-fold", b"X-T: v\r\n w\r\n\r\n", false),
        ("no-colon", b"X-T v\r\n\r\n", false),
        ("bad-name", b"X@T: v\r\n\r\n", false),
        ("nul-in-value", b"X-T: a\x00b\r\n\r\n", false),
        ("cr-not-lf", b"\r", false),
        ("missing", b"", false),
    ];
    for &(label, tail, ok) in trailers {
        cases.push(case(
            format!("chunk-end/trailer/{label}"),
            &chunked_post(&cat(&[b"5\r\nhello\r\n0\r\n", tail])),
            if ok { BOTH } else { BAD },
        ));
    }
    Family {
        file: "gen-chunk-end.txt",
        about: vec![
            "What ends chunk data, the last chunk, and the trailer section. Ours: exactly CRLF"
                .into(),
            "after data; the last-chunk line ends with CRLF; trailers are header fields under"
                .into(),
            "the head's rules (so a bare LF ends a trailer line, as in the head), ended by an"
                .into(),
            "empty line. `missing`: the pipelined GET's request line lands in the trailers.".into(),
        ],
        cases,
    }
}

/// Whether a Content-Length value is valid for us (after OWS), and its size.
fn content_length_value(v: &str) -> Option<u128> {
    let v = v.trim_matches([' ', '\t']);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match v.parse::<u128>() {
        Ok(n) if n <= u64::MAX as u128 => Some(n),
        _ => None,
    }
}

fn content_length() -> Family {
    let values: &[(&str, &str)] = &[
        ("5", "5"),
        ("05", "05"),
        ("00005", "00005"),
        ("leading-sp", "  5"),
        ("leading-htab", "\t5"),
        ("trailing-sp", "5 "),
        ("plus", "+5"),
        ("minus", "-5"),
        ("decimal-point", "5.0"),
        ("hex", "0x5"),
        ("exponent", "5e0"),
        ("inner-space", "5 5"),
        ("list-same", "5,5"),
        ("list-same-ows", "5, 5"),
        ("list-different", "5, 6"),
        ("trailing-comma", "5,"),
        ("leading-comma", ",5"),
        ("empty", ""),
        ("quoted", "\"5\""),
        ("letters", "five"),
        ("u64-max", "18446744073709551615"),
        ("u64-overflow", "18446744073709551616"),
        ("huge", "99999999999999999999999999"),
        ("over-body-limit", "1073741825"),
    ];
    let mut cases = Vec::new();
    for &(label, v) in values {
        let one = cat(&[
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ",
            v.as_bytes(),
            b"\r\n\r\nhello",
            NEXT.as_bytes(),
        ]);
        let expect = match content_length_value(v) {
            Some(5) => BOTH,
            Some(n) if n > BODY_LIMIT => "413 close",
            _ => BAD,
        };
        cases.push(case(format!("content-length/one/{label}"), &one, expect));
        let twice = cat(&[
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ",
            v.as_bytes(),
            b"\r\nContent-Length: ",
            v.as_bytes(),
            b"\r\n\r\nhello",
            NEXT.as_bytes(),
        ]);
        cases.push(case(format!("content-length/twice/{label}"), &twice, BAD));
        if v != "5" {
            let then5 = cat(&[
                b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ",
                v.as_bytes(),
                b"\r\nContent-Length: 5\r\n\r\nhello",
                NEXT.as_bytes(),
            ]);
            cases.push(case(format!("content-length/then-5/{label}"), &then5, BAD));
        }
    }
    for (label, name) in [
        ("lower", "content-length"),
        ("upper", "CONTENT-LENGTH"),
        ("mixed", "cOnTeNt-LeNgTh"),
    ] {
        let req = format!("POST / HTTP/1.1\r\nHost: localhost\r\n{name}: 5\r\n\r\nhello{NEXT}");
        cases.push(case(
            format!("content-length/name-{label}"),
            req.as_bytes(),
            BOTH,
        ));
    }
    Family {
        file: "gen-content-length.txt",
        about: vec![
            "Content-Length values, alone, repeated on two lines, and followed by a second".into(),
            "`Content-Length: 5`; the body is `hello` then a pipelined GET. Ours: exactly one"
                .into(),
            "field of 1*DIGIT (OWS around it is not part of the value); no lists, even equal"
                .into(),
            "ones; u64 overflow → 400; over the 1 GiB body limit → 413.".into(),
        ],
        cases,
    }
}

/// Our verdict on a (combined) Transfer-Encoding list: `None` = valid (exactly `chunked`),
/// else the refusal.
fn te_verdict(list: &str) -> Option<&'static str> {
    let items: Vec<&str> = list
        .split(',')
        .map(|i| i.trim_matches([' ', '\t']))
        .collect();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let is_chunked = |s: &&str| s.eq_ignore_ascii_case("chunked");
    if items.iter().any(|i| i.is_empty()) {
        return Some(BAD);
    }
    match items.iter().filter(|i| is_chunked(i)).count() {
        1 if items.len() == 1 => None,
        1 if is_chunked(items.last().unwrap()) && items.iter().all(|i| token(i)) => {
            Some("501 close")
        }
        _ => Some(BAD),
    }
}

fn transfer_encoding() -> Family {
    let values: &[(&str, &str)] = &[
        ("chunked", "chunked"),
        ("Chunked", "Chunked"),
        ("CHUNKED", "CHUNKED"),
        ("leading-sp", "  chunked"),
        ("leading-htab", "\tchunked"),
        ("trailing-sp", "chunked "),
        ("trailing-htab", "chunked\t"),
        ("chunked-chunked", "chunked, chunked"),
        ("chunked-chunked-no-ows", "chunked,chunked"),
        ("trailing-empty-element", "chunked ,"),
        ("trailing-comma", "chunked,"),
        ("leading-empty-element", ", chunked"),
        ("gzip-chunked", "gzip, chunked"),
        ("gzip-chunked-no-ows", "gzip,chunked"),
        ("deflate-chunked", "deflate, chunked"),
        ("identity-chunked", "identity, chunked"),
        ("unknown-chunked", "x, chunked"),
        ("chunked-gzip", "chunked, gzip"),
        ("identity", "identity"),
        ("gzip", "gzip"),
        ("xchunked", "xchunked"),
        ("chunkedx", "chunkedx"),
        ("chunked-parameter", "chunked;q=1"),
        ("quoted", "\"chunked\""),
        ("inner-space", "chunk ed"),
        ("two-words", "chunked chunked"),
        ("empty", ""),
    ];
    let body = b"5\r\nhello\r\n0\r\n\r\n";
    let mut cases = Vec::new();
    for &(label, v) in values {
        let alone = te_verdict(v);
        let shapes: [(&str, String, Option<&str>); 5] = [
            (
                "http11",
                format!("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {v}\r\n\r\n"),
                alone,
            ),
            (
                "http10",
                format!("POST / HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: {v}\r\n\r\n"),
                Some(BAD),
            ),
            (
                "with-content-length",
                format!(
                    "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {v}\r\n\
                     Content-Length: 5\r\n\r\n"
                ),
                Some(BAD),
            ),
            (
                "after-chunked-line",
                format!(
                    "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\
                     Transfer-Encoding: {v}\r\n\r\n"
                ),
                te_verdict(&format!("chunked,{v}")),
            ),
            (
                "before-chunked-line",
                format!(
                    "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: {v}\r\n\
                     Transfer-Encoding: chunked\r\n\r\n"
                ),
                te_verdict(&format!("{v},chunked")),
            ),
        ];
        for (shape, head, verdict) in shapes {
            cases.push(case(
                format!("transfer-encoding/{shape}/{label}"),
                &cat(&[head.as_bytes(), body, NEXT.as_bytes()]),
                verdict.unwrap_or(BOTH),
            ));
        }
    }
    Family {
        file: "gen-transfer-encoding.txt",
        about: vec![
            "Transfer-Encoding values x HTTP version, beside Content-Length, and split over".into(),
            "two lines (the lines combine into one list). Ours: the list must be exactly".into(),
            "`chunked` (any case, OWS around); an empty element or `chunked` twice → 400;".into(),
            "other codings ending in `chunked` → 501; anything else → 400; any TE on".into(),
            "HTTP/1.0 or beside Content-Length → 400.".into(),
        ],
        cases,
    }
}

fn host() -> Family {
    let values: &[(&str, &[u8], bool)] = &[
        ("name", b"localhost", true),
        ("upper", b"LOCALHOST", true),
        ("name-port", b"localhost:80", true),
        ("name-empty-port", b"localhost:", true),
        ("name-long-port", b"localhost:99999", true),
        ("ipv4", b"127.0.0.1", true),
        ("ipv4-port", b"127.0.0.1:8080", true),
        ("ipv6", b"[::1]", true),
        ("ipv6-port", b"[::1]:80", true),
        ("ipv6-full", b"[2001:db8:0:0:0:0:0:1]", true),
        ("dotted-not-ipv4", b"256.256.256.256", true),
        ("trailing-dot", b"localhost.", true),
        ("pct-encoded", b"a%41", true),
        ("unreserved", b"a-b_c~d.e", true),
        ("sub-delims", b"a!$&'()*+,;=b", true),
        ("trailing-ows", b"localhost ", true),
        ("empty", b"", false),
        ("space-inside", b"a b", false),
        ("slash", b"x/y", false),
        ("userinfo", b"a@b", false),
        ("question-mark", b"a?b", false),
        ("hash", b"a#b", false),
        ("backslash", b"a\\b", false),
        ("double-quote", b"a\"b", false),
        ("bad-pct", b"a%4", false),
        ("bad-pct-hex", b"a%zz", false),
        ("port-letters", b"a:b", false),
        ("port-negative", b"a:-1", false),
        ("two-ports", b"a:80:80", false),
        ("bare-ipv6", b"::1", false),
        ("ipv6-unclosed", b"[::1", false),
        ("ipv6-junk-after", b"[::1]x", false),
        ("ipv6-bad", b"[zz]", false),
        ("ipv6-too-many-groups", b"[1:2:3:4:5:6:7:8:9]", false),
        ("ipv-future", b"[v1.a]", false),
        ("utf8", b"\xc3\xa9", false),
        ("obs-text", b"a\x80", false),
    ];
    let mut cases = Vec::new();
    for &(label, v, ok) in values {
        let h11 = cat(&[
            b"GET / HTTP/1.1\r\nHost: ",
            v,
            b"\r\nConnection: close\r\n\r\n",
        ]);
        cases.push(case(
            format!("host/http11/{label}"),
            &h11,
            if ok { ONE } else { BAD },
        ));
        let h10 = cat(&[b"GET / HTTP/1.0\r\nHost: ", v, b"\r\n\r\n"]);
        cases.push(case(
            format!("host/http10/{label}"),
            &h10,
            if ok { ONE } else { BAD },
        ));
    }
    let counts: &[(&str, &str, &str)] = &[
        (
            "http11-none",
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            BAD,
        ),
        ("http10-none", "GET / HTTP/1.0\r\n\r\n", ONE),
        (
            "http11-twice-same",
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            BAD,
        ),
        (
            "http11-twice-different",
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: other\r\nConnection: close\r\n\r\n",
            BAD,
        ),
        (
            "http11-twice-case",
            "GET / HTTP/1.1\r\nHost: localhost\r\nhost: localhost\r\nConnection: close\r\n\r\n",
            BAD,
        ),
        (
            "http10-twice-same",
            "GET / HTTP/1.0\r\nHost: localhost\r\nHost: localhost\r\n\r\n",
            BAD,
        ),
        (
            "http11-list",
            "GET / HTTP/1.1\r\nHost: localhost, other\r\nConnection: close\r\n\r\n",
            BAD,
        ),
        (
            "http11-lower-name",
            "GET / HTTP/1.1\r\nhost: localhost\r\nConnection: close\r\n\r\n",
            ONE,
        ),
    ];
    for &(label, req, expect) in counts {
        cases.push(case(format!("host/{label}"), req.as_bytes(), expect));
    }
    Family {
        file: "gen-host.txt",
        about: vec![
            "Host values on HTTP/1.1 and HTTP/1.0, and Host counts. Ours: uri-host[:port]".into(),
            "(reg-name of unreserved / pct-encoded / sub-delims, IPv4, or [IPv6]; port".into(),
            "*DIGIT); HTTP/1.1 needs exactly one; on HTTP/1.0 it is optional but, if sent,".into(),
            "one and valid. `host/http11/sub-delims` has a comma: one valid reg-name, not a list."
                .into(),
        ],
        cases,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Origin,
    Absolute,
    Asterisk,
    Authority,
    Bad,
}

fn target() -> Family {
    let targets: &[(&str, &str, Form)] = &[
        ("root", "/", Form::Origin),
        ("query", "/?a=b", Form::Origin),
        ("asterisk", "*", Form::Asterisk),
        ("http", "http://localhost/", Form::Absolute),
        ("http-no-path", "http://localhost", Form::Absolute),
        ("http-port", "http://localhost:80/", Form::Absolute),
        ("http-query", "http://localhost/?a", Form::Absolute),
        ("http-upper-scheme", "HTTP://localhost/", Form::Absolute),
        ("https", "https://localhost/", Form::Absolute),
        ("http-ipv6", "http://[::1]/", Form::Absolute),
        ("ftp", "ftp://localhost/", Form::Bad),
        ("http-no-authority", "http:/", Form::Bad),
        ("http-empty-host", "http:///", Form::Bad),
        ("authority", "localhost:80", Form::Authority),
        ("authority-no-port", "localhost", Form::Bad),
        ("relative", "a/b", Form::Bad),
        ("query-only", "?a", Form::Bad),
    ];
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT"];
    let mut cases = Vec::new();
    for method in methods {
        for &(label, t, form) in targets {
            let body = if matches!(method, "POST" | "PUT") {
                "Content-Length: 0\r\n"
            } else {
                ""
            };
            let req = format!(
                "{method} {t} HTTP/1.1\r\nHost: localhost\r\n{body}Connection: close\r\n\r\n"
            );
            let expect = match (method, form) {
                // A well-formed CONNECT (authority-form) is understood but not served;
                // any other target is malformed for CONNECT (as Apache answers).
                ("CONNECT", Form::Authority) => "405 close",
                ("CONNECT", _) => BAD,
                // The engine accepts it; the example routes only `/`, so the handler says 404.
                ("OPTIONS", Form::Asterisk) => "404 close",
                (_, Form::Origin | Form::Absolute) => ONE,
                _ => BAD,
            };
            let mut c = case(
                format!("target/{}/{label}", method.to_ascii_lowercase()),
                req.as_bytes(),
                expect,
            );
            if method == "HEAD" {
                c = c.head();
            }
            cases.push(c);
        }
    }
    Family {
        file: "gen-target.txt",
        about: vec![
            "Request-target forms x methods. Ours: origin-form and http(s) absolute-form for"
                .into(),
            "any method; `*` only with OPTIONS (answered by the handler: the example says 404"
                .into(),
            "for it); authority-form only with CONNECT; CONNECT of authority-form 405, of".into(),
            "anything else 400.".into(),
        ],
        cases,
    }
}

fn version() -> Family {
    let versions: &[(&str, &str, &str)] = &[
        ("1.1", "HTTP/1.1", ONE),
        ("1.0", "HTTP/1.0", ONE),
        ("2.0", "HTTP/2.0", "505 close"),
        ("3.0", "HTTP/3.0", "505 close"),
        ("0.9", "HTTP/0.9", "505 close"),
        ("9.9", "HTTP/9.9", "505 close"),
        ("1.2", "HTTP/1.2", BAD),
        ("1.9", "HTTP/1.9", BAD),
        ("2", "HTTP/2", BAD),
        ("1", "HTTP/1", BAD),
        ("1.10", "HTTP/1.10", BAD),
        ("01.1", "HTTP/01.1", BAD),
        ("1.01", "HTTP/1.01", BAD),
        ("11", "HTTP/11", BAD),
        ("1-comma-1", "HTTP/1,1", BAD),
        ("1.1.1", "HTTP/1.1.1", BAD),
        ("lower", "http/1.1", BAD),
        ("https", "HTTPS/1.1", BAD),
        ("space-after-name", "HTTP /1.1", BAD),
        ("space-after-slash", "HTTP/ 1.1", BAD),
        ("no-version", "", BAD),
    ];
    let mut cases = Vec::new();
    for &(label, v, expect) in versions {
        let line = if v.is_empty() {
            "GET /".to_string()
        } else {
            format!("GET / {v}")
        };
        let req = format!("{line}\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        cases.push(case(format!("version/{label}"), req.as_bytes(), expect));
    }
    Family {
        file: "gen-version.txt",
        about: vec![
            "HTTP-version spellings. Ours: HTTP/1.0 and HTTP/1.1; a well-formed other major".into(),
            "version (HTTP/D.D, D != 1) → 505; anything else (HTTP/1.2 included) → 400.".into(),
        ],
        cases,
    }
}

fn expect() -> Family {
    let values: &[(&str, &str, bool)] = &[
        ("100-continue", "100-continue", true),
        ("100-Continue", "100-Continue", true),
        ("100-CONTINUE", "100-CONTINUE", true),
        ("leading-ows", "  100-continue", true),
        ("trailing-ows", "100-continue ", true),
        ("100-continue-and-other", "100-continue, foo", false),
        ("other", "foo", false),
        ("101-continue", "101-continue", false),
        ("bare-100", "100", false),
        ("with-parameter", "100-continue;a=b", false),
        ("empty", "", false),
    ];
    let mut cases = Vec::new();
    for &(label, v, ok) in values {
        let get = format!(
            "GET / HTTP/1.1\r\nHost: localhost\r\nExpect: {v}\r\nConnection: close\r\n\r\n"
        );
        cases.push(case(
            format!("expect/get/{label}"),
            get.as_bytes(),
            if ok { ONE } else { "417 close" },
        ));
        let post = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: {v}\r\nContent-Length: 5\r\n\r\nhello{NEXT}"
        );
        cases.push(case(
            format!("expect/post/{label}"),
            post.as_bytes(),
            if ok { BOTH } else { "417 close" },
        ));
    }
    Family {
        file: "gen-expect.txt",
        about: vec![
            "Expect values on a GET and on a POST whose body is sent at once (1xx responses are"
                .into(),
            "not counted). Ours: `100-continue` (any case) is fine, anything else → 417.".into(),
        ],
        cases,
    }
}

/// The request the whitespace family edits: every position named below is a byte offset.
const WS_REQUEST: &str =
    "GET /?ab HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-A: bc\r\n\r\n";

fn whitespace() -> Family {
    let at = |needle: &str, plus: usize| WS_REQUEST.find(needle).unwrap() + plus;
    let positions: Vec<(&str, usize)> = vec![
        ("before-method", 0),
        ("in-method", 1),
        ("after-method", 3),
        ("in-target", at("?ab", 2)),
        ("after-target", at("?ab", 3)),
        ("in-version", at("HTTP/", 5)),
        ("after-version", at("1.1", 3)),
        ("in-host-value", at("localhost", 5)),
        ("line-start", at("X-A", 0)),
        ("in-name", at("X-A", 1)),
        ("before-colon", at("X-A", 3)),
        ("after-colon", at("X-A", 4)),
        ("in-value", at("bc", 1)),
        ("end-of-value", at("bc", 2)),
        ("last-line-start", WS_REQUEST.len() - 2),
    ];
    let chars: &[(&str, u8)] = &[
        ("sp", b' '),
        ("htab", b'\t'),
        ("lf", b'\n'),
        ("cr", b'\r'),
        ("nul", 0),
        ("x01", 1),
        ("vt", 0x0b),
        ("ff", 0x0c),
        ("x1f", 0x1f),
        ("del", 0x7f),
        ("x80", 0x80),
        ("xff", 0xff),
    ];
    let mut cases = Vec::new();
    for &(pos, offset) in &positions {
        for &(cl, c) in chars {
            let mut req = WS_REQUEST.as_bytes().to_vec();
            req.insert(offset, c);
            if pos == "last-line-start" {
                // The inserted byte starts a line where the empty line was: add one after
                // it, so the head has a clear end and a server must decide, not wait.
                req.extend_from_slice(b"\r\n");
            }
            let ws = c == b' ' || c == b'\t';
            let obs = c >= 0x80;
            let ok = match pos {
                // An empty line before the request line is skipped; a bare LF line ending
                // is accepted, so these LFs end a line early but harmlessly (the head
                // already has Host and Connection: close).
                "before-method" | "line-start" | "last-line-start" | "end-of-value" => {
                    c == b'\n' || (pos == "end-of-value" && (ws || obs))
                }
                // Inside a field value: OWS and obs-text are field-content.
                "after-colon" | "in-value" => ws || obs,
                _ => false,
            };
            cases.push(case(
                format!("whitespace/{pos}/{cl}"),
                &req,
                if ok { ONE } else { BAD },
            ));
        }
    }
    Family {
        file: "gen-whitespace.txt",
        about: vec![
            "One whitespace, control or high byte inserted at each position of".into(),
            format!("`{}`.", escape(WS_REQUEST.as_bytes())),
            "Ours: exact single SPs in the request line; OWS and obs-text only inside a".into(),
            "field value; no CTL anywhere; a line starting with SP/HTAB (obs-fold) → 400;".into(),
            "a bare LF ends a line, and an LF at a line start is an empty line.".into(),
        ],
        cases,
    }
}

fn line_endings() -> Family {
    // The field comes before `Connection: close` so that a line end under test is always
    // followed by more head, and the head always ends in an unambiguous empty line.
    let lines = [
        "GET / HTTP/1.1",
        "Host: localhost",
        "X-A: b",
        "Connection: close",
        "",
    ];
    let labels = ["request-line", "host", "field", "connection", "empty-line"];
    let ends: &[(&str, &str, bool)] = &[
        ("lf", "\n", true),
        ("cr-cr-lf", "\r\r\n", false),
        ("cr", "\r", false),
        ("lf-cr", "\n\r", false),
    ];
    let mut cases = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let last = i == lines.len() - 1;
        for &(el, end, ok) in ends {
            // On the last line a lone CR (or LF CR) is the same bytes as CR CR LF below.
            if last && (el == "cr" || el == "lf-cr") {
                continue;
            }
            let mut req: String = lines
                .iter()
                .enumerate()
                .map(|(j, l)| format!("{l}{}", if i == j { end } else { "\r\n" }))
                .collect();
            if i + 2 >= lines.len() && !ok {
                // Damage next to the empty line can swallow it: add a well-formed one, so
                // a server that waits for the end of the head sees one and must decide.
                req.push_str("\r\n");
            }
            cases.push(case(
                format!("line-ending/{label}/{el}"),
                req.as_bytes(),
                if ok { ONE } else { BAD },
            ));
        }
    }
    let all_lf: String = lines.iter().map(|l| format!("{l}\n")).collect();
    cases.push(case("line-ending/all/lf".into(), all_lf.as_bytes(), ONE));
    Family {
        file: "gen-line-ending.txt",
        about: vec![
            "Each line end of a head replaced. Ours: a bare LF ends a line (Apache and nginx"
                .into(),
            "accept it too); a CR not followed by LF → 400.".into(),
        ],
        cases,
    }
}

fn empty_lines() -> Family {
    let mut cases = Vec::new();
    for n in [1usize, 2, 8, 9, 20] {
        for (el, eol) in [("crlf", "\r\n"), ("lf", "\n")] {
            let lines = eol.repeat(n);
            let ok = n <= 8;
            cases.push(case(
                format!("empty-lines/before-first/{n}-{el}"),
                format!("{lines}{NEXT}").as_bytes(),
                if ok { ONE } else { BAD },
            ));
            cases.push(case(
                format!("empty-lines/between/{n}-{el}"),
                format!("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n{lines}{NEXT}").as_bytes(),
                if ok { BOTH } else { "200 400 close" },
            ));
        }
    }
    Family {
        file: "gen-empty-lines.txt",
        about: vec![
            "Empty lines before a request line, first on the connection and between two".into(),
            "pipelined requests. Ours: up to 8 are skipped; more → 400.".into(),
        ],
        cases,
    }
}

fn limits() -> Family {
    let mut cases = Vec::new();
    // `GET ` + target + ` HTTP/1.1` = n bytes (the line without its CRLF).
    for (n, expect) in [(8190usize, ONE), (8191, "414 close")] {
        let target = format!("/?{}", "a".repeat(n - 4 - 9 - 2));
        let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assert_eq!(req.find("\r\n"), Some(n));
        cases.push(case(
            format!("limits/request-line/{n}"),
            req.as_bytes(),
            expect,
        ));
    }
    // `X-A: ` + value = n bytes.
    for (n, expect) in [(8190usize, ONE), (8191, "431 close")] {
        let req = format!(
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-A: {}\r\n\r\n",
            "b".repeat(n - 5)
        );
        cases.push(case(format!("limits/field/{n}"), req.as_bytes(), expect));
    }
    // Host + Connection + X-A lines = n fields.
    for (n, expect) in [(100usize, ONE), (101, "431 close")] {
        let send = format!(
            "GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\{{{}:X-A: b\\r\\n}}\\r\\n",
            n - 2
        );
        cases.push(Case::new(format!("limits/fields/{n}"), send, expect));
    }
    // Many fields just under the field limit: only the per-field and count limits apply.
    // Distinct names, as a server may join same-name fields into one value.
    let fields: String = (0..60)
        .map(|i| format!("X-A{i}: \\{{8000:b}}\\r\\n"))
        .collect();
    let send =
        format!("GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n{fields}\\r\\n");
    cases.push(
        Case::new("limits/head-480k", send, ONE)
            .note("60 fields of 8 KB: within LimitRequestFieldSize and LimitRequestFields"),
    );
    // The chunk line (size and extensions, without CRLF) is n bytes.
    for (n, expect) in [(4096usize, BOTH), (4097, BAD)] {
        let body = format!("5;a={}\r\nhello\r\n0\r\n\r\n", "b".repeat(n - 4));
        cases.push(case(
            format!("limits/chunk-line/{n}"),
            &chunked_post(body.as_bytes()),
            expect,
        ));
    }
    // Trailers are bounded like the head.
    for (n, expect) in [(8190usize, BOTH), (8191, "431 close")] {
        let body = format!("5\r\nhello\r\n0\r\nX-T: {}\r\n\r\n", "b".repeat(n - 5));
        cases.push(case(
            format!("limits/trailer-field/{n}"),
            &chunked_post(body.as_bytes()),
            expect,
        ));
    }
    for (n, expect) in [(100usize, BOTH), (101, "431 close")] {
        let send = format!(
            "POST / HTTP/1.1\\r\\nHost: localhost\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n\
             5\\r\\nhello\\r\\n0\\r\\n\\{{{n}:X-T: v\\r\\n}}\\r\\n{}",
            escape(NEXT.as_bytes())
        );
        cases.push(Case::new(
            format!("limits/trailer-fields/{n}"),
            send,
            expect,
        ));
    }
    Family {
        file: "gen-limits.txt",
        about: vec![
            "Limits at their edge. Ours (Apache's defaults): request line ≤ 8190 bytes".into(),
            "(else 414), a field line ≤ 8190 and ≤ 100 fields (else 431), a chunk line".into(),
            "(size and extensions) ≤ 4096 (else 400), trailers bounded like the head.".into(),
        ],
        cases,
    }
}
