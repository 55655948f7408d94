//! Flags and subcommands, named and shaped like Docker's.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "A daemonless, Docker-compatible container engine"
)]
pub struct Cli {
    /// State root: images, layers, containers (like Docker's /var/lib/docker)
    #[arg(long, global = true, env = "WHARF_ROOT", default_value = wharf_engine::DEFAULT_ROOT)]
    pub root: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// List images
    Images(ImagesArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Return low-level information on images
    Inspect(InspectArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage wharf
    #[command(subcommand)]
    System(SystemCommand),
    /// Show the wharf version information
    Version(FormatArgs),
    /// Display system-wide information
    Info(FormatArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    Import(ImportArgs),
    Load(LoadArgs),
    Save(SaveArgs),
    #[command(alias = "list")]
    Ls(ImagesArgs),
    Tag(TagArgs),
    #[command(alias = "remove")]
    Rm(RmiArgs),
    History(HistoryArgs),
    Inspect(InspectArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show wharf disk usage
    Df(FormatArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Verify the store: every image complete, every blob intact, every tag valid
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A tarball (plain, gzip or zstd), or `-` for STDIN
    pub file: String,
    /// Repository and tag for the new image
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the created image
    #[arg(short, long = "change")]
    pub changes: Vec<String>,
    /// Set commit message for the imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file, instead of STDIN
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show only images of this repository (and tag)
    pub repository: Option<String>,
    /// Show all images (intermediate images are shown anyway: wharf has none yet)
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter output (`dangling=true|false`, `reference=PATTERN`)
    #[arg(short, long = "filter")]
    pub filters: Vec<String>,
    /// Format output: `table`, `json`, or a Go template such as `{{.ID}} {{.Repository}}`
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of an image with several tags
    #[arg(short, long)]
    pub force: bool,
    /// Do not delete untagged parents (wharf has no parent images; accepted for Docker compatibility)
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub image: String,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    pub images: Vec<String>,
    /// Format output: `json` (the default) or a Go template such as `{{.Config.Cmd}}`
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Repair what can be repaired: re-unpack damaged layers, drop images whose content is
    /// lost, remove leftovers of interrupted operations
    #[arg(long)]
    pub repair: bool,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Format output: `json` or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

/// Prints a flag error in the house style and exits 125 as Docker does; help and version
/// go to stdout with success.
pub fn report_parse_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(crate::EXIT_ENGINE_ERROR)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    crate::printer::Printer.error(message, Some("`wharf COMMAND --help` lists the flags"));
    ExitCode::from(crate::EXIT_ENGINE_ERROR)
}
