//! `--change` instructions of `import` (and later `commit`): the Dockerfile instructions that
//! only change an image's config, applied as Docker applies them.

use std::collections::BTreeMap;

use serde_json::Value;
use wharf_oci::ContainerConfig;

use crate::error::{EngineError, Result};

/// Applies every change to `config`. All are parsed before any is applied, so a bad one
/// changes nothing.
pub(crate) fn apply(config: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    let parsed: Vec<Change> = changes.iter().map(|c| parse(c)).collect::<Result<_>>()?;
    for change in parsed {
        change.apply(config);
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Change {
    Cmd(Vec<String>),
    Entrypoint(Vec<String>),
    Env(Vec<(String, String)>),
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    OnBuild(String),
    StopSignal(String),
    User(String),
    Volume(Vec<String>),
    WorkDir(String),
}

fn parse(text: &str) -> Result<Change> {
    let bad = |message: &str| EngineError::BadChange {
        change: text.to_string(),
        message: message.to_string(),
    };
    let trimmed = text.trim();
    let (instruction, rest) = trimmed
        .split_once(char::is_whitespace)
        .unwrap_or((trimmed, ""));
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(bad("the instruction has no arguments"));
    }
    Ok(match instruction.to_ascii_uppercase().as_str() {
        "CMD" => Change::Cmd(command(rest)),
        "ENTRYPOINT" => Change::Entrypoint(command(rest)),
        "ENV" => Change::Env(key_values(rest).map_err(|m| bad(&m))?),
        "LABEL" => Change::Label(key_values(rest).map_err(|m| bad(&m))?),
        "EXPOSE" => Change::Expose(
            rest.split_whitespace()
                .map(|port| {
                    if port.contains('/') {
                        port.to_string()
                    } else {
                        format!("{port}/tcp")
                    }
                })
                .collect(),
        ),
        "ONBUILD" => Change::OnBuild(rest.to_string()),
        "STOPSIGNAL" => Change::StopSignal(rest.to_string()),
        "USER" => Change::User(rest.to_string()),
        "VOLUME" => Change::Volume(json_array(rest).unwrap_or_else(|| words(rest))),
        "WORKDIR" => Change::WorkDir(rest.to_string()),
        _ => {
            return Err(bad(&format!(
                "{instruction} is not an instruction --change accepts"
            )))
        }
    })
}

/// Exec form (a JSON array of strings) as is; shell form runs through `/bin/sh -c`.
fn command(rest: &str) -> Vec<String> {
    json_array(rest)
        .unwrap_or_else(|| vec!["/bin/sh".to_string(), "-c".to_string(), rest.to_string()])
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    rest.starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(rest).ok())
        .flatten()
}

/// Splits on whitespace outside double quotes and drops the quotes, as Docker's ENV/LABEL.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\\' => current.extend(chars.next()),
            c if c.is_whitespace() && !in_quotes => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `KEY=VALUE ...`, or the legacy single `KEY VALUE` form.
fn key_values(rest: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let first = rest.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        let (key, value) = rest
            .split_once(char::is_whitespace)
            .ok_or("expected KEY=VALUE or KEY VALUE")?;
        return Ok(vec![(key.to_string(), value.trim().to_string())]);
    }
    words(rest)
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => Err(format!("`{word}` is not KEY=VALUE")),
        })
        .collect()
}

impl Change {
    fn apply(self, config: &mut ContainerConfig) {
        match self {
            Self::Cmd(cmd) => config.cmd = Some(cmd),
            Self::Entrypoint(entrypoint) => {
                config.entrypoint = Some(entrypoint);
                // As in a Dockerfile: a new entrypoint drops the inherited command.
                config.cmd = None;
            }
            Self::Env(pairs) => {
                let env = config.env.get_or_insert_with(Vec::new);
                for (key, value) in pairs {
                    let prefix = format!("{key}=");
                    let entry = format!("{key}={value}");
                    match env.iter_mut().find(|e| e.starts_with(&prefix)) {
                        Some(existing) => *existing = entry,
                        None => env.push(entry),
                    }
                }
            }
            Self::Expose(ports) => {
                let exposed = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for port in ports {
                    exposed.insert(port, Value::Object(Default::default()));
                }
            }
            Self::Label(pairs) => config
                .labels
                .get_or_insert_with(BTreeMap::new)
                .extend(pairs),
            Self::OnBuild(trigger) => config.on_build.get_or_insert_with(Vec::new).push(trigger),
            Self::StopSignal(signal) => config.stop_signal = signal,
            Self::User(user) => config.user = user,
            Self::Volume(paths) => {
                let volumes = config.volumes.get_or_insert_with(BTreeMap::new);
                for path in paths {
                    volumes.insert(path, Value::Object(Default::default()));
                }
            }
            Self::WorkDir(dir) => config.working_dir = dir,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> ContainerConfig {
        let mut config = ContainerConfig::default();
        apply(
            &mut config,
            &changes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        config
    }

    #[test]
    fn exec_and_shell_forms() {
        assert_eq!(
            applied(&[r#"CMD ["python3", "-V"]"#]).cmd.unwrap(),
            ["python3", "-V"]
        );
        assert_eq!(
            applied(&["CMD echo hi"]).cmd.unwrap(),
            ["/bin/sh", "-c", "echo hi"]
        );
        let config = applied(&["CMD x", r#"ENTRYPOINT ["tini"]"#]);
        assert_eq!(config.entrypoint.unwrap(), ["tini"]);
        assert_eq!(config.cmd, None);
    }

    #[test]
    fn env_label_expose_volume() {
        let config = applied(&[
            "ENV PATH=/usr/bin LANG=C.UTF-8",
            "ENV PATH=/bin",
            "ENV LEGACY some value",
            r#"LABEL a="x y" b=2"#,
            "EXPOSE 5000 53/udp",
            r#"VOLUME ["/data"]"#,
            "WORKDIR /app",
            "USER app",
        ]);
        assert_eq!(
            config.env.unwrap(),
            ["PATH=/bin", "LANG=C.UTF-8", "LEGACY=some value"]
        );
        assert_eq!(config.labels.unwrap()["a"], "x y");
        assert!(config.exposed_ports.unwrap().contains_key("5000/tcp"));
        assert!(config.volumes.unwrap().contains_key("/data"));
        assert_eq!(config.working_dir, "/app");
        assert_eq!(config.user, "app");
    }

    #[test]
    fn a_bad_change_changes_nothing() {
        let mut config = ContainerConfig::default();
        let changes = ["CMD ok".to_string(), "RUN apt-get update".to_string()];
        let error = apply(&mut config, &changes).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--change `RUN apt-get update`: RUN is not an instruction --change accepts"
        );
        assert_eq!(config, ContainerConfig::default());
        assert!(apply(&mut config, &["ENV".to_string()]).is_err());
        assert!(apply(&mut config, &["ENV =x".to_string()]).is_err());
    }
}
