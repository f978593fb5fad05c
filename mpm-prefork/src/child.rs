//! One prefork child: accept, serve the connection to its end, repeat.

use mpm_core::http::{Closing, HttpOptions};
use mpm_core::kit::{serve_connection, Accepted, Acceptor, ChildContext, SlotObserver};
use mpm_core::mpm::exit;
use mpm_core::scoreboard::WorkerStatus;
use std::time::Duration;

/// How often an idle child looks up from accept to check its master and its slot.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// How often a stopping child looks whether the master's drain deadline has passed.
const DRAIN_CHECK: Duration = Duration::from_millis(100);

pub(crate) fn run(ctx: ChildContext<'_>) -> i32 {
    let rt = match mpm_core::http::current_thread_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("child {}: cannot create runtime: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let mut acceptor = match Acceptor::new(ctx.listeners()) {
        Ok(a) => a.counting(ctx.slots()),
        Err(e) => {
            tracing::error!("child {}: listeners: {e}", ctx.slot());
            return exit::CHILD_SICK;
        }
    };
    let observer = SlotObserver::new(ctx.slots(), 0);
    let opts = HttpOptions::for_child(&ctx);
    // The handler runs on this runtime's only thread, so a task cannot flip `closing`
    // while it runs: the probe lets a graceful stop that arrived meanwhile make this
    // response the connection's last (Connection: close), as Apache's sync path does.
    let closing = Closing::with_probe(ctx.stop_probe());
    // And a graceful stop while a connection waits idle ends the wait.
    watch_graceful(&rt, &ctx, closing.clone());
    let handler = ctx.handler();
    let max_conns = ctx.max_connections();
    let mut served: u64 = 0;
    observer.set(WorkerStatus::Ready);
    loop {
        if ctx.stop_requested() {
            break;
        }
        if max_conns > 0 && served >= max_conns {
            break;
        }
        match acceptor.accept(Some(ctx.signals().fd()), IDLE_CHECK) {
            Accepted::Conn(stream, peer) => {
                served += 1;
                serve_connection(&rt, handler, &opts, &observer, &closing, stream, peer);
                observer.set(WorkerStatus::Closing);
                if ctx.signals().graceful_requested() {
                    break;
                }
                observer.set(WorkerStatus::Ready);
            }
            Accepted::Woken | Accepted::Nothing => {}
            Accepted::Fatal(e) => {
                tracing::error!("child {}: accept: {e}", ctx.slot());
                return exit::CHILD_SICK;
            }
        }
    }
    observer.set(WorkerStatus::Dead);
    0
}

/// Spawn a task (it runs whenever the runtime serves a connection) that flips `closing`
/// when a graceful stop is requested.
fn watch_graceful(rt: &tokio::runtime::Runtime, ctx: &ChildContext<'_>, closing: Closing) {
    // The watch registers with the runtime it is created in.
    let _entered = rt.enter();
    let Ok(watch) = ctx.signals().watch() else {
        return;
    };
    let slots = ctx.slots();
    rt.spawn(async move {
        watch.requested().await;
        closing.close();
        // Past the master's drain deadline (GracefulShutdownTimeout), a kept-alive
        // connection waiting for its next request closes now.
        while !slots.process().drain_expired() {
            tokio::time::sleep(DRAIN_CHECK).await;
        }
        closing.expire();
    });
}
