//! The listener → worker hand-off: the listener waits until a worker is idle before each
//! accept (so it accepts only when a worker is free, as Apache's worker listener does),
//! then gives the accepted connection to the worker that went idle last. Built on the
//! kit's idle stack: one wake-up per connection, no spinning.

use mpm_core::kit::{idle_stack, Dispatcher, Waiter};
use std::time::Duration;

/// The listener's end.
pub struct Listener<T> {
    dispatcher: Dispatcher<T>,
}

/// One worker's end.
pub struct Worker<T> {
    index: usize,
    waiter: Waiter<T>,
}

/// The two ends of a hand-off to `n` workers.
pub fn handoff<T>(n: usize) -> (Listener<T>, Vec<Worker<T>>) {
    let (dispatcher, waiters) = idle_stack(n);
    let workers = waiters
        .into_iter()
        .enumerate()
        .map(|(index, waiter)| Worker { index, waiter })
        .collect();
    (Listener { dispatcher }, workers)
}

impl<T> Listener<T> {
    /// Wait up to `timeout` for an idle worker: `false` when none became idle in time (or
    /// none is left).
    pub fn reserve(&self, timeout: Duration) -> bool {
        self.dispatcher.wait_idle(timeout)
    }

    /// Give `item` to the idle worker just reserved; `Err` hands it back when the workers
    /// are stopping.
    pub fn give(&self, item: T) -> Result<(), T> {
        self.dispatcher.send(item)
    }
}

impl<T> Drop for Listener<T> {
    fn drop(&mut self) {
        // Workers waiting for a connection stop.
        self.dispatcher.close();
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
        self.waiter.next(|| {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listener_reserves_only_an_idle_worker_and_gives_it_the_item() {
        let (listener, mut workers) = handoff::<u32>(1);
        assert!(
            !listener.reserve(Duration::from_millis(10)),
            "no worker has asked for work yet"
        );
        let worker = workers.pop().expect("one worker");
        let t = std::thread::spawn(move || (worker.next(), worker.next()));
        assert!(listener.reserve(Duration::from_secs(10)), "idle worker");
        listener.give(7).map_err(|_| "stopping").expect("given");
        assert!(listener.reserve(Duration::from_secs(10)), "idle again");
        drop(listener);
        assert_eq!(t.join().expect("worker"), (Some(7), None));
    }
}
