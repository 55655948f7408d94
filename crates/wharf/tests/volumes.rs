//! Volumes end to end: `volume create|ls|inspect|rm|prune`, `-v` and `--mount` with named,
//! anonymous and image volumes (filled from the image on first use), and `cp` both ways.

mod common;

use common::disk::{assert_near, bytes_of, du};
use common::Wharf;
use serde_json::Value;

fn wharf_with_busybox() -> Option<Wharf> {
    if !common::is_root() {
        common::skip("containers need root");
        return None;
    }
    let wharf = Wharf::isolated();
    wharf.import_busybox();
    Some(wharf)
}

fn inspect(wharf: &Wharf, args: &[&str]) -> Value {
    let text = wharf.ok(args);
    let value: Value = serde_json::from_str(&text).expect("inspect prints JSON");
    value[0].clone()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// An image with content owned by a user, a symlink and a `VOLUME` over it.
fn build_image_with_volume(wharf: &Wharf) {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\n\
         RUN mkdir -p /data/sub && echo seeded > /data/sub/file && ln -s sub/file /data/link \
             && chown -R 1000:1001 /data/sub && chmod 0750 /data/sub && chown 1000:1001 /data && chmod 0711 /data\n\
         VOLUME /data\n",
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        "seeded",
        &context.path().display().to_string(),
    ]);
}

#[test]
fn volume_commands_create_list_inspect_remove_and_prune() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    assert_eq!(
        wharf
            .ok(&["volume", "create", "--label", "team=web", "data"])
            .trim(),
        "data"
    );
    // Creating it again is a no-op, as Docker's.
    assert_eq!(wharf.ok(&["volume", "create", "data"]).trim(), "data");
    let random = wharf.ok(&["volume", "create"]).trim().to_string();
    assert_eq!(random.len(), 64, "a random name: {random}");

    let bad = wharf.fails(&["volume", "create", "bad/name"]);
    assert!(
        bad.contains("error: volume name bad/name") && bad.contains("[a-zA-Z0-9]"),
        "{bad}"
    );

    let opts = wharf.fails(&["volume", "create", "-o", "type=tmpfs", "tmp"]);
    assert!(
        opts.contains("error: --opt type=tmpfs") && opts.contains("hint:"),
        "{opts}"
    );
    let driver = wharf.fails(&["volume", "create", "-d", "nfs", "tmp"]);
    assert!(driver.contains("unknown volume driver"), "{driver}");

    let volume = inspect(&wharf, &["volume", "inspect", "data"]);
    assert_eq!(volume["Name"], "data");
    assert_eq!(volume["Driver"], "local");
    assert_eq!(volume["Scope"], "local");
    assert_eq!(volume["Labels"]["team"], "web");
    assert!(volume["CreatedAt"].as_str().unwrap().starts_with("20"));
    assert!(volume["Options"].is_null());
    let mountpoint = volume["Mountpoint"].as_str().unwrap().to_string();
    assert_eq!(
        mountpoint,
        wharf
            .path()
            .join("volumes/data/_data")
            .display()
            .to_string()
    );
    assert!(std::path::Path::new(&mountpoint).is_dir());

    let mut all = vec!["data", random.as_str()];
    all.sort();
    assert_eq!(lines(&wharf.ok(&["volume", "ls", "-q"])), all);
    assert_eq!(
        lines(&wharf.ok(&["volume", "ls", "-q", "--filter", "label=team=web"])),
        ["data"]
    );
    assert_eq!(
        lines(&wharf.ok(&["volume", "ls", "-q", "--filter", "name=dat"])),
        ["data"]
    );
    let table = wharf.ok(&["volume", "ls"]);
    assert!(
        table.starts_with("DRIVER") && table.contains("local     data"),
        "{table}"
    );

    // A container that uses it keeps it: rm refuses, naming the container.
    wharf.ok(&[
        "create",
        "--name",
        "user",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ]);
    assert_eq!(
        lines(&wharf.ok(&["volume", "ls", "-q", "--filter", "dangling=false"])),
        ["data"]
    );
    let in_use = wharf.fails(&["volume", "rm", "data"]);
    assert!(
        in_use.contains("error: volume data is in use by container: user")
            && in_use.contains("hint:"),
        "{in_use}"
    );
    let missing = wharf.fails(&["volume", "rm", "nope"]);
    assert!(missing.contains("no such volume: nope"), "{missing}");
    wharf.ok(&["volume", "rm", "-f", "nope"]);

    // An anonymous volume: prune takes only those by default, -a the named ones too.
    wharf.ok(&[
        "create", "--name", "anon", "-v", "/cache", "busybox", "true",
    ]);
    let anonymous = inspect(&wharf, &["inspect", "anon"])["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    wharf.ok(&["rm", "anon"]);
    let pruned = wharf.ok(&["volume", "prune", "-f"]);
    assert!(
        pruned.contains(&anonymous) && !pruned.contains(&random),
        "{pruned}"
    );
    assert!(pruned.contains("Total reclaimed space:"), "{pruned}");
    wharf.ok(&["rm", "user"]);
    let pruned = wharf.ok(&["volume", "prune", "-f", "-a"]);
    assert!(
        pruned.contains(&random) && pruned.contains("data"),
        "{pruned}"
    );
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]), "");
    assert!(!wharf.path().join("volumes/data").exists());
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn volumes_are_filled_from_the_image_shared_and_removed_with_their_container() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    build_image_with_volume(&wharf);

    // A named volume, created on first use and filled from the image: owners, modes and
    // the symlink kept, and the volume's root takes the image folder's owner and mode.
    let listing = wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/data",
        "seeded",
        "sh",
        "-c",
        "stat -c '%n %u:%g %a' /data /data/sub /data/sub/file; readlink /data/link; cat /data/link; echo more > /data/new",
    ]);
    assert_eq!(
        listing,
        "/data 1000:1001 711\n/data/sub 1000:1001 750\n/data/sub/file 1000:1001 644\nsub/file\nseeded\n"
    );
    // Kept after `run --rm` (named), seen by the next container, never filled again.
    let again = wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/data:ro",
        "seeded",
        "sh",
        "-c",
        "cat /data/new; touch /data/x 2>/dev/null || echo read-only",
    ]);
    assert_eq!(again, "more\nread-only\n");
    // `nocopy`: a new volume stays empty.
    let empty = wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "bare:/data:nocopy",
        "seeded",
        "ls",
        "-A",
        "/data",
    ]);
    assert_eq!(empty, "");

    // The image's VOLUME, unnamed: an anonymous volume, listed by inspect as Docker does.
    let id = wharf
        .ok(&[
            "create",
            "--name",
            "anon",
            "seeded",
            "cat",
            "/data/sub/file",
        ])
        .trim()
        .to_string();
    let container = inspect(&wharf, &["inspect", "anon"]);
    let mount = &container["Mounts"][0];
    assert_eq!(mount["Type"], "volume");
    assert_eq!(mount["Destination"], "/data");
    assert_eq!(mount["Driver"], "local");
    assert_eq!(mount["RW"], true);
    let anonymous = mount["Name"].as_str().unwrap().to_string();
    assert_eq!(
        mount["Source"],
        wharf
            .path()
            .join(format!("volumes/{anonymous}/_data"))
            .display()
            .to_string()
    );
    let volume = inspect(&wharf, &["volume", "inspect", &anonymous]);
    assert!(volume["Labels"]
        .as_object()
        .unwrap()
        .contains_key("com.docker.volume.anonymous"));
    assert_eq!(wharf.ok(&["start", "-a", "anon"]), "seeded\n");
    // `rm -v` removes the anonymous volume, not the named ones.
    wharf.ok(&["rm", "-v", "anon"]);
    let left = wharf.ok(&["volume", "ls", "-q"]);
    assert_eq!(lines(&left), ["bare", "shared"]);

    // `run --rm` removes its anonymous volumes too (`-v /path` and the image's).
    wharf.ok(&["run", "--rm", "-v", "/scratch", "seeded", "true"]);
    assert_eq!(
        lines(&wharf.ok(&["volume", "ls", "-q"])),
        ["bare", "shared"]
    );
    wharf.assert_nothing_leaked(&[id]);
}

#[test]
fn mount_flag_binds_volumes_and_tmpfs_with_dockers_rules() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "from host\n").unwrap();
    let source = host.path().display().to_string();
    let output = wharf.ok(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,source={source},target=/host,readonly"),
        "--mount",
        "type=volume,src=mounted,dst=/vol",
        "--mount",
        "type=tmpfs,destination=/scratch,tmpfs-size=1m,tmpfs-mode=700",
        "busybox",
        "sh",
        "-c",
        "cat /host/file; touch /host/x 2>/dev/null || echo ro; echo kept > /vol/f; \
         stat -c %a /scratch; grep ' /scratch ' /proc/mounts | grep -o 'size=[0-9]*k'",
    ]);
    assert_eq!(output, "from host\nro\n700\nsize=1024k\n");
    assert_eq!(
        std::fs::read_to_string(wharf.path().join("volumes/mounted/_data/f")).unwrap(),
        "kept\n"
    );

    // Unlike -v, a missing bind source is an error naming the flag; nothing is created.
    let missing = wharf.run(&[
        "run",
        "--rm",
        "--mount",
        "type=bind,source=/nonexistent-wharf-src,target=/x",
        "busybox",
        "true",
    ]);
    assert_eq!(missing.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("error: --mount type=bind,source=/nonexistent-wharf-src,target=/x: bind source path does not exist: /nonexistent-wharf-src")
            && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(!std::path::Path::new("/nonexistent-wharf-src").exists());
    let bogus = wharf.fails(&[
        "create",
        "--mount",
        "type=volume,target=/x,tmpfs-size=1m",
        "busybox",
    ]);
    assert!(bogus.contains("`tmpfs-size` does not apply"), "{bogus}");
    let bad_name = wharf.fails(&["create", "-v", "bad name:/x", "busybox"]);
    assert!(bad_name.contains("error: --volume bad name"), "{bad_name}");
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(lines(&wharf.ok(&["volume", "ls", "-q"])), ["mounted"]);
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn cp_copies_both_ways_with_dockers_destination_rules() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let host = tempfile::tempdir().unwrap();
    let h = |p: &str| host.path().join(p);
    let hs = |p: &str| h(p).display().to_string();
    std::fs::create_dir_all(h("tree/sub")).unwrap();
    std::fs::write(h("tree/sub/a.txt"), "a\n").unwrap();
    std::os::unix::fs::symlink("sub/a.txt", h("tree/link")).unwrap();
    std::fs::write(h("one.txt"), "one\n").unwrap();
    std::os::unix::fs::chown(h("one.txt"), Some(1234), Some(1234)).unwrap();

    // A stopped (never started) container: its root is mounted for the copy and unmounted.
    wharf.ok(&["create", "--name", "box", "busybox", "true"]);
    wharf.ok(&["cp", &hs("tree"), "box:/opt"]); // missing dest: becomes /opt
    wharf.ok(&["cp", &hs("tree"), "box:/opt"]); // existing dir: goes to /opt/tree
    wharf.ok(&["cp", &hs("tree/."), "box:/merged/"]); // dir syntax, contents only... of a missing dir
    wharf.ok(&["cp", &hs("one.txt"), "box:/etc/"]); // into a dir: /etc/one.txt, owned by root
    wharf.ok(&["cp", "-a", &hs("one.txt"), "box:/kept.txt"]); // -a keeps the owner
    let no_dir = wharf.fails(&["cp", &hs("one.txt"), "box:/nowhere/"]);
    assert!(no_dir.contains("does not exist"), "{no_dir}");
    let dir_to_file = wharf.fails(&["cp", &hs("tree"), "box:/kept.txt"]);
    assert!(
        dir_to_file.contains("cannot copy a directory to a file"),
        "{dir_to_file}"
    );

    let listing = wharf.ok(&["start", "-a", "box"]);
    assert_eq!(listing, "");
    let out = |path: &str| {
        let dest = h(&format!("out-{}", path.replace('/', "_")));
        wharf.ok(&["cp", &format!("box:{path}"), &dest.display().to_string()]);
        dest
    };
    assert_eq!(
        std::fs::read_to_string(out("/opt/sub/a.txt")).unwrap(),
        "a\n"
    );
    assert_eq!(
        std::fs::read_to_string(out("/opt/tree/sub/a.txt")).unwrap(),
        "a\n"
    );
    assert_eq!(
        std::fs::read_to_string(out("/merged/sub/a.txt")).unwrap(),
        "a\n"
    );
    assert_eq!(
        std::fs::read_link(out("/opt/link")).unwrap(),
        std::path::Path::new("sub/a.txt")
    );
    // -L follows the link given as the source.
    wharf.ok(&["cp", "-L", "box:/opt/link", &hs("followed")]);
    assert_eq!(std::fs::read_to_string(h("followed")).unwrap(), "a\n");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(out("/etc/one.txt")).unwrap().uid(), 0);
    let kept = h("kept-owner");
    wharf.ok(&["cp", "-a", "box:/kept.txt", &kept.display().to_string()]);
    assert_eq!(std::fs::metadata(&kept).unwrap().uid(), 1234);

    // Tar streams: out on stdout, in from stdin.
    let tar = wharf
        .command(&["cp", "box:/opt/sub", "-"])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut archive = tar::Archive::new(&tar.stdout[..]);
    let mut names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .unwrap()
                .display()
                .to_string()
                .trim_end_matches('/')
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["sub", "sub/a.txt"]);
    let input = common::tarball(&[common::Entry::File("streamed.txt", b"via stdin\n", 0o600)]);
    let streamed = wharf.run_with_stdin(&["cp", "-", "box:/opt"], &input);
    common::assert_success(&streamed, &["cp", "-", "box:/opt"]);
    let copied = out("/opt/streamed.txt");
    assert_eq!(std::fs::read_to_string(&copied).unwrap(), "via stdin\n");
    let not_dir = wharf.run_with_stdin(&["cp", "-", "box:/kept.txt"], &input);
    assert!(!not_dir.status.success());

    let missing = wharf.fails(&["cp", "box:/no/such", &hs("x")]);
    assert!(
        missing.contains("/no/such: no such file or directory"),
        "{missing}"
    );
    wharf.ok(&["rm", "box"]);
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn cp_never_follows_a_symlink_out_of_the_container_and_lands_in_volumes() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let host = tempfile::tempdir().unwrap();
    let payload = host.path().join("payload");
    std::fs::write(&payload, "pwned\n").unwrap();
    let marker = format!("wharf-cp-escape-{}", std::process::id());
    let host_target = std::path::Path::new("/tmp").join(&marker);
    let _ = std::fs::remove_file(&host_target);

    let id = wharf
        .ok(&[
            "run", "-d", "--name", "web", "-v", "cache:/cache", "busybox", "sh", "-c",
            "ln -s / /evil && ln -s /etc/passwd /passwd-link && mkdir -p /tmp && touch /ready && exec sleep 600",
        ])
        .trim()
        .to_string();
    while wharf
        .run(&["exec", "web", "test", "-e", "/ready"])
        .status
        .code()
        != Some(0)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Through /evil -> / the copy lands in the container's /tmp, never the host's.
    wharf.ok(&[
        "cp",
        &payload.display().to_string(),
        &format!("web:/evil/tmp/{marker}"),
    ]);
    assert!(
        !host_target.exists(),
        "cp wrote through the symlink to the host"
    );
    assert_eq!(
        wharf.ok(&["exec", "web", "cat", &format!("/tmp/{marker}")]),
        "pwned\n"
    );
    // A tar entry through the symlink stays inside too.
    let input = common::tarball(&[common::Entry::File(
        &format!("evil/tmp/{marker}-tar"),
        b"tar\n",
        0o644,
    )]);
    let streamed = wharf.run_with_stdin(&["cp", "-", "web:/"], &input);
    common::assert_success(&streamed, &["cp", "-", "web:/"]);
    assert!(!std::path::Path::new("/tmp")
        .join(format!("{marker}-tar"))
        .exists());
    // Out of the container, /passwd-link is the container's /etc/passwd, not the host's.
    let copied = host.path().join("passwd");
    wharf.ok(&[
        "cp",
        "-L",
        "web:/passwd-link",
        &copied.display().to_string(),
    ]);
    let container_passwd = wharf.ok(&["exec", "web", "cat", "/etc/passwd"]);
    assert_eq!(std::fs::read_to_string(&copied).unwrap(), container_passwd);

    // Into a running container's volume: the file lands in the volume.
    wharf.ok(&["cp", &payload.display().to_string(), "web:/cache/"]);
    assert_eq!(
        std::fs::read_to_string(wharf.path().join("volumes/cache/_data/payload")).unwrap(),
        "pwned\n"
    );
    assert_eq!(
        wharf.ok(&["exec", "web", "cat", "/cache/payload"]),
        "pwned\n"
    );
    wharf.ok(&["rm", "-f", "web"]);
    wharf.assert_nothing_leaked(&[id]);
}

#[test]
fn system_df_counts_images_containers_volumes_and_what_is_reclaimable() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // TYPE|TOTAL|ACTIVE, then SIZE and RECLAIMABLE in bytes (sizes on disk, as du's).
    let df = |wanted: &str| {
        let rows = wharf.ok(&[
            "system",
            "df",
            "--format",
            "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
        ]);
        let row = rows
            .lines()
            .find(|row| row.starts_with(wanted))
            .unwrap_or_else(|| panic!("no {wanted} row in {rows}"));
        let fields: Vec<&str> = row.split('|').collect();
        (
            fields[..3].join("|"),
            bytes_of(fields[3]),
            bytes_of(fields[4]),
        )
    };
    let store = du(&wharf.path().join("blobs")) + du(&wharf.path().join("layers"));
    // Nothing uses the image yet: all of it is reclaimable.
    let (counts, size, reclaimable) = df("Images");
    assert_eq!(counts, "Images|1|0");
    assert_near("images", size, store, 2);
    assert_eq!(reclaimable, size);
    assert_eq!(df("Containers"), ("Containers|0|0".to_string(), 0, 0));

    wharf.ok(&["volume", "create", "data"]);
    wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "head -c 100000 /dev/zero > /data/f",
    ]);
    let volume = du(&wharf.path().join("volumes/data"));
    assert!(volume > 100_000, "{volume}");
    let (counts, size, reclaimable) = df("Local Volumes");
    assert_eq!(counts, "Local Volumes|1|0");
    assert_near("volume", size, volume, 2);
    assert_eq!(reclaimable, size);

    // A running container that wrote 50 kB into its own layer, using the image and the
    // volume; a created one that wrote nothing.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "writer",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "head -c 50000 /dev/zero > /big.tmp && mv /big.tmp /big && exec sleep 1000",
    ]);
    wharf.ok(&["create", "--name", "idle", "busybox", "true"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while wharf
        .run(&["exec", "writer", "test", "-e", "/big"])
        .status
        .code()
        != Some(0)
    {
        assert!(std::time::Instant::now() < deadline, "/big never appeared");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (counts, _, reclaimable) = df("Images");
    assert_eq!((counts.as_str(), reclaimable), ("Images|1|1", 0));
    // The containers' folders: writable layers, logs, configs; the idle one's is
    // reclaimable.
    let (counts, size, reclaimable) = df("Containers");
    assert_eq!(counts, "Containers|2|1");
    assert_near("containers", size, du(&wharf.path().join("containers")), 2);
    assert!(
        size > 50_000 && reclaimable > 0 && reclaimable < 50_000,
        "{size} {reclaimable}"
    );
    let (counts, _, reclaimable) = df("Local Volumes");
    assert_eq!((counts.as_str(), reclaimable), ("Local Volumes|1|1", 0));
    assert_eq!(df("Build Cache"), ("Build Cache|0|0".to_string(), 0, 0));

    let info =
        "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}";
    assert_eq!(wharf.ok(&["info", "--format", info]).trim(), "2 1 0 1");

    // Stopped, its layer becomes reclaimable, and `container prune` says what it freed.
    wharf.ok(&["stop", "-t", "0", "writer"]);
    let (counts, size, reclaimable) = df("Containers");
    assert_eq!((counts.as_str(), reclaimable), ("Containers|2|0", size));
    // The containers' folders, as du counts them: the 50 kB, logs and configs.
    let uppers: u64 = wharf
        .container_ids()
        .iter()
        .map(|id| du(&wharf.path().join("containers").join(id)))
        .sum();
    let pruned = wharf.ok(&["container", "prune", "-f"]);
    let total = pruned
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("{pruned}"));
    assert!(uppers > 50_000, "{uppers}");
    assert_near("container prune", bytes_of(total), uppers, 2);
    assert_eq!(df("Containers"), ("Containers|0|0".to_string(), 0, 0));
    wharf.remove_all_containers_leaving_nothing();
}
