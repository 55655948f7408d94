//! Shell-word processing like BuildKit's `shell.Lex`: quote removal, escapes, `$VAR` and
//! `${VAR...}` expansion, and splitting into words after expansion.
//!
//! [`ShellLexer::process_word`] gives the expanded text with inner spacing kept (ENV values,
//! WORKDIR, labels); [`ShellLexer::process_words`] splits it into words (EXPOSE, shell-form
//! arguments that need splitting). Variables are looked up case-sensitively, as on Unix.

mod pattern;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;

use pattern::{InvalidEscape, Pattern};

/// Where [`ShellLexer`] finds variable values.
pub trait Variables {
    /// The value of `name`, or `None` when it is not set (an empty value is set).
    fn lookup(&self, name: &str) -> Option<&str>;
}

impl<S: BuildHasher> Variables for HashMap<String, String, S> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl Variables for BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// No variables at all: used where BuildKit lexes with an empty environment.
pub(crate) struct NoVariables;

impl Variables for NoVariables {
    fn lookup(&self, _name: &str) -> Option<&str> {
        None
    }
}

/// The outcome of expanding one word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The expanded text, quotes removed, inner whitespace kept.
    pub value: String,
    /// The expanded text split on unquoted whitespace.
    pub words: Vec<String>,
    /// Variables that were referenced and set.
    pub matched: BTreeSet<String>,
    /// Variables that were referenced but not set (useful for lints).
    pub unmatched: BTreeSet<String>,
}

/// Why a word could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandErrorReason {
    #[error("missing `}}` in `${{...}}`")]
    MissingClosingBrace,
    #[error("bad substitution")]
    BadSubstitution,
    #[error("unsupported modifier `{0}` in substitution")]
    UnsupportedModifier(String),
    #[error("missing `/` in `${{.../...}}`")]
    MissingSlash,
    #[error("unterminated single quote")]
    UnterminatedSingleQuote,
    #[error("unterminated double quote")]
    UnterminatedDoubleQuote,
    /// `${NAME?message}` or `${NAME:?message}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required { name: String, message: String },
    #[error("invalid pattern `{pattern}` in substitution: invalid escape `\\{escaped}`")]
    InvalidPattern { pattern: String, escaped: String },
    /// Nested `${NAME//pattern/replacement}` multiply the text; a word stops at a bound.
    #[error("its variables expand to more than {} MiB", MAX_EXPANSION >> 20)]
    TooLong,
}

/// The most text the variables of one word may expand to, in bytes. Far beyond any real
/// word; it keeps a nested `${NAME//.../${NAME//...}}` from growing exponentially.
pub(crate) const MAX_EXPANSION: usize = 1 << 20;

/// A word that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot expand `{word}`: {reason}")]
pub struct ExpandError {
    pub word: String,
    pub reason: ExpandErrorReason,
}

/// Shell-word lexer and expander with BuildKit's semantics. The options mirror BuildKit's
/// `Lex` fields; the defaults remove quotes and escapes and expand unset variables to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShellLexer {
    escape: char,
    keep_quotes: bool,
    keep_escapes: bool,
    keep_unset: bool,
    ignore_quotes: bool,
}

impl ShellLexer {
    /// A lexer whose escape character is `escape` (`\` or `` ` ``, from the `escape` directive).
    pub fn new(escape: char) -> Self {
        Self {
            escape,
            keep_quotes: false,
            keep_escapes: false,
            keep_unset: false,
            ignore_quotes: false,
        }
    }

    /// Keeps quote characters in the output (BuildKit's `RawQuotes`).
    pub fn keep_quotes(mut self, keep: bool) -> Self {
        self.keep_quotes = keep;
        self
    }

    /// Keeps escape characters in the output (BuildKit's `RawEscapes`).
    pub fn keep_escapes(mut self, keep: bool) -> Self {
        self.keep_escapes = keep;
        self
    }

    /// Leaves references to unset variables as written (BuildKit's `SkipUnsetEnv`).
    pub fn keep_unset_variables(mut self, keep: bool) -> Self {
        self.keep_unset = keep;
        self
    }

    /// Treats quotes as ordinary characters (BuildKit's `SkipProcessQuotes`), as for heredoc
    /// bodies, where quotes belong to the script.
    pub fn ignore_quotes(mut self, ignore: bool) -> Self {
        self.ignore_quotes = ignore;
        self
    }

    /// Expands `word`, keeping inner whitespace (BuildKit's `ProcessWord`).
    pub fn process_word(&self, word: &str, vars: &dyn Variables) -> Result<String, ExpandError> {
        self.expand(word, vars).map(|expansion| expansion.value)
    }

    /// Expands `word` and splits it into words on unquoted whitespace (BuildKit's
    /// `ProcessWords`).
    pub fn process_words(
        &self,
        word: &str,
        vars: &dyn Variables,
    ) -> Result<Vec<String>, ExpandError> {
        self.expand(word, vars).map(|expansion| expansion.words)
    }

    /// Expands `word` and reports which variables it used.
    pub fn expand(&self, word: &str, vars: &dyn Variables) -> Result<Expansion, ExpandError> {
        let mut processor = WordProcessor {
            lexer: self,
            vars,
            cursor: Cursor::new(word),
            keep_escapes: self.keep_escapes,
            expanded: 0,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        };
        let (value, words) = processor
            .process_until(Stop::End, self.keep_escapes)
            .map_err(|reason| ExpandError {
                word: word.to_owned(),
                reason,
            })?;
        Ok(Expansion {
            value,
            words,
            matched: processor.matched,
            unmatched: processor.unmatched,
        })
    }
}

/// A character cursor that, like Go's `text/scanner`, skips a leading byte-order mark.
pub(crate) struct Cursor {
    chars: Vec<char>,
    position: usize,
}

impl Cursor {
    pub(crate) fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let position = usize::from(chars.first() == Some(&'\u{feff}'));
        Self { chars, position }
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.position += 1;
        Some(ch)
    }
}

/// Where a nested scan ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    End,
    At(char),
}

/// Collects words the way BuildKit does: unquoted whitespace from the source or from a
/// variable's value separates words, quoted text never does, and empty words are dropped.
#[derive(Default)]
struct WordSplitter {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl WordSplitter {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }

    fn add_str(&mut self, text: &str) {
        text.chars().for_each(|ch| self.add_char(ch));
    }

    fn add_raw_str(&mut self, text: &str) {
        self.word.push_str(text);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

struct WordProcessor<'a> {
    lexer: &'a ShellLexer,
    vars: &'a dyn Variables,
    cursor: Cursor,
    keep_escapes: bool,
    /// Bytes the word's variables have expanded to so far, nested ones included.
    expanded: usize,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

type Reason = ExpandErrorReason;

impl WordProcessor<'_> {
    /// Processes text until `stop` (consumed) or the end; returns the text and its words.
    /// `keep_escapes` applies to this scan only (patterns keep their escapes).
    fn process_until(
        &mut self,
        stop: Stop,
        keep_escapes: bool,
    ) -> Result<(String, Vec<String>), Reason> {
        let outer_keep_escapes = std::mem::replace(&mut self.keep_escapes, keep_escapes);
        let scanned = self.scan_until(stop);
        self.keep_escapes = outer_keep_escapes;
        scanned
    }

    fn scan_until(&mut self, stop: Stop) -> Result<(String, Vec<String>), Reason> {
        let mut result = String::new();
        let mut words = WordSplitter::default();
        let processes_quotes = !self.lexer.ignore_quotes;
        while let Some(ch) = self.cursor.peek() {
            if stop == Stop::At(ch) {
                self.cursor.bump();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                    words.add_str(&value);
                }
                '<' => {
                    let text = self.possible_heredoc();
                    result.push_str(&text);
                    words.add_raw_str(&text);
                }
                '\'' if processes_quotes => {
                    let text = self.single_quoted()?;
                    result.push_str(&text);
                    words.add_raw_str(&text);
                }
                '"' if processes_quotes => {
                    let text = self.double_quoted()?;
                    result.push_str(&text);
                    words.add_raw_str(&text);
                }
                _ => {
                    self.cursor.bump();
                    if ch == self.lexer.escape {
                        if self.keep_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        // An escape at the very end is dropped.
                        let Some(escaped) = self.cursor.bump() else {
                            break;
                        };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        match stop {
            Stop::End => Ok((result, words.finish())),
            Stop::At(stop) => Err(missing(stop)),
        }
    }

    fn single_quoted(&mut self) -> Result<String, Reason> {
        let mut result = String::new();
        let open = self.cursor.bump();
        if self.lexer.keep_quotes {
            result.extend(open);
        }
        loop {
            match self.cursor.bump() {
                None => return Err(Reason::UnterminatedSingleQuote),
                Some('\'') => {
                    if self.lexer.keep_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(ch) => result.push(ch),
            }
        }
    }

    /// Inside double quotes only `$` is special, and the escape character escapes only `"`,
    /// `$` and itself; before anything else it stays literal.
    fn double_quoted(&mut self) -> Result<String, Reason> {
        let mut result = String::new();
        let open = self.cursor.bump();
        if self.lexer.keep_quotes {
            result.extend(open);
        }
        loop {
            match self.cursor.peek() {
                None => return Err(Reason::UnterminatedDoubleQuote),
                Some('"') => {
                    self.cursor.bump();
                    if self.lexer.keep_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                }
                Some(mut ch) => {
                    self.cursor.bump();
                    if ch == self.lexer.escape {
                        if self.keep_escapes {
                            result.push(ch);
                        }
                        match self.cursor.peek() {
                            // The loop then reports the missing closing quote.
                            None => continue,
                            Some(next)
                                if next == '"' || next == '$' || next == self.lexer.escape =>
                            {
                                self.cursor.bump();
                                ch = next;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    /// `<<` keeps the blanks after it, so that `<< EOF` stays one word and can be recognized as
    /// a heredoc.
    fn possible_heredoc(&mut self) -> String {
        self.cursor.bump();
        if self.cursor.peek() != Some('<') {
            return "<".to_owned();
        }
        self.cursor.bump();
        let mut text = "<<".to_owned();
        while let Some(blank @ (' ' | '\t' | '\r')) = self.cursor.peek() {
            self.cursor.bump();
            text.push(blank);
        }
        text
    }

    /// A `$` expansion, charged against the word's [`MAX_EXPANSION`].
    fn dollar(&mut self) -> Result<String, Reason> {
        let value = self.dollar_value()?;
        self.expanded += value.len();
        if self.expanded > MAX_EXPANSION {
            return Err(Reason::TooLong);
        }
        Ok(value)
    }

    fn dollar_value(&mut self) -> Result<String, Reason> {
        self.cursor.bump();
        if self.cursor.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(match self.lookup(&name) {
                Some(value) => value,
                None if self.lexer.keep_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.cursor.bump();
        match self.cursor.peek() {
            None => return Err(Reason::MissingClosingBrace),
            Some('{' | '}' | ':') => return Err(Reason::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.cursor.bump() {
            None => Err(Reason::MissingClosingBrace),
            Some('}') => Ok(match self.lookup(&name) {
                Some(value) => value,
                None if self.lexer.keep_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some('/') => self.substitute(&name),
            Some(first @ (':' | '-' | '+' | '?' | '#' | '%')) => self.modifier(&name, first),
            Some(other) => Err(Reason::UnsupportedModifier(other.to_string())),
        }
    }

    /// `${NAME-word}`, `${NAME:-word}`, `+`, `?`, and the `#`/`%` pattern trims. The word is
    /// read before the modifier is checked, as BuildKit does, so that unset variables are kept
    /// as written when asked even with a modifier it does not support.
    fn modifier(&mut self, name: &str, first: char) -> Result<String, Reason> {
        let null_is_unset = first == ':';
        let modifier = if null_is_unset {
            self.cursor.bump().ok_or(Reason::MissingClosingBrace)?
        } else {
            first
        };
        let written = if null_is_unset {
            format!(":{modifier}")
        } else {
            modifier.to_string()
        };
        let is_pattern = matches!(modifier, '#' | '%');
        let word = self.nested_word('}', is_pattern)?;
        let value = self.lookup(name);
        if self.lexer.keep_unset && value.is_none() {
            return Ok(format!("${{{name}{written}{word}}}"));
        }
        let unset_or_null = match &value {
            None => true,
            Some(value) => null_is_unset && value.is_empty(),
        };
        match modifier {
            '-' if unset_or_null => Ok(word),
            '-' => Ok(value.unwrap_or_default()),
            '+' if unset_or_null => Ok(String::new()),
            '+' => Ok(word),
            '?' if unset_or_null => {
                let message = if !word.is_empty() {
                    word
                } else if value.is_none() {
                    "is not allowed to be unset".to_owned()
                } else {
                    "is not allowed to be empty".to_owned()
                };
                Err(Reason::Required {
                    name: name.to_owned(),
                    message,
                })
            }
            '?' => Ok(value.unwrap_or_default()),
            '#' | '%' if !null_is_unset => {
                let value = value.unwrap_or_default();
                let (pattern_text, greedy) = match word.strip_prefix(modifier) {
                    Some(rest) => (rest, true),
                    None => (word.as_str(), false),
                };
                let pattern = compile(pattern_text)?;
                Ok(if modifier == '#' {
                    pattern.trim_prefix(&value, greedy)
                } else {
                    pattern.trim_suffix(&value, greedy)
                })
            }
            _ => Err(Reason::UnsupportedModifier(written)),
        }
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`.
    fn substitute(&mut self, name: &str) -> Result<String, Reason> {
        let every = self.cursor.peek() == Some('/');
        if every {
            self.cursor.bump();
        }
        let pattern_text = self.nested_word('/', true)?;
        let replacement = self.nested_word('}', true)?;
        let Some(value) = self.lookup(name) else {
            return Ok(if self.lexer.keep_unset {
                format!("${{{name}/{pattern_text}/{replacement}}}")
            } else {
                String::new()
            });
        };
        let room = MAX_EXPANSION.saturating_sub(self.expanded);
        compile(&pattern_text)?
            .replace(&value, &replacement, every, room)
            .ok_or(Reason::TooLong)
    }

    /// Text up to `stop` inside `${...}`; running off the end there is reported as the missing
    /// `stop`, whatever was open at the time.
    fn nested_word(&mut self, stop: char, keep_escapes: bool) -> Result<String, Reason> {
        match self.process_until(Stop::At(stop), keep_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.cursor.peek().is_none() => Err(missing(stop)),
            Err(reason) => Err(reason),
        }
    }

    /// A variable name: letters, digits and `_`; or a run of digits (a positional parameter);
    /// or one special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.cursor.peek() {
            if name.is_empty() && ch.is_numeric() {
                while let Some(digit) = self.cursor.peek().filter(|ch| ch.is_numeric()) {
                    self.cursor.bump();
                    name.push(digit);
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.cursor.bump();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.cursor.bump();
            name.push(ch);
        }
        name
    }

    fn lookup(&mut self, name: &str) -> Option<String> {
        match self.vars.lookup(name) {
            Some(value) => {
                self.matched.insert(name.to_owned());
                Some(value.to_owned())
            }
            None => {
                self.unmatched.insert(name.to_owned());
                None
            }
        }
    }
}

fn missing(stop: char) -> Reason {
    if stop == '/' {
        Reason::MissingSlash
    } else {
        Reason::MissingClosingBrace
    }
}

fn compile(pattern: &str) -> Result<Pattern, Reason> {
    Pattern::compile(pattern).map_err(|InvalidEscape(escaped)| Reason::InvalidPattern {
        pattern: pattern.to_owned(),
        escaped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn word(input: &str, pairs: &[(&str, &str)]) -> Result<String, ExpandError> {
        ShellLexer::new('\\').process_word(input, &vars(pairs))
    }

    #[test]
    fn required_variables() {
        let set = [("VAR", "plain"), ("ARG", "x")];
        let empty = [("VAR", ""), ("ARG", "x")];
        let unset = [("ARG", "x")];
        let no_empty = "${VAR:?message here$ARG}";
        let no_unset = "${VAR?message here$ARG}";
        assert_eq!(word(no_empty, &set).unwrap(), "plain");
        assert_eq!(
            word(no_empty, &empty).unwrap_err().to_string(),
            "cannot expand `${VAR:?message here$ARG}`: VAR: message herex"
        );
        assert!(word(no_empty, &unset).is_err());
        assert_eq!(word(no_unset, &set).unwrap(), "plain");
        assert_eq!(word(no_unset, &empty).unwrap(), "");
        assert_eq!(
            word("${VAR?}", &unset).unwrap_err().reason,
            ExpandErrorReason::Required {
                name: "VAR".into(),
                message: "is not allowed to be unset".into()
            }
        );
        assert_eq!(
            word("${VAR:?}", &empty).unwrap_err().reason.to_string(),
            "VAR: is not allowed to be empty"
        );
    }

    #[test]
    fn defaults_and_alternatives_report_matches() {
        let env = vars(&[("FOO", "xxx"), ("BAR", "")]);
        let lexer = ShellLexer::new('\\');
        let dash = lexer
            .expand("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", &env)
            .unwrap();
        assert_eq!(dash.value, "xxx  ccc");
        assert_eq!(dash.matched, ["BAR", "FOO"].map(String::from).into());
        assert_eq!(dash.unmatched, ["BAZ"].map(String::from).into());
        let colon = lexer.process_word("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", &env);
        assert_eq!(colon.unwrap(), "xxx bbb ccc");
        let plus = lexer.process_word("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", &env);
        assert_eq!(plus.unwrap(), "aaa bbb ");
        let colon_plus = lexer.process_word("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", &env);
        assert_eq!(colon_plus.unwrap(), "aaa  ");
    }

    #[test]
    fn pattern_modifiers() {
        let cases = [
            (r"${FOO#()[]{\}^$.\*\?|\\}", r"()[]{}^$.*?|\x", "x"),
            (r"${FOO%%\**}", "xx**", "xx"),
            ("${FOO#*x*y}", "xxyy", "y"),
            ("${FOO#*}", "xxyy", "xxyy"),
            ("${FOO#}", "xxyy", "xxyy"),
            ("${FOO##*x}", "xxyy", "yy"),
            ("${FOO##}", "xxyy", "xxyy"),
            (r"${FOO#?\?}", "???y", "?y"),
            (r"${FOO%%\**\*}", "a***yy*", "a"),
            ("${FOO%}", "xxyy", "xxyy"),
            ("${FOO%/*}", "linux/arm64/v8", "linux/arm64"),
            ("${FOO%%/*}", "linux/arm64/v8", "linux"),
            ("${FOO##*/}", "linux/arm64/v8", "v8"),
            (r"${FOO//\//\/}", "/tmp/foo.txt", r"\/tmp\/foo.txt"),
            ("${FOO///}", "xxyy", "xxyy"),
        ];
        for (input, value, expected) in cases {
            assert_eq!(word(input, &[("FOO", value)]).unwrap(), expected, "{input}");
        }
        assert_eq!(
            word("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")]).unwrap(),
            "xyy"
        );
        assert_eq!(
            word("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")]).unwrap(),
            ".xxyy."
        );
        assert_eq!(word("${FOO///}", &[]).unwrap(), "");
    }

    #[test]
    fn substitution() {
        let env = [("FOO", "/foo*/*/*.txt"), ("NEEDLE", r"\*/")];
        assert_eq!(
            word("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", &env).unwrap(),
            "/foo.*/*.txt - /foo..*.txt"
        );
        let env = [("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")];
        assert_eq!(
            word("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", &env).unwrap(),
            "/tmp/bar.txt - /bar.txt"
        );
        let env = [
            ("FOO", "http://google.de"),
            ("N", "http://"),
            ("R", "https://"),
        ];
        assert_eq!(word("${FOO/$N/$R}", &env).unwrap(), "https://google.de");
        assert_eq!(
            word("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")]).unwrap(),
            "wwxxyy"
        );
        for broken in [
            "${FOO//ww}",
            "${FOO//}",
            "${FOO=aaa}",
            "${FOO=:aaa}",
            "${FOO=}",
        ] {
            assert!(word(broken, &[("FOO", "xxyy")]).is_err(), "{broken}");
        }
        assert_eq!(
            word(r"${FOO/\x/y}", &[("FOO", "x")])
                .unwrap_err()
                .reason
                .to_string(),
            r"invalid pattern `\x` in substitution: invalid escape `\x`"
        );
    }

    #[test]
    fn nested_substitutions_stop_at_the_expansion_bound() {
        // Each level puts the level inside it between every character of PATH: 14^n bytes.
        let mut nested = String::from("-");
        for _ in 0..8 {
            nested = format!("${{PATH///{nested}}}");
        }
        let error = word(&nested, &[("PATH", "/usr/bin:/bin")]).unwrap_err();
        assert_eq!(error.reason, ExpandErrorReason::TooLong);
        assert!(
            error.to_string().ends_with("expand to more than 1 MiB"),
            "{error}"
        );
        // Up to the bound the same shape expands as BuildKit would.
        let two = "${PATH///${PATH///-}}";
        let inner = "-/-u-s-r-/-b-i-n-:-/-b-i-n-";
        let expected: String = "/usr/bin:/bin"
            .chars()
            .flat_map(|ch| inner.chars().chain([ch]))
            .chain(inner.chars())
            .collect();
        assert_eq!(word(two, &[("PATH", "/usr/bin:/bin")]).unwrap(), expected);
        // Many siblings share one bound too.
        let siblings = "${PATH///${PATH///${PATH///${PATH///-}}}}".repeat(200);
        let error = word(&siblings, &[("PATH", "/usr/bin:/bin")]).unwrap_err();
        assert_eq!(error.reason, ExpandErrorReason::TooLong);
    }

    #[test]
    fn colon_before_pattern_modifier_is_unsupported() {
        assert_eq!(
            word("${FOO:#x}", &[("FOO", "xy")]).unwrap_err().reason,
            ExpandErrorReason::UnsupportedModifier(":#".into())
        );
    }

    #[test]
    fn backtick_escape() {
        let lexer = ShellLexer::new('`');
        let env = vars(&[("A", "1")]);
        assert_eq!(lexer.process_word(r"C:\dir`$A", &env).unwrap(), r"C:\dir$A");
        assert_eq!(lexer.process_word(r#""a`"b""#, &env).unwrap(), r#"a"b"#);
    }

    #[test]
    fn raw_modes_keep_what_heredoc_detection_needs() {
        let lexer = ShellLexer::new('\\')
            .keep_quotes(true)
            .keep_escapes(true)
            .keep_unset_variables(true);
        let words = lexer
            .process_words(r#"RUN <<  EOF 3<<'E"x' "q" \t $X ${Y:-z}"#, &NoVariables)
            .unwrap();
        assert_eq!(
            words,
            [
                "RUN",
                "<<  EOF",
                "3<<'E\"x'",
                "\"q\"",
                r"\t",
                "$X",
                "${Y:-z}"
            ]
        );
    }

    #[test]
    fn ignoring_quotes_expands_inside_them() {
        let lexer = ShellLexer::new('\\').ignore_quotes(true);
        let env = vars(&[("NAME", "me")]);
        assert_eq!(
            lexer.process_word("echo '$NAME' \"$NAME\"", &env).unwrap(),
            "echo 'me' \"me\""
        );
    }
}
