//! `wharf init` as a user runs it: what it prints and writes, that it never overwrites
//! without `--force`, that `wharf lint` finds nothing to warn about in what it wrote, and
//! that pip/Flask, Pipenv/Flask, uv/FastAPI, Poetry/Django, PDM/Flask, setuptools/Flask and
//! plain-script projects it set up build with wharf (dependencies from PyPI), run as its non-root user and
//! answer on the port it chose; and the compose.yaml it writes for a Flask app using redis,
//! for a Django app using postgres (its password from the generated .env), and for a Flask
//! app with a Celery worker and beat comes up (`--wait` on the healthchecks) with the app
//! reaching its services by the URLs it was given.

mod common;

use std::path::Path;

use common::pypi::{build, builder, page, serve};
use common::Wharf;

fn flask_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "flask==3.0.3\n").unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get(\"/\")\ndef index():\n    return \"Hello from wharf init!\"\n",
    )
    .unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Writes `project`'s lock file `name` as the tool writes it: `tool` (a pinned package) runs
/// `command` on the project's pyproject.toml in a build (PyPI through the host's CAs), and
/// the file is copied out of the image.
fn lock(wharf: &Wharf, project: &Path, tool: &str, command: &str, name: &str) {
    let locker = tempfile::tempdir().unwrap();
    std::fs::copy(
        project.join("pyproject.toml"),
        locker.path().join("pyproject.toml"),
    )
    .unwrap();
    let dockerfile = format!("FROM python:3.11-slim\nRUN pip install {tool}\nWORKDIR /p\nCOPY pyproject.toml .\nRUN {command}\n");
    std::fs::write(locker.path().join("Dockerfile"), dockerfile).unwrap();
    let image = format!("locker-{}", name.replace('.', "-"));
    build(wharf, locker.path(), &image);
    let id = wharf.ok(&["create", &image]).trim().to_owned();
    wharf.ok(&["cp", &format!("{id}:/p/{name}"), text(&project.join(name))]);
    wharf.ok(&["rm", &id]);
}

#[test]
fn init_writes_its_files_once_and_they_lint_clean() {
    let wharf = Wharf::new();
    let project = flask_project();
    let dir = text(project.path());

    let output = wharf.run(&["init", "--dry-run", dir]);
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.starts_with("# --- Dockerfile ---\n# syntax=docker/dockerfile:1\n"),
        "{printed}"
    );
    assert!(printed.contains("# --- compose.yaml ---\n"), "{printed}");
    let summary = String::from_utf8(output.stderr).unwrap();
    assert!(
        summary.contains("  start: `app = Flask(...)` in app.py\n"),
        "{summary}"
    );
    assert!(
        summary.contains("  command: gunicorn --bind 0.0.0.0:8000 app:app\n"),
        "{summary}"
    );
    assert!(
        !project.path().join("Dockerfile").exists(),
        "--dry-run writes nothing"
    );

    wharf.ok(&["init", dir]);
    for name in ["Dockerfile", ".dockerignore", "compose.yaml"] {
        assert!(project.path().join(name).exists(), "{name} missing");
    }
    // Nothing of warning level in what it wrote.
    wharf.ok(&["lint", "--failure-threshold", "warning", dir]);

    std::fs::write(project.path().join("Dockerfile"), "FROM mine\n").unwrap();
    let stderr = wharf.fails(&["init", dir]);
    assert!(stderr.contains("Dockerfile already exists"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(project.path().join("Dockerfile")).unwrap(),
        "FROM mine\n"
    );
    wharf.ok(&["init", "--force", "--port", "5000", dir]);
    let dockerfile = std::fs::read_to_string(project.path().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("EXPOSE 5000\n"), "{dockerfile}");

    let empty = tempfile::tempdir().unwrap();
    let stderr = wharf.fails(&["init", text(empty.path())]);
    assert!(stderr.contains("no Python project found"), "{stderr}");
}

#[test]
fn an_initialized_flask_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = flask_project();
    builder.ok(&["init", text(project.path())]);
    build(&builder, project.path(), "init-flask");
    let user = builder.ok(&["run", "--rm", "--network", "none", "init-flask", "id", "-u"]);
    assert_eq!(user, "10001\n");
    assert_eq!(
        serve(&builder, "init-flask", 8000),
        "Hello from wharf init!"
    );
}

#[test]
fn an_initialized_pipenv_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = flask_project();
    std::fs::remove_file(project.path().join("requirements.txt")).unwrap();
    std::fs::write(
        project.path().join("Pipfile"),
        "[packages]\nflask = \"==3.0.3\"\n\n[requires]\npython_version = \"3.11\"\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("Pipfile.lock"),
        r#"{"_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {"python_version": "3.11"}, "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}]}, "default": {"flask": {"version": "==3.0.3"}}, "develop": {}}"#,
    )
    .unwrap();
    let summary = String::from_utf8(builder.run(&["init", text(project.path())]).stderr).unwrap();
    assert!(
        summary.contains("dependencies: Pipenv (found Pipfile.lock)"),
        "{summary}"
    );
    build(&builder, project.path(), "init-pipenv");
    assert_eq!(
        serve(&builder, "init-pipenv", 8000),
        "Hello from wharf init!"
    );
}

#[test]
fn an_initialized_uv_fastapi_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    let pyproject = "[project]\nname = \"hello\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"fastapi==0.115.6\", \"uvicorn==0.32.1\"]\n";
    std::fs::write(project.path().join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(
        project.path().join("main.py"),
        "from fastapi import FastAPI\nfrom fastapi.responses import PlainTextResponse\n\napp = FastAPI()\n\n\n@app.get(\"/\", response_class=PlainTextResponse)\ndef index():\n    return \"Hello from wharf init!\"\n",
    )
    .unwrap();
    lock(&builder, project.path(), "uv==0.5.11", "uv lock", "uv.lock");

    // --python: the tests have the 3.11 image (requires-python alone would pick the newest).
    let summary = String::from_utf8(
        builder
            .run(&["init", "--python", "3.11", text(project.path())])
            .stderr,
    )
    .unwrap();
    assert!(
        summary.contains("dependencies: uv (found uv.lock)"),
        "{summary}"
    );
    assert!(
        summary.contains("command: uvicorn main:app --host 0.0.0.0 --port 8000"),
        "{summary}"
    );
    build(&builder, project.path(), "init-uv");
    assert_eq!(serve(&builder, "init-uv", 8000), "Hello from wharf init!");
}

#[test]
fn an_initialized_poetry_django_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    let pyproject = "[tool.poetry]\nname = \"mysite\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\ndjango = \"5.1.4\"\n";
    let files = [
        ("pyproject.toml", pyproject),
        ("manage.py", "import os\nimport sys\n\nif __name__ == \"__main__\":\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n"),
        ("mysite/__init__.py", ""),
        ("mysite/settings.py", "SECRET_KEY = \"test\"\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\nROOT_URLCONF = \"mysite.urls\"\nWSGI_APPLICATION = \"mysite.wsgi.application\"\nINSTALLED_APPS = []\nDATABASES = {}\n"),
        ("mysite/urls.py", "from django.http import HttpResponse\nfrom django.urls import path\n\nurlpatterns = [path(\"\", lambda request: HttpResponse(\"Hello from wharf init!\"))]\n"),
        ("mysite/wsgi.py", "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\napplication = get_wsgi_application()\n"),
    ];
    for (name, content) in files {
        let path = project.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    lock(
        &builder,
        project.path(),
        "poetry==1.8.5",
        "poetry lock",
        "poetry.lock",
    );

    let summary = String::from_utf8(
        builder
            .run(&["init", "--python", "3.11", text(project.path())])
            .stderr,
    )
    .unwrap();
    assert!(
        summary.contains("dependencies: Poetry (found poetry.lock)"),
        "{summary}"
    );
    assert!(
        summary.contains("command: gunicorn --bind 0.0.0.0:8000 mysite.wsgi:application"),
        "{summary}"
    );
    build(&builder, project.path(), "init-django");
    assert_eq!(
        serve(&builder, "init-django", 8000),
        "Hello from wharf init!"
    );
}

fn write_files(project: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = project.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

const FLASK_APP: &str = "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get(\"/\")\ndef index():\n    return \"Hello from wharf init!\"\n";

/// The project's own package is installed in `image`'s venv, not only importable from the
/// copied sources.
fn assert_installed(builder: &Wharf, image: &str, package: &str) {
    let shown = builder.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        image,
        "pip",
        "show",
        package,
    ]);
    assert!(shown.contains(&format!("Name: {package}\n")), "{shown}");
}

#[test]
fn an_initialized_pdm_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    // A distribution (a build backend): the package itself is installed too.
    let pyproject = "[build-system]\nrequires = [\"pdm-backend==2.4.9\"]\nbuild-backend = \"pdm.backend\"\n\n[project]\nname = \"hello\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"flask==3.0.3\"]\n";
    write_files(
        project.path(),
        &[
            ("pyproject.toml", pyproject),
            ("src/hello/__init__.py", ""),
            ("src/hello/app.py", FLASK_APP),
        ],
    );
    lock(
        &builder,
        project.path(),
        "pdm==2.29.4 hishel==1.4.0 httpx2==2.14.0",
        "pdm lock",
        "pdm.lock",
    );

    let summary = String::from_utf8(
        builder
            .run(&["init", "--python", "3.11", text(project.path())])
            .stderr,
    )
    .unwrap();
    assert!(
        summary.contains("dependencies: PDM (found pdm.lock)"),
        "{summary}"
    );
    build(&builder, project.path(), "init-pdm");
    assert_installed(&builder, "init-pdm", "hello");
    assert_eq!(serve(&builder, "init-pdm", 8000), "Hello from wharf init!");
}

/// A setuptools package in a src layout, no lock: `pip install .` puts it and its
/// dependencies in the image.
#[test]
fn an_initialized_setuptools_project_builds_runs_and_answers() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    let pyproject = "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"hello\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"flask==3.0.3\"]\n";
    write_files(
        project.path(),
        &[
            ("pyproject.toml", pyproject),
            ("src/hello/__init__.py", ""),
            ("src/hello/app.py", FLASK_APP),
        ],
    );
    let summary = String::from_utf8(
        builder
            .run(&["init", "--python", "3.11", text(project.path())])
            .stderr,
    )
    .unwrap();
    assert!(
        summary.contains("dependencies: pip install . (found pyproject.toml)"),
        "{summary}"
    );
    assert!(
        summary.contains("command: gunicorn --chdir src --bind 0.0.0.0:8000 hello.app:app"),
        "{summary}"
    );
    build(&builder, project.path(), "init-setuptools");
    assert_installed(&builder, "init-setuptools", "hello");
    assert_eq!(
        serve(&builder, "init-setuptools", 8000),
        "Hello from wharf init!"
    );
}

/// A plain script with a dependency and no web framework: its command runs it, as the
/// non-root user, with the dependency installed.
#[test]
fn an_initialized_script_project_builds_runs_and_prints() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    write_files(
        project.path(),
        &[
            ("requirements.txt", "six==1.16.0\n"),
            (
                "main.py",
                "import os\nimport six\n\nif __name__ == \"__main__\":\n    print(\"script ran with six\", six.__version__, \"as\", os.getuid())\n",
            ),
        ],
    );
    let summary = String::from_utf8(
        builder
            .run(&["init", "--python", "3.11", text(project.path())])
            .stderr,
    )
    .unwrap();
    assert!(summary.contains("command: python main.py"), "{summary}");
    build(&builder, project.path(), "init-script");
    let output = builder.ok(&["run", "--rm", "--network", "none", "init-script"]);
    assert_eq!(output, "script ran with six 1.16.0 as 10001\n");
}

/// Builds the image compose would build for the web service of project `name` where RUN
/// steps reach PyPI (and tags it for the `built` services sharing its Dockerfile), then
/// brings the stack up (`--wait`) in a store of its own network namespace with the
/// fixtures, asks the app for its page twice, runs `check` on the store, and takes it all
/// down.
fn stack_pages(
    builder: &Wharf,
    project: &Path,
    name: &str,
    built: &[&str],
    fixtures: &[(&str, &str)],
    check: impl FnOnce(&Wharf),
) -> Option<[String; 2]> {
    let image = format!("{name}-web");
    build(builder, project, &image);
    let mut images = vec![image.clone()];
    for service in built {
        let tag = format!("{name}-{service}");
        builder.ok(&["tag", &image, &tag]);
        images.push(tag);
    }
    let archive = builder.path().join("web.tar");
    let mut save = vec!["save", "-o", text(&archive)];
    save.extend(images.iter().map(String::as_str));
    builder.ok(&save);
    let host = Wharf::isolated();
    if host.netns.is_none() {
        common::skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    host.ok(&["load", "-i", text(&archive)]);
    for (fixture, tag) in fixtures {
        host.import_fixture(fixture, tag);
    }
    let file = project.join("compose.yaml");
    host.ok(&[
        "compose",
        "-p",
        name,
        "-f",
        text(&file),
        "up",
        "-d",
        "--wait",
        "--no-build",
    ]);
    let pages = [page(&host, 8000), page(&host, 8000)];
    check(&host);
    let ids = host.container_ids();
    host.ok(&["compose", "-p", name, "-f", text(&file), "down", "-v"]);
    host.assert_nothing_leaked(&ids);
    Some(pages)
}

#[test]
fn an_initialized_stack_comes_up_and_the_app_reaches_redis() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("requirements.txt"),
        "flask==3.0.3\nredis==5.2.1\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("app.py"),
        "import os\n\nimport redis\nfrom flask import Flask\n\napp = Flask(__name__)\nstore = redis.Redis.from_url(os.environ[\"REDIS_URL\"])\n\n\n@app.get(\"/\")\ndef index():\n    return f\"hits: {store.incr('hits')}\"\n",
    )
    .unwrap();
    builder.ok(&["init", text(project.path())]);
    let compose = std::fs::read_to_string(project.path().join("compose.yaml")).unwrap();
    assert!(
        compose.contains("  redis:\n    image: redis:7\n"),
        "{compose}"
    );
    let Some(pages) = stack_pages(
        &builder,
        project.path(),
        "initstack",
        &[],
        &[("redis-7", "redis:7")],
        |_| {},
    ) else {
        return;
    };
    assert_eq!(pages, ["hits: 1", "hits: 2"]);
}

#[test]
fn an_initialized_django_stack_reaches_postgres() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    let files = [
        ("requirements.txt", "django==5.1.4\npsycopg[binary]==3.2.3\n"),
        ("manage.py", "import os\nimport sys\n\nif __name__ == \"__main__\":\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n"),
        ("mysite/__init__.py", ""),
        ("mysite/settings.py", "import os\nfrom urllib.parse import urlparse\n\nSECRET_KEY = \"test\"\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\nROOT_URLCONF = \"mysite.urls\"\nWSGI_APPLICATION = \"mysite.wsgi.application\"\nINSTALLED_APPS = []\n_url = urlparse(os.environ[\"DATABASE_URL\"])\nDATABASES = {\"default\": {\"ENGINE\": \"django.db.backends.postgresql\", \"NAME\": _url.path[1:], \"USER\": _url.username, \"PASSWORD\": _url.password, \"HOST\": _url.hostname, \"PORT\": _url.port}}\n"),
        ("mysite/urls.py", "from django.db import connection\nfrom django.http import HttpResponse\nfrom django.urls import path\n\n\ndef index(request):\n    with connection.cursor() as cursor:\n        cursor.execute(\"select current_user\")\n        return HttpResponse(f\"db user: {cursor.fetchone()[0]}\")\n\n\nurlpatterns = [path(\"\", index)]\n"),
        ("mysite/wsgi.py", "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\napplication = get_wsgi_application()\n"),
    ];
    for (name, content) in files {
        let path = project.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    builder.ok(&["init", text(project.path())]);
    let env = std::fs::read_to_string(project.path().join(".env")).unwrap();
    assert!(env.contains("POSTGRES_PASSWORD="), "{env}");
    let Some(pages) = stack_pages(
        &builder,
        project.path(),
        "initdjango",
        &[],
        &[("postgres-15", "postgres:15")],
        |_| {},
    ) else {
        return;
    };
    assert_eq!(pages, ["db user: app", "db user: app"]);
}

/// Polls redis in the stack until key `ticks` counts at least one, for at most 60 s.
fn await_tick(host: &Wharf, file: &Path, project: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let get = [
        "compose",
        "-p",
        project,
        "-f",
        text(file),
        "exec",
        "-T",
        "redis",
        "redis-cli",
        "get",
        "ticks",
    ];
    loop {
        let ticks = host.ok(&get);
        if ticks.trim().parse::<u64>().is_ok_and(|ticks| ticks > 0) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled task never ran (ticks: `{}`)",
            ticks.trim()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// A Flask app whose page submits a task to the Celery app in tasks.py and reads its
/// result back through redis; the app configures a beat schedule, so init adds a beat
/// service, whose scheduled task the worker runs (it counts its runs in redis).
#[test]
fn an_initialized_celery_stack_runs_tasks_and_its_schedule() {
    let Some(builder) = builder() else { return };
    let project = tempfile::tempdir().unwrap();
    let tasks = "import os\n\nimport redis\nfrom celery import Celery\n\ncelery = Celery(\"tasks\", broker=os.environ[\"CELERY_BROKER_URL\"], backend=os.environ[\"REDIS_URL\"])\ncelery.conf.beat_schedule = {\"tick\": {\"task\": \"tasks.tick\", \"schedule\": 1.0}}\n\n\n@celery.task\ndef add(x, y):\n    return x + y\n\n\n@celery.task\ndef tick():\n    redis.Redis.from_url(os.environ[\"REDIS_URL\"]).incr(\"ticks\")\n";
    let app = "from flask import Flask\n\nfrom tasks import add\n\napp = Flask(__name__)\n\n\n@app.get(\"/\")\ndef index():\n    return f\"2 + 3 = {add.delay(2, 3).get(timeout=30)}\"\n";
    write_files(
        project.path(),
        &[
            // kombu and redis pinned too: the newest kombu wants a newer redis than celery 5.4 pulls.
            (
                "requirements.txt",
                "flask==3.0.3\ncelery[redis]==5.4.0\nkombu==5.4.2\nredis==5.2.1\n",
            ),
            ("tasks.py", tasks),
            ("app.py", app),
        ],
    );
    let summary = String::from_utf8(builder.run(&["init", text(project.path())]).stderr).unwrap();
    assert!(
        summary.contains("worker: the Celery app in tasks.py, and beat for its schedule"),
        "{summary}"
    );
    let file = project.path().join("compose.yaml");
    let compose = std::fs::read_to_string(&file).unwrap();
    for service in ["  web:\n", "  worker:\n", "  beat:\n", "  redis:\n"] {
        assert!(compose.contains(service), "{service} missing:\n{compose}");
    }
    let Some(pages) = stack_pages(
        &builder,
        project.path(),
        "initcelery",
        &["worker", "beat"],
        &[("redis-7", "redis:7")],
        // beat sends `tick` every second; the worker runs it.
        |host| await_tick(host, &file, "initcelery"),
    ) else {
        return;
    };
    assert_eq!(pages, ["2 + 3 = 5", "2 + 3 = 5"]);
}
