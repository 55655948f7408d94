//! The command the image starts: the final stage's ENTRYPOINT and CMD (or the ones it
//! inherits from an earlier stage), read into shell commands. `sh -c "..."` is read as the
//! script it runs; `python -m tool` is named `tool`.

use std::collections::HashMap;

use crate::dockerfile::{File, Item};
use crate::shell::{Command, Script};
use wharf_dockerfile::instructions::CommandLine;
use wharf_dockerfile::Instruction;

/// The starting commands and the line of the CMD or ENTRYPOINT they came from.
pub(super) fn start_commands(file: &File) -> Vec<(usize, Command)> {
    let mut chosen: HashMap<&str, (Option<&Item>, Option<&Item>)> = HashMap::new();
    let mut last = (None, None);
    for stage in file.stages() {
        let Some(from) = stage.first().and_then(|item| item.from.as_ref()) else {
            continue;
        };
        let (mut entrypoint, mut cmd) = chosen
            .get(from.name.as_str())
            .copied()
            .unwrap_or((None, None));
        for item in stage {
            match &item.instruction {
                Instruction::Entrypoint(_) => {
                    entrypoint = Some(item);
                    // Docker resets an inherited CMD when ENTRYPOINT is set.
                    cmd = None;
                }
                Instruction::Cmd(_) => cmd = Some(item),
                _ => {}
            }
        }
        if let Some(alias) = &from.alias {
            chosen.insert(alias, (entrypoint, cmd));
        }
        last = (entrypoint, cmd);
    }
    let words = |item: Option<&Item>| match item.map(|item| &item.instruction) {
        Some(Instruction::Entrypoint(line) | Instruction::Cmd(line)) => Some(line.clone()),
        _ => None,
    };
    let line = last.1.or(last.0).map(|item| item.line).unwrap_or_default();
    let script = match (words(last.0), words(last.1)) {
        (Some(CommandLine::Exec(mut entry)), Some(CommandLine::Exec(cmd))) => {
            entry.extend(cmd);
            exec_script(&entry)
        }
        (Some(line), _) | (None, Some(line)) => match line {
            CommandLine::Exec(words) => exec_script(&words),
            CommandLine::Shell(text) => Script::parse(&text),
        },
        (None, None) => return Vec::new(),
    };
    script
        .commands
        .into_iter()
        .map(|command| (line, unwrap_module(command)))
        .collect()
}

fn exec_script(words: &[String]) -> Script {
    match words {
        [shell, flag, script, ..] if shell.ends_with("sh") && flag == "-c" => Script::parse(script),
        _ => Script::parse(
            &words
                .iter()
                .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    }
}

/// `python -m uvicorn app:app` → `uvicorn app:app`.
fn unwrap_module(command: Command) -> Command {
    if !command
        .name
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .starts_with("python")
    {
        return command;
    }
    match command.args.iter().position(|arg| arg == "-m") {
        Some(at) if at + 1 < command.args.len() => Script::parse(&format!(
            "'{}' {}",
            command.args[at + 1],
            quote_all(&command.args[at + 2..])
        ))
        .commands
        .into_iter()
        .next()
        .unwrap_or(command),
        _ => command,
    }
}

fn quote_all(words: &[String]) -> String {
    words
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command's program, without its path.
pub(super) fn program(command: &Command) -> &str {
    command.name.rsplit('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn start(source: &str) -> Vec<(usize, String)> {
        let parsed = wharf_dockerfile::parse(source).unwrap();
        let config = Config::default();
        let (file, _) = crate::build_file(source, &parsed, &config);
        start_commands(&file)
            .into_iter()
            .map(|(line, command)| (line, format!("{} {}", command.name, command.args.join(" "))))
            .collect()
    }

    #[test]
    fn reads_exec_shell_and_inherited_commands() {
        assert_eq!(
            start("FROM a\nCMD [\"python\", \"-m\", \"uvicorn\", \"app:app\"]\n"),
            [(2, "uvicorn app:app".to_owned())]
        );
        assert_eq!(
            start("FROM a AS base\nCMD gunicorn -b :80 app\nFROM base\n"),
            [(2, "gunicorn -b :80 app".to_owned())]
        );
        assert_eq!(
            start("FROM a\nENTRYPOINT [\"sh\", \"-c\", \"exec flask run\"]\n"),
            [(2, "flask flask run".to_owned())]
        );
    }
}
