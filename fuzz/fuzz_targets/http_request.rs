#![no_main]
//! Any bytes as what a client sends on one HTTP/1.1 connection: never a panic, never longer
//! than `HTTP_INPUT_DEADLINE`.

#[path = "../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::http_request(data);
});
