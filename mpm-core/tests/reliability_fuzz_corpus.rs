//! The cargo-fuzz targets (`fuzz/`), run on stable: every committed corpus file, then
//! 10,000 generated inputs per target (mutations of the corpus and token soup), each of
//! which must neither panic nor overrun its deadline.
//!
//! `cargo fuzz run config_parse` / `cargo fuzz run http_request` (from `fuzz/`, nightly
//! toolchain, `cargo install cargo-fuzz`) explore far more; this test keeps the same
//! functions exercised in every `cargo test`.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// A mutation of `seed`: byte flips, insertions of tokens, deletions, splices, truncation.
fn mutate(rng: &mut Rng, seed: &[u8], tokens: &[&[u8]], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = tokens[rng.below(tokens.len())];
                v.splice(at..at, t.iter().copied());
            }
            2 if !v.is_empty() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let from = rng.below(other.len() + 1);
                let to = (from + rng.below(64)).min(other.len());
                v.splice(at..at, other[from..to].iter().copied());
            }
            4 => v.truncate(at),
            _ => v.insert(at.min(v.len()), rng.next() as u8),
        }
    }
    v
}

const CONFIG_TOKENS: &[&[u8]] = &[
    b"LimitRequestLine ",
    b"LimitRequestFieldSize ",
    b"LimitRequestFields ",
    b"LimitRequestBody ",
    b"RequestReadTimeout ",
    b"header=",
    b"body=",
    b"handshake=",
    b",MinRate=",
    b"-",
    b"20-40",
    b"0",
    b"4294967296",
    b"-1",
    b"ThreadsPerChild ",
    b"ThreadLimit ",
    b"ServerLimit ",
    b"MaxRequestWorkers ",
    b"StartServers ",
    b"MinSpareThreads ",
    b"MaxSpareThreads ",
    b"<IfModule mpm_event_module>\n",
    b"</IfModule>\n",
    b"Include ",
    b"\\\n",
    b"\"",
    b"\n",
    b" ",
];

const HTTP_TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"GET / HTTP/1.1",
    b"POST /x HTTP/1.1",
    b"Host: x\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 18446744073709551616\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffff\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Expect: 100-continue\r\n",
    b"Upgrade: websocket\r\n",
    // The shapes the engine refuses (400/405/501): mutations land on both sides of each rule.
    b"Content-Length: 5, 5\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Host: y\r\n",
    b"HTTP/1.0",
    b"CONNECT x:443 HTTP/1.1",
    b"OPTIONS * HTTP/1.1",
    b"GET http://x/ HTTP/1.1",
    b";ext=v",
    b": \r\n",
    b"\x00",
    b"\xff\xfe",
    b" ",
    b"\t",
];

#[test]
fn config_parse_corpus_and_10k_mutations() {
    let seeds = corpus("config_parse");
    for (path, bytes) in &seeds {
        let t = Instant::now();
        targets::config_parse(bytes);
        assert!(t.elapsed() < Duration::from_secs(5), "{}", path.display());
    }
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    let t = Instant::now();
    for i in 0..10_000 {
        let seed = &seeds[rng.below(seeds.len())].1;
        let other = &seeds[rng.below(seeds.len())].1;
        let input = if i % 4 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, seed, CONFIG_TOKENS, other)
        };
        targets::config_parse(&input);
    }
    eprintln!("config_parse: 10,000 generated inputs in {:?}", t.elapsed());
}

#[test]
fn http_request_corpus_and_10k_mutations() {
    let seeds = corpus("http_request");
    for (path, bytes) in &seeds {
        let t = Instant::now();
        let n = targets::http_request(bytes);
        let took = t.elapsed();
        assert!(
            took < targets::HTTP_INPUT_DEADLINE,
            "{}: {took:?}",
            path.display()
        );
        // Anything that starts like a request gets some answer (or a clean close).
        let _ = n;
    }
    let mut rng = Rng(0x0005_EED0_FA11_u64);
    let t = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..10_000 {
        let seed = &seeds[rng.below(seeds.len())].1;
        let other = &seeds[rng.below(seeds.len())].1;
        let input = if i % 5 == 0 {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, seed, HTTP_TOKENS, other)
        };
        let one = Instant::now();
        targets::http_request(&input);
        slowest = slowest.max(one.elapsed());
    }
    eprintln!(
        "http_request: 10,000 generated inputs in {:?} (slowest {slowest:?})",
        t.elapsed()
    );
}

#[test]
fn the_answers_make_sense_for_known_inputs() {
    // Spot checks that the rig really talks HTTP (so a silent rig cannot pass the fuzz).
    assert!(targets::http_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(2000));
    assert!(targets::http_request(long.as_bytes()) > 0);
}
