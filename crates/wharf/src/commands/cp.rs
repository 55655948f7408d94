//! `cp`: between a container and the host, or a tar stream on stdin/stdout.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use wharf_engine::{CopyOptions, Engine};

use super::{CommandError, CommandResult};
use crate::cli::CpArgs;

/// One side of a copy, as Docker splits it: `NAME:PATH` is in a container unless the part
/// before the first `:` holds a `/` (write `./a:b` for a local file named `a:b`).
enum Side<'a> {
    Container { name: &'a str, path: &'a str },
    Local(&'a str),
}

fn side(text: &str) -> Side<'_> {
    match text.split_once(':') {
        Some((name, path)) if !name.is_empty() && !name.contains('/') => Side::Container {
            name,
            path: if path.is_empty() { "/" } else { path },
        },
        _ => Side::Local(text),
    }
}

pub fn copy(engine: &Engine, args: CpArgs) -> CommandResult {
    let options = CopyOptions {
        archive: args.archive,
        follow_link: args.follow_link,
    };
    match (side(&args.source), side(&args.dest)) {
        (Side::Container { name, path }, Side::Local("-")) => {
            if std::io::stdout().is_terminal() {
                return Err(CommandError::new(
                    "cowardly refusing to write a tar stream to a terminal",
                    Some("redirect stdout, or give a local path as the destination"),
                ));
            }
            engine.copy_from_container_to_tar(name, path, std::io::stdout().lock(), options)?
        }
        (Side::Container { name, path }, Side::Local(dest)) => {
            engine.copy_from_container(name, path, Path::new(dest), options)?
        }
        (Side::Local("-"), Side::Container { name, path }) => {
            engine.copy_tar_into_container(std::io::stdin().lock(), name, path)?
        }
        (Side::Local(source), Side::Container { name, path }) => {
            engine.copy_into_container(Path::new(source), name, path, options)?
        }
        (Side::Container { .. }, Side::Container { .. }) => {
            return Err(CommandError::new(
                "copying between containers is not supported",
                Some("copy to the host first, then into the other container"),
            ))
        }
        (Side::Local(_), Side::Local(_)) => {
            return Err(CommandError::new(
                "must specify at least one container source",
                Some("name a container path as CONTAINER:PATH, e.g. `wharf cp web:/app/log.txt .`"),
            ))
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_split_like_dockers() {
        assert!(matches!(
            side("web:/a"),
            Side::Container {
                name: "web",
                path: "/a"
            }
        ));
        assert!(matches!(
            side("web:"),
            Side::Container {
                name: "web",
                path: "/"
            }
        ));
        assert!(matches!(side("./a:b"), Side::Local("./a:b")));
        assert!(matches!(side("/tmp/x"), Side::Local("/tmp/x")));
        assert!(matches!(side("-"), Side::Local("-")));
    }
}
