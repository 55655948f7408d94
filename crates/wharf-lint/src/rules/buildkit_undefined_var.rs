//! BuildKit's `UndefinedVar`: `$NAME` in an instruction that BuildKit expands (ENV, COPY,
//! ADD, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL) when no ARG or ENV before it in
//! the stage defines NAME. BuildKit also knows the base image's environment; lint reads no
//! images, so only stages whose base environment is known are checked: `scratch`, earlier
//! stages, and Docker's official python, debian, ubuntu and alpine images. `${NAME:-x}`
//! and friends pass.

use std::collections::{HashMap, HashSet};

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "UndefinedVar",
    severity: Severity::Warning,
    message: "Usage of undefined variable",
    fix: "declare it first with ARG NAME (or ENV NAME=value) in this stage",
    buildkit: Some("UndefinedVar"),
    check,
};

/// Variables BuildKit always provides.
const PREDEFINED: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// The environment of base images whose configuration is known.
fn base_environment(name: &str) -> Option<&'static [&'static str]> {
    let short = name.strip_prefix("library/").unwrap_or(name);
    match short {
        "scratch" | "debian" | "ubuntu" | "alpine" => Some(&["PATH"]),
        "python" => Some(&[
            "PATH",
            "LANG",
            "GPG_KEY",
            "PYTHON_VERSION",
            "PYTHON_SHA256",
            "PYTHON_PIP_VERSION",
            "PYTHON_SETUPTOOLS_VERSION",
            "PYTHON_GET_PIP_URL",
            "PYTHON_GET_PIP_SHA256",
        ]),
        _ => None,
    }
}

fn check(file: &File) -> Vec<Hit> {
    let mut stage_env: HashMap<String, HashSet<String>> = HashMap::new();
    let mut defined: Option<HashSet<String>> = None;
    let mut current = String::new();
    let mut hits = Vec::new();
    for item in &file.items {
        if let Some(from) = &item.from {
            if let Some(known) = &defined {
                stage_env.insert(current.clone(), known.clone());
            }
            let registry_ok = from.registry.as_deref().is_none_or(|r| r == "docker.io");
            defined = stage_env.get(&from.name).cloned().or_else(|| {
                registry_ok
                    .then(|| base_environment(&from.name))
                    .flatten()
                    .map(|names| names.iter().map(|name| name.to_string()).collect())
            });
            current = from.alias.clone().unwrap_or_default();
            continue;
        }
        let Some(known) = defined.as_mut() else {
            continue;
        };
        let (words, defines): (Vec<&str>, Vec<&str>) = match &item.instruction {
            Instruction::Arg(args) => (
                args.iter()
                    .filter_map(|arg| arg.default.as_deref())
                    .collect(),
                args.iter().map(|arg| arg.name.as_str()).collect(),
            ),
            Instruction::Env(pairs) => (
                pairs.iter().map(|pair| pair.value.as_str()).collect(),
                pairs.iter().map(|pair| pair.key.as_str()).collect(),
            ),
            Instruction::Label(pairs) => (
                pairs.iter().map(|pair| pair.value.as_str()).collect(),
                vec![],
            ),
            Instruction::Copy(copy) => (copy_words(&copy.files), vec![]),
            Instruction::Add(add) => (copy_words(&add.files), vec![]),
            Instruction::Workdir(word)
            | Instruction::User(word)
            | Instruction::StopSignal(word) => (vec![word.as_str()], vec![]),
            Instruction::Expose(words) | Instruction::Volume(words) => {
                (words.iter().map(String::as_str).collect(), vec![])
            }
            _ => (vec![], vec![]),
        };
        let mut reported = HashSet::new();
        for word in words {
            for name in references(word) {
                if !known.contains(&name)
                    && !PREDEFINED.contains(&name.as_str())
                    && !wharf_dockerfile::PROXY_ARGS.contains(&name.as_str())
                    && reported.insert(name.clone())
                {
                    hits.push(Hit::with(
                        item.line,
                        format!("Usage of undefined variable '${name}'"),
                    ));
                }
            }
        }
        known.extend(defines.into_iter().map(str::to_owned));
    }
    hits
}

fn copy_words(files: &wharf_dockerfile::instructions::FileTransfer) -> Vec<&str> {
    files
        .sources
        .iter()
        .map(String::as_str)
        .chain([files.destination.as_str()])
        .collect()
}

/// The variables a word expands without a fallback: `$NAME` and `${NAME}` outside single
/// quotes and not escaped.
fn references(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut names = Vec::new();
    let mut index = 0;
    let mut single_quoted = false;
    while index < chars.len() {
        match chars[index] {
            '\\' => index += 1,
            '\'' => single_quoted = !single_quoted,
            '$' if !single_quoted => {
                let braced = chars.get(index + 1) == Some(&'{');
                let start = index + 1 + usize::from(braced);
                let mut end = start;
                while chars
                    .get(end)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                let plain = !braced || chars.get(end) == Some(&'}');
                if !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) && plain {
                    names.push(name);
                }
                index = end;
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_undeclared_variables() {
        let source = "ARG VERSION=1\nFROM python:3.12\nENV PYTHONPATH=$PYTHONPATH:/app\nCOPY app-$VERSION /app\n";
        assert_eq!(lines(&RULE, source), [3, 4]);
    }

    #[test]
    fn allows_declared_inherited_and_image_variables() {
        let source = "FROM python:3.12 AS base\nARG APP=/app\nENV PATH=$APP/bin:$PATH HOME_DIR=${HOME:-/root}\nFROM base\nWORKDIR $APP\nCOPY --chown=app . '$LITERAL'\n";
        assert!(lines(&RULE, source).is_empty());
    }

    #[test]
    fn unknown_base_images_are_not_checked() {
        assert!(lines(&RULE, "FROM node:20\nENV X=$NODE_VERSION\n").is_empty());
    }
}
