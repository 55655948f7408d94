//! `wharf build` as a user runs it: real Dockerfiles on the busybox and python fixtures,
//! RUN steps in real containers, the cache across runs, `.dockerignore`, secrets, failures.

mod common;

use std::fs;
use std::path::Path;

use common::{is_root, skip, stdout, Wharf};
use serde_json::Value;

/// A build context in a temp folder.
struct Context {
    dir: tempfile::TempDir,
}

impl Context {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wharf-ctx-")
            .tempdir()
            .unwrap();
        let context = Self { dir };
        for (name, content) in files {
            context.write(name, content);
        }
        context
    }

    fn write(&self, name: &str, content: &str) {
        let path = self.dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }
}

fn setup() -> Option<Wharf> {
    if !is_root() {
        skip("builds need root (overlayfs, namespaces)");
        return None;
    }
    let wharf = Wharf::new();
    wharf.import_busybox();
    Some(wharf)
}

fn build(wharf: &Wharf, context: &Context, extra: &[&str]) -> String {
    let mut args = vec!["build", "--progress", "plain"];
    args.extend_from_slice(extra);
    args.push(context.path());
    let output = wharf.run(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "wharf {args:?} failed:\n{stderr}");
    stderr
}

fn config(wharf: &Wharf, image: &str) -> Value {
    let inspect: Value = serde_json::from_str(&wharf.ok(&["inspect", image])).unwrap();
    inspect[0].clone()
}

/// `RUN` output of a container of `image` (network none).
fn run_in(wharf: &Wharf, image: &str, command: &[&str]) -> String {
    let mut args = vec!["run", "--rm", "--network", "none", image];
    args.extend_from_slice(command);
    wharf.ok(&args)
}

/// A tarball as `tar` writes it: regular files with owner, mode and time.
fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        builder
            .append_data(&mut header, name, &content[..])
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn steps_dir_is_empty(wharf: &Wharf) -> bool {
    let steps = wharf.path().join("build-cache/steps");
    fs::read_dir(&steps).map_or(true, |mut d| d.next().is_none())
}

fn no_mounts_under(root: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/mounts").unwrap();
    !mounts.contains(root.to_str().unwrap())
}

#[test]
fn every_instruction_lands_in_the_image_config_and_filesystem() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            r#"# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE
ARG VERSION=1.2
LABEL org.example.version=$VERSION maintainer="dev team"
ENV APP_HOME=/srv/app GREETING="hello world"
WORKDIR $APP_HOME
COPY hello.txt ./
COPY --chmod=0755 run.sh /usr/local/bin/
ADD files.tar /opt/
RUN echo "$GREETING $VERSION" > built.txt
RUN <<EOF
echo heredoc > /srv/app/heredoc.txt
EOF
COPY <<EOF /etc/inline.conf
mode=$VERSION
EOF
EXPOSE 5000 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://localhost:5000/ || exit 1
ENTRYPOINT ["/usr/local/bin/run.sh"]
CMD ["default-arg"]
"#,
        ),
        ("hello.txt", "hello from the context\n"),
        ("run.sh", "#!/bin/sh\necho \"run.sh $*\"\n"),
    ]);
    // A tar in the context: ADD extracts it.
    let tar = tar_of(&[("inside/a.txt".into(), b"from the tar\n".to_vec())]);
    fs::write(context.dir.path().join("files.tar"), tar).unwrap();

    build(&wharf, &context, &["-t", "every:1", "--label", "extra=yes"]);
    let image = config(&wharf, "every:1");
    let c = &image["Config"];
    assert_eq!(c["Labels"]["org.example.version"], "1.2");
    assert_eq!(c["Labels"]["maintainer"], "dev team");
    assert_eq!(c["Labels"]["extra"], "yes");
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"APP_HOME=/srv/app"), "{env:?}");
    assert!(env.contains(&"GREETING=hello world"), "{env:?}");
    assert!(
        !env.iter().any(|e| e.starts_with("VERSION=")),
        "ARGs stay out of the image: {env:?}"
    );
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(
        c["ExposedPorts"],
        serde_json::json!({"5000/tcp": {}, "53/udp": {}})
    );
    assert_eq!(c["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/usr/local/bin/run.sh"])
    );
    assert_eq!(c["Cmd"], serde_json::json!(["default-arg"]));
    assert_eq!(
        c["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "wget -q -O- http://localhost:5000/ || exit 1"])
    );
    assert_eq!(c["Healthcheck"]["Interval"], 5_000_000_000u64);
    assert_eq!(c["Healthcheck"]["Retries"], 2);

    // The entrypoint runs with the default CMD, as user 1000.
    assert_eq!(run_in(&wharf, "every:1", &[]).trim(), "run.sh default-arg");
    let files = run_in(
        &wharf,
        "every:1",
        &["sh", "-c", "cat hello.txt built.txt heredoc.txt /opt/inside/a.txt /etc/inline.conf; id -u; stat -c %a /usr/local/bin/run.sh"],
    );
    // busybox has no `run.sh` override: the entrypoint gets the command as arguments.
    assert!(files.starts_with("run.sh sh -c"), "{files}");
    let files = wharf.ok(&[
        "run", "--rm", "--network", "none", "--entrypoint", "sh", "every:1", "-c",
        "cat hello.txt built.txt heredoc.txt /opt/inside/a.txt /etc/inline.conf; id -u; stat -c %a /usr/local/bin/run.sh",
    ]);
    assert_eq!(
        files,
        "hello from the context\nhello world 1.2\nheredoc\nfrom the tar\nmode=1.2\n1000\n755\n"
    );

    // History: one entry per instruction after the base's, layers only for filesystem steps.
    let history = wharf.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "every:1",
    ]);
    assert!(
        history.starts_with("CMD [\"default-arg\"]\nENTRYPOINT"),
        "{history}"
    );
    assert!(
        history.contains("RUN /bin/sh -c echo \"$GREETING $VERSION\" > built.txt # buildkit"),
        "{history}"
    );
    assert!(steps_dir_is_empty(&wharf));
    assert!(no_mounts_under(wharf.path()));
    wharf.assert_consistent();
}

#[test]
fn an_unchanged_rebuild_is_cached_and_an_edit_reruns_from_its_copy() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "FROM busybox\nWORKDIR /app\nCOPY deps.txt .\nRUN cat deps.txt > installed.txt\nARG MODE=dev\nRUN echo $MODE > mode.txt\nCOPY app.sh .\nCMD [\"sh\", \"app.sh\"]\n",
        ),
        ("deps.txt", "flask\n"),
        ("app.sh", "echo one\n"),
    ]);
    let first = build(&wharf, &context, &["-t", "cached"]);
    assert!(!first.contains("CACHED"), "{first}");
    let id = config(&wharf, "cached")["Id"].clone();

    let second = build(&wharf, &context, &["-t", "cached"]);
    assert_eq!(second.matches("CACHED").count(), 5, "{second}");
    assert_eq!(
        config(&wharf, "cached")["Id"],
        id,
        "a cached rebuild makes the same image"
    );

    // An mtime-only change is no change.
    let app = context.dir.path().join("app.sh");
    let file = fs::File::options().write(true).open(&app).unwrap();
    file.set_modified(std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    let touched = build(&wharf, &context, &["-t", "cached"]);
    assert_eq!(touched.matches("CACHED").count(), 5, "{touched}");

    // Editing app.sh reruns only its COPY.
    context.write("app.sh", "echo two\n");
    let edited = build(&wharf, &context, &["-t", "cached"]);
    assert_eq!(edited.matches("CACHED").count(), 4, "{edited}");
    assert_eq!(run_in(&wharf, "cached", &[]), "two\n");

    // A different build arg reruns the RUN that sees it, and what follows.
    let arg = build(
        &wharf,
        &context,
        &["-t", "cached", "--build-arg", "MODE=prod"],
    );
    assert_eq!(arg.matches("CACHED").count(), 3, "{arg}");
    assert_eq!(run_in(&wharf, "cached", &["cat", "mode.txt"]), "prod\n");

    // --no-cache runs everything.
    let fresh = build(&wharf, &context, &["-t", "cached", "--no-cache"]);
    assert!(!fresh.contains("CACHED"), "{fresh}");

    // The cache survives gc and `builder prune` (the image holds its layers), and
    // `builder prune -a` empties it.
    wharf.ok(&["system", "check", "--repair"]);
    wharf.ok(&["builder", "prune", "-f"]);
    let again = build(&wharf, &context, &["-t", "cached"]);
    assert_eq!(again.matches("CACHED").count(), 5, "{again}");
    wharf.ok(&["builder", "prune", "-af"]);
    let pruned = build(&wharf, &context, &["-t", "cached"]);
    assert!(!pruned.contains("CACHED"), "{pruned}");
    wharf.assert_consistent();
}

#[test]
fn dockerignore_keeps_files_out_of_the_context() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        ("Dockerfile", "FROM busybox\nCOPY . /ctx/\n"),
        (
            ".dockerignore",
            "# secrets and junk\n*.pyc\n**/__pycache__\n.env\nnotes/\n!notes/keep.md\n",
        ),
        ("app.py", "print(1)\n"),
        ("app.pyc", "junk"),
        ("pkg/__pycache__/x.pyc", "junk"),
        ("pkg/mod.py", "x = 1\n"),
        (".env", "PASSWORD=hunter2\n"),
        ("notes/drop.md", "drop\n"),
        ("notes/keep.md", "keep\n"),
    ]);
    build(&wharf, &context, &["-t", "ignored"]);
    let listing = run_in(&wharf, "ignored", &["find", "/ctx", "-type", "f"]);
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/app.py",
            "/ctx/notes/keep.md",
            "/ctx/pkg/mod.py"
        ]
    );

    // Changing an ignored file does not invalidate the cache.
    context.write(".env", "PASSWORD=changed\n");
    let again = build(&wharf, &context, &["-t", "ignored"]);
    assert!(again.contains("CACHED"), "{again}");
}

#[test]
fn secrets_reach_run_steps_but_never_the_image() {
    let Some(wharf) = setup() else { return };
    let secret = "s3cr3t-token-value";
    let context = Context::new(&[(
        "Dockerfile",
        // The Dockerfile checks the secret by length, so that it is not in the history.
        "FROM busybox\nRUN --mount=type=secret,id=token,required=true test \"$(wc -c < /run/secrets/token)\" -eq 18 && echo ok > /checked\nRUN --mount=type=secret,id=token,env=TOKEN test ${#TOKEN} -eq 18\n",
    )]);
    let secret_file = context.dir.path().join("token.txt");
    fs::write(&secret_file, secret).unwrap();
    let spec = format!("id=token,src={}", secret_file.display());
    build(&wharf, &context, &["-t", "with-secret", "--secret", &spec]);
    assert_eq!(run_in(&wharf, "with-secret", &["cat", "/checked"]), "ok\n");
    assert_eq!(
        run_in(
            &wharf,
            "with-secret",
            &["sh", "-c", "ls /run/secrets 2>&1 || true"]
        )
        .trim(),
        "ls: /run/secrets: No such file or directory"
    );
    // Nothing in the saved image (layers, config, history) contains the secret.
    let saved = wharf.run(&["save", "with-secret"]);
    assert!(saved.status.success());
    let mut archive = tar::Archive::new(&saved.stdout[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut plain)
                .unwrap();
            bytes = plain;
        }
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {}",
            entry.path().unwrap().display()
        );
    }

    // A required secret that is not given fails before anything runs.
    let output = wharf.run(&["build", "-t", "no-secret", context.path()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Dockerfile:2") && stderr.contains("secret token is required"),
        "{stderr}"
    );
}

#[test]
fn a_failing_run_names_its_line_and_leaves_nothing_behind() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[(
        "Dockerfile",
        "FROM busybox\nRUN echo first line && echo second line >&2\nRUN echo about to fail; exit 3\nRUN echo never\n",
    )]);
    let output = wharf.run(&[
        "build",
        "--progress",
        "plain",
        "-t",
        "broken",
        context.path(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: Dockerfile:3: RUN echo about to fail; exit 3: process \"/bin/sh -c echo about to fail; exit 3\" did not complete successfully: exit code: 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("about to fail"),
        "the step's output is shown: {stderr}"
    );
    assert!(!stderr.contains("never"), "{stderr}");
    assert!(wharf.fails(&["inspect", "broken"]).contains("no such"));
    assert!(steps_dir_is_empty(&wharf));
    assert!(no_mounts_under(wharf.path()));
    // No leftover mount of the step's (this root's: other tests build at the same time).
    let build_cache = wharf.path().join("build-cache");
    assert!(!fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(build_cache.to_str().unwrap()));
    wharf.assert_consistent();

    // A Dockerfile error names the file and line before anything runs.
    context.write("Dockerfile", "FROM busybox\nCOPY\n");
    let output = wharf.run(&["build", context.path()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: Dockerfile:2"), "{stderr}");
}

#[test]
fn multi_stage_builds_copy_from_a_builder_and_targets_stop_early() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[(
        "Dockerfile",
        "FROM busybox AS builder\nWORKDIR /build\nRUN mkdir -p /root/.local/bin && echo 'echo tool' > /root/.local/bin/tool && chmod 755 /root/.local/bin/tool\n\nFROM busybox AS unused\nRUN exit 1\n\nFROM busybox\nCOPY --from=builder /root/.local /root/.local\nENV PATH=/root/.local/bin:$PATH\nCMD [\"tool\"]\n",
    )]);
    // The failing stage is not needed by the target, so it never runs.
    let log = build(&wharf, &context, &["-t", "multi"]);
    assert!(!log.contains("exit 1"), "{log}");
    assert_eq!(run_in(&wharf, "multi", &[]), "tool\n");
    // The final image has the base layer and the COPY layer only.
    let layers = config(&wharf, "multi")["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(layers, 2);

    build(
        &wharf,
        &context,
        &["-t", "just-builder", "--target", "builder"],
    );
    assert_eq!(
        config(&wharf, "just-builder")["Config"]["WorkingDir"],
        "/build"
    );
    let output = wharf.run(&["build", "--target", "nope", context.path()]);
    assert!(!output.status.success());
}

#[test]
fn copy_chown_works_for_a_non_root_user() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "FROM busybox\nRUN echo 'app:x:1001:1001::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1001:' >> /etc/group\nWORKDIR /home/app\nCOPY --chown=app:app data/ ./data/\nUSER app\nRUN echo written >> data/log.txt\n",
        ),
        ("data/log.txt", "start\n"),
    ]);
    build(&wharf, &context, &["-t", "nonroot"]);
    let out = run_in(
        &wharf,
        "nonroot",
        &[
            "sh",
            "-c",
            "id -un; stat -c '%U:%G' data data/log.txt; cat data/log.txt",
        ],
    );
    assert_eq!(out, "app\napp:app\napp:app\nstart\nwritten\n");
}

#[test]
fn hostile_symlinks_in_the_context_are_not_followed_out_of_it() {
    let Some(wharf) = setup() else { return };
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("host-secret"), "host data\n").unwrap();
    let context = Context::new(&[(
        "Dockerfile",
        "FROM busybox\nCOPY link /copied/link\nCOPY dirlink/ /through/\n",
    )]);
    std::os::unix::fs::symlink(
        outside.path().join("host-secret"),
        context.dir.path().join("link"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), context.dir.path().join("dirlink")).unwrap();
    // Both symlinks point outside the context; resolved inside it they name nothing.
    let output = wharf.run(&["build", "-t", "hostile", context.path()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(steps_dir_is_empty(&wharf));

    // A symlink copied inside a folder stays a symlink; its target is not read.
    let context = Context::new(&[("Dockerfile", "FROM busybox\nCOPY dir/ /copied/\n")]);
    fs::create_dir(context.dir.path().join("dir")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("host-secret"),
        context.dir.path().join("dir/link"),
    )
    .unwrap();
    build(&wharf, &context, &["-t", "hostile"]);
    let out = run_in(
        &wharf,
        "hostile",
        &[
            "sh",
            "-c",
            "readlink /copied/link; cat /copied/link 2>&1 || true",
        ],
    );
    assert!(
        out.starts_with(&format!(
            "{}\n",
            outside.path().join("host-secret").display()
        )),
        "{out}"
    );
    assert!(!out.contains("host data"), "{out}");
}

#[test]
fn a_context_and_a_dockerfile_can_come_from_stdin() {
    let Some(wharf) = setup() else { return };
    // A Dockerfile on stdin, no context.
    let output = wharf.run_with_stdin(
        &["build", "-q", "-t", "stdin-df", "-"],
        b"FROM busybox\nRUN echo from-stdin > /f\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).trim().starts_with("sha256:"));
    assert_eq!(run_in(&wharf, "stdin-df", &["cat", "/f"]), "from-stdin\n");

    // A context tarball on stdin.
    let tar = tar_of(&[
        (
            "Dockerfile".into(),
            b"FROM busybox\nCOPY a.txt /a.txt\n".to_vec(),
        ),
        ("a.txt".into(), b"from the tar context\n".to_vec()),
    ]);
    let iid = tempfile::NamedTempFile::new().unwrap();
    let output = wharf.run_with_stdin(
        &[
            "build",
            "-q",
            "--iidfile",
            iid.path().to_str().unwrap(),
            "-t",
            "stdin-tar",
            "-",
        ],
        &tar,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(iid.path()).unwrap(),
        stdout(&output).trim()
    );
    assert_eq!(
        run_in(&wharf, "stdin-tar", &["cat", "/a.txt"]),
        "from the tar context\n"
    );
}

#[test]
fn bad_flags_name_the_flag() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[("Dockerfile", "FROM busybox\n")]);
    for (args, needle) in [
        (vec!["build", "--progress", "fancy"], "--progress fancy"),
        (vec!["build", "--network", "bridge2"], "--network bridge2"),
        (vec!["build", "-t", "Bad:Tag"], "-t Bad:Tag"),
        (vec!["build", "--secret", "src=/nonexistent"], "--secret"),
    ] {
        let mut args = args.clone();
        args.push(context.path());
        let output = wharf.run(&args);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error:") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
    }
    let output = wharf.run(&["build", "/nonexistent/context"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/context"));
}

#[test]
fn source_date_epoch_makes_builds_reproducible() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "FROM busybox\nWORKDIR /app\nCOPY data.txt .\nRUN echo generated > gen.txt && mkdir -p out && touch out/stamp\nCMD [\"cat\", \"gen.txt\"]\n",
        ),
        ("data.txt", "data\n"),
    ]);
    let args = [
        "-q",
        "--no-cache",
        "--build-arg",
        "SOURCE_DATE_EPOCH=1700000000",
        "-t",
        "repro",
    ];
    let first = build(&wharf, &context, &args);
    let first_id = config(&wharf, "repro")["Id"].clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    build(&wharf, &context, &args);
    assert_eq!(config(&wharf, "repro")["Id"], first_id, "{first}");
    assert_eq!(config(&wharf, "repro")["Created"], "2023-11-14T22:13:20Z");
}

#[test]
fn onbuild_triggers_of_a_base_image_run_in_the_child_build() {
    let Some(wharf) = setup() else { return };
    let base = Context::new(&[(
        "Dockerfile",
        "FROM busybox\nWORKDIR /app\nONBUILD COPY app.txt .\nONBUILD RUN cat app.txt > copied-by-trigger.txt\n",
    )]);
    build(&wharf, &base, &["-t", "onbuild-base"]);
    let triggers = config(&wharf, "onbuild-base")["Config"]["OnBuild"].clone();
    assert_eq!(
        triggers,
        serde_json::json!(["COPY app.txt .", "RUN cat app.txt > copied-by-trigger.txt"])
    );

    let child = Context::new(&[
        (
            "Dockerfile",
            "FROM onbuild-base\nCMD [\"cat\", \"copied-by-trigger.txt\"]\n",
        ),
        ("app.txt", "from the child's context\n"),
    ]);
    build(&wharf, &child, &["-t", "onbuild-child"]);
    assert_eq!(
        run_in(&wharf, "onbuild-child", &[]),
        "from the child's context\n"
    );
    // Triggers run once: the child does not pass them on.
    assert_eq!(
        config(&wharf, "onbuild-child")["Config"]["OnBuild"],
        Value::Null
    );
}

/// `--exclude` patterns match like .dockerignore ones, from the copied folder: `**/` reaches
/// into subfolders.
#[test]
fn copy_exclude_applies_inside_copied_folders() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "FROM busybox\nCOPY --exclude=**/*.pyc --exclude=tests src/ /app/\n",
        ),
        ("src/main.py", "print(1)\n"),
        ("src/main.pyc", "junk"),
        ("src/pkg/mod.py", "x = 1\n"),
        ("src/pkg/mod.pyc", "junk"),
        ("src/tests/test_main.py", "assert True\n"),
    ]);
    build(&wharf, &context, &["-t", "excluded"]);
    let listing = run_in(&wharf, "excluded", &["find", "/app", "-type", "f"]);
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort();
    assert_eq!(files, ["/app/main.py", "/app/pkg/mod.py"]);
}

#[test]
fn bind_mounts_read_the_context_and_rw_writes_are_thrown_away() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=bind,source=conf,target=/mnt/conf cat /mnt/conf/app.ini > /copied.ini\nRUN --mount=type=bind,source=conf,target=/mnt/conf,rw echo scratch >> /mnt/conf/app.ini && cat /mnt/conf/app.ini > /seen.ini\n",
        ),
        ("conf/app.ini", "[app]\n"),
    ]);
    build(&wharf, &context, &["-t", "bind"]);
    assert_eq!(
        run_in(
            &wharf,
            "bind",
            &[
                "sh",
                "-c",
                "cat /copied.ini /seen.ini; ls /mnt 2>&1 || true"
            ]
        ),
        "[app]\n[app]\nscratch\nls: /mnt: No such file or directory\n"
    );
    // The context is untouched.
    assert_eq!(
        fs::read_to_string(context.dir.path().join("conf/app.ini")).unwrap(),
        "[app]\n"
    );
}

/// A loopback HTTP server for `ADD <url>`: serves what `files` holds at each path, with a
/// fixed Last-Modified, and counts the requests for each path.
struct FileServer {
    port: u16,
    files: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FileServer {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
            String,
            Vec<u8>,
        >::new()));
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (served, seen) = (files.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut header = String::new();
                while reader.read_line(&mut header).unwrap() > 2 {
                    header.clear();
                }
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
                seen.lock().unwrap().push(path.clone());
                let body = served.lock().unwrap().get(&path).cloned();
                let head = match &body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\nConnection: close\r\n\r\n",
                        body.len()
                    ),
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
                };
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_deref().unwrap_or_default());
            }
        });
        Self {
            port,
            files,
            requests,
        }
    }

    fn serve(&self, path: &str, content: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.into(), content.to_vec());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many times `path` was asked for since the last call.
    fn take_requests(&self, path: &str) -> usize {
        let mut requests = self.requests.lock().unwrap();
        let count = requests.iter().filter(|p| *p == path).count();
        requests.clear();
        count
    }
}

#[test]
fn add_downloads_urls_with_checksums_and_caches_by_content() {
    let Some(wharf) = setup() else { return };
    let server = FileServer::start();
    server.serve("/dl/tool.sh", b"echo tool v1\n");
    server.serve("/pinned.bin", b"pinned content");
    let archive = tar_of(&[("inside.txt".into(), b"x".to_vec())]);
    server.serve("/files.tar", &archive);
    let pinned = format!("sha256:{}", common::sha256(b"pinned content"));
    let dockerfile = format!(
        "FROM busybox\nARG TOOL={tool}\nADD $TOOL /opt/\nADD --checksum={pinned} --chmod=755 {bin} /usr/local/bin/pinned\nADD {tar} /archives/\nRUN cat /opt/tool.sh > /built.txt\n",
        tool = server.url("/dl/tool.sh"),
        bin = server.url("/pinned.bin"),
        tar = server.url("/files.tar"),
    );
    let context = Context::new(&[("Dockerfile", &dockerfile)]);
    build(&wharf, &context, &["-t", "fetched"]);
    // BuildKit's mode and the server's Last-Modified; --chmod wins; archives stay packed.
    assert_eq!(
        run_in(
            &wharf,
            "fetched",
            &[
                "stat",
                "-c",
                "%n %a %Y",
                "/opt/tool.sh",
                "/usr/local/bin/pinned",
                "/archives/files.tar"
            ]
        ),
        "/opt/tool.sh 600 1700000000\n/usr/local/bin/pinned 755 1700000000\n/archives/files.tar 600 1700000000\n"
    );
    assert_eq!(
        run_in(&wharf, "fetched", &["cat", "/built.txt"]),
        "echo tool v1\n"
    );
    assert_eq!(server.take_requests("/pinned.bin"), 1);

    // Unchanged: every step cached; URLs without a checksum are fetched to learn their
    // content, a pinned one is not fetched at all.
    let stderr = build(&wharf, &context, &["-t", "fetched"]);
    assert_eq!(stderr.matches("CACHED").count(), 4, "{stderr}");
    assert_eq!(server.take_requests("/pinned.bin"), 0);
    server.serve("/dl/tool.sh", b"echo tool v2\n");
    let stderr = build(&wharf, &context, &["-t", "fetched"]);
    assert_eq!(stderr.matches("CACHED").count(), 0, "{stderr}");
    assert_eq!(
        run_in(&wharf, "fetched", &["cat", "/built.txt"]),
        "echo tool v2\n"
    );
    assert!(steps_dir_is_empty(&wharf));

    // A wrong checksum, a missing file and a git URL fail naming the line; nothing is left.
    let wrong = format!("sha256:{}", "0".repeat(64));
    for (dockerfile, message) in [
        (
            format!(
                "FROM busybox\nADD --checksum={wrong} {} /x\n",
                server.url("/pinned.bin")
            ),
            format!("content has digest {pinned}, expected {wrong}"),
        ),
        (
            format!("FROM busybox\nADD {} /x\n", server.url("/missing")),
            "invalid response status 404".to_string(),
        ),
        (
            "FROM busybox\nADD https://example.com/repo.git#main /src\n".to_string(),
            "git sources are not supported".to_string(),
        ),
        (
            format!(
                "FROM busybox\nADD --checksum=md5:abc {} /x\n",
                server.url("/pinned.bin")
            ),
            "invalid ADD --checksum=md5:abc".to_string(),
        ),
    ] {
        context.write("Dockerfile", &dockerfile);
        let output = wharf.run(&["build", "--progress", "plain", "-t", "bad", context.path()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains("Dockerfile:2"), "{stderr}");
        assert!(stderr.contains(&message), "{message} in {stderr}");
    }
    assert!(wharf.fails(&["inspect", "bad"]).contains("no such"));
    assert!(steps_dir_is_empty(&wharf));
    assert!(no_mounts_under(wharf.path()));
    wharf.assert_consistent();
}

/// The media types of the layers of `image`'s stored manifest: the store keeps each layer
/// as tree and record, and knows it under the compressed form the manifest names.
fn layer_media_types(wharf: &Wharf, image: &str) -> Vec<String> {
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", image]);
    let index: Value =
        serde_json::from_slice(&fs::read(wharf.path().join("images/index.json")).unwrap()).unwrap();
    let manifest = index["images"][id.trim()]["manifest"].as_str().unwrap();
    let blob = wharf
        .path()
        .join("blobs/sha256")
        .join(manifest.trim_start_matches("sha256:"));
    let manifest: Value = serde_json::from_slice(&fs::read(blob).unwrap()).unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| layer["mediaType"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn output_compression_zstd_compresses_new_layers_and_force_converts_the_rest() {
    let Some(wharf) = setup() else { return };
    const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    let context = Context::new(&[("Dockerfile", "FROM busybox\nRUN echo zstd > /made.txt\n")]);
    build(
        &wharf,
        &context,
        &["-t", "z", "--output", "type=image,compression=zstd"],
    );
    let heads = layer_media_types(&wharf, "z");
    assert_eq!(heads.len(), 2);
    assert_ne!(
        heads[0], ZSTD,
        "the base layer (an imported tar) is kept as it is"
    );
    assert_eq!(heads[1], ZSTD, "the new layer is zstd");
    assert_eq!(run_in(&wharf, "z", &["cat", "/made.txt"]), "zstd\n");

    // force-compression converts the base layer too; the diff ids, so the image's
    // filesystem, stay the same.
    build(
        &wharf,
        &context,
        &[
            "--output",
            "type=image,name=forced,compression=zstd,force-compression=true",
        ],
    );
    assert!(layer_media_types(&wharf, "forced")
        .iter()
        .all(|h| h == ZSTD));
    assert_eq!(
        config(&wharf, "forced")["RootFS"],
        config(&wharf, "z")["RootFS"]
    );
    assert_eq!(run_in(&wharf, "forced", &["cat", "/made.txt"]), "zstd\n");

    // A bad --output names the flag and builds nothing.
    let output = wharf.run(&["build", "--output", "type=local,dest=out", context.path()]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("error: --output type=local,dest=out: output type `local` is not supported"),
        "{stderr}"
    );
    wharf.assert_consistent();
}

#[test]
fn copy_link_layers_are_reused_on_a_new_base() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[
        (
            "Dockerfile",
            "ARG BASE=one\nFROM busybox AS one\nRUN echo one > /base.txt\nFROM busybox AS two\nRUN echo two > /base.txt\nFROM $BASE\nCOPY --link --chown=nobody app.txt /app/\nRUN cat /base.txt /app/app.txt > /out.txt\n",
        ),
        ("app.txt", "app\n"),
    ]);
    build(&wharf, &context, &["-t", "on-one"]);
    let stderr = build(
        &wharf,
        &context,
        &["-t", "on-two", "--build-arg", "BASE=two"],
    );
    let copy_line = stderr
        .lines()
        .position(|l| l.contains("COPY --link"))
        .expect("the COPY step is shown");
    assert!(
        stderr
            .lines()
            .nth(copy_line + 1)
            .unwrap()
            .ends_with("CACHED"),
        "the linked copy is reused on the new base:\n{stderr}"
    );
    assert_eq!(run_in(&wharf, "on-two", &["cat", "/out.txt"]), "two\napp\n");
    assert_eq!(
        run_in(&wharf, "on-two", &["stat", "-c", "%U %a", "/app/app.txt"]),
        "nobody 644\n"
    );
    assert_eq!(run_in(&wharf, "on-one", &["cat", "/out.txt"]), "one\napp\n");
    // The same layer (diff id) under both images, on different layers below.
    let layers = |image: &str| config(&wharf, image)["RootFS"]["Layers"].clone();
    let (one, two) = (layers("on-one"), layers("on-two"));
    assert_eq!(one[2], two[2]);
    assert_ne!(one[1], two[1]);
    wharf.assert_consistent();
}

#[test]
fn cache_mounts_start_from_a_stage_and_private_ones_never_share_an_instance_in_use() {
    let Some(wharf) = setup() else { return };
    let context = Context::new(&[(
        "Dockerfile",
        "FROM busybox AS seed\nRUN mkdir /seed && echo seeded > /seed/file\nFROM busybox\nRUN --mount=type=cache,target=/cache,from=seed,source=/seed cat /cache/file > /first.txt && echo more >> /cache/file\nRUN --mount=type=cache,target=/cache,from=seed,source=/seed cat /cache/file > /second.txt\n",
    )]);
    build(&wharf, &context, &["-t", "seeded"]);
    assert_eq!(run_in(&wharf, "seeded", &["cat", "/first.txt"]), "seeded\n");
    assert_eq!(
        run_in(&wharf, "seeded", &["cat", "/second.txt"]),
        "seeded\nmore\n",
        "the cache persists between steps, and the stage is not changed"
    );

    // sharing=private: a step that finds the cache in use (here: locked by this test) gets
    // a fresh instance instead of waiting or sharing it.
    context.write(
        "Dockerfile",
        "FROM busybox\nRUN --mount=type=cache,id=p,target=/c,sharing=private touch /c/kept && ls /c > /seen.txt\n",
    );
    build(&wharf, &context, &["-t", "private"]);
    let instance = wharf
        .path()
        .join("build-cache/mounts")
        .join(common::sha256(b"p"));
    assert!(instance.join("kept").is_file());
    fs::remove_file(instance.join("kept")).unwrap();
    fs::write(instance.join("old"), "").unwrap();
    let held = fs::File::open(&instance).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    build(&wharf, &context, &["-t", "private", "--no-cache"]);
    assert_eq!(run_in(&wharf, "private", &["cat", "/seen.txt"]), "kept\n");
    drop(held);
    build(&wharf, &context, &["-t", "private", "--no-cache"]);
    assert_eq!(
        run_in(&wharf, "private", &["cat", "/seen.txt"]),
        "kept\nold\n",
        "free again, the first instance is used"
    );
    assert!(steps_dir_is_empty(&wharf));
    wharf.assert_consistent();
}
