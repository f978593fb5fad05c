//! One event child: a single-threaded tokio connection layer plus the worker pool.

use crate::conn_observer::ConnCounters;
use crate::inline::InlineSlots;
use crate::pool::{Job, Pool};
use ::http::{Response, StatusCode};
use bytes::Bytes;
use mpm_core::http::{self, Closing, Handler, HttpOptions};
use mpm_core::kit::ChildSlots;
use mpm_core::kit::SlotObserver;
use mpm_core::mpm::exit;
use mpm_core::ChildContext;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

/// State shared by the tasks of one child (single-threaded: `Rc`/`Cell` suffice).
struct Shared {
    /// This child's scoreboard slots.
    slots: ChildSlots,
    /// Open connections.
    conns: Cell<usize>,
    /// Connections that do not count against the accept limit — in lingering close, or
    /// still waiting for / reading a request head (they hold no worker, so a slowloris
    /// flood cannot stop this child from accepting); kept by each [`ConnCounters`].
    exempt: Arc<AtomicUsize>,
    /// Notified when a connection ends.
    conn_done: Notify,
}

pub(crate) fn run(ctx: ChildContext<'_>) -> i32 {
    let rt = match mpm_core::http::current_thread_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("child {}: cannot create runtime: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let limits = &ctx.config().limits;
    let tpc = limits.threads_per_child as usize;
    match ctx.handler() {
        h @ (Handler::Http(_) | Handler::Stream(_)) => {
            let pool = match Pool::start(tpc, h.clone(), |t| SlotObserver::new(ctx.slots(), t)) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!("child {}: cannot create worker threads: {e}", ctx.slot());
                    return exit::CHILD_SICK;
                }
            };
            let local = tokio::task::LocalSet::new();
            let code = local.block_on(&rt, serve(&ctx, Dispatch::Pool(&pool)));
            pool.shutdown();
            code
        }
        h @ (Handler::Async(_) | Handler::Service(_)) => {
            // Inline on the connection layer: no worker thread, no hop; each call in
            // flight holds a worker slot of the scoreboard.
            let slots = InlineSlots::new(&ctx.slots(), tpc, ctx.config().handler_timeout);
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, serve(&ctx, Dispatch::Inline(h.clone(), slots)))
        }
        Handler::Connection(_) => {
            // Raw connection handlers are blocking by contract: the worker strategy's
            // thread-per-connection model is the right one for them.
            tracing::error!(
                "the event MPM serves HTTP handlers; use the worker MPM for a ConnectionHandler"
            );
            exit::CHILD_FATAL
        }
    }
}

/// Where handler calls go.
enum Dispatch<'a> {
    /// Blocking handlers: to the worker threads.
    Pool(&'a Pool),
    /// Async handlers ([`Handler::Async`], [`Handler::Service`]): run inline on the
    /// connection layer, each call on one of the child's worker slots.
    Inline(Handler, Rc<InlineSlots>),
}

async fn serve(ctx: &ChildContext<'_>, dispatch: Dispatch<'_>) -> i32 {
    let limits = &ctx.config().limits;
    let tpc = limits.threads_per_child as usize;
    // Apache floors the factor (integer arithmetic on factor×16 / 16); we keep the
    // fraction, as documented for the directive.
    let factor = limits.async_request_worker_factor;
    // Shared by every connection task of this child (one copy, not one per connection).
    let opts = Rc::new(HttpOptions {
        // Blocking handlers run on the pool's threads: they write their whole responses
        // themselves, off the connection thread.
        reply_writer: matches!(dispatch, Dispatch::Pool(_)),
        ..HttpOptions::for_child(ctx)
    });
    let closing = Closing::default();
    let shared = Rc::new(Shared {
        slots: ctx.slots(),
        conns: Cell::new(0),
        exempt: Arc::new(AtomicUsize::new(0)),
        conn_done: Notify::new(),
    });
    let (pool, jobs, inline) = match &dispatch {
        Dispatch::Pool(pool) => (Some(*pool), Some(pool.submitter()), None),
        Dispatch::Inline(h, slots) => (None, None, Some((h.clone(), slots.clone()))),
    };
    // Woken when a worker (thread or inline slot) becomes free: the accept limit moved.
    let freed_notify: Arc<Notify> = match (&pool, &inline) {
        (Some(p), _) => p.freed.clone(),
        (_, Some((_, slots))) => slots.freed(),
        _ => Arc::default(),
    };
    let mode = ctx.handler().body_mode();
    let mut listeners = Vec::new();
    for l in ctx.listeners() {
        let std_listener = match l.socket.try_clone() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("child {}: listener: {e}", ctx.slot());
                return exit::CHILD_SICK;
            }
        };
        let _ = std_listener.set_nonblocking(true);
        match TcpListener::from_std(std_listener) {
            Ok(t) => listeners.push(t),
            Err(e) => {
                tracing::error!("child {}: listener: {e}", ctx.slot());
                return exit::CHILD_SICK;
            }
        }
    }
    let graceful = match ctx.signals().watch() {
        Ok(watch) => watch,
        Err(_) => {
            tracing::error!("child {}: cannot watch for graceful stop", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let max_conns = ctx.max_connections();
    let mut accepted: u64 = 0;
    let slots = ctx.slots();
    let proc_slot = slots.process();
    let stop_requested = || ctx.stop_requested();

    // Apache's accept limit (`connections_above_limit`): no accepting while open
    // connections (less those in lingering close — and, unlike Apache, whose heads are
    // read by workers, less those still reading a head) reach ThreadsPerChild + idle workers ×
    // AsyncRequestWorkerFactor, nor while no worker is idle. Inline async handlers count
    // their free worker slots as the idle workers.
    let above_limit = || {
        let idle = match (pool, &inline) {
            (Some(pool), _) => pool.idle(),
            (_, Some((_, slots))) => slots.idle(),
            _ => return false,
        };
        let open = shared
            .conns
            .get()
            .saturating_sub(shared.exempt.load(Ordering::Relaxed));
        idle == 0 || open >= tpc + (idle as f64 * factor) as usize
    };

    let mut shortage = mpm_core::kit::Shortage::counting(ctx.slots());
    'accept: loop {
        if stop_requested() || (max_conns > 0 && accepted >= max_conns) {
            break;
        }
        // Register for the wake-ups before looking, so none is missed in between.
        let done = shared.conn_done.notified();
        let freed = freed_notify.notified();
        tokio::pin!(done, freed);
        done.as_mut().enable();
        freed.as_mut().enable();
        if above_limit() {
            proc_slot.set_not_accepting(true);
            tokio::select! {
                _ = done => {}
                _ = freed => {}
                _ = graceful.requested() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        proc_slot.set_not_accepting(false);
        // The limit is checked again each time a listener is polled, i.e. when a
        // connection is pending, since workers may have become busy in the meantime.
        let accept = accept_within_limit(&listeners, &above_limit);
        let (stream, peer) = tokio::select! {
            r = accept => match r {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => match mpm_core::kit::classify(&e) {
                    mpm_core::kit::AcceptError::Retry => continue,
                    mpm_core::kit::AcceptError::Shortage => {
                        shortage.hit(&e);
                        tokio::time::sleep(mpm_core::kit::SHORTAGE_BACKOFF).await;
                        continue;
                    }
                    mpm_core::kit::AcceptError::Fatal => {
                        tracing::error!("child {}: accept: {e}", ctx.slot());
                        break 'accept;
                    }
                },
            },
            _ = graceful.requested() => break 'accept,
            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
        };
        accepted += 1;
        shortage.recovered();
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let opts = opts.clone();
        let closing = closing.clone();
        let jobs = jobs.clone();
        let inline = inline.clone();
        shared.conns.set(shared.conns.get() + 1);
        // Counted before the task first runs, so the accept limit sees it at once.
        let counters = ConnCounters::open(shared.slots.clone(), shared.exempt.clone());
        let span = mpm_core::kit::connection_span(&shared.slots, None, peer);
        tokio::task::spawn_local(tracing::Instrument::instrument(
            async move {
                let call = |req| {
                    let jobs = jobs.clone();
                    let inline = inline.clone();
                    async move {
                        if let Some((h, slots)) = &inline {
                            return match h {
                                Handler::Async(h) => {
                                    slots
                                        .run(peer, req, |req| http::reply_async(h.as_ref(), req))
                                        .await
                                }
                                Handler::Service(h) => {
                                    slots
                                        .run(peer, req, |req| http::reply_service(h.as_ref(), req))
                                        .await
                                }
                                _ => unavailable(),
                            };
                        }
                        let Some(jobs) = jobs else {
                            return unavailable();
                        };
                        let (tx, rx) = oneshot::channel();
                        let job = Job {
                            request: req,
                            peer,
                            reply: tx,
                        };
                        if jobs.send(job).is_err() {
                            return unavailable();
                        }
                        rx.await.unwrap_or_else(|_| unavailable())
                    }
                };
                http::serve_lean(stream, peer, &opts, mode, call, &counters, &closing).await;
                drop(counters);
                shared.conns.set(shared.conns.get() - 1);
                shared.conn_done.notify_waiters();
            },
            span,
        ));
    }

    // Graceful child stop: stop accepting (our copies of the listeners close here), let
    // every connection end at a safe point, then let the workers drain.
    proc_slot.set_quiescing(true);
    proc_slot.set_not_accepting(true);
    drop(listeners);
    closing.close();
    while shared.conns.get() > 0 {
        // The master's drain deadline (GracefulShutdownTimeout) passed: idle keep-alive
        // connections close now instead of at their keep-alive timeout.
        if proc_slot.drain_expired() && !closing.is_expired() {
            tracing::debug!(
                "child {}: drain deadline passed; closing idle connections",
                ctx.slot()
            );
            closing.expire();
        }
        tokio::select! {
            _ = shared.conn_done.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    0
}

/// Accept from whichever listener is ready first, unless `above_limit()` holds whenever
/// this is polled (the future is polled again when a listener becomes ready): then
/// `Ok(None)`, leaving pending connections in the backlog.
async fn accept_within_limit(
    listeners: &[TcpListener],
    above_limit: &dyn Fn() -> bool,
) -> std::io::Result<Option<(tokio::net::TcpStream, std::net::SocketAddr)>> {
    std::future::poll_fn(|cx| {
        if above_limit() {
            return Poll::Ready(Ok(None));
        }
        for l in listeners {
            if let Poll::Ready(r) = l.poll_accept(cx) {
                return Poll::Ready(r.map(Some));
            }
        }
        Poll::Pending
    })
    .await
}

fn unavailable() -> http::Reply {
    let mut r = Response::new(Bytes::from_static(b"Service Unavailable\n"));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    http::Reply::Full(r)
}
