//! The worker threads: they run blocking handler calls handed over by the connection layer.
//! Public so that the micro-benchmarks (`extras/benches/micro.rs`) measure this very code.

use ::http::Request;
use mpm_core::http::{reply_blocking, reply_stream, Handler, Reply, ReplyWriter, RequestBody};
use mpm_core::kit::SlotObserver;
use mpm_core::kit::{idle_stack, Dispatcher};
use mpm_core::scoreboard::WorkerStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Notify};

/// One handler call waiting for a worker.
pub struct Job {
    /// The request, its body streamed or whole.
    pub request: Request<RequestBody>,
    /// The client.
    pub peer: std::net::SocketAddr,
    /// Where the worker sends the handler's reply.
    pub reply: oneshot::Sender<Reply>,
}

/// The pool: its workers on an idle stack, and their count (for the accept limit).
pub struct Pool {
    jobs: Dispatcher<Job>,
    threads: Vec<std::thread::JoinHandle<()>>,
    idle: Arc<AtomicUsize>,
    /// Notified whenever a worker becomes idle (the accept limit may have moved).
    pub freed: Arc<Notify>,
}

impl Pool {
    /// Start `n` workers for a blocking `handler` ([`Handler::Http`] or
    /// [`Handler::Stream`]), each writing its status into its scoreboard slot.
    pub fn start(
        n: usize,
        handler: Handler,
        observers: impl Fn(usize) -> SlotObserver,
    ) -> std::io::Result<Pool> {
        let (jobs, waiters) = idle_stack::<Job>(n);
        let idle = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(Notify::new());
        let mut threads = Vec::with_capacity(n);
        for (t, waiter) in waiters.into_iter().enumerate() {
            let handler = handler.clone();
            let observer = observers(t);
            let idle = idle.clone();
            let freed = freed.clone();
            let h = std::thread::Builder::new()
                .name(format!("worker-{t}"))
                .spawn(move || {
                    loop {
                        let mut waited = false;
                        let job = waiter.next(|| {
                            // `G` rather than `_` once the child is stopping, so a job
                            // that ends after a retirement does not show the worker as idle.
                            observer.set_idle();
                            idle.fetch_add(1, Ordering::SeqCst);
                            freed.notify_waiters();
                            waited = true;
                        });
                        if waited {
                            idle.fetch_sub(1, Ordering::SeqCst);
                        }
                        let Some(mut job) = job else { break };
                        observer.set(WorkerStatus::BusyWrite);
                        observer.set_client(job.peer);
                        mpm_core::http::observe_request(&observer, &job.request);
                        // A whole response is written from here when the engine allows it:
                        // the connection thread, shared by all of the child's connections,
                        // is spared the write (see `HttpOptions::reply_writer`).
                        let writer = ReplyWriter::take(&mut job.request);
                        let reply = match &handler {
                            Handler::Http(h) => reply_blocking(h.as_ref(), job.request),
                            Handler::Stream(h) => reply_stream(h.as_ref(), job.request),
                            other => {
                                tracing::error!("{other:?} is not a blocking HTTP handler");
                                Reply::Written
                            }
                        };
                        let bytes = match &reply {
                            Reply::Full(r) => r.body().len() as u64,
                            _ => 0,
                        };
                        let reply = match (writer, reply) {
                            (Some(w), Reply::Full(r)) => w.send(r),
                            (_, reply) => reply,
                        };
                        let _ = job.reply.send(reply);
                        mpm_core::http::ConnObserver::request_done(&observer, bytes);
                    }
                    observer.set(WorkerStatus::Dead);
                })?;
            threads.push(h);
        }
        Ok(Pool {
            jobs,
            threads,
            idle,
            freed,
        })
    }

    /// Idle workers right now.
    pub fn idle(&self) -> usize {
        self.idle.load(Ordering::SeqCst)
    }

    /// A cloneable way to submit jobs.
    pub fn submitter(&self) -> Dispatcher<Job> {
        self.jobs.clone()
    }

    /// Let the workers finish the queued jobs, then join them.
    pub fn shutdown(mut self) {
        self.jobs.close();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
