//! Shell wildcard patterns for `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`.
//!
//! BuildKit turns these patterns into Go regular expressions (`*` is `.*` or `.*?`, `?` is
//! `.`, no bracket expressions) and searches them leftmost-first. This module matches the same
//! three tokens directly with the same priorities, so results agree without a regex engine:
//! like Go's `.`, neither wildcard matches a newline.

use std::collections::HashMap;

use super::Cursor;

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`: any one character except a newline.
    AnyChar,
    /// `*`: any run of characters without a newline.
    AnyRun,
}

/// A pattern that cannot be compiled: the escape names the character after the backslash, or
/// is empty when the backslash ends the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidEscape(pub(crate) String);

#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles a pattern. Only `\*`, `\?` and `\\` are escapes; `\}` and `\/` stand for the
    /// plain character, because those must be escaped inside `${...}`.
    pub(crate) fn compile(pattern: &str) -> Result<Self, InvalidEscape> {
        let mut cursor = Cursor::new(pattern);
        let mut tokens = Vec::new();
        while let Some(ch) = cursor.bump() {
            match ch {
                '*' => tokens.push(Token::AnyRun),
                '?' => tokens.push(Token::AnyChar),
                '\\' => {
                    if matches!(cursor.peek(), Some('}' | '/')) {
                        continue;
                    }
                    match cursor.bump() {
                        Some(escaped @ ('*' | '?' | '\\')) => tokens.push(Token::Literal(escaped)),
                        other => {
                            return Err(InvalidEscape(other.map(String::from).unwrap_or_default()))
                        }
                    }
                }
                literal => tokens.push(Token::Literal(literal)),
            }
        }
        Ok(Self { tokens })
    }

    /// `value` without its prefix that the pattern matches: the longest when `greedy`, else the
    /// shortest. Unchanged when nothing matches.
    pub(crate) fn trim_prefix(&self, value: &str, greedy: bool) -> String {
        let text: Vec<char> = value.chars().collect();
        match Matcher::new(&self.tokens, &text, greedy).match_at(0) {
            Some(end) => text[end..].iter().collect(),
            None => value.to_owned(),
        }
    }

    /// `value` without its suffix that the pattern matches, found like [`Self::trim_prefix`]
    /// on the reversed pattern and value, as BuildKit does.
    pub(crate) fn trim_suffix(&self, value: &str, greedy: bool) -> String {
        let reversed_tokens: Vec<Token> = self.tokens.iter().rev().copied().collect();
        let reversed_text: Vec<char> = value.chars().rev().collect();
        match Matcher::new(&reversed_tokens, &reversed_text, greedy).match_at(0) {
            Some(end) => reversed_text[end..].iter().rev().collect(),
            None => value.to_owned(),
        }
    }

    /// Replaces the first (or every) leftmost-longest match, the way Go's `ReplaceAllString`
    /// walks a string: an empty match right after a previous match is not replaced. `None`
    /// when the result would be longer than `limit` bytes.
    pub(crate) fn replace(
        &self,
        value: &str,
        replacement: &str,
        every: bool,
        limit: usize,
    ) -> Option<String> {
        let text: Vec<char> = value.chars().collect();
        let mut matcher = Matcher::new(&self.tokens, &text, true);
        let mut out = String::new();
        let mut last_end = 0;
        let mut search = 0;
        while search <= text.len() {
            let Some((start, end)) = matcher.find_from(search) else {
                break;
            };
            out.extend(&text[last_end..start]);
            if end > last_end || start == 0 {
                out.push_str(replacement);
            }
            if out.len() > limit {
                return None;
            }
            last_end = end;
            if !every {
                break;
            }
            // Always advance at least one character.
            search = if search + 1 > end { search + 1 } else { end };
        }
        out.extend(&text[last_end..]);
        (out.len() <= limit).then_some(out)
    }
}

/// Backtracking matcher with the priorities of a leftmost-first regex engine: a greedy `*`
/// tries the longest run first, a lazy one the shortest. Results are memoized per (token,
/// position), which keeps the search polynomial.
struct Matcher<'a> {
    tokens: &'a [Token],
    text: &'a [char],
    greedy: bool,
    memo: HashMap<(usize, usize), Option<usize>>,
}

impl<'a> Matcher<'a> {
    fn new(tokens: &'a [Token], text: &'a [char], greedy: bool) -> Self {
        Self {
            tokens,
            text,
            greedy,
            memo: HashMap::new(),
        }
    }

    /// The leftmost match starting at or after `from`, as (start, end).
    fn find_from(&mut self, from: usize) -> Option<(usize, usize)> {
        (from..=self.text.len()).find_map(|start| self.match_at(start).map(|end| (start, end)))
    }

    /// The end of the preferred match that starts exactly at `start`.
    fn match_at(&mut self, start: usize) -> Option<usize> {
        self.match_tokens(0, start)
    }

    fn match_tokens(&mut self, token: usize, at: usize) -> Option<usize> {
        let Some(&current) = self.tokens.get(token) else {
            return Some(at);
        };
        if let Some(&known) = self.memo.get(&(token, at)) {
            return known;
        }
        let next_char = self.text.get(at).copied();
        let result = match current {
            Token::Literal(expected) => match next_char {
                Some(ch) if ch == expected => self.match_tokens(token + 1, at + 1),
                _ => None,
            },
            Token::AnyChar => match next_char {
                Some(ch) if ch != '\n' => self.match_tokens(token + 1, at + 1),
                _ => None,
            },
            Token::AnyRun => {
                let run = self.text[at..].iter().take_while(|&&ch| ch != '\n').count();
                if self.greedy {
                    (at..=at + run)
                        .rev()
                        .find_map(|end| self.match_tokens(token + 1, end))
                } else {
                    (at..=at + run).find_map(|end| self.match_tokens(token + 1, end))
                }
            }
        };
        self.memo.insert((token, at), result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(pattern: &str) -> Pattern {
        Pattern::compile(pattern).expect("valid pattern")
    }

    fn replace(pattern: &str, value: &str, replacement: &str, every: bool) -> String {
        compile(pattern)
            .replace(value, replacement, every, usize::MAX)
            .expect("no limit")
    }

    #[test]
    fn escapes_are_limited_to_wildcards_and_backslash() {
        assert!(Pattern::compile(r"\*\?\\").is_ok());
        assert_eq!(
            Pattern::compile(r"\x").unwrap_err(),
            InvalidEscape("x".into())
        );
        assert_eq!(
            Pattern::compile("\\").unwrap_err(),
            InvalidEscape(String::new())
        );
        assert_eq!(compile(r"a\}b").trim_prefix("a}bc", false), "c");
    }

    #[test]
    fn prefix_and_suffix_trimming() {
        assert_eq!(compile("*x*y").trim_prefix("xxyy", false), "y");
        assert_eq!(compile("*x").trim_prefix("xxyy", true), "yy");
        assert_eq!(compile("*").trim_prefix("xxyy", false), "xxyy");
        assert_eq!(compile("?\\?").trim_prefix("???y", false), "?y");
        assert_eq!(compile("\\**").trim_suffix("xx**", true), "xx");
        assert_eq!(compile("\\**\\*").trim_suffix("a***yy*", true), "a");
        assert_eq!(
            compile("/*").trim_suffix("linux/arm/v7", false),
            "linux/arm"
        );
        assert_eq!(compile("*/").trim_prefix("linux/arm/v7", true), "v7");
    }

    #[test]
    fn replacement_first_and_every() {
        assert_eq!(replace("\\*/", "/foo*/*/*.txt", ".", false), "/foo.*/*.txt");
        assert_eq!(replace("\\*/", "/foo*/*/*.txt", ".", true), "/foo..*.txt");
        assert_eq!(replace("/?/", "/a/foo/b/c.txt", "/", true), "/foo/c.txt");
        assert_eq!(replace("", "xxyy", "ww", false), "wwxxyy");
        assert_eq!(replace("", "ab", "-", true), "-a-b-");
        assert_eq!(replace("x*", "axxb", "-", true), "a-");
    }

    #[test]
    fn replacement_stops_at_its_limit() {
        assert_eq!(
            compile("").replace("ab", "-", true, 5).as_deref(),
            Some("-a-b-")
        );
        assert_eq!(compile("").replace("ab", "-", true, 4), None);
        assert_eq!(
            compile("").replace("abc", "--", false, 5).as_deref(),
            Some("--abc")
        );
    }

    #[test]
    fn wildcards_stop_at_newlines() {
        assert_eq!(compile("*").trim_prefix("ab\ncd", true), "\ncd");
        assert_eq!(replace("a?c", "a\nc abc", "-", true), "a\nc -");
    }
}
