//! `/server-status` for handlers: the scoreboard of the running server as `?auto` text,
//! `?json`, or an HTML page (`?refresh=N`).
//!
//! STUB until the status renderers land.

use bytes::Bytes;
use http::{Request, Response};

/// Answer `/server-status` requests; `None` for any other path.
pub fn respond(req: &Request<Bytes>) -> Option<Response<Bytes>> {
    let _ = req;
    None
}
