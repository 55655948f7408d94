//! Seccomp filters compiled once per profile and installed by wharf itself, right before the
//! container's program starts.
//!
//! Given a profile, libcontainer compiles it with libseccomp inside every container's init:
//! Docker's profile for x86_64, x86 and x32 costs milliseconds of CPU at each start, and
//! libcontainer 0.7 does not filter the processes started by `exec` at all. Instead,
//! [`hand_off`] takes the profile out of the spec libcontainer gets, compiles it to classic BPF
//! once (cached under the runtime's state root, keyed by the profile, the compiler: this
//! file's source and libseccomp's version, and the host's architecture)
//! and returns a [`FilteringExecutor`]: libcontainer's last step in the container's process,
//! which installs the program and execs. The init and every exec'd process (exec,
//! healthchecks) run under the same program.
//!
//! Without no_new_privs, installing a filter needs CAP_SYS_ADMIN (seccomp(2)); runc and
//! libcontainer install theirs before dropping capabilities for that reason. libcontainer
//! drops capabilities before the executor runs, so the spec it gets grants CAP_SYS_ADMIN (and
//! CAP_SETPCAP, which shrinking the bounding set needs) when the container lacks them, and the
//! executor drops them again once the filter is in place, before exec. In between only
//! libcontainer's and wharf's code runs, in a process libcontainer made non-dumpable: of the
//! container's other processes (when `exec` starts one) only one holding CAP_SYS_PTRACE
//! (`--cap-add SYS_PTRACE`, `--privileged`) could attach to it in that window, as to runc's
//! init for `docker exec`.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompOperator, Spec,
};
use sha2::{Digest, Sha256};

use crate::config::INIT_PATH;
use crate::start_error::{enter_working_dir, find_program, StartError};
use crate::sys::{self, BpfInstruction};

/// The container directory's copy of its program, for the processes `exec` starts later.
pub const PROGRAM_FILE: &str = "seccomp.bpf";

/// The spec annotation naming the capabilities granted only to install the filter.
const DROP_ANNOTATION: &str = "org.wharf.seccomp.drop-after-install";

/// The spec annotation with the sha256 of the installed program: `exec` installs that one or
/// refuses to run.
const PROGRAM_ANNOTATION: &str = "org.wharf.seccomp.program";

/// What installing a filter needs without no_new_privs, and how each is named in both crates.
const INSTALL_CAPS: [(Capability, caps::Capability); 2] = [
    (Capability::SysAdmin, caps::Capability::CAP_SYS_ADMIN),
    (Capability::Setpcap, caps::Capability::CAP_SETPCAP),
];

/// The kernel's limit on a classic BPF program's length (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

/// Why a profile could not be compiled, cached or read back.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("seccomp action {0:?} is not supported")]
    Action(LinuxSeccompAction),
    #[error("seccomp architecture {0:?} is not supported")]
    Arch(Arch),
    #[error("seccomp filter flags are not supported (the profile sets {0})")]
    Flags(String),
    #[error("libseccomp could not {action}")]
    Libseccomp {
        action: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0} is not a seccomp program")]
    NotAProgram(PathBuf),
    #[error("{0} is not the seccomp program the container was started with (missing or changed)")]
    NotTheContainersProgram(PathBuf),
    #[error("the spec has no process to grant capabilities to")]
    NoProcess,
}

/// A compiled seccomp filter: classic BPF, in the kernel's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program(Vec<BpfInstruction>);

impl Program {
    /// Reads the bytes libseccomp exports (`struct sock_filter`s in native byte order).
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || bytes.len() % 8 != 0 || bytes.len() / 8 > MAX_INSTRUCTIONS {
            return None;
        }
        let instructions = bytes.chunks_exact(8).map(|b| BpfInstruction {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        });
        Some(Self(instructions.collect()))
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.0.len() * 8);
        for i in &self.0 {
            bytes.extend_from_slice(&i.code.to_ne_bytes());
            bytes.extend_from_slice(&[i.jt, i.jf]);
            bytes.extend_from_slice(&i.k.to_ne_bytes());
        }
        bytes
    }

    fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.to_bytes()))
    }

    fn read(path: &Path) -> Result<Option<Self>, FilterError> {
        match fs::read(path) {
            Ok(bytes) => Program::from_bytes(&bytes)
                .map(Some)
                .ok_or_else(|| FilterError::NotAProgram(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(io_error("read", path, source)),
        }
    }
}

/// Takes the seccomp profile out of `spec` (libcontainer must not see it), compiles it or
/// finds it compiled in `cache_dir`, and grants the process what installing it needs. The
/// returned executor installs it; [`FilteringExecutor::save`] keeps it for later execs.
///
/// wharf's specs grant one capability set as bounding, effective and permitted: a capability
/// missing from any of them is granted in all three and dropped from all three after install.
pub fn hand_off(spec: &mut Spec, cache_dir: &Path) -> Result<FilteringExecutor, FilterError> {
    let Some(profile) = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.seccomp_mut().take())
    else {
        return Ok(FilteringExecutor::default());
    };
    let program = cached_program(&profile, cache_dir)?;
    let process = spec.process_mut().as_mut().ok_or(FilterError::NoProcess)?;
    let mut drop_after_install = Vec::new();
    if process.no_new_privileges() != Some(true) {
        let mut sets = process.capabilities().clone().unwrap_or_default();
        for (cap, name) in INSTALL_CAPS {
            let granted = [sets.bounding(), sets.effective(), sets.permitted()];
            if granted
                .iter()
                .all(|set| set.as_ref().is_some_and(|s| s.contains(&cap)))
            {
                continue;
            }
            let with = |set: &Option<oci_spec::runtime::Capabilities>| {
                let mut set = set.clone().unwrap_or_default();
                set.insert(cap);
                set
            };
            sets.set_bounding(Some(with(sets.bounding())));
            sets.set_effective(Some(with(sets.effective())));
            sets.set_permitted(Some(with(sets.permitted())));
            drop_after_install.push(name);
        }
        process.set_capabilities(Some(sets));
    }
    let annotations = spec.annotations_mut().get_or_insert_with(Default::default);
    annotations.insert(PROGRAM_ANNOTATION.to_owned(), program.digest());
    if !drop_after_install.is_empty() {
        let names: Vec<String> = drop_after_install.iter().map(|c| c.to_string()).collect();
        annotations.insert(DROP_ANNOTATION.to_owned(), names.join(","));
    }
    Ok(FilteringExecutor {
        program: Some(program),
        drop_after_install,
        working_dir: None,
        init: false,
    })
}

/// libseccomp's output for `profile`, compiled at most once per profile and compiler: later
/// calls read `cache_dir/<key>.bpf`. The key also holds this file's source (how a profile is
/// translated for libseccomp), libseccomp's version and the host's architecture, so that an
/// upgraded wharf or libseccomp never reads a program the old one compiled (the cache lives
/// until reboot).
fn cached_program(profile: &LinuxSeccomp, cache_dir: &Path) -> Result<Program, FilterError> {
    let json =
        serde_json::to_vec(profile).map_err(|e| io_error("serialize", cache_dir, e.into()))?;
    let version =
        libseccomp::ScmpVersion::current().map_err(libseccomp_error("read its version"))?;
    let native = ScmpArch::native();
    let mut hasher = Sha256::new();
    hasher.update(include_str!("filter.rs"));
    hasher.update(format!(
        "\n{}.{}.{} {native:?}\n",
        version.major, version.minor, version.micro
    ));
    hasher.update(&json);
    let path = cache_dir.join(format!("{}.bpf", hex::encode(hasher.finalize())));
    // A torn or damaged file (it is written aside and renamed in, so unexpected) is rebuilt.
    if let Ok(Some(program)) = Program::read(&path) {
        return Ok(program);
    }
    fs::create_dir_all(cache_dir).map_err(|e| io_error("create directory", cache_dir, e))?;
    // Removed if anything fails before it is renamed in.
    let partial = tempfile::NamedTempFile::new_in(cache_dir)
        .map_err(|e| io_error("create a file in", cache_dir, e))?;
    compile(profile, partial.as_file(), partial.path())?;
    partial
        .persist(&path)
        .map_err(|e| io_error("rename", e.file.path(), e.error))?;
    Program::read(&path)?.ok_or_else(|| FilterError::NotAProgram(path.clone()))
}

/// Compiles `profile` with libseccomp into `out` (the file at `path`), with OCI's (and
/// runc's) meaning.
fn compile(profile: &LinuxSeccomp, out: &fs::File, path: &Path) -> Result<(), FilterError> {
    // Flags are options of the kernel call that installs a filter, not part of the program.
    if let Some(flags) = profile.flags().as_ref().filter(|f| !f.is_empty()) {
        return Err(FilterError::Flags(format!("{flags:?}")));
    }
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut filter =
        ScmpFilterContext::new(default).map_err(libseccomp_error("create a filter"))?;
    for &arch in profile.architectures().iter().flatten() {
        filter
            .add_arch(scmp_arch(arch)?)
            .map_err(libseccomp_error(format!("add architecture {arch:?}")))?;
    }
    for rule in profile.syscalls().iter().flatten() {
        let action = action(rule.action(), rule.errno_ret())?;
        if action == default {
            // libseccomp refuses a rule that does what the default does.
            continue;
        }
        let args = rule.args().as_deref().unwrap_or_default();
        let comparisons: Vec<ScmpArgCompare> = args.iter().map(comparison).collect();
        let indexes: HashSet<usize> = args.iter().map(LinuxSeccompArg::index).collect();
        // Several comparisons of one argument mean "any of them" (runc): a rule for each.
        let conditions: Vec<&[ScmpArgCompare]> = if indexes.len() == args.len() {
            vec![&comparisons]
        } else {
            comparisons.chunks(1).collect()
        };
        for name in rule.names() {
            // A name libseccomp does not know is a syscall of a newer kernel: skipped, as runc.
            let Ok(syscall) = libseccomp::ScmpSyscall::from_name(name) else {
                continue;
            };
            for condition in &conditions {
                filter
                    .add_rule_conditional(action, syscall, condition)
                    .map_err(libseccomp_error(format!("add the rule for {name}")))?;
            }
        }
    }
    filter
        .export_bpf(out)
        .map_err(libseccomp_error("export the filter"))?;
    out.sync_all().map_err(|e| io_error("write", path, e))
}

fn action(action: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, FilterError> {
    Ok(match action {
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActErrno => {
            ScmpAction::Errno(errno.map_or(libc::EPERM, |e| e as i32))
        }
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        // Both need a process on the other end (a tracer, a notify listener).
        other @ (LinuxSeccompAction::ScmpActTrace | LinuxSeccompAction::ScmpActNotify) => {
            return Err(FilterError::Action(other))
        }
    })
}

fn scmp_arch(arch: Arch) -> Result<ScmpArch, FilterError> {
    Ok(match arch {
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchArm => ScmpArch::Arm,
        other => return Err(FilterError::Arch(other)),
    })
}

/// OCI's form: for SCMP_CMP_MASKED_EQ `value` is the mask and `valueTwo` the value compared
/// with (Docker's clone rule relies on it).
fn comparison(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let index = arg.index() as u32;
    let (op, datum) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    ScmpArgCompare::new(index, op, datum)
}

/// libcontainer's last steps in the container's process. Before the process is reported
/// ready: enters the working directory when the caller left that to it, and checks that the
/// command can run ([`find_program`]), with errors the caller can read back
/// ([`StartError::find`]). At start: installs the seccomp program, drops the capabilities
/// granted only for that, then execs the program.
#[derive(Debug, Clone, Default)]
pub struct FilteringExecutor {
    program: Option<Program>,
    drop_after_install: Vec<caps::Capability>,
    /// A working directory on a mount the caller could not look into ahead (libcontainer's
    /// spec then says `/`).
    working_dir: Option<PathBuf>,
    /// The container's init, whose exec failing after start nobody would hear of:
    /// libcontainer has closed the channel to its caller by then.
    init: bool,
}

impl FilteringExecutor {
    /// The executor of a container's init: an exec failing after start (the program changed
    /// since it was checked, or is open for writing) is written to the process's stderr, the
    /// container's output, and the process exits with Docker's code for it, as runc's init
    /// reports it.
    pub fn for_init(mut self) -> Self {
        self.init = true;
        self
    }

    /// Enters `dir` in the container before the command is checked (see the field).
    pub fn with_working_dir(mut self, dir: PathBuf) -> Self {
        self.working_dir = Some(dir);
        self
    }

    /// Keeps the program in the container directory `bundle` for [`FilteringExecutor::load`].
    pub fn save(&self, bundle: &Path) -> Result<(), FilterError> {
        let path = bundle.join(PROGRAM_FILE);
        match &self.program {
            Some(program) => {
                let mut partial = tempfile::NamedTempFile::new_in(bundle)
                    .map_err(|e| io_error("create a file in", bundle, e))?;
                io::Write::write_all(&mut partial, &program.to_bytes())
                    .and_then(|()| partial.as_file().sync_all())
                    .map_err(|e| io_error("write", partial.path(), e))?;
                partial
                    .persist(&path)
                    .map(drop)
                    .map_err(|e| io_error("rename", e.file.path(), e.error))
            }
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", &path, e)),
                _ => Ok(()),
            },
        }
    }

    /// The executor of a process started in the running container of `bundle`, whose spec
    /// (as handed to libcontainer) is `spec`.
    pub fn load(bundle: &Path, spec: &Spec) -> Result<Self, FilterError> {
        let annotation = |name: &str| spec.annotations().as_ref().and_then(|a| a.get(name));
        let program = match annotation(PROGRAM_ANNOTATION) {
            Some(digest) => {
                let path = bundle.join(PROGRAM_FILE);
                match Program::read(&path)? {
                    Some(program) if program.digest() == *digest => Some(program),
                    _ => return Err(FilterError::NotTheContainersProgram(path)),
                }
            }
            None => None,
        };
        let annotation = annotation(DROP_ANNOTATION);
        let drop_after_install = annotation
            .map(|names| {
                names
                    .split(',')
                    .filter_map(|name| INSTALL_CAPS.iter().find(|(_, c)| c.to_string() == name))
                    .map(|&(_, cap)| cap)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            program,
            drop_after_install,
            working_dir: None,
            init: false,
        })
    }

    fn install(&self) -> Result<(), ExecutorError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ExecutorError::Other(format!("cannot {what}: {e}"))
        };
        if let Some(program) = &self.program {
            sys::install_seccomp_filter(&program.0)
                .map_err(|e| failed("install the seccomp filter", &e))?;
        }
        // The bounding set first: shrinking it needs CAP_SETPCAP, still effective until the end.
        for set in [
            caps::CapSet::Bounding,
            caps::CapSet::Effective,
            caps::CapSet::Permitted,
        ] {
            for &cap in &self.drop_after_install {
                caps::drop(None, set, cap)
                    .map_err(|e| failed(&format!("drop {cap} from the {set:?} set"), &e))?;
            }
        }
        Ok(())
    }
}

impl Executor for FilteringExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        self.install()?;
        let (args, path_var) = command_line(spec);
        let Some((program, rest)) = args.split_first() else {
            return Err(ExecutorError::InvalidArg);
        };
        // Returns only on failure. Its environment is the container's: libcontainer set it.
        let error = std::process::Command::new(program).args(rest).exec();
        let errno = error.raw_os_error().unwrap_or(libc::EIO);
        let error = StartError::of_exec(checked_command(args), path_var, errno);
        if self.init {
            // The container's own output, as any message of its process (see `for_init`).
            let _ = writeln!(io::stderr(), "{error}");
            std::process::exit(error.exit_code());
        }
        Err(ExecutorError::Other(error.to_message()))
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let failed =
            |error: StartError| ExecutorValidationError::ArgValidationError(error.to_message());
        if let Some(dir) = &self.working_dir {
            enter_working_dir(dir).map_err(failed)?;
        }
        let (args, path_var) = command_line(spec);
        if args.is_empty() {
            return Err(ExecutorValidationError::ArgValidationError(
                "the process has no command".into(),
            ));
        }
        find_program(checked_command(args), path_var).map_err(failed)?;
        Ok(())
    }
}

/// The process's argv and its `PATH`.
fn command_line(spec: &Spec) -> (&[String], Option<&str>) {
    let process = spec.process().as_ref();
    let args = process
        .and_then(|p| p.args().as_deref())
        .unwrap_or_default();
    let path_var = process
        .and_then(|p| p.env().as_ref())
        .and_then(|env| env.iter().find_map(|e| e.strip_prefix("PATH=")));
    (args, path_var)
}

/// The user's command in `args`: behind `--init`'s binary (`docker-init -- command`), the
/// command it runs, whose failure would otherwise be only tini's message.
fn checked_command(args: &[String]) -> &str {
    match args {
        [init, separator, command, ..] if init == INIT_PATH && separator == "--" => command,
        [command, ..] => command,
        [] => "",
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> FilterError {
    FilterError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn libseccomp_error(
    action: impl Into<String>,
) -> impl FnOnce(libseccomp::error::SeccompError) -> FilterError {
    let action = action.into();
    move |source| FilterError::Libseccomp { action, source }
}

#[cfg(test)]
mod tests {
    use oci_spec::runtime::{LinuxBuilder, LinuxCapabilitiesBuilder, ProcessBuilder, SpecBuilder};

    use super::*;
    use crate::caps::DOCKER_DEFAULT;
    use crate::seccomp::{default_profile, KernelVersion};

    const KERNEL: KernelVersion = KernelVersion { major: 6, minor: 1 };

    fn bpf_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn programs_are_compiled_once_per_profile() {
        let cache = tempfile::tempdir().unwrap();
        let profile = default_profile(&DOCKER_DEFAULT, KERNEL).unwrap();
        let first = cached_program(&profile, cache.path()).unwrap();
        let files = bpf_files(cache.path());
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(Program::from_bytes(&first.to_bytes()), Some(first.clone()));

        // A later call reads the file: a program written there is what it gets.
        let marker = Program(vec![first.0[0]]);
        fs::write(&files[0], marker.to_bytes()).unwrap();
        assert_eq!(cached_program(&profile, cache.path()).unwrap(), marker);

        // A damaged file is compiled again.
        fs::write(&files[0], b"abc").unwrap();
        assert_eq!(cached_program(&profile, cache.path()).unwrap(), first);

        // Another profile (CAP_SYS_ADMIN allows mount) is another program.
        let mut caps = DOCKER_DEFAULT.to_vec();
        caps.push(Capability::SysAdmin);
        let admin = default_profile(&caps, KERNEL).unwrap();
        assert_ne!(cached_program(&admin, cache.path()).unwrap(), first);
        assert_eq!(bpf_files(cache.path()).len(), 2);
    }

    #[test]
    fn profiles_wharf_never_writes_are_refused() {
        let cache = tempfile::tempdir().unwrap();
        let mut profile = default_profile(&DOCKER_DEFAULT, KERNEL).unwrap();
        profile.set_default_action(LinuxSeccompAction::ScmpActNotify);
        assert!(matches!(
            cached_program(&profile, cache.path()),
            Err(FilterError::Action(LinuxSeccompAction::ScmpActNotify))
        ));
        // Nothing half-written is left.
        assert!(bpf_files(cache.path()).is_empty());
    }

    fn spec(caps: &[Capability], no_new_privileges: Option<bool>) -> Spec {
        let set: oci_spec::runtime::Capabilities = caps.iter().copied().collect();
        let capabilities = LinuxCapabilitiesBuilder::default()
            .bounding(set.clone())
            .effective(set.clone())
            .permitted(set)
            .build()
            .unwrap();
        let mut process = ProcessBuilder::default()
            .capabilities(capabilities)
            .build()
            .unwrap();
        process.set_no_new_privileges(no_new_privileges);
        let linux = LinuxBuilder::default()
            .seccomp(default_profile(caps, KERNEL).unwrap())
            .build()
            .unwrap();
        let mut spec = SpecBuilder::default()
            .process(process)
            .linux(linux)
            .build()
            .unwrap();
        spec.set_annotations(None);
        spec
    }

    fn effective(spec: &Spec) -> oci_spec::runtime::Capabilities {
        let process = spec.process().as_ref().unwrap();
        let caps = process.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding(), caps.effective());
        assert_eq!(caps.permitted(), caps.effective());
        caps.effective().clone().unwrap()
    }

    #[test]
    fn hand_off_grants_what_installing_needs_and_exec_finds_it_again() {
        let cache = tempfile::tempdir().unwrap();
        let bundle = tempfile::tempdir().unwrap();
        let caps: Vec<Capability> = DOCKER_DEFAULT
            .into_iter()
            .filter(|c| *c != Capability::Setpcap)
            .collect();
        let mut spec = spec(&caps, None);
        let executor = hand_off(&mut spec, cache.path()).unwrap();

        assert!(spec.linux().as_ref().unwrap().seccomp().is_none());
        let granted = effective(&spec);
        assert!(granted.contains(&Capability::SysAdmin) && granted.contains(&Capability::Setpcap));
        assert_eq!(granted.len(), caps.len() + 2);
        assert_eq!(
            executor.drop_after_install,
            [
                caps::Capability::CAP_SYS_ADMIN,
                caps::Capability::CAP_SETPCAP
            ]
        );
        assert!(executor.program.is_some());

        executor.save(bundle.path()).unwrap();
        let program_file = bundle.path().join(PROGRAM_FILE);
        assert_eq!(
            bpf_files(bundle.path()),
            std::slice::from_ref(&program_file)
        );
        let loaded = FilteringExecutor::load(bundle.path(), &spec).unwrap();
        assert_eq!(loaded.program, executor.program);
        assert_eq!(loaded.drop_after_install, executor.drop_after_install);

        // exec never runs a process with another program, or none, in its place.
        let other = Program(executor.program.as_ref().unwrap().0[..1].to_vec());
        fs::write(&program_file, other.to_bytes()).unwrap();
        let refused = FilteringExecutor::load(bundle.path(), &spec).unwrap_err();
        assert!(matches!(&refused, FilterError::NotTheContainersProgram(p) if *p == program_file));
        fs::remove_file(&program_file).unwrap();
        assert!(matches!(
            FilteringExecutor::load(bundle.path(), &spec),
            Err(FilterError::NotTheContainersProgram(_))
        ));
    }

    #[test]
    fn no_new_privileges_needs_no_capability() {
        let cache = tempfile::tempdir().unwrap();
        let mut spec = spec(&DOCKER_DEFAULT, Some(true));
        let executor = hand_off(&mut spec, cache.path()).unwrap();
        assert_eq!(effective(&spec).len(), DOCKER_DEFAULT.len());
        assert!(executor.drop_after_install.is_empty());
        let annotations = spec.annotations().as_ref().unwrap();
        assert!(annotations.contains_key(PROGRAM_ANNOTATION));
        assert!(!annotations.contains_key(DROP_ANNOTATION));
    }

    #[test]
    fn without_a_profile_nothing_is_installed_or_kept() {
        let cache = tempfile::tempdir().unwrap();
        let bundle = tempfile::tempdir().unwrap();
        let mut spec = spec(&DOCKER_DEFAULT, None);
        spec.linux_mut().as_mut().unwrap().set_seccomp(None);
        fs::write(bundle.path().join(PROGRAM_FILE), b"stale").unwrap();
        let executor = hand_off(&mut spec, cache.path()).unwrap();
        assert!(executor.program.is_none() && executor.drop_after_install.is_empty());
        executor.save(bundle.path()).unwrap();
        assert!(!bundle.path().join(PROGRAM_FILE).exists());
        assert!(bpf_files(cache.path()).is_empty());
    }
}
