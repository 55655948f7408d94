//! What detection found in a project, each fact with the reason it was chosen, for the
//! summary `wharf init` prints and for rendering.

/// How the project declares its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// `requirements.txt` and the files it includes (`-r`, `-c`), relative to the project;
    /// empty when the project declares no dependencies.
    Requirements {
        files: Vec<String>,
    },
    Uv,
    /// Poetry; `package` is false with `package-mode = false`.
    Poetry {
        package: bool,
    },
    Pipenv,
    /// PDM; `package` is true for a distribution (`[build-system]`, or `distribution = true`).
    Pdm {
        package: bool,
    },
    /// A `pyproject.toml` or `setup.py` installed with `pip install .`; `listed` when
    /// `[project].dependencies` names the dependencies (they can be installed first).
    Setuptools {
        listed: bool,
    },
}

impl Manager {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Requirements { .. } => "pip",
            Self::Uv => "uv",
            Self::Poetry { .. } => "Poetry",
            Self::Pipenv => "Pipenv",
            Self::Pdm { .. } => "PDM",
            Self::Setuptools { .. } => "pip install .",
        }
    }
}

/// What the image runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum App {
    /// A WSGI callable served by gunicorn (`module:app`, `module:create_app()`).
    Wsgi { target: String },
    /// An ASGI app served by uvicorn (`module:app`).
    Asgi { target: String },
    /// A command: a Procfile `web:` line, a console script or a script.
    Command { argv: Vec<String>, web: bool },
}

/// Services the app needs beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Postgres,
    Redis,
}

/// A Celery app: `celery -A module worker`, and `beat` when a schedule is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Celery {
    pub module: String,
    pub beat: bool,
}

/// Everything `wharf init` decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub manager: Manager,
    /// `3.12`.
    pub python: String,
    pub app: App,
    /// The folder the app's modules are imported from, relative to the project (`src`).
    pub app_dir: Option<String>,
    pub port: u16,
    pub celery: Option<Celery>,
    pub services: Vec<Service>,
    /// Packages the image adds because the start command needs them (gunicorn, uvicorn).
    pub extra_packages: Vec<&'static str>,
    /// One line per decision: what was found where.
    pub reasons: Vec<String>,
}

impl App {
    pub fn is_web(&self) -> bool {
        match self {
            Self::Wsgi { .. } | Self::Asgi { .. } => true,
            Self::Command { web, .. } => *web,
        }
    }
}
