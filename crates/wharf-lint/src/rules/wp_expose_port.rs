//! WP004: the start command listens where nobody can reach it: on a port the image does
//! not EXPOSE, or on 127.0.0.1 (uvicorn's, flask's, Django runserver's and hypercorn's
//! default), which is unreachable from outside the container. gunicorn without `--bind`
//! may be configured in gunicorn.conf.py, so it is left alone.

use super::start::{program, start_commands};
use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "WP004",
    severity: Severity::Warning,
    message: "The start command listens where it cannot be reached",
    fix: "bind 0.0.0.0 on the port you EXPOSE, e.g. --host 0.0.0.0 --port 8000",
    buildkit: None,
    check,
};

/// Where a server listens: host (None when it is all interfaces) and port, as written.
struct Listen {
    host: Option<String>,
    port: Option<String>,
}

fn option(command: &Command, long: &str, short: Option<&str>) -> Option<String> {
    let prefix = format!("--{long}=");
    command
        .args
        .iter()
        .find_map(|arg| arg.strip_prefix(&prefix).map(str::to_owned))
        .or_else(|| command.flag_values(long).first().map(|v| v.to_string()))
        .or_else(|| short.and_then(|s| command.flag_values(s).first().map(|v| v.to_string())))
}

fn split_bind(bind: &str) -> Listen {
    match bind.rsplit_once(':') {
        Some((host, port)) => Listen {
            host: Some(host.to_owned()).filter(|h| !h.is_empty()),
            port: Some(port.to_owned()),
        },
        None => Listen {
            host: Some(bind.to_owned()),
            port: None,
        },
    }
}

fn listen(command: &Command, env: &[(String, String)]) -> Option<Listen> {
    let env_value = |name: &str| {
        env.iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.clone())
    };
    let operands = command.operands();
    match program(command) {
        "gunicorn" => option(command, "bind", Some("b")).map(|bind| split_bind(&bind)),
        "uvicorn" => Some(Listen {
            host: Some(
                option(command, "host", None)
                    .or_else(|| env_value("UVICORN_HOST"))
                    .unwrap_or_else(|| "127.0.0.1".into()),
            ),
            port: Some(
                option(command, "port", None)
                    .or_else(|| env_value("UVICORN_PORT"))
                    .unwrap_or_else(|| "8000".into()),
            ),
        }),
        "hypercorn" | "daphne" => {
            let bind =
                option(command, "bind", Some("b")).unwrap_or_else(|| "127.0.0.1:8000".into());
            let mut listen = split_bind(&bind);
            if let Some(port) = option(command, "port", Some("p")) {
                listen.port = Some(port);
            }
            Some(listen)
        }
        "flask" if operands.contains(&"run") => Some(Listen {
            host: Some(
                option(command, "host", Some("h"))
                    .or_else(|| env_value("FLASK_RUN_HOST"))
                    .unwrap_or_else(|| "127.0.0.1".into()),
            ),
            port: Some(
                option(command, "port", Some("p"))
                    .or_else(|| env_value("FLASK_RUN_PORT"))
                    .unwrap_or_else(|| "5000".into()),
            ),
        }),
        _ if command.args.iter().any(|arg| arg == "runserver") => {
            let address = operands
                .iter()
                .skip_while(|arg| **arg != "runserver")
                .nth(1)
                .copied()
                .unwrap_or("127.0.0.1:8000");
            Some(if address.contains(':') {
                split_bind(address)
            } else {
                Listen {
                    host: Some("127.0.0.1".into()),
                    port: Some(address.to_owned()),
                }
            })
        }
        _ => None,
    }
}

fn check(file: &File) -> Vec<Hit> {
    let stage = file.last_stage();
    let exposed: Vec<String> = stage
        .iter()
        .filter_map(|item| match &item.instruction {
            Instruction::Expose(ports) => Some(
                ports
                    .iter()
                    .map(|port| port.split('/').next().unwrap_or_default().to_owned()),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let env: Vec<(String, String)> = stage
        .iter()
        .filter_map(|item| match &item.instruction {
            Instruction::Env(pairs) => Some(
                pairs
                    .iter()
                    .map(|pair| (pair.key.clone(), super::unquote(&pair.value).to_owned())),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    let mut hits = Vec::new();
    for (line, command) in start_commands(file) {
        let Some(listen) = listen(&command, &env) else {
            continue;
        };
        let server = program(&command);
        if let Some(host) = listen
            .host
            .as_deref()
            .filter(|host| matches!(*host, "127.0.0.1" | "localhost"))
        {
            hits.push(Hit::with(
                line,
                format!(
                    "{server} listens on {host}, which is unreachable from outside the container"
                ),
            ));
        }
        let port = listen.port.filter(|port| !port.contains('$'));
        if let Some(port) = port {
            if !exposed.is_empty()
                && !exposed
                    .iter()
                    .any(|exposed| *exposed == port || exposed.contains('$'))
            {
                hits.push(Hit::with(
                    line,
                    format!(
                        "{server} listens on port {port} but the image exposes {}",
                        exposed.join(", ")
                    ),
                ));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_loopback_and_other_ports() {
        assert_eq!(
            lines(&RULE, "FROM a\nCMD [\"uvicorn\", \"app:app\"]\n"),
            [2]
        );
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nEXPOSE 8000\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:5000\", \"app:app\"]\n"
            ),
            [3]
        );
        assert_eq!(
            lines(&RULE, "FROM a\nCMD python manage.py runserver\n"),
            [2]
        );
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nEXPOSE 8000\nCMD [\"flask\", \"run\", \"--host=0.0.0.0\"]\n"
            ),
            [3]
        );
    }

    #[test]
    fn allows_matching_binds() {
        let source = "FROM a\nEXPOSE 8000\nCMD [\"uvicorn\", \"app:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n";
        assert!(lines(&RULE, source).is_empty());
        assert!(lines(
            &RULE,
            "FROM a\nEXPOSE 8000\nCMD [\"gunicorn\", \"--bind=0.0.0.0:8000\", \"app:app\"]\n"
        )
        .is_empty());
        assert!(lines(&RULE, "FROM a\nCMD [\"gunicorn\", \"app:app\"]\n").is_empty());
        assert!(lines(
            &RULE,
            "FROM a\nEXPOSE 8000\nCMD python manage.py runserver 0.0.0.0:8000\n"
        )
        .is_empty());
        assert!(lines(
            &RULE,
            "FROM a\nENV FLASK_RUN_HOST=0.0.0.0\nCMD [\"flask\", \"run\"]\n"
        )
        .is_empty());
    }
}
