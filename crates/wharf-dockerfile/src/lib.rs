//! The Dockerfile frontend, compatible with BuildKit's: it turns Dockerfile text into a parse
//! tree ([`parse`]), typed instructions ([`Instruction`]) and build stages ([`BuildStages`]),
//! and expands shell words like BuildKit ([`ShellLexer`]). It does no I/O and knows nothing
//! of how steps run.
//!
//! ```
//! let dockerfile = wharf_dockerfile::parse("FROM alpine AS base\nRUN echo hi\n")?;
//! let stages = wharf_dockerfile::BuildStages::from_dockerfile(&dockerfile)?;
//! assert_eq!(stages.stages[0].name(), Some("base"));
//! # Ok::<(), wharf_dockerfile::Error>(())
//! ```

mod error;
mod go_compat;
pub mod instructions;
mod parser;
pub mod shell;
mod stages;

pub use error::{Error, ErrorKind, LineSpan};
pub use instructions::{parse_instructions, Instruction, Located};
pub use parser::{
    parse, Arguments, CheckDirective, Directives, Dockerfile, Heredoc, KeyValueArg, Node, Warning,
};
pub use shell::{ShellLexer, Variables};
pub use stages::{BuildArgs, BuildStages, Stage, StageBase};

/// The proxy arguments every build accepts without an ARG (BuildKit's predefined ARGs).
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];
