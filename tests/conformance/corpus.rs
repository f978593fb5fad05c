//! The case files: their text format, the byte escapes, and outcomes.
//!
//! A file is blocks separated by one blank line. A block of `#` lines alone is a comment;
//! any other block is one case, its keys always in this order (so a rewrite by the refresh
//! script changes only the lines it means to):
//!
//! ```text
//! # optional comment lines, kept with the case
//! name: family/what-it-is          (unique in the corpus)
//! note: why the expectation is what it is (optional, repeatable)
//! send: GET / HTTP/1.1\r\nHost: localhost\r\n\r\n   (one write; repeat for several writes)
//! pause: 100                       (ms between writes; default 50)
//! half-close: yes                  (shut our write side after the last write)
//! head: yes                        (every response is to HEAD: no body to read)
//! expect: 200 keep                 (our engine's outcome)
//! apache: 200 keep                 (what Apache 2.4 did; written by benches/conformance.sh)
//! nginx: 200 keep                  (what nginx did; written by benches/conformance.sh)
//! ```
//!
//! `send:` text keeps to printable ASCII so the files diff well: `\r`, `\n`, `\t`, `\\`,
//! `\xNN`, and `\{N:text}` for `text` repeated N times (escapes and repeats allowed inside; a `}`
//! byte is `\x7d`), which keeps
//! the limit cases (an 8 KiB target, 100 header lines) one readable line.
//!
//! An outcome is what the client saw on the connection: the status of every final response
//! in order (interim `1xx` other than 101 are not counted: whether a `100 Continue` is sent
//! for a body that already arrived is not framing), `none` if there was none, `garbage` if
//! bytes followed that were not a complete response, then `close` (the server ended the
//! connection: FIN or reset) or `keep` (it was still open when reading stopped).

use std::fmt;
use std::path::{Path, PathBuf};

/// The directory of the case files.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases")
}

/// What a connection carried back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Final responses' status codes, in order.
    pub statuses: Vec<u16>,
    /// Bytes after the last complete response that were not one.
    pub garbage: bool,
    /// The server closed the connection (else it was open when reading stopped).
    pub closed: bool,
}

/// Statuses that refuse a request for its framing or syntax, for the "looser than both
/// reference servers" rule.
pub const REFUSALS: &[u16] = &[400, 411, 413, 414, 417, 431, 501, 505];

impl Outcome {
    /// Parse `200 200 keep`, `400 close`, `none close`, `200 garbage close`.
    pub fn parse(s: &str) -> Result<Outcome, String> {
        let mut words: Vec<&str> = s.split_whitespace().collect();
        let closed = match words.pop() {
            Some("close") => true,
            Some("keep") => false,
            _ => return Err(format!("outcome {s:?} must end with close or keep")),
        };
        let garbage = words.last() == Some(&"garbage");
        if garbage {
            words.pop();
        }
        let statuses = if words == ["none"] {
            Vec::new()
        } else {
            words
                .iter()
                .map(|w| match w.parse::<u16>() {
                    Ok(n) if (100..600).contains(&n) && w.len() == 3 => Ok(n),
                    _ => Err(format!("outcome {s:?}: {w:?} is not a status code")),
                })
                .collect::<Result<_, _>>()?
        };
        if statuses.is_empty() && !garbage && words != ["none"] {
            return Err(format!("outcome {s:?}: write `none` when nothing came"));
        }
        Ok(Outcome {
            statuses,
            garbage,
            closed,
        })
    }

    /// The first response refused the request (a status of [`REFUSALS`]).
    pub fn refused(&self) -> bool {
        self.statuses.first().is_some_and(|s| REFUSALS.contains(s))
    }

    /// The first response came from the handler with a success.
    pub fn answered(&self) -> bool {
        self.statuses
            .first()
            .is_some_and(|s| (200..300).contains(s))
    }

    /// How many requests were answered: the final responses; or, when there were none,
    /// 1 for unparsed bytes (an HTTP/0.9 answer has no status line, but it is an answer;
    /// bytes after a response, such as a body sent after a response to HEAD, are not).
    pub fn answers(&self) -> usize {
        self.statuses.len().max(self.garbage as usize)
    }

    /// Accept/refuse per response (`A`/`R`): what the summary compares, so that Apache's
    /// 405 to a POST and our 200 count as the same verdict.
    pub fn verdict(&self) -> String {
        self.statuses
            .iter()
            .map(|s| if REFUSALS.contains(s) { 'R' } else { 'A' })
            .collect()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
        if self.garbage {
            words.push("garbage".into());
        } else if words.is_empty() {
            words.push("none".into());
        }
        words.push(if self.closed { "close" } else { "keep" }.into());
        f.write_str(&words.join(" "))
    }
}

/// One case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// `#` lines written before the case.
    pub comments: Vec<String>,
    pub name: String,
    pub notes: Vec<String>,
    /// Each write, as escaped text (see the module doc).
    pub sends: Vec<String>,
    /// Milliseconds between writes.
    pub pause_ms: Option<u64>,
    pub half_close: bool,
    pub head: bool,
    pub expect: Outcome,
    pub apache: Option<Outcome>,
    pub nginx: Option<Outcome>,
}

/// The pause between writes when a case does not say.
pub const DEFAULT_PAUSE_MS: u64 = 50;

impl Case {
    /// A case with one write and nothing optional.
    pub fn new(name: impl Into<String>, send: impl Into<String>, expect: &str) -> Case {
        Case {
            comments: Vec::new(),
            name: name.into(),
            notes: Vec::new(),
            sends: vec![send.into()],
            pause_ms: None,
            half_close: false,
            head: false,
            expect: Outcome::parse(expect).unwrap_or_else(|e| panic!("{e}")),
            apache: None,
            nginx: None,
        }
    }

    /// Add a note line.
    pub fn note(mut self, note: impl Into<String>) -> Case {
        self.notes.push(note.into());
        self
    }

    /// Mark every response as one to HEAD.
    pub fn head(mut self) -> Case {
        self.head = true;
        self
    }

    /// Every write, decoded.
    pub fn writes(&self) -> Vec<Vec<u8>> {
        self.sends
            .iter()
            .map(|s| unescape(s).unwrap_or_else(|e| panic!("{}: {e}", self.name)))
            .collect()
    }

    /// Everything sent, escaped, for messages.
    pub fn shown(&self) -> String {
        self.sends.join(" | ")
    }

    /// The same case, ignoring the reference outcomes (what the generator decides).
    pub fn without_references(&self) -> Case {
        Case {
            apache: None,
            nginx: None,
            ..self.clone()
        }
    }
}

/// A block of a case file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Comment(Vec<String>),
    Case(Case),
}

/// A parsed case file.
#[derive(Clone, Debug)]
pub struct CaseFile {
    pub path: PathBuf,
    pub blocks: Vec<Block>,
}

impl CaseFile {
    /// Read and parse one file.
    pub fn read(path: &Path) -> Result<CaseFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let blocks = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(CaseFile {
            path: path.to_path_buf(),
            blocks,
        })
    }

    /// Every `*.txt` file of the corpus, sorted by name.
    pub fn read_all() -> Result<Vec<CaseFile>, String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
            .map_err(|e| format!("{}: {e}", cases_dir().display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        paths.sort();
        paths.iter().map(|p| CaseFile::read(p)).collect()
    }

    /// The file's name without directory.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Case(c) => Some(c),
            Block::Comment(_) => None,
        })
    }

    pub fn cases_mut(&mut self) -> impl Iterator<Item = &mut Case> {
        self.blocks.iter_mut().filter_map(|b| match b {
            Block::Case(c) => Some(c),
            Block::Comment(_) => None,
        })
    }

    /// The canonical text of the file.
    pub fn text(&self) -> String {
        format(&self.blocks)
    }

    /// Write the canonical text back.
    pub fn write(&self) -> Result<(), String> {
        std::fs::write(&self.path, self.text()).map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// Parse a case file's text into blocks.
pub fn parse(text: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut lines: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate().chain([(usize::MAX, "")]) {
        if !line.trim().is_empty() {
            lines.push((i + 1, line));
            continue;
        }
        if lines.is_empty() {
            continue;
        }
        let block = std::mem::take(&mut lines);
        if block.iter().all(|(_, l)| l.starts_with('#')) {
            blocks.push(Block::Comment(
                block.iter().map(|(_, l)| l.to_string()).collect(),
            ));
        } else {
            blocks.push(Block::Case(parse_case(&block)?));
        }
    }
    Ok(blocks)
}

fn parse_case(lines: &[(usize, &str)]) -> Result<Case, String> {
    let first = lines[0].0;
    let mut comments = Vec::new();
    let mut fields: Vec<(usize, &str, &str)> = Vec::new();
    for &(n, line) in lines {
        if line.starts_with('#') {
            if !fields.is_empty() {
                return Err(format!("line {n}: comments go before `name:`"));
            }
            comments.push(line.to_string());
            continue;
        }
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("line {n}: expected `key: value`, got {line:?}"))?;
        fields.push((n, key, value));
    }
    const ORDER: &[&str] = &[
        "name",
        "note",
        "send",
        "pause",
        "half-close",
        "head",
        "expect",
        "apache",
        "nginx",
    ];
    let mut last = 0;
    for &(n, key, _) in &fields {
        let pos = ORDER
            .iter()
            .position(|k| *k == key)
            .ok_or_else(|| format!("line {n}: unknown key {key:?}"))?;
        let repeatable = matches!(key, "note" | "send");
        if pos < last || (pos == last && !repeatable && n != fields[0].0) {
            return Err(format!(
                "line {n}: {key:?} out of order or repeated (order: {})",
                ORDER.join(", ")
            ));
        }
        last = pos;
    }
    let one = |key: &str| fields.iter().find(|f| f.1 == key).map(|f| (f.0, f.2));
    let all = |key: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|f| f.1 == key)
            .map(|f| f.2.to_string())
            .collect()
    };
    let outcome = |key: &str| -> Result<Option<Outcome>, String> {
        one(key)
            .map(|(n, v)| Outcome::parse(v).map_err(|e| format!("line {n}: {e}")))
            .transpose()
    };
    let yes = |key: &str| -> Result<bool, String> {
        match one(key) {
            None => Ok(false),
            Some((_, "yes")) => Ok(true),
            Some((n, v)) => Err(format!("line {n}: {key}: only `yes`, got {v:?}")),
        }
    };
    let name = one("name")
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| format!("block at line {first}: no `name:`"))?;
    let sends = all("send");
    if sends.is_empty() {
        return Err(format!("{name}: no `send:`"));
    }
    for s in &sends {
        unescape(s).map_err(|e| format!("{name}: {e}"))?;
    }
    let pause_ms = one("pause")
        .map(|(n, v)| {
            v.parse::<u64>()
                .map_err(|_| format!("line {n}: pause: milliseconds, got {v:?}"))
        })
        .transpose()?;
    Ok(Case {
        comments,
        notes: all("note"),
        sends,
        pause_ms,
        half_close: yes("half-close")?,
        head: yes("head")?,
        expect: outcome("expect")?.ok_or_else(|| format!("{name}: no `expect:`"))?,
        apache: outcome("apache")?,
        nginx: outcome("nginx")?,
        name,
    })
}

/// The canonical text of blocks.
pub fn format(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match block {
            Block::Comment(lines) => {
                for l in lines {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Block::Case(c) => format_case(&mut out, c),
        }
    }
    out
}

fn format_case(out: &mut String, c: &Case) {
    for l in &c.comments {
        out.push_str(l);
        out.push('\n');
    }
    let mut line = |k: &str, v: &str| {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push('\n');
    };
    line("name", &c.name);
    for n in &c.notes {
        line("note", n);
    }
    for s in &c.sends {
        line("send", s);
    }
    if let Some(p) = c.pause_ms {
        line("pause", &p.to_string());
    }
    if c.half_close {
        line("half-close", "yes");
    }
    if c.head {
        line("head", "yes");
    }
    line("expect", &c.expect.to_string());
    if let Some(o) = &c.apache {
        line("apache", &o.to_string());
    }
    if let Some(o) = &c.nginx {
        line("nginx", &o.to_string());
    }
}

/// Decode `send:` text into bytes.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'\\' {
            if !(0x20..0x7f).contains(&c) {
                return Err(format!("raw byte 0x{c:02x} in {s:?}: escape it"));
            }
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else {
            return Err(format!("dangling backslash in {s:?}"));
        };
        i += 2;
        match e {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = s
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad \\x escape in {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            b'{' => {
                let end = closing_brace(b, i).ok_or_else(|| format!("unclosed \\{{ in {s:?}"))?;
                let (count, text) = s[i..end]
                    .split_once(':')
                    .ok_or_else(|| format!("\\{{N:text}} needs a count in {s:?}"))?;
                let count: usize = count
                    .parse()
                    .map_err(|_| format!("bad repeat count {count:?} in {s:?}"))?;
                let unit = unescape(text)?;
                for _ in 0..count {
                    out.extend_from_slice(&unit);
                }
                i = end + 1;
            }
            _ => return Err(format!("unknown escape \\{} in {s:?}", e as char)),
        }
    }
    Ok(out)
}

/// The `}` closing a `\{` whose text starts at `from` (repeats may nest).
fn closing_brace(b: &[u8], from: usize) -> Option<usize> {
    let mut depth = 1;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
            }
            b'\\' => i += 2,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Encode bytes as `send:` text. Runs of 32 or more equal bytes become `\{N:c}` so limit
/// cases stay short lines; a space at either end is escaped so that an editor trimming
/// lines cannot change a case.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let run = bytes[i..].iter().take_while(|&&b| b == c).count();
        if run >= 32 {
            let unit = match c {
                b' ' | b'}' => format!("\\x{c:02x}"),
                _ => escape_byte(c, false),
            };
            out.push_str(&format!("\\{{{run}:{unit}}}"));
            i += run;
            continue;
        }
        out.push_str(&escape_byte(c, i == 0 || i + 1 == bytes.len()));
        i += 1;
    }
    out
}

fn escape_byte(c: u8, at_end: bool) -> String {
    match c {
        b'\r' => "\\r".into(),
        b'\n' => "\\n".into(),
        b'\t' => "\\t".into(),
        b'\\' => "\\\\".into(),
        b' ' if at_end => "\\x20".into(),
        0x20..=0x7e => (c as char).to_string(),
        _ => format!("\\x{c:02x}"),
    }
}
