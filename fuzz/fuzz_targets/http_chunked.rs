#![no_main]
//! The engine's chunked decoder fed in pieces, and against the reference decoder; see `mpm_fuzz::parsers::http_chunked`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mpm_fuzz::parsers::http_chunked(data);
});
