//! WC003: a password or other secret written in the compose file's `environment` instead of
//! coming from `.env` (`${VAR}`), an `env_file` or `secrets`. Values are read as written,
//! before interpolation.

use wharf_compose::Project;

use super::{ComposeRule, Locator};
use crate::finding::Severity;
use crate::rules::sensitive;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC003",
    severity: Severity::Warning,
    message: "A secret is written in the compose file",
    fix: "write KEY: ${KEY} and keep the value in .env (not committed), or use secrets:",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for name in project.services.keys() {
        for (line, text) in locator
            .block(&["services", name, "environment"])
            .into_iter()
            .skip(1)
        {
            let entry = text
                .trim_start()
                .trim_start_matches("- ")
                .trim_matches(['"', '\'']);
            let Some((key, value)) = entry.split_once(['=', ':']) else {
                continue;
            };
            let value = value.trim().trim_matches(['"', '\'']);
            let key_name = key.trim();
            if sensitive(key_name)
                && !key_name.ends_with("_FILE")
                && !value.is_empty()
                && !value.contains('$')
            {
                hits.push((
                    line,
                    format!("service `{name}`: {} is written in the file", key.trim()),
                ));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_literal_passwords() {
        let yaml = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_DB: app\n      POSTGRES_PASSWORD: hunter2\n  web:\n    image: app:1\n    environment:\n      - API_TOKEN=abc\n";
        assert_eq!(lines(&RULE, yaml), [6, 10]);
    }

    #[test]
    fn allows_interpolated_values() {
        let yaml = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-x}\n      POSTGRES_PASSWORD_FILE: /run/secrets/db\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
