//! One reactor child: a single-threaded event loop that accepts and serves every
//! connection it takes, until the master asks it to stop.

use mpm::http::{text_response, Handler, RequestBody};
use mpm::kit::exit;
use mpm::kit::ChildContext;
use mpm::kit::{self, Closing, ConnObserver, HttpOptions, Reply};
use mpm::kit::{classify, AcceptError, Shortage, SHORTAGE_BACKOFF};
use mpm::kit::{ChildSlots, WorkerStatus};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub(crate) fn run(ctx: ChildContext<'_>) -> i32 {
    let rt = match kit::current_thread_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("child {}: cannot create the event loop: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve(&ctx))
}

async fn serve(ctx: &ChildContext<'_>) -> i32 {
    let mut listeners = Vec::new();
    for l in ctx.listeners() {
        let tokio_listener = l.socket.try_clone().and_then(|s| {
            s.set_nonblocking(true)?;
            TcpListener::from_std(s)
        });
        match tokio_listener {
            Ok(t) => listeners.push(t),
            Err(e) => {
                tracing::error!("child {}: listener: {e}", ctx.slot());
                return exit::CHILD_SICK;
            }
        }
    }
    let graceful = match ctx.signals().watch() {
        Ok(fd) => fd,
        Err(e) => {
            tracing::error!("child {}: cannot watch for graceful stop: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let opts = Rc::new(HttpOptions::for_child(ctx));
    let mode = ctx.handler().body_mode();
    let closing = Closing::default();
    let load = Arc::new(Load::new(ctx.slots()));
    let open = Rc::new(Cell::new(0usize));
    let conn_done = Rc::new(Notify::new());
    let max_conns = ctx.max_connections();
    let mut accepted = 0u64;
    let mut shortage = Shortage::counting(ctx.slots());

    loop {
        if ctx.stop_requested() || (max_conns > 0 && accepted >= max_conns) {
            break;
        }
        let (stream, peer) = tokio::select! {
            r = accept_any(&listeners) => match r {
                Ok(c) => c,
                Err(e) => match classify(&e) {
                    AcceptError::Retry => continue,
                    AcceptError::Shortage => {
                        shortage.hit(&e);
                        tokio::time::sleep(SHORTAGE_BACKOFF).await;
                        continue;
                    }
                    AcceptError::Fatal => {
                        tracing::error!("child {}: accept: {e}", ctx.slot());
                        break;
                    }
                },
            },
            _ = graceful.requested() => break,
            // The scoreboard's quiescing flag has no descriptor: look at it each second.
            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
        };
        accepted += 1;
        shortage.recovered();
        let _ = stream.set_nodelay(true);
        open.set(open.get() + 1);
        let (opts, closing, handler) = (opts.clone(), closing.clone(), ctx.handler().clone());
        let (open, conn_done, load) = (open.clone(), conn_done.clone(), load.clone());
        tokio::task::spawn_local(async move {
            let observer = ConnLoad::new(load);
            let call = |req| call(handler.clone(), req);
            kit::serve_lean(stream, peer, &opts, mode, call, &observer, &closing).await;
            drop(observer);
            open.set(open.get() - 1);
            conn_done.notify_waiters();
        });
    }

    // Stop accepting (our copies of the listeners close here), let every connection end
    // at a safe point, then leave.
    drop(listeners);
    closing.close();
    while open.get() > 0 {
        tokio::select! {
            _ = conn_done.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    0
}

/// Accept from whichever listener is ready first.
async fn accept_any(listeners: &[TcpListener]) -> std::io::Result<(TcpStream, SocketAddr)> {
    std::future::poll_fn(|cx| {
        for l in listeners {
            if let Poll::Ready(r) = l.poll_accept(cx) {
                return Poll::Ready(r);
            }
        }
        Poll::Pending
    })
    .await
}

/// One request to the handler: async kinds on the loop, blocking kinds on the loop's
/// blocking pool (a blocked handler must not stall every other connection).
async fn call(handler: Handler, req: ::http::Request<RequestBody>) -> Reply {
    match handler {
        Handler::Async(h) => kit::reply_async(h.as_ref(), req).await,
        Handler::Service(h) => kit::reply_service(h.as_ref(), req).await,
        Handler::Http(h) => blocking(move || kit::reply_blocking(h.as_ref(), req)).await,
        Handler::Stream(h) => blocking(move || kit::reply_stream(h.as_ref(), req)).await,
        // Refused before any fork (`ReactorMpm::supports`).
        Handler::Connection(_) => Reply::Full(text_response(
            ::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error\n",
        )),
    }
}

async fn blocking(f: impl FnOnce() -> Reply + Send + 'static) -> Reply {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Reply::Full(text_response(
            ::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error\n",
        ))
    })
}

/// The loop's one worker slot: busy while any request is in flight, ready otherwise,
/// with the request counters of every connection.
struct Load {
    slots: ChildSlots,
    in_flight: AtomicUsize,
}

impl Load {
    fn new(slots: ChildSlots) -> Load {
        slots.worker(0).set_status(WorkerStatus::Ready);
        Load {
            slots,
            in_flight: AtomicUsize::new(0),
        }
    }

    fn started(&self, line: &str) {
        let w = self.slots.worker(0);
        w.set_request(line);
        w.start_request();
        if self.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
            w.set_status(WorkerStatus::BusyWrite);
        }
    }

    fn ended(&self) {
        if self.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.slots.worker(0).set_status(WorkerStatus::Ready);
        }
    }
}

/// One connection's share of [`Load`]: a request cut short (the client left) still ends.
struct ConnLoad {
    load: Arc<Load>,
    in_request: AtomicBool,
}

impl ConnLoad {
    fn new(load: Arc<Load>) -> ConnLoad {
        load.slots.worker(0).new_connection();
        ConnLoad {
            load,
            in_request: AtomicBool::new(false),
        }
    }
}

impl ConnObserver for ConnLoad {
    /// Connection states belong to connections, not to the loop's slot.
    fn status(&self, _s: WorkerStatus) {}

    fn request_line(&self, line: &str) {
        if !self.in_request.swap(true, Ordering::Relaxed) {
            self.load.started(line);
        }
    }

    fn request_done(&self, bytes: u64) {
        if self.in_request.swap(false, Ordering::Relaxed) {
            self.load.slots.worker(0).finish_request(bytes);
            self.load.ended();
        }
    }
}

impl Drop for ConnLoad {
    fn drop(&mut self) {
        if self.in_request.swap(false, Ordering::Relaxed) {
            self.load.ended();
        }
    }
}
