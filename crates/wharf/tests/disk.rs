//! Disk accounting: `system df` adds up to `du -sb` of the state root, and the prunes free
//! what they report, measured with `du` before and after.

mod common;

use common::disk::{assert_near, bytes_of, du};
use common::{is_root, skip, Wharf};

/// The SIZE and RECLAIMABLE of each `system df` row, in bytes, by TYPE.
fn df(wharf: &Wharf) -> std::collections::BTreeMap<String, (u64, u64)> {
    wharf
        .ok(&["system", "df", "--format", "json"])
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            let size = bytes_of(row["Size"].as_str().unwrap());
            let reclaimable = bytes_of(row["Reclaimable"].as_str().unwrap());
            (
                row["Type"].as_str().unwrap().to_string(),
                (size, reclaimable),
            )
        })
        .collect()
}

/// The bytes `Total reclaimed space: X` reports.
fn reclaimed(output: &str) -> u64 {
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("no total in:\n{output}"));
    bytes_of(line)
}

const DOCKERFILE: &str = "FROM python:3.11-slim\n\
    RUN --mount=type=cache,target=/root/.cache head -c 3000000 /dev/urandom > /root/.cache/blob\n\
    RUN head -c 5000000 /dev/urandom > /big && mkdir /app && echo hi > /app/hi\n";

#[test]
fn system_df_matches_du_and_prunes_free_what_they_report() {
    if !is_root() {
        skip("containers and builds need root");
        return;
    }
    let wharf = Wharf::isolated();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("Dockerfile"), DOCKERFILE).unwrap();
    let context_path = context.path().to_str().unwrap();
    wharf.ok(&["build", "-q", "-t", "big", context_path]);
    wharf.ok(&["volume", "create", "data"]);
    wharf.ok(&[
        "run", "--name", "writer", "-v", "data:/data", "python:3.11-slim", "sh", "-c",
        "head -c 2000000 /dev/urandom > /data/f && head -c 1000000 /dev/urandom > /upper && seq 1 20000",
    ]);
    wharf.ok(&["run", "-d", "--name", "idle", "big", "sleep", "300"]);

    // The four rows add up to du of the state root.
    let rows = df(&wharf);
    let total: u64 = rows.values().map(|(size, _)| size).sum();
    assert_near("system df total", total, du(wharf.path()), 5);
    assert_near(
        "images",
        rows["Images"].0,
        du(&wharf.path().join("blobs")) + du(&wharf.path().join("layers")),
        5,
    );
    assert_near(
        "volumes",
        rows["Local Volumes"].0,
        du(&wharf.path().join("volumes")),
        5,
    );
    assert_near(
        "containers",
        rows["Containers"].0,
        du(&wharf.path().join("containers")),
        5,
    );
    assert!(
        rows["Build Cache"].0 >= 3_000_000,
        "{rows:?}: the cache mount"
    );

    // -v: one image row per tag; SHARED SIZE is what python and big have in common.
    let verbose: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["system", "df", "-v", "--format", "json"])).unwrap();
    let images = verbose["Images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{verbose}");
    for image in images {
        let shared = bytes_of(image["SharedSize"].as_str().unwrap());
        assert!(shared > 100_000_000, "python's layer is shared: {image}");
    }
    assert_eq!(
        verbose["Containers"].as_array().unwrap().len(),
        2,
        "{verbose}"
    );
    assert_eq!(verbose["Volumes"][0]["Links"], "1", "{verbose}");
    let table = wharf.ok(&["system", "df", "-v"]);
    assert!(
        table.contains("SHARED SIZE   UNIQUE SIZE   CONTAINERS"),
        "{table}"
    );
    // The Engine API's /system/df carries the same counts.
    {
        let service = common::api::Service::start(&wharf);
        let (status, body) = service.request("GET", "/system/df", "");
        assert_eq!(status, 200, "{body}");
        let usage: serde_json::Value = serde_json::from_str(&body).unwrap();
        let volume = &usage["Volumes"][0]["UsageData"];
        assert_eq!(volume["RefCount"], 1, "{body}");
        let size = volume["Size"].as_u64().unwrap();
        assert_near(
            "API volume size",
            size,
            du(&wharf.path().join("volumes/data")),
            1,
        );
        for image in usage["Images"].as_array().unwrap() {
            assert!(
                image["SharedSize"].as_u64().unwrap() > 100_000_000,
                "{image}"
            );
        }
    }
    let error = wharf.fails(&["system", "df", "-v", "--format", "{{.ID}}"]);
    assert!(
        error.contains("error: --format: system df -v prints a table or json"),
        "{error}"
    );

    // Prunes: each frees what it says, as du sees it.
    let prune = |args: &[&str]| {
        let before = du(wharf.path());
        let output = wharf.ok(args);
        let freed = before - du(wharf.path());
        (output, freed)
    };
    wharf.ok(&["rm", "-f", "idle"]);
    wharf.ok(&["rmi", "big"]);
    // big's layer is the build cache's alone now: `builder prune` drops it, not the mount.
    let (output, freed) = prune(&["builder", "prune", "-f"]);
    assert!(freed >= 5_000_000, "{output}: du saw {freed} bytes go");
    assert_near("builder prune", reclaimed(&output), freed, 2);
    let (output, freed) = prune(&["builder", "prune", "-af"]);
    assert!(
        freed >= 3_000_000,
        "{output}: the cache mount: du saw {freed} bytes go"
    );
    assert_near("builder prune -a", reclaimed(&output), freed, 2);
    wharf.ok(&["rm", "writer"]);
    let (output, freed) = prune(&["volume", "prune", "-af"]);
    assert_near("volume prune", reclaimed(&output), freed, 2);
    let (output, freed) = prune(&["image", "prune", "-af"]);
    assert!(freed > 100_000_000, "{output}: du saw {freed} bytes go");
    assert_near("image prune", reclaimed(&output), freed, 2);
    wharf.assert_consistent();
}

/// `system prune -a --volumes` frees what it reports.
#[test]
fn system_prune_frees_what_it_reports() {
    if !is_root() {
        skip("containers need root");
        return;
    }
    let wharf = Wharf::isolated();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    wharf.ok(&[
        "run",
        "-v",
        "/anon",
        "python:3.11-slim",
        "sh",
        "-c",
        "head -c 2000000 /dev/urandom > /anon/f",
    ]);
    let before = du(wharf.path());
    let output = wharf.ok(&["system", "prune", "-af", "--volumes"]);
    let freed = before - du(wharf.path());
    assert!(freed > 100_000_000, "{output}: du saw {freed} bytes go");
    assert_near("system prune", reclaimed(&output), freed, 2);
    assert!(output.contains("Deleted Images:"), "{output}");
}
