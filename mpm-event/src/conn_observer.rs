//! Per-connection scoreboard accounting for the event child: the process record's
//! ConnsTotal / ConnsAsyncKeepAlive / ConnsAsyncWriting / ConnsAsyncClosing counters.

use mpm_core::http::ConnObserver;
use mpm_core::scoreboard::{Scoreboard, WorkerStatus};
use std::cell::Cell;

/// Which async counter a connection is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bucket {
    None,
    KeepAlive,
    Writing,
    Closing,
}

/// Tracks one connection; dropping it takes the connection out of every counter.
pub(crate) struct ConnCounters {
    scoreboard: Scoreboard,
    slot: usize,
    bucket: Cell<Bucket>,
}

impl ConnCounters {
    pub(crate) fn open(scoreboard: Scoreboard, slot: usize) -> ConnCounters {
        scoreboard.process(slot).add_connections(1);
        ConnCounters {
            scoreboard,
            slot,
            bucket: Cell::new(Bucket::None),
        }
    }

    fn move_to(&self, next: Bucket) {
        let prev = self.bucket.replace(next);
        if prev == next {
            return;
        }
        let p = self.scoreboard.process(self.slot);
        match prev {
            Bucket::KeepAlive => p.sub_keep_alive(1),
            Bucket::Writing => p.sub_writing(1),
            Bucket::Closing => p.sub_closing(1),
            Bucket::None => {}
        }
        match next {
            Bucket::KeepAlive => p.add_keep_alive(1),
            Bucket::Writing => p.add_writing(1),
            Bucket::Closing => p.add_closing(1),
            Bucket::None => {}
        }
    }
}

impl ConnObserver for ConnCounters {
    fn status(&self, s: WorkerStatus) {
        self.move_to(match s {
            WorkerStatus::BusyKeepalive => Bucket::KeepAlive,
            WorkerStatus::Closing => Bucket::Closing,
            _ => Bucket::None,
        });
    }

    fn request_line(&self, _line: &str) {}

    fn request_done(&self, _bytes: u64) {}
}

impl Drop for ConnCounters {
    fn drop(&mut self) {
        self.move_to(Bucket::None);
        self.scoreboard.process(self.slot).sub_connections(1);
    }
}
