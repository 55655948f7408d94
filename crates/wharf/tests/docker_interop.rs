//! Interop with a real Docker daemon: what wharf saves, Docker loads and runs; what Docker
//! saves, wharf loads with its config unchanged. Skipped loudly where dockerd cannot start.

mod common;

use std::process::Command;

use common::Wharf;

const DOCKER: &str = "/usr/bin/docker";

fn docker(args: &[&str]) -> std::process::Output {
    Command::new(DOCKER)
        .args(args)
        .output()
        .expect("docker client runs")
}

fn docker_ok(args: &[&str]) -> String {
    let output = docker(args);
    assert!(
        output.status.success(),
        "docker {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Starts (or finds) a Docker daemon through the project's script.
fn docker_available() -> bool {
    let script = common::repo_root().join("scripts/dockerd.sh");
    let output = Command::new(script)
        .arg("start")
        .output()
        .expect("dockerd.sh runs");
    if output.status.success() {
        return true;
    }
    common::skip(&format!(
        "docker interop: {}",
        String::from_utf8_lossy(&output.stderr)
            .trim()
            .trim_start_matches("SKIPPED: ")
    ));
    false
}

/// Removes the test's images from Docker whatever happens.
struct DockerImages(Vec<String>);

impl Drop for DockerImages {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

#[test]
fn docker_loads_and_runs_what_wharf_saves_and_wharf_loads_what_docker_saves() {
    if !docker_available() {
        return;
    }
    let suffix = std::process::id();
    let python = format!("wharf-interop/python:{suffix}");
    let built = format!("wharf-interop/built:{suffix}");
    let _cleanup = DockerImages(vec![python.clone(), built.clone()]);

    // wharf -> Docker: import the python fixture, save it, docker load, docker run.
    let wharf = Wharf::new();
    let (rootfs, changes) = common::fixture("python-3.11-slim");
    let mut args = vec!["import".to_string()];
    for change in changes {
        args.extend(["--change".to_string(), change]);
    }
    args.extend([rootfs.display().to_string(), python.clone()]);
    wharf.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let saved = wharf.path().join("python.tar");
    wharf.ok(&["save", "-o", saved.to_str().unwrap(), &python]);
    let loaded = docker_ok(&["load", "-i", saved.to_str().unwrap()]);
    assert!(
        loaded.contains(&format!("Loaded image: {python}")),
        "{loaded}"
    );
    let printed = docker_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        &python,
        "python3",
        "-c",
        "print(1)",
    ]);
    assert_eq!(printed.trim(), "1");

    // Docker -> wharf: build an image with Docker's classic builder, docker save, wharf load.
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM {python}\nWORKDIR /app\nENV FLASK_ENV=production A=\"x & <y>\"\nLABEL team=py\n\
             RUN echo hi > /app/hi.txt && rm -rf /usr/share/doc\nEXPOSE 5000 53/udp\nVOLUME /data\n\
             HEALTHCHECK --interval=5s CMD python3 -c 'print(1)'\nUSER nobody\nSTOPSIGNAL SIGINT\n\
             ENTRYPOINT [\"python3\"]\nCMD [\"-c\", \"print(2)\"]\n"
        ),
    )
    .unwrap();
    let build = Command::new(DOCKER)
        .args([
            "build",
            "-q",
            "--network",
            "none",
            "-t",
            &built,
            context.path().to_str().unwrap(),
        ])
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "docker build failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let docker_archive = wharf.path().join("built.tar");
    docker_ok(&["save", "-o", docker_archive.to_str().unwrap(), &built]);
    let target = Wharf::new();
    let loaded = target.ok(&["load", "-i", docker_archive.to_str().unwrap()]);
    assert_eq!(loaded.trim(), format!("Loaded image: {built}"));

    let docker_config: serde_json::Value = serde_json::from_str(&docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        &built,
    ]))
    .unwrap();
    let wharf_config: serde_json::Value = serde_json::from_str(&target.ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        &built,
    ]))
    .unwrap();
    assert_eq!(wharf_config, docker_config, "Config differs from Docker's");
    assert_eq!(
        target
            .ok(&["image", "inspect", "--format", "{{.Id}}", &built])
            .trim(),
        docker_ok(&["image", "inspect", "--format", "{{.Id}}", &built]).trim()
    );
    // The RUN layer's deletion arrived as an overlay whiteout.
    let lower = target.ok(&["inspect", "-f", "{{.GraphDriver.Data.LowerDir}}", &built]);
    let top = lower.trim().split(':').next().unwrap();
    let whiteout =
        std::fs::symlink_metadata(std::path::Path::new(top).join("usr/share/doc")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &whiteout.file_type()
    ));
    target.assert_consistent();
}

#[test]
fn docker_runs_an_image_that_wharf_built() {
    if !docker_available() {
        return;
    }
    let image = format!("wharf-interop/built-by-wharf:{}", std::process::id());
    let _cleanup = DockerImages(vec![image.clone()]);
    let wharf = Wharf::new();
    wharf.import_busybox();
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("hello.txt"), "hello\n").unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\nWORKDIR /app\nCOPY hello.txt .\nRUN echo built >> hello.txt && rm /etc/group && mkdir -p /opt/x && touch /opt/x/y\nENV GREETING=hi\nCMD [\"sh\", \"-c\", \"cat hello.txt; test ! -e /etc/group && echo no-group; echo $GREETING\"]\n",
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        &image,
        context.path().to_str().unwrap(),
    ]);
    let archive = wharf.path().join("built.tar");
    wharf.ok(&["save", "-o", archive.to_str().unwrap(), &image]);
    docker_ok(&["load", "-i", archive.to_str().unwrap()]);
    // The deleted file is a whiteout in the layer: Docker must not see it either.
    assert_eq!(
        docker_ok(&["run", "--rm", "--network", "none", &image]),
        "hello\nbuilt\nno-group\nhi\n"
    );
    assert_eq!(
        docker_ok(&["image", "inspect", "-f", "{{.Config.WorkingDir}}", &image]).trim(),
        "/app"
    );
}
