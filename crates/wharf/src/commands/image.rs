use std::fs::File;
use std::io::{self, IsTerminal};
use std::process::ExitCode;

use serde_json::{json, Value};
use wharf_engine::{CommitOptions, Engine, ImportOptions};
use wharf_oci::{Digest, Reference};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{
    CommitArgs, HistoryArgs, ImagesArgs, ImportArgs, LoadArgs, PruneArgs, RmiArgs, SaveArgs,
    TagArgs,
};
use crate::format::{human_size, since};
use crate::printer::Printer;

pub fn import(engine: &Engine, printer: Printer, args: ImportArgs) -> CommandResult {
    if let Some(platform) = &args.platform {
        let host = format!("linux/{}", wharf_oci::config::host_architecture());
        if platform != &host {
            return Err(CommandError::new(
                format!("--platform {platform}: only this host's platform ({host}) is supported"),
                Some("omit --platform"),
            ));
        }
    }
    let options = ImportOptions {
        changes: args.changes,
        message: args.message,
        reference: parse_reference(args.reference.as_deref())?,
        source: args.file.clone(),
    };
    let id = if args.file == "-" {
        engine.import(io::stdin().lock(), &options)?
    } else {
        let file = File::open(&args.file).map_err(|e| {
            CommandError::new(
                format!("cannot open {}: {e}", args.file),
                Some("give a tarball path, or `-` to read STDIN"),
            )
        })?;
        engine.import(file, &options)?
    };
    printer.data(id.to_string());
    Ok(ExitCode::SUCCESS)
}

/// `commit`: prints the new image's id, as Docker's.
pub fn commit(engine: &Engine, printer: Printer, args: CommitArgs) -> CommandResult {
    let options = CommitOptions {
        reference: parse_reference(args.reference.as_deref())?,
        changes: args.changes,
        message: args.message,
        author: args.author,
        pause: args.pause,
        config: None,
    };
    let id = engine.commit_container(&args.container, &options)?;
    printer.data(id.to_string());
    Ok(ExitCode::SUCCESS)
}

fn parse_reference(reference: Option<&str>) -> Result<Option<Reference>, CommandError> {
    reference
        .map(Reference::parse_normalized)
        .transpose()
        .map_err(|e| {
            CommandError::new(
                format!("{e}"),
                Some("name the image like `name:tag`, in lowercase"),
            )
        })
}

pub fn load(engine: &Engine, printer: Printer, args: LoadArgs) -> CommandResult {
    let report = match &args.input {
        Some(path) => {
            let file = File::open(path).map_err(|e| {
                CommandError::new(
                    format!("cannot open {}: {e}", path.display()),
                    Some("check the path given to --input"),
                )
            })?;
            engine.load(file, &path.display().to_string())?
        }
        None => {
            if io::stdin().is_terminal() {
                return Err(CommandError::new(
                    "requested load from stdin, but stdin is empty",
                    Some("use `wharf load -i FILE` or pipe an archive into it"),
                ));
            }
            engine.load(io::stdin().lock(), "stdin")?
        }
    };
    if !args.quiet {
        for image in &report.images {
            for (tag, old) in &image.replaced {
                printer.data(format!(
                    "The image {} already exists, renaming the old one with ID {old} to empty string",
                    tag.familiar()
                ));
            }
            if image.tags.is_empty() {
                printer.data(format!("Loaded image ID: {}", image.id));
            }
            for tag in &image.tags {
                printer.data(format!("Loaded image: {}", tag.familiar()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn save(engine: &Engine, args: SaveArgs) -> CommandResult {
    match &args.output {
        Some(path) => engine.save_to_file(&args.images, path)?,
        None => {
            if io::stdout().is_terminal() {
                return Err(CommandError::new(
                    "cowardly refusing to save to a terminal",
                    Some("use the -o flag or redirect"),
                ));
            }
            engine.save(&args.images, io::stdout().lock())?
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(engine: &Engine, printer: Printer, args: ImagesArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut dangling_filter = None;
    let mut reference_filters = Vec::new();
    for filter in &args.filters {
        match filter.split_once('=') {
            Some(("dangling", value)) => dangling_filter = Some(value.eq_ignore_ascii_case("true")),
            Some(("reference", pattern)) => reference_filters.push(pattern.to_string()),
            _ => return Err(CommandError::new(
                format!("--filter {filter}: unsupported filter"),
                Some("wharf supports --filter dangling=true|false and --filter reference=PATTERN"),
            )),
        }
    }
    if let Some(repository) = &args.repository {
        reference_filters.push(repository.clone());
    }
    let mut rows = Vec::new();
    for image in engine.list_images()? {
        let dangling = image.tags.is_empty();
        if dangling_filter.is_some_and(|want| want != dangling) {
            continue;
        }
        let id = if args.no_trunc {
            image.id.to_string()
        } else {
            image.id.short().to_string()
        };
        let tags: Vec<Option<&Reference>> = if dangling {
            vec![None]
        } else {
            image.tags.iter().map(Some).collect()
        };
        for tag in tags {
            if !reference_filters.is_empty()
                && !tag.is_some_and(|t| {
                    reference_filters
                        .iter()
                        .any(|pattern| reference_matches(pattern, t))
                })
            {
                continue;
            }
            rows.push(json!({
                "Containers": "N/A",
                "CreatedAt": image.created.clone().unwrap_or_default(),
                "CreatedSince": since(image.created.as_deref()),
                // The digest its repository knows it by, as Docker's.
                "Digest": tag
                    .and_then(|t| {
                        image.repo_digests.iter().find(|d| d.repository() == t.repository())
                    })
                    .and_then(Reference::digest)
                    .map_or("<none>".to_string(), Digest::to_string),
                "ID": id,
                "Repository": tag.map_or("<none>".to_string(), Reference::familiar_repository),
                "SharedSize": "N/A",
                "Size": human_size(image.size),
                "Tag": tag.and_then(|t| t.tag()).unwrap_or("<none>"),
                "UniqueSize": "N/A",
                "VirtualSize": human_size(image.size),
            }));
        }
    }
    if args.quiet {
        let mut seen = std::collections::BTreeSet::new();
        for row in &rows {
            if let Some(id) = row["ID"].as_str().filter(|id| seen.insert(id.to_string())) {
                printer.data(id);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut columns = vec![("REPOSITORY", "Repository"), ("TAG", "Tag")];
    if args.digests {
        columns.push(("DIGEST", "Digest"));
    }
    columns.extend([
        ("IMAGE ID", "ID"),
        ("CREATED", "CreatedSince"),
        ("SIZE", "Size"),
    ]);
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// `reference=` filters match the familiar name, with `*` matching within a path component
/// and a missing tag matching any tag, as Docker's.
fn reference_matches(pattern: &str, reference: &Reference) -> bool {
    let familiar = reference.familiar();
    let repository = reference.familiar_repository();
    glob(pattern, &familiar) || glob(pattern, &repository)
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(remaining) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=remaining.len())
                .filter(|&i| remaining.is_char_boundary(i) && !remaining[..i].contains('/'))
                .any(|i| glob(rest, &remaining[i..]))
        }
    }
}

pub fn tag(engine: &Engine, args: TagArgs) -> CommandResult {
    engine.tag(&args.source, &args.target)?;
    Ok(ExitCode::SUCCESS)
}

pub fn remove(engine: &Engine, printer: Printer, args: RmiArgs) -> CommandResult {
    super::for_each_name(&printer, &args.images, |name| {
        let removed = engine.remove_image(name, args.force)?;
        let untagged = removed
            .untagged
            .iter()
            .map(|tag| format!("Untagged: {}", tag.familiar()));
        let deleted = removed.deleted.iter().map(|id| format!("Deleted: {id}"));
        Ok(untagged.chain(deleted).collect())
    })
}

pub fn history(engine: &Engine, printer: Printer, args: HistoryArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let rows: Vec<Value> = engine
        .image_history(&args.image)?
        .into_iter()
        .map(|row| {
            let id = match &row.id {
                Some(id) if args.no_trunc => id.to_string(),
                Some(id) => id.short().to_string(),
                None => "<missing>".to_string(),
            };
            let created_by = if args.no_trunc || row.created_by.chars().count() <= 45 {
                row.created_by.clone()
            } else {
                format!("{}…", row.created_by.chars().take(44).collect::<String>())
            };
            json!({
                "ID": id,
                "CreatedAt": row.created.clone().unwrap_or_default(),
                "CreatedSince": if args.human { since(row.created.as_deref()) } else { row.created.clone().unwrap_or_default() },
                "CreatedBy": created_by,
                "Size": if args.human { human_size(row.size) } else { row.size.to_string() },
                "Comment": row.comment,
            })
        })
        .collect();
    if args.quiet {
        rows.iter()
            .for_each(|row| printer.data(row["ID"].as_str().unwrap_or_default()));
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        ("IMAGE", "ID"),
        ("CREATED", "CreatedSince"),
        ("CREATED BY", "CreatedBy"),
        ("SIZE", "Size"),
        ("COMMENT", "Comment"),
    ];
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

pub fn prune(engine: &Engine, printer: Printer, args: PruneArgs) -> CommandResult {
    if !args.force {
        let what = if args.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        if !printer.confirm(&format!(
            "WARNING! This will remove {what}.\nAre you sure you want to continue?"
        )) {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = engine.prune_images(args.all)?;
    if !report.deleted_images.is_empty() {
        printer.data("Deleted Images:");
        for tag in &report.untagged {
            printer.data(format!("untagged: {}", tag.familiar()));
        }
        for id in &report.deleted_images {
            printer.data(format!("deleted: {id}"));
        }
        printer.data("");
    }
    printer.data(format!(
        "Total reclaimed space: {}",
        human_size(report.reclaimed_bytes)
    ));
    Ok(ExitCode::SUCCESS)
}
