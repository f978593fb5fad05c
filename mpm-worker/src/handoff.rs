//! The listener → worker hand-off: a worker announces it is idle by sending its index on
//! a shared channel; the listener takes one such token before each accept (so it accepts
//! only when a worker is free, as Apache's worker listener does) and passes the accepted
//! connection on that worker's own one-place channel.

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The listener's end.
pub struct Listener<T> {
    idle: Receiver<usize>,
    workers: Vec<Sender<T>>,
}

/// One worker's end.
pub struct Worker<T> {
    index: usize,
    idle: Sender<usize>,
    items: Receiver<T>,
}

/// The two ends of a hand-off to `n` workers.
pub fn handoff<T>(n: usize) -> (Listener<T>, Vec<Worker<T>>) {
    let (idle_tx, idle_rx) = bounded::<usize>(n.max(1));
    let mut workers = Vec::with_capacity(n);
    let mut senders = Vec::with_capacity(n);
    for index in 0..n {
        let (tx, rx) = bounded::<T>(1);
        senders.push(tx);
        workers.push(Worker {
            index,
            idle: idle_tx.clone(),
            items: rx,
        });
    }
    (
        Listener {
            idle: idle_rx,
            workers: senders,
        },
        workers,
    )
}

impl<T> Listener<T> {
    /// Wait up to `timeout` for an idle worker; `Disconnected` once every worker is gone.
    pub fn reserve(&self, timeout: Duration) -> Result<usize, RecvTimeoutError> {
        self.idle.recv_timeout(timeout)
    }

    /// Give `item` to the reserved `worker`; `Err` hands it back if that worker is gone.
    pub fn give(&self, worker: usize, item: T) -> Result<(), T> {
        self.workers[worker].send(item).map_err(|e| e.into_inner())
    }
}

impl<T> Worker<T> {
    /// This worker's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Announce this worker idle and wait for the next item; `None` once the listener's
    /// end is dropped (the child is stopping).
    pub fn next(&self) -> Option<T> {
        self.idle.send(self.index).ok()?;
        self.items.recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_only_to_the_worker_that_announced_itself_idle() {
        let (listener, mut workers) = handoff::<u32>(2);
        let second = workers.pop().expect("two workers");
        let t = std::thread::spawn(move || (second.next(), second.next()));
        let w = listener
            .reserve(Duration::from_secs(10))
            .expect("idle token");
        assert_eq!(w, 1, "only the second worker asked for work");
        listener.give(w, 7).expect("given");
        let again = listener
            .reserve(Duration::from_secs(10))
            .expect("idle again");
        assert_eq!(again, 1);
        drop(listener);
        assert_eq!(t.join().expect("worker"), (Some(7), None));
    }

    #[test]
    fn no_token_without_an_idle_worker() {
        let (listener, _workers) = handoff::<u32>(1);
        assert_eq!(
            listener.reserve(Duration::from_millis(10)),
            Err(RecvTimeoutError::Timeout)
        );
    }
}
