//! The worker threads: they run blocking handler calls handed over by the connection layer.

use ::http::{Request, Response};
use bytes::Bytes;
use crossbeam_channel::{unbounded, Receiver, Sender};
use mpm_core::http::{call_handler, HttpHandler};
use mpm_core::observe::SlotObserver;
use mpm_core::scoreboard::WorkerStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Notify};

/// One handler call waiting for a worker.
pub(crate) struct Job {
    pub(crate) request: Request<Bytes>,
    pub(crate) peer: std::net::SocketAddr,
    pub(crate) reply: oneshot::Sender<Response<Bytes>>,
}

/// The pool: a queue of jobs and the count of idle workers (for the accept limit).
pub(crate) struct Pool {
    jobs: Option<Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    idle: Arc<AtomicUsize>,
    /// Notified whenever a worker becomes idle (the accept limit may have moved).
    pub(crate) freed: Arc<Notify>,
}

impl Pool {
    /// Start `n` workers for `handler`, each writing its status into its scoreboard slot.
    pub(crate) fn start(
        n: usize,
        handler: Arc<dyn HttpHandler>,
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
                        observer.set(WorkerStatus::Ready);
                        idle.fetch_add(1, Ordering::SeqCst);
                        freed.notify_waiters();
                        let job = next_job(&rx);
                        idle.fetch_sub(1, Ordering::SeqCst);
                        let Ok(job) = job else { break };
                        observer.set(WorkerStatus::BusyWrite);
                        observer.set_client(job.peer);
                        let line = format!(
                            "{} {} {:?}",
                            job.request.method(),
                            job.request.uri(),
                            job.request.version()
                        );
                        mpm_core::http::ConnObserver::request_line(&observer, &line);
                        let response = call_handler(handler.as_ref(), job.request);
                        let bytes = http_body_len(&response);
                        let _ = job.reply.send(response);
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
    pub(crate) fn idle(&self) -> usize {
        self.idle.load(Ordering::SeqCst)
    }

    /// A cloneable way to submit jobs.
    pub(crate) fn submitter(&self) -> Option<Sender<Job>> {
        self.jobs.clone()
    }

    /// Let the workers finish the queued jobs, then join them.
    pub(crate) fn shutdown(mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// How long a worker that just finished keeps looking for the next job before it sleeps.
/// Under load the next job is usually there within microseconds: catching it while still
/// running saves two context switches (sleep + wake-up), which dominate the profile of a
/// saturated child otherwise; when idle the cost is this much CPU once per request.
const SPIN_BEFORE_SLEEP: std::time::Duration = std::time::Duration::from_micros(50);

fn next_job(rx: &Receiver<Job>) -> Result<Job, crossbeam_channel::RecvError> {
    let start = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(job) => return Ok(job),
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                return Err(crossbeam_channel::RecvError)
            }
            Err(crossbeam_channel::TryRecvError::Empty) => {
                if start.elapsed() >= SPIN_BEFORE_SLEEP {
                    return rx.recv();
                }
                std::thread::yield_now();
            }
        }
    }
}

fn http_body_len(r: &Response<Bytes>) -> u64 {
    r.body().len() as u64
}
