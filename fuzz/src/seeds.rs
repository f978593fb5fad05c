//! The hand-written seeds of the HTTP corpora, and stable (non-fuzzing) tests that run
//! every target over them and over the committed corpora.
//!
//! `cargo test --lib -- --ignored write_seeds` (from `fuzz/`) writes the seeds into
//! `corpus/<target>/seed-*`.

/// Requests, whole connections and smuggling shapes, as a client sends them.
pub const REQUESTS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET http://a.example:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n",
    b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b ;c=\"q\\\"x\" ; d\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n",
    // Pipelining, keep-alive and close.
    b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\nGET /3 HTTP/1.0\r\n\r\n",
    b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\n\n",
    // Smuggling shapes: all refused.
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;\nxx\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\nxx\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxxx\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nxx\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\tfolded: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
    b"GET / FOO/1.1\r\nHost: a\r\n\r\n",
    b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
];

/// Chunked bodies (for `http_chunked`).
pub const BODIES: &[&[u8]] = &[
    b"0\r\n\r\n",
    b"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    b"000a\r\n0123456789\r\n0\r\n\r\n",
    b"3 \t\r\nabc\r\n0 ;x\r\n\r\n",
    b"1A;a=b ; c=\"q\\\"x\" ;d\r\n01234567890123456789012345\r\n0\r\nX-T: 1\r\n\r\n",
    b"0\r\nA: 1\r\nB: 2\nC:3\r\n\n",
    b"0\r\nbad name: x\r\n\r\n",
    b"0\r\n\tfolded: x\r\n\r\n",
    b"\r\n",
    b";x\r\n",
    b" 5\r\nhello\r\n0\r\n\r\n",
    b"2;\nxx\r\n0\r\n\r\n",
    b"2;a=\"x\r\n",
    b"2;a\x01\r\nxx\r\n0\r\n\r\n",
    b"2;=x\r\nxx\r\n0\r\n\r\n",
    b"2 3\r\nxx\r\n0\r\n\r\n",
    b"-2\r\nxx\r\n0\r\n\r\n",
    b"2\r\nxx0\r\n\r\n",
    b"ffffffffffffffff\r\n",
    b"10000000000000000\r\n",
    b"0000000000000000000001\r\nx\r\n0\r\n\r\n",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::encode;
    use std::path::{Path, PathBuf};

    fn corpus_dir(target: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target)
    }

    /// The seeds of each HTTP target: (target, file name, contents).
    fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
        let mut out = Vec::new();
        for (i, r) in REQUESTS.iter().enumerate() {
            let len = r.len() as u16;
            // Whole with the default flags; cut in the middle and near the end; and in
            // each body mode with small limits and a 64-byte body limit.
            out.push(("http_head", format!("seed-{i:03}"), encode(0, &[], r)));
            out.push((
                "http_head",
                format!("seed-{i:03}-small"),
                encode(1 << 2, &[len / 2], r),
            ));
            out.push((
                "http_connection",
                format!("seed-{i:03}"),
                encode(0, &[len / 3, len / 2, len.saturating_sub(2)], r),
            ));
            out.push((
                "http_connection",
                format!("seed-{i:03}-mode{}", i % 4),
                encode((i % 4) as u8 | 0x10, &[len / 2], r),
            ));
            out.push(("http_differential", format!("seed-{i:03}"), r.to_vec()));
        }
        for (i, b) in BODIES.iter().enumerate() {
            let len = b.len() as u16;
            out.push(("http_chunked", format!("seed-{i:03}"), encode(0, &[], b)));
            out.push((
                "http_chunked",
                format!("seed-{i:03}-small"),
                encode(1 << 2, &[1, len / 2], b),
            ));
        }
        out
    }

    #[test]
    #[ignore = "writes the seed files into corpus/"]
    fn write_seeds() {
        for (target, name, data) in seeds() {
            let dir = corpus_dir(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), data).unwrap();
        }
    }

    #[test]
    fn seeds_pass_every_target() {
        for (target, name, data) in seeds() {
            eprintln!("{target}/{name}");
            match target {
                "http_head" => crate::parsers::http_head(&data),
                "http_chunked" => crate::parsers::http_chunked(&data),
                "http_connection" => crate::connection::http_connection(&data),
                "http_differential" => crate::differential::http_differential(&data),
                _ => unreachable!(),
            }
        }
    }

    /// Every committed corpus file, through its target (what CI replays with the fuzz
    /// binaries, here on stable).
    #[test]
    fn committed_corpora_pass() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 5] = [
            ("http_head", crate::parsers::http_head),
            ("http_chunked", crate::parsers::http_chunked),
            ("http_connection", crate::connection::http_connection),
            ("http_differential", crate::differential::http_differential),
            ("config_parse", crate::targets::config_parse),
        ];
        for (target, f) in targets {
            let Ok(dir) = std::fs::read_dir(corpus_dir(target)) else {
                continue;
            };
            for e in dir.flatten() {
                let data = std::fs::read(e.path()).unwrap();
                eprintln!("{}", e.path().display());
                f(&data);
            }
        }
    }
}
