//! What the spec depends on about the host, read once so that [`crate::spec::build`] stays pure.

use std::fs;
use std::io;
use std::path::PathBuf;

use oci_spec::runtime::{Capability, PosixRlimitType};
use rustix::process::Resource;

use crate::caps;
use crate::seccomp::KernelVersion;

/// Facts about the host a container's spec depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// For the seccomp profile's kernel conditions.
    pub kernel: KernelVersion,
    /// This process's bounding set: a container can get no capability outside it (e.g.
    /// CAP_SYS_RESOURCE, which root lacks on some sandboxes).
    pub capabilities: Vec<Capability>,
    /// This process's hard rlimits (`u64::MAX` for unlimited): raising one needs
    /// CAP_SYS_RESOURCE, so a container's ulimits must stay at or below them.
    pub hard_limits: Vec<(PosixRlimitType, u64)>,
}

/// The host could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no capability bounding set (CapBnd) in {0}")]
    NoBoundingSet(PathBuf),
    #[error("cannot read the kernel version from release {0:?}")]
    KernelVersion(String),
}

const RLIMITS: [(PosixRlimitType, Resource); 16] = [
    (PosixRlimitType::RlimitCpu, Resource::Cpu),
    (PosixRlimitType::RlimitFsize, Resource::Fsize),
    (PosixRlimitType::RlimitData, Resource::Data),
    (PosixRlimitType::RlimitStack, Resource::Stack),
    (PosixRlimitType::RlimitCore, Resource::Core),
    (PosixRlimitType::RlimitRss, Resource::Rss),
    (PosixRlimitType::RlimitNproc, Resource::Nproc),
    (PosixRlimitType::RlimitNofile, Resource::Nofile),
    (PosixRlimitType::RlimitMemlock, Resource::Memlock),
    (PosixRlimitType::RlimitAs, Resource::As),
    (PosixRlimitType::RlimitLocks, Resource::Locks),
    (PosixRlimitType::RlimitSigpending, Resource::Sigpending),
    (PosixRlimitType::RlimitMsgqueue, Resource::Msgqueue),
    (PosixRlimitType::RlimitNice, Resource::Nice),
    (PosixRlimitType::RlimitRtprio, Resource::Rtprio),
    (PosixRlimitType::RlimitRttime, Resource::Rttime),
];

impl Host {
    /// Reads this process's kernel version, bounding set and hard rlimits.
    pub fn current() -> Result<Self, HostError> {
        let uname = rustix::system::uname();
        let release = uname.release().to_string_lossy();
        let kernel = KernelVersion::parse(&release)
            .ok_or_else(|| HostError::KernelVersion(release.clone().into_owned()))?;

        let status_path = PathBuf::from("/proc/self/status");
        let status = fs::read_to_string(&status_path).map_err(|source| HostError::Read {
            path: status_path.clone(),
            source,
        })?;
        let capabilities = status
            .lines()
            .find_map(|line| line.strip_prefix("CapBnd:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .map(bounding_set)
            .ok_or(HostError::NoBoundingSet(status_path))?;

        let hard_limits = RLIMITS
            .iter()
            .map(|&(kind, resource)| {
                let hard = rustix::process::getrlimit(resource).maximum;
                (kind, hard.unwrap_or(u64::MAX))
            })
            .collect();

        Ok(Host {
            kernel,
            capabilities,
            hard_limits,
        })
    }

    /// The hard limit for `kind`; unlimited when unknown.
    pub fn hard_limit(&self, kind: PosixRlimitType) -> u64 {
        self.hard_limits
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(u64::MAX, |&(_, hard)| hard)
    }
}

/// The capabilities whose bits are set in a `CapBnd` mask.
fn bounding_set(mask: u64) -> Vec<Capability> {
    caps::ALL
        .iter()
        .enumerate()
        .filter(|&(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, cap)| *cap)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_mask_maps_bits_to_capabilities() {
        // Bit 24 (CAP_SYS_RESOURCE) missing, as on the sandbox this was written on.
        let caps = bounding_set(0x0000_01ff_feff_ffff);
        assert_eq!(caps.len(), caps::ALL.len() - 1);
        assert!(!caps.contains(&Capability::SysResource));
        assert_eq!(bounding_set(1 << 5), vec![Capability::Kill]);
    }

    #[test]
    fn current_host_reads() {
        let host = Host::current().unwrap();
        assert!(host.kernel.major >= 3);
        assert_eq!(host.hard_limits.len(), RLIMITS.len());
    }
}
