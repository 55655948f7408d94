//! Escapes, named for the CVEs they reenact: each test runs the real attack through the real
//! `wharf` binary and then checks that nothing on the host changed. A host folder outside
//! the store (a marker file and folder with their own content, mode and owner, and a
//! host-only `passwd`/`group`) is the target of every attack; afterwards it must be exactly
//! as it was, and no `wharf-escaped` file may have appeared there or at `/` or `/tmp`.
//!
//! What the suite found, each fixed and kept as the regression: `cp` raced by a container
//! swapping a folder for a symlink to the host read the host's file (CVE-2018-15664; a
//! running container is now frozen while `cp`, compose secrets or `compose watch` resolve
//! and copy in it); `-u`/`USER` names were looked up in a host `/etc/passwd` reached through
//! an image's `/etc` symlink (now each layer is opened as its own root); a mount target
//! that is an image symlink to `/proc` covered the container's /proc (now refused, as runc
//! refuses any mount inside /proc).
//!
//! Layer tars with `..`, absolute names, hard links out of the layer and a symlink followed
//! by a write through it are in tests/hostile.rs (`import`) and tests/unpack.rs; ADD of such
//! a tar in a build is here.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{tarball, Entry, Wharf};

/// What an attack leaves behind when it works.
const ESCAPED: &str = "wharf-escaped";
const MARKER: &str = "host marker: never to be read or changed";

/// A host folder outside the store that attacks aim at.
struct Host {
    dir: tempfile::TempDir,
    before: Vec<(PathBuf, u32, u32, u32, Vec<u8>)>,
}

impl Host {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wharf-host-")
            .tempdir()
            .unwrap();
        let at = |rel: &str| dir.path().join(rel);
        fs::write(at("marker"), MARKER).unwrap();
        fs::create_dir(at("folder")).unwrap();
        fs::write(at("folder/inner"), MARKER).unwrap();
        // A user and a group that exist only here, never in an image.
        fs::write(at("passwd"), "hostonly:x:4242:4242::/:/bin/sh\n").unwrap();
        fs::write(at("group"), "hostgrp:x:4343:hostonly\n").unwrap();
        for (rel, mode) in [
            ("marker", 0o640),
            ("folder", 0o750),
            ("folder/inner", 0o600),
        ] {
            fs::set_permissions(at(rel), fs::Permissions::from_mode(mode)).unwrap();
            std::os::unix::fs::lchown(at(rel), Some(4321), Some(4321)).unwrap();
        }
        let mut host = Self {
            dir,
            before: Vec::new(),
        };
        host.before = host.snapshot();
        host
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The host folder as text, for scripts in containers and Dockerfiles.
    fn text(&self) -> String {
        self.path().display().to_string()
    }

    /// Every entry: path, mode, owner, and content (or link target).
    fn snapshot(&self) -> Vec<(PathBuf, u32, u32, u32, Vec<u8>)> {
        let mut entries = Vec::new();
        let mut pending = vec![self.path().to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let meta = fs::symlink_metadata(&path).unwrap();
                let content = if meta.is_dir() {
                    pending.push(path.clone());
                    Vec::new()
                } else if meta.file_type().is_symlink() {
                    fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    fs::read(&path).unwrap_or_default()
                };
                entries.push((path, meta.mode(), meta.uid(), meta.gid(), content));
            }
        }
        entries.sort();
        entries
    }

    /// Nothing changed in the host folder, and nothing escaped to `/` or `/tmp`.
    fn assert_untouched(&self, attack: &str) {
        let now = self.snapshot();
        assert!(
            now == self.before,
            "{attack}: the host folder changed:\nbefore: {:#?}\nafter: {now:#?}",
            self.before
        );
        for dir in [Path::new("/"), Path::new("/tmp")] {
            assert!(
                !dir.join(ESCAPED).exists(),
                "{attack}: {} appeared on the host",
                dir.join(ESCAPED).display()
            );
        }
    }
}

/// Whether a regular file at or under `path` (symlinks not followed: a copied symlink may
/// well point at the host's file) holds the marker.
fn holds_marker(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .unwrap()
            .flatten()
            .any(|entry| holds_marker(&entry.path())),
        Ok(meta) if meta.is_file() => fs::read_to_string(path).is_ok_and(|s| s.contains(MARKER)),
        _ => false,
    }
}

/// A file's sha256, through the system's `sha256sum`.
fn hash_of(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A build context in a temp folder, with a Dockerfile.
fn context(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("wharf-ctx-")
        .tempdir()
        .unwrap();
    fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    fs::write(dir.path().join(ESCAPED), "payload").unwrap();
    dir
}

fn build(wharf: &Wharf, tag: &str, dockerfile: &str) -> Output {
    let dir = context(dockerfile);
    wharf.run(&[
        "build",
        "--progress",
        "plain",
        "-t",
        tag,
        dir.path().to_str().unwrap(),
    ])
}

/// A build that must succeed (the attack is in what it makes).
fn built(wharf: &Wharf, tag: &str, dockerfile: &str) {
    let output = build(wharf, tag, dockerfile);
    assert!(output.status.success(), "build {tag}:\n{}", text(&output));
}

/// What the files `paths` of `image` hold (read in a container), for checking that no host
/// content made it into an image.
fn contents(wharf: &Wharf, image: &str, paths: &str) -> String {
    // Regular files only: a copied stage may hold devices and fifos that never end.
    let script = format!("find {paths} -type f 2>/dev/null | xargs cat 2>/dev/null; true");
    text(&wharf.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        image,
        "sh",
        "-c",
        &script,
    ]))
}

#[test]
fn cve_2019_5736_container_cannot_overwrite_the_runtime_binary() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    // Two copies of the binary: one starts the container (its monitor keeps it busy), the
    // other only execs into it, so nothing but protection keeps the container from writing
    // it once the exec is over.
    let bin = tempfile::tempdir().unwrap();
    let starter = bin.path().join("wharf-starter");
    let execer = bin.path().join("wharf-execer");
    for copy in [&starter, &execer] {
        fs::copy(env!("CARGO_BIN_EXE_wharf"), copy).unwrap();
    }
    let hashes = [hash_of(&starter), hash_of(&execer)];
    let with = |program: &Path, args: &[&str]| {
        wharf
            .host_command(program.to_str().unwrap())
            .args(args)
            .env("WHARF_ROOT", wharf.path())
            .env("WHARF_RUN", wharf.path().join("run"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // The attacker: /bin/evil runs /proc/self/exe of whoever execs it (the runtime, if it
    // execs from its own binary); any process whose executable is not busybox is opened,
    // and written through its fd as soon as the kernel lets it.
    let attacker = r#"
        printf '#!/proc/self/exe\n' > /bin/evil; chmod +x /bin/evil
        me=$(readlink /proc/self/exe)
        echo scanning
        while :; do
          for p in /proc/[0-9]*; do
            exe=$(readlink $p/exe 2>/dev/null) || continue
            [ -z "$exe" ] || [ "$exe" = "$me" ] && continue
            ( i=0; while [ $i -lt 300 ]; do
                echo PWNED 2>/dev/null >/proc/self/fd/3 && { echo "wrote $exe"; exit 0; }
                i=$((i+1)); done ) 3<$p/exe 2>/dev/null
          done
        done"#;
    let started = with(
        &starter,
        &[
            "run",
            "-d",
            "--name",
            "victim",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            attacker,
        ],
    );
    assert!(started.status.success(), "{}", text(&started));
    for _ in 0..15 {
        // Whether it runs (it must not run the runtime) or fails does not matter.
        let _ = with(&execer, &["exec", "victim", "/bin/evil"]);
        let _ = with(&execer, &["exec", "victim", "true"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let logs = wharf.ok(&["logs", "victim"]);
    assert_eq!(
        [hash_of(&starter), hash_of(&execer)],
        hashes,
        "the container overwrote the wharf binary:\n{logs}"
    );
    assert!(!logs.contains("wrote"), "{logs}");
    assert!(logs.contains("scanning"), "the attacker never ran: {logs}");
    host.assert_untouched("CVE-2019-5736");
    wharf.remove_all_containers_leaving_nothing();
}

/// What a container whose working folder is a leaked host fd would do: read and write the
/// host folder through `..`.
fn through_cwd(host: &Host) -> String {
    let up = "../".repeat(16);
    let at = host.text();
    format!(
        "cat {up}{at}/marker; echo x > {up}{at}/{ESCAPED}; echo x > {up}{ESCAPED}; \
         echo x > {up}tmp/{ESCAPED}; true"
    )
}

#[test]
fn cve_2024_21626_a_working_folder_or_volume_on_a_leaked_fd_does_not_reach_the_host() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let script = through_cwd(&host);
    for fd in 3..=12 {
        let workdir = format!("/proc/self/fd/{fd}");
        let output = wharf.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-w",
            &workdir,
            "busybox",
            "sh",
            "-c",
            &script,
        ]);
        assert!(
            !text(&output).contains(MARKER),
            "run -w {workdir}: {}",
            text(&output)
        );
        host.assert_untouched(&format!("run -w {workdir}"));
        // A volume there, its working folder too: refused, /proc being the kernel's.
        let volume = format!("leak:{workdir}");
        let output = wharf.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &volume,
            "-w",
            &workdir,
            "busybox",
            "sh",
            "-c",
            &script,
        ]);
        let said = text(&output);
        assert!(
            !output.status.success() && said.contains("inside /proc"),
            "-v {volume}: {said}"
        );
        host.assert_untouched(&format!("-v {volume}"));
    }
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "idle",
        "--network",
        "none",
        "busybox",
        "sleep",
        "600",
    ]);
    for fd in 3..=12 {
        let workdir = format!("/proc/self/fd/{fd}");
        let output = wharf.run(&["exec", "-w", &workdir, "idle", "sh", "-c", &script]);
        assert!(
            !text(&output).contains(MARKER),
            "exec -w {workdir}: {}",
            text(&output)
        );
        host.assert_untouched(&format!("exec -w {workdir}"));
    }
    for fd in [3, 5, 7, 8] {
        let dockerfile = format!(
            "FROM busybox\nWORKDIR /proc/self/fd/{fd}\nRUN {script}; cat {}{}/marker > /leak; true\n",
            "../".repeat(16),
            host.text()
        );
        let tag = format!("fd{fd}");
        let output = build(&wharf, &tag, &dockerfile);
        host.assert_untouched(&format!("WORKDIR /proc/self/fd/{fd}"));
        if output.status.success() {
            let leak = contents(&wharf, &tag, "/leak");
            assert!(!leak.contains(MARKER), "WORKDIR /proc/self/fd/{fd}: {leak}");
        }
    }
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn cve_2014_6407_passwd_and_group_linked_to_the_host_are_never_read() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    // /etc/passwd and /etc/group themselves, then the whole /etc, point at the host's.
    built(
        &wharf,
        "linked-files",
        &format!(
            "FROM busybox\nRUN rm -f /etc/passwd /etc/group && ln -s {at}/passwd /etc/passwd \
             && ln -s {at}/group /etc/group\n"
        ),
    );
    // (No container starts from linked-etc: the runtime refuses to mount /etc/hosts through
    // the symlink.) A RUN step cannot remove /etc (the runtime's files are mounted in it): a layer does.
    let (busybox, _) = common::fixture("busybox");
    let layers = [
        fs::read(busybox).unwrap(),
        tarball(&[Entry::Symlink("etc", &at)]),
    ];
    let env = r#","Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]"#;
    let archive = common::docker_save_archive(&layers, env, Some("linked-etc:latest"));
    common::assert_success(&wharf.run_with_stdin(&["load"], &archive), &["load"]);
    for image in ["linked-files", "linked-etc"] {
        for user in ["hostonly", "hostonly:hostgrp", "0:hostgrp"] {
            let output = wharf.run(&["run", "--rm", "--network", "none", "-u", user, image, "id"]);
            let said = text(&output);
            assert!(
                !said.contains("4242") && !said.contains("4343"),
                "run -u {user} {image} found the host's user: {said}"
            );
            assert!(
                !output.status.success() && said.contains("unable to find"),
                "run -u {user} {image}: {said}"
            );
        }
        let output = build(
            &wharf,
            &format!("{image}-user"),
            &format!("FROM {image}\nUSER hostonly\nRUN id -u > /uid\n"),
        );
        let said = text(&output);
        assert!(!output.status.success(), "USER hostonly on {image}: {said}");
        assert!(!said.contains("4242"), "{said}");
    }
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "idle",
        "--network",
        "none",
        "linked-files",
        "sleep",
        "600",
    ]);
    let said = text(&wharf.run(&["exec", "-u", "hostonly", "idle", "id"]));
    assert!(!said.contains("4242"), "exec -u hostonly: {said}");
    host.assert_untouched("CVE-2014-6407");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn cve_2019_14271_cp_both_ways_through_symlinks_stays_in_the_container() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    let setup = format!(
        "ln -s / /rootlink; ln -s {up} /up; ln -s {at} /hostlink; ln -s {at}/marker /secret; \
         mkdir -p /d; ln -s {at} /d/in; sleep 600",
        up = "../".repeat(16)
    );
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "target",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        &setup,
    ]);
    common::await_output(&wharf, &["exec", "target", "readlink", "/d/in"], &at);
    let payload_dir = tempfile::tempdir().unwrap();
    let payload = payload_dir.path().join(ESCAPED);
    fs::write(&payload, "payload").unwrap();
    let payload = payload.to_str().unwrap();
    for dest in [
        "target:/hostlink/".to_string(),
        format!("target:/hostlink/{ESCAPED}"),
        format!("target:/up{at}/"),
        format!("target:/up{at}/{ESCAPED}"),
        format!("target:/rootlink{at}/"),
        "target:/d/in/".to_string(),
        "target:/up/".to_string(),
        "target:/up/tmp/".to_string(),
    ] {
        let _ = wharf.run(&["cp", payload, &dest]);
        host.assert_untouched(&format!("cp {payload} {dest}"));
    }
    let out = tempfile::tempdir().unwrap();
    for (n, source) in [
        "target:/secret".to_string(),
        "target:/hostlink/marker".to_string(),
        format!("target:/up{at}/marker"),
        format!("target:/rootlink{at}/folder"),
        "target:/d/in/marker".to_string(),
    ]
    .iter()
    .enumerate()
    {
        for flags in [&[][..], &["-L"][..]] {
            let dest = out.path().join(format!("{n}{}", flags.len()));
            let mut args = vec!["cp"];
            args.extend_from_slice(flags);
            args.push(source);
            args.push(dest.to_str().unwrap());
            let _ = wharf.run(&args);
            assert!(!holds_marker(&dest), "cp {flags:?} {source} read the host");
        }
        let tar = wharf.run(&["cp", source, "-"]);
        assert!(
            !String::from_utf8_lossy(&tar.stdout).contains(MARKER),
            "cp {source} - read the host"
        );
    }
    host.assert_untouched("CVE-2019-14271");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn cve_2018_15664_cp_through_a_symlink_swapped_during_the_copy_stays_in_the_container() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    // /x is a folder with a file named like the host's marker, then a symlink to the host
    // folder, over and over.
    let swapper = format!(
        "while :; do mkdir -p /d; echo inside > /d/marker; rm -rf /x; mv /d /x; \
         rm -rf /x; ln -s {at} /x; done"
    );
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "target",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        &swapper,
    ]);
    let payload_dir = tempfile::tempdir().unwrap();
    let payload = payload_dir.path().join(ESCAPED);
    fs::write(&payload, "payload").unwrap();
    let out = tempfile::tempdir().unwrap();
    // Two copiers at once: they share the container's freeze, and the last one thaws it.
    let copied: Vec<[usize; 2]> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let (wharf, payload, out) = (&wharf, &payload, &out);
                scope.spawn(move || {
                    let mut copied = [0, 0];
                    for n in 0..75 {
                        let into = wharf.run(&["cp", payload.to_str().unwrap(), "target:/x/"]);
                        copied[0] += usize::from(into.status.success());
                        let dest = out.path().join(format!("{worker}-{n}"));
                        let from = wharf.run(&["cp", "target:/x/marker", dest.to_str().unwrap()]);
                        copied[1] += usize::from(from.status.success());
                        assert!(
                            !holds_marker(&dest),
                            "cp target:/x/marker read the host's marker"
                        );
                    }
                    copied
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let copied = [copied[0][0] + copied[1][0], copied[0][1] + copied[1][1]];
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Status}}", "target"])
            .trim(),
        "running",
        "the copies left the container frozen"
    );
    host.assert_untouched("CVE-2018-15664");
    // The race is real only if the copies went through now and then.
    assert!(
        copied[0] > 0 && copied[1] > 0,
        "no copy ever went through: {copied:?}"
    );
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn buildkit_copy_and_add_through_symlinks_and_dotdot_stay_in_the_build() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    let up = "../".repeat(16);
    let stage = format!(
        "FROM busybox AS s\nRUN ln -s / /rootlink && ln -s {up} /up && ln -s {at} /hostlink \
         && ln -s {at}/marker /secret\n"
    );
    let cases = [
        // Sources through the context's symlinks and `..`.
        "FROM busybox\nCOPY link/marker /got\n".to_string(),
        "FROM busybox\nCOPY secretlink /got\n".to_string(),
        format!("FROM busybox\nCOPY {up}{at}/marker /got\n"),
        "FROM busybox\nCOPY link/ /got/\n".to_string(),
        "FROM busybox\nADD link/marker /got\n".to_string(),
        // Sources through another stage's symlinks.
        format!("{stage}FROM busybox\nCOPY --from=s /rootlink{at}/marker /got\n"),
        format!("{stage}FROM busybox\nCOPY --from=s /up{at}/marker /got\n"),
        format!("{stage}FROM busybox\nCOPY --from=s /hostlink/ /got/\n"),
        format!("{stage}FROM busybox\nCOPY --from=s /hostlink/marker /got\n"),
        format!("{stage}FROM busybox\nCOPY --from=s /secret /got\n"),
        format!("{stage}FROM busybox\nCOPY --from=s /up/ /got/\n"),
        // Destinations through the image's symlinks.
        format!("FROM busybox\nRUN ln -s {at} /dst\nCOPY {ESCAPED} /dst/\n"),
        format!("FROM busybox\nRUN ln -s {up} /dst\nCOPY {ESCAPED} /dst{at}/\n"),
        format!("FROM busybox\nRUN ln -s {at}/marker /dst\nCOPY {ESCAPED} /dst\n"),
        format!("FROM busybox\nRUN ln -s {at} /dst\nWORKDIR /dst/{ESCAPED}\n"),
        // Tars unpacked by ADD.
        "FROM busybox\nADD evil-dotdot.tar /\n".to_string(),
        "FROM busybox\nADD evil-link.tar /\n".to_string(),
        "FROM busybox\nADD evil-link.tar /sub/\n".to_string(),
        "FROM busybox\nADD evil-hardlink.tar /\n".to_string(),
    ];
    let dotdot_name = format!("{up}{}/{ESCAPED}", at.trim_start_matches('/'));
    let evil = [
        (
            "evil-dotdot.tar",
            tarball(&[
                Entry::File(&dotdot_name, b"pwned", 0o644),
                Entry::File(&format!("{at}/{ESCAPED}"), b"pwned", 0o644),
            ]),
        ),
        (
            "evil-link.tar",
            tarball(&[
                Entry::Symlink("l", &at),
                Entry::File(&format!("l/{ESCAPED}"), b"pwned", 0o644),
                Entry::Symlink("m", &format!("{at}/marker")),
                Entry::File("m", b"pwned", 0o644),
            ]),
        ),
        (
            "evil-hardlink.tar",
            tarball(&[
                Entry::HardLink("h", &format!("{at}/marker")),
                Entry::HardLink("i", &format!("{up}{}/marker", at.trim_start_matches('/'))),
            ]),
        ),
    ];
    for (n, dockerfile) in cases.iter().enumerate() {
        let dir = context(dockerfile);
        std::os::unix::fs::symlink(&at, dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(format!("{at}/marker"), dir.path().join("secretlink")).unwrap();
        for (name, tar) in &evil {
            fs::write(dir.path().join(name), tar).unwrap();
        }
        let tag = format!("case{n}");
        let output = wharf.run(&["build", "-t", &tag, dir.path().to_str().unwrap()]);
        host.assert_untouched(dockerfile);
        if output.status.success() {
            let seen = contents(&wharf, &tag, "/got /h /i /m /l");
            assert!(
                !seen.contains(MARKER),
                "{dockerfile}: the image holds the host's marker"
            );
        }
    }
    wharf.assert_consistent();
}

#[test]
fn cve_2024_23651_a_cache_mount_raced_by_a_concurrent_step_stays_in_the_cache() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    // One step swaps a folder of the shared cache for a symlink to the host, over and over;
    // the other mounts a second cache under that folder and writes and reads through it.
    let swapper = format!(
        "FROM busybox\nRUN --mount=type=cache,id=shared,target=/cache,sharing=shared \
         i=0; while [ $i -lt 4000 ]; do mkdir -p /cache/sub; rm -rf /cache/sub; \
         ln -s {at} /cache/sub; rm -f /cache/sub; i=$((i+1)); done\n"
    );
    let victim = |n: usize| {
        format!(
            "FROM busybox\nRUN --mount=type=cache,id=shared,target=/c,sharing=shared \
             --mount=type=cache,id=other,target=/c/sub/deep \
             echo {n} > /n; echo x > /c/sub/{ESCAPED}; cat /c/sub/marker > /leak; \
             echo x > /c/sub/deep/{ESCAPED}; true\n"
        )
    };
    std::thread::scope(|scope| {
        let racer = scope.spawn(|| build(&wharf, "swapper", &swapper));
        for n in 0..6 {
            let tag = format!("victim{n}");
            let output = build(&wharf, &tag, &victim(n));
            if output.status.success() {
                let leak = contents(&wharf, &tag, "/leak");
                assert!(!leak.contains(MARKER), "the step read the host: {leak}");
            }
            host.assert_untouched("a step beside a swapping one");
        }
        let output = racer.join().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    });
    host.assert_untouched("CVE-2024-23651");
    wharf.assert_consistent();
}

#[test]
fn cve_2021_30465_mount_targets_through_symlinks_stay_in_the_container() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    built(
        &wharf,
        "targets",
        &format!(
            "FROM busybox\nRUN ln -s {at} /data && ln -s / /rootlink && ln -s /proc /p \
             && ln -s {} /up\n",
            "../".repeat(16)
        ),
    );
    let source = tempfile::tempdir().unwrap();
    let source = source.path().to_str().unwrap().to_owned();
    for mount in [
        "vol:/data".to_string(),
        format!("{source}:/data"),
        format!("{source}:/data/folder"),
        format!("vol:/up{at}"),
        format!("vol:/rootlink{at}/folder"),
    ] {
        let _ = wharf.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &mount,
            "targets",
            "sh",
            "-c",
            &format!("touch /data/{ESCAPED} /data/folder/{ESCAPED} 2>/dev/null; true"),
        ]);
        host.assert_untouched(&format!("-v {mount}"));
    }
    // A mount over /proc would let a container fake what the runtime reads and writes there
    // (CVE-2019-19921): refused, as runc does, also through the image's symlinks.
    for target in ["/p", "/rootlink/proc"] {
        let mount = format!("{source}:{target}");
        let output = wharf.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &mount,
            "targets",
            "cat",
            "/proc/self/stat",
        ]);
        assert!(
            !output.status.success() && text(&output).contains("inside /proc"),
            "-v {mount}: {}",
            text(&output)
        );
    }
    // The race: a container swaps a folder of a shared volume for a symlink to the host
    // while other containers mount something under that folder.
    let swapper = format!(
        "while :; do mkdir -p /v/sub; rm -rf /v/sub; ln -s {at} /v/sub; rm -f /v/sub; done"
    );
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "swapper",
        "--network",
        "none",
        "-v",
        "shared:/v",
        "busybox",
        "sh",
        "-c",
        &swapper,
    ]);
    let deep = format!("{source}:/v/sub/deep");
    for _ in 0..25 {
        let _ = wharf.run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "shared:/v",
            "-v",
            &deep,
            "busybox",
            "sh",
            "-c",
            &format!("touch /v/sub/deep/{ESCAPED}; true"),
        ]);
        host.assert_untouched("a mount raced by a swapping container");
    }
    host.assert_untouched("CVE-2021-30465");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn compose_secrets_and_configs_through_symlinks_stay_in_the_container() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    built(
        &wharf,
        "linked-targets",
        &format!(
            "FROM busybox\nRUN mkdir -p /run && ln -s {at} /run/secrets && ln -s {at} /cfg \
             && ln -s {at}/marker /etc/app.conf\n"
        ),
    );
    let project = tempfile::tempdir().unwrap();
    fs::write(project.path().join("token"), "secret-token").unwrap();
    let file = project.path().join("compose.yaml");
    let file = file.to_str().unwrap();
    let compose = |args: &[&str]| {
        let mut all = vec!["compose", "-f", file, "-p", "esc"];
        all.extend_from_slice(args);
        wharf.run(&all)
    };
    // Written into the container through `cp`'s path: it must start, the files inside.
    let targets = format!(
        "secrets: [token, {{source: token, target: {ESCAPED}}}]
    configs: [{{source: settings, target: /cfg/{ESCAPED}}}, {{source: settings, target: /etc/app.conf}}, {{source: settings, target: /cfg/folder/inner}}]"
    );
    let written = format!(
        "services:\n  s:\n    image: linked-targets\n    network_mode: none\n    command: sleep 600\n    {targets}\n\
         secrets:\n  token: {{environment: TOKEN}}\nconfigs:\n  settings: {{content: settings}}\n"
    );
    fs::write(file, written).unwrap();
    let up = wharf
        .command(&["compose", "-f", file, "-p", "esc", "up", "-d"])
        .env("TOKEN", "secret-token")
        .output()
        .unwrap();
    host.assert_untouched("compose secrets and configs written in");
    assert!(up.status.success(), "{}", text(&up));
    let seen = wharf.ok(&[
        "exec",
        "esc-s-1",
        "cat",
        "/run/secrets/token",
        "/etc/app.conf",
        &format!("{at}/{ESCAPED}"),
        &format!("{at}/folder/inner"),
    ]);
    assert_eq!(seen, "secret-tokensettingssettingssettings");
    assert!(compose(&["down", "-t", "0"]).status.success());
    // Bind-mounted from files: refused (the runtime will not mount through the symlink)
    // or inside the container, never on the host.
    let mounted = format!(
        "services:\n  s:\n    image: linked-targets\n    network_mode: none\n    command: sleep 600\n    {targets}\n\
         secrets:\n  token: {{file: ./token}}\nconfigs:\n  settings: {{file: ./token}}\n"
    );
    fs::write(file, mounted).unwrap();
    let up = compose(&["up", "-d"]);
    host.assert_untouched("compose secrets and configs mounted");
    if up.status.success() {
        let seen = text(&wharf.run(&["exec", "esc-s-1", "cat", "/etc/app.conf"]));
        assert!(!seen.contains(MARKER), "{seen}");
    }
    let _ = compose(&["down", "-t", "0"]);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn compose_watch_sync_through_symlinks_and_a_swapping_container_stays_in_the_container() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let host = Host::new();
    let at = host.text();
    // /app is the host folder's path; /w/sub is swapped between a folder and a symlink
    // to it, over and over, while the watcher syncs into both.
    built(
        &wharf,
        "watched",
        &format!("FROM busybox\nRUN ln -s {at} /app && mkdir /w\n"),
    );
    let project = common::compose::ComposeProject {
        wharf,
        dir: tempfile::tempdir().unwrap(),
    };
    let swapper = format!(
        "while :; do mkdir -p /w/sub; rm -rf /w/sub; ln -s {at} /w/sub; rm -f /w/sub; done"
    );
    project.write(&format!(
        r#"
name: wesc
services:
  web:
    image: watched
    network_mode: none
    command: [sh, -c, "{swapper}"]
    develop:
      watch:
        - {{path: ./src, action: sync, target: /app}}
        - {{path: ./src, action: sync, target: /w/sub}}
        - {{path: ./src, action: sync, target: /app/folder}}
"#
    ));
    let src = project.path().join("src");
    fs::create_dir(&src).unwrap();
    let mut watch = common::compose::Watching::start(&project, &["watch"]);
    watch.wait_for("Watch enabled");
    for round in 0..10 {
        // A file named like the host's, then its deletion: neither may reach the host.
        watch.at_once(|| {
            fs::write(src.join(ESCAPED), format!("round {round}")).unwrap();
            fs::write(src.join("marker"), "synced").unwrap();
            fs::write(src.join("inner"), "synced").unwrap();
        });
        watch.wait_for("Syncing service \"web\"");
        host.assert_untouched("compose watch sync");
        watch.at_once(|| {
            fs::remove_file(src.join("marker")).unwrap();
            fs::remove_file(src.join("inner")).unwrap();
        });
        watch.wait_for("Syncing service \"web\"");
        host.assert_untouched("compose watch sync of a deletion");
    }
    assert!(watch.interrupt().success());
    // The files went into the container's own folder of that name.
    let seen = project
        .wharf
        .ok(&["exec", "wesc-web-1", "cat", &format!("{at}/{ESCAPED}")]);
    assert_eq!(seen, "round 9");
    project.ok(&["down", "-t", "0"]);
    host.assert_untouched("compose watch");
    project.wharf.remove_all_containers_leaving_nothing();
}
