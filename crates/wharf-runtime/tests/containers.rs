//! Real containers, as root, with real namespaces, cgroups and seccomp.
//!
//! libcontainer must be called from a single-threaded process and the test harness is
//! threaded, so each test re-executes this binary as a helper (`WHARF_RUNTIME_HELPER` names a
//! request file): its `main` runs the container before any thread exists and writes the
//! outcome next to the request. The test then checks the outcome, the container's output, and
//! that no mount, cgroup or state is left behind.

mod support;

use std::fs;
use std::io::{IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use serde::{Deserialize, Serialize};
use tempfile::TempDir;
use wharf_runtime::config::{
    CapabilityName, MemorySwap, Mount, NetworkMode, Resources, RunConfig, Ulimit, User,
};
use wharf_runtime::{Container, Outcome, Stdio};

const HELPER_ENV: &str = "WHARF_RUNTIME_HELPER";

/// What the helper does with the container.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Action {
    /// `wharf_runtime::run`.
    Run,
    /// Create and start, then `run::kill(state_root, id, signal)` as another process would.
    KillById(i32),
    /// Create and start, then `run::delete(state_root, id)` as another process would.
    DeleteById,
    /// Run with a tty: receive the pty master on a console socket, copy its output to stdout.
    Tty,
}

#[derive(Serialize, Deserialize)]
struct Request {
    config: RunConfig,
    state_root: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
    action: Action,
}

type Response = Result<Outcome, String>;

type Test = fn(&Fixture) -> Result<(), Failed>;

fn main() {
    if let Some(request) = std::env::var_os(HELPER_ENV) {
        helper(Path::new(&request));
        return;
    }
    let args = Arguments::from_args();
    macro_rules! named {
        ($($test:ident),* $(,)?) => { [$((stringify!($test), $test as Test)),*] };
    }
    let tests = named![
        true_exits_zero,
        exit_code_is_reported,
        env_cwd_and_user_are_applied,
        hostname_and_etc_files_are_set,
        namespaces_are_private,
        host_network_is_shared,
        read_only_rootfs_rejects_writes,
        bind_and_tmpfs_mounts_work,
        memory_limit_oom_kills_and_is_reported,
        pids_limit_stops_a_fork_loop,
        cpu_and_ulimits_are_applied,
        seccomp_denies_unshare,
        seccomp_denies_namespace_clone,
        devices_outside_the_allow_list_cannot_be_opened,
        privileged_has_no_seccomp,
        dropped_capabilities_are_gone,
        missing_command_fails_cleanly,
        tty_goes_through_the_console_socket,
        kill_by_id_stops_a_running_container,
        delete_by_id_removes_a_running_container,
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| Trial::test(name, move || with_fixture(name, test)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Runs in the re-executed, single-threaded helper.
fn helper(request_path: &Path) {
    let response: Response = match fs::read(request_path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice::<Request>(&bytes).map_err(|e| e.to_string()))
    {
        Ok(request) => serve(&request).map_err(|e| error_chain(&e)),
        Err(error) => Err(format!("bad request: {error}")),
    };
    let json = serde_json::to_vec(&response).expect("a response serializes");
    fs::write(request_path.with_extension("response"), json).expect("the response is written");
}

fn serve(request: &Request) -> Result<Outcome, wharf_runtime::RunError> {
    let stdio = Stdio {
        stdin: Some(fs::File::open("/dev/null").expect("/dev/null opens").into()),
        stdout: Some(
            fs::File::create(&request.stdout)
                .expect("stdout file")
                .into(),
        ),
        stderr: Some(
            fs::File::create(&request.stderr)
                .expect("stderr file")
                .into(),
        ),
        console_socket: None,
    };
    let (config, state_root) = (&request.config, request.state_root.as_path());
    match request.action {
        Action::Run => wharf_runtime::run(config, state_root, stdio),
        Action::KillById(signal) => {
            let mut container = Container::create(config, state_root, stdio)?;
            container.start()?;
            wharf_runtime::run::kill(state_root, &config.id, signal)?;
            let status = container.wait()?;
            let oom_killed = container.oom_killed()?;
            container.delete()?;
            Ok(Outcome { status, oom_killed })
        }
        Action::Tty => {
            let socket_path = request.state_root.with_file_name("console.sock");
            let listener = UnixListener::bind(&socket_path).expect("console socket binds");
            let stdio = Stdio {
                console_socket: Some(socket_path),
                ..Stdio::default()
            };
            let mut container = Container::create(config, state_root, stdio)?;
            // libcontainer connected and sent the master during create; it waits in the queue.
            let (stream, _) = listener.accept().expect("libcontainer connected");
            let mut master = receive_fd(&stream);
            container.start()?;
            let mut output = Vec::new();
            // Reading the master ends with EIO once the container's side is closed.
            let _ = master.read_to_end(&mut output);
            fs::write(&request.stdout, output).expect("tty output is written");
            let status = container.wait()?;
            container.delete()?;
            Ok(Outcome {
                status,
                oom_killed: false,
            })
        }
        Action::DeleteById => {
            let mut container = Container::create(config, state_root, stdio)?;
            container.start()?;
            wharf_runtime::run::delete(state_root, &config.id)?;
            let status = container.wait()?;
            // Already gone: delete must be a no-op that still succeeds.
            container.delete()?;
            Ok(Outcome {
                status,
                oom_killed: false,
            })
        }
    }
}

/// The one file descriptor sent over `stream` with SCM_RIGHTS.
fn receive_fd(stream: &UnixStream) -> fs::File {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut name = [0u8; 64];
    rustix::net::recvmsg(
        stream,
        &mut [IoSliceMut::new(&mut name)],
        &mut control,
        RecvFlags::empty(),
    )
    .expect("recvmsg on the console socket");
    let fd = control
        .drain()
        .find_map(|message| match message {
            RecvAncillaryMessage::ScmRights(mut fds) => fds.next(),
            _ => None,
        })
        .expect("a pty master was sent");
    fs::File::from(fd)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One test's world: a busybox layer, a container directory and a state root, all in a temp
/// dir, and a container id no other test uses.
struct Fixture {
    dir: TempDir,
    id: String,
    layer: PathBuf,
}

struct Ran {
    response: Response,
    stdout: String,
    stderr: String,
}

impl Fixture {
    fn config(&self, args: &[&str]) -> RunConfig {
        support::config(
            &self.id,
            &self.layer,
            &self.dir.path().join("container"),
            args,
        )
        .expect("container dir is written")
    }

    fn state_root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn run(&self, config: &RunConfig) -> Result<Ran, Failed> {
        self.act(config, Action::Run)
    }

    fn act(&self, config: &RunConfig, action: Action) -> Result<Ran, Failed> {
        let request = Request {
            config: config.clone(),
            state_root: self.state_root(),
            stdout: self.dir.path().join("stdout"),
            stderr: self.dir.path().join("stderr"),
            action,
        };
        let request_path = self.dir.path().join("request.json");
        fs::write(&request_path, serde_json::to_vec(&request)?)?;
        let helper = Command::new(std::env::current_exe()?)
            .env(HELPER_ENV, &request_path)
            .output()?;
        if !helper.status.success() {
            return Err(format!(
                "helper failed ({}): {}",
                helper.status,
                String::from_utf8_lossy(&helper.stderr)
            )
            .into());
        }
        let response = serde_json::from_slice(&fs::read(request_path.with_extension("response"))?)?;
        let ran = Ran {
            response,
            stdout: fs::read_to_string(&request.stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&request.stderr).unwrap_or_default(),
        };
        self.assert_clean()?;
        Ok(ran)
    }

    /// No mount under the test dir, no cgroup and no state for the container.
    fn assert_clean(&self) -> Result<(), Failed> {
        let root = self.dir.path().to_string_lossy().into_owned();
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
        if let Some(line) = mountinfo.lines().find(|l| l.contains(&root)) {
            return Err(format!("mount left behind: {line}").into());
        }
        // The unified hierarchy (cgroup v2) is /sys/fs/cgroup itself; v1 has one per controller.
        let v1_hierarchies = fs::read_dir("/sys/fs/cgroup")?.flatten().map(|e| e.path());
        for hierarchy in std::iter::once(PathBuf::from("/sys/fs/cgroup")).chain(v1_hierarchies) {
            let cgroup = hierarchy.join("wharf").join(&self.id);
            if cgroup.exists() {
                return Err(format!("cgroup left behind: {}", cgroup.display()).into());
            }
        }
        let state = self.state_root().join(&self.id);
        if state.exists() {
            return Err(format!("state left behind: {}", state.display()).into());
        }
        Ok(())
    }
}

impl Ran {
    fn outcome(&self) -> Result<Outcome, Failed> {
        self.response.clone().map_err(|e| {
            format!(
                "run failed: {e}\nstdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
            .into()
        })
    }

    fn code(&self) -> Result<i32, Failed> {
        Ok(self.outcome()?.status.code())
    }
}

fn with_fixture(name: &str, test: Test) -> Result<(), Failed> {
    if let Some(reason) = support::skip_reason() {
        return skip(&reason);
    }
    let dir = tempfile::Builder::new()
        .prefix("wharf-runtime-")
        .tempdir()?;
    let layer = dir.path().join("layer");
    support::busybox_layer(&layer)?;
    let fixture = Fixture {
        id: format!("t-{}-{}", name.replace('_', "-"), std::process::id()),
        dir,
        layer,
    };
    test(&fixture)
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(what().into())
    }
}

fn true_exits_zero(f: &Fixture) -> Result<(), Failed> {
    let ran = f.run(&f.config(&["true"]))?;
    let outcome = ran.outcome()?;
    check(outcome.status.code() == 0 && !outcome.oom_killed, || {
        format!("expected exit 0, got {outcome:?}")
    })
}

fn exit_code_is_reported(f: &Fixture) -> Result<(), Failed> {
    let ran = f.run(&f.config(&["sh", "-c", "exit 3"]))?;
    let code = ran.code()?;
    check(code == 3, || format!("expected exit 3, got {code}"))
}

fn env_cwd_and_user_are_applied(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&[
        "sh",
        "-c",
        "echo \"$FOO|$(pwd)|$(id -u):$(id -g)|$(id -G)\"",
    ]);
    config.process.env = vec!["FOO=bar baz".to_owned()];
    config.process.cwd = PathBuf::from("/tmp");
    config.process.user = User {
        uid: 1000,
        gid: 1000,
        additional_gids: vec![10, 20],
    };
    let ran = f.run(&config)?;
    ran.outcome()?;
    let line = ran.stdout.trim();
    check(line == "bar baz|/tmp|1000:1000|1000 10 20", || {
        format!("unexpected output {line:?}, stderr {:?}", ran.stderr)
    })
}

fn hostname_and_etc_files_are_set(f: &Fixture) -> Result<(), Failed> {
    let config = f.config(&[
        "sh",
        "-c",
        "hostname; cat /etc/hostname; cat /etc/resolv.conf",
    ]);
    let ran = f.run(&config)?;
    ran.outcome()?;
    let expected = format!("{0}\n{0}\nnameserver 127.0.0.53\n", config.hostname);
    check(ran.stdout == expected, || {
        format!(
            "expected {expected:?}, got {:?} (stderr {:?})",
            ran.stdout, ran.stderr
        )
    })
}

fn namespaces_are_private(f: &Fixture) -> Result<(), Failed> {
    let ran = f.run(&f.config(&["sh", "-c", "echo $$; ls /sys/class/net"]))?;
    ran.outcome()?;
    check(ran.stdout == "1\nlo\n", || {
        format!(
            "expected pid 1 and only lo, got {:?} ({:?})",
            ran.stdout, ran.stderr
        )
    })
}

fn host_network_is_shared(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&["ls", "/sys/class/net"]);
    config.network = NetworkMode::Host;
    let ran = f.run(&config)?;
    ran.outcome()?;
    let mut host: Vec<String> = fs::read_dir("/sys/class/net")?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    host.sort();
    let inside: Vec<&str> = ran.stdout.split_whitespace().collect();
    check(inside == host, || {
        format!("expected host interfaces {host:?}, got {inside:?}")
    })
}

fn read_only_rootfs_rejects_writes(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&[
        "sh",
        "-c",
        "touch /x && echo wrote; touch /dev/shm/y && echo shm",
    ]);
    config.read_only_rootfs = true;
    let ran = f.run(&config)?;
    ran.outcome()?;
    check(ran.stdout == "shm\n", || {
        format!(
            "expected only /dev/shm to be writable, got {:?}",
            ran.stdout
        )
    })?;
    check(ran.stderr.contains("Read-only file system"), || {
        format!("expected EROFS, stderr {:?}", ran.stderr)
    })
}

fn bind_and_tmpfs_mounts_work(f: &Fixture) -> Result<(), Failed> {
    let data = f.dir.path().join("data");
    fs::create_dir_all(&data)?;
    fs::write(data.join("file"), "from host\n")?;
    let mut config = f.config(&[
        "sh",
        "-c",
        "cat /data/file; touch /data/x || echo ro; touch /scratch/y && echo tmpfs; \
         grep ' /scratch ' /proc/mounts",
    ]);
    config.mounts = vec![
        Mount::Bind {
            source: data.clone(),
            destination: PathBuf::from("/data"),
            read_only: true,
            propagation: Default::default(),
        },
        Mount::Tmpfs {
            destination: PathBuf::from("/scratch"),
            size_bytes: Some(1 << 20),
            mode: Some(0o700),
            read_only: false,
            exec: false,
        },
    ];
    let ran = f.run(&config)?;
    ran.outcome()?;
    let lines: Vec<&str> = ran.stdout.lines().collect();
    check(
        lines.len() == 4
            && lines[..3] == ["from host", "ro", "tmpfs"]
            && lines[3].contains("size=1024k")
            && lines[3].contains("mode=700")
            && lines[3].contains("noexec"),
        || {
            format!(
                "unexpected output {:?} (stderr {:?})",
                ran.stdout, ran.stderr
            )
        },
    )?;
    check(!data.join("x").exists(), || {
        "wrote through a read-only bind".to_owned()
    })
}

fn memory_limit_oom_kills_and_is_reported(f: &Fixture) -> Result<(), Failed> {
    // busybox has no allocator tool; a shell string that doubles forever is one.
    let mut config = f.config(&["sh", "-c", "x=0123456789; while :; do x=$x$x; done"]);
    config.resources = Resources {
        memory: Some(16 << 20),
        memory_swap: Some(MemorySwap::Limit(16 << 20)),
        ..Resources::default()
    };
    let ran = f.run(&config)?;
    let outcome = ran.outcome()?;
    check(outcome.oom_killed && outcome.status.code() == 137, || {
        format!(
            "expected an OOM kill (137), got {outcome:?}, stderr {:?}",
            ran.stderr
        )
    })
}

fn pids_limit_stops_a_fork_loop(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&[
        "sh",
        "-c",
        "n=0; while [ $n -lt 50 ]; do sleep 30 & n=$((n+1)); done; echo all started",
    ]);
    config.resources.pids_limit = Some(10);
    let ran = f.run(&config)?;
    let code = ran.code()?;
    check(
        code != 0 && !ran.stdout.contains("all started") && ran.stderr.contains("fork"),
        || {
            format!(
                "expected the fork loop to fail, got code {code}, stdout {:?}, stderr {:?}",
                ran.stdout, ran.stderr
            )
        },
    )
}

fn cpu_and_ulimits_are_applied(f: &Fixture) -> Result<(), Failed> {
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (cgroup_files, cpu_limits) = if unified {
        // Shares 512 are weight 59 in runc's mapping (v1.3.2), which libcgroups follows.
        ("cpu.max cpu.weight", "50000 100000\n59\n")
    } else {
        (
            "cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares",
            "50000\n100000\n512\n",
        )
    };
    let script = format!("cd /sys/fs/cgroup && cat {cgroup_files}; ulimit -n; ulimit -Hn");
    let mut config = f.config(&["sh", "-c", &script]);
    config.resources.cpus = Some(0.5);
    config.resources.cpu_shares = Some(512);
    config.ulimits = vec![Ulimit {
        kind: oci_spec::runtime::PosixRlimitType::RlimitNofile,
        soft: 256,
        hard: 512,
    }];
    let ran = f.run(&config)?;
    ran.outcome()?;
    check(ran.stdout == format!("{cpu_limits}256\n512\n"), || {
        format!(
            "unexpected output {:?} (stderr {:?})",
            ran.stdout, ran.stderr
        )
    })
}

fn seccomp_denies_unshare(f: &Fixture) -> Result<(), Failed> {
    // Creating a user namespace needs no capability, so only seccomp can refuse it.
    let config = f.config(&[
        "sh",
        "-c",
        "grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshared",
    ]);
    let ran = f.run(&config)?;
    ran.outcome()?;
    check(ran.stdout.split_whitespace().eq(["Seccomp:", "2"]), || {
        format!(
            "expected seccomp filter mode and no unshare, got {:?}",
            ran.stdout
        )
    })?;
    check(ran.stderr.contains("Operation not permitted"), || {
        format!("expected EPERM from unshare, stderr {:?}", ran.stderr)
    })
}

/// Docker's clone rule allows clone(2) only without namespace flags. Compiled here because
/// busybox never calls clone with flags. The binary sits in a second, upper layer.
fn seccomp_denies_namespace_clone(f: &Fixture) -> Result<(), Failed> {
    let tools = f.dir.path().join("tools");
    fs::create_dir_all(tools.join("bin"))?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/clone_newuser.c");
    let compiled = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(tools.join("bin/clone_newuser"))
        .arg(&source)
        .output();
    match compiled {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return skip(&format!(
                "cc -static failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
        Err(error) => return skip(&format!("no C compiler: {error}")),
    }
    let mut config = f.config(&["clone_newuser"]);
    config.lower_dirs.insert(0, tools);
    let ran = f.run(&config)?;
    let code = ran.code()?;
    check(
        code == 1 && ran.stdout == "clone: Operation not permitted\n",
        || {
            format!(
                "expected EPERM from clone(CLONE_NEWUSER), got {code}: {:?}",
                ran.stdout
            )
        },
    )
}

fn skip(reason: &str) -> Result<(), Failed> {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("SKIPPED: {reason}");
    }
    Ok(())
}

/// The device cgroup (a BPF program on cgroup v2) refuses devices that Docker does not allow:
/// the container may make a node of the host's disk (CAP_MKNOD) but not open it.
fn devices_outside_the_allow_list_cannot_be_opened(f: &Fixture) -> Result<(), Failed> {
    let Some(disk) = fs::read_dir("/sys/dev/block")?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .min()
    else {
        return skip("no block device in /sys/dev/block to try");
    };
    let (major, minor) = disk.split_once(':').ok_or("a MAJOR:MINOR name")?;
    let script = format!(
        "mknod /tmp/disk b {major} {minor} && echo made; head -c 1 /tmp/disk >/dev/null && echo opened"
    );
    let ran = f.run(&f.config(&["sh", "-c", &script]))?;
    ran.outcome()?;
    check(
        ran.stdout == "made\n" && ran.stderr.contains("Operation not permitted"),
        || {
            format!(
                "expected block device {disk} to be made but not opened, got {:?} ({:?})",
                ran.stdout, ran.stderr
            )
        },
    )
}

fn privileged_has_no_seccomp(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&[
        "sh",
        "-c",
        "grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshared",
    ]);
    config.privileged = true;
    let ran = f.run(&config)?;
    ran.outcome()?;
    check(
        ran.stdout
            .split_whitespace()
            .eq(["Seccomp:", "0", "unshared"]),
        || {
            format!(
                "expected no seccomp, got {:?} ({:?})",
                ran.stdout, ran.stderr
            )
        },
    )
}

fn dropped_capabilities_are_gone(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&[
        "sh",
        "-c",
        "grep -E '^Cap(Prm|Eff|Bnd):' /proc/self/status; chown 1 /tmp",
    ]);
    config.capabilities.drop = vec![CapabilityName::All];
    config.capabilities.add = vec!["KILL".parse()?];
    let ran = f.run(&config)?;
    let code = ran.code()?;
    // Installing the seccomp filter needed CAP_SYS_ADMIN and CAP_SETPCAP: both gone again.
    let kill_only = "0000000000000020";
    check(
        ran.stdout.split_whitespace().eq([
            "CapPrm:", kill_only, "CapEff:", kill_only, "CapBnd:", kill_only,
        ]) && code != 0,
        || {
            format!(
                "expected only CAP_KILL and a failed chown, got {:?}",
                ran.stdout
            )
        },
    )
}

fn missing_command_fails_cleanly(f: &Fixture) -> Result<(), Failed> {
    let ran = f.run(&f.config(&["/no/such/command"]))?;
    match ran.response {
        Err(error) => check(
            error == "exec: \"/no/such/command\": stat /no/such/command: no such file or directory",
            || format!("expected an error naming the command, got {error:?}"),
        ),
        Ok(outcome) => Err(format!("expected a create error, got {outcome:?}").into()),
    }
}

fn tty_goes_through_the_console_socket(f: &Fixture) -> Result<(), Failed> {
    let mut config = f.config(&["sh", "-c", "tty; echo $TERM; exit 5"]);
    config.process.tty = true;
    let ran = f.act(&config, Action::Tty)?;
    let code = ran.code()?;
    // The pty turns "\n" into "\r\n".
    check(code == 5 && ran.stdout == "/dev/pts/0\r\nxterm\r\n", || {
        format!(
            "expected the tty's name and TERM, got {code}: {:?}",
            ran.stdout
        )
    })
}

fn kill_by_id_stops_a_running_container(f: &Fixture) -> Result<(), Failed> {
    let ran = f.act(&f.config(&["sleep", "60"]), Action::KillById(9))?;
    let code = ran.code()?;
    check(code == 137, || {
        format!("expected SIGKILL (137), got {code}")
    })
}

fn delete_by_id_removes_a_running_container(f: &Fixture) -> Result<(), Failed> {
    let ran = f.act(&f.config(&["sleep", "60"]), Action::DeleteById)?;
    let code = ran.code()?;
    check(code == 137, || {
        format!("expected SIGKILL (137), got {code}")
    })
}
