//! WP005: debug settings baked into the image (`FLASK_ENV=development`, `FLASK_DEBUG=1`,
//! `DEBUG=True`, `DJANGO_DEBUG=true`): tracebacks and the debugger reach every visitor.

use super::{unquote, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "WP005",
    severity: Severity::Warning,
    message: "A debug setting is baked into the image",
    fix: "leave debug settings out of the image; set them at run time (-e, compose environment) for development",
    buildkit: None,
    check,
};

fn debug_setting(key: &str, value: &str) -> bool {
    let on = matches!(
        value.to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    );
    match key {
        "FLASK_ENV" | "QUART_ENV" => value == "development",
        "FLASK_DEBUG" | "DEBUG" | "DJANGO_DEBUG" | "APP_DEBUG" => on,
        _ => false,
    }
}

fn check(file: &File) -> Vec<Hit> {
    file.items
        .iter()
        .filter_map(|item| match &item.instruction {
            Instruction::Env(pairs) => pairs
                .iter()
                .find(|pair| debug_setting(&pair.key, unquote(&pair.value)))
                .map(|pair| {
                    Hit::with(
                        item.line,
                        format!(
                            "{}={} is baked into the image",
                            pair.key,
                            unquote(&pair.value)
                        ),
                    )
                }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_debug_settings() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nENV FLASK_ENV=development\nENV DEBUG=\"True\"\n"
            ),
            [2, 3]
        );
    }

    #[test]
    fn allows_production_settings() {
        assert!(lines(
            &RULE,
            "FROM a\nENV FLASK_ENV=production DEBUG=0 PYTHONUNBUFFERED=1\n"
        )
        .is_empty());
    }
}
