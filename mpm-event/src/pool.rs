//! The worker threads: they run blocking handler calls handed over by the connection layer.
//! Public so that the micro-benchmarks (`extras/benches/micro.rs`) measure this very code.

use ::http::Request;
use crossbeam_channel::{unbounded, Receiver, Sender};
use mpm_core::http::{reply_blocking, reply_stream, Handler, Reply, RequestBody};
use mpm_core::kit::SlotObserver;
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

/// The pool: a queue of jobs and the count of idle workers (for the accept limit).
pub struct Pool {
    jobs: Option<Sender<Job>>,
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
        let (tx, rx) = unbounded::<Job>();
        let idle = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(Notify::new());
        let mut threads = Vec::with_capacity(n);
        for t in 0..n {
            let rx: Receiver<Job> = rx.clone();
            let handler = handler.clone();
            let observer = observers(t);
            let idle = idle.clone();
            let freed = freed.clone();
            let h = std::thread::Builder::new()
                .name(format!("worker-{t}"))
                .spawn(move || {
                    loop {
                        // `G` rather than `_` once the child is stopping, so a job that
                        // ends after a retirement does not show the worker as idle.
                        observer.set_idle();
                        idle.fetch_add(1, Ordering::SeqCst);
                        freed.notify_waiters();
                        let job = next_job(&rx);
                        idle.fetch_sub(1, Ordering::SeqCst);
                        let Ok(job) = job else { break };
                        observer.set(WorkerStatus::BusyWrite);
                        observer.set_client(job.peer);
                        let line = crate::child::request_line(&job.request);
                        mpm_core::http::ConnObserver::request_line(&observer, &line);
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
                        let _ = job.reply.send(reply);
                        mpm_core::http::ConnObserver::request_done(&observer, bytes);
                    }
                    observer.set(WorkerStatus::Dead);
                })?;
            threads.push(h);
        }
        Ok(Pool {
            jobs: Some(tx),
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
    pub fn submitter(&self) -> Option<Sender<Job>> {
        self.jobs.clone()
    }

    /// Let the workers finish the queued jobs, then join them.
    pub fn shutdown(mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The next job, blocking until one comes. A worker does not spin before it sleeps:
/// catching the next job while still running saves two context switches on an idle core,
/// but burns the CPU the connection layer (or the client) needs on a busy one — measured
/// here at 10–15 % more CPU per keep-alive request under load, and no better throughput.
fn next_job(rx: &Receiver<Job>) -> Result<Job, crossbeam_channel::RecvError> {
    rx.recv()
}
