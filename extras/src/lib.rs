//! mpm's heavier companions, in their own workspace member so that neither the library
//! nor `cargo run --release --example httpd` builds them:
//!
//! * `examples/axum.rs` — an axum `Router` served natively (`Handler::tower`) under any
//!   strategy, with a WebSocket echo:
//!   `cargo run -p mpm-extras --example axum -- --mpm prefork --listen 127.0.0.1:8080`;
//! * `benches/micro.rs` — criterion micro-benchmarks of mpm's hot paths:
//!   `cargo bench -p mpm-extras --bench micro` (see `benches/README.md`).
