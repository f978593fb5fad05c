//! Per-connection scoreboard accounting for the event child: the process record's
//! ConnsTotal / ConnsAsyncKeepAlive / ConnsAsyncWriting / ConnsAsyncClosing counters.

use mpm_core::http::ConnObserver;
use mpm_core::kit::{ChildSlots, WorkerStatus};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// Which async counter a connection is in.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Bucket {
    None = 0,
    KeepAlive = 1,
    Writing = 2,
    Closing = 3,
    /// Waiting for or reading a request head: no worker is involved yet.
    Reading = 4,
}

impl Bucket {
    fn from_u8(v: u8) -> Bucket {
        match v {
            1 => Bucket::KeepAlive,
            2 => Bucket::Writing,
            3 => Bucket::Closing,
            4 => Bucket::Reading,
            _ => Bucket::None,
        }
    }
}

/// Tracks one connection; dropping it takes the connection out of every counter.
pub(crate) struct ConnCounters {
    slots: ChildSlots,
    bucket: AtomicU8,
    /// Connections that do not count against the accept limit: lingering close, and
    /// waiting for or reading a request head.
    exempt: Arc<AtomicUsize>,
}

impl ConnCounters {
    pub(crate) fn open(slots: ChildSlots, exempt: Arc<AtomicUsize>) -> ConnCounters {
        slots.process().add_connections(1);
        exempt.fetch_add(1, Ordering::Relaxed);
        ConnCounters {
            slots,
            bucket: AtomicU8::new(Bucket::Reading as u8),
            exempt,
        }
    }

    fn move_to(&self, next: Bucket) {
        let prev = Bucket::from_u8(self.bucket.swap(next as u8, Ordering::Relaxed));
        if prev == next {
            return;
        }
        let p = self.slots.process();
        match prev {
            Bucket::KeepAlive => p.sub_keep_alive(1),
            Bucket::Writing => p.sub_writing(1),
            Bucket::Closing => {
                p.sub_closing(1);
                self.exempt.fetch_sub(1, Ordering::Relaxed);
            }
            Bucket::Reading => {
                self.exempt.fetch_sub(1, Ordering::Relaxed);
            }
            Bucket::None => {}
        }
        match next {
            Bucket::KeepAlive => p.add_keep_alive(1),
            Bucket::Writing => p.add_writing(1),
            Bucket::Closing => {
                p.add_closing(1);
                self.exempt.fetch_add(1, Ordering::Relaxed);
            }
            Bucket::Reading => {
                self.exempt.fetch_add(1, Ordering::Relaxed);
            }
            Bucket::None => {}
        }
    }
}

impl ConnObserver for ConnCounters {
    fn status(&self, s: WorkerStatus) {
        self.move_to(match s {
            WorkerStatus::BusyKeepalive => Bucket::KeepAlive,
            WorkerStatus::Closing => Bucket::Closing,
            WorkerStatus::BusyRead => Bucket::Reading,
            _ => Bucket::None,
        });
    }

    fn request_line(&self, _line: &str) {}

    // The worker slot that serves the request records it (`pool`, `inline`).
    fn request_head(&self, _: &::http::Method, _: &str, _: ::http::Version) {}

    fn request_done(&self, _bytes: u64) {}

    fn response_writing(&self) {
        self.move_to(Bucket::Writing);
    }
}

impl Drop for ConnCounters {
    fn drop(&mut self) {
        self.move_to(Bucket::None);
        self.slots.process().sub_connections(1);
    }
}
