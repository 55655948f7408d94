//! What the image starts, read from the code's top-level statements rather than substrings:
//! a Procfile `web:` line wins; then Django (`manage.py`, its settings module's
//! `WSGI_APPLICATION`/`ASGI_APPLICATION`); then the module-level variable assigned a
//! `Flask(...)`, `FastAPI(...)` or `Starlette(...)` (or a Flask `create_app` factory); then a
//! `[project.scripts]` entry, a package's `__main__`, or a script. Celery apps are found the
//! same way.

use std::collections::BTreeSet;

use super::deps::section_keys;
use crate::facts::{App, Celery};
use crate::project::ProjectFiles;

pub struct Found {
    pub app: App,
    pub app_dir: Option<String>,
    pub reason: String,
}

/// `NAME = Callee(...)` (or `NAME: T = Callee(...)`) at the start of a line.
fn assigned_call<'a>(line: &'a str, callees: &[&str]) -> Option<(&'a str, &'a str)> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let (left, right) = line.split_once('=')?;
    let right = right.trim_start();
    if right.starts_with('=') {
        return None;
    }
    let name = left.split(':').next()?.trim();
    let is_identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    let (callee, _) = right.split_once('(')?;
    let callee = callee.trim();
    let short = callee.rsplit('.').next()?;
    (is_identifier && callees.contains(&short)).then_some((name, short))
}

/// The module path of a file (`pkg/app.py` → `pkg.app`) and the folder it is imported
/// from (`src` for a src layout).
fn module_of(file: &str) -> (String, Option<String>) {
    let (dir, rest) = match file.strip_prefix("src/") {
        Some(rest) => (Some("src".to_owned()), rest),
        None => (None, file),
    };
    let module = rest
        .trim_end_matches(".py")
        .trim_end_matches("/__init__")
        .replace('/', ".");
    (module, dir)
}

/// Python modules, shallow ones and the usual entry names first.
fn candidates(files: &ProjectFiles) -> Vec<&str> {
    let mut modules: Vec<&str> = files.python_modules().collect();
    let rank = |file: &&str| {
        let name = file.rsplit('/').next().unwrap_or(file);
        let preferred = [
            "app.py",
            "main.py",
            "wsgi.py",
            "asgi.py",
            "server.py",
            "api.py",
            "__init__.py",
        ]
        .iter()
        .position(|known| *known == name)
        .unwrap_or(99);
        (file.matches('/').count(), preferred, file.to_string())
    };
    modules.sort_by_key(rank);
    modules
}

pub fn app(files: &ProjectFiles, deps: &BTreeSet<String>) -> Option<Found> {
    procfile(files)
        .or_else(|| django(files, deps))
        .or_else(|| framework(files))
        .or_else(|| script(files))
}

fn procfile(files: &ProjectFiles) -> Option<Found> {
    let text = files.read("Procfile")?;
    let command = text
        .lines()
        .find_map(|line| line.strip_prefix("web:"))?
        .trim();
    Some(Found {
        app: App::Command {
            argv: vec!["sh".into(), "-c".into(), format!("exec {command}")],
            web: true,
        },
        app_dir: None,
        reason: format!("start: `{command}` (the Procfile's web process)"),
    })
}

fn django(files: &ProjectFiles, deps: &BTreeSet<String>) -> Option<Found> {
    let manage = files.read("manage.py")?;
    let settings = manage
        .split("DJANGO_SETTINGS_MODULE")
        .nth(1)?
        .split(['"', '\''])
        .nth(2)?
        .to_owned();
    let base = settings.replace('.', "/");
    let text = [
        format!("{base}.py"),
        format!("{base}/__init__.py"),
        format!("{base}/base.py"),
    ]
    .iter()
    .find_map(|path| files.read(path))?;
    let setting = |name: &str| {
        text.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.trim_start().strip_prefix('=')?;
            Some(value.trim().trim_matches(['"', '\'']).to_owned())
        })
    };
    let asgi_server =
        deps.contains("uvicorn") || deps.contains("daphne") || deps.contains("channels");
    let to_target = |path: String| match path.rsplit_once('.') {
        Some((module, object)) => format!("{module}:{object}"),
        None => path,
    };
    let (app, reason) = match (setting("ASGI_APPLICATION"), setting("WSGI_APPLICATION")) {
        (Some(asgi), _) if asgi_server => (
            App::Asgi {
                target: to_target(asgi.clone()),
            },
            format!("start: Django, ASGI_APPLICATION = {asgi} in {settings} (served by uvicorn)"),
        ),
        (_, Some(wsgi)) => (
            App::Wsgi {
                target: to_target(wsgi.clone()),
            },
            format!("start: Django, WSGI_APPLICATION = {wsgi} in {settings} (served by gunicorn)"),
        ),
        _ => return None,
    };
    Some(Found {
        app,
        app_dir: None,
        reason,
    })
}

fn framework(files: &ProjectFiles) -> Option<Found> {
    let mut factory = None;
    for file in candidates(files) {
        let Some(text) = files.read(file) else {
            continue;
        };
        let (module, app_dir) = module_of(file);
        for line in text.lines() {
            if let Some((name, callee)) =
                assigned_call(line, &["Flask", "FastAPI", "Starlette", "Quart"])
            {
                let target = format!("{module}:{name}");
                let reason = format!("start: `{name} = {callee}(...)` in {file}");
                let app = match callee {
                    "Flask" => App::Wsgi { target },
                    _ => App::Asgi { target },
                };
                return Some(Found {
                    app,
                    app_dir,
                    reason,
                });
            }
            let imports_flask = text
                .lines()
                .any(|l| l.starts_with("from flask import") || l.starts_with("import flask"));
            if factory.is_none() && imports_flask && line.starts_with("def create_app(") {
                factory = Some(Found {
                    app: App::Wsgi {
                        target: format!("{module}:create_app()"),
                    },
                    app_dir: app_dir.clone(),
                    reason: format!("start: the Flask app factory `create_app` in {file}"),
                });
            }
        }
    }
    factory
}

fn script(files: &ProjectFiles) -> Option<Found> {
    let pyproject = files.read("pyproject.toml").unwrap_or_default();
    if let Some(name) = section_keys(&pyproject, &["[project.scripts]"])
        .into_iter()
        .next()
    {
        return Some(Found {
            app: App::Command {
                argv: vec![name.clone()],
                web: false,
            },
            app_dir: None,
            reason: format!("start: `{name}` from [project.scripts]"),
        });
    }
    if let Some(main) = files
        .files()
        .find(|file| file.ends_with("/__main__.py") && file.matches('/').count() <= 2)
    {
        let (module, app_dir) = module_of(main.trim_end_matches("/__main__.py"));
        return Some(Found {
            app: App::Command {
                argv: vec!["python".into(), "-m".into(), module.clone()],
                web: false,
            },
            app_dir,
            reason: format!("start: `python -m {module}` ({main})"),
        });
    }
    let script = ["main.py", "app.py", "run.py", "bot.py", "cli.py"]
        .into_iter()
        .find(|name| files.has(name))
        .or_else(|| files.python_modules().find(|file| !file.contains('/')))?;
    Some(Found {
        app: App::Command {
            argv: vec!["python".into(), script.to_owned()],
            web: false,
        },
        app_dir: None,
        reason: format!("start: `python {script}`"),
    })
}

/// Where Celery apps and their schedules are written, by convention.
const CELERY_FILES: &[&str] = &[
    "celery.py",
    "celery_app.py",
    "tasks.py",
    "worker.py",
    "__init__.py",
    "app.py",
    "main.py",
    "settings.py",
    "config.py",
    "celeryconfig.py",
];

/// The module that assigns a `Celery(...)` app; beat when a schedule is configured. Only
/// the files conventionally holding them are read, so that large projects stay fast.
pub fn celery(files: &ProjectFiles) -> Option<(Celery, String)> {
    let mut found = None;
    let mut beat = false;
    let conventional = candidates(files).into_iter().filter(|file| {
        CELERY_FILES.contains(&file.rsplit('/').next().unwrap_or(file))
            || file.contains("/settings/")
    });
    for file in conventional {
        let Some(text) = files.read(file) else {
            continue;
        };
        beat |= text.contains("beat_schedule") || text.contains("CELERY_BEAT_SCHEDULE");
        if found.is_none()
            && text
                .lines()
                .any(|line| assigned_call(line, &["Celery"]).is_some())
        {
            found = Some((module_of(file).0, file.to_owned()));
        }
    }
    let (module, file) = found?;
    let reason = format!(
        "worker: the Celery app in {file}{}",
        if beat {
            ", and beat for its schedule"
        } else {
            ""
        }
    );
    Some((Celery { module, beat }, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_assignments() {
        assert_eq!(
            assigned_call("app = Flask(__name__)", &["Flask"]),
            Some(("app", "Flask"))
        );
        assert_eq!(
            assigned_call("api: FastAPI = fastapi.FastAPI(title='x')", &["FastAPI"]),
            Some(("api", "FastAPI"))
        );
        assert_eq!(assigned_call("    app = Flask(__name__)", &["Flask"]), None);
        assert_eq!(assigned_call("if x == Flask(1):", &["Flask"]), None);
        assert_eq!(assigned_call("# app = Flask(__name__)", &["Flask"]), None);
    }

    #[test]
    fn modules() {
        assert_eq!(
            module_of("src/shop/api.py"),
            ("shop.api".into(), Some("src".into()))
        );
        assert_eq!(module_of("shop/__init__.py"), ("shop".into(), None));
    }
}
