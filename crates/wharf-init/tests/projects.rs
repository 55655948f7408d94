//! Detection and rendering on small project folders of each kind: what is detected (with
//! its reasons), the Dockerfile rendered for a pip/Flask project in full, and every
//! rendered Dockerfile and compose file linted by wharf-lint without a warning.

use std::path::Path;

use wharf_init::{detect, render, App, Celery, Facts, Manager, Overrides, Service};
use wharf_lint::{Config, Severity};

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn facts(dir: &Path) -> Facts {
    detect(dir, &Overrides::default()).unwrap()
}

/// Writes the rendered files into the project and lints them: no finding of warning level.
fn assert_lints_clean(dir: &Path, facts: &Facts) {
    for file in render(facts, "s3cret-dev") {
        std::fs::write(dir.join(file.name), &file.text).unwrap();
    }
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let serious: Vec<String> = wharf_lint::lint_dockerfile(&dockerfile, &Config::default())
        .findings
        .into_iter()
        .filter(|finding| finding.severity <= Severity::Warning)
        .map(|finding| {
            format!(
                "Dockerfile:{} {} {}",
                finding.line, finding.rule, finding.message
            )
        })
        .collect();
    assert!(serious.is_empty(), "{}\n{dockerfile}", serious.join("\n"));
    let options = wharf_compose::LoadOptions::new(dir.to_owned(), Default::default());
    let project = wharf_compose::load(&options).unwrap().project;
    let compose = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    let serious: Vec<String> = wharf_lint::lint_compose(&project, &compose, true)
        .into_iter()
        .filter(|finding| finding.severity <= Severity::Warning)
        .map(|finding| {
            format!(
                "compose.yaml:{} {} {}",
                finding.line, finding.rule, finding.message
            )
        })
        .collect();
    assert!(serious.is_empty(), "{}\n{compose}", serious.join("\n"));
}

#[test]
fn pip_flask() {
    let dir = project(&[
        ("requirements.txt", "flask==3.0.3\n"),
        ("app.py", "from flask import Flask\n\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hi'\n"),
        ("tests/test_app.py", "from app import app\nother = Flask(__name__)\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(
        facts.manager,
        Manager::Requirements {
            files: vec!["requirements.txt".into()]
        }
    );
    assert_eq!(facts.python, "3.11");
    assert_eq!(
        facts.app,
        App::Wsgi {
            target: "app:app".into()
        }
    );
    assert!(facts.services.is_empty() && facts.celery.is_none());
    assert_eq!(facts.extra_packages, ["gunicorn==23.0.0"]);
    assert_eq!(
        facts.reasons,
        [
            "dependencies: pip (found requirements.txt)",
            "Python: 3.11 (the project names no version)",
            "start: `app = Flask(...)` in app.py",
        ]
    );
    let files = render(&facts, "unused");
    assert_eq!(
        files.iter().map(|file| file.name).collect::<Vec<_>>(),
        ["Dockerfile", ".dockerignore", "compose.yaml"]
    );
    assert_eq!(
        files[0].text,
        r#"# syntax=docker/dockerfile:1
# Written by `wharf init`: pip, Python 3.11.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /venv
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    /venv/bin/pip install -r requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install gunicorn==23.0.0
COPY . .
RUN /venv/bin/python -m compileall -q /app

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app /app
USER 10001
ENV PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 8000), 2)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"#
    );
    assert_lints_clean(dir.path(), &facts);
}

#[test]
fn uv_fastapi_in_a_src_layout() {
    let dir = project(&[
        ("pyproject.toml", "[project]\nname = \"shop\"\nrequires-python = \">=3.10,<3.12\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn[standard]>=0.30\",\n  \"asyncpg\",\n]\n"),
        ("uv.lock", "version = 1\n[[package]]\nname = \"fastapi\"\n[[package]]\nname = \"uvicorn\"\n"),
        ("src/shop/__init__.py", ""),
        ("src/shop/main.py", "from fastapi import FastAPI\n\napi: FastAPI = FastAPI(title='shop')\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(facts.manager, Manager::Uv);
    assert_eq!(facts.python, "3.11");
    assert_eq!(
        facts.app,
        App::Asgi {
            target: "shop.main:api".into()
        }
    );
    assert_eq!(facts.app_dir.as_deref(), Some("src"));
    assert_eq!(facts.services, [Service::Postgres]);
    assert!(facts.extra_packages.is_empty());
    let dockerfile = &render(&facts, "pw")[0].text;
    assert!(
        dockerfile.contains("uv sync --locked --no-install-project --no-dev\n"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("CMD [\"uvicorn\", \"--app-dir\", \"src\", \"shop.main:api\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]"), "{dockerfile}");
    assert_lints_clean(dir.path(), &facts);
}

#[test]
fn poetry_django_with_postgres() {
    let dir = project(&[
        ("pyproject.toml", "[tool.poetry]\nname = \"mysite\"\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\ndjango = \"^5.0\"\npsycopg = \"^3.1\"\n"),
        ("poetry.lock", "[[package]]\nname = \"django\"\n[[package]]\nname = \"psycopg\"\n"),
        ("manage.py", "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n"),
        ("mysite/settings.py", "WSGI_APPLICATION = 'mysite.wsgi.application'\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"),
        ("mysite/wsgi.py", "application = None\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(facts.manager, Manager::Poetry { package: false });
    assert_eq!(facts.python, "3.13");
    assert_eq!(
        facts.app,
        App::Wsgi {
            target: "mysite.wsgi:application".into()
        }
    );
    assert_eq!(facts.services, [Service::Postgres]);
    let files = render(&facts, "dev-pw");
    let env = files.iter().find(|file| file.name == ".env").unwrap();
    assert!(env.text.contains("POSTGRES_PASSWORD=dev-pw\n"));
    let compose = &files
        .iter()
        .find(|file| file.name == "compose.yaml")
        .unwrap()
        .text;
    assert!(
        compose.contains("      db:\n        condition: service_healthy\n"),
        "{compose}"
    );
    assert!(compose.contains("pg_isready -U app -d app"), "{compose}");
    assert!(!compose.contains("dev-pw"), "passwords stay in .env");
    assert_lints_clean(dir.path(), &facts);
}

#[test]
fn pipenv_celery_with_beat_and_redis() {
    let dir = project(&[
        (
            "Pipfile",
            "[packages]\ncelery = \"*\"\nredis = \"*\"\n\n[requires]\npython_version = \"3.12\"\n",
        ),
        ("Pipfile.lock", "{}\n"),
        (
            "tasks.py",
            "from celery import Celery\n\napp = Celery('tasks')\napp.conf.beat_schedule = {}\n",
        ),
        ("main.py", "if __name__ == '__main__':\n    print('hi')\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(facts.manager, Manager::Pipenv);
    assert_eq!(facts.python, "3.12");
    assert_eq!(
        facts.app,
        App::Command {
            argv: vec!["python".into(), "main.py".into()],
            web: false
        }
    );
    assert_eq!(
        facts.celery,
        Some(Celery {
            module: "tasks".into(),
            beat: true
        })
    );
    assert_eq!(facts.services, [Service::Redis]);
    let compose = &render(&facts, "pw")[2].text;
    assert!(compose.contains("  worker:\n    build: .\n    command: [\"celery\", \"-A\", \"tasks\", \"worker\", \"--loglevel=INFO\"]"), "{compose}");
    assert!(compose.contains("  beat:\n"), "{compose}");
    assert_lints_clean(dir.path(), &facts);
}

#[test]
fn procfile_and_overrides_win() {
    let dir = project(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ("Procfile", "web: gunicorn --bind 0.0.0.0:$PORT app:app\n"),
    ]);
    let found = facts(dir.path());
    assert_eq!(
        found.app,
        App::Command {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "exec gunicorn --bind 0.0.0.0:$PORT app:app".into()
            ],
            web: true
        }
    );
    let overrides = Overrides {
        python: Some("3.12".into()),
        port: Some(5000),
        command: Some("flask run --host 0.0.0.0 --port 5000".into()),
    };
    let facts = detect(dir.path(), &overrides).unwrap();
    assert_eq!(facts.python, "3.12");
    assert_eq!(facts.port, 5000);
    let dockerfile = &render(&facts, "pw")[0].text;
    assert!(dockerfile.contains("EXPOSE 5000\n"), "{dockerfile}");
    assert!(
        dockerfile.contains("CMD [\"sh\", \"-c\", \"exec flask run --host 0.0.0.0 --port 5000\"]"),
        "{dockerfile}"
    );
}

/// A start command with a newline (`--cmd`, or a Procfile's) ended the CMD instruction
/// mid-string: the Dockerfile did not parse. Found by the init fuzz target.
#[test]
fn a_command_with_newlines_and_controls_stays_one_instruction() {
    let dir = project(&[("app.py", "print('hi')\n")]);
    let overrides = Overrides {
        command: Some("gunicorn \\\n  'app:create()'\t\u{1b}".into()),
        ..Overrides::default()
    };
    let facts = detect(dir.path(), &overrides).unwrap();
    let dockerfile = &render(&facts, "pw")[0].text;
    assert!(
        dockerfile.ends_with(
            "CMD [\"sh\", \"-c\", \"exec gunicorn \\\\\\n  'app:create()'\\t\\u001b\"]\n"
        ),
        "{dockerfile}"
    );
    let findings = wharf_lint::lint_dockerfile(dockerfile, &Config::default()).findings;
    assert!(
        findings.iter().all(|f| f.severity > Severity::Error),
        "{findings:?}\n{dockerfile}"
    );
}

/// `--python` went into the FROM lines as given: `3.12\nRUN x` made a broken (or a
/// different) Dockerfile; `--port 0` a compose.yaml compose refuses. Found by the init
/// fuzz target.
#[test]
fn python_and_port_overrides_must_be_usable() {
    let dir = project(&[("app.py", "print('hi')\n")]);
    for bad in [
        "hon\n3.12",
        "3.12 AS x",
        "",
        "3..12",
        "3.12-slim",
        "1.2.3.4",
    ] {
        let overrides = Overrides {
            python: Some(bad.into()),
            ..Overrides::default()
        };
        let error = detect(dir.path(), &overrides).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("--python {bad}: not a Python version")
        );
        assert!(error.hint().is_some());
    }
    // `--port 0` made `ports: ["0:0"]`, which compose refuses.
    let overrides = Overrides {
        port: Some(0),
        ..Overrides::default()
    };
    let error = detect(dir.path(), &overrides).unwrap_err();
    assert!(error.to_string().starts_with("--port 0: "), "{error}");
    for good in ["3", "3.13", "3.12.4"] {
        let overrides = Overrides {
            python: Some(good.into()),
            ..Overrides::default()
        };
        assert_eq!(detect(dir.path(), &overrides).unwrap().python, good);
    }
}

#[test]
fn a_folder_without_python_is_refused() {
    let dir = project(&[("README.md", "hello\n")]);
    let error = detect(dir.path(), &Overrides::default()).unwrap_err();
    assert!(error.to_string().ends_with(": no Python project found (no requirements.txt, pyproject.toml, Pipfile, setup.py or .py file)"));
    assert!(error.hint().is_some());
}

#[test]
fn flask_factory() {
    let dir = project(&[
        ("pyproject.toml", "[project]\nname = \"blog\"\ndependencies = [\"flask\"]\n"),
        ("blog/__init__.py", "from flask import Flask\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(facts.manager, Manager::Setuptools { listed: true });
    assert_eq!(
        facts.app,
        App::Wsgi {
            target: "blog:create_app()".into()
        }
    );
    // The listed dependencies are installed before the code is copied.
    let dockerfile = dockerfile_of(&facts);
    let dependencies = dockerfile
        .find("pip install -r /tmp/requirements.txt")
        .unwrap();
    assert!(
        dependencies < dockerfile.find("COPY . .").unwrap(),
        "{dockerfile}"
    );
    assert_lints_clean(dir.path(), &facts);
    // Before Python 3.11 there is no tomllib to read them with: `pip install .` alone.
    std::fs::write(dir.path().join(".python-version"), "3.10\n").unwrap();
    let older = dockerfile_of(&self::facts(dir.path()));
    assert!(!older.contains("tomllib"), "{older}");
}

#[test]
fn requirement_files_and_their_includes_are_copied() {
    let dir = project(&[
        (
            "requirements.txt",
            "-r requirements/base.txt\n--constraint=constraints.txt\nflask\n",
        ),
        ("requirements/base.txt", "-r ./common.txt\nrequests\n"),
        ("requirements/common.txt", "idna\n"),
        ("requirements/dev.txt", "pytest\n"),
        ("constraints.txt", "flask==3.0.3\n"),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
    ]);
    let facts = facts(dir.path());
    assert_eq!(
        facts.manager,
        Manager::Requirements {
            files: vec![
                "requirements.txt".into(),
                "requirements/base.txt".into(),
                "constraints.txt".into(),
                "requirements/common.txt".into(),
            ]
        }
    );
    let dockerfile = &render(&facts, "pw")[0].text;
    assert!(dockerfile.contains("COPY requirements.txt ./\nCOPY requirements/base.txt requirements/\nCOPY constraints.txt ./\nCOPY requirements/common.txt requirements/\n"), "{dockerfile}");
    assert_lints_clean(dir.path(), &facts);
}

fn dockerfile_of(facts: &Facts) -> String {
    render(facts, "pw")
        .into_iter()
        .find(|file| file.name == "Dockerfile")
        .unwrap()
        .text
}

#[test]
fn pdm_installs_a_distribution_after_its_locked_dependencies() {
    let pyproject = "[build-system]\nrequires = [\"pdm-backend\"]\nbuild-backend = \"pdm.backend\"\n\n[project]\nname = \"hello\"\ndependencies = [\"flask\"]\n";
    let app = "from flask import Flask\napp = Flask(__name__)\n";
    let dir = project(&[
        ("pyproject.toml", pyproject),
        ("pdm.lock", ""),
        ("src/hello/app.py", app),
    ]);
    let facts = facts(dir.path());
    assert_eq!(facts.manager, Manager::Pdm { package: true });
    let dockerfile = dockerfile_of(&facts);
    let export = dockerfile.find("pdm export --prod").unwrap();
    let install = dockerfile.find("pip install --no-deps .").unwrap();
    assert!(
        export < dockerfile.find("COPY . .").unwrap()
            && dockerfile.find("COPY . .").unwrap() < install,
        "{dockerfile}"
    );
    assert_lints_clean(dir.path(), &facts);

    let app_pyproject = format!("{pyproject}\n[tool.pdm]\ndistribution = false\n");
    let app_only = project(&[
        ("pyproject.toml", app_pyproject.as_str()),
        ("pdm.lock", ""),
        ("app.py", app),
    ]);
    let facts = self::facts(app_only.path());
    assert_eq!(facts.manager, Manager::Pdm { package: false });
    assert!(!dockerfile_of(&facts).contains("--no-deps"));
}
