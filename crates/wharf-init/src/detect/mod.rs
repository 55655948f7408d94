//! Detection: from the project's files to [`Facts`], each with its reason.

mod app;
mod deps;
mod manager;
mod python;

pub use python::DEFAULT_PYTHON;

use crate::error::InitError;
use crate::facts::{App, Facts, Service};
use crate::project::ProjectFiles;

/// What the user said instead of detection.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub python: Option<String>,
    pub port: Option<u16>,
    /// The start command, as one shell line.
    pub command: Option<String>,
}

pub fn detect(root: &std::path::Path, overrides: &Overrides) -> Result<Facts, InitError> {
    let files = ProjectFiles::scan(root)?;
    let not_a_project = || InitError::NotAProject {
        dir: root.to_owned(),
    };
    let deps = deps::dependencies(&files);
    let (manager, manager_reason) = match manager::manager(&files) {
        Some(found) => found,
        None if files.python_modules().next().is_some() => (
            crate::facts::Manager::Requirements { files: Vec::new() },
            "dependencies: none declared (no requirements.txt or pyproject.toml)".to_owned(),
        ),
        None => return Err(not_a_project()),
    };
    let mut reasons = vec![manager_reason];
    let (python, python_reason) = match &overrides.python {
        // It goes into FROM lines: anything else would break the Dockerfile.
        Some(version) if !python::is_version(version) => {
            return Err(InitError::PythonVersion {
                value: version.clone(),
            })
        }
        Some(version) => (version.clone(), format!("Python: {version} (--python)")),
        None => python::python(&files),
    };
    reasons.push(python_reason);

    let found = app::app(&files, &deps).ok_or_else(not_a_project)?;
    let (app, app_dir) = match &overrides.command {
        Some(command) => {
            reasons.push(format!("start: `{command}` (--cmd)"));
            let web = found.app.is_web() || overrides.port.is_some();
            (
                App::Command {
                    argv: vec!["sh".into(), "-c".into(), format!("exec {command}")],
                    web,
                },
                None,
            )
        }
        None => {
            reasons.push(found.reason);
            (found.app, found.app_dir)
        }
    };

    let celery = app::celery(&files).map(|(celery, reason)| {
        reasons.push(reason);
        celery
    });

    let settings_postgres = files
        .files()
        .filter(|file| file.ends_with("settings.py") || file.contains("/settings/"))
        .any(|file| {
            files
                .read(file)
                .is_some_and(|text| text.contains("django.db.backends.postgresql"))
        });
    let mut services = Vec::new();
    let postgres_driver = [
        "psycopg",
        "psycopg2",
        "psycopg2-binary",
        "asyncpg",
        "psycopg-binary",
    ]
    .iter()
    .find(|name| deps.contains(**name));
    if postgres_driver.is_some() || settings_postgres {
        services.push(Service::Postgres);
        reasons.push(match postgres_driver {
            Some(driver) => format!("service: postgres (the project depends on {driver})"),
            None => "service: postgres (Django's postgresql engine in the settings)".to_owned(),
        });
    }
    if deps.contains("redis") || celery.is_some() || deps.contains("celery") {
        services.push(Service::Redis);
        reasons.push("service: redis (redis or celery among the dependencies)".to_owned());
    }

    let mut extra_packages = Vec::new();
    match &app {
        App::Wsgi { .. } if !deps.contains("gunicorn") => extra_packages.push("gunicorn==23.0.0"),
        App::Asgi { .. } if !deps.contains("uvicorn") => extra_packages.push("uvicorn==0.32.1"),
        _ => {}
    }
    // Port 0 (any free port) cannot be published as `0:0` nor EXPOSEd.
    if overrides.port == Some(0) {
        return Err(InitError::Port);
    }
    let port = overrides.port.unwrap_or(8000);
    Ok(Facts {
        manager,
        python,
        app,
        app_dir,
        port,
        celery,
        services,
        extra_packages,
        reasons,
    })
}
