//! Image commands end to end: import, images, inspect, tag, rmi, prune, history, df, check.

mod common;

use common::{tarball, Entry, Wharf};

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"[0-9a-f]{12}\b", "[ID]"),
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (
            r"(Less than a second|\d+ seconds?|About a minute) ago",
            "[SINCE]",
        ),
        (r"Imported from \S+", "Imported from [FILE]"),
        // Column widths depend on the filtered values: compare the cells, not the padding.
        (r" {2,}", " | "),
    ]
}

#[test]
fn import_then_list_inspect_and_history() {
    let wharf = Wharf::new();
    let id = wharf.import_busybox();
    assert!(
        id.starts_with("sha256:"),
        "import prints the image id, got {id}"
    );

    let images = wharf.ok(&["images"]);
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(images, @r"
        REPOSITORY | TAG | IMAGE ID | CREATED | SIZE
        busybox | latest | [ID] | [SINCE] | 1.98MB
        ");
    });

    let inspect: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["image", "inspect", "busybox"])).unwrap();
    let image = &inspect[0];
    assert_eq!(image["Id"], id);
    assert_eq!(image["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["Architecture"], "amd64");
    assert_eq!(image["RootFS"]["Type"], "layers");
    assert!(image["Size"].as_u64().unwrap() > 1_000_000);

    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "--format",
                "{{.Config.Cmd}} {{json .RepoTags}}",
                "busybox"
            ])
            .trim(),
        "[sh] [\"busybox:latest\"]"
    );
    // The short id and an id prefix find the image too.
    let short = &id["sha256:".len()..][..12];
    assert_eq!(wharf.ok(&["inspect", "-f", "{{.Id}}", short]).trim(), id);

    let history = wharf.ok(&["history", "busybox"]);
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(history, @r"
        IMAGE | CREATED | CREATED BY | SIZE | COMMENT
        [ID] | [SINCE] | 1.98MB | Imported from [FILE]
        ");
    });
    wharf.assert_consistent();
}

#[test]
fn images_formats_quiet_and_filters() {
    let wharf = Wharf::new();
    let id = wharf.import_busybox();
    wharf.ok(&["tag", "busybox", "localhost:5000/team/tools:v1"]);
    let json_lines = wharf.ok(&["images", "--format", "json"]);
    let rows: Vec<serde_json::Value> = json_lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .any(|r| r["Repository"] == "localhost:5000/team/tools" && r["Tag"] == "v1"));
    assert_eq!(
        wharf.ok(&["images", "-q"]).trim(),
        &id["sha256:".len()..][..12]
    );
    assert_eq!(
        wharf
            .ok(&[
                "images",
                "--format",
                "{{.Repository}}:{{.Tag}}",
                "--filter",
                "reference=localhost:5000/*/*"
            ])
            .trim(),
        "localhost:5000/team/tools:v1"
    );
    assert_eq!(
        wharf
            .ok(&["images", "busybox", "--format", "{{.Tag}}"])
            .trim(),
        "latest"
    );
    let table = wharf.ok(&["images", "--format", "table {{.Repository}}\t{{.Tag}}"]);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    let bad = wharf.fails(&["images", "--format", "{{.Nope"]);
    assert!(bad.starts_with("error: --format:"), "{bad}");
    let bad_filter = wharf.fails(&["images", "--filter", "label=x"]);
    assert!(
        bad_filter.contains("unsupported filter") && bad_filter.contains("hint:"),
        "{bad_filter}"
    );
}

#[test]
fn rmi_untags_then_deletes_and_refuses_ambiguous_ids() {
    let wharf = Wharf::new();
    let id = wharf.import_busybox();
    wharf.ok(&["tag", "busybox", "other:1"]);
    let refused = wharf.fails(&["rmi", &id]);
    assert!(
        refused.contains("referenced in multiple repositories") && refused.contains("hint:"),
        "{refused}"
    );

    let untagged = wharf.ok(&["rmi", "other:1"]);
    assert_eq!(untagged.trim(), "Untagged: other:1");
    let removed = wharf.ok(&["rmi", "busybox"]);
    assert!(
        removed.starts_with("Untagged: busybox:latest\nDeleted: sha256:"),
        "{removed}"
    );
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    // Nothing of the image remains: no blob, no layer.
    assert_eq!(
        std::fs::read_dir(wharf.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(wharf.path().join("layers"))
            .unwrap()
            .count(),
        1,
        "only layers/tmp"
    );

    let missing = wharf.fails(&["rmi", "nope:1"]);
    assert!(
        missing.contains("error: no such image: nope:1"),
        "{missing}"
    );
}

#[test]
fn rmi_force_removes_every_tag() {
    let wharf = Wharf::new();
    let id = wharf.import_busybox();
    wharf.ok(&["tag", "busybox", "other:1"]);
    let out = wharf.ok(&["rmi", "-f", &id]);
    assert!(
        out.contains("Untagged: busybox:latest")
            && out.contains("Untagged: other:1")
            && out.contains(&format!("Deleted: {id}")),
        "{out}"
    );
    wharf.assert_consistent();
}

#[test]
fn prune_removes_dangling_images_only_unless_all() {
    let wharf = Wharf::new();
    let first = tarball(&[Entry::File("a", b"first", 0o644)]);
    let second = tarball(&[Entry::File("a", b"second", 0o644)]);
    let old = String::from_utf8(
        wharf
            .run_with_stdin(&["import", "-", "app:1"], &first)
            .stdout,
    )
    .unwrap();
    // Re-tagging app:1 leaves the old image dangling, as with Docker.
    wharf.run_with_stdin(&["import", "-", "app:1"], &second);
    let dangling = wharf.ok(&[
        "images",
        "--filter",
        "dangling=true",
        "--format",
        "{{.ID}} {{.Repository}}",
    ]);
    assert_eq!(
        dangling.trim(),
        format!("{} <none>", &old.trim()["sha256:".len()..][..12])
    );

    // Without -f and no "y" on stdin, nothing is removed.
    wharf.ok(&["image", "prune"]);
    assert_eq!(wharf.ok(&["images", "-q"]).lines().count(), 2);

    let pruned = wharf.ok(&["image", "prune", "-f"]);
    assert!(
        pruned.contains(&format!("deleted: {}", old.trim()))
            && pruned.contains("Total reclaimed space:"),
        "{pruned}"
    );
    assert_eq!(
        wharf
            .ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .trim(),
        "app:1"
    );
    let all = wharf.ok(&["image", "prune", "-a", "-f"]);
    assert!(all.contains("untagged: app:1"), "{all}");
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    wharf.assert_consistent();
}

#[test]
fn import_applies_changes_and_rejects_bad_ones_without_writing() {
    let wharf = Wharf::new();
    let layer = tarball(&[Entry::Dir("app", 0o755), Entry::File("app/x", b"x", 0o644)]);
    let output = wharf.run_with_stdin(
        &[
            "import",
            "-c",
            "ENV A=1 B=two",
            "-c",
            r#"ENTRYPOINT ["/bin/app"]"#,
            "-c",
            "WORKDIR /app",
            "-c",
            "EXPOSE 5000",
            "-c",
            "USER 1000:1000",
            "-c",
            "LABEL team=py",
            "-m",
            "my message",
            "-",
            "app:changes",
        ],
        &layer,
    );
    common::assert_success(&output, &["import"]);
    let config: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["inspect", "-f", "{{json .Config}}", "app:changes"]))
            .unwrap();
    assert_eq!(config["Env"], serde_json::json!(["A=1", "B=two"]));
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/app"]));
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(config["ExposedPorts"], serde_json::json!({"5000/tcp": {}}));
    assert_eq!(config["User"], "1000:1000");
    assert_eq!(config["Labels"]["team"], "py");
    assert!(wharf.ok(&["history", "app:changes"]).contains("my message"));

    let before = std::fs::read_dir(wharf.path().join("blobs/sha256"))
        .unwrap()
        .count();
    let output = wharf.run_with_stdin(&["import", "-c", "RUN rm -rf /", "-", "bad:1"], &layer);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: --change `RUN rm -rf /`: RUN is not an instruction --change accepts\nhint:"
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(wharf.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        before
    );

    let bad_ref = wharf.run_with_stdin(&["import", "-", "Bad:Name"], &layer);
    assert!(!bad_ref.status.success());
    assert!(String::from_utf8_lossy(&bad_ref.stderr).contains("must be lowercase"));
}

#[test]
fn import_reads_gzip_and_zstd() {
    use std::io::Write;
    let wharf = Wharf::new();
    let layer = tarball(&[Entry::File("hello", b"hi", 0o644)]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&layer).unwrap();
    let gz_id = wharf.run_with_stdin(&["import", "-", "gz:1"], &gz.finish().unwrap());
    common::assert_success(&gz_id, &["import gz"]);
    let zst = std::process::Command::new("zstd")
        .args(["-q", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(&layer)?;
            child.wait_with_output()
        });
    match zst {
        Ok(out) if out.status.success() => {
            let zst_id = wharf.run_with_stdin(&["import", "-", "zst:1"], &out.stdout);
            common::assert_success(&zst_id, &["import zst"]);
            // The uncompressed content is the same, so the layer is shared.
            assert_eq!(
                std::fs::read_dir(wharf.path().join("layers"))
                    .unwrap()
                    .count(),
                2
            );
        }
        _ => common::skip("zstd is not installed: zstd import not tested"),
    }
    let rootfs = wharf.path().join("layers");
    let layer_dir = std::fs::read_dir(&rootfs)
        .unwrap()
        .flatten()
        .find(|e| e.file_name() != "tmp")
        .unwrap()
        .path();
    assert_eq!(std::fs::read(layer_dir.join("diff/hello")).unwrap(), b"hi");
}

#[test]
fn system_df_info_and_version() {
    let wharf = Wharf::new();
    wharf.import_busybox();
    let df = wharf.ok(&["system", "df"]);
    assert!(df.starts_with("TYPE"), "{df}");
    assert!(
        df.lines()
            .any(|l| l.starts_with("Images") && l.contains("MB")),
        "{df}"
    );
    let info: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["info", "--format", "json"])).unwrap();
    assert_eq!(info["Images"], 1);
    assert_eq!(info["RootDir"], wharf.path().display().to_string());
    assert!(wharf.ok(&["version"]).contains(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        wharf.ok(&["version", "--format", "{{.Client.Os}}"]).trim(),
        "linux"
    );
}

#[test]
fn unknown_flags_exit_125_in_house_style() {
    let wharf = Wharf::new();
    let output = wharf.run(&["images", "--bogus"]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: unexpected argument '--bogus'") && stderr.contains("\nhint: "),
        "{stderr}"
    );
}
