//! DL3064: an ARG or ENV whose name looks like a secret (known names such as
//! `AWS_SECRET_ACCESS_KEY`, or containing `password`, `token`, `secret`...). Values end up
//! in the image's history; pass secrets with `RUN --mount=type=secret`.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3064",
    severity: Severity::Warning,
    message: "Potentially sensitive data should not be used in the `ARG` or `ENV` commands",
    fix: "pass it at build time with RUN --mount=type=secret, or at run time with -e/--env-file",
    buildkit: Some("SecretsUsedInArgOrEnv"),
    check,
};

const KNOWN: &[&str] = &[
    "ACCESS_TOKEN",
    "APPLICATION_KEY",
    "APP_SECRET",
    "AUTH_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "BITTREX_API_KEY",
    "BITTREX_API_SECRET",
    "CF_PASSWORD",
    "CF_USERNAME",
    "CIRCLE_TOKEN",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPLOY_USER",
    "DOCKERHUB_PASSWORD",
    "DOCKER_EMAIL",
    "DOCKER_PASSWORD",
    "DOCKER_USERNAME",
    "FACEBOOK_ACCESS_TOKEN",
    "FACEBOOK_APP_ID",
    "FACEBOOK_APP_SECRET",
    "FIREBASE_API_TOKEN",
    "FIREBASE_TOKEN",
    "FOSSA_API_KEY",
    "GH_ENTERPRISE_TOKEN",
    "GH_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GITHUB_TOKEN",
    "HEROKU_API_KEY",
    "HEROKU_API_USER",
    "NPM_AUTH_TOKEN",
    "NPM_TOKEN",
    "OKTA_AUTHN_GROUPID",
    "OKTA_CLIENT_ORGURL",
    "OKTA_CLIENT_TOKEN",
    "OKTA_OAUTH2_CLIENTID",
    "OKTA_OAUTH2_CLIENTSECRET",
    "OPENAI_API_KEY",
    "OS_PASSWORD",
    "OS_USERNAME",
    "POSTGRES_PASSWORD",
    "SLACK_TOKEN",
    "STRIPE_API_KEY",
    "STRIPE_DEVICE_NAME",
    "TRAVIS_OS_NAME",
    "TRAVIS_SECURE_ENV_VARS",
    "TRAVIS_SUDO",
    "VAULT_CLIENT_KEY",
    "VAULT_TOKEN",
];

const SUSPICIOUS: &[&str] = &[
    "api_key",
    "client_key",
    "password",
    "private",
    "secret",
    "token",
    "username",
];

/// A name that looks like it holds a secret.
pub fn sensitive(name: &str) -> bool {
    let lower = name.to_lowercase();
    KNOWN.contains(&name.to_uppercase().as_str())
        || SUSPICIOUS.iter().any(|part| lower.contains(part))
}

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Arg(args) => args.iter().any(|arg| sensitive(&arg.name)),
        Instruction::Env(pairs) => pairs.iter().any(|pair| sensitive(&pair.key)),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_secret_names() {
        let source = "FROM a\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x\nENV django_secret_key=y\n";
        assert_eq!(lines(&RULE, source), [2, 3, 4]);
    }

    #[test]
    fn allows_ordinary_names() {
        assert!(lines(
            &RULE,
            "FROM a\nARG PYTHON_VERSION\nENV PYTHONUNBUFFERED=1\n"
        )
        .is_empty());
    }
}
