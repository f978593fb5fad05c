//! Handlers and bodies: what an application writes. The engine that frames requests and
//! calls the handlers (`serve_lean`, `HttpOptions`, `Closing`, …) belongs to the strategy
//! kit, [`crate::kit`].
//!
//! The `http` crate's types handlers are written with are re-exported here, so
//! `mpm::http::{Request, Response, StatusCode}` need no dependency of your own; bodies
//! are [`Bytes`] (the whole `bytes` crate is [`crate::bytes`]).
//!
//! ```
//! use mpm::http::{header, Bytes, Handler, Response, StatusCode};
//!
//! let hello = Handler::http(|_req| {
//!     Response::builder()
//!         .status(StatusCode::OK)
//!         .header(header::CONTENT_TYPE, "text/plain")
//!         .body(Bytes::from_static(b"hello\n"))
//!         .unwrap()
//! });
//! # drop(hello);
//! ```

pub use ::bytes::Bytes;
pub use ::http::{
    header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version,
};
pub use mpm_core::http::{
    boxed, call_handler, text_response, AsyncHandler, BodyError, BodyMode, BodyReader, BodyWriter,
    BoxError, ConnectionHandler, HandOff, HandOffFuture, Handler, HttpHandler, OnUpgrade,
    ReplyFuture, RequestBody, ResponseBody, ResponseFuture, ResponseWriter, ServiceHandler,
    StreamHandler, UpgradeError, Upgraded,
};
