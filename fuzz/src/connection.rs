//! `http_connection`: whole connections through `serve_lean` over loopback, checked
//! against a model built from the engine's own parsers and the reference chunked decoder.

use crate::input::{limits, Input};
use crate::parsers::REFUSALS;
use crate::reference::{self, RefLimits, RefOutcome};
use crate::responses::{self, show, Resp};
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use mpm_core::http::fuzzing::{self, HeadOutcome};
use mpm_core::http::{serve_lean, BodyMode, Closing, HttpOptions, Reply, ReplyWriter, RequestBody};
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the handler takes request bodies (flags bits 0–1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `BodyMode::Buffered`: the engine reads each body whole before the call.
    Buffered,
    /// `BodyMode::Streamed`, the handler reads the whole body.
    ReadAll,
    /// `BodyMode::Streamed`, the handler reads none of it (the engine drains it).
    NoRead,
    /// `BodyMode::Streamed`, the handler reads one frame.
    ReadFirst,
}

impl Mode {
    /// The mode a flags value selects.
    pub fn of(flags: u8) -> Mode {
        match flags & 3 {
            0 => Mode::Buffered,
            1 => Mode::ReadAll,
            2 => Mode::NoRead,
            _ => Mode::ReadFirst,
        }
    }
    fn body_mode(self) -> BodyMode {
        match self {
            Mode::Buffered => BodyMode::Buffered,
            _ => BodyMode::Streamed,
        }
    }
    /// Whether the handler sees every body whole (so its bytes can be compared).
    fn reads_all(self) -> bool {
        matches!(self, Mode::Buffered | Mode::ReadAll)
    }
}

/// The body limit a flags value selects (bit 4): 64 bytes or 64 KiB.
pub fn body_limit(flags: u8) -> u64 {
    if flags & 0x10 != 0 {
        64
    } else {
        64 * 1024
    }
}

/// Whether a flags value (bit 5) has the handler write its whole responses itself
/// through the request's [`ReplyWriter`] (`HttpOptions::reply_writer`, event's workers).
pub fn reply_writer(flags: u8) -> bool {
    flags & 0x20 != 0
}

/// `MaxKeepAliveRequests` of the rig.
pub const MAX_KEEP_ALIVE: u32 = 10;

/// The options of the rig for a flags value.
pub fn options(flags: u8) -> HttpOptions {
    let limit = body_limit(flags);
    HttpOptions {
        keep_alive: true,
        keep_alive_timeout: Duration::from_secs(2),
        max_keep_alive_requests: MAX_KEEP_ALIVE,
        timeout: Duration::from_secs(2),
        max_body: limit as usize,
        body_limit: Some(limit),
        limits: limits(flags),
        tls: None,
        http2: Default::default(),
        reply_writer: reply_writer(flags),
    }
}

/// One connection never takes longer than this (the client always ends with FIN, so
/// no deadline of the server's should ever be reached).
pub const RUN_DEADLINE: Duration = Duration::from_secs(10);

/// What the handler saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `METHOD target VERSION`, as `fuzzing::head` reports it.
    pub line: String,
    /// The body, in the modes that read it whole: its bytes, or `Err` if reading failed.
    pub body: Option<Result<Vec<u8>, ()>>,
}

/// What one connection did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Everything the server wrote.
    pub out: Vec<u8>,
    /// The requests the handler was called with, in order.
    pub seen: Vec<Seen>,
}

struct Rig {
    rt: tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
}

thread_local! {
    static RIG: RefCell<Option<Rig>> = const { RefCell::new(None) };
}

/// The next frame of a body.
async fn frame(body: &mut RequestBody) -> Option<Result<http_body::Frame<Bytes>, ()>> {
    std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx))
        .await
        .map(|r| r.map_err(|_| ()))
}

/// The handler: records the request (reading its body as `mode` says), answers 200 with
/// an empty body (written through the request's [`ReplyWriter`] when the engine offers
/// one).
async fn handle(mode: Mode, seen: Rc<RefCell<Vec<Seen>>>, mut req: Request<RequestBody>) -> Reply {
    let writer = ReplyWriter::take(&mut req);
    let (parts, mut body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let line = format!("{} {target} {:?}", parts.method, parts.version);
    let read = match mode {
        Mode::Buffered | Mode::ReadAll => {
            let mut data = Vec::new();
            let mut result = Ok(());
            while let Some(f) = frame(&mut body).await {
                match f {
                    Ok(f) => {
                        if let Some(d) = f.data_ref() {
                            data.extend_from_slice(d);
                        }
                    }
                    Err(()) => {
                        result = Err(());
                        break;
                    }
                }
            }
            Some(result.map(|()| data))
        }
        Mode::ReadFirst => {
            let _ = frame(&mut body).await;
            None
        }
        Mode::NoRead => None,
    };
    seen.borrow_mut().push(Seen { line, body: read });
    let resp = Response::new(Bytes::new());
    match writer {
        Some(w) => w.send(resp),
        None => Reply::Full(resp),
    }
}

/// Serve one connection whose client sends `pieces` one after the other (letting the
/// server read each before the next is written), then FIN, and reads everything.
pub fn run(pieces: &[&[u8]], flags: u8) -> Run {
    RIG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rig = slot.get_or_insert_with(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind 127.0.0.1:0");
            Rig { rt, listener }
        });
        let Rig { rt, listener } = rig;
        let opts = options(flags);
        let mode = Mode::of(flags);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let out = rt.block_on(async {
            let addr = listener.local_addr().expect("local addr");
            let go = async {
                let client = tokio::net::TcpStream::connect(addr).await.expect("connect");
                let (server, peer) = listener.accept().await.expect("accept");
                let closing = Closing::new();
                let call = |req| handle(mode, seen.clone(), req);
                let serve = serve_lean(server, peer, &opts, mode.body_mode(), call, &(), &closing);
                let talk = async move {
                    let (mut r, mut w) = client.into_split();
                    let write = async {
                        for (i, p) in pieces.iter().enumerate() {
                            if i > 0 {
                                // Let the server read what was written before writing more.
                                for _ in 0..4 {
                                    tokio::task::yield_now().await;
                                }
                            }
                            if w.write_all(p).await.is_err() {
                                return;
                            }
                        }
                        let _ = w.shutdown().await;
                    };
                    let read = async {
                        let mut answer = Vec::new();
                        let _ = r.read_to_end(&mut answer).await;
                        answer
                    };
                    tokio::join!(write, read).1
                };
                tokio::join!(serve, talk).1
            };
            tokio::time::timeout(RUN_DEADLINE, go)
                .await
                .expect("a connection outlived its deadline although the client sent FIN")
        });
        let seen = seen.borrow().clone();
        Run { out, seen }
    })
}

/// What the model predicts for a connection.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Final responses: status and `Connection: close`.
    pub answers: Vec<(u16, bool)>,
    /// The handler calls.
    pub seen: Vec<Seen>,
    /// For each handler call: whether the request asks for `100-continue` and has a body
    /// to come (the one case where the engine may close early, depending on whether any
    /// of the body had arrived when the handler answered).
    pub continue_body: Vec<bool>,
    /// For each handler call whose body the model could frame: where the request starts,
    /// where its head ends, where its body ends, and whether the body is chunked.
    pub spans: Vec<Option<Span>>,
    /// Where the last head starts if it was not accepted (incomplete or refused).
    pub final_head_at: Option<usize>,
}

/// Where a request lies in the connection's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its first byte.
    pub start: usize,
    /// The end of its head (where the body starts).
    pub head_end: usize,
    /// The end of its body.
    pub end: usize,
    /// The body is chunked.
    pub chunked: bool,
}

/// Whether a head (its bytes) has an `Expect` field (the engine accepts only
/// `100-continue`, so an accepted head with one asks for it).
fn has_expect(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .skip(1)
        .any(|l| l.len() >= 7 && l[..7].eq_ignore_ascii_case(b"expect:"))
}

/// The model: the connection as the engine's head parser (`fuzzing::head`) and the
/// reference chunked decoder frame `bytes`, request after request.
pub fn model(bytes: &[u8], flags: u8) -> Model {
    let l = limits(flags);
    let limit = body_limit(flags);
    let mode = Mode::of(flags);
    let mut m = Model::default();
    let mut pos = 0;
    let mut n = 0u32;
    loop {
        let rest = &bytes[pos..];
        if rest.is_empty() {
            break;
        }
        let (head_len, body_len, client_close, line) = match fuzzing::head(rest, &[], &l) {
            // The client closed in the middle of a head: no answer.
            HeadOutcome::Partial => {
                m.final_head_at = Some(pos);
                break;
            }
            HeadOutcome::Refused(s) => {
                m.final_head_at = Some(pos);
                m.answers.push((s, true));
                break;
            }
            HeadOutcome::Accepted {
                head_len,
                body_len,
                close,
                line,
            } => (head_len, body_len, close, line),
        };
        n += 1;
        let close = client_close || n >= MAX_KEEP_ALIVE;
        let after = &rest[head_len..];
        // The body: its data and length, or the status that refuses it.
        let body: Result<(Vec<u8>, usize), u16> = match body_len {
            Some(len) if len > limit => {
                // Refused before the handler is called, in every mode.
                m.answers.push((413, true));
                break;
            }
            Some(len) if (after.len() as u64) < len => Err(400),
            Some(len) => Ok((after[..len as usize].to_vec(), len as usize)),
            None => match reference::decode(after, &RefLimits::of(&l, Some(limit))) {
                RefOutcome::Complete { data, consumed, .. } => Ok((data, consumed)),
                // The client closed in the middle of the body: an incomplete message.
                RefOutcome::Partial(_) => Err(400),
                RefOutcome::Refused(s) => Err(s),
            },
        };
        let span = |body: &Result<(Vec<u8>, usize), u16>| {
            body.as_ref().ok().map(|(_, used)| Span {
                start: pos,
                head_end: pos + head_len,
                end: pos + head_len + used,
                chunked: body_len.is_none(),
            })
        };
        let continue_body =
            has_expect(&rest[..head_len]) && line.ends_with("HTTP/1.1") && body_len != Some(0);
        match mode {
            Mode::Buffered => {
                if let Ok((data, _)) = &body {
                    m.seen.push(Seen {
                        line,
                        body: Some(Ok(data.clone())),
                    });
                    m.continue_body.push(continue_body);
                    m.spans.push(span(&body));
                }
            }
            _ => {
                let read = match (mode, &body) {
                    (Mode::ReadAll, Ok((data, _))) => Some(Ok(data.clone())),
                    (Mode::ReadAll, Err(_)) => Some(Err(())),
                    _ => None,
                };
                m.seen.push(Seen { line, body: read });
                m.continue_body.push(continue_body);
                m.spans.push(span(&body));
                if mode == Mode::NoRead && continue_body && after.is_empty() {
                    // Nothing of the body arrived and nobody asked for it: the client
                    // may still be waiting for 100 Continue, so the connection ends.
                    m.answers.push((200, true));
                    break;
                }
            }
        }
        match body {
            Ok((_, used)) => {
                m.answers.push((200, close));
                if close {
                    break;
                }
                pos += head_len + used;
            }
            Err(s) => {
                m.answers.push((s, true));
                break;
            }
        }
    }
    m
}

/// The answers in a run's output, checked for well-formedness: complete responses, a
/// known status, a refusal always closing, nothing after a closing response.
fn answers(run: &Run, what: &str, bytes: &[u8]) -> Vec<(u16, bool)> {
    let (list, _interim) = responses::parse(&run.out).unwrap_or_else(|e| {
        panic!("{what}: {e}\nrequest bytes: {:?}", show(bytes));
    });
    for (i, Resp { status, close, .. }) in list.iter().enumerate() {
        assert!(
            *status == 200 || REFUSALS.contains(status),
            "{what}: unexpected status {status} for {:?}",
            show(bytes)
        );
        assert!(
            *status < 400 || *close,
            "{what}: a refusal ({status}) that keeps the connection: {:?}",
            show(bytes)
        );
        assert!(
            !(*close || *status >= 400) || i + 1 == list.len(),
            "{what}: {} more response(s) after a closing {status}: {:?}",
            list.len() - i - 1,
            show(bytes)
        );
    }
    list.iter().map(|r| (r.status, r.close)).collect()
}

/// `http_connection`: see the README. Panics on any violation.
pub fn http_connection(data: &[u8]) {
    let input = Input::parse(data);
    let bytes = input.bytes;
    let flags = input.flags;
    let mode = Mode::of(flags);
    let expected = model(bytes, flags);

    // Fed whole: exactly what the model says.
    let whole = run(&[bytes], flags);
    let got = answers(&whole, "whole", bytes);
    {
        assert_eq!(
            got,
            expected.answers,
            "whole: answers differ from the model (flags {flags:#x}): {:?}",
            show(bytes)
        );
        assert_eq!(
            whole.seen,
            expected.seen,
            "whole: the handler saw other requests than the model frames (flags {flags:#x}): {:?}",
            show(bytes)
        );
    }

    // Fed in pieces: the same, but for the early close of a 100-continue request whose
    // body had not arrived when its handler answered without reading it.
    let pieces = input.pieces();
    if pieces.len() < 2 {
        return;
    }
    let split = run(&pieces, flags);
    let got_split = answers(&split, "split", bytes);
    let same_seen = |a: &[Seen], b: &[Seen]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.line == y.line && (!mode.reads_all() || x.body == y.body))
    };
    if got_split == got && same_seen(&split.seen, &whole.seen) {
        return;
    }
    // The early close of a 100-continue request whose body had not arrived when its
    // handler answered without reading it.
    let k = got_split.len().saturating_sub(1);
    let early_close = mode == Mode::NoRead
        && cut_at_continue(&got_split, &got, &expected.continue_body)
        && split.seen.len() == k + 1
        && whole.seen.len() > k
        && same_seen(&split.seen, &whole.seen[..k + 1]);
    assert!(
        early_close,
        "split at {:?}: answers {got_split:?} / handler saw {:?}, fed whole: {got:?} / {:?}, \
         model: {:?} (flags {flags:#x}): {:?}",
        input.cuts,
        split.seen,
        whole.seen,
        expected.answers,
        show(bytes)
    );
}

/// Whether `got` is `reference` cut short by a `200` with `Connection: close` at a request
/// that asked for `100-continue` and has a body to come (the answers before it equal).
fn cut_at_continue(got: &[(u16, bool)], reference: &[(u16, bool)], continue_body: &[bool]) -> bool {
    let Some((&last, before)) = got.split_last() else {
        return false;
    };
    let k = before.len();
    last == (200, true)
        && continue_body.get(k) == Some(&true)
        && reference.len() > k
        && reference[..k] == *before
}
