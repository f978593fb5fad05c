//! Handlers and bodies: what an application writes. The engine that frames requests and
//! calls the handlers (`serve_lean`, `HttpOptions`, `Closing`, …) belongs to the strategy
//! kit, [`crate::kit`].

pub use mpm_core::http::{
    boxed, call_handler, text_response, AsyncHandler, BodyError, BodyMode, BodyReader, BodyWriter,
    BoxError, ConnectionHandler, HandOff, HandOffFuture, Handler, HttpHandler, OnUpgrade,
    ReplyFuture, RequestBody, ResponseBody, ResponseFuture, ResponseWriter, ServiceHandler,
    StreamHandler, UpgradeError, Upgraded,
};
