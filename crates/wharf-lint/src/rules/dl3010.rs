//! DL3010: an archive COPYed into the image and then unpacked by a RUN (`tar -x`, `unzip`,
//! `gunzip`...): ADD unpacks it in one layer.

use super::{dl3020::ARCHIVES, drop_quotes, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3010",
    severity: Severity::Info,
    message: "Use `ADD` for extracting archives into an image",
    fix: "ADD the archive to the folder it unpacks into instead of COPY and tar -x",
    buildkit: None,
    check,
};

const UNPACKERS: &[&str] = &[
    "unzip",
    "gunzip",
    "bunzip2",
    "unlzma",
    "unxz",
    "zgz",
    "uncompress",
    "zcat",
    "gzcat",
];

fn basename(path: &str) -> &str {
    drop_quotes(path)
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
}

fn is_archive(name: &str) -> bool {
    ARCHIVES
        .iter()
        .any(|suffix| drop_quotes(name).ends_with(suffix))
}

fn check(file: &File) -> Vec<Hit> {
    // (line of the COPY, archive name) in the current stage, and those unpacked.
    let mut archives: Vec<(usize, String)> = Vec::new();
    let mut unpacked: Vec<(usize, String)> = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => archives.clear(),
            Instruction::Copy(copy) if copy.from.is_none() => {
                let destination = &copy.files.destination;
                if is_archive(destination) {
                    archives.push((item.line, basename(destination).to_owned()));
                } else {
                    archives.extend(
                        copy.files
                            .sources
                            .iter()
                            .map(|source| basename(source))
                            .filter(|name| is_archive(name))
                            .map(|name| (item.line, name.to_owned())),
                    );
                }
            }
            Instruction::Run(_) => {
                let Some(script) = &item.script else { continue };
                for command in &script.commands {
                    let extracts = (command.name == "tar"
                        && command.args.iter().any(|arg| {
                            arg == "--extract"
                                || arg == "--get"
                                || (arg.starts_with('-') && arg.contains('x'))
                        }))
                        || UNPACKERS.contains(&command.name.as_str());
                    if !extracts {
                        continue;
                    }
                    let names: Vec<&str> = command.operands().into_iter().map(basename).collect();
                    for archive in &archives {
                        if names.contains(&archive.1.as_str()) && !unpacked.contains(archive) {
                            unpacked.push(archive.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut lines: Vec<usize> = unpacked.into_iter().map(|(line, _)| line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.into_iter().map(Hit::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_copy_then_unpack() {
        let source = "FROM a\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /app\n";
        assert_eq!(lines(&RULE, source), [2]);
    }

    #[test]
    fn allows_archives_kept_as_files() {
        let source =
            "FROM a\nCOPY app.tar.gz /srv/\nRUN ls /srv\nCOPY b.zip /x\nFROM c\nRUN unzip b.zip\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
