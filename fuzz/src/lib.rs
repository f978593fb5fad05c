//! The bodies of the cargo-fuzz targets (`fuzz_targets/*.rs`) and their oracles.
//!
//! * [`input`]: how a fuzz input is read (a flags byte, cut points, then the bytes).
//! * [`reference`]: a small, direct reference decoder of the chunked coding (the strict
//!   grammar the engine enforces), the differential oracle of `http_chunked`.
//! * [`parsers`]: `http_head` and `http_chunked` (the engine's parsers fed in pieces).
//! * [`connection`]: `http_connection` (whole connections through `serve_lean`).
//! * [`differential`]: `http_differential` (the same bytes through hyper's server).
//! * [`targets`]: `config_parse` and the plain `http_request` rig, shared with the stable
//!   test `mpm-core/tests/reliability_fuzz_corpus.rs`.

pub mod connection;
pub mod differential;
pub mod input;
pub mod known;
pub mod parsers;
pub mod reference;
pub mod responses;
pub mod seeds;
#[path = "targets.rs"]
pub mod targets;
