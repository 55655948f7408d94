//! What to load, before anything is parsed: the compose files (`-f`, `COMPOSE_FILE`, or
//! `compose.yaml` and its override found upward from the working directory), the project
//! directory, and the environment interpolation sees (the shell's, then `.env` or
//! `--env-file` files below it), in the order docker compose settles them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wharf_oci::PathIoContext;

use crate::dotenv;
use crate::error::ComposeError;
use crate::tree::Position;

/// The file names found by discovery, in order of preference.
pub const DEFAULT_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
/// The override files loaded after the one found.
pub const DEFAULT_OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The compose flags and the process's state, as given (nothing read yet).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f`, in order; empty means `COMPOSE_FILE` or discovery.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--env-file`, in order; empty means `<project directory>/.env` if it exists.
    pub env_files: Vec<PathBuf>,
    /// `--profile`; empty means `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// Services named on the command line: they are enabled whatever their profiles, and
    /// the project keeps only them and their dependencies.
    pub services: Vec<String>,
    /// The current directory.
    pub current_dir: PathBuf,
    /// The shell's environment.
    pub shell_environment: BTreeMap<String, String>,
    /// The user's home, for `~` in paths.
    pub home: Option<PathBuf>,
    /// `--no-interpolate` turns this off.
    pub interpolate: bool,
    /// `--no-normalize` turns this off.
    pub normalize: bool,
    /// Whether services' `env_file`s are read into `environment` (docker compose does it
    /// for `config`, not for `--hash`).
    pub resolve_env_files: bool,
}

impl LoadOptions {
    /// Options with the defaults of `docker compose config`.
    pub fn new(current_dir: PathBuf, shell_environment: BTreeMap<String, String>) -> Self {
        LoadOptions {
            current_dir,
            shell_environment,
            interpolate: true,
            normalize: true,
            resolve_env_files: true,
            ..LoadOptions::default()
        }
    }
}

/// The files, directory and environment a load starts from.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    pub working_dir: PathBuf,
    /// The shell's variables, then those of the env files that the shell does not set.
    pub environment: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

/// Settles files, project directory and environment as docker compose does: the shell's
/// environment, then `.env` of the project directory (or `--env-file`), then `COMPOSE_FILE`
/// or discovery, then `.env` again in case the project directory moved.
pub fn discover(options: &LoadOptions) -> Result<Discovered, ComposeError> {
    let mut warnings = Vec::new();
    let absolute = |path: &Path| absolute_path(&options.current_dir, path);
    let mut environment = options.shell_environment.clone();
    environment
        .entry("PWD".to_owned())
        .or_insert_with(|| options.current_dir.display().to_string());

    let mut files: Vec<PathBuf> = options.files.iter().map(|f| absolute(f)).collect();
    let first_dir = |files: &[PathBuf]| {
        files
            .first()
            .and_then(|f| f.parent().map(Path::to_path_buf))
    };
    let working_dir = |files: &[PathBuf]| match &options.project_directory {
        Some(dir) => absolute(dir),
        None => first_dir(files).unwrap_or_else(|| options.current_dir.clone()),
    };

    let env_files = env_files(options, &working_dir(&files))?;
    merge_env_files(&mut environment, &env_files)?;

    if files.is_empty() {
        if let Some(list) = environment.get("COMPOSE_FILE") {
            let separator = environment
                .get("COMPOSE_PATH_SEPARATOR")
                .filter(|s| !s.is_empty())
                .cloned()
                .unwrap_or_else(|| ":".to_owned());
            files = list
                .split(separator.as_str())
                .map(|f| absolute(Path::new(f)))
                .collect();
        }
    }
    if files.is_empty() {
        let start = match &options.project_directory {
            Some(dir) => absolute(dir),
            None => options.current_dir.clone(),
        };
        files = find_upward(&start, &mut warnings).ok_or_else(|| ComposeError::NoComposeFile {
            directory: start.clone(),
        })?;
    }
    let working_dir = working_dir(&files);
    let later_env_files = self::env_files(options, &working_dir)?;
    if later_env_files != env_files {
        merge_env_files(&mut environment, &later_env_files)?;
    }
    Ok(Discovered {
        files,
        working_dir,
        environment,
        warnings,
    })
}

/// `--env-file`s, or the project directory's `.env` when it is a file.
fn env_files(options: &LoadOptions, working_dir: &Path) -> Result<Vec<PathBuf>, ComposeError> {
    if !options.env_files.is_empty() {
        return Ok(options
            .env_files
            .iter()
            .map(|f| absolute_path(&options.current_dir, f))
            .collect());
    }
    let disabled = options
        .shell_environment
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    let dot_env = working_dir.join(".env");
    Ok(if !disabled && dot_env.is_file() {
        vec![dot_env]
    } else {
        Vec::new()
    })
}

/// Adds the variables of `files` that `environment` does not have yet. Later files win over
/// earlier ones; `${VAR}` in a file sees the environment first.
pub(crate) fn merge_env_files(
    environment: &mut BTreeMap<String, String>,
    files: &[PathBuf],
) -> Result<(), ComposeError> {
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        if !file.exists() {
            return Err(ComposeError::project(format!(
                "couldn't find env file: {}",
                file.display()
            )));
        }
        if file.is_dir() {
            return Err(ComposeError::project(format!(
                "{} is a directory",
                file.display()
            )));
        }
        let text = std::fs::read_to_string(file).at("read", file)?;
        let lookup = |name: &str| {
            environment
                .get(name)
                .or_else(|| from_files.get(name))
                .cloned()
        };
        let vars = dotenv::parse(&text, &lookup).map_err(|error| ComposeError::EnvFile {
            at: Position {
                file: file.display().to_string().into(),
                line: error.line,
            },
            message: error.message,
        })?;
        from_files.extend(vars);
    }
    for (key, value) in from_files {
        environment.entry(key).or_insert(value);
    }
    Ok(())
}

/// The first directory from `start` upward holding a compose file: that file and its
/// override.
fn find_upward(start: &Path, warnings: &mut Vec<String>) -> Option<Vec<PathBuf>> {
    let mut dir = start.to_path_buf();
    loop {
        let found = existing(&dir, &DEFAULT_FILE_NAMES);
        if let Some(winner) = found.first() {
            if found.len() > 1 {
                warnings.push(format!(
                    "Found multiple config files with supported names: {}",
                    join_paths(&found)
                ));
                warnings.push(format!("Using {}", winner.display()));
            }
            let mut files = vec![winner.clone()];
            let overrides = existing(&dir, &DEFAULT_OVERRIDE_FILE_NAMES);
            if let Some(first) = overrides.first() {
                if overrides.len() > 1 {
                    warnings.push(format!(
                        "Found multiple override files with supported names: {}",
                        join_paths(&overrides)
                    ));
                    warnings.push(format!("Using {}", first.display()));
                }
                files.push(first.clone());
            }
            return Some(files);
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn existing(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .collect()
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `path` made absolute against `base` and cleaned like Go's `filepath.Abs`.
pub fn absolute_path(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    PathBuf::from(crate::canonical::clean_path(&joined.to_string_lossy()))
}
