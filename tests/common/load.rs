//! Continuous client load for lifecycle tests: keep-alive and close clients in threads,
//! counting successes and failures until told to stop.

use super::client::{self, Conn};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Counters and the failures seen, shared with the load threads.
#[derive(Default)]
pub struct Tally {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    /// Responses that carried `Connection: close` (counted by the keep-alive load).
    pub closes: AtomicU64,
    pub errors: Mutex<Vec<String>>,
    pub stop: AtomicBool,
}

impl Tally {
    /// Count a failure and keep the first few messages.
    pub fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        let mut e = self.errors.lock().unwrap();
        if e.len() < 20 {
            e.push(what);
        }
    }
}

/// A running load.
pub struct Load {
    pub tally: Arc<Tally>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// `keepalive` clients reusing connections and `close` clients opening one per request.
    pub fn start(addr: SocketAddr, keepalive: usize, close: usize) -> Load {
        let tally = Arc::new(Tally::default());
        let mut threads = Vec::new();
        for _ in 0..keepalive {
            let t = tally.clone();
            threads.push(std::thread::spawn(move || keepalive_client(addr, &t)));
        }
        for _ in 0..close {
            let t = tally.clone();
            threads.push(std::thread::spawn(move || {
                while !t.stop.load(Ordering::SeqCst) {
                    match client::get(addr, "/") {
                        Ok(r) if r.status == 200 => {
                            t.ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => t.fail(format!("close client: status {}", r.status)),
                        Err(e) => t.fail(format!("close client: {e}")),
                    }
                }
            }));
        }
        Load { tally, threads }
    }

    /// Stop the clients and return (ok, failed, first errors).
    pub fn finish(self) -> (u64, u64, Vec<String>) {
        self.tally.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let errors = self.tally.errors.lock().unwrap().clone();
        (
            self.tally.ok.load(Ordering::SeqCst),
            self.tally.failed.load(Ordering::SeqCst),
            errors,
        )
    }
}

fn keepalive_client(addr: SocketAddr, t: &Tally) {
    let mut conn: Option<Conn> = None;
    while !t.stop.load(Ordering::SeqCst) {
        if conn.is_none() {
            match Conn::open(addr) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    t.fail(format!("keep-alive connect: {e}"));
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connection");
        match c.get("/") {
            Ok(r) if r.status == 200 => {
                t.ok.fetch_add(1, Ordering::SeqCst);
                if r.closes() {
                    conn = None;
                }
            }
            Ok(r) => {
                t.fail(format!("keep-alive: status {}", r.status));
                conn = None;
            }
            Err(e) => {
                t.fail(format!("keep-alive request: {e}"));
                conn = None;
            }
        }
    }
}
