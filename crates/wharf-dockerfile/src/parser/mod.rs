//! The Dockerfile parser, modeled on BuildKit's `frontend/dockerfile/parser`: parser
//! directives, comments, line continuations with the escape character, heredocs, and one
//! [`Node`] per instruction with its flags and arguments still as written.
//!
//! [`Dockerfile::dump`] prints the tree in BuildKit's S-expression format, which the
//! conformance tests compare with BuildKit's golden files.

mod directives;
mod heredoc;
mod line_parsers;

pub use directives::{CheckDirective, Directives};
pub(crate) use heredoc::parse_heredoc_word;
pub use heredoc::Heredoc;

use crate::error::{Error, ErrorKind, LineSpan};
use crate::go_compat;
use directives::DirectiveScanner;

/// A parsed Dockerfile: its directives and one node per instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Directives,
    pub nodes: Vec<Node>,
    pub warnings: Vec<Warning>,
}

/// Something suspicious that still parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

/// One instruction as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction word with its original case (`RUN`, `run`).
    pub instruction: String,
    /// The leading `--flag[=value]` words, quotes removed.
    pub flags: Vec<String>,
    pub args: Arguments,
    /// The arguments were a JSON array (exec form).
    pub exec_form: bool,
    /// Heredocs opened on this line, in order, with their content.
    pub heredocs: Vec<Heredoc>,
    /// The logical line, continuations joined.
    pub original: String,
    pub lines: LineSpan,
    /// The comment lines right above the instruction, `#` and surrounding spaces removed.
    pub comments: Vec<String>,
}

/// The arguments of a node, shaped by the instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arguments {
    /// Words, JSON strings, or the whole rest of the line, depending on the instruction.
    List(Vec<String>),
    /// ENV and LABEL pairs.
    Pairs(Vec<KeyValueArg>),
    /// The instruction that ONBUILD wraps.
    Trigger(Box<Node>),
}

/// One `key=value` (or legacy `key value`) pair of ENV or LABEL, quotes still in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValueArg {
    pub key: String,
    pub value: String,
    /// Written as `ENV key value`, without `=`.
    pub legacy: bool,
}

impl Node {
    /// The instruction word in lowercase.
    pub fn keyword(&self) -> String {
        self.instruction.to_ascii_lowercase()
    }

    /// BuildKit's `Node.Dump` for this node.
    pub fn dump(&self) -> String {
        let mut out = self.instruction.to_lowercase();
        if !self.flags.is_empty() {
            let flags: Vec<String> = self
                .flags
                .iter()
                .map(|flag| go_compat::quote(flag))
                .collect();
            out.push_str(&format!(" [{}]", flags.join(" ")));
        }
        match &self.args {
            Arguments::List(words) => {
                for word in words {
                    out.push(' ');
                    out.push_str(&go_compat::quote(word));
                }
            }
            Arguments::Pairs(pairs) => {
                for pair in pairs {
                    let separator = if pair.legacy { "" } else { "=" };
                    for part in [pair.key.as_str(), pair.value.as_str(), separator] {
                        out.push(' ');
                        out.push_str(&go_compat::quote(part));
                    }
                }
            }
            Arguments::Trigger(trigger) => out.push_str(&format!(" ({})", trigger.dump())),
        }
        out.trim().to_owned()
    }

    fn can_contain_heredoc(&self) -> bool {
        let node = match &self.args {
            Arguments::Trigger(trigger) => trigger,
            _ => self,
        };
        matches!(node.keyword().as_str(), "add" | "copy" | "run") && !node.exec_form
    }
}

impl Dockerfile {
    /// BuildKit's parse-tree dump: one `(instruction ...)` line per node.
    pub fn dump(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("({})\n", node.dump()))
            .collect()
    }
}

fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a trailing line-continuation escape (and blanks after it); `None` when the line
/// does not continue. An escaped escape (`\\`) at the end does not continue the line.
fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    let before = line.trim_end_matches([' ', '\t']).strip_suffix(escape)?;
    (before.is_empty() || !before.ends_with(escape)).then_some(before)
}

/// The source lines, numbered from 1 as they are read, line endings kept.
struct Lines<'a> {
    rest: std::str::SplitInclusive<'a, char>,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            rest: source.split_inclusive('\n'),
            number: 0,
        }
    }

    fn next_line(&mut self) -> Option<&'a str> {
        let line = self.rest.next()?;
        self.number += 1;
        Some(if self.number == 1 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        })
    }

    /// Appends continuation lines to `text` until one does not end with the escape
    /// character. Comment lines in between are skipped; so are blank ones, which are reported.
    fn join_continuations(&mut self, text: &mut String, escape: char) -> bool {
        let mut skipped_blank = false;
        while let Some(raw) = self.next_line() {
            let line = trim_newline(raw);
            if is_comment(line) {
                continue;
            }
            if line.trim_start().is_empty() {
                skipped_blank = true;
                continue;
            }
            match strip_continuation(line, escape) {
                Some(before) => text.push_str(before),
                None => {
                    text.push_str(line);
                    break;
                }
            }
        }
        skipped_blank
    }

    /// Reads a heredoc's content up to its terminator; `false` when the file ends first.
    fn read_heredoc(&mut self, heredoc: &mut Heredoc) -> bool {
        while let Some(raw) = self.next_line() {
            let mut candidate = trim_newline(raw);
            if heredoc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == heredoc.name {
                return true;
            }
            heredoc.content.push_str(raw);
        }
        false
    }
}

/// Parses a Dockerfile. Fails on text that BuildKit's parser rejects; unknown instructions
/// and bad flags are left for the typed layer ([`crate::Instruction::from_node`]).
pub fn parse(source: &str) -> Result<Dockerfile, Error> {
    let mut lines = Lines::new(source);
    let mut directives = DirectiveScanner::default();
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut comments: Vec<String> = Vec::new();

    while let Some(raw) = lines.next_line() {
        let start_line = lines.number;
        if is_comment(raw) {
            // BuildKit drops the first character, which is `#` unless the line is indented.
            let mut rest = raw.chars();
            rest.next();
            let comment = rest.as_str().trim();
            if comment.is_empty() {
                comments.clear();
            } else {
                comments.push(comment.to_owned());
            }
        }
        let first = trim_newline(raw).trim_start();
        let is_directive = directives
            .scan(first)
            .map_err(|kind| Error::at(start_line, kind))?;
        if is_directive {
            comments.pop();
        }
        let escape = directives.escape_char();
        let first = if is_comment(first) { "" } else { first };
        let mut text = String::new();
        match strip_continuation(first, escape) {
            Some(before) => {
                text.push_str(before);
                if lines.join_continuations(&mut text, escape) {
                    warnings.push(Warning {
                        line: lines.number,
                        message: format!("empty continuation line found in: {text}"),
                    });
                }
            }
            None if first.is_empty() => continue,
            None => text.push_str(first),
        }

        let at_start = |kind| Error::at(start_line, kind);
        let mut node = line_parsers::node_from_line(&text, escape).map_err(at_start)?;
        if node.can_contain_heredoc() && text.contains("<<") {
            for mut heredoc in heredoc::heredocs_from_line(&text).map_err(at_start)? {
                if !lines.read_heredoc(&mut heredoc) {
                    return Err(at_start(ErrorKind::UnterminatedHeredoc {
                        name: heredoc.name,
                    }));
                }
                node.heredocs.push(heredoc);
            }
        }
        node.lines = LineSpan::new(start_line, lines.number);
        if let Arguments::Trigger(trigger) = &mut node.args {
            trigger.lines = node.lines;
        }
        node.comments = std::mem::take(&mut comments);
        nodes.push(node);
    }

    if nodes.is_empty() {
        return Err(Error::NoInstructions);
    }
    Ok(Dockerfile {
        directives: directives.into_directives(),
        nodes,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(source: &str) -> String {
        parse(source).unwrap().dump()
    }

    #[test]
    fn nodes_keep_their_lines() {
        let file = parse("FROM a\n\nRUN x \\\n  y\n# c\nCOPY <<EOF /f\nhi\nEOF\nCMD z\n").unwrap();
        let spans: Vec<(usize, usize)> = file
            .nodes
            .iter()
            .map(|node| (node.lines.start, node.lines.end))
            .collect();
        assert_eq!(spans, [(1, 1), (3, 4), (6, 8), (9, 9)]);
        assert_eq!(file.nodes[2].comments, ["c"]);
    }

    #[test]
    fn heredocs_collect_their_content() {
        let file = parse(
            "FROM a\nRUN <<-EOF python3\n\tprint(1)\n\tEOF\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n",
        )
        .unwrap();
        let run = &file.nodes[1].heredocs;
        assert_eq!(run.len(), 1);
        assert_eq!(run[0].content, "\tprint(1)\n");
        assert!(run[0].chomp);
        let copy: Vec<(&str, &str)> = file.nodes[2]
            .heredocs
            .iter()
            .map(|heredoc| (heredoc.name.as_str(), heredoc.content.as_str()))
            .collect();
        assert_eq!(copy, [("X", "Y\n"), ("Y", "X\n")]);
        assert_eq!(
            file.dump(),
            "(from \"a\")\n(run \"<<-EOF python3\")\n(copy \"<<X\" \"<<Y\" \"/dest\")\n"
        );
    }

    #[test]
    fn exec_form_and_quoted_words_open_no_heredoc() {
        let file = parse("FROM a\nRUN [\"<<EOF\"]\nRUN \"<<NOHEREDOC\"\nUSER <<INVALID\nINVALID\n")
            .unwrap();
        assert!(file.nodes.iter().all(|node| node.heredocs.is_empty()));
        assert_eq!(file.nodes.len(), 5);
    }

    #[test]
    fn onbuild_heredoc() {
        let file = parse("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n").unwrap();
        assert_eq!(file.nodes[1].heredocs[0].content, "echo hi\n");
        assert_eq!(file.nodes[1].dump(), "onbuild (run \"<<EOF\")");
    }

    #[test]
    fn unterminated_heredoc() {
        let error = parse("FROM a\nRUN <<EOF\necho\n").unwrap_err();
        assert_eq!(error.to_string(), "line 2: unterminated heredoc `EOF`");
        assert_eq!(
            error.hint().as_deref(),
            Some("end the heredoc with a line that holds only `EOF`")
        );
    }

    #[test]
    fn empty_continuation_lines_warn() {
        let file = parse("FROM a\nRUN a \\\n\n  b\n").unwrap();
        assert_eq!(file.nodes[1].dump(), "run \"a   b\"");
        assert_eq!(file.warnings.len(), 1);
        assert_eq!(file.warnings[0].line, 4);
    }

    #[test]
    fn directives_are_read_and_removed_from_comments() {
        let file = parse("# syntax=docker/dockerfile:1\n# escape=`\n# about a\nFROM a `\n  AS b\n")
            .unwrap();
        assert_eq!(file.directives.escape_char(), '`');
        assert_eq!(
            file.directives.syntax.as_deref(),
            Some("docker/dockerfile:1")
        );
        assert_eq!(file.nodes[0].comments, ["about a"]);
        assert_eq!(
            dump("# escape=`\nFROM a `\n  AS b\n"),
            "(from \"a\" \"AS\" \"b\")\n"
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("").unwrap_err(), Error::NoInstructions);
        assert_eq!(
            parse("# just a comment\n\n").unwrap_err(),
            Error::NoInstructions
        );
        assert_eq!(
            parse("FROM a\nENV PATH\n").unwrap_err(),
            Error::at(2, ErrorKind::MissingValue { instruction: "ENV" })
        );
        assert_eq!(
            parse("# escape=x\nFROM a\n").unwrap_err().to_string(),
            "line 1: invalid escape token `x` in the escape directive"
        );
        assert_eq!(
            parse("FROM a\nCMD [ \"echo\", [ \"nested json\" ] ]")
                .unwrap_err()
                .to_string(),
            "line 2: when using JSON array syntax, arrays must be comprised of strings only"
        );
    }

    #[test]
    fn byte_order_mark_and_crlf() {
        assert_eq!(
            dump("\u{feff}FROM a\r\nRUN b \\\r\n c\r\n"),
            "(from \"a\")\n(run \"b  c\")\n"
        );
    }
}
