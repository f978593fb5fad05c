#![no_main]
//! The same bytes through mpm and hyper: whatever mpm accepts, hyper accepts identically; see `mpm_fuzz::differential::http_differential`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mpm_fuzz::differential::http_differential(data);
});
