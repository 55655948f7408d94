//! The `.dockerignore`: what never belongs in the build context (VCS data, virtual
//! environments, caches, local settings and secrets such as `.env`).

pub fn dockerignore() -> String {
    [
        "# Written by `wharf init`.",
        ".git",
        ".gitignore",
        ".env",
        ".env.*",
        ".venv",
        "venv",
        "env",
        "__pycache__",
        "*.py[cod]",
        "*.egg-info",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".coverage",
        "htmlcov",
        "build",
        "dist",
        "node_modules",
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "",
    ]
    .join("\n")
}
