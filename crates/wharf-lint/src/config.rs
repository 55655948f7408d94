//! The settings hadolint users keep in `.hadolint.yaml`: `ignored` rules, `override`
//! severities, `trustedRegistries` (for DL3026), `label-schema` and `strict-labels` (for
//! DL3049-DL3058), `failure-threshold` and `disable-ignore-pragma`. The text is given;
//! finding the file is the caller's job.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::LintError;
use crate::finding::Level;

/// What the configuration changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Rules never reported.
    pub ignored: Vec<String>,
    /// A rule's level instead of its own (`ignore` drops it).
    pub overrides: BTreeMap<String, Level>,
    /// Registries FROM may use; empty allows all.
    pub trusted_registries: Vec<String>,
    pub failure_threshold: Option<Level>,
    /// `# hadolint ignore=` comments are not honored.
    pub disable_ignore_pragma: bool,
    /// Labels every stage must set, and the form of their values.
    pub label_schema: BTreeMap<String, LabelType>,
    /// Labels outside the schema are reported.
    pub strict_labels: bool,
}

/// The form a label's value must have (hadolint's `label-schema` types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelType {
    Text,
    Url,
    Rfc3339,
    Semver,
    Hash,
    Spdx,
    Email,
}

impl std::str::FromStr for LabelType {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Ok(match name {
            "text" => Self::Text,
            "url" => Self::Url,
            "rfc3339" => Self::Rfc3339,
            "semver" => Self::Semver,
            "hash" => Self::Hash,
            "spdx" => Self::Spdx,
            "email" => Self::Email,
            _ => return Err(()),
        })
    }
}

/// Keys hadolint reads that change only its own output; accepted so a shared file loads.
const OUTPUT_KEYS: &[&str] = &["format", "no-color", "no-fail", "output-file", "verbose"];

impl Config {
    /// Reads `.hadolint.yaml` text; `file` names it in errors.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, LintError> {
        let documents = YamlLoader::load_from_str(text).map_err(|e| LintError::Yaml {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        let mut config = Self::default();
        let Some(root) = documents.first() else {
            return Ok(config);
        };
        let key_error = |key: &str, reason: &str| LintError::Key {
            file: file.to_owned(),
            key: key.to_owned(),
            reason: reason.to_owned(),
        };
        let Yaml::Hash(map) = root else {
            if root.is_null() {
                return Ok(config);
            }
            return Err(key_error("(top)", "expected a mapping of settings"));
        };
        for (key, value) in map {
            let key = key.as_str().unwrap_or_default();
            match key {
                "ignored" => {
                    config.ignored = strings(value)
                        .ok_or_else(|| key_error(key, "expected a list of rule ids"))?
                }
                "trustedRegistries" => {
                    config.trusted_registries = strings(value)
                        .ok_or_else(|| key_error(key, "expected a list of registries"))?
                }
                "failure-threshold" => {
                    config.failure_threshold = Some(level(value).ok_or_else(|| {
                        key_error(key, "expected error, warning, info, style or none")
                    })?)
                }
                "strict-labels" => {
                    config.strict_labels = value
                        .as_bool()
                        .ok_or_else(|| key_error(key, "expected true or false"))?
                }
                "label-schema" => {
                    let Yaml::Hash(labels) = value else {
                        return Err(key_error(key, "expected a mapping of labels to types"));
                    };
                    for (label, kind) in labels {
                        let label = label.as_str().unwrap_or_default();
                        let kind = kind
                            .as_str()
                            .and_then(|kind| kind.parse().ok())
                            .ok_or_else(|| {
                                key_error(
                                    &format!("label-schema.{label}"),
                                    "types are text, url, rfc3339, semver, hash, spdx and email",
                                )
                            })?;
                        config.label_schema.insert(label.to_owned(), kind);
                    }
                }
                "disable-ignore-pragma" => {
                    config.disable_ignore_pragma = value
                        .as_bool()
                        .ok_or_else(|| key_error(key, "expected true or false"))?
                }
                "override" => {
                    let Yaml::Hash(levels) = value else {
                        return Err(key_error(key, "expected a mapping of levels to rule lists"));
                    };
                    for (name, rules) in levels {
                        let name = name.as_str().unwrap_or_default();
                        let path = format!("override.{name}");
                        let level = name.parse::<Level>().map_err(|()| {
                            key_error(&path, "levels are error, warning, info, style and none")
                        })?;
                        for rule in strings(rules)
                            .ok_or_else(|| key_error(&path, "expected a list of rule ids"))?
                        {
                            config.overrides.insert(rule, level);
                        }
                    }
                }
                _ if OUTPUT_KEYS.contains(&key) => {}
                _ => return Err(key_error(key, "unknown setting")),
            }
        }
        Ok(config)
    }
}

fn strings(value: &Yaml) -> Option<Vec<String>> {
    match value {
        Yaml::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Yaml::Null => Some(Vec::new()),
        _ => None,
    }
}

fn level(value: &Yaml) -> Option<Level> {
    value.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    #[test]
    fn reads_hadolint_settings() {
        let config = Config::from_yaml(
            "ignored: [DL3008]\noverride:\n  error: [DL3013]\n  none: [DL3059]\ntrustedRegistries:\n  - docker.io\n  - '*.corp'\nfailure-threshold: warning\nformat: tty\nstrict-labels: true\nlabel-schema:\n  maintainer: email\n",
            ".hadolint.yaml",
        )
        .unwrap();
        assert_eq!(config.ignored, ["DL3008"]);
        assert_eq!(config.overrides["DL3013"], Level::Severity(Severity::Error));
        assert_eq!(config.overrides["DL3059"], Level::Ignore);
        assert_eq!(config.trusted_registries, ["docker.io", "*.corp"]);
        assert!(config.strict_labels);
        assert_eq!(config.label_schema["maintainer"], LabelType::Email);
        assert_eq!(
            config.failure_threshold,
            Some(Level::Severity(Severity::Warning))
        );
    }

    #[test]
    fn errors_name_the_key() {
        let error = Config::from_yaml("ignored: DL3008\n", "x.yaml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.yaml: `ignored`: expected a list of rule ids"
        );
        let error = Config::from_yaml("override:\n  fatal: [DL1]\n", "x.yaml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.yaml: `override.fatal`: levels are error, warning, info, style and none"
        );
        assert!(Config::from_yaml("ignored: [\n", "x.yaml").is_err());
        let error = Config::from_yaml("label-schema:\n  a: number\n", "x.yaml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "x.yaml: `label-schema.a`: types are text, url, rfc3339, semver, hash, spdx and email"
        );
        assert_eq!(Config::from_yaml("", "x.yaml").unwrap(), Config::default());
    }
}
