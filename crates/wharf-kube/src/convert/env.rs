//! `environment` and `env_file`. Inline variables stay in the pod spec; variables that came
//! from env files go to the ConfigMap `<service>-env`; variables whose name or value looks
//! secret go to the Secret `<service>-env`, wherever they came from. compose's precedence
//! (environment over env_file) is already applied by the loader; Kubernetes gives `env`
//! precedence over `envFrom`, and no name is in both.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::context::Context;
use super::{metadata, Out};

/// Names that hold credentials by convention.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
    "AUTH",
];

/// Whether a variable should live in a Secret: its name says so, or its value is a URL
/// with a password (`postgresql://user:pass@db/app`).
pub fn looks_secret(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
        || value.split_once("://").is_some_and(|(_, rest)| {
            rest.split_once('@')
                .is_some_and(|(userinfo, _)| userinfo.contains(':') && !userinfo.contains('/'))
        })
}

/// `env` and `envFrom` of the container; adds the ConfigMap and Secret they name.
pub(crate) fn env(context: &Context, out: &mut Out) -> (Vec<Value>, Vec<Value>) {
    let service = context.service;
    let from_files = context.sources.from_env_files.get(&service.name);
    let mut inline = Vec::new();
    let mut config: BTreeMap<&str, &str> = BTreeMap::new();
    let mut secret: BTreeMap<&str, Value> = BTreeMap::new();
    for (name, value) in &service.environment {
        // An unset variable is left out, as compose leaves it out of the container.
        let Some(value) = value else { continue };
        if looks_secret(name, value) {
            secret.insert(name, json!(crate::base64(value.as_bytes())));
        } else if from_files.is_some_and(|f| f.contains(name)) {
            config.insert(name, value);
        } else {
            inline.push(json!({ "name": name, "value": value }));
        }
    }
    let name = format!("{}-env", context.name());
    let mut from = Vec::new();
    if !config.is_empty() {
        out.add(
            "ConfigMap",
            &name,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": metadata(context.project, &name, Some(&service.name)),
                "data": config,
            }),
        );
        from.push(json!({ "configMapRef": { "name": name } }));
    }
    if !secret.is_empty() {
        out.add(
            "Secret",
            &name,
            super::secret(context.project, &name, Some(&service.name), json!(secret)),
        );
        from.push(json!({ "secretRef": { "name": name } }));
    }
    (inline, from)
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names_and_urls_with_passwords() {
        assert!(looks_secret("POSTGRES_PASSWORD", "x"));
        assert!(looks_secret("django_secret_key", "x"));
        assert!(looks_secret("DATABASE_URL", "postgresql://u:p@db/app"));
        assert!(!looks_secret("DATABASE_URL", "postgresql://db/app"));
        assert!(!looks_secret("REDIS_URL", "redis://redis:6379/0"));
        assert!(!looks_secret("DEBUG", "1"));
    }
}
