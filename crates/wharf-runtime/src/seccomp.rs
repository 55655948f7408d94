//! Docker's default seccomp profile, resolved into the OCI form for one container.
//!
//! `seccomp/default.json` is moby's `profiles/seccomp/default.json` (commit 00f3d189).
//! Its rules carry conditions on the architecture, the container's capabilities and the
//! kernel version; [`default_profile`] resolves them the way moby's `setupSeccomp` does.

use std::fmt;

use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompBuilder,
    LinuxSyscall, LinuxSyscallBuilder,
};
use serde::Deserialize;

const DEFAULT_JSON: &str = include_str!("seccomp/default.json");

/// Why the embedded profile could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("embedded seccomp profile seccomp/default.json does not parse")]
    Parse(#[source] serde_json::Error),
    #[error("seccomp rule for {names:?} has an invalid minKernel {value:?}")]
    MinKernel { names: Vec<String>, value: String },
    #[error("no seccomp architecture for host architecture {0:?}")]
    UnsupportedArch(&'static str),
    #[error("seccomp {what} does not build")]
    Build {
        what: String,
        #[source]
        source: oci_spec::OciSpecError,
    },
}

/// A kernel version as `major.minor`, the precision of the profile's `minKernel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
}

impl KernelVersion {
    /// Parses the leading `major.minor` of a release string such as `6.1.0-13-amd64`.
    pub fn parse(release: &str) -> Option<Self> {
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Self { major, minor })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Profile {
    default_action: LinuxSeccompAction,
    default_errno_ret: Option<u32>,
    arch_map: Vec<ArchMap>,
    syscalls: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArchMap {
    architecture: Arch,
    sub_architectures: Option<Vec<Arch>>,
}

/// Not `deny_unknown_fields`: moby's rules may carry a `comment`, which we ignore.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    names: Vec<String>,
    action: LinuxSeccompAction,
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Vec<LinuxSeccompArg>,
    #[serde(default)]
    includes: Filter,
    #[serde(default)]
    excludes: Filter,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    caps: Vec<Capability>,
    /// Go architecture names (`amd64`, `arm64`...).
    #[serde(default)]
    arches: Vec<String>,
    min_kernel: Option<String>,
}

/// The host architecture in Go's spelling (the profile's) and libseccomp's.
fn host_arch() -> Result<(&'static str, Arch), SeccompError> {
    match std::env::consts::ARCH {
        "x86_64" => Ok(("amd64", Arch::ScmpArchX86_64)),
        "aarch64" => Ok(("arm64", Arch::ScmpArchAarch64)),
        other => Err(SeccompError::UnsupportedArch(other)),
    }
}

/// Docker's default profile for a container whose bounding set is `caps`, on `kernel`.
pub fn default_profile(
    caps: &[Capability],
    kernel: KernelVersion,
) -> Result<LinuxSeccomp, SeccompError> {
    let profile: Profile = serde_json::from_str(DEFAULT_JSON).map_err(SeccompError::Parse)?;
    let (go_arch, native) = host_arch()?;

    let mut architectures = Vec::new();
    for map in profile.arch_map.iter().filter(|m| m.architecture == native) {
        architectures.push(map.architecture);
        architectures.extend(map.sub_architectures.iter().flatten().copied());
    }

    let mut syscalls = Vec::new();
    for rule in &profile.syscalls {
        if applies(rule, go_arch, caps, kernel)? {
            syscalls.push(oci_rule(rule)?);
        }
    }

    let mut builder = LinuxSeccompBuilder::default()
        .default_action(profile.default_action)
        .architectures(architectures)
        .syscalls(syscalls);
    if let Some(errno) = profile.default_errno_ret {
        builder = builder.default_errno_ret(errno);
    }
    builder.build().map_err(|source| SeccompError::Build {
        what: "profile".to_owned(),
        source,
    })
}

/// moby's `setupSeccomp`: excludes first (any match drops the rule), then includes (all must
/// match).
fn applies(
    rule: &Rule,
    go_arch: &str,
    caps: &[Capability],
    kernel: KernelVersion,
) -> Result<bool, SeccompError> {
    let min_kernel = |value: &Option<String>| -> Result<Option<KernelVersion>, SeccompError> {
        value
            .as_deref()
            .map(|v| {
                KernelVersion::parse(v).ok_or_else(|| SeccompError::MinKernel {
                    names: rule.names.clone(),
                    value: v.to_owned(),
                })
            })
            .transpose()
    };

    let ex = &rule.excludes;
    if ex.arches.iter().any(|a| a == go_arch) || ex.caps.iter().any(|c| caps.contains(c)) {
        return Ok(false);
    }
    if min_kernel(&ex.min_kernel)?.is_some_and(|min| kernel >= min) {
        return Ok(false);
    }

    let inc = &rule.includes;
    if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == go_arch) {
        return Ok(false);
    }
    if !inc.caps.iter().all(|c| caps.contains(c)) {
        return Ok(false);
    }
    if min_kernel(&inc.min_kernel)?.is_some_and(|min| kernel < min) {
        return Ok(false);
    }
    Ok(true)
}

fn oci_rule(rule: &Rule) -> Result<LinuxSyscall, SeccompError> {
    let mut builder = LinuxSyscallBuilder::default()
        .names(rule.names.clone())
        .action(rule.action);
    if let Some(errno) = rule.errno_ret {
        builder = builder.errno_ret(errno);
    }
    if !rule.args.is_empty() {
        builder = builder.args(rule.args.clone());
    }
    builder.build().map_err(|source| SeccompError::Build {
        what: format!("rule for {:?}", rule.names),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::DOCKER_DEFAULT;

    const KERNEL: KernelVersion = KernelVersion { major: 6, minor: 1 };

    fn allowed(profile: &LinuxSeccomp, name: &str) -> bool {
        profile.syscalls().iter().flatten().any(|rule| {
            rule.action() == LinuxSeccompAction::ScmpActAllow
                && rule.args().is_none()
                && rule.names().iter().any(|n| n == name)
        })
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(
            KernelVersion::parse("6.18.44-fc-v669"),
            Some(KernelVersion {
                major: 6,
                minor: 18
            })
        );
        assert_eq!(
            KernelVersion::parse("4.8"),
            Some(KernelVersion { major: 4, minor: 8 })
        );
        assert_eq!(KernelVersion::parse("six"), None);
    }

    #[test]
    fn default_caps_deny_admin_syscalls() {
        let profile = default_profile(&DOCKER_DEFAULT, KERNEL).unwrap();
        assert_eq!(profile.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(profile.default_errno_ret(), Some(1));
        assert_eq!(
            profile.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        for name in ["read", "arch_prctl", "ptrace", "chroot"] {
            assert!(allowed(&profile, name), "{name} should be allowed");
        }
        for name in [
            "mount",
            "unshare",
            "setns",
            "reboot",
            "bpf",
            "open_by_handle_at",
        ] {
            assert!(!allowed(&profile, name), "{name} should be denied");
        }
        let clone3 = profile
            .syscalls()
            .iter()
            .flatten()
            .find(|r| *r.names() == ["clone3"])
            .unwrap();
        assert_eq!(clone3.errno_ret(), Some(38));
    }

    #[test]
    fn clone_mask_is_in_oci_form() {
        let profile = default_profile(&DOCKER_DEFAULT, KERNEL).unwrap();
        let clone = profile
            .syscalls()
            .iter()
            .flatten()
            .find(|r| *r.names() == ["clone"])
            .unwrap();
        let arg = clone.args().as_ref().unwrap()[0];
        assert_eq!(arg.index(), 0);
        // The mask is `value`, the value compared with `valueTwo` (filter.rs reads it so).
        assert_eq!(arg.value(), 0x7E02_0000);
        assert_eq!(arg.value_two().unwrap_or(0), 0);
    }

    #[test]
    fn sys_admin_allows_mount_and_lifts_clone_filter() {
        let mut caps = DOCKER_DEFAULT.to_vec();
        caps.push(Capability::SysAdmin);
        let profile = default_profile(&caps, KERNEL).unwrap();
        assert!(allowed(&profile, "mount"));
        assert!(allowed(&profile, "clone3"));
        assert!(!profile
            .syscalls()
            .iter()
            .flatten()
            .any(|r| *r.names() == ["clone3"] && r.errno_ret() == Some(38)));
    }

    #[test]
    fn old_kernels_lose_ptrace() {
        let old = KernelVersion { major: 4, minor: 4 };
        let profile = default_profile(&DOCKER_DEFAULT, old).unwrap();
        assert!(!allowed(&profile, "ptrace"));
    }
}
