//! `pull`, `push`, `login`, `logout` and `run`'s automatic pull against Debian's real
//! `docker-registry` (the CNCF distribution server) started on loopback for each test.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::registry::Registry;
use common::Wharf;

/// A store with the busybox fixture, tagged and pushed as each of `names`.
fn pushed_busybox(names: &[&str]) -> Wharf {
    let wharf = Wharf::new();
    wharf.import_busybox();
    for name in names {
        tag_and_push(&wharf, name);
    }
    wharf
}

fn tag_and_push(wharf: &Wharf, name: &str) {
    wharf.ok(&["tag", "busybox", name]);
    wharf.ok(&["push", name]);
}

#[test]
fn push_then_pull_into_another_store_and_run() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let source = Wharf::new();
    let id = source.import_busybox();
    let name = format!("{}/tools/bb:1", registry.address);
    source.ok(&["tag", "busybox", &name]);
    let pushed = source.ok(&["push", &name]);
    assert!(
        pushed.contains(": Pushed") && pushed.contains("1: digest: sha256:"),
        "{pushed}"
    );
    let again = source.ok(&["push", &name]);
    assert!(
        again.contains(": Layer already exists") && !again.contains(": Pushed"),
        "{again}"
    );

    let target = Wharf::new();
    let pulled = target.ok(&["pull", &name]);
    assert!(
        pulled.contains("Status: Downloaded newer image for")
            && pulled.ends_with(&format!("{name}\n")),
        "{pulled}"
    );
    assert_eq!(target.ok(&["inspect", "-f", "{{.Id}}", &name]).trim(), id);
    assert!(target.ok(&["pull", &name]).contains("Image is up to date"));
    target.assert_consistent();

    // `run` pulls what is missing, with the pull's lines on stderr.
    let fresh = Wharf::new();
    // In the host's namespace (the registry is on its loopback): no bridge to leave behind.
    let output = fresh.run(&["run", "--rm", "--network", "none", &name, "echo", "ran"]);
    common::assert_success(&output, &["run"]);
    assert_eq!(common::stdout(&output), "ran\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Unable to find image"));
    let never = Wharf::new().run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pull",
        "never",
        &name,
        "true",
    ]);
    assert_eq!(never.status.code(), Some(125));

    let unknown = target.fails(&["pull", &format!("{}/tools/nope:1", registry.address)]);
    assert!(
        unknown.starts_with("error: ") && unknown.contains("tools/nope"),
        "{unknown}"
    );
}

#[test]
fn a_mirror_serves_docker_hub_names() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let mirrored = format!("{}/library/busybox:latest", registry.address);
    let _source = pushed_busybox(&[&mirrored]);
    let target = Wharf::new();
    let output = target
        .command(&["pull", "busybox"])
        .env(
            "WHARF_REGISTRY_MIRRORS",
            format!("http://{}", registry.address),
        )
        .output()
        .unwrap();
    common::assert_success(&output, &["pull busybox"]);
    assert!(common::stdout(&output).ends_with("docker.io/library/busybox:latest\n"));
    assert_eq!(
        target
            .ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .trim(),
        "busybox:latest"
    );
}

#[test]
fn login_checks_credentials_and_stores_them_for_push() {
    let Some(registry) = Registry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let wharf = Wharf::new();
    wharf.import_busybox();
    let name = format!("{}/private/bb:1", registry.address);
    wharf.ok(&["tag", "busybox", &name]);
    let with_home = |args: &[&str], stdin: &[u8]| {
        let mut child = wharf
            .command(args)
            .env("HOME", home.path())
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap()
    };
    let anonymous = with_home(&["push", &name], b"");
    assert!(!anonymous.status.success());
    assert!(
        String::from_utf8_lossy(&anonymous.stderr).contains("wharf login"),
        "{}",
        String::from_utf8_lossy(&anonymous.stderr)
    );
    let wrong = with_home(
        &[
            "login",
            "-u",
            "alice",
            "--password-stdin",
            &registry.address,
        ],
        b"wrong\n",
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("hint:"));
    let right = with_home(
        &[
            "login",
            "-u",
            "alice",
            "--password-stdin",
            &registry.address,
        ],
        b"s3cret\n",
    );
    assert_eq!(
        common::stdout(&right),
        "Login Succeeded\n",
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    let config = std::fs::read_to_string(home.path().join(".docker/config.json")).unwrap();
    assert!(
        config.contains(&registry.address),
        "credentials are stored where Docker keeps them"
    );
    common::assert_success(&with_home(&["push", &name], b""), &["push"]);
    assert!(
        common::stdout(&with_home(&["logout", &registry.address], b""))
            .starts_with("Removing login credentials")
    );
    assert!(
        !with_home(&["push", &name], b"").status.success(),
        "logged out again"
    );
}

#[test]
fn docker_pulls_what_wharf_pushes_and_wharf_pulls_what_docker_pushes() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let start = Command::new(common::repo_root().join("scripts/dockerd.sh"))
        .arg("start")
        .output()
        .unwrap();
    if !start.status.success() {
        common::skip(&format!(
            "docker interop: {}",
            String::from_utf8_lossy(&start.stderr).trim()
        ));
        return;
    }
    let docker = |args: &[&str]| {
        let output = Command::new("/usr/bin/docker").args(args).output().unwrap();
        assert!(
            output.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        common::stdout(&output)
    };
    let wharf = Wharf::new();
    wharf.import_busybox();
    let from_wharf = format!(
        "{}/interop/from-wharf:{}",
        registry.address,
        std::process::id()
    );
    let from_docker = format!(
        "{}/interop/from-docker:{}",
        registry.address,
        std::process::id()
    );
    wharf.ok(&["tag", "busybox", &from_wharf]);
    wharf.ok(&["push", &from_wharf]);
    docker(&["pull", "-q", &from_wharf]);
    assert_eq!(
        docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            &from_wharf,
            "echo",
            "hi"
        ]),
        "hi\n"
    );
    docker(&["tag", &from_wharf, &from_docker]);
    docker(&["push", &from_docker]);
    docker(&["rmi", "-f", &from_wharf, &from_docker]);
    let target = Wharf::new();
    target.ok(&["pull", &from_docker]);
    assert_eq!(
        target.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            &from_docker,
            "echo",
            "back"
        ]),
        "back\n"
    );
}

#[test]
fn ctrl_c_at_the_password_prompt_gives_the_terminal_its_echo_back() {
    let wharf = Wharf::new();
    let home = tempfile::tempdir().unwrap();
    // The shell runs a trap (not an ignore, which wharf would inherit) so that it lives on
    // after Ctrl-C to show wharf's exit code and the terminal's modes.
    let line = format!(
        "trap true INT; {} login -u alice 127.0.0.1:9; echo code=$?; stty -a",
        env!("CARGO_BIN_EXE_wharf")
    );
    let (_, screen) = shell_on_terminal(&wharf, &line, home.path(), &[("Password: ", "\u{3}")]);
    let screen = screen.replace('\r', "");
    assert!(screen.contains("code=130"), "ended by SIGINT: {screen}");
    let modes: Vec<&str> = screen.split_whitespace().collect();
    assert!(
        modes.contains(&"echo") && !modes.contains(&"-echo"),
        "echo is on again: {screen}"
    );
}

/// Runs wharf with a pseudo-terminal as stdin, stdout and stderr (through util-linux
/// `script`). For each `(prompt, answer)`, waits until the terminal shows `prompt`, then types
/// `answer`. Returns whether wharf succeeded and everything the terminal showed.
fn on_terminal(
    wharf: &Wharf,
    args: &[&str],
    home: &Path,
    dialogue: &[(&str, &str)],
) -> (bool, String) {
    let line = std::iter::once(env!("CARGO_BIN_EXE_wharf"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    shell_on_terminal(wharf, &line, home, dialogue)
}

/// [`on_terminal`] for a shell command `line` (which runs wharf with the test's state).
fn shell_on_terminal(
    wharf: &Wharf,
    line: &str,
    home: &Path,
    dialogue: &[(&str, &str)],
) -> (bool, String) {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let mut child = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .env("WHARF_ROOT", wharf.path())
        .env("WHARF_RUN", wharf.path().join("run"))
        .env("HOME", home)
        .env_remove("DOCKER_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script runs");
    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let screen = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buffer) {
                screen.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        })
    };
    let mut stdin = child.stdin.take().unwrap();
    let shown = || String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    let mut seen = 0;
    for (prompt, answer) in dialogue {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !shown()[seen..].contains(prompt) {
            assert!(Instant::now() < deadline, "no {prompt:?} on: {}", shown());
            std::thread::sleep(Duration::from_millis(10));
        }
        seen = shown().len();
        stdin.write_all(answer.as_bytes()).unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    (status.success(), shown())
}

#[test]
fn pull_all_tags_and_repo_digests() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let source = Wharf::new();
    source.import_busybox();
    let repository = format!("{}/tools/multi", registry.address);
    // Tag 3 is another image on the same layer.
    let (tar, _) = common::fixture("busybox");
    let other = format!("{repository}:3");
    source.ok(&[
        "import",
        "--change",
        "CMD [\"sh\"]",
        &tar.display().to_string(),
        &other,
    ]);
    source.ok(&["push", &other]);
    for tag in ["1", "2"] {
        tag_and_push(&source, &format!("{repository}:{tag}"));
    }
    // Pushing recorded what the registry calls the image.
    let pushed_digests = source.ok(&["inspect", "-f", "{{json .RepoDigests}}", "busybox"]);
    assert!(
        pushed_digests.contains(&format!("\"{repository}@sha256:")),
        "{pushed_digests}"
    );

    let target = Wharf::new();
    let tagged = format!("{repository}:1");
    let refused = target.fails(&["pull", "-a", &tagged]);
    assert!(
        refused.starts_with("error: --all-tags") && refused.contains("give the repository alone"),
        "{refused}"
    );
    let pulled = target.ok(&["pull", "-a", &repository]);
    for tag in ["1", "2", "3"] {
        assert!(
            pulled.contains(&format!("{tag}: Pulling from tools/multi")),
            "{pulled}"
        );
        assert_eq!(
            target
                .ok(&["images", "-q", &format!("{repository}:{tag}")])
                .trim()
                .len(),
            12,
            "{repository}:{tag} is in the store"
        );
    }
    assert!(pulled.ends_with(&format!("{repository}\n")), "{pulled}");
    assert!(
        pulled.contains("Already exists"),
        "later tags share the layers: {pulled}"
    );

    // The digest printed by the pull is the image's repo digest, and names it.
    let digest = pulled
        .lines()
        .skip_while(|l| !l.starts_with("1: Pulling"))
        .find_map(|l| l.strip_prefix("Digest: "))
        .expect("a Digest line")
        .to_string();
    let repo_digest = format!("{repository}@{digest}");
    assert_eq!(
        target
            .ok(&["inspect", "-f", "{{json .RepoDigests}}", &tagged])
            .trim(),
        format!("[\"{repo_digest}\"]")
    );
    assert_eq!(
        target.ok(&["inspect", "-f", "{{.Id}}", &repo_digest]),
        target.ok(&["inspect", "-f", "{{.Id}}", &tagged])
    );

    // `images --digests`: the digest its repository knows it by; another name of it has none.
    let listed = target.ok(&["images", "--digests", &tagged]);
    let header: Vec<&str> = listed.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header[..4],
        ["REPOSITORY", "TAG", "DIGEST", "IMAGE"],
        "{listed}"
    );
    assert!(listed.lines().nth(1).unwrap().contains(&digest), "{listed}");
    target.ok(&["tag", &tagged, "local/copy:1"]);
    assert_eq!(
        target.ok(&["images", "--format", "{{.Tag}} {{.Digest}}", "local/copy"]),
        "1 <none>\n"
    );
    assert!(!target.ok(&["images", "local/copy"]).contains("DIGEST"));
    target.assert_consistent();
}

#[test]
fn push_compresses_layers_and_mounts_from_the_source_repository() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let base = format!("{}/team/base:1", registry.address);
    let source = pushed_busybox(&[&base]);
    let manifest = Command::new("curl")
        .args([
            "-sf",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            &format!("http://{}/v2/team/base/manifests/1", registry.address),
        ])
        .output()
        .unwrap();
    let manifest = String::from_utf8_lossy(&manifest.stdout);
    assert!(
        manifest.contains("application/vnd.oci.image.layer.v1.tar+gzip")
            && !manifest.contains("layer.v1.tar\""),
        "imported (uncompressed) layers go up gzip-compressed: {manifest}"
    );

    // Another store pulls it, then pushes it to another repository: the registry mounts
    // the layers instead of receiving them again.
    let other = Wharf::new();
    other.ok(&["pull", &base]);
    let derived = format!("{}/team/derived:1", registry.address);
    other.ok(&["tag", &base, &derived]);
    let pushed = other.ok(&["push", &derived]);
    assert!(pushed.contains(": Mounted from team/base"), "{pushed}");
    assert!(!pushed.contains(": Pushed"), "{pushed}");
    let fresh = Wharf::new();
    fresh.ok(&["pull", &derived]);
    assert_eq!(
        fresh.ok(&["inspect", "-f", "{{.Id}}", &derived]),
        source.ok(&["inspect", "-f", "{{.Id}}", "busybox"])
    );
    fresh.assert_consistent();
}

#[test]
fn progress_bars_and_password_prompt_on_a_terminal() {
    let Some(registry) = Registry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let wharf = Wharf::new();
    wharf.import_busybox();

    // No terminal and no password: refused, pointing at --password-stdin.
    let no_terminal = wharf.fails(&["login", "-u", "alice", &registry.address]);
    assert!(
        no_terminal.contains("error: no password given")
            && no_terminal.contains("--password-stdin"),
        "{no_terminal}"
    );
    // On a terminal wharf asks, and the password is not echoed.
    let (ok, screen) = on_terminal(
        &wharf,
        &["login", &registry.address],
        home.path(),
        &[("Username: ", "alice\n"), ("Password: ", "s3cret\n")],
    );
    assert!(
        ok && screen.contains("Password:") && screen.contains("Login Succeeded"),
        "{screen}"
    );
    assert!(
        screen.contains("alice"),
        "the user name is echoed: {screen}"
    );
    assert!(
        !screen.contains("s3cret"),
        "the password is not echoed: {screen}"
    );

    let name = format!("{}/private/bb:1", registry.address);
    wharf.ok(&["tag", "busybox", &name]);
    let (ok, screen) = on_terminal(&wharf, &["push", &name], home.path(), &[]);
    assert!(
        ok && screen.contains(": Pushed") && screen.contains("\u{1b}["),
        "{screen}"
    );

    let puller = Wharf::new();
    let (ok, screen) = on_terminal(&puller, &["pull", &name], home.path(), &[]);
    assert!(ok && screen.contains(": Pull complete"), "{screen}");
    let (ok, screen) = on_terminal(&puller, &["pull", "-q", &name], home.path(), &[]);
    assert_eq!(
        (ok, screen.trim()),
        (true, name.as_str()),
        "-q prints only the reference"
    );
}
