//! The Dockerfile: a build stage that installs the dependencies into `/venv` before the
//! code is copied (with a cache mount, from the lock where there is one), then the
//! project; a slim runtime stage with that venv, the code compiled to bytecode, a
//! non-root user (uid 10001), a healthcheck the image can run (python, not curl) for web
//! apps, and an exec-form CMD.

use crate::facts::{App, Facts, Manager};

/// Tools installed from PyPI at pinned versions.
const UV: &str = "uv==0.5.11";
const POETRY: &str = "poetry==1.8.5";
const PIPENV: &str = "pipenv==2024.4.0";
/// With the versions its `locked` extra names for the HTTP cache: newer hishel releases
/// break PDM.
const PDM: &str = "pdm==2.29.4 hishel==1.4.0 httpx2==2.14.0";

const PIP_CACHE: &str = "--mount=type=cache,target=/root/.cache/pip";

/// Python 3.11 and newer read TOML (`tomllib`).
fn reads_toml(python: &str) -> bool {
    let mut parts = python
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (3, 11)
}

fn install_dependencies(manager: &Manager, python: &str) -> String {
    match manager {
        Manager::Requirements { files } if files.is_empty() => String::new(),
        Manager::Requirements { files } => {
            // Each requirement file where the ones including it expect it.
            let copies: String = files
                .iter()
                .map(|file| match file.rsplit_once('/') {
                    Some((dir, _)) => format!("COPY {file} {dir}/\n"),
                    None => format!("COPY {file} ./\n"),
                })
                .collect();
            format!("{copies}RUN {PIP_CACHE} \\\n    /venv/bin/pip install -r requirements.txt\n")
        }
        Manager::Uv => format!(
            "RUN {PIP_CACHE} pip install {UV}\n\
             ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=0 UV_PROJECT_ENVIRONMENT=/venv\n\
             RUN --mount=type=cache,target=/root/.cache/uv \\\n    \
             --mount=type=bind,source=uv.lock,target=uv.lock \\\n    \
             --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\\n    \
             uv sync --locked --no-install-project --no-dev\n"
        ),
        Manager::Poetry { .. } => format!(
            "RUN {PIP_CACHE} pip install {POETRY}\n\
             ENV VIRTUAL_ENV=/venv POETRY_NO_INTERACTION=1\n\
             COPY pyproject.toml poetry.lock ./\n\
             RUN --mount=type=cache,target=/root/.cache/pypoetry \\\n    \
             poetry install --only main --no-root\n"
        ),
        Manager::Pipenv => format!(
            "RUN {PIP_CACHE} pip install {PIPENV}\n\
             COPY Pipfile Pipfile.lock ./\n\
             RUN {PIP_CACHE} \\\n    \
             pipenv requirements > /tmp/requirements.txt \\\n    \
             && /venv/bin/pip install -r /tmp/requirements.txt\n"
        ),
        Manager::Pdm { .. } => format!(
            "RUN {PIP_CACHE} pip install {PDM}\n\
             COPY pyproject.toml pdm.lock ./\n\
             RUN {PIP_CACHE} \\\n    \
             pdm export --prod --no-hashes -o /tmp/requirements.txt \\\n    \
             && /venv/bin/pip install -r /tmp/requirements.txt\n"
        ),
        // The listed dependencies, read from pyproject.toml alone, so that code changes
        // keep this layer.
        Manager::Setuptools { listed: true } if reads_toml(python) => format!(
            "RUN {PIP_CACHE} \\\n    \
             --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\\n    \
             python -c \"import tomllib; print('\\\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))\" > /tmp/requirements.txt \\\n    \
             && /venv/bin/pip install -r /tmp/requirements.txt\n"
        ),
        Manager::Setuptools { .. } => String::new(),
    }
}

/// Installing the project itself, after its code is copied.
fn install_project(manager: &Manager) -> &'static str {
    match manager {
        Manager::Uv => "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev\n",
        Manager::Poetry { package: true } => "RUN poetry install --only main\n",
        Manager::Setuptools { .. } => {
            "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install .\n"
        }
        // Its dependencies are in from the lock already.
        Manager::Pdm { package: true } => {
            "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install --no-deps .\n"
        }
        Manager::Poetry { package: false }
        | Manager::Requirements { .. }
        | Manager::Pipenv
        | Manager::Pdm { package: false } => "",
    }
}

/// The CMD's words.
pub(super) fn start_command(facts: &Facts) -> Vec<String> {
    let port = facts.port.to_string();
    let bind = format!("0.0.0.0:{port}");
    let mut argv: Vec<String> = match &facts.app {
        App::Wsgi { target } => vec!["gunicorn".into(), "--bind".into(), bind, target.clone()],
        App::Asgi { target } => vec![
            "uvicorn".into(),
            target.clone(),
            "--host".into(),
            "0.0.0.0".into(),
            "--port".into(),
            port,
        ],
        App::Command { argv, .. } => return argv.clone(),
    };
    if let Some(dir) = &facts.app_dir {
        let flag = if argv[0] == "gunicorn" {
            "--chdir"
        } else {
            "--app-dir"
        };
        argv.insert(1, flag.into());
        argv.insert(2, dir.clone());
    }
    argv
}

fn exec_form(argv: &[String]) -> String {
    let words: Vec<String> = argv.iter().map(|word| json_string(word)).collect();
    format!("[{}]", words.join(", "))
}

/// A JSON string, as the exec form is read: a newline (from `--cmd`) escaped, not ending
/// the instruction.
fn json_string(word: &str) -> String {
    let mut out = String::from("\"");
    for c in word.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn dockerfile(facts: &Facts) -> String {
    let python = &facts.python;
    let mut text = format!(
        "# syntax=docker/dockerfile:1\n\
         # Written by `wharf init`: {manager}, Python {python}.\n\
         FROM python:{python}-slim AS build\n\
         ENV PIP_DISABLE_PIP_VERSION_CHECK=1\n\
         WORKDIR /app\n\
         RUN python -m venv /venv\n",
        manager = facts.manager.name()
    );
    // Dependencies before the code, so that code changes reuse this layer.
    text.push_str(&install_dependencies(&facts.manager, python));
    if !facts.extra_packages.is_empty() {
        text.push_str(&format!(
            "RUN {PIP_CACHE} /venv/bin/pip install {}\n",
            facts.extra_packages.join(" ")
        ));
    }
    text.push_str("COPY . .\n");
    text.push_str(install_project(&facts.manager));
    text.push_str("RUN /venv/bin/python -m compileall -q /app\n\n");

    text.push_str(&format!(
        "FROM python:{python}-slim\n\
         ENV PYTHONUNBUFFERED=1 \\\n    \
         PYTHONDONTWRITEBYTECODE=1 \\\n    \
         PATH=/venv/bin:$PATH\n\
         RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app\n\
         WORKDIR /app\n\
         COPY --from=build /venv /venv\n\
         COPY --from=build /app /app\n\
         USER 10001\n"
    ));
    if facts.app.is_web() {
        let port = facts.port;
        text.push_str(&format!(
            "ENV PORT={port}\n\
             EXPOSE {port}\n\
             HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \\\n    \
             CMD [\"python\", \"-c\", \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\"]\n"
        ));
    }
    text.push_str(&format!("CMD {}\n", exec_form(&start_command(facts))));
    text
}
