//! What a rule reports, and how grave it is.

use std::fmt;
use std::str::FromStr;

/// hadolint's levels, gravest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
    Style,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Style => "style",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level as `.hadolint.yaml` and `--failure-threshold` write it: a severity, or `ignore`
/// (`none`) for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Severity(Severity),
    Ignore,
}

impl FromStr for Level {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        Ok(match text {
            "error" => Self::Severity(Severity::Error),
            "warning" => Self::Severity(Severity::Warning),
            "info" => Self::Severity(Severity::Info),
            "style" => Self::Severity(Severity::Style),
            "ignore" | "none" => Self::Ignore,
            _ => return Err(()),
        })
    }
}

impl Level {
    /// Whether a finding of `severity` reaches this threshold.
    pub fn reached_by(self, severity: Severity) -> bool {
        match self {
            Self::Severity(threshold) => severity <= threshold,
            Self::Ignore => false,
        }
    }
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    /// hadolint's id (`DL3042`), BuildKit's check name, or one of wharf's own (`WP...`).
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What to write instead, in one line.
    pub fix: &'static str,
    /// BuildKit's name for the same check, when it has one.
    pub buildkit: Option<&'static str>,
}

impl Finding {
    /// The finding as a row: `file`, `line`, `column`, `rule`, `severity`, `message`, `fix`,
    /// `buildkit`.
    pub fn to_row(&self, file: &str) -> serde_json::Value {
        serde_json::json!({
            "file": file,
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "severity": self.severity.as_str(),
            "message": self.message,
            "fix": self.fix,
            "buildkit": self.buildkit,
        })
    }
}
