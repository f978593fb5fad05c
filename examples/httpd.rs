//! An Apache-like server.
fn main() {}
