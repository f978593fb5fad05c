//! Keep-alive clients cycling through a list of paths, for graceful-restart tests: every
//! response is checked, and a response that ends the connection (`Connection: close`)
//! must be followed by a clean end-of-file, never a reset or stray bytes.

use super::client::Conn;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::load::Tally;

/// What a finished load saw.
#[derive(Debug)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    pub closes: u64,
    pub errors: Vec<String>,
}

/// Running keep-alive clients.
pub struct KeepAliveLoad {
    pub tally: Arc<Tally>,
    threads: Vec<JoinHandle<()>>,
}

impl KeepAliveLoad {
    /// `clients` threads; client `i` requests `paths[(i + n) % len]` as its n-th request.
    pub fn start(addr: SocketAddr, clients: usize, paths: &[&'static str]) -> KeepAliveLoad {
        let tally = Arc::new(Tally::default());
        let paths: Arc<Vec<&'static str>> = Arc::new(paths.to_vec());
        let threads = (0..clients)
            .map(|i| {
                let t = tally.clone();
                let paths = paths.clone();
                std::thread::spawn(move || client(addr, i, &paths, &t))
            })
            .collect();
        KeepAliveLoad { tally, threads }
    }

    pub fn ok(&self) -> u64 {
        self.tally.ok.load(Ordering::SeqCst)
    }

    pub fn closes(&self) -> u64 {
        self.tally.closes.load(Ordering::SeqCst)
    }

    /// Stop the clients (each finishes its request in flight) and report.
    pub fn finish(self) -> Outcome {
        self.tally.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        Outcome {
            ok: self.tally.ok.load(Ordering::SeqCst),
            failed: self.tally.failed.load(Ordering::SeqCst),
            closes: self.tally.closes.load(Ordering::SeqCst),
            errors: self.tally.errors.lock().unwrap().clone(),
        }
    }
}

fn client(addr: SocketAddr, i: usize, paths: &[&'static str], t: &Tally) {
    let mut conn: Option<Conn> = None;
    let mut n = i;
    while !t.stop.load(Ordering::SeqCst) {
        if conn.is_none() {
            match Conn::open(addr) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    t.fail(format!("client {i}: connect: {e}"));
                    continue;
                }
            }
        }
        let path = paths[n % paths.len()];
        n += 1;
        let c = conn.as_mut().expect("connection");
        match c.get(path) {
            Ok(r) if r.status == 200 => {
                t.ok.fetch_add(1, Ordering::SeqCst);
                if r.closes() {
                    match c.closed_cleanly() {
                        Ok(true) => {
                            t.closes.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(false) => t.fail(format!("client {i}: bytes after a close response")),
                        Err(e) => t.fail(format!("client {i}: after a close response: {e}")),
                    }
                    conn = None;
                }
            }
            Ok(r) => {
                t.fail(format!("client {i}: {path}: status {}", r.status));
                conn = None;
            }
            Err(e) => {
                t.fail(format!("client {i}: {path}: {e}"));
                conn = None;
            }
        }
    }
}
