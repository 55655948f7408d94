//! `wharf lint` and the checks of `wharf build`, driven as a user runs them: files in a temp
//! folder, every output format, exit codes by threshold, `.hadolint.yaml`, compose files,
//! `build --check`, and the warnings block after a real build.

mod common;

use std::path::Path;

use common::{is_root, skip, Wharf};
use serde_json::Value;

/// A folder with the given files.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

const FLASK: &str = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nUSER 10001\nCMD flask run\n";

#[test]
fn findings_in_text_json_sarif_and_templates() {
    let wharf = Wharf::new();
    let dir = folder(&[("Dockerfile", FLASK)]);
    let dockerfile = dir.path().join("Dockerfile");
    let output = wharf.run(&["lint", text(&dockerfile)]);
    // Only warnings: below the default threshold (errors).
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let expected_first = format!(
        "{}:4:1 warning DL3042 Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`",
        dockerfile.display()
    );
    assert_eq!(
        stdout.lines().next(),
        Some(expected_first.as_str()),
        "{stdout}"
    );
    assert!(stdout
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("  fix: add --no-cache-dir"));
    for rule in [
        ":7:1 warning DL3025",
        ":7:1 warning WP006",
        ":7:1 warning WP004",
    ] {
        assert!(stdout.contains(rule), "{rule} missing:\n{stdout}");
    }

    let json: Value =
        serde_json::from_str(&wharf.ok(&["lint", "--format", "json", text(&dockerfile)])).unwrap();
    let findings = json.as_array().unwrap();
    let cmd = findings.iter().find(|f| f["rule"] == "DL3025").unwrap();
    assert_eq!(cmd["file"], text(&dockerfile));
    assert_eq!(cmd["line"], 7);
    assert_eq!(cmd["column"], 1);
    assert_eq!(cmd["severity"], "warning");
    assert_eq!(cmd["buildkit"], "JSONArgsRecommended");
    assert!(cmd["fix"].as_str().unwrap().contains("exec form"));
    assert_eq!(
        findings.iter().find(|f| f["rule"] == "DL3042").unwrap()["buildkit"],
        Value::Null
    );

    let sarif: Value =
        serde_json::from_str(&wharf.ok(&["lint", "--format", "sarif", text(&dockerfile)])).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 4);

    let rules = wharf.ok(&["lint", "--format", "{{.line}} {{.rule}}", text(&dockerfile)]);
    assert!(rules.lines().any(|line| line == "7 DL3025"), "{rules}");

    let output = wharf.run_with_stdin(&["lint", "-"], FLASK.as_bytes());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("-:7:1 warning DL3025"), "{stdout}");
}

#[test]
fn thresholds_and_hadolint_config_decide_the_exit_code() {
    let wharf = Wharf::new();
    let dir = folder(&[("Dockerfile", FLASK)]);
    let path = text(dir.path());
    wharf.ok(&["lint", path]);
    let stderr = wharf.fails(&["lint", "--failure-threshold", "warning", path]);
    assert!(stderr.is_empty(), "{stderr}");
    wharf.ok(&["lint", "--failure-threshold", "none", path]);
    wharf.ok(&[
        "lint", "-t", "warning", "--ignore", "DL3042", "--ignore", "DL3025", "--ignore", "WP004",
        "--ignore", "WP006", path,
    ]);
    let output = wharf.run(&["lint", "--failure-threshold", "fatal", path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("error: --failure-threshold fatal: unknown level"));

    // An error-level finding fails by default.
    let errors = folder(&[("Dockerfile", "FROM python:3.12\nWORKDIR app\n")]);
    let output = wharf.run(&["lint", text(errors.path())]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(":2:1 error DL3000 Use absolute WORKDIR")
    );

    // .hadolint.yaml beside the files: ignored rules and a threshold.
    let config =
        "ignored: [DL3042, DL3025]\noverride:\n  error: [WP006]\nfailure-threshold: error\n";
    std::fs::write(dir.path().join(".hadolint.yaml"), config).unwrap();
    let output = wharf.run(&["lint", path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "WP006 is an error now:\n{stdout}"
    );
    assert!(
        !stdout.contains("DL3042") && !stdout.contains("DL3025"),
        "{stdout}"
    );
    assert!(stdout.contains(":7:1 error WP006"), "{stdout}");

    std::fs::write(dir.path().join(".hadolint.yaml"), "ignored: DL3042\n").unwrap();
    let stderr = wharf.fails(&["lint", path]);
    assert!(
        stderr.contains("error: ")
            && stderr.contains(".hadolint.yaml: `ignored`: expected a list of rule ids"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
}

/// hadolint's label schema and its opt-in rules, set in `.hadolint.yaml`.
#[test]
fn label_schema_and_opt_in_rules_come_from_hadolint_config() {
    let wharf = Wharf::new();
    let dockerfile = "FROM python:3.12-slim\n# hadolint ignore=DL3013\nRUN pip install --no-cache-dir flask\nLABEL org.opencontainers.image.source=github.com/acme/app\nUSER 10001\n";
    let dir = folder(&[("Dockerfile", dockerfile)]);
    let path = text(dir.path());
    let quiet = wharf.ok(&["lint", path]);
    assert!(
        !quiet.contains("DL3052") && !quiet.contains("DL1001"),
        "{quiet}"
    );

    let config = "label-schema:\n  org.opencontainers.image.source: url\n  org.opencontainers.image.version: semver\noverride:\n  warning: [DL1001, DL3057]\n";
    std::fs::write(dir.path().join(".hadolint.yaml"), config).unwrap();
    let stdout = wharf.ok(&["lint", path]);
    for expected in [
        ":1:1 info DL3049 Label `org.opencontainers.image.version` is missing.",
        ":1:1 warning DL3057 `HEALTHCHECK` instruction missing.",
        ":2:1 warning DL1001 ",
        ":4:1 warning DL3052 Label `org.opencontainers.image.source` is not a valid URL.",
    ] {
        assert!(stdout.contains(expected), "{expected} missing:\n{stdout}");
    }

    std::fs::write(
        dir.path().join(".hadolint.yaml"),
        "label-schema:\n  version: number\n",
    )
    .unwrap();
    let stderr = wharf.fails(&["lint", path]);
    assert!(
        stderr.contains(".hadolint.yaml: `label-schema.version`: types are text, url"),
        "{stderr}"
    );
}

#[test]
fn folders_are_searched_and_compose_files_linted() {
    let wharf = Wharf::new();
    let compose = "services:\n  web:\n    build: .\n    depends_on:\n      - db\n    restart: unless-stopped\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: hunter2\n    ports:\n      - 5432:5432\n    restart: unless-stopped\n";
    let dir = folder(&[
        ("compose.yaml", compose),
        (
            "services/api/Dockerfile",
            "FROM python:3.12\nRUN pip install --no-cache-dir flask\nUSER 1000\n",
        ),
        (".venv/Dockerfile", "FROM ignored\n"),
        ("README.md", "not linted\n"),
    ]);
    let json: Value =
        serde_json::from_str(&wharf.ok(&["lint", "--format", "json", text(dir.path())])).unwrap();
    let found: Vec<(String, u64, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let name = Path::new(file)
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string();
            (
                name,
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("compose.yaml", 4, "WC002"),
        ("compose.yaml", 7, "WC001"),
        ("compose.yaml", 8, "WC005"),
        ("compose.yaml", 10, "WC003"),
        ("compose.yaml", 11, "WC007"),
        ("services/api/Dockerfile", 2, "DL3013"),
    ];
    for (file, line, rule) in expected {
        assert!(
            found.contains(&(file.to_owned(), line, rule.to_owned())),
            "{file}:{line} {rule} missing from {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(file, _, _)| file.starts_with(".venv")),
        "{found:?}"
    );

    let stderr = wharf.fails(&["lint", text(&dir.path().join("missing"))]);
    assert!(
        stderr.starts_with("error: cannot read ") && stderr.contains("hint: "),
        "{stderr}"
    );
    let empty = folder(&[("app.py", "print(1)\n")]);
    let stderr = wharf.fails(&["lint", text(empty.path())]);
    assert!(
        stderr.contains("error: no Dockerfile or compose file in"),
        "{stderr}"
    );
}

#[test]
fn build_check_runs_the_checks_without_building() {
    let wharf = Wharf::new();
    let dir = folder(&[("Dockerfile", "FROM busybox:latest\nCMD echo hi\n")]);
    let output = wharf.run(&["build", "--check", text(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(" 2 warnings found"), "{stderr}");
    assert!(
        stderr.contains(" - DL3007: Using latest is prone to errors"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            " - DL3025: Use arguments JSON notation for CMD and ENTRYPOINT arguments (line 2)"
        ),
        "{stderr}"
    );
    assert_eq!(wharf.ok(&["images", "-q"]), "", "--check builds nothing");

    let clean = folder(&[(
        "Dockerfile",
        "FROM busybox:1.36\nUSER 1000\nCMD [\"echo\", \"hi\"]\n",
    )]);
    let output = wharf.run(&["build", "--check", text(clean.path())]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Check complete, no warnings found."));
}

#[test]
fn a_build_ends_with_its_warnings_unless_told_not_to() {
    if !is_root() {
        skip("builds need root (overlayfs, namespaces)");
        return;
    }
    let wharf = Wharf::new();
    wharf.import_busybox();
    let dir = folder(&[("Dockerfile", "FROM busybox:latest\nCMD echo hi\n")]);
    let output = wharf.run(&[
        "build",
        "--progress",
        "plain",
        "-t",
        "warned",
        text(dir.path()),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let block = stderr.split("naming to").last().unwrap();
    assert!(block.contains(" 2 warnings found"), "{stderr}");
    assert!(block.contains(" - DL3025:"), "{stderr}");

    let output = wharf.run(&[
        "build",
        "--progress",
        "plain",
        "--no-lint",
        text(dir.path()),
    ]);
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));

    let skipped = folder(&[(
        "Dockerfile",
        "# check=skip=all\nFROM busybox:latest\nCMD echo hi\n",
    )]);
    let output = wharf.run(&["build", "--progress", "plain", text(skipped.path())]);
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
}
