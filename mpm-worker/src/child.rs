//! One worker child: the listener (this process's main thread) and its worker threads.

use crossbeam_channel::{bounded, Receiver, Sender};
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
    // A worker announces it is idle by sending its index here; the listener takes one
    // token before each accept.
    let (idle_tx, idle_rx) = bounded::<usize>(tpc);
    let mut conn_txs: Vec<Sender<Conn>> = Vec::with_capacity(tpc);
    let mut threads = Vec::with_capacity(tpc);
    for t in 0..tpc {
        let (tx, rx) = bounded::<Conn>(1);
        conn_txs.push(tx);
        let worker = Worker {
            index: t,
            handler: ctx.handler().clone(),
            opts: opts.clone(),
            observer: SlotObserver::new(ctx.slots(), t),
            closing: closing.clone(),
            idle: idle_tx.clone(),
            conns: rx,
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
    drop(idle_tx);

    let max_conns = ctx.max_connections();
    let mut accepted: u64 = 0;
    let stopping = |accepted: u64| ctx.stop_requested() || (max_conns > 0 && accepted >= max_conns);
    'listen: while !stopping(accepted) {
        // Reserve an idle worker first (waking now and then to check for a stop).
        let worker = loop {
            match idle_rx.recv_timeout(Duration::from_millis(250)) {
                Ok(w) => break w,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if stopping(accepted) {
                        break 'listen;
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break 'listen,
            }
        };
        loop {
            if stopping(accepted) {
                break 'listen;
            }
            match acceptor.accept(Some(ctx.signals().fd()), IDLE_CHECK) {
                Accepted::Conn(stream, peer) => {
                    accepted += 1;
                    if conn_txs[worker].send((stream, peer)).is_err() {
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
    ctx.slots().process().set_quiescing(true);
    closing.close();
    drop(conn_txs);
    for h in threads {
        let _ = h.join();
    }
    0
}

struct Worker {
    index: usize,
    handler: Handler,
    opts: HttpOptions,
    observer: SlotObserver,
    closing: Closing,
    idle: Sender<usize>,
    conns: Receiver<Conn>,
}

impl Worker {
    fn run(self) {
        let rt = match http::current_thread_runtime() {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!("worker {}: cannot create runtime: {e}", self.index);
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
            if self.idle.send(self.index).is_err() {
                break;
            }
            let Ok((stream, peer)) = self.conns.recv() else {
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
