//! `.dockerignore` files and `COPY --exclude` patterns, with Docker's exact semantics:
//! docker/cli's `ReadAll` for the file format, moby/patternmatcher for matching and
//! tonistiigi/fsutil's walker for how a directory walk applies them.

use std::io;
use std::path::{Path, PathBuf};

use super::pattern::{go_clean, IgnorePattern};
use super::Error;

/// A compiled list of exclude patterns; a later `!pattern` re-includes what earlier ones
/// excluded (the last matching pattern wins).
#[derive(Debug, Clone, Default)]
pub struct IgnoreMatcher {
    patterns: Vec<IgnorePattern>,
    /// fsutil skips a whole excluded directory unless an exception could match inside it;
    /// it can only tell when every exception is a plain path.
    only_literal_exceptions: bool,
    has_exceptions: bool,
}

/// Per-pattern results for a directory, handed down to its entries while walking
/// (patternmatcher's `MatchInfo`).
pub(crate) type MatchState = Vec<bool>;

impl IgnoreMatcher {
    /// Parses the text of a `.dockerignore` file like docker/cli's `ReadAll`: a UTF-8 BOM is
    /// dropped, lines starting with `#` are comments, lines are trimmed, empty lines skipped,
    /// each pattern (after an optional `!`) is cleaned like Go's `filepath.Clean` and loses
    /// a leading `/`. An invalid pattern is an error naming its line.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            if pattern.is_empty() {
                continue;
            }
            let invert = pattern.starts_with('!');
            if invert {
                pattern = pattern[1..].trim();
            }
            let mut cleaned = if pattern.is_empty() {
                String::new()
            } else {
                go_clean(pattern)
            };
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            if invert {
                cleaned.insert(0, '!');
            }
            lines.push((cleaned, Some(index + 1)));
        }
        Self::compile(lines)
    }

    /// Compiles patterns given one by one, as `COPY --exclude` passes them
    /// (patternmatcher's `New`: trimmed, cleaned, `!` for exceptions).
    pub fn from_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Self, Error> {
        Self::compile(
            patterns
                .iter()
                .map(|p| (p.as_ref().to_owned(), None))
                .collect(),
        )
    }

    fn compile(lines: Vec<(String, Option<usize>)>) -> Result<Self, Error> {
        let mut patterns = Vec::with_capacity(lines.len());
        for (raw, line) in lines {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            let cleaned = go_clean(trimmed);
            let invalid = |reason| Error::Pattern {
                pattern: raw.clone(),
                line,
                reason,
            };
            let (text, exclusion) = match cleaned.strip_prefix('!') {
                Some("") => return Err(invalid("illegal exclusion pattern: \"!\"")),
                Some(rest) => (rest.to_owned(), true),
                None => (cleaned, false),
            };
            patterns.push(IgnorePattern::new(text, exclusion).map_err(invalid)?);
        }
        let has_exceptions = patterns.iter().any(|p| p.exclusion);
        let only_literal_exceptions = patterns
            .iter()
            .filter(|p| p.exclusion)
            .all(|p| p.literal_prefix().is_some());
        Ok(Self {
            patterns,
            only_literal_exceptions,
            has_exceptions,
        })
    }

    /// Whether there are no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `rel_path` (relative to the context root, `/`-separated) is left out: it or a
    /// parent directory matches a pattern and no later `!` pattern re-includes it, or a
    /// parent directory is excluded with no exception able to reach inside it. An excluded
    /// directory may still have re-included entries below it; Docker then sends the
    /// directory along with them (see [`SourceTree`](super::SourceTree)).
    pub fn is_excluded(&self, rel_path: &Path) -> bool {
        let path = rel_path.to_string_lossy();
        let path = go_clean(path.trim_start_matches('/'));
        if path == "." || self.is_empty() {
            return false;
        }
        let parent = path.rfind('/').map_or("", |i| &path[..i]);
        match self.dir_state(parent) {
            Some((_, state)) => self.eval(&path, &state, None),
            None => true,
        }
    }

    /// Walks down to directory `dir` (relative, `/`-separated, "" for the root) as a walk of
    /// the tree would: None when the walk never gets there, else whether `dir` itself is
    /// excluded and the match results its entries start from.
    pub(crate) fn dir_state(&self, dir: &str) -> Option<(bool, MatchState)> {
        let mut state = MatchState::new();
        let mut next = MatchState::new();
        let mut excluded = false;
        if dir.is_empty() || dir == "." {
            return Some((false, state));
        }
        let ends = dir.match_indices('/').map(|(i, _)| i).chain([dir.len()]);
        for end in ends {
            let prefix = &dir[..end];
            excluded = self.eval(prefix, &state, Some(&mut next));
            if excluded && self.can_skip_dir(prefix) {
                return None;
            }
            std::mem::swap(&mut state, &mut next);
        }
        Some((excluded, state))
    }

    /// patternmatcher's `MatchesUsingParentResults`: whether `path` is excluded, given the
    /// results for its parent directory (empty for a top-level entry); writes this path's
    /// results into `out` for its children.
    pub(crate) fn eval(
        &self,
        path: &str,
        parent: &[bool],
        mut out: Option<&mut MatchState>,
    ) -> bool {
        if let Some(out) = out.as_deref_mut() {
            out.clear();
            out.resize(self.patterns.len(), false);
        }
        let mut matched = false;
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut m = parent.get(i).copied().unwrap_or(false);
            if !m {
                if pattern.exclusion != matched {
                    continue;
                }
                m = pattern.matches(path);
                if !m && parent.is_empty() {
                    m = path
                        .match_indices('/')
                        .any(|(j, _)| pattern.matches(&path[..j]));
                }
            }
            if let Some(out) = out.as_deref_mut() {
                out[i] = m;
            }
            if m {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// For an excluded directory: whether nothing below it can be re-included, so a walk
    /// may skip it (fsutil's `SkipDir` shortcut, which Docker's behaviour depends on).
    pub(crate) fn can_skip_dir(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return true;
        }
        if !self.only_literal_exceptions {
            return false;
        }
        !self.patterns.iter().filter(|p| p.exclusion).any(|p| {
            let prefix = p.literal_prefix().unwrap_or_default();
            prefix
                .strip_prefix(dir)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// Finds and parses the ignore file for a build, as BuildKit does: `<Dockerfile>.dockerignore`
/// next to the Dockerfile wins over `<context>/.dockerignore`. `dockerfile` is the Dockerfile's
/// path (None when it does not come from a file). Returns the matcher and the file it came
/// from, or None when neither file exists. Note that BuildKit applies the patterns to the
/// Dockerfile and `.dockerignore` like to any other file: an ignored Dockerfile is still read
/// for the build, but COPY cannot copy it.
pub fn load_dockerignore(
    context_dir: &Path,
    dockerfile: Option<&Path>,
) -> Result<Option<(IgnoreMatcher, PathBuf)>, Error> {
    let mut candidates = Vec::with_capacity(2);
    if let Some(name) = dockerfile.and_then(Path::file_name) {
        let mut file = name.to_os_string();
        file.push(".dockerignore");
        candidates.push(
            dockerfile
                .map(|d| d.with_file_name(file))
                .unwrap_or_default(),
        );
    }
    candidates.push(context_dir.join(".dockerignore"));
    for path in candidates {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let matcher = IgnoreMatcher::parse(&text).map_err(|e| match e {
                    Error::Pattern {
                        pattern,
                        line,
                        reason,
                    } => Error::IgnoreFile {
                        path: path.clone(),
                        pattern,
                        line: line.unwrap_or_default(),
                        reason,
                    },
                    other => other,
                })?;
                return Ok(Some((matcher, path)));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        IgnoreMatcher::from_patterns(patterns)
            .unwrap()
            .is_excluded(Path::new(path))
    }

    // docker/cli / moby/patternmatcher ignorefile TestReadAll.
    #[test]
    fn read_all_normalizes_lines() {
        let text =
            "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n";
        let m = IgnoreMatcher::parse(text).unwrap();
        let texts: Vec<_> = m
            .patterns
            .iter()
            .map(|p| format!("{}{}", if p.exclusion { "!" } else { "" }, p.text))
            .collect();
        assert_eq!(
            texts,
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "!inverted/abs/path"
            ]
        );
    }

    #[test]
    fn lone_bang_is_an_error_naming_the_line() {
        let err = IgnoreMatcher::parse("ok\n!\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pattern \"!\" on line 2: illegal exclusion pattern: \"!\""
        );
        let err = IgnoreMatcher::parse("a\n\n[\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn bom_comment_and_spaces() {
        let m = IgnoreMatcher::parse("\u{feff}foo\n   # not a comment\n  bar  \n").unwrap();
        assert!(m.is_excluded(Path::new("foo")));
        assert!(m.is_excluded(Path::new("bar")));
        assert!(m.is_excluded(Path::new("# not a comment")));
    }

    // moby/patternmatcher tests.
    #[test]
    fn patternmatcher_cases() {
        assert!(excluded(&["*"], "fileutils.go"));
        assert!(excluded(&["*.go"], "fileutils.go"));
        assert!(excluded(&["!fileutils.go", "*.go"], "fileutils.go"));
        assert!(!excluded(&["*.go", "!fileutils.go"], "fileutils.go"));
        assert!(!excluded(&["docs", "!docs/README.md"], "docs/README.md"));
        assert!(!excluded(&["docs/", "!docs/README.md"], "docs/README.md"));
        assert!(!excluded(&["docs/*", "!docs/README.md"], "docs/README.md"));
        assert!(!excluded(&["*.go"], "."));
        assert!(!excluded(&[], "any/path/there"));
        assert!(!excluded(
            &["**", "!util/docker/web"],
            "util/docker/web/foo"
        ));
        assert!(excluded(
            &["**", "!util/docker/web", "util/docker/web/foo"],
            "util/docker/web/foo"
        ));
        assert!(!excluded(
            &["**", "!dist/*.whl"],
            "dist/proxy-1.0-py3-none-any.whl"
        ));
        assert!(IgnoreMatcher::from_patterns(&["["]).is_err());
        assert!(IgnoreMatcher::from_patterns(&["!"]).is_err());
        assert!(!IgnoreMatcher::from_patterns(&["  !docs/README.md"])
            .unwrap()
            .patterns[0]
            .text
            .starts_with('!'));
    }

    #[test]
    fn directory_pattern_excludes_everything_below() {
        assert!(excluded(&["node_modules"], "node_modules"));
        assert!(excluded(&["node_modules"], "node_modules/a/b.js"));
        assert!(!excluded(&["node_modules"], "src/node_modules/a.js"));
        assert!(excluded(&["**/node_modules"], "src/node_modules/a.js"));
        assert!(excluded(&["*/tmp"], "a/tmp/x"));
        assert!(!excluded(&["*/tmp"], "a/b/tmp/x"));
    }

    #[test]
    fn double_star_matches_any_depth() {
        assert!(excluded(&["**/*.log"], "a.log"));
        assert!(excluded(&["**/*.log"], "x/y/z/a.log"));
        assert!(!excluded(&["**/*.log"], "x/y/z/a.txt"));
        assert!(excluded(&["a/**/b"], "a/b"));
        assert!(excluded(&["a/**/b"], "a/x/y/b"));
    }

    #[test]
    fn exception_after_directory_with_wildcard() {
        let m = IgnoreMatcher::from_patterns(&["build", "!build/*.keep"]).unwrap();
        assert!(m.is_excluded(Path::new("build/a.o")));
        assert!(!m.is_excluded(Path::new("build/x.keep")));
        assert!(!m.can_skip_dir("build"));
        // A literal exception outside the directory lets the walk skip it.
        let m = IgnoreMatcher::from_patterns(&["build", "!other/keep"]).unwrap();
        assert!(m.can_skip_dir("build"));
        assert!(!m.can_skip_dir("other"));
        // fsutil prunes "foo": "!**/bar" has wildcards, so it cannot; "!foo/bar" reaches in.
        let m = IgnoreMatcher::from_patterns(&["foo", "!foo/bar"]).unwrap();
        assert!(!m.can_skip_dir("foo"));
        assert!(!m.is_excluded(Path::new("foo/bar")));
        assert!(m.is_excluded(Path::new("foo/baz")));
    }

    #[test]
    fn last_match_wins() {
        assert!(excluded(&["*.md", "!README.md", "README*"], "README.md"));
        assert!(!excluded(&["*.md", "README*", "!README.md"], "README.md"));
    }

    #[test]
    fn load_prefers_dockerfile_specific_ignore_file() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path();
        std::fs::write(ctx.join(".dockerignore"), "generic\n").unwrap();
        std::fs::create_dir(ctx.join("docker")).unwrap();
        let dockerfile = ctx.join("docker/app.Dockerfile");
        std::fs::write(&dockerfile, "FROM scratch\n").unwrap();

        let (m, from) = load_dockerignore(ctx, Some(&dockerfile)).unwrap().unwrap();
        assert_eq!(from, ctx.join(".dockerignore"));
        assert!(m.is_excluded(Path::new("generic")));

        std::fs::write(ctx.join("docker/app.Dockerfile.dockerignore"), "specific\n").unwrap();
        let (m, from) = load_dockerignore(ctx, Some(&dockerfile)).unwrap().unwrap();
        assert_eq!(from, ctx.join("docker/app.Dockerfile.dockerignore"));
        assert!(m.is_excluded(Path::new("specific")));
        assert!(!m.is_excluded(Path::new("generic")));

        std::fs::remove_file(ctx.join(".dockerignore")).unwrap();
        assert!(load_dockerignore(ctx, None).unwrap().is_none());

        std::fs::write(ctx.join(".dockerignore"), "ok\n[\n").unwrap();
        let err = load_dockerignore(ctx, None).unwrap_err().to_string();
        assert!(
            err.contains(".dockerignore") && err.contains("line 2"),
            "{err}"
        );
    }
}
