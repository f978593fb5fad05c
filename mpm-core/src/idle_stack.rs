//! Handing work to threads one item at a time: idle workers wait on a stack, each on its
//! own mailbox, and an item wakes exactly one of them — the one that went idle last, whose
//! cache is warmest — as Apache keeps its idle workers. The event strategy queues handler
//! calls here; the worker strategy's listener waits for an idle worker
//! ([`Dispatcher::wait_idle`]) before it accepts, then gives it the connection.
//!
//! Why not one shared channel: with ThreadsPerChild threads waiting on the same queue,
//! every worker that finds it empty spins and yields before it sleeps (a profile of a
//! keep-alive load showed 4–5 % of the child in `sched_yield` and half of it switching
//! tasks); on two busy cores that is CPU taken from the connection layer and the client.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// The dispatching side: cloneable, one per connection task if need be.
pub struct Dispatcher<T> {
    shared: Arc<Shared<T>>,
}

/// One worker's side.
pub struct Waiter<T> {
    index: usize,
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when a watched worker goes idle.
    went_idle: Condvar,
    mailboxes: Vec<Mailbox<T>>,
}

struct State<T> {
    /// Idle workers, the most recently idle last.
    idle: Vec<usize>,
    /// Jobs that found no idle worker, oldest first.
    backlog: VecDeque<T>,
    /// No more jobs: waiting workers are told to stop once the backlog is empty.
    closed: bool,
    /// Someone waits in [`Dispatcher::wait_idle`]: a worker going idle must say so.
    watched: bool,
}

struct Mailbox<T> {
    slot: Mutex<Delivery<T>>,
    ready: Condvar,
}

enum Delivery<T> {
    Empty,
    Job(T),
    Closed,
}

fn lock<U>(m: &Mutex<U>) -> MutexGuard<'_, U> {
    // A panic while holding these locks cannot leave the state half-updated (each update
    // is one push or pop), so a poisoned lock is still consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A dispatcher and `n` workers' waiting ends.
pub fn idle_stack<T>(n: usize) -> (Dispatcher<T>, Vec<Waiter<T>>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            idle: Vec::with_capacity(n),
            backlog: VecDeque::new(),
            closed: false,
            watched: false,
        }),
        went_idle: Condvar::new(),
        mailboxes: (0..n)
            .map(|_| Mailbox {
                slot: Mutex::new(Delivery::Empty),
                ready: Condvar::new(),
            })
            .collect(),
    });
    let waiters = (0..n)
        .map(|index| Waiter {
            index,
            shared: shared.clone(),
        })
        .collect();
    (Dispatcher { shared }, waiters)
}

impl<T> Clone for Dispatcher<T> {
    fn clone(&self) -> Self {
        Dispatcher {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Dispatcher<T> {
    /// Give `job` to the most recently idle worker, or queue it until one is free.
    /// `Err` hands it back once [`close`](Self::close) was called.
    pub fn send(&self, job: T) -> Result<(), T> {
        let mut state = lock(&self.shared.state);
        if state.closed {
            return Err(job);
        }
        match state.idle.pop() {
            Some(w) => {
                drop(state);
                let mailbox = &self.shared.mailboxes[w];
                *lock(&mailbox.slot) = Delivery::Job(job);
                mailbox.ready.notify_one();
            }
            None => state.backlog.push_back(job),
        }
        Ok(())
    }

    /// Wait up to `timeout` until a worker is idle; `false` if none became idle in time, or
    /// if every worker has stopped. A worker found idle here stays idle until the next
    /// [`send`](Self::send) when this is the only dispatcher.
    pub fn wait_idle(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = lock(&self.shared.state);
        loop {
            if !state.idle.is_empty() {
                return true;
            }
            let now = std::time::Instant::now();
            if now >= deadline || Arc::strong_count(&self.shared) <= 1 {
                return false;
            }
            state.watched = true;
            state = self
                .shared
                .went_idle
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Workers waiting for a job right now.
    pub fn idle(&self) -> usize {
        lock(&self.shared.state).idle.len()
    }

    /// No more jobs: the queued ones are still run, then every worker's
    /// [`next`](Waiter::next) returns `None`.
    pub fn close(&self) {
        let mut state = lock(&self.shared.state);
        state.closed = true;
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        for w in idle {
            let mailbox = &self.shared.mailboxes[w];
            *lock(&mailbox.slot) = Delivery::Closed;
            mailbox.ready.notify_one();
        }
    }
}

impl<T> Waiter<T> {
    /// The next job: a queued one at once, else wait on the idle stack until one is given.
    /// `None` once the dispatcher is closed and nothing is queued. `on_idle` runs (outside
    /// every lock) when this worker has joined the idle stack, before it sleeps.
    pub fn next(&self, on_idle: impl FnOnce()) -> Option<T> {
        let mut state = lock(&self.shared.state);
        if let Some(job) = state.backlog.pop_front() {
            return Some(job);
        }
        if state.closed {
            return None;
        }
        state.idle.push(self.index);
        if std::mem::take(&mut state.watched) {
            self.shared.went_idle.notify_all();
        }
        drop(state);
        on_idle();
        let mailbox = &self.shared.mailboxes[self.index];
        let mut slot = lock(&mailbox.slot);
        loop {
            match std::mem::replace(&mut *slot, Delivery::Empty) {
                Delivery::Job(job) => return Some(job),
                Delivery::Closed => return None,
                Delivery::Empty => {
                    slot = mailbox
                        .ready
                        .wait(slot)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_job_goes_to_the_worker_that_went_idle_last() {
        let (d, waiters) = idle_stack::<u32>(2);
        let (tx, rx) = mpsc::channel();
        let (idle_tx, idle_rx) = mpsc::channel();
        let mut threads = Vec::new();
        for w in waiters {
            let tx = tx.clone();
            let idle_tx = idle_tx.clone();
            threads.push(std::thread::spawn(move || {
                let i = w.index;
                while let Some(job) = w.next(|| idle_tx.send(i).expect("idle")) {
                    tx.send((i, job)).expect("result");
                }
            }));
            // One at a time, so the order on the stack is known: 0, then 1.
            idle_rx.recv_timeout(Duration::from_secs(10)).expect("idle");
        }
        d.send(5).expect("open");
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((1, 5)));
        assert_eq!(idle_rx.recv_timeout(Duration::from_secs(10)), Ok(1));
        assert_eq!(d.idle(), 2);
        d.close();
        for t in threads {
            t.join().expect("worker");
        }
        assert_eq!(d.send(6), Err(6));
    }

    #[test]
    fn wait_idle_is_woken_by_a_worker_going_idle_and_false_before() {
        let (d, mut waiters) = idle_stack::<u32>(1);
        assert!(
            !d.wait_idle(Duration::from_millis(20)),
            "no worker asked yet"
        );
        let w = waiters.pop().expect("one");
        let t = std::thread::spawn(move || w.next(|| {}));
        let started = std::time::Instant::now();
        assert!(d.wait_idle(Duration::from_secs(60)), "the worker went idle");
        // Woken by the worker, not by the end of the wait.
        assert!(started.elapsed() < Duration::from_secs(30));
        d.send(3).map_err(|_| "closed").expect("open");
        assert_eq!(t.join().expect("worker"), Some(3));
    }

    #[test]
    fn wait_idle_gives_up_at_once_when_every_worker_is_gone() {
        let (d, waiters) = idle_stack::<u32>(2);
        drop(waiters);
        let started = std::time::Instant::now();
        assert!(!d.wait_idle(Duration::from_secs(60)));
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn jobs_without_an_idle_worker_wait_and_run_in_order_even_after_close() {
        let (d, mut waiters) = idle_stack::<u32>(1);
        d.send(1).expect("open");
        d.send(2).expect("open");
        d.close();
        let w = waiters.pop().expect("one");
        assert_eq!(w.next(|| {}), Some(1));
        assert_eq!(w.next(|| {}), Some(2));
        assert_eq!(w.next(|| {}), None);
    }
}
