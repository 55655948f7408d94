//! `wharf build` and `wharf builder prune`, with BuildKit-like progress: one line per step
//! with `CACHED` or its duration; on a terminal, a live view of the running step's last
//! lines; on failure, the failing step's last output lines.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use wharf_engine::{
    BuildNetwork, BuildOptions, BuildReporter, BuildSource, Engine, StepId, StepOutcome,
};
use wharf_oci::Reference;
use wharf_store::{Compression, LayerCompression};

use super::{parse_labels, CommandError, CommandResult};
use crate::cli::{BuildArgs, BuildStepArgs, PruneArgs};
use crate::format::human_size;
use crate::printer::Printer;

/// Output lines kept per step, shown when it fails.
const TAIL_LINES: usize = 12;
/// Lines of the running step shown live on a terminal.
const LIVE_LINES: usize = 6;

pub fn build(engine: &Engine, printer: Printer, args: BuildArgs) -> CommandResult {
    let mode = match args.progress.as_str() {
        _ if args.quiet => Mode::Quiet,
        "plain" => Mode::Plain,
        "tty" => Mode::Tty,
        "auto" if io::stderr().is_terminal() => Mode::Tty,
        "auto" => Mode::Plain,
        other => {
            return Err(flag_error(
                format!("--progress {other}: unknown progress mode"),
                "use auto, plain or tty",
            ))
        }
    };
    let network = match args.network.as_str() {
        "default" | "bridge" => BuildNetwork::Default,
        "none" => BuildNetwork::None,
        "host" => BuildNetwork::Host,
        other => {
            return Err(flag_error(
                format!("--network {other}: RUN steps can use default, none or host"),
                "use --network default, none or host",
            ))
        }
    };
    let output = match &args.output {
        Some(spec) => parse_output(spec)?,
        None => ImageOutput::default(),
    };
    let mut tags = Vec::new();
    for tag in args.tags.iter().chain(&output.names) {
        tags.push(Reference::parse_normalized(tag).map_err(|e| {
            flag_error(
                format!("-t {tag}: invalid reference format: {e}"),
                "use NAME[:TAG] in lowercase, e.g. -t app:1.0",
            )
        })?);
    }
    let mut build_args = BTreeMap::new();
    for arg in &args.build_args {
        match arg.split_once('=') {
            Some((name, value)) => {
                build_args.insert(name.to_owned(), value.to_owned());
            }
            // `--build-arg NAME` takes the value from the environment, or is ignored.
            None => {
                if let Ok(value) = std::env::var(arg) {
                    build_args.insert(arg.clone(), value);
                }
            }
        }
    }
    let mut secrets = Vec::new();
    for spec in &args.secrets {
        secrets.push(wharf_engine::read_secret(spec)?);
    }
    for host in &args.add_hosts {
        if !host.contains(':') {
            return Err(flag_error(
                format!("--add-host {host}: expected HOST:IP"),
                "e.g. --add-host db:10.0.0.5",
            ));
        }
    }
    let stdin_dockerfile = args.file.as_deref().is_some_and(|f| f.as_os_str() == "-");
    let dockerfile_text = if stdin_dockerfile {
        if args.context == "-" {
            return Err(flag_error(
                "-f - and PATH - cannot both read stdin".to_owned(),
                "give the context as a folder, e.g. wharf build -f - .",
            ));
        }
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(|e| {
            CommandError::new(
                format!("failed to read the Dockerfile from stdin: {e}"),
                None,
            )
        })?;
        Some(text)
    } else {
        None
    };
    let source = if args.context == "-" {
        stdin_source()?
    } else {
        BuildSource::Dir(PathBuf::from(&args.context))
    };
    // The checks read the Dockerfile here; the build pipeline knows nothing of them.
    let checked = (args.check || !args.no_lint)
        .then(|| checked_dockerfile(&args, dockerfile_text.as_deref(), &source))
        .flatten();
    if args.check {
        let Some((name, text, context)) = checked else {
            return Err(flag_error(
                "--check: cannot read the Dockerfile".to_owned(),
                "give it with -f FILE, or put a Dockerfile in the context folder",
            ));
        };
        let findings = super::lint::build_findings(&text, &context);
        super::lint::print_build_findings(&printer, &name, &findings);
        return Ok(if findings.is_empty() {
            printer.info("Check complete, no warnings found.");
            ExitCode::SUCCESS
        } else {
            printer.info(format!(
                "Check complete, {} warning{} found",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            ));
            ExitCode::FAILURE
        });
    }
    let options = BuildOptions {
        source,
        dockerfile: args.file.clone(),
        dockerfile_text,
        tags,
        build_args,
        target: args.target.clone(),
        no_cache: args.no_cache,
        pull: args.pull,
        labels: parse_labels(&args.labels),
        secrets,
        network,
        extra_hosts: args.add_hosts.clone(),
        host_ca_certs: args.host_ca_certs,
        compression: output.compression,
        force_compression: output.force_compression,
    };
    let reporter = Progress::new(printer, mode);
    let result = engine.build(options, &reporter);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            reporter.show_failure();
            return Err(error.into());
        }
    };
    for warning in &outcome.warnings {
        printer.info(format!("warning: {warning}"));
    }
    if let Some(path) = &args.iidfile {
        std::fs::write(path, outcome.id.to_string()).map_err(|e| {
            CommandError::new(
                format!("failed to write --iidfile {}: {e}", path.display()),
                None,
            )
        })?;
    }
    if mode == Mode::Quiet {
        printer.data(outcome.id.to_string());
    } else {
        reporter.line(&format!("writing image {} done", outcome.id));
        for tag in &outcome.tags {
            reporter.line(&format!("naming to {tag} done"));
        }
        if let Some((name, text, context)) = checked {
            let findings = super::lint::build_findings(&text, &context);
            super::lint::print_build_findings(&printer, &name, &findings);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The Dockerfile a build uses, for the checks: its name, its text and the context folder
/// (where a `.hadolint.yaml` may be). `None` when it cannot be read here; the build itself
/// reports that.
fn checked_dockerfile(
    args: &BuildArgs,
    stdin_text: Option<&str>,
    source: &BuildSource,
) -> Option<(String, String, PathBuf)> {
    let context = PathBuf::from(&args.context);
    if let Some(text) = stdin_text {
        return Some(("-".to_owned(), text.to_owned(), context));
    }
    match source {
        BuildSource::Dockerfile(text) => Some(("-".to_owned(), text.clone(), PathBuf::from("."))),
        BuildSource::Dir(dir) => {
            let path = args.file.clone().unwrap_or_else(|| dir.join("Dockerfile"));
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path.display().to_string(), text, dir.clone()))
        }
        _ => None,
    }
}

/// `wharf build -`: a context tarball, or a Dockerfile, on stdin (Docker tells them apart by
/// content).
fn stdin_source() -> Result<BuildSource, CommandError> {
    let mut head = Vec::new();
    let mut stdin = io::stdin().lock();
    stdin
        .by_ref()
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| {
            CommandError::new(
                format!("failed to read the build context from stdin: {e}"),
                None,
            )
        })?;
    let is_archive =
        head.starts_with(&[0x1f, 0x8b]) || (head.len() >= 262 && &head[257..262] == b"ustar");
    if is_archive {
        let rest = io::stdin();
        Ok(BuildSource::Tar(Box::new(
            io::Cursor::new(head).chain(rest),
        )))
    } else {
        let mut text = String::from_utf8_lossy(&head).into_owned();
        let mut rest = String::new();
        stdin.read_to_string(&mut rest).map_err(|e| {
            CommandError::new(
                format!("failed to read the Dockerfile from stdin: {e}"),
                None,
            )
        })?;
        text.push_str(&rest);
        Ok(BuildSource::Dockerfile(text))
    }
}

pub fn prune(engine: &Engine, printer: Printer, args: PruneArgs) -> CommandResult {
    let question = if args.all {
        "WARNING! This will remove all build cache.\nAre you sure you want to continue?"
    } else {
        "WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?"
    };
    if !args.force && !printer.confirm(question) {
        return Ok(ExitCode::SUCCESS);
    }
    let (records, bytes) = if args.all {
        engine.prune_build_cache()?
    } else {
        engine.prune_dangling_build_cache()?
    };
    printer.data(format!("Deleted build cache objects: {records}"));
    printer.data(format!("Total reclaimed space: {}", human_size(bytes)));
    Ok(ExitCode::SUCCESS)
}

pub fn build_step(engine: &Engine, args: BuildStepArgs) -> CommandResult {
    engine.run_build_step(&args.dir)?;
    Ok(ExitCode::SUCCESS)
}

/// `-o type=image,...`: the image goes to the store, as with Docker's default output.
#[derive(Debug, Default, PartialEq)]
struct ImageOutput {
    /// `name=`: tags, like `-t`.
    names: Vec<String>,
    compression: LayerCompression,
    force_compression: bool,
}

/// Parses `--output` as buildx does (`key=value` pairs, comma-separated); only image outputs
/// are supported.
fn parse_output(spec: &str) -> Result<ImageOutput, CommandError> {
    let bad = |message: String, hint: &str| flag_error(format!("--output {spec}: {message}"), hint);
    let image_hint = "use --output type=image[,compression=zstd][,force-compression=true]";
    if !spec.contains('=') {
        return Err(bad(
            "exporting the build result to a folder or tar is not supported".into(),
            "build an image (without --output), then `wharf save` it or `wharf create` + `wharf cp` files out",
        ));
    }
    match spec.split(',').find_map(|pair| pair.strip_prefix("type=")) {
        Some("image" | "docker") => {}
        Some(other) => {
            return Err(bad(
                format!("output type `{other}` is not supported"),
                image_hint,
            ))
        }
        None => return Err(bad("type= is missing".into(), image_hint)),
    }
    let mut output = ImageOutput::default();
    let mut level = None;
    for pair in spec.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("`{pair}` is not KEY=VALUE"), image_hint))?;
        let flag = |value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(
                format!("{key} takes true or false, not `{value}`"),
                image_hint,
            )),
        };
        match key {
            "type" => {}
            "name" => output.names.push(value.to_owned()),
            "compression" => {
                output.compression.kind = match value {
                    "gzip" => Compression::Gzip,
                    "zstd" => Compression::Zstd,
                    "uncompressed" => Compression::None,
                    _ => {
                        return Err(bad(
                            format!("unknown compression `{value}`"),
                            "use gzip, zstd or uncompressed",
                        ))
                    }
                }
            }
            "compression-level" => {
                level = Some(value.parse::<i32>().map_err(|_| {
                    bad(
                        format!("compression-level `{value}` is not a number"),
                        "e.g. compression-level=9",
                    )
                })?)
            }
            "force-compression" => output.force_compression = flag(value)?,
            "oci-mediatypes" if flag(value)? => {}
            "push" if !flag(value)? => {}
            "oci-mediatypes" => return Err(bad("wharf writes OCI media types".into(), image_hint)),
            "push" => {
                return Err(bad(
                    "pushing from a build is not supported".into(),
                    "build with -t, then `wharf push` the tag",
                ))
            }
            _ => return Err(bad(format!("unknown key `{key}`"), image_hint)),
        }
    }
    output.compression.level = level;
    Ok(output)
}

fn flag_error(message: String, hint: &str) -> CommandError {
    CommandError {
        message,
        hint: Some(hint.to_owned()),
        exit_code: 125,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    Tty,
}

/// The build's progress view. Steps of parallel stages report from several threads.
struct Progress {
    printer: Printer,
    mode: Mode,
    started: Instant,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    /// `#N` of each step, in the order they started.
    numbers: HashMap<(usize, usize), usize>,
    /// The last lines of each step's output, and a partial line.
    tails: HashMap<usize, (VecDeque<String>, String)>,
    /// What each step shows, by `#N`.
    labels: HashMap<usize, String>,
    /// The step that failed, if any.
    failed: Option<(usize, String)>,
    /// Lines of the live view now on screen.
    live_lines: usize,
}

/// Build progress as plain lines (nothing but a failed step's output when `quiet`), for
/// builds that other commands run (`compose up`, `compose build`).
pub(crate) fn plain_progress(printer: Printer, quiet: bool) -> impl BuildReporter {
    Progress::new(printer, if quiet { Mode::Quiet } else { Mode::Plain })
}

impl Progress {
    fn new(printer: Printer, mode: Mode) -> Self {
        Self {
            printer,
            mode,
            started: Instant::now(),
            state: Mutex::new(ProgressState::default()),
        }
    }

    fn number(state: &mut ProgressState, step: &StepId) -> usize {
        let next = state.numbers.len() + 1;
        *state
            .numbers
            .entry((step.stage, step.number))
            .or_insert(next)
    }

    fn label(step: &StepId, label: &str) -> String {
        // FROM is step 1 of a stage, as BuildKit counts.
        let position = format!("{}/{}", step.number + 1, step.count + 1);
        if step.stage_name.starts_with("stage-") && step.stage == 0 {
            format!("[{position}] {label}")
        } else {
            format!("[{} {position}] {label}", step.stage_name)
        }
    }

    /// Erases the live view, so that plain lines can be printed.
    fn clear_live(&self, state: &mut ProgressState) {
        if state.live_lines > 0 {
            self.printer
                .status(&format!("\x1b[{}A\x1b[J", state.live_lines));
            state.live_lines = 0;
        }
    }

    fn line(&self, text: &str) {
        if self.mode == Mode::Quiet {
            return;
        }
        let mut state = self.state.lock().expect("progress lock");
        self.clear_live(&mut state);
        self.printer
            .info(format!("#{} {text}", state.numbers.len() + 1));
    }

    /// After a failed build: the failing step's last output lines.
    fn show_failure(&self) {
        let mut state = self.state.lock().expect("progress lock");
        self.clear_live(&mut state);
        let Some((number, label)) = state.failed.clone() else {
            return;
        };
        let Some((lines, partial)) = state.tails.get(&number) else {
            return;
        };
        if lines.is_empty() && partial.is_empty() {
            return;
        }
        self.printer.info(format!("------\n > {label}:"));
        for line in lines.iter().chain((!partial.is_empty()).then_some(partial)) {
            self.printer.info(line);
        }
        self.printer.info("------");
    }
}

impl BuildReporter for Progress {
    fn step_started(&self, step: &StepId, label: &str) {
        let mut state = self.state.lock().expect("progress lock");
        let number = Self::number(&mut state, step);
        state.tails.insert(number, Default::default());
        let label = Self::label(step, label);
        state.labels.insert(number, label.clone());
        if self.mode == Mode::Quiet {
            return;
        }
        self.clear_live(&mut state);
        self.printer.info(format!("#{number} {label}"));
    }

    fn step_output(&self, step: &StepId, chunk: &[u8]) {
        let mut state = self.state.lock().expect("progress lock");
        let number = Self::number(&mut state, step);
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut complete = Vec::new();
        {
            let (lines, partial) = state.tails.entry(number).or_default();
            partial.push_str(&String::from_utf8_lossy(chunk));
            while let Some(end) = partial.find('\n') {
                let line: String = partial.drain(..=end).collect();
                let line = line.trim_end_matches(['\n', '\r']).to_owned();
                lines.push_back(line.clone());
                if lines.len() > TAIL_LINES {
                    lines.pop_front();
                }
                complete.push(line);
            }
        }
        match self.mode {
            Mode::Quiet => {}
            Mode::Plain => {
                for line in complete {
                    self.printer.info(format!("#{number} {elapsed:.3} {line}"));
                }
            }
            Mode::Tty => {
                self.clear_live(&mut state);
                let (lines, _) = &state.tails[&number];
                let shown: Vec<String> = lines
                    .iter()
                    .skip(lines.len().saturating_sub(LIVE_LINES))
                    .map(|l| format!("\x1b[2m  {}\x1b[0m\n", truncate(l, 120)))
                    .collect();
                self.printer.status(&shown.concat());
                state.live_lines = shown.len();
            }
        }
    }

    fn step_finished(&self, step: &StepId, outcome: StepOutcome) {
        let mut state = self.state.lock().expect("progress lock");
        let number = Self::number(&mut state, step);
        if let StepOutcome::Failed(_) = outcome {
            let label = state.labels.get(&number).cloned().unwrap_or_default();
            state.failed = Some((number, label));
        }
        if self.mode == Mode::Quiet {
            return;
        }
        self.clear_live(&mut state);
        let text = match outcome {
            StepOutcome::Cached => "CACHED".to_owned(),
            StepOutcome::Done(elapsed) => format!("DONE {:.1}s", elapsed.as_secs_f64()),
            StepOutcome::Failed(elapsed) => format!("ERROR {:.1}s", elapsed.as_secs_f64()),
        };
        self.printer.info(format!("#{number} {text}"));
    }
}

fn truncate(line: &str, max: usize) -> &str {
    match line.char_indices().nth(max) {
        Some((end, _)) => &line[..end],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_parse_like_buildx() {
        let output = parse_output(
            "type=image,name=app:zstd,compression=zstd,compression-level=19,force-compression=true",
        )
        .unwrap();
        assert_eq!(
            output,
            ImageOutput {
                names: vec!["app:zstd".into()],
                compression: LayerCompression {
                    kind: Compression::Zstd,
                    level: Some(19),
                },
                force_compression: true,
            }
        );
        assert_eq!(parse_output("type=docker").unwrap(), ImageOutput::default());
        let message = |spec: &str| parse_output(spec).unwrap_err().message;
        assert_eq!(
            message("./out"),
            "--output ./out: exporting the build result to a folder or tar is not supported"
        );
        assert_eq!(
            message("type=local,dest=out"),
            "--output type=local,dest=out: output type `local` is not supported"
        );
        assert_eq!(
            message("type=tar"),
            "--output type=tar: output type `tar` is not supported"
        );
        assert_eq!(
            message("type=image,compression=lz4"),
            "--output type=image,compression=lz4: unknown compression `lz4`"
        );
        assert_eq!(
            message("compression=zstd"),
            "--output compression=zstd: type= is missing"
        );
    }
}
