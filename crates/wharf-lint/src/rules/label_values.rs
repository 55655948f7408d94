//! DL3051-DL3056 and DL3058: a LABEL whose value does not have the form `label-schema`
//! gives its key (empty, url, rfc3339, spdx, hash, semver, email), one rule per form as in
//! hadolint, each reported once per label on the LABEL's line.

use super::label_forms as forms;
use super::{unquote, Hit, Rule};
use crate::config::LabelType;
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

/// A value rule: the labels it applies to (`None`: every label of the schema), what makes
/// a value bad, and hadolint's message for a label.
struct Form {
    kind: Option<LabelType>,
    bad: fn(&str) -> bool,
    message: fn(&str) -> String,
}

fn hits(file: &File, form: &Form) -> Vec<Hit> {
    let schema = &file.config.label_schema;
    let mut hits = Vec::new();
    for item in &file.items {
        let Instruction::Label(pairs) = &item.instruction else {
            continue;
        };
        for (label, kind) in schema {
            if form.kind.is_some_and(|wanted| wanted != *kind) {
                continue;
            }
            let bad = pairs
                .iter()
                .any(|pair| unquote(&pair.key) == label && (form.bad)(&value(&pair.value)));
            if bad {
                hits.push(Hit::with(item.line, (form.message)(label)));
            }
        }
    }
    hits
}

/// A LABEL value as the image gets it: quotes removed, `\"` and `\\` unescaped.
fn value(raw: &str) -> String {
    let inner = unquote(raw);
    if raw.starts_with('"') {
        inner.replace("\\\"", "\"").replace("\\\\", "\\")
    } else {
        inner.to_owned()
    }
}

pub const EMPTY: Rule = Rule {
    code: "DL3051",
    severity: Severity::Warning,
    message: "label is empty.",
    fix: "give the label a value",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: None,
                bad: str::is_empty,
                message: |label| format!("label `{label}` is empty."),
            },
        )
    },
};

pub const URL: Rule = Rule {
    code: "DL3052",
    severity: Severity::Warning,
    message: "Label is not a valid URL.",
    fix: "write an absolute URL (https://...)",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Url),
                bad: |value| !forms::is_url(value),
                message: |label| format!("Label `{label}` is not a valid URL."),
            },
        )
    },
};

pub const RFC3339: Rule = Rule {
    code: "DL3053",
    severity: Severity::Warning,
    message: "Label is not a valid time format - must conform to RFC3339.",
    fix: "write a time like 2024-01-31T12:00:00Z",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Rfc3339),
                bad: |value| !forms::is_rfc3339(value),
                message: |label| {
                    format!("Label `{label}` is not a valid time format - must conform to RFC3339.")
                },
            },
        )
    },
};

pub const SPDX: Rule = Rule {
    code: "DL3054",
    severity: Severity::Warning,
    message: "Label is not a valid SPDX identifier.",
    fix: "write one SPDX license id, e.g. MIT or Apache-2.0",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Spdx),
                bad: |value| !forms::is_spdx_id(value),
                message: |label| format!("Label `{label}` is not a valid SPDX identifier."),
            },
        )
    },
};

pub const HASH: Rule = Rule {
    code: "DL3055",
    severity: Severity::Warning,
    message: "Label is not a valid git hash.",
    fix: "write the full (40) or short (7) lowercase commit hash",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Hash),
                bad: |value| !forms::is_git_hash(value),
                message: |label| format!("Label `{label}` is not a valid git hash."),
            },
        )
    },
};

pub const SEMVER: Rule = Rule {
    code: "DL3056",
    severity: Severity::Warning,
    message: "Label does not conform to semantic versioning.",
    fix: "write a version like 1.2.3",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Semver),
                bad: |value| !forms::is_semver(value),
                message: |label| {
                    format!("Label `{label}` does not conform to semantic versioning.")
                },
            },
        )
    },
};

pub const EMAIL: Rule = Rule {
    code: "DL3058",
    severity: Severity::Warning,
    message: "Label is not a valid email format - must conform to RFC5322.",
    fix: "write an address like name@example.com",
    buildkit: None,
    check: |file| {
        hits(
            file,
            &Form {
                kind: Some(LabelType::Email),
                bad: |value| !forms::is_email(value),
                message: |label| {
                    format!(
                        "Label `{label}` is not a valid email format - must conform to RFC5322."
                    )
                },
            },
        )
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines_configured;

    #[test]
    fn catches_values_of_the_wrong_form() {
        let yaml = "label-schema:\n  src: url\n  v: semver\n";
        let source = "FROM a\nLABEL src=acme.example v=1.2.3\nLABEL v=\"1.2\" src=https://acme.example\nLABEL src=\"\"\n";
        assert_eq!(lines_configured(&URL, yaml, source), [2, 4]);
        assert_eq!(lines_configured(&SEMVER, yaml, source), [3]);
        assert_eq!(lines_configured(&EMPTY, yaml, source), [4]);
        assert!(lines_configured(&URL, "", source).is_empty());
    }

    #[test]
    fn reads_escaped_quotes() {
        let yaml = "label-schema:\n  mail: email\n";
        let source = "FROM a\nLABEL mail=\"\\\"first last\\\"@acme.example\"\n";
        assert!(lines_configured(&EMAIL, yaml, source).is_empty());
    }
}
