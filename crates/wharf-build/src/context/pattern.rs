//! Go-compatible path patterns: `path/filepath.Match` (COPY source wildcards) and the pattern
//! language of moby/patternmatcher (`.dockerignore`, `COPY --exclude`), plus Go's
//! `filepath.Clean`. Matching works on `/`-separated relative paths.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Lit(char),
    /// `*`: any run of characters except `/`.
    Star,
    /// `?`: one character except `/`.
    Quest,
    Class(Class),
    /// `**` followed by more pattern: nothing, or anything ending in `/` (regexp `(.*/)?`).
    AnyDirs,
    /// `**` at the end: anything (regexp `.*`).
    AnyTail,
}

/// A `[...]` character class. Like the regexp patternmatcher builds, a negated class may
/// match `/`.
#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// Why a pattern is malformed (Go's `filepath.ErrBadPattern`).
pub(crate) const BAD_PATTERN: &str = "syntax error in pattern";

/// Parses a class body after `[`; returns the class and the rest after `]`.
fn parse_class(mut rest: &str) -> Result<(Class, &str), &'static str> {
    let mut negated = false;
    if let Some(r) = rest.strip_prefix('^') {
        negated = true;
        rest = r;
    }
    let mut ranges = Vec::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => return Err(BAD_PATTERN),
            Some(']') if !ranges.is_empty() => {
                return Ok((Class { negated, ranges }, chars.as_str()))
            }
            Some(_) => {}
        }
        let (lo, r) = class_char(rest)?;
        rest = r;
        let mut hi = lo;
        if let Some(r) = rest.strip_prefix('-') {
            let (h, r) = class_char(r)?;
            hi = h;
            rest = r;
        }
        ranges.push((lo, hi));
    }
}

/// One (possibly escaped) class character; `-` and `]` must be escaped, as in Go.
fn class_char(s: &str) -> Result<(char, &str), &'static str> {
    let mut chars = s.chars();
    match chars.next() {
        None | Some('-') | Some(']') => Err(BAD_PATTERN),
        Some('\\') => chars.next().map(|c| (c, chars.as_str())).ok_or(BAD_PATTERN),
        Some(c) => Ok((c, chars.as_str())),
    }
}

/// A compiled Go `filepath.Match` pattern (`*`, `?`, `[...]`, `\` escapes; no `**`).
#[derive(Debug, Clone)]
pub(crate) struct GoGlob(Vec<Token>);

impl GoGlob {
    pub(crate) fn new(pattern: &str) -> Result<Self, &'static str> {
        let mut tokens = Vec::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            tokens.push(match c {
                '*' => Token::Star,
                '?' => Token::Quest,
                '[' => {
                    let (class, r) = parse_class(rest)?;
                    rest = r;
                    Token::Class(class)
                }
                '\\' => {
                    let e = rest.chars().next().ok_or(BAD_PATTERN)?;
                    rest = &rest[e.len_utf8()..];
                    Token::Lit(e)
                }
                c => Token::Lit(c),
            });
        }
        Ok(Self(tokens))
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        match_tokens(&self.0, name)
    }
}

/// Whether a path component holds wildcard characters (fsutil's `containsWildcards`).
pub(crate) fn has_wildcards(component: &str) -> bool {
    let mut bytes = component.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
    }
    false
}

/// Whether `tokens` match all of `s`. Each (token, offset) pair is decided once: plain
/// backtracking takes exponential time on a pattern of many stars (a hostile
/// `.dockerignore` of `*****...` hung the build).
fn match_tokens(tokens: &[Token], s: &str) -> bool {
    Matcher {
        tokens,
        s,
        known: vec![None; (tokens.len() + 1) * (s.len() + 1)],
    }
    .at(0, 0)
}

struct Matcher<'a> {
    tokens: &'a [Token],
    s: &'a str,
    /// By `token * (s.len() + 1) + offset`.
    known: Vec<Option<bool>>,
}

impl Matcher<'_> {
    /// Whether the tokens from `t` on match `s` from byte `i` on.
    fn at(&mut self, t: usize, i: usize) -> bool {
        let key = t * (self.s.len() + 1) + i;
        if let Some(known) = self.known[key] {
            return known;
        }
        let result = self.decide(t, i);
        self.known[key] = Some(result);
        result
    }

    fn decide(&mut self, t: usize, i: usize) -> bool {
        let rest = &self.s[i..];
        let Some(token) = self.tokens.get(t) else {
            return rest.is_empty();
        };
        let next = rest.chars().next();
        let after = i + next.map_or(0, char::len_utf8);
        match token {
            Token::Lit(c) => next == Some(*c) && self.at(t + 1, after),
            Token::Quest => next.is_some_and(|c| c != '/') && self.at(t + 1, after),
            Token::Class(class) => next.is_some_and(|c| class.matches(c)) && self.at(t + 1, after),
            Token::Star => {
                self.at(t + 1, i) || (next.is_some_and(|c| c != '/') && self.at(t, after))
            }
            Token::AnyDirs => {
                self.at(t + 1, i)
                    || rest
                        .match_indices('/')
                        .any(|(j, _)| self.at(t + 1, i + j + 1))
            }
            Token::AnyTail => true,
        }
    }
}

/// How patternmatcher decided to match a pattern; the quirks of each kind are Docker's.
#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// `dir/**`: a plain string prefix.
    Prefix(String),
    /// `**/name` or `**name`: a plain string suffix (`**/foo` also matches `foo`).
    Suffix(String),
    Tokens(Vec<Token>),
}

/// One compiled `.dockerignore` / `--exclude` pattern (moby/patternmatcher semantics).
#[derive(Debug, Clone)]
pub(crate) struct IgnorePattern {
    /// The cleaned pattern without its `!`.
    pub(crate) text: String,
    pub(crate) exclusion: bool,
    kind: Kind,
}

impl IgnorePattern {
    /// Compiles an already trimmed, cleaned pattern (the `!` removed by the caller).
    pub(crate) fn new(text: String, exclusion: bool) -> Result<Self, &'static str> {
        // Go validates with filepath.Match first; the same syntax errors apply here.
        GoGlob::new(&text)?;
        let kind = compile(&text);
        Ok(Self {
            text,
            exclusion,
            kind,
        })
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(p) => path.starts_with(p.as_str()),
            Kind::Suffix(s) => {
                path.ends_with(s.as_str()) || s.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Tokens(t) => match_tokens(t, path),
        }
    }

    /// The pattern with a trailing `/**` or `/*` removed, when the rest is a plain path
    /// (fsutil uses this to skip walking directories no exception can reach).
    pub(crate) fn literal_prefix(&self) -> Option<&str> {
        let p = self.text.strip_suffix("/**").unwrap_or(&self.text);
        let p = p.strip_suffix("/*").unwrap_or(p);
        (!p.contains(['*', '[', ']', '?', '^', '\\'])).then_some(p)
    }
}

/// Mirrors patternmatcher's `compile`, which classifies patterns and builds a regexp.
fn compile(pattern: &str) -> Kind {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let mut detected = Detected::Exact;
    let mut tokens = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    let mut iteration = 0;
    while pos < chars.len() {
        let c = chars[pos];
        pos += 1;
        match c {
            '*' if chars.get(pos) == Some(&'*') => {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos == chars.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        detected = Detected::Regexp;
                    }
                    tokens.push(Token::AnyTail);
                } else {
                    detected = Detected::Regexp;
                    tokens.push(Token::AnyDirs);
                }
                if iteration == 0 {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                detected = Detected::Regexp;
                tokens.push(Token::Star);
            }
            '?' => {
                detected = Detected::Regexp;
                tokens.push(Token::Quest);
            }
            '\\' => {
                if let Some(&e) = chars.get(pos) {
                    pos += 1;
                    detected = Detected::Regexp;
                    tokens.push(Token::Lit(e));
                } else {
                    tokens.push(Token::Lit('\\'));
                }
            }
            '[' => {
                detected = Detected::Regexp;
                let rest: String = chars[pos..].iter().collect();
                // Already validated by GoGlob::new.
                if let Ok((class, tail)) = parse_class(&rest) {
                    pos = chars.len() - tail.chars().count();
                    tokens.push(Token::Class(class));
                }
            }
            c => tokens.push(Token::Lit(c)),
        }
        iteration += 1;
    }
    match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_owned()),
        Detected::Suffix => Kind::Suffix(pattern[2..].to_owned()),
        Detected::Regexp => Kind::Tokens(tokens),
    }
}

/// Go's `path.Clean`: the shortest equivalent path ("" becomes ".").
pub(crate) use wharf_oci::text::go_path_clean as go_clean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("a/b/../c", "a/c"),
            ("./a//b/", "a/b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("a/..", "."),
            ("**/", "**"),
        ] {
            assert_eq!(go_clean(input), want, "{input}");
        }
    }

    // Cases from Go's filepath.Match tests, as copied into moby/patternmatcher.
    #[test]
    fn go_glob_matches_go() {
        let cases: &[(&str, &str, Option<bool>)] = &[
            ("abc", "abc", Some(true)),
            ("*", "abc", Some(true)),
            ("*c", "abc", Some(true)),
            ("a*", "a", Some(true)),
            ("a*", "abc", Some(true)),
            ("a*", "ab/c", Some(false)),
            ("a*/b", "abc/b", Some(true)),
            ("a*/b", "a/c/b", Some(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Some(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Some(false)),
            ("ab[c]", "abc", Some(true)),
            ("ab[b-d]", "abc", Some(true)),
            ("ab[e-g]", "abc", Some(false)),
            ("ab[^c]", "abc", Some(false)),
            ("ab[^e-g]", "abc", Some(true)),
            ("a\\*b", "a*b", Some(true)),
            ("a\\*b", "ab", Some(false)),
            ("a?b", "a☺b", Some(true)),
            ("a[^a]b", "a☺b", Some(true)),
            ("a???b", "a☺b", Some(false)),
            ("[a-ζ]*", "α", Some(true)),
            ("*[a-ζ]", "A", Some(false)),
            ("a?b", "a/b", Some(false)),
            ("a*b", "a/b", Some(false)),
            ("[\\]a]", "]", Some(true)),
            ("[\\-]", "-", Some(true)),
            ("[x\\-]", "-", Some(true)),
            ("[x\\-]", "z", Some(false)),
            ("[]a]", "]", None),
            ("[-]", "-", None),
            ("[x-]", "x", None),
            ("[-x]", "x", None),
            ("\\", "a", None),
            ("[a-b-c]", "a", None),
            ("[", "a", None),
            ("[^", "a", None),
            ("[^bc", "a", None),
            ("a[", "a", None),
            ("*x", "xxx", Some(true)),
        ];
        for (pattern, name, want) in cases {
            match (GoGlob::new(pattern), want) {
                (Ok(g), Some(want)) => assert_eq!(g.matches(name), *want, "{pattern} {name}"),
                (Err(_), None) => {}
                (got, want) => panic!("{pattern}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// Found by the dockerignore fuzz target: backtracking over 56 stars never ended.
    #[test]
    fn many_stars_match_in_polynomial_time() {
        let stars = "*".repeat(56);
        let path = "a/a/b/a/b-!cxa/y/bdo/!cba/b/a/b/!cxa/y/bdo/!cba/do*/a/b/a/b/Et";
        let pattern = IgnorePattern::new(format!("{stars}!"), false).unwrap();
        assert!(!pattern.matches(path));
        assert!(IgnorePattern::new(format!("a/{stars}/Et"), false)
            .unwrap()
            .matches("a/xyz/Et"));
        let glob = GoGlob::new(&format!("{stars}x{stars}y")).unwrap();
        assert!(!glob.matches(&"x".repeat(200)));
        assert!(glob.matches(&format!("{}y", "x".repeat(200))));
        let any_dirs = IgnorePattern::new(format!("{}z", "**/".repeat(40)), false).unwrap();
        assert!(!any_dirs.matches(&"d/".repeat(100)));
        assert!(any_dirs.matches(&format!("{}z", "d/".repeat(100))));
    }

    #[test]
    fn wildcard_detection() {
        assert!(has_wildcards("*.txt"));
        assert!(has_wildcards("a[bc]"));
        assert!(!has_wildcards("a\\*b"));
        assert!(!has_wildcards("plain.txt"));
    }

    // moby/patternmatcher TestMatches, exact-match column.
    #[test]
    fn ignore_pattern_exact_matches() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**", "dir/file", true),
            ("**/**", "dir/file", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/dir2/file", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", false),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", false),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("a\\\\", "a\\", true),
            ("a\\*b", "a*b", true),
        ];
        for (pattern, path, want) in cases {
            let p = IgnorePattern::new(go_clean(pattern), false).unwrap();
            assert_eq!(p.matches(path), *want, "pattern {pattern} path {path}");
        }
    }

    #[test]
    fn literal_prefix_of_exceptions() {
        let p = |s: &str| IgnorePattern::new(s.to_owned(), true).unwrap();
        assert_eq!(p("docs/keep").literal_prefix(), Some("docs/keep"));
        assert_eq!(p("docs/**").literal_prefix(), Some("docs"));
        assert_eq!(p("docs/*.md").literal_prefix(), None);
    }
}
