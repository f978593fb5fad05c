//! Apache's file structure: `<IfModule>` / `<IfDefine>` sections and `Include`, turning
//! files into the flat list of directives that apply to one MPM.
//!
//! As Apache: sections nest; an inactive section is skipped without looking at its
//! directives (Apache's stock `extra/httpd-mpm.conf` has NetWare, OS/2 and Windows blocks
//! full of directives that exist nowhere else), but its nested sections must still
//! balance. `<IfDefine NAME>` is true for the names given to [`Parser::define`] (`httpd -D
//! NAME`; none by default). `Include` and
//! `IncludeOptional` take one path; `*` and `?` wildcards are allowed in any component and
//! match in alphabetical order; a directory includes every file under it, recursively, in
//! alphabetical order. `Include` of something missing (or a wildcard matching nothing) is an
//! error, `IncludeOptional` of it is not.
//!
//! Deliberate differences from Apache:
//!
//! * a relative include path is resolved from the directory of the including file (Apache
//!   resolves it from `ServerRoot`): configurations here are loaded from anywhere, and a
//!   file's includes then travel with it;
//! * an include cycle is reported as such (Apache only stops at its nesting limit), and the
//!   nesting limit is [`MAX_INCLUDE_DEPTH`];
//! * only `<IfModule>` and `<IfDefine>` sections exist; any other section in an active
//!   context (`<VirtualHost>`, `<Directory>`…) is an error, since nothing here could honour
//!   it;
//! * an unterminated quote is an error (Apache takes the rest of the line);
//! * besides the selected MPM, `core` and `unixd` (which provides `User`/`Group`) count as
//!   loaded for `<IfModule>`; every other module counts as not loaded.

use super::lexer::{logical_lines, split_words, LogicalLine};
use crate::error::ConfigError;
use crate::kind::MpmKind;
use std::path::{Path, PathBuf};

/// How deep `Include` may nest before it is taken for a runaway.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// One directive of an active context, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file it was read from (`None` when the text had no file).
    pub file: Option<PathBuf>,
    /// 1-based line where the directive starts.
    pub line: usize,
    /// The directive name as the user spelled it.
    pub name: String,
    /// Its arguments, quotes removed.
    pub args: Vec<String>,
}

impl Located {
    /// An error about this directive.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: Some(self.line),
            directive: self.name.clone(),
            message: message.into(),
        }
    }
}

/// Whether `<IfModule name>` is true when `kind` is the MPM in use.
///
/// The loaded modules are: the selected MPM (`mpm_X_module` or `X.c`), `core_module`
/// (`core.c`) and `unixd_module` (`mod_unixd.c`, which provides `User`/`Group`, both
/// implemented here), `ssl_module` (`mod_ssl.c`) with the `tls` feature and
/// `http2_module` (`mod_http2.c`) with the `http2` feature. Every other
/// module counts as not loaded. Names are compared exactly,
/// as Apache does.
pub fn module_loaded(kind: MpmKind, name: &str) -> bool {
    name == kind.module_name()
        || name == kind.source_name()
        || matches!(
            name,
            "core_module" | "core.c" | "unixd_module" | "mod_unixd.c"
        )
        || (crate::tls::COMPILED_IN && matches!(name, "ssl_module" | "mod_ssl.c"))
        || (crate::http::HTTP2_COMPILED_IN && matches!(name, "http2_module" | "mod_http2.c"))
}

/// One result of reading, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A directive of an active context.
    Directive(Located),
    /// A syntax, section or include error.
    Error(ConfigError),
}

/// Section names this parser understands.
const SECTIONS: [&str; 2] = ["IfModule", "IfDefine"];

struct Open {
    name: String,
    line: usize,
    active: bool,
}

/// Reads files and text for one MPM, collecting every error.
pub struct Parser {
    kind: MpmKind,
    /// Directives of active contexts and the errors found, in reading order.
    pub items: Vec<Item>,
    /// Canonical paths of the files being read (include chain).
    chain: Vec<PathBuf>,
    /// The `-D` names: `<IfDefine NAME>` is true for these.
    defines: Vec<String>,
}

impl Parser {
    /// A parser for `kind` (no `-D` defines are set; see [`Parser::define`]).
    pub fn new(kind: MpmKind) -> Self {
        Parser {
            kind,
            items: Vec::new(),
            chain: Vec::new(),
            defines: Vec::new(),
        }
    }

    /// Define `name` for `<IfDefine name>`, as `httpd -D name` (case-sensitive, as Apache).
    pub fn define(&mut self, name: &str) {
        self.defines.push(name.to_string());
    }

    /// The directives read so far.
    pub fn directives(&self) -> impl Iterator<Item = &Located> {
        self.items.iter().filter_map(|i| match i {
            Item::Directive(d) => Some(d),
            Item::Error(_) => None,
        })
    }

    /// The errors found so far.
    pub fn errors(&self) -> impl Iterator<Item = &ConfigError> {
        self.items.iter().filter_map(|i| match i {
            Item::Error(e) => Some(e),
            Item::Directive(_) => None,
        })
    }

    fn push_error(&mut self, e: ConfigError) {
        self.items.push(Item::Error(e));
    }

    /// Read the file at `path` (an I/O error is reported against `path`).
    pub fn read_file(&mut self, path: &Path) {
        match std::fs::read(path) {
            Ok(bytes) => {
                let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
                self.chain.push(canonical);
                self.read_text(&String::from_utf8_lossy(&bytes), Some(path));
                self.chain.pop();
            }
            Err(e) => self.push_error(ConfigError {
                file: Some(path.to_path_buf()),
                line: None,
                directive: String::new(),
                message: format!("could not open configuration file: {e}"),
            }),
        }
    }

    /// Read `text` as if it were the file `origin` (which need not exist): includes are
    /// resolved from its directory and it takes part in the include-cycle check.
    pub fn read_text_as(&mut self, text: &str, origin: &Path) {
        let canonical = origin
            .canonicalize()
            .unwrap_or_else(|_| origin.to_path_buf());
        self.chain.push(canonical);
        self.read_text(text, Some(origin));
        self.chain.pop();
    }

    /// Read configuration text; `origin` names it in errors and anchors relative includes.
    pub fn read_text(&mut self, text: &str, origin: Option<&Path>) {
        let mut stack: Vec<Open> = Vec::new();
        for LogicalLine { line, text } in logical_lines(text) {
            let at = |directive: &str, message: String| ConfigError {
                file: origin.map(Path::to_path_buf),
                line: Some(line),
                directive: directive.to_string(),
                message,
            };
            let skipping = stack.iter().any(|o| !o.active);
            if let Some(rest) = text.strip_prefix("</") {
                let name = rest.trim_end_matches('>').trim();
                if !rest.ends_with('>') {
                    self.push_error(at(
                        &text,
                        format!("</{name}> directive missing closing '>'"),
                    ));
                }
                match stack.last() {
                    None => self.push_error(at(
                        &format!("</{name}>"),
                        format!("</{name}> without matching <{name}> section"),
                    )),
                    Some(open) if !open.name.eq_ignore_ascii_case(name) => {
                        self.push_error(at(
                            &format!("</{name}>"),
                            format!("Expected </{}> but saw </{name}>", open.name),
                        ));
                        // Recover: close up to a matching open section if there is one,
                        // else just the innermost one.
                        let depth = stack
                            .iter()
                            .rposition(|o| o.name.eq_ignore_ascii_case(name))
                            .unwrap_or(stack.len() - 1);
                        stack.truncate(depth);
                    }
                    Some(_) => {
                        stack.pop();
                    }
                }
                continue;
            }
            if let Some(rest) = text.strip_prefix('<') {
                let head: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '>')
                    .collect();
                let section = format!("<{head}>");
                let Some(inner) = rest.strip_suffix('>') else {
                    self.push_error(at(
                        &section,
                        format!("{section} directive missing closing '>'"),
                    ));
                    stack.push(Open {
                        name: head,
                        line,
                        active: false,
                    });
                    continue;
                };
                let active = if skipping {
                    false
                } else {
                    match self.section_active(&head, &inner[head.len()..]) {
                        Ok(active) => active,
                        Err(message) => {
                            self.push_error(at(&section, message));
                            false
                        }
                    }
                };
                stack.push(Open {
                    name: head,
                    line,
                    active,
                });
                continue;
            }
            if skipping {
                continue;
            }
            let words = match split_words(&text) {
                Ok(words) => words,
                Err(message) => {
                    let name = text.split_whitespace().next().unwrap_or_default();
                    self.push_error(at(name, message));
                    continue;
                }
            };
            let mut words = words.into_iter();
            let Some(name) = words.next() else { continue };
            let located = Located {
                file: origin.map(Path::to_path_buf),
                line,
                name,
                args: words.collect(),
            };
            if located.name.eq_ignore_ascii_case("Include")
                || located.name.eq_ignore_ascii_case("IncludeOptional")
            {
                self.include(&located, origin);
            } else {
                self.items.push(Item::Directive(located));
            }
        }
        for open in stack {
            self.push_error(ConfigError {
                file: origin.map(Path::to_path_buf),
                line: Some(open.line),
                directive: format!("<{}>", open.name),
                message: format!("<{}> was not closed", open.name),
            });
        }
    }

    /// Evaluate the condition of an opening section line.
    fn section_active(&self, head: &str, args: &str) -> Result<bool, String> {
        let Some(section) = SECTIONS.iter().find(|s| s.eq_ignore_ascii_case(head)) else {
            return Err(format!(
                "unknown section <{head}>: only <IfModule> and <IfDefine> are supported"
            ));
        };
        let words = split_words(args)?;
        if words.len() != 1 {
            return Err(format!("<{section}> takes one argument"));
        }
        let (negate, name) = match words[0].strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, words[0].as_str()),
        };
        let present = if *section == "IfModule" {
            module_loaded(self.kind, name)
        } else {
            self.defines.iter().any(|d| d == name)
        };
        Ok(present != negate)
    }

    /// `Include` / `IncludeOptional`, relative to the including file's directory.
    fn include(&mut self, d: &Located, origin: Option<&Path>) {
        let optional = d.name.eq_ignore_ascii_case("IncludeOptional");
        let canonical = if optional {
            "IncludeOptional"
        } else {
            "Include"
        };
        if d.args.len() != 1 {
            self.push_error(d.error(format!(
                "{canonical} takes one argument, Name(s) of the config file(s) to be included"
            )));
            return;
        }
        if self.chain.len() >= MAX_INCLUDE_DEPTH {
            self.push_error(d.error(format!(
                "Exceeded the maximum include nesting level of {MAX_INCLUDE_DEPTH}"
            )));
            return;
        }
        let base = origin
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let files = match resolve(&base, &d.args[0]) {
            Ok(files) => files,
            Err(message) => {
                if !optional {
                    self.push_error(d.error(message));
                }
                return;
            }
        };
        for file in files {
            let canonical_file = file.canonicalize().unwrap_or_else(|_| file.clone());
            if self.chain.contains(&canonical_file) {
                self.push_error(d.error(format!(
                    "Include cycle: {} is already being read",
                    file.display()
                )));
                continue;
            }
            self.read_file(&file);
        }
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// The files an include pattern names: a file, every file under a directory (sorted,
/// recursively), or the sorted matches of `*`/`?` wildcards (which, as Apache's, do not
/// match a leading `.`).
pub fn resolve(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = base.join(pattern);
    if !has_wildcard(pattern) {
        if path.is_dir() {
            return Ok(dir_files(&path));
        }
        if path.exists() {
            return Ok(vec![path]);
        }
        return Err(format!(
            "could not open configuration file {}: No such file or directory",
            path.display()
        ));
    }
    let mut candidates = vec![PathBuf::new()];
    for comp in path.components() {
        let part = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        for c in candidates {
            if has_wildcard(&part) {
                let mut names: Vec<String> = std::fs::read_dir(&c)
                    .map(|rd| {
                        rd.filter_map(|e| e.ok())
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .filter(|n| !n.starts_with('.') && wildcard_match(&part, n))
                            .collect()
                    })
                    .unwrap_or_default();
                names.sort();
                next.extend(names.into_iter().map(|n| c.join(n)));
            } else {
                next.push(c.join(comp.as_os_str()));
            }
        }
        candidates = next;
    }
    let files: Vec<PathBuf> = candidates
        .into_iter()
        .flat_map(|p| if p.is_dir() { dir_files(&p) } else { vec![p] })
        .filter(|p| p.is_file())
        .collect();
    if files.is_empty() {
        return Err(format!(
            "No matches for the wildcard '{}' in '{}', failing",
            pattern,
            base.display()
        ));
    }
    Ok(files)
}

/// Every file under `dir`, recursively, each directory's entries in alphabetical order.
fn dir_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if depth > MAX_INCLUDE_DEPTH {
            return;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, depth + 1, out);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, 0, &mut out);
    out
}

/// `*` (any run) and `?` (one character) matching.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.conf", "a.conf"));
        assert!(!wildcard_match("*.conf", "a.conf.bak"));
        assert!(wildcard_match("a?c*", "abc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn sections() {
        let mut p = Parser::new(MpmKind::Worker);
        p.read_text(
            "<IfModule mpm_worker_module>\nA 1\n<IfModule !x>\nB 2\n</IfModule>\n</IfModule>\n\
             <IfModule mpm_event_module>\n<Bogus>\nC 3\n</Bogus>\n</IfModule>\n\
             <IfDefine !X>\nD\n</IfDefine>\n<ifmodule worker.c>\nE\n</IFMODULE>",
            None,
        );
        assert_eq!(p.errors().count(), 0, "{:?}", p.items);
        let names: Vec<_> = p.directives().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "D", "E"]);
    }

    #[test]
    fn unbalanced() {
        let mut p = Parser::new(MpmKind::Worker);
        p.read_text(
            "</IfModule>\n<IfModule x>\n<IfDefine y>\n</IfModule>\n<Foo>\n",
            None,
        );
        assert_eq!(p.errors().count(), 4, "{:?}", p.items);
    }
}
