#![no_main]
//! Any bytes as an httpd configuration, for every MPM: never a panic, Apache's invariants
//! in what validates.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mpm_fuzz::targets::config_parse(data);
});
