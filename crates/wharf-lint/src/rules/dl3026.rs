//! DL3026: FROM (or `COPY --from`, or a RUN mount's `from`) an image outside
//! `trustedRegistries`. Images without a registry are Docker Hub's (`docker.io`); earlier
//! stages and `scratch` always pass; `*.corp` and `corp.*` match as suffix and prefix.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::{BaseImage, File};
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3026",
    severity: Severity::Error,
    message: "Use only an allowed registry in the FROM image",
    fix: "pull from a registry listed in trustedRegistries",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let trusted = &file.config.trusted_registries;
    if trusted.is_empty() {
        return Vec::new();
    }
    let allowed = |stages: &HashSet<String>, image: &BaseImage| {
        stages.contains(&image.name)
            || match &image.registry {
                Some(registry) => trusted.iter().any(|allow| matches(allow, registry)),
                None => {
                    image.name == "scratch"
                        || trusted.iter().any(|allow| {
                            matches(allow, "docker.io") || matches(allow, "hub.docker.com")
                        })
                }
            }
    };
    let mut stages = HashSet::new();
    let mut hits = Vec::new();
    for item in &file.items {
        let images: Vec<BaseImage> = match &item.instruction {
            Instruction::From(_) => item.from.iter().cloned().collect(),
            Instruction::Copy(copy) => copy
                .from
                .iter()
                .map(|from| BaseImage::parse(from))
                .collect(),
            Instruction::Run(run) => run
                .mounts
                .iter()
                .filter_map(|mount| mount.from.as_deref())
                .map(BaseImage::parse)
                .collect(),
            _ => Vec::new(),
        };
        if images.iter().any(|image| !allowed(&stages, image)) {
            hits.push(item.line.into());
        }
        if let Some(alias) = item.from.as_ref().and_then(|from| from.alias.clone()) {
            stages.insert(alias);
        }
    }
    hits
}

fn matches(allow: &str, registry: &str) -> bool {
    if allow == "*" {
        true
    } else if let Some(suffix) = allow.strip_prefix('*') {
        registry.ends_with(suffix)
    } else if let Some(prefix) = allow.strip_suffix('*') {
        registry.starts_with(prefix)
    } else {
        registry == allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::finding::Finding;

    fn lines(trusted: &[&str], source: &str) -> Vec<usize> {
        let config = Config {
            trusted_registries: trusted.iter().map(|s| s.to_string()).collect(),
            ..Config::default()
        };
        crate::lint_with(source, &config, &[&RULE])
            .iter()
            .map(|finding: &Finding| finding.line)
            .collect()
    }

    #[test]
    fn catches_other_registries() {
        let source = "FROM quay.io/x:1 AS a\nFROM python:3\nCOPY --from=ghcr.io/y:1 /a /a\n";
        assert_eq!(lines(&["*.corp.example"], source), [1, 2, 3]);
    }

    #[test]
    fn allows_trusted_registries_stages_and_no_setting() {
        let source = "FROM registry.corp.example/py:3 AS a\nFROM a\nFROM scratch\nFROM python:3\n";
        assert!(lines(&["*.corp.example", "docker.io"], source).is_empty());
        assert!(lines(&[], "FROM quay.io/x:1\n").is_empty());
    }
}
