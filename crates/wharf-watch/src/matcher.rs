//! Which changed paths a rule takes, as docker compose decides: the path must be the rule's
//! `path` or below it; then `include` (when set) must match, and none of `ignore`, the
//! service's `.dockerignore` (relative to its build context), the editors' temporary files
//! and `.git` may exclude it. Patterns have `.dockerignore`'s syntax and meaning, through
//! wharf-build's matcher.

use std::path::{Component, Path, PathBuf};

use wharf_build::context::IgnoreMatcher;
use wharf_compose::develop::WatchRule;

use crate::error::WatchError;

/// What editors and tools write beside a file while saving it, and `.git`: compose-go's
/// `EphemeralPathMatcher` (GoLand, Emacs, Vim, Kate, Go's umask probe) plus `.git/`.
pub const EPHEMERAL: &[&str] = &[
    "**/*___jb_old___",
    "**/*___jb_tmp___",
    "**/.idea",
    "**/.#*",
    "**/#*#",
    "**/4913",
    "**/*~",
    "**/.*.swp",
    "**/.*.swx",
    "**/.*.swo",
    "**/.*.swn",
    "**/.*.kate-swp",
    "**/*-go-tmp-umask",
    "**/.git",
];

/// A rule's filters, compiled.
#[derive(Debug, Clone)]
pub struct RuleMatcher {
    pub root: PathBuf,
    include: Option<IgnoreMatcher>,
    ignore: IgnoreMatcher,
    ephemeral: IgnoreMatcher,
    /// The service's `.dockerignore` and the build context it is relative to.
    dockerignore: Option<(IgnoreMatcher, PathBuf)>,
}

impl RuleMatcher {
    /// `dockerignore`: the matcher of the service's build, with its context directory.
    pub fn new(
        rule: &WatchRule,
        dockerignore: Option<(IgnoreMatcher, PathBuf)>,
    ) -> Result<Self, WatchError> {
        let compile = |what: &'static str, patterns: &[String]| {
            IgnoreMatcher::from_patterns(patterns).map_err(|source| WatchError::Pattern {
                path: rule.path.clone(),
                what,
                source,
            })
        };
        let include = if rule.include.is_empty() {
            None
        } else {
            Some(compile("include", &rule.include)?)
        };
        Ok(Self {
            root: PathBuf::from(&rule.path),
            include,
            ignore: compile("ignore", &rule.ignore)?,
            ephemeral: IgnoreMatcher::from_patterns(EPHEMERAL).map_err(|source| {
                WatchError::Pattern {
                    path: rule.path.clone(),
                    what: "editor",
                    source,
                }
            })?,
            dockerignore,
        })
    }

    /// The path of `changed` below the rule's root (empty for the root itself), or `None`
    /// when the rule does not take it.
    pub fn take(&self, changed: &Path) -> Option<PathBuf> {
        let rel = changed.strip_prefix(&self.root).ok()?.to_path_buf();
        // inotify never names `..`, but a path that climbs would sync outside the target.
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        if rel.as_os_str().is_empty() {
            // The root itself: a watched file, or the folder (removed or recreated).
            return Some(rel);
        }
        if self.include.as_ref().is_some_and(|m| !m.is_excluded(&rel)) {
            return None;
        }
        if self.ignore.is_excluded(&rel) || self.ephemeral.is_excluded(&rel) {
            return None;
        }
        if let Some((matcher, context)) = &self.dockerignore {
            if let Ok(in_context) = changed.strip_prefix(context) {
                if matcher.is_excluded(in_context) {
                    return None;
                }
            }
        }
        Some(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(ignore: &[&str], include: &[&str], dockerignore: Option<&str>) -> RuleMatcher {
        let rule = WatchRule {
            path: "/p/app".into(),
            target: "/app".into(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            include: include.iter().map(|s| s.to_string()).collect(),
            ..WatchRule::default()
        };
        let dockerignore =
            dockerignore.map(|text| (IgnoreMatcher::parse(text).unwrap(), PathBuf::from("/p")));
        RuleMatcher::new(&rule, dockerignore).unwrap()
    }

    fn takes(m: &RuleMatcher, path: &str) -> bool {
        m.take(Path::new(path)).is_some()
    }

    #[test]
    fn takes_what_is_below_the_root_only() {
        let m = matcher(&[], &[], None);
        assert_eq!(
            m.take(Path::new("/p/app/a.py")),
            Some(PathBuf::from("a.py"))
        );
        assert!(takes(&m, "/p/app"));
        assert!(!takes(&m, "/p/application/a.py"));
        assert!(!takes(&m, "/p/other.py"));
    }

    /// `/p/app/../../etc/x` was taken, and synced to `/app/../../etc/x`: found by the
    /// watch fuzz target.
    #[test]
    fn never_takes_a_path_that_climbs_out_of_the_root() {
        let m = matcher(&[], &[], None);
        assert!(!takes(&m, "/p/app/../../etc/passwd"));
        assert!(!takes(&m, "/p/app/sub/../../x"));
        assert!(takes(&m, "/p/app/./a.py"));
    }

    #[test]
    fn leaves_out_editor_files_and_git() {
        let m = matcher(&[], &[], None);
        for path in [
            "/p/app/.a.py.swp",
            "/p/app/4913",
            "/p/app/sub/a.py~",
            "/p/app/.#a.py",
            "/p/app/#a.py#",
            "/p/app/.git/HEAD",
            "/p/app/x/.git/objects/ab",
            "/p/app/a.py___jb_tmp___",
        ] {
            assert!(!takes(&m, path), "{path}");
        }
        assert!(takes(&m, "/p/app/git.py"));
    }

    #[test]
    fn ignore_and_dockerignore_exclude_include_selects() {
        let m = matcher(&["node_modules/", "*.log"], &[], Some("app/secret\n"));
        assert!(!takes(&m, "/p/app/node_modules/x/index.js"));
        assert!(!takes(&m, "/p/app/debug.log"));
        assert!(takes(&m, "/p/app/sub/debug.log"));
        assert!(!takes(&m, "/p/app/secret"));
        assert!(takes(&m, "/p/app/main.py"));
        let m = matcher(&[], &["*.py"], None);
        assert!(takes(&m, "/p/app/main.py"));
        assert!(!takes(&m, "/p/app/style.css"));
    }
}
