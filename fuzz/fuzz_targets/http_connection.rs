#![no_main]
//! Whole connections through `serve_lean`, whole and in pieces, against a model; see `mpm_fuzz::connection::http_connection`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mpm_fuzz::connection::http_connection(data);
});
