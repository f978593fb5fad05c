//! Bookkeeping for async handlers run inline on the connection layer.
//!
//! No worker thread runs them, yet they must show in the scoreboard as blocking handlers
//! do: each call in flight holds one of the child's ThreadsPerChild worker slots (`W` with
//! its client and request line, counted in Total Accesses when it ends), so BusyWorkers,
//! IdleWorkers, spare maintenance and the accept limit see the child's real load. A call
//! that finds every slot taken waits for one, as a job waits for a worker thread. A call
//! that overruns HandlerTimeout is cancelled — its future dropped, its request answered
//! 503 and its connection closed — and nothing else in the child is disturbed.

use ::http::header::{HeaderValue, CONNECTION};
use ::http::Request;
use ::http::{Response, StatusCode};
use bytes::Bytes;
use mpm_core::http::{observe_request, ConnObserver, Reply, RequestBody};
use mpm_core::kit::{ChildSlots, SlotObserver};
use mpm_core::scoreboard::WorkerStatus;
use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The worker slots inline calls take turns on (one connection-layer thread: `Rc`).
pub(crate) struct InlineSlots {
    /// The child's scoreboard slot (for the log).
    child: usize,
    observers: Vec<SlotObserver>,
    /// Free slot numbers; the most recently freed is reused first, as a warm thread is.
    free: RefCell<Vec<usize>>,
    /// Woken when a slot is freed.
    freed: Arc<Notify>,
    /// HandlerTimeout.
    timeout: Option<Duration>,
}

impl InlineSlots {
    /// `n` slots of `slots`, all idle.
    pub(crate) fn new(slots: &ChildSlots, n: usize, timeout: Option<Duration>) -> Rc<Self> {
        let observers: Vec<SlotObserver> = (0..n)
            .map(|t| SlotObserver::new(slots.clone(), t))
            .collect();
        for o in &observers {
            o.set_idle();
        }
        Rc::new(InlineSlots {
            child: slots.slot(),
            observers,
            free: RefCell::new((0..n).rev().collect()),
            freed: Arc::new(Notify::new()),
            timeout,
        })
    }

    /// Slots free right now (idle "workers", for the accept limit).
    pub(crate) fn idle(&self) -> usize {
        self.free.borrow().len()
    }

    /// Woken whenever a slot is freed (the accept limit may have moved).
    pub(crate) fn freed(&self) -> Arc<Notify> {
        self.freed.clone()
    }

    /// Run one handler call for `peer`'s request on a slot, under HandlerTimeout: the
    /// request is recorded in the slot, then handed to `call`.
    pub(crate) async fn run<Fut: Future<Output = Reply>>(
        self: &Rc<Self>,
        peer: SocketAddr,
        req: Request<RequestBody>,
        call: impl FnOnce(Request<RequestBody>) -> Fut,
    ) -> Reply {
        let slot = self.take().await;
        let o = &self.observers[slot.0];
        o.set_client(peer);
        observe_request(o, &req);
        o.set(WorkerStatus::BusyWrite);
        let call = call(req);
        let reply = match self.timeout {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(reply) => reply,
                Err(_) => {
                    // As the scoreboard shows it (the request itself went to the handler).
                    let line = o.request_shown();
                    tracing::error!(
                        "handler timeout: slot {} thread {} client {} request \"{line}\" cancelled after {}s (HandlerTimeout)",
                        self.child,
                        slot.0,
                        peer.ip(),
                        limit.as_secs_f64()
                    );
                    cancelled()
                }
            },
            None => call.await,
        };
        let bytes = match &reply {
            Reply::Full(r) => r.body().len() as u64,
            _ => 0,
        };
        o.request_done(bytes);
        reply
    }

    /// Wait for a free slot.
    async fn take(self: &Rc<Self>) -> Taken {
        // A free slot at once: nothing to register for (one thread, so nothing can free or
        // take a slot between this look and the registration below).
        if let Some(t) = self.free.borrow_mut().pop() {
            return Taken(t, self.clone());
        }
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(t) = self.free.borrow_mut().pop() {
                return Taken(t, self.clone());
            }
            freed.await;
        }
    }
}

/// A slot held by one call; freed (and shown idle) when dropped, even if the call's
/// future is dropped half-way.
struct Taken(usize, Rc<InlineSlots>);

impl Drop for Taken {
    fn drop(&mut self) {
        self.1.observers[self.0].set_idle();
        self.1.free.borrow_mut().push(self.0);
        self.1.freed.notify_waiters();
    }
}

/// The answer to a cancelled call: the handler may have read part of the body, so the
/// connection cannot be trusted to be at a request boundary — it closes.
fn cancelled() -> Reply {
    let mut r = Response::new(Bytes::from_static(b"Service Unavailable\n"));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Reply::Full(r)
}
