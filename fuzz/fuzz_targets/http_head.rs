#![no_main]
//! The engine's head parser fed in pieces: the same outcome however cut; see `mpm_fuzz::parsers::http_head`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mpm_fuzz::parsers::http_head(data);
});
