//! Apache's line syntax: comment lines, `\` line continuation and word splitting with
//! double and single quotes.

/// One logical line (continuations joined), numbered by the physical line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogicalLine {
    /// 1-based physical line where the logical line starts.
    pub line: usize,
    /// The joined text, trimmed.
    pub text: String,
}

/// Split `text` into logical lines, dropping blank and `#` comment lines.
///
/// As Apache's `ap_cfg_getline`: trailing whitespace is removed, then a final `\` joins the
/// next physical line (directly, without the backslash). The comment test is made on the
/// joined line, so a comment ending in `\` also comments out the next line, as in Apache.
pub(crate) fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let piece = raw.trim_end();
        let (start, mut buf) = current.take().unwrap_or((idx + 1, String::new()));
        if let Some(stripped) = piece.strip_suffix('\\') {
            buf.push_str(stripped);
            current = Some((start, buf));
            continue;
        }
        buf.push_str(piece);
        push_line(&mut out, start, &buf);
    }
    if let Some((start, buf)) = current {
        push_line(&mut out, start, &buf);
    }
    out
}

fn push_line(out: &mut Vec<LogicalLine>, line: usize, buf: &str) {
    let text = buf.trim();
    if text.is_empty() || text.starts_with('#') {
        return;
    }
    out.push(LogicalLine {
        line,
        text: text.to_string(),
    });
}

/// Split a logical line into words as Apache's `ap_getword_conf` does: whitespace
/// separates words; a word starting with `"` or `'` runs to the matching unescaped quote,
/// and `\` before that quote character is dropped.
///
/// Differs from Apache on purpose: an unterminated quote is an error (Apache silently takes
/// the rest of the line).
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(words);
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == '\\' && chars.peek() == Some(&first) {
                    word.push(first);
                    chars.next();
                } else if c == first {
                    closed = true;
                    break;
                } else {
                    word.push(c);
                }
            }
            if !closed {
                return Err(format!(
                    "unterminated quoted string: missing closing {first}"
                ));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_keeps_first_line_number() {
        let l = logical_lines("# c\nStartServers \\\n   4\n\nX y");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].line, 2);
        assert_eq!(l[0].text, "StartServers    4");
        assert_eq!(l[1].line, 5);
    }

    #[test]
    fn quotes() {
        assert_eq!(
            split_words(r#"PidFile "a b" 'c d' e "x\"y""#).unwrap(),
            vec!["PidFile", "a b", "c d", "e", "x\"y"]
        );
        assert!(split_words("PidFile \"oops").is_err());
        assert_eq!(split_words("A \"\"").unwrap(), vec!["A", ""]);
    }
}
