//! Handlers and the HTTP/1.1 connection glue (hyper).
//!
//! STUB: the listen/http helper owns this file.

/// temporary stub
#[derive(Clone)]
pub struct Handler;
