//! Errors of container start and exec that people understand: each names the command, path,
//! user, device or limit at fault, in Docker's words where users know them, exits with
//! Docker's code (125 engine error, 126 cannot run, 127 not found; `exec`: 126 for any
//! process that could not start), carries none of the runtime library's text, and leaves
//! nothing behind. Docker's messages quoted below are Docker 28.2's (Debian's docker.io),
//! whose runc and CLI say the same as 20.10's for these.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use common::{wharf_with_busybox, Wharf};

/// libcontainer's own words, which no error may show.
const RUNTIME_TEXT: [&str; 4] = [
    "error in executing process",
    "unix syscall",
    "exec process failed",
    "libcontainer",
];

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// Runs `args` and checks that it fails with `code` and an error naming each of `names`,
/// without the runtime library's text. Returns stderr.
fn fails_with(wharf: &Wharf, args: &[&str], code_wanted: i32, names: &[&str]) -> String {
    let output = wharf.run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(code(&output), code_wanted, "wharf {args:?}:\n{stderr}");
    assert!(stderr.starts_with("error: "), "wharf {args:?}:\n{stderr}");
    for name in names {
        assert!(
            stderr.contains(name),
            "wharf {args:?} should name {name}:\n{stderr}"
        );
    }
    for text in RUNTIME_TEXT {
        assert!(
            !stderr.contains(text),
            "wharf {args:?} leaks `{text}`:\n{stderr}"
        );
    }
    stderr
}

/// No container is left, nor anything of one: mounts, processes, cgroups, veths.
fn assert_nothing_left(wharf: &Wharf) {
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    assert_no_veth(wharf);
}

/// The container ended: no mount, process, cgroup or veth of it remains (its record may).
fn assert_no_veth(wharf: &Wharf) {
    let links = wharf
        .host_command("ip")
        .args(["-o", "link", "show", "type", "veth"])
        .output()
        .expect("ip runs");
    assert_eq!(common::stdout(&links), "", "veths left behind");
    wharf.assert_nothing_leaked(&[]);
}

/// `run` without `--rm` leaves the container created, as Docker does, with the exit code and
/// the error in its state; `rm` then leaves nothing.
fn assert_left_created(wharf: &Wharf, name: &str, code_wanted: i32, error: &str) {
    let state = wharf.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
        name,
    ]);
    assert!(
        state.starts_with(&format!("created {code_wanted} ")) && state.contains(error),
        "{state}"
    );
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", name]);
    wharf.ok(&["rm", name]);
    wharf.assert_nothing_leaked(&[id.trim().to_string()]);
}

#[test]
fn commands_that_cannot_run_are_named_with_dockers_codes() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // Docker: `exec: "nope": executable file not found in $PATH`, 127.
    fails_with(
        &wharf,
        &["run", "--rm", "busybox", "nope"],
        127,
        &["exec: \"nope\": executable file not found in $PATH"],
    );
    // Docker: `exec: "/nope": stat /nope: no such file or directory`, 127.
    fails_with(
        &wharf,
        &["run", "--rm", "busybox", "/nope"],
        127,
        &["exec: \"/nope\": stat /nope: no such file or directory"],
    );
    // Docker: `exec: "/etc": permission denied`, 126.
    fails_with(
        &wharf,
        &["run", "--rm", "busybox", "/etc"],
        126,
        &["/etc is a directory"],
    );
    // Docker: `exec: "/etc/passwd": permission denied`, 126.
    fails_with(
        &wharf,
        &["run", "--rm", "busybox", "/etc/passwd"],
        126,
        &["permission denied: /etc/passwd is not executable"],
    );
    // Behind --init, the user's command is checked, not only tini.
    if tini_installed() {
        fails_with(
            &wharf,
            &["run", "--rm", "--init", "busybox", "nope"],
            127,
            &["exec: \"nope\": executable file not found in $PATH"],
        );
    } else {
        common::skip("run --init needs Debian's tini (/usr/bin/tini-static)");
    }
    assert_nothing_left(&wharf);

    // Without --rm the container stays, created (Docker: `Created`, exit code 127).
    fails_with(
        &wharf,
        &["run", "--name", "kept", "busybox", "nope"],
        127,
        &["nope"],
    );
    assert_no_veth(&wharf);
    // Docker's `wait` returns at once for a container that is not running.
    assert_eq!(wharf.ok(&["wait", "kept"]), "127\n");
    // `start` says it again (Docker's `start` exits 1).
    fails_with(
        &wharf,
        &["start", "kept"],
        1,
        &["exec: \"nope\": executable file not found"],
    );
    assert_left_created(&wharf, "kept", 127, "executable file not found in $PATH");

    // `exec`: Docker exits 126 whatever the reason, with the same words.
    wharf.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    fails_with(
        &wharf,
        &["exec", "box", "nope"],
        126,
        &["exec: \"nope\": executable file not found in $PATH"],
    );
    fails_with(
        &wharf,
        &["exec", "box", "/etc"],
        126,
        &["/etc is a directory"],
    );
    fails_with(
        &wharf,
        &["exec", "box", "/etc/passwd"],
        126,
        &["/etc/passwd is not executable"],
    );
    assert_eq!(code(&wharf.run(&["exec", "box", "sh", "-c", "exit 7"])), 7);
    wharf.remove_all_containers_leaving_nothing();
    assert_no_veth(&wharf);
}

fn tini_installed() -> bool {
    std::path::Path::new("/usr/bin/tini-static").exists()
}

#[test]
fn a_program_whose_interpreter_is_missing_names_it() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // A dynamically linked program of the host: the static busybox image has no loader.
    // Docker runs it and prints `exec /hosttrue: no such file or directory`.
    let host_true = std::fs::canonicalize("/bin/true").unwrap();
    let bind = format!("{}:/hosttrue:ro", host_true.display());
    let stderr = fails_with(
        &wharf,
        &["run", "--rm", "-v", &bind, "busybox", "/hosttrue"],
        127,
        &[
            "exec: \"/hosttrue\": /hosttrue needs the interpreter /",
            "missing",
        ],
    );
    assert!(stderr.contains("ld-linux"), "{stderr}");

    // A script whose `#!` names a shell the image lacks.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/bin/bash\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bind = format!("{}:/usr/local/bin/script:ro", script.display());
    fails_with(
        &wharf,
        &["run", "--rm", "-v", &bind, "busybox", "script"],
        127,
        &["/usr/local/bin/script needs the interpreter /bin/bash, which is missing"],
    );
    assert_nothing_left(&wharf);
}

#[test]
fn an_exec_failing_after_start_is_said_too() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // The checks before start pass, and the kernel refuses the exec: the program is open for
    // writing (ETXTBSY). The init says so on the container's stderr, as runc's does, and the
    // container exits 126; `exec` says it as its error.
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("prog");
    std::fs::write(&program, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _writer = std::fs::OpenOptions::new()
        .append(true)
        .open(&program)
        .unwrap();
    let bind = format!("{}:/prog:ro", program.display());
    let busy = "exec: \"/prog\": /prog: text file busy";
    let output = wharf.run(&["run", "--rm", "-v", &bind, "busybox", "/prog"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!((code(&output), stderr.trim()), (126, busy));
    assert_nothing_left(&wharf);

    wharf.ok(&[
        "run", "-d", "--name", "box", "-v", &bind, "busybox", "sleep", "1000",
    ]);
    fails_with(&wharf, &["exec", "box", "/prog"], 126, &[busy]);
    wharf.remove_all_containers_leaving_nothing();
    assert_no_veth(&wharf);
}

#[test]
fn unknown_users_fail_at_start_as_in_docker() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // Docker: `unable to find user bob: no matching entries in passwd file`, 125.
    let unknown = "unable to find user bob: no matching entries in passwd file";
    fails_with(
        &wharf,
        &["run", "--rm", "-u", "bob", "busybox", "true"],
        125,
        &[unknown],
    );
    fails_with(
        &wharf,
        &["run", "--rm", "-u", "root:staff", "busybox", "true"],
        125,
        &["unable to find group staff: no matching entries in group file"],
    );
    assert_nothing_left(&wharf);
    // As Docker: `create` takes it, `start` refuses it.
    wharf.ok(&["create", "--name", "bob", "-u", "bob", "busybox", "true"]);
    fails_with(&wharf, &["start", "bob"], 1, &[unknown]);
    fails_with(&wharf, &["start", "-a", "bob"], 125, &[unknown]);
    assert_left_created(&wharf, "bob", 125, unknown);
    // A user the container's own files gain counts at the next start, as in Docker.
    wharf.ok(&[
        "create", "--name", "later", "-u", "bob", "busybox", "id", "-u",
    ]);
    let passwd = wharf.ok(&["run", "--rm", "busybox", "cat", "/etc/passwd"]);
    let dir = tempfile::tempdir().unwrap();
    let with_bob = dir.path().join("passwd");
    std::fs::write(
        &with_bob,
        format!("{passwd}bob:x:1234:1234::/home/bob:/bin/sh\n"),
    )
    .unwrap();
    wharf.ok(&["cp", &with_bob.display().to_string(), "later:/etc/passwd"]);
    assert_eq!(wharf.ok(&["start", "-a", "later"]), "1234\n");

    // `exec -u`: Docker exits 126.
    wharf.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    fails_with(
        &wharf,
        &["exec", "-u", "bob", "box", "true"],
        126,
        &[unknown],
    );
    wharf.remove_all_containers_leaving_nothing();
    assert_no_veth(&wharf);
}

#[test]
fn working_dirs_are_made_or_named() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // The case. Docker 20.10: `chdir to cwd ("/proc/self/fd/7") set in config.json
    // failed: not a directory`, 125.
    fails_with(
        &wharf,
        &["run", "--rm", "-w", "/proc/self/fd/7", "busybox", "true"],
        125,
        &["working directory \"/proc/self/fd/7\""],
    );
    // Docker: `Cannot mkdir: /etc/passwd is not a directory`, 125.
    fails_with(
        &wharf,
        &["run", "--rm", "-w", "/etc/passwd/sub", "busybox", "true"],
        125,
        &["working directory \"/etc/passwd/sub\" failed: not a directory"],
    );
    // A missing one is made, as Docker's daemon does, on a read-only root too.
    assert_eq!(
        wharf.ok(&["run", "--rm", "-w", "/made/here", "busybox", "pwd"]),
        "/made/here\n"
    );
    let read_only = wharf.run(&[
        "run",
        "--rm",
        "--read-only",
        "-w",
        "/made",
        "busybox",
        "sh",
        "-c",
        "pwd; touch /made/file",
    ]);
    assert_eq!(common::stdout(&read_only), "/made\n");
    assert!(
        String::from_utf8_lossy(&read_only.stderr).contains("Read-only file system"),
        "the root stays read-only"
    );
    // On a tmpfs (empty at start) and in a volume too, as Docker's runc does.
    assert_eq!(
        wharf.ok(&["run", "--rm", "--tmpfs", "/t", "-w", "/t/sub", "busybox", "pwd"]),
        "/t/sub\n"
    );
    // A write the read-only mount refuses at start is named.
    let host = tempfile::tempdir().unwrap();
    let bind = format!("{}:/data:ro", host.path().display());
    fails_with(
        &wharf,
        &[
            "run",
            "--rm",
            "-v",
            &bind,
            "-w",
            "/data/sub",
            "busybox",
            "true",
        ],
        125,
        &["working directory \"/data/sub\" failed: read-only file system"],
    );
    assert!(!host.path().join("sub").exists());
    assert_nothing_left(&wharf);

    fails_with(
        &wharf,
        &[
            "run",
            "--name",
            "kept",
            "-w",
            "/proc/self/fd/7",
            "busybox",
            "true",
        ],
        125,
        &["/proc/self/fd/7"],
    );
    assert_left_created(&wharf, "kept", 125, "/proc/self/fd/7");

    // `exec -w`: Docker does not make it, and exits 126: `chdir to cwd ("/nope") set in
    // config.json failed: no such file or directory`.
    wharf.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"]);
    fails_with(
        &wharf,
        &["exec", "-w", "/nope", "box", "pwd"],
        126,
        &["working directory \"/nope\" failed: no such file or directory"],
    );
    fails_with(
        &wharf,
        &["exec", "-w", "/etc/passwd", "box", "pwd"],
        126,
        &["working directory \"/etc/passwd\" failed: not a directory"],
    );
    assert_eq!(
        wharf.ok(&["exec", "-w", "/proc/1", "box", "pwd"]),
        "/proc/1\n"
    );
    // Entered as root first, as runc does: a user may work in a folder it cannot list.
    assert_eq!(
        wharf.ok(&["exec", "-u", "1000", "-w", "/root", "box", "pwd"]),
        "/root\n"
    );
    wharf.remove_all_containers_leaving_nothing();
    assert_no_veth(&wharf);
}

#[test]
fn limits_devices_and_mounts_are_named() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // Docker: `error mounting "/etc/passwd" to rootfs at "/etc": ... not a directory: unknown:
    // Are you trying to mount a directory onto a file (or vice-versa)? ...`, 125.
    let onto_dir = fails_with(
        &wharf,
        &["run", "--rm", "-v", "/etc/passwd:/etc", "busybox", "true"],
        125,
        &["error mounting \"/etc/passwd\" to rootfs at \"/etc\": a file cannot be mounted on a directory"],
    );
    assert!(onto_dir.contains("hint: Are you trying to mount a directory onto a file"));
    // A bind's source removed between create and start. Docker: `invalid mount config for
    // type "bind": bind source path does not exist: /x`.
    let gone = tempfile::tempdir().unwrap();
    let gone_path = gone.path().display().to_string();
    let bind = format!("{gone_path}:/data");
    wharf.ok(&["create", "--name", "gone", "-v", &bind, "busybox", "true"]);
    drop(gone);
    fails_with(
        &wharf,
        &["start", "-a", "gone"],
        125,
        &[&format!("bind source path does not exist: {gone_path}")],
    );
    assert_left_created(&wharf, "gone", 125, &gone_path);
    fails_with(
        &wharf,
        &["run", "--rm", "--tmpfs", "/etc/passwd", "busybox", "true"],
        125,
        &["error mounting \"tmpfs\" to rootfs at \"/etc/passwd\": a directory cannot be mounted on a file"],
    );
    assert_nothing_left(&wharf);

    // Docker: `Minimum memory limit allowed is 6MB`, 125, and no container.
    fails_with(
        &wharf,
        &["run", "--rm", "-m", "4m", "busybox", "true"],
        125,
        &["--memory", "Minimum memory limit allowed is 6MB"],
    );
    fails_with(
        &wharf,
        &["run", "--name", "small", "-m", "4m", "busybox", "true"],
        125,
        &["Minimum memory limit allowed is 6MB"],
    );
    assert_nothing_left(&wharf);

    // Docker: `error gathering device information while adding custom device "/dev/nope":
    // no such file or directory`. (Docker's CLI exits 127 here, as it does for any message
    // with "no such file or directory"; a missing device is the engine's error: 125.)
    let missing = "error gathering device information while adding custom device \"/dev/nope\": no such file or directory";
    fails_with(
        &wharf,
        &["run", "--rm", "--device", "/dev/nope", "busybox", "true"],
        125,
        &[missing],
    );
    assert_nothing_left(&wharf);
    fails_with(
        &wharf,
        &[
            "run",
            "--name",
            "kept",
            "--device",
            "/dev/nope",
            "busybox",
            "true",
        ],
        125,
        &[missing],
    );
    assert_left_created(&wharf, "kept", 125, "/dev/nope");
    fails_with(
        &wharf,
        &["run", "--rm", "--device", "/etc/passwd", "busybox", "true"],
        125,
        &["\"/etc/passwd\": not a device node"],
    );
    // A device that exists is there, and usable as its permissions say.
    assert_eq!(
        wharf.ok(&[
            "run",
            "--rm",
            "--device",
            "/dev/null:/dev/mine:rw",
            "busybox",
            "sh",
            "-c",
            "test -c /dev/mine && echo written > /dev/mine && echo ok",
        ]),
        "ok\n"
    );
    assert_nothing_left(&wharf);
}
