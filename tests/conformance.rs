//! The HTTP/1.1 request-framing conformance corpus (`tests/conformance/cases/*.txt`), run as
//! raw bytes against the real `httpd` example under every strategy and handler kind.
//!
//! Each case stores what our engine must do and what Apache 2.4 and nginx did with the same
//! bytes (filled in by `benches/conformance.sh`), so a framing choice is always made
//! knowing how the two servers deployed in front of or behind us read the same request:
//! where they disagree with us is where request smuggling lives. Two checks per run:
//!
//! * the outcome equals `expect:`;
//! * we are never looser than both: if Apache and nginx both refused a request, we must
//!   not answer it with a 2xx, and we must never answer more requests on a connection
//!   than both of them did (that extra answer is a smuggled request).
//!
//! Useful knobs: `MPM_CONFORMANCE_FILTER=substring` runs only matching cases,
//! `MPM_CONFORMANCE_SILENCE_MS` changes how long a quiet connection is waited on,
//! `MPM_CONFORMANCE_BLESS=1` rewrites the generated files (`generated_families_are_current`).

mod common;
#[path = "conformance/corpus.rs"]
mod corpus;
#[path = "conformance/generate.rs"]
mod generate;
#[path = "conformance/run.rs"]
mod run;

use common::Server;
use corpus::{Block, Case, CaseFile, Outcome};
use run::{run_case, Got, Timing};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const STRATEGIES: &[&str] = &["prefork", "worker", "event"];

/// The handler kinds, as the extra command-line arguments that select each in the example
/// (the engine frames requests the same way for all of them, and this checks that it does).
/// Every case runs under every strategy × every kind: when the example grows a kind, add
/// its arguments here — one line.
const HANDLER_KINDS: &[&[&str]] = &[
    &["--handler", "blocking"],
    &["--handler", "stream"],
    &["--handler", "async"],
    &["--handler", "tower"],
];

/// Client threads per server. Every case opens its own connection and most end in a few
/// milliseconds; the few a server keeps open cost a silence window each, so they overlap.
const CLIENTS_PER_SERVER: usize = 8;

/// Enough idle capacity that every client connection is served at once (a connection
/// queued behind busy workers would look like a server that stays silent).
fn server_conf(mpm: &str) -> &'static str {
    match mpm {
        "prefork" => {
            "StartServers 10\nMinSpareServers 10\nMaxSpareServers 20\nMaxRequestWorkers 32\n"
        }
        _ => {
            "StartServers 2\nServerLimit 4\nThreadLimit 16\nThreadsPerChild 16\n\
             MinSpareThreads 16\nMaxSpareThreads 64\nMaxRequestWorkers 64\n"
        }
    }
}

/// Every case of the corpus, in file order, with the file it came from.
fn load_cases() -> Vec<(String, Case)> {
    let files = CaseFile::read_all().unwrap_or_else(|e| panic!("{e}"));
    let filter = std::env::var("MPM_CONFORMANCE_FILTER").unwrap_or_default();
    files
        .iter()
        .flat_map(|f| f.cases().map(move |c| (f.file_name(), c.clone())))
        .filter(|(_, c)| c.name.contains(&filter))
        .collect()
}

/// Run `cases` against `addr` over `threads` client threads; results in case order.
fn run_all(
    addr: SocketAddr,
    cases: &[&Case],
    threads: usize,
    timing: Timing,
) -> Vec<Result<Got, String>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Got, String>>>> =
        cases.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let r = run_case(addr, case, timing).map_err(|e| format!("{addr}: {e}"));
                *results[i].lock().unwrap() = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap().expect("every case ran"))
        .collect()
}

/// Why a run of `case` that gave `got` is looser than both reference servers, if it is.
fn looser_than_both(case: &Case, got: &Outcome) -> Option<String> {
    let (a, n) = (case.apache.as_ref()?, case.nginx.as_ref()?);
    if a.refused() && n.refused() && got.answered() {
        return Some(format!(
            "Apache ({a}) and nginx ({n}) both refused it, we answered ({got})"
        ));
    }
    let most = a.answers().max(n.answers());
    if got.answers() > most {
        return Some(format!(
            "we answered {} requests, Apache ({a}) and nginx ({n}) at most {most}: a smuggled request",
            got.answers()
        ));
    }
    None
}

/// The harness itself: a byte escape that did not round-trip, or a response parser that
/// miscounted, would make every case's verdict wrong at once.
#[test]
fn escapes_round_trip_and_responses_are_counted() {
    let all: Vec<u8> = (0..=255u8).chain([b' '; 40]).chain([b'}'; 33]).collect();
    assert_eq!(corpus::unescape(&corpus::escape(&all)).unwrap(), all);
    assert_eq!(
        corpus::unescape(r"\{2:a\{3:b}}c\x7d").unwrap(),
        b"abbbabbbc}".to_vec()
    );
    let ok = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    let chunked =
        "HTTP/1.1 404 NF\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n";
    let interim = "HTTP/1.1 100 Continue\r\n\r\n";
    let two = format!("{interim}{ok}{chunked}");
    assert_eq!(
        run::parse_responses(two.as_bytes(), false),
        (vec![200, 404], false)
    );
    assert_eq!(
        run::parse_responses(b"Hello, world!\n", false),
        (vec![], true)
    );
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
    assert_eq!(
        run::parse_responses(format!("{head}{head}").as_bytes(), true),
        (vec![200, 200], false)
    );
    assert_eq!(
        run::parse_responses(&ok.as_bytes()[..ok.len() - 1], false),
        (vec![], true)
    );
    let o = Outcome::parse("200 garbage close").unwrap();
    assert_eq!(
        (o.to_string().as_str(), o.answers()),
        ("200 garbage close", 1)
    );
    assert_eq!(Outcome::parse("none keep").unwrap().answers(), 0);
}

/// Every file must be exactly what the writer produces, so that a refresh (which parses
/// and rewrites every file) changes nothing but the apache:/nginx: lines.
#[test]
fn corpus_files_parse_and_are_canonical() {
    let files = CaseFile::read_all().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !files.is_empty(),
        "no case files in {}",
        corpus::cases_dir().display()
    );
    let mut names = HashSet::new();
    let mut problems = Vec::new();
    for f in &files {
        let on_disk = std::fs::read_to_string(&f.path).unwrap();
        if on_disk != f.text() {
            problems.push(format!(
                "{}: not in canonical form (keys in order, one blank line between blocks)",
                f.file_name()
            ));
        }
        for c in f.cases() {
            if !names.insert(c.name.clone()) {
                problems.push(format!("{}: duplicate case name {}", f.file_name(), c.name));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `gen-*.txt` files are the generator's output plus the stored reference outcomes.
/// With `MPM_CONFORMANCE_BLESS=1` this rewrites them, keeping a case's reference outcomes
/// when its bytes did not change.
#[test]
fn generated_families_are_current() {
    let bless = std::env::var("MPM_CONFORMANCE_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for family in generate::families() {
        let path = corpus::cases_dir().join(family.file);
        let old: HashMap<String, Case> = CaseFile::read(&path)
            .map(|f| f.cases().map(|c| (c.name.clone(), c.clone())).collect())
            .unwrap_or_default();
        let mut blocks = vec![Block::Comment(
            [
                format!(
                    "# {} — generated by tests/conformance/generate.rs; edit the generator",
                    family.file
                ),
                "# and run `MPM_CONFORMANCE_BLESS=1 cargo test --test conformance generated`."
                    .into(),
                "# The apache:/nginx: lines are written by benches/conformance.sh.".into(),
                "#".into(),
            ]
            .into_iter()
            .chain(family.about.iter().map(|l| format!("# {l}")))
            .collect(),
        )];
        let mut current = true;
        for mut case in family.cases {
            match old.get(&case.name) {
                Some(o) if o.without_references() == case => {
                    case.apache = o.apache.clone();
                    case.nginx = o.nginx.clone();
                }
                Some(o) if o.sends == case.sends => {
                    current = false;
                    case.apache = o.apache.clone();
                    case.nginx = o.nginx.clone();
                }
                _ => current = false,
            }
            blocks.push(Block::Case(case));
        }
        let file = CaseFile { path, blocks };
        let on_disk = std::fs::read_to_string(&file.path).unwrap_or_default();
        if current && old.len() + 1 == file.blocks.len() && on_disk == file.text() {
            continue;
        }
        if bless {
            file.write().unwrap_or_else(|e| panic!("{e}"));
        } else {
            stale.push(family.file);
        }
    }
    assert!(
        stale.is_empty(),
        "generated case files out of date: {stale:?}; run \
         `MPM_CONFORMANCE_BLESS=1 cargo test --test conformance generated_families_are_current`"
    );
}

/// One failing (case, outcome) and the servers it happened on.
struct Failure {
    servers: Vec<String>,
    sent: String,
    received: String,
}

#[test]
fn every_case_under_every_strategy_and_handler_kind() {
    let started = Instant::now();
    let cases = load_cases();
    assert!(
        !cases.is_empty(),
        "no cases (MPM_CONFORMANCE_FILTER matches none?)"
    );
    let timing = Timing::from_env();
    let configs: Vec<(&'static str, &[&str])> = STRATEGIES
        .iter()
        .flat_map(|&s| HANDLER_KINDS.iter().map(move |&k| (s, k)))
        .collect();
    let servers: Vec<(String, Server)> = std::thread::scope(|s| {
        let handles: Vec<_> = configs
            .iter()
            .map(|&(mpm, kind)| {
                s.spawn(move || {
                    let label = std::iter::once(mpm)
                        .chain(kind.iter().copied())
                        .collect::<Vec<_>>()
                        .join(" ");
                    (label, Server::start_with(mpm, server_conf(mpm), kind))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let case_refs: Vec<&Case> = cases.iter().map(|(_, c)| c).collect();
    let results: Vec<Vec<Result<Got, String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = servers
            .iter()
            .map(|(_, server)| {
                let refs = &case_refs;
                s.spawn(move || run_all(server.addr, refs, CLIENTS_PER_SERVER, timing))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // (case index, what went wrong) → where.
    let mut failures: BTreeMap<(usize, String), Failure> = BTreeMap::new();
    let mut errors = Vec::new();
    for ((label, _), runs) in servers.iter().zip(&results) {
        for (i, (r, case)) in runs.iter().zip(&case_refs).enumerate() {
            let got = match r {
                Ok(g) => g,
                Err(e) => {
                    errors.push(format!("[{label}] {}: {e}", case.name));
                    continue;
                }
            };
            let mut what = Vec::new();
            if got.outcome != case.expect {
                what.push(format!("expected {}, got {}", case.expect, got.outcome));
            }
            if let Some(why) = looser_than_both(case, &got.outcome) {
                what.push(format!("looser than Apache and nginx: {why}"));
            }
            if what.is_empty() {
                continue;
            }
            failures
                .entry((i, what.join("; ")))
                .or_insert_with(|| Failure {
                    servers: Vec::new(),
                    sent: case.shown(),
                    received: got.shown(),
                })
                .servers
                .push(label.clone());
        }
    }
    let failed_cases: HashSet<usize> = failures.keys().map(|(i, _)| *i).collect();
    let mut report = String::new();
    for ((i, what), f) in &failures {
        let (file, case) = &cases[*i];
        report.push_str(&format!(
            "\n{} ({file}): {what}\n    under: {}\n    sent: {}\n    received: {}\n",
            case.name,
            if f.servers.len() == servers.len() {
                "every strategy and handler kind".to_string()
            } else {
                f.servers.join(", ")
            },
            f.sent,
            f.received,
        ));
    }
    let runs = cases.len() * servers.len();
    eprintln!(
        "conformance: {} cases × {} servers = {runs} runs in {:.1?}; {} cases failed somewhere",
        cases.len(),
        servers.len(),
        started.elapsed(),
        failed_cases.len()
    );
    drop(servers);
    assert!(
        errors.is_empty(),
        "could not run cases:\n{}",
        errors.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:{report}",
        failed_cases.len(),
        cases.len()
    );
}

/// Targets of a refresh: `MPM_CONFORMANCE_REFRESH=apache=127.0.0.1:8080,nginx=127.0.0.1:8081`.
fn refresh_targets() -> Vec<(String, SocketAddr)> {
    let spec = std::env::var("MPM_CONFORMANCE_REFRESH").unwrap_or_default();
    spec.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (name, addr) = p
                .split_once('=')
                .unwrap_or_else(|| panic!("MPM_CONFORMANCE_REFRESH: {p:?} is not name=addr"));
            assert!(
                matches!(name, "apache" | "nginx"),
                "MPM_CONFORMANCE_REFRESH: unknown server {name:?} (apache, nginx)"
            );
            let addr = addr
                .parse()
                .unwrap_or_else(|e| panic!("MPM_CONFORMANCE_REFRESH: {addr:?}: {e}"));
            (name.to_string(), addr)
        })
        .collect()
}

/// Run the corpus against Apache and/or nginx, store their outcomes in the case files and
/// print where they and our expectations differ. Driven by `benches/conformance.sh`, which
/// starts the servers; ignored otherwise.
#[test]
#[ignore = "needs Apache and nginx running: use benches/conformance.sh"]
fn refresh_reference_outcomes() {
    let targets = refresh_targets();
    assert!(
        !targets.is_empty(),
        "set MPM_CONFORMANCE_REFRESH=apache=ADDR,nginx=ADDR (benches/conformance.sh does)"
    );
    let timing = Timing::from_env();
    let mut files = CaseFile::read_all().unwrap_or_else(|e| panic!("{e}"));
    let cases: Vec<Case> = files.iter().flat_map(|f| f.cases().cloned()).collect();
    let refs: Vec<&Case> = cases.iter().collect();
    let mut errors = Vec::new();
    let mut outcomes: HashMap<String, Vec<Outcome>> = HashMap::new();
    let results: Vec<(String, Vec<Result<Got, String>>)> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(name, addr)| {
                let refs = &refs;
                s.spawn(move || (name.clone(), run_all(*addr, refs, 32, timing)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, runs) in results {
        let mut got = Vec::new();
        for (r, case) in runs.into_iter().zip(&cases) {
            match r {
                Ok(g) => got.push(g.outcome),
                Err(e) => errors.push(format!("[{name}] {}: {e}", case.name)),
            }
        }
        outcomes.insert(name, got);
    }
    assert!(errors.is_empty(), "refresh failed:\n{}", errors.join("\n"));
    let mut i = 0;
    for f in &mut files {
        for c in f.cases_mut() {
            if let Some(o) = outcomes.get("apache") {
                c.apache = Some(o[i].clone());
            }
            if let Some(o) = outcomes.get("nginx") {
                c.nginx = Some(o[i].clone());
            }
            i += 1;
        }
        f.write().unwrap_or_else(|e| panic!("{e}"));
    }
    println!("{}", summary(&files));
}

/// Per-file counts for the differential table.
#[derive(Default, Clone, Copy)]
struct Row {
    cases: usize,
    differ_apache: usize,
    differ_nginx: usize,
    differ_both: usize,
    apache_refused: usize,
    apache_accepted: usize,
    nginx_refused: usize,
    nginx_accepted: usize,
}

impl Row {
    fn add(&mut self, o: Row) {
        self.cases += o.cases;
        self.differ_apache += o.differ_apache;
        self.differ_nginx += o.differ_nginx;
        self.differ_both += o.differ_both;
        self.apache_refused += o.apache_refused;
        self.apache_accepted += o.apache_accepted;
        self.nginx_refused += o.nginx_refused;
        self.nginx_accepted += o.nginx_accepted;
    }

    fn line(&self, name: &str) -> String {
        format!(
            "{name:<28} {:>6} {:>8} {:>8} {:>8} {:>12} {:>12}\n",
            self.cases,
            self.differ_apache,
            self.differ_nginx,
            self.differ_both,
            format!("{}/{}", self.apache_refused, self.apache_accepted),
            format!("{}/{}", self.nginx_refused, self.nginx_accepted),
        )
    }
}

/// The differential table: per file, how many cases, and where our expected verdict
/// (accept/refuse per response, see [`Outcome::verdict`]) differs from Apache's, nginx's,
/// both; then those cases, and any expectation looser than both.
fn summary(files: &[CaseFile]) -> String {
    let mut out = format!(
        "{:<28} {:>6} {:>8} {:>8} {:>8} {:>12} {:>12}\n",
        "file", "cases", "!=apache", "!=nginx", "!=both", "apache R/A", "nginx R/A"
    );
    let mut total = Row::default();
    let mut differ_both = Vec::new();
    let mut looser = Vec::new();
    for f in files {
        let mut row = Row::default();
        for c in f.cases() {
            let ours = c.expect.verdict();
            let da = c.apache.as_ref().is_some_and(|a| a.verdict() != ours);
            let dn = c.nginx.as_ref().is_some_and(|n| n.verdict() != ours);
            row.cases += 1;
            row.differ_apache += da as usize;
            row.differ_nginx += dn as usize;
            row.differ_both += (da && dn) as usize;
            match &c.apache {
                Some(a) if a.refused() => row.apache_refused += 1,
                Some(_) => row.apache_accepted += 1,
                None => {}
            }
            match &c.nginx {
                Some(n) if n.refused() => row.nginx_refused += 1,
                Some(_) => row.nginx_accepted += 1,
                None => {}
            }
            if let (true, true, Some(a), Some(n)) = (da, dn, &c.apache, &c.nginx) {
                differ_both.push(format!(
                    "  {:<50} ours {:<14} apache {:<14} nginx {n}",
                    c.name,
                    c.expect.to_string(),
                    a.to_string(),
                ));
            }
            if let Some(why) = looser_than_both(c, &c.expect) {
                looser.push(format!("  {}: {why}", c.name));
            }
        }
        out.push_str(&row.line(&f.file_name()));
        total.add(row);
    }
    out.push_str(&total.line("total"));
    out.push_str(&format!(
        "\nR/A: cases whose first response refused (400 411 413 414 417 431 501 505) / did not.\n\
         !=: our expected accept/refuse sequence differs (Apache's 405 to POST counts as accept).\n\
         \nExpected outcomes differing from both Apache and nginx ({}):\n{}\n",
        differ_both.len(),
        differ_both.join("\n")
    ));
    out.push_str(&format!(
        "\nExpected outcomes looser than both (these cases fail the test) ({}):\n{}\n",
        looser.len(),
        looser.join("\n")
    ));
    out
}
