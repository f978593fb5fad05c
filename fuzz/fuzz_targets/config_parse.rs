#![no_main]
//! Any bytes as an httpd configuration, for every MPM: never a panic.

#[path = "../src/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::config_parse(data);
});
