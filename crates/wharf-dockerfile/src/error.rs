//! Errors of the Dockerfile frontend. Each names the line it comes from; [`Error::hint`]
//! says what to do where there is something useful to say.

use crate::instructions::MountError;
use crate::shell::{ExpandError, ExpandErrorReason};

/// A 1-based, inclusive range of Dockerfile lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LineSpan {
    pub start: usize,
    pub end: usize,
}

impl LineSpan {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// Anything that makes a Dockerfile unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("line {line}: {kind}")]
    AtLine { line: usize, kind: ErrorKind },
    #[error("file with no instructions")]
    NoInstructions,
    #[error("file with no FROM instruction")]
    NoStages,
    #[error("target stage `{target}` not found")]
    UnknownTarget { target: String, known: Vec<String> },
}

impl Error {
    pub(crate) fn at(line: usize, kind: ErrorKind) -> Self {
        Self::AtLine { line, kind }
    }

    /// The line the error is on, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::AtLine { line, .. } => Some(*line),
            Self::NoInstructions | Self::NoStages | Self::UnknownTarget { .. } => None,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::AtLine { kind, .. } => kind.hint(),
            Self::NoInstructions | Self::NoStages => {
                Some("start the build stage with `FROM IMAGE`".to_owned())
            }
            Self::UnknownTarget { known, .. } if known.is_empty() => Some(
                "the Dockerfile has no named stages; name one with `FROM IMAGE AS NAME`".into(),
            ),
            Self::UnknownTarget { known, .. } => {
                Some(format!("the named stages are: {}", known.join(", ")))
            }
        }
    }
}

/// What went wrong on a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("invalid escape token `{token}` in the escape directive")]
    InvalidEscapeToken { token: String },
    #[error("only one `{name}` parser directive can be used")]
    DuplicateDirective { name: String },
    #[error("invalid option `{option}` in the check directive")]
    InvalidCheckDirective { option: String },
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    NotStringArray,
    #[error("{instruction} must have two arguments")]
    MissingValue { instruction: &'static str },
    #[error("can't find `=` in `{word}`: {instruction} arguments must be of the form name=value")]
    MissingEquals {
        instruction: &'static str,
        word: String,
    },
    #[error("unterminated heredoc `{name}`")]
    UnterminatedHeredoc { name: String },
    #[error("invalid heredoc `{word}`: {reason}")]
    InvalidHeredoc {
        word: String,
        reason: ExpandErrorReason,
    },
    #[error("heredoc `{word}` splits into a different number of words with and without quotes")]
    AmbiguousHeredoc { word: String },
    #[error("unknown instruction: {name}")]
    UnknownInstruction {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("unknown flag `--{flag}` for {instruction}")]
    UnknownFlag {
        instruction: &'static str,
        flag: String,
        accepted: Vec<&'static str>,
    },
    #[error("flag `--{flag}` is given more than once")]
    DuplicateFlag { flag: String },
    #[error("flag `--{flag}` needs a value")]
    FlagNeedsValue { flag: String },
    #[error("flag `--{flag}` takes true or false, not `{value}`")]
    FlagNotBoolean { flag: String, value: String },
    #[error("{instruction} requires at least one argument")]
    NoArguments { instruction: &'static str },
    #[error("{instruction} requires exactly one argument")]
    NotOneArgument { instruction: &'static str },
    #[error("{instruction} requires at least two arguments: the sources and a destination")]
    MissingDestination { instruction: &'static str },
    #[error("FROM requires either one or three arguments")]
    FromArgumentCount,
    #[error("{instruction} names can not be blank")]
    BlankName { instruction: &'static str },
    #[error(
        "invalid name for build stage: `{name}`, name can't start with a number or contain symbols"
    )]
    InvalidStageName { name: String },
    #[error("{instruction} cannot accept a heredoc as a destination")]
    HeredocDestination { instruction: &'static str },
    #[error("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChain,
    #[error("{trigger} isn't allowed as an ONBUILD trigger")]
    OnbuildTrigger { trigger: String },
    #[error("HEALTHCHECK NONE takes no arguments or flags")]
    HealthcheckNoneArguments,
    #[error("missing command after HEALTHCHECK CMD")]
    HealthcheckMissingCommand,
    #[error("unknown HEALTHCHECK type `{kind}`")]
    HealthcheckUnknownType { kind: String },
    #[error("invalid duration `{value}` for `--{flag}`")]
    InvalidDuration { flag: &'static str, value: String },
    #[error("`--{flag}` cannot be less than 1ms")]
    DurationTooShort { flag: &'static str },
    #[error("invalid `--retries` value `{value}`: it must be a whole number of at least 0")]
    InvalidRetries { value: String },
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    #[error("SHELL requires the arguments to be in JSON form")]
    ShellNotJson,
    #[error("invalid `--mount`: {0}")]
    Mount(#[from] MountError),
    #[error("unsupported network mode `{mode}`")]
    UnsupportedNetwork { mode: String },
    #[error("unsupported security mode `{mode}`")]
    UnsupportedSecurity { mode: String },
    #[error("{instruction} instruction before the first FROM")]
    BeforeFirstFrom { instruction: &'static str },
    #[error(transparent)]
    Expansion(#[from] ExpandError),
    #[error("base name `{written}` is empty after expanding build arguments")]
    BlankBaseName { written: String },
    #[error("invalid stage index {index}")]
    InvalidStageIndex { index: String },
    #[error("circular dependency detected on stage {stage}")]
    CircularDependency { stage: String },
}

impl ErrorKind {
    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::InvalidEscapeToken { .. } => "the escape directive takes `\\` or `` ` ``".into(),
            Self::InvalidCheckDirective { .. } => {
                "write `# check=skip=RULE,RULE;error=true` or `# check=skip=all`".into()
            }
            Self::MissingValue { instruction } => format!("write `{instruction} NAME=VALUE`"),
            Self::UnterminatedHeredoc { name } => {
                format!("end the heredoc with a line that holds only `{name}`")
            }
            Self::UnknownInstruction {
                suggestion: Some(suggestion),
                ..
            } => format!("did you mean `{suggestion}`?"),
            Self::UnknownFlag {
                instruction,
                accepted,
                ..
            } => match accepted.as_slice() {
                [] => format!("{instruction} takes no flags"),
                flags => format!(
                    "{instruction} accepts {}",
                    flags
                        .iter()
                        .map(|flag| format!("`--{flag}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Self::FlagNeedsValue { flag } => format!("write `--{flag}=VALUE`"),
            Self::FromArgumentCount => "write `FROM IMAGE` or `FROM IMAGE AS NAME`".into(),
            Self::InvalidStageName { .. } => {
                "use lowercase letters, digits, `-`, `_` and `.`, starting with a letter".into()
            }
            Self::HealthcheckUnknownType { .. } => {
                "use `HEALTHCHECK CMD COMMAND` or `HEALTHCHECK NONE`".into()
            }
            Self::InvalidDuration { .. } => "write durations like `30s`, `1m30s` or `500ms`".into(),
            Self::ShellNotJson => "write `SHELL [\"executable\", \"parameter\"]`".into(),
            Self::Mount(error) => return error.hint(),
            Self::UnsupportedNetwork { .. } => "use `default`, `none` or `host`".into(),
            Self::UnsupportedSecurity { .. } => "use `sandbox` or `insecure`".into(),
            Self::BeforeFirstFrom { .. } => "only ARG may come before the first FROM".into(),
            Self::BlankBaseName { .. } => {
                "declare the ARG before the first FROM with a default, or pass it as a build argument"
                    .into()
            }
            _ => return None,
        };
        Some(hint)
    }
}

/// The closest of `candidates` to `word`, ignoring case, if it is near enough to be a typo.
pub(crate) fn suggest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let word = word.to_lowercase();
    let allowed = if word.chars().count() <= 3 { 1 } else { 2 };
    candidates
        .iter()
        .map(|&candidate| {
            (
                wharf_oci::text::edit_distance(&word, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|&(distance, _)| distance <= allowed)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let names = ["FROM", "RUN", "COPY"];
        assert_eq!(suggest("FORM", &names), Some("FROM"));
        assert_eq!(suggest("rnu", &names), None);
        assert_eq!(suggest("RUNN", &names), Some("RUN"));
        assert_eq!(suggest("BUILD", &names), None);
    }

    #[test]
    fn display_names_the_line_and_hint_says_what_to_do() {
        let error = Error::at(
            3,
            ErrorKind::UnknownInstruction {
                name: "FORM".into(),
                suggestion: Some("FROM"),
            },
        );
        assert_eq!(error.to_string(), "line 3: unknown instruction: FORM");
        assert_eq!(error.hint().as_deref(), Some("did you mean `FROM`?"));
        assert_eq!(error.line(), Some(3));
        let target = Error::UnknownTarget {
            target: "tset".into(),
            known: vec!["build".into(), "test".into()],
        };
        assert_eq!(target.to_string(), "target stage `tset` not found");
        assert_eq!(
            target.hint().as_deref(),
            Some("the named stages are: build, test")
        );
    }
}
