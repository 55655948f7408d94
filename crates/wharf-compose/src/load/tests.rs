//! The whole load on small projects written to a temp dir.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{load, ComposeError, LoadOptions};

/// Writes `files` (path, text) under a temp dir and loads from it with `env`.
fn project_with(
    files: &[(&str, &str)],
    env: &[(&str, &str)],
    adjust: impl FnOnce(&mut LoadOptions),
) -> (tempfile::TempDir, Result<crate::Loaded, ComposeError>) {
    let dir = tempfile::Builder::new().prefix("demo").tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut options = LoadOptions::new(dir.path().to_path_buf(), env);
    options.project_name = Some("demo".into());
    adjust(&mut options);
    let loaded = load(&options);
    (dir, loaded)
}

fn error_text(error: &ComposeError) -> String {
    match error.hint() {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

#[test]
fn extends_from_another_file_resolves_paths_against_that_file() {
    let (dir, loaded) = project_with(
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    extends:\n      file: lib/base.yaml\n      service: base\n    command: serve\n",
            ),
            (
                "lib/base.yaml",
                "services:\n  base:\n    image: python\n    volumes: ['./code:/code']\n    environment: {A: '1'}\n",
            ),
        ],
        &[],
        |_| {},
    );
    let project = loaded.unwrap().project;
    let web = &project.services["web"];
    assert_eq!(web.image, "python");
    assert_eq!(web.command.as_deref(), Some(&["serve".to_owned()][..]));
    let code = Path::new(&web.volumes[0].source);
    assert_eq!(code, dir.path().join("lib/code"));
    assert_eq!(web.environment["A"].as_deref(), Some("1"));
    assert!(web.extends.is_none());
}

#[test]
fn extends_loops_are_named() {
    let (_dir, loaded) = project_with(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n",
        )],
        &[],
        |_| {},
    );
    assert_eq!(
        loaded.unwrap_err().to_string(),
        "compose.yaml:4: services.a.extends: circular reference with extends: a -> b -> a"
    );
}

#[test]
fn include_loads_a_project_with_its_own_dotenv() {
    let (dir, loaded) = project_with(
        &[
            (
                "compose.yaml",
                "include: [db/compose.yaml]\nservices:\n  app:\n    image: app\n",
            ),
            (
                "db/compose.yaml",
                "services:\n  db:\n    image: postgres:${PG}\n    volumes: ['./init:/init']\n",
            ),
            ("db/.env", "PG=15\n"),
        ],
        &[],
        |_| {},
    );
    let project = loaded.unwrap().project;
    assert_eq!(project.services["db"].image, "postgres:15");
    assert_eq!(
        Path::new(&project.services["db"].volumes[0].source),
        dir.path().join("db/init")
    );
}

#[test]
fn errors_name_file_line_key_and_hint() {
    let (_dir, loaded) = project_with(
        &[(
            "compose.yaml",
            "services:\n  web:\n    image: nginx\n\n    port:\n      - 80\n",
        )],
        &[],
        |_| {},
    );
    assert_eq!(
        error_text(&loaded.unwrap_err()),
        "compose.yaml:5: services.web: unknown key 'port'\nhint: did you mean 'ports'?"
    );
}

#[test]
fn shell_wins_over_dotenv_and_dotenv_fills_the_rest() {
    let (_dir, loaded) = project_with(
        &[
            (
                "compose.yaml",
                "services:\n  web:\n    image: 'app:${TAG}'\n    environment: ['MODE=${MODE}']\n",
            ),
            (".env", "TAG=from-dotenv\nMODE=dotenv\n"),
        ],
        &[("TAG", "from-shell")],
        |_| {},
    );
    let web = &loaded.unwrap().project.services["web"];
    assert_eq!(web.image, "app:from-shell");
    assert_eq!(web.environment["MODE"].as_deref(), Some("dotenv"));
}

#[test]
fn profiles_and_named_services() {
    let files = [(
        "compose.yaml",
        "services:\n  app:\n    image: app\n  debug:\n    image: dbg\n    profiles: [debug]\n",
    )];
    let (_dir, loaded) = project_with(&files, &[], |_| {});
    let project = loaded.unwrap().project;
    assert!(project.services.contains_key("app"));
    assert!(project.disabled_services.contains_key("debug"));

    let (_dir, loaded) = project_with(&files, &[("COMPOSE_PROFILES", "debug")], |_| {});
    assert!(loaded.unwrap().project.services.contains_key("debug"));

    let (_dir, loaded) = project_with(&files, &[], |options| {
        options.services = vec!["debug".into()]
    });
    let project = loaded.unwrap().project;
    assert_eq!(project.services.keys().collect::<Vec<_>>(), ["debug"]);
}

#[test]
fn project_name_precedence() {
    let files = [(
        "compose.yaml",
        "name: From-File\nservices:\n  web:\n    image: x\n",
    )];
    let (_dir, loaded) = project_with(&files, &[], |options| options.project_name = None);
    assert_eq!(loaded.unwrap().project.name, "from-file");
    let (_dir, loaded) = project_with(&files, &[("COMPOSE_PROJECT_NAME", "env_name")], |options| {
        options.project_name = None
    });
    assert_eq!(loaded.unwrap().project.name, "env_name");
    let (_dir, loaded) = project_with(&files, &[], |options| {
        options.project_name = Some("Bad Name".into())
    });
    assert!(loaded
        .unwrap_err()
        .to_string()
        .starts_with("invalid project name \"Bad Name\""));
}

#[test]
fn version_is_a_warning() {
    let (_dir, loaded) = project_with(
        &[(
            "compose.yaml",
            "version: '3.8'\nservices:\n  web:\n    image: x\n",
        )],
        &[],
        |_| {},
    );
    let warnings = loaded.unwrap().warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("the attribute `version` is obsolete")),
        "{warnings:?}"
    );
}

#[test]
fn discovery_finds_the_file_and_its_override_upward() {
    let (dir, _) = project_with(&[], &[], |_| {});
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: base\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.override.yaml"),
        "services:\n  web:\n    image: override\n",
    )
    .unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let mut options = LoadOptions::new(nested, BTreeMap::new());
    options.project_name = Some("demo".into());
    let project = load(&options).unwrap().project;
    assert_eq!(project.services["web"].image, "override");
    assert_eq!(project.compose_files.len(), 2);
}

#[test]
fn dependency_cycles_name_the_cycle() {
    let (_dir, loaded) = project_with(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n",
        )],
        &[],
        |_| {},
    );
    assert_eq!(
        loaded.unwrap_err().to_string(),
        "dependency cycle detected: a -> b -> a"
    );
}
