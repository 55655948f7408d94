//! WP006: the image starts a development server (`flask run`, `manage.py runserver`,
//! `uvicorn --reload`): single-threaded or reloading, not meant for production.

use super::start::{program, start_commands};
use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "WP006",
    severity: Severity::Warning,
    message: "The image starts a development server",
    fix: "serve with gunicorn (WSGI) or uvicorn without --reload (ASGI)",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    start_commands(file)
        .into_iter()
        .filter_map(|(line, command)| {
            let server = if program(&command) == "flask" && command.operands().contains(&"run") {
                "flask run"
            } else if command.args.iter().any(|arg| arg == "runserver") {
                "manage.py runserver"
            } else if program(&command) == "uvicorn" && command.has_flag("reload") {
                "uvicorn --reload"
            } else {
                return None;
            };
            Some(Hit::with(
                line,
                format!("The image starts a development server ({server})"),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_development_servers() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nCMD [\"flask\", \"run\", \"--host=0.0.0.0\"]\n"
            ),
            [2]
        );
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nCMD python manage.py runserver 0.0.0.0:8000\n"
            ),
            [2]
        );
    }

    #[test]
    fn allows_production_servers() {
        assert!(lines(
            &RULE,
            "FROM a\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n"
        )
        .is_empty());
    }
}
