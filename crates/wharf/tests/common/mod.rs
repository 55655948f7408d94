//! Shared harness for integration tests: each test drives the real `wharf` binary with its
//! own state root in a temp dir, so tests run in parallel and clean up after themselves.

#![allow(dead_code, clippy::print_stderr)]

pub mod api;
pub mod compose;
pub mod crash;
pub mod disk;
pub mod examples;
pub mod kube;
pub mod power_cut;
pub mod pypi;
pub mod registry;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Wharf {
    pub root: tempfile::TempDir,
    /// With `WHARF_TEST_BESIDE_DOCKERD=1`, a real dockerd in [`Wharf::netns`]; stopped
    /// before the namespace goes.
    pub dockerd: Option<NetnsDockerd>,
    /// With [`Wharf::isolated`], the network namespace this test's wharf runs in.
    pub netns: Option<TestNetns>,
}

impl Wharf {
    /// A store whose wharf runs in the real host's network namespace: for tests that need
    /// the host's loopback (a registry) and run no container on a bridge.
    pub fn new() -> Self {
        Self::with_netns(None)
    }

    fn with_netns(netns: Option<TestNetns>) -> Self {
        Self::in_dir(&std::env::temp_dir(), netns)
    }

    /// A store in a folder of `parent` (a filesystem of the test's own), in its own network
    /// namespace as [`Wharf::isolated`] when `isolated`.
    pub fn inside(parent: &Path, isolated: bool) -> Self {
        Self::in_dir(parent, if isolated { TestNetns::new() } else { None })
    }

    fn in_dir(parent: &Path, netns: Option<TestNetns>) -> Self {
        Self {
            root: tempfile::Builder::new()
                .prefix("wharf-test-")
                .tempdir_in(parent)
                .expect("temp root"),
            dockerd: None,
            netns,
        }
    }

    /// A store whose wharf (and its monitors and containers) runs in a network namespace of
    /// its own (as root; else like [`Wharf::new`]), which plays the host: bridges, firewall
    /// rules and published ports of tests running in parallel stay apart, and nothing
    /// reaches the real host's network. For every test that runs containers on a bridge.
    ///
    /// With `WHARF_TEST_BESIDE_DOCKERD=1` (`scripts/test.sh` runs the network tests a second
    /// time so), a real dockerd with Docker's default networking runs in that namespace
    /// first, as on a user's host where Docker is installed: its FORWARD policy is DROP.
    pub fn isolated() -> Self {
        let mut wharf = Self::with_netns(TestNetns::new());
        if std::env::var_os("WHARF_TEST_BESIDE_DOCKERD").is_some_and(|v| v == "1") {
            let netns = wharf
                .netns
                .as_ref()
                .expect("WHARF_TEST_BESIDE_DOCKERD=1 needs a network namespace (root, ip)");
            let dockerd = NetnsDockerd::start(netns)
                .unwrap_or_else(|why| panic!("WHARF_TEST_BESIDE_DOCKERD=1: {why}"));
            wharf.dockerd = Some(dockerd);
        }
        wharf
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.host_command(env!("CARGO_BIN_EXE_wharf"));
        command
            .args(args)
            .env("WHARF_ROOT", self.root.path())
            .env("WHARF_RUN", self.root.path().join("run"))
            .stdin(Stdio::null());
        command
    }

    /// Nothing of this store's containers may remain: no mount under the root, no process
    /// started with this root (monitors), no cgroup whose name starts with one of `ids`
    /// (full or short container ids).
    pub fn assert_nothing_leaked(&self, ids: &[String]) {
        let root = self.root.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let leaked: Vec<&str> = mounts.lines().filter(|l| l.contains(&root)).collect();
        assert!(leaked.is_empty(), "mounts left behind: {leaked:#?}");
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                assert!(!cmdline.contains(&root), "process left behind: {cmdline}");
            }
        }
        assert_eq!(
            cgroups_of(ids),
            Vec::<PathBuf>::new(),
            "cgroups left behind"
        );
    }

    /// No veth, no published-port rule and no lease is left in the test's host namespace.
    pub fn assert_no_network_leftovers(&self) {
        let netns = self.netns.as_ref().unwrap();
        let veths = Command::new("ip")
            .args(["-n", &netns.name, "-o", "link", "show", "type", "veth"])
            .output()
            .unwrap();
        assert_eq!(stdout(&veths), "", "veths left behind");
        // The namespace is the test's own: every rule in it is this root's.
        let ruleset = self
            .host_command("nft")
            .args(["list", "ruleset"])
            .output()
            .unwrap();
        assert_success(&ruleset, &["nft", "list", "ruleset"]);
        assert!(
            !stdout(&ruleset).contains("dnat to"),
            "port rules left behind:\n{}",
            stdout(&ruleset)
        );
        for network in self
            .ok(&[
                "network",
                "ls",
                "-q",
                "--no-trunc",
                "--filter",
                "driver=bridge",
            ])
            .lines()
        {
            assert_eq!(
                self.ok(&["network", "inspect", "-f", "{{json .Containers}}", network])
                    .trim(),
                "{}",
                "leases left behind on {network}"
            );
        }
    }

    /// What `curl` gets from `url` in the namespace that plays the host, retrying while
    /// nothing listens yet (a container just started).
    pub fn fetch_page(&self, url: &str) -> String {
        let output = self
            .host_command("curl")
            .args([
                "-fsS",
                "--retry",
                "20",
                "--retry-connrefused",
                "--retry-delay",
                "0",
            ])
            .arg(url)
            .output()
            .expect("curl runs");
        stdout(&output)
    }

    /// Every container's full id (`ps -a -q --no-trunc`).
    pub fn container_ids(&self) -> Vec<String> {
        self.ok(&["ps", "-a", "-q", "--no-trunc"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `rm -f` of every container, then [`Wharf::assert_nothing_leaked`] for them all.
    pub fn remove_all_containers_leaving_nothing(&self) {
        let ids = self.container_ids();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            self.ok(&args);
        }
        assert_eq!(self.ok(&["ps", "-a", "-q"]), "");
        self.assert_nothing_leaked(&ids);
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("wharf runs")
    }

    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wharf runs");
        // wharf may reject its flags before reading stdin: a broken pipe is fine here.
        let _ = child.stdin.take().expect("stdin").write_all(input);
        child.wait_with_output().expect("wharf finishes")
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_success(&output, args);
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs and asserts failure, returning stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "wharf {args:?} should fail but succeeded:\n{}",
            stdout(&output)
        );
        String::from_utf8(output.stderr).expect("utf-8 stderr")
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// `system check` must find the store consistent.
    pub fn assert_consistent(&self) {
        let report = self.ok(&["system", "check"]);
        assert!(
            report.contains(": consistent"),
            "store not consistent:\n{report}"
        );
    }

    /// Imports the busybox fixture as `busybox:latest`.
    pub fn import_busybox(&self) -> String {
        self.import_fixture("busybox", "busybox:latest")
    }

    /// Imports fixture `name` (see `scripts/fixtures/recipes`) as `tag`; returns the image id.
    pub fn import_fixture(&self, name: &str, tag: &str) -> String {
        let (tar, changes) = fixture(name);
        let mut args: Vec<String> = vec!["import".into()];
        for change in changes {
            args.push("--change".into());
            args.push(change);
        }
        args.push(tar.display().to_string());
        args.push(tag.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args).trim().to_string()
    }
}

impl Wharf {
    /// `program` run in the namespace that plays the host for this test (the real host's
    /// when the test has none).
    pub fn host_command(&self, program: &str) -> Command {
        match &self.netns {
            Some(netns) => {
                let mut command = Command::new("nsenter");
                command
                    .arg(format!("--net={}", netns.path().display()))
                    .arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

/// wharf's cgroups whose name starts with one of `ids` (full or short container ids), in
/// every hierarchy: the unified one (cgroup v2) is /sys/fs/cgroup itself, v1 has one per
/// controller.
pub fn cgroups_of(ids: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for hierarchy in ["", "memory", "pids", "cpu", "freezer", "devices", "unified"] {
        let wharf_cgroups = Path::new("/sys/fs/cgroup").join(hierarchy).join("wharf");
        let Ok(cgroups) = std::fs::read_dir(&wharf_cgroups) else {
            continue;
        };
        for cgroup in cgroups.flatten() {
            let name = cgroup.file_name().to_string_lossy().into_owned();
            if ids.iter().any(|id| name.starts_with(id.as_str())) {
                found.push(cgroup.path());
            }
        }
    }
    found
}

/// A network namespace made for one test (`ip netns add`, loopback up), deleted on drop.
pub struct TestNetns {
    pub name: String,
}

impl TestNetns {
    /// `None` when it cannot be made (not root, no `ip`).
    pub fn new() -> Option<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        if !is_root() {
            return None;
        }
        let name = format!(
            "wharf-t{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let ip = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ip(&["netns", "add", &name]) {
            return None;
        }
        let netns = TestNetns { name };
        ip(&["-n", &netns.name, "link", "set", "lo", "up"]).then_some(netns)
    }

    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// A fresh namespace in its place, as a reboot leaves the host's: no bridge, veth or
    /// firewall rule of before. Every process in the old one must be gone.
    pub fn renew(&self) {
        for args in [
            &["netns", "del", &self.name][..],
            &["netns", "add", &self.name],
            &["-n", &self.name, "link", "set", "lo", "up"],
        ] {
            let status = Command::new("ip").args(args).status().expect("ip runs");
            assert!(status.success(), "ip {args:?}");
        }
    }
}

/// A test that fails midway must not leave its containers running (or frozen, or busy) after
/// its root is gone: they are removed then. A passing test checks its own cleanup.
impl Drop for Wharf {
    fn drop(&mut self) {
        // A root in the real host's namespace that made networks leaves its bridge and
        // table there (a test's own namespace takes them with it).
        if self.netns.is_none() && self.path().join("networks").exists() {
            let _ = self.command(&["system", "reset", "--force"]).output();
            return;
        }
        if !std::thread::panicking() {
            return;
        }
        let ids = self.command(&["ps", "-a", "-q", "--no-trunc"]).output();
        if let Ok(output) = ids {
            let ids = String::from_utf8_lossy(&output.stdout).into_owned();
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.split_whitespace());
            if args.len() > 3 {
                let _ = self.command(&args).output();
            }
        }
    }
}

/// A real dockerd with Docker's default networking (docker0, its iptables rules, the FORWARD
/// policy DROP, `br_netfilter`) running in a test's network namespace, with its own state
/// under a temp dir (`scripts/dockerd.sh` with `WHARF_DOCKERD_DIR` and
/// `WHARF_DOCKERD_NETWORK=1`). Stopped on drop.
pub struct NetnsDockerd {
    dir: tempfile::TempDir,
    netns: PathBuf,
}

impl NetnsDockerd {
    /// `Err` says why it cannot start here (for a `SKIPPED` line).
    pub fn start(netns: &TestNetns) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("wharf-dockerd-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let dockerd = NetnsDockerd {
            dir,
            netns: netns.path(),
        };
        // As on a host that did not forward before Docker came: dockerd turns forwarding on
        // then, and sets the FORWARD policy to DROP with it.
        let reset = Command::new("nsenter")
            .arg(format!("--net={}", netns.path().display()))
            .args(["sysctl", "-qw", "net.ipv4.ip_forward=0"])
            .status()
            .map_err(|e| format!("sysctl: {e}"))?;
        if !reset.success() {
            return Err("cannot turn forwarding off in the test's namespace".to_owned());
        }
        dockerd.script("start")?;
        Ok(dockerd)
    }

    /// Stops and starts the daemon again: dockerd recreates its chains at start.
    pub fn restart(&self) {
        self.script("stop").expect("dockerd stops");
        self.script("start").expect("dockerd starts again");
    }

    fn script(&self, verb: &str) -> Result<(), String> {
        let output = Command::new("nsenter")
            .arg(format!("--net={}", self.netns.display()))
            .arg(repo_root().join("scripts/dockerd.sh"))
            .arg(verb)
            .env("WHARF_DOCKERD_DIR", self.dir.path())
            .env("WHARF_DOCKERD_NETWORK", "1")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("nsenter: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(String::from_utf8_lossy(&output.stderr)
            .trim()
            .trim_start_matches("SKIPPED: ")
            .to_owned())
    }

    /// `/usr/bin/docker ARGS` against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("/usr/bin/docker")
            .args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}/docker.sock", self.dir.path().display()),
            )
            .stdin(Stdio::null())
            .output()
            .expect("docker runs")
    }
}

impl Drop for NetnsDockerd {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

pub fn assert_success(output: &Output, args: &[&str]) {
    assert!(
        output.status.success(),
        "wharf {args:?} failed with {}:\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds (or finds cached) a fixture rootfs with the project's script; returns the tarball
/// and its `--change` lines.
pub fn fixture(name: &str) -> (PathBuf, Vec<String>) {
    let script = repo_root().join("scripts/fixtures/build.sh");
    let run = |extra: &[&str]| {
        let output = Command::new(&script)
            .args(extra)
            .arg(name)
            .output()
            .expect("fixture script runs");
        assert!(
            output.status.success(),
            "building fixture {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8(output.stdout).expect("utf-8").trim())
    };
    let tar = run(&[]);
    let changes = std::fs::read_to_string(run(&["--changes"])).expect("changes file");
    (
        tar,
        changes
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Polls `wharf ARGS` until it prints `want` (trimmed), for at most 20 s.
pub fn await_output(wharf: &Wharf, args: &[&str], want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let seen = wharf.ok(args);
        if seen.trim() == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "wharf {args:?} prints `{}`, never `{want}`",
            seen.trim()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether PyPI answers from the host (builds' RUN steps reach it from there).
pub fn pypi_reachable() -> bool {
    Command::new("curl")
        .args([
            "-fsS",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "https://pypi.org/simple/flask/",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

/// True when running as root; tests that need root print SKIPPED otherwise.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

pub fn skip(why: &str) {
    eprintln!("SKIPPED: {why}");
}

/// A store (in its own network namespace) with the busybox fixture; `None`, said loudly,
/// where containers cannot run.
pub fn wharf_with_busybox() -> Option<Wharf> {
    if !is_root() {
        skip("containers need root");
        return None;
    }
    let wharf = Wharf::isolated();
    wharf.import_busybox();
    Some(wharf)
}

/// Raw tar entries, written without the tar crate's path checks so tests can build hostile
/// archives too.
pub enum Entry<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    CharDevice(&'a str, u32, u32),
    Fifo(&'a str),
    /// A file with ownership and an xattr (as a PAX record).
    OwnedFile {
        path: &'a str,
        data: &'a [u8],
        uid: u64,
        gid: u64,
        mode: u32,
        xattr: Option<(&'a str, &'a [u8])>,
    },
}

pub fn tarball(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        let (path, data, kind, mode): (&str, &[u8], tar::EntryType, u32) = match entry {
            Entry::Dir(path, mode) => (path, &[], tar::EntryType::Directory, *mode),
            Entry::File(path, data, mode) => (path, data, tar::EntryType::Regular, *mode),
            Entry::Symlink(path, target) => {
                set_raw_link(&mut header, target);
                (path, &[], tar::EntryType::Symlink, 0o777)
            }
            Entry::HardLink(path, target) => {
                set_raw_link(&mut header, target);
                (path, &[], tar::EntryType::Link, 0o644)
            }
            Entry::CharDevice(path, major, minor) => {
                header.set_device_major(*major).unwrap();
                header.set_device_minor(*minor).unwrap();
                (path, &[], tar::EntryType::Char, 0o666)
            }
            Entry::Fifo(path) => (path, &[], tar::EntryType::Fifo, 0o644),
            Entry::OwnedFile {
                path,
                data,
                uid,
                gid,
                mode,
                xattr,
            } => {
                header.set_uid(*uid);
                header.set_gid(*gid);
                if let Some((name, value)) = xattr {
                    let key = format!("SCHILY.xattr.{name}");
                    builder
                        .append_pax_extensions([(key.as_str(), *value)])
                        .unwrap();
                }
                (path, data, tar::EntryType::Regular, *mode)
            }
        };
        set_raw_path(&mut header, path);
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn set_raw_path(header: &mut tar::Header, path: &str) {
    let name = &mut header.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
}

fn set_raw_link(header: &mut tar::Header, target: &str) {
    let link = &mut header.as_old_mut().linkname;
    link.fill(0);
    link[..target.len()].copy_from_slice(target.as_bytes());
}

/// A `docker save` (legacy layout) archive of one image with the given layers.
pub fn docker_save_archive(layers: &[Vec<u8>], config_extra: &str, tag: Option<&str>) -> Vec<u8> {
    use sha2_free::sha256_hex;
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"sha256:{}\"", sha256_hex(l)))
        .collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh"]{config_extra}}},"created":"2024-01-02T03:04:05Z","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let config_id = sha256_hex(config.as_bytes());
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, data).unwrap();
    };
    let mut layer_paths = Vec::new();
    for layer in layers {
        let path = format!("{}/layer.tar", sha256_hex(layer));
        add(&path, layer);
        layer_paths.push(format!("\"{path}\""));
    }
    add(&format!("{config_id}.json"), config.as_bytes());
    let repo_tags = tag.map_or("null".to_string(), |t| format!("[\"{t}\"]"));
    let manifest = format!(
        r#"[{{"Config":"{config_id}.json","RepoTags":{repo_tags},"Layers":[{}]}}]"#,
        layer_paths.join(",")
    );
    add("manifest.json", manifest.as_bytes());
    builder.into_inner().unwrap()
}

/// sha256 through the system's `sha256sum`, to keep the test harness free of the code
/// under test.
mod sha2_free {
    use std::io::Write;
    use std::process::{Command, Stdio};

    pub fn sha256_hex(data: &[u8]) -> String {
        let mut child = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sha256sum runs");
        child.stdin.take().unwrap().write_all(data).unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

pub fn sha256(data: &[u8]) -> String {
    sha2_free::sha256_hex(data)
}

/// A tarball of plain files, for hand-made image archives.
pub fn plain_archive(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, data.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}
