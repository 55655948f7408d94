//! DL3020: ADD of local files or folders; ADD is for URLs and archives to unpack.

use super::{drop_quotes, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3020",
    severity: Severity::Error,
    message: "Use COPY instead of ADD for files and folders",
    fix: "write COPY instead of ADD",
    buildkit: None,
    check,
};

/// The archive suffixes hadolint lets ADD unpack.
pub(super) const ARCHIVES: &[&str] = &[
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
    ".tpz", ".txz", ".xz",
];

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Add(add) => add.files.sources.iter().any(|source| {
            let source = drop_quotes(source);
            !(ARCHIVES.iter().any(|suffix| source.ends_with(suffix))
                || source.starts_with("https://")
                || source.starts_with("http://"))
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_add_of_files() {
        assert_eq!(
            lines(&RULE, "FROM a\nADD . /app\nADD x.tgz app.py /app/\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_urls_and_archives() {
        assert!(lines(&RULE, "FROM a\nADD https://x/y /y\nADD rootfs.tar.xz /\n").is_empty());
    }
}
