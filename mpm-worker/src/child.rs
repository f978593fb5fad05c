//! One worker child: the listener (this process's main thread) and its worker threads.

use crate::handoff::{self, handoff};
use mpm_core::http::{self, Closing, Handler, HttpOptions};
use mpm_core::kit::SlotObserver;
use mpm_core::kit::WorkerStatus;
use mpm_core::kit::{Accepted, Acceptor};
use mpm_core::mpm::exit;
use mpm_core::ChildContext;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How often an idle listener looks up from poll to check its slot.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// How often a stopping child looks whether its workers are done or the master's drain
/// deadline has passed.
const DRAIN_CHECK: Duration = Duration::from_millis(100);

type Conn = (TcpStream, SocketAddr);

pub(crate) fn run(ctx: ChildContext<'_>) -> i32 {
    let tpc = ctx.config().limits.threads_per_child as usize;
    let mut acceptor = match Acceptor::new(ctx.listeners()) {
        Ok(a) => a.counting(ctx.slots()),
        Err(e) => {
            tracing::error!("child {}: listeners: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let opts = HttpOptions::for_child(&ctx);
    let closing = Closing::default();
    // The listener takes an idle worker's token before each accept.
    let (listener, ends) = handoff::<Conn>(tpc);
    let mut threads = Vec::with_capacity(tpc);
    for end in ends {
        let t = end.index();
        let worker = Worker {
            handler: ctx.handler().clone(),
            opts: opts.clone(),
            observer: SlotObserver::new(ctx.slots(), t),
            closing: closing.clone(),
            end,
        };
        match std::thread::Builder::new()
            .name(format!("worker-{t}"))
            .spawn(move || worker.run())
        {
            Ok(h) => threads.push(h),
            Err(e) => {
                tracing::error!("child {}: cannot create worker thread: {e}", ctx.slot());
                if threads.is_empty() {
                    return exit::CHILD_SICK;
                }
                break;
            }
        }
    }

    let max_conns = ctx.max_connections();
    let mut accepted: u64 = 0;
    let stopping = |accepted: u64| ctx.stop_requested() || (max_conns > 0 && accepted >= max_conns);
    'listen: while !stopping(accepted) {
        // Reserve an idle worker first (waking now and then to check for a stop).
        while !listener.reserve(Duration::from_millis(250)) {
            if stopping(accepted) || threads.iter().all(|h| h.is_finished()) {
                break 'listen;
            }
        }
        loop {
            if stopping(accepted) {
                break 'listen;
            }
            match acceptor.accept(Some(ctx.signals().fd()), IDLE_CHECK) {
                Accepted::Conn(stream, peer) => {
                    accepted += 1;
                    if listener.give((stream, peer)).is_err() {
                        break 'listen;
                    }
                    break;
                }
                Accepted::Woken | Accepted::Nothing => {}
                Accepted::Fatal(e) => {
                    tracing::error!("child {}: accept: {e}", ctx.slot());
                    break 'listen;
                }
            }
        }
    }
    // Graceful child stop: no more accepts; connections in progress finish, each ending
    // with `Connection: close` on its next response.
    let slots = ctx.slots();
    let proc_slot = slots.process();
    proc_slot.set_quiescing(true);
    closing.close();
    drop(listener);
    // Past the master's drain deadline (GracefulShutdownTimeout), kept-alive connections
    // waiting for their next request close now.
    while threads.iter().any(|h| !h.is_finished()) {
        if proc_slot.drain_expired() && !closing.is_expired() {
            closing.expire();
        }
        std::thread::sleep(DRAIN_CHECK);
    }
    for h in threads {
        let _ = h.join();
    }
    0
}

struct Worker {
    handler: Handler,
    opts: HttpOptions,
    observer: SlotObserver,
    closing: Closing,
    end: handoff::Worker<Conn>,
}

impl Worker {
    fn run(self) {
        let rt = match http::current_thread_runtime() {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!("worker {}: cannot create runtime: {e}", self.end.index());
                self.observer.set(WorkerStatus::Dead);
                return;
            }
        };
        loop {
            self.observer.set(if self.closing.is_closed() {
                WorkerStatus::Graceful
            } else {
                WorkerStatus::Ready
            });
            let Some((stream, peer)) = self.end.next() else {
                break;
            };
            mpm_core::kit::serve_connection(
                &rt,
                &self.handler,
                &self.opts,
                &self.observer,
                &self.closing,
                stream,
                peer,
            );
        }
        self.observer.set(WorkerStatus::Dead);
    }
}
