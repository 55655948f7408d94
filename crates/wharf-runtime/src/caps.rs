//! Capability sets as Docker computes them (moby `oci/caps`: `DefaultCapabilities`,
//! `TweakCapabilities`).

use oci_spec::runtime::Capability;

use crate::config::{CapabilityChanges, CapabilityName};

/// Docker's default capability set, in Docker's order.
pub const DOCKER_DEFAULT: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Every capability up to CAP_CHECKPOINT_RESTORE (40), by kernel number: what `ALL` and
/// `--privileged` grant. All of them exist on the kernels wharf supports (5.9 and later).
pub const ALL: [Capability; 41] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::DacReadSearch,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setpcap,
    Capability::LinuxImmutable,
    Capability::NetBindService,
    Capability::NetBroadcast,
    Capability::NetAdmin,
    Capability::NetRaw,
    Capability::IpcLock,
    Capability::IpcOwner,
    Capability::SysModule,
    Capability::SysRawio,
    Capability::SysChroot,
    Capability::SysPtrace,
    Capability::SysPacct,
    Capability::SysAdmin,
    Capability::SysBoot,
    Capability::SysNice,
    Capability::SysResource,
    Capability::SysTime,
    Capability::SysTtyConfig,
    Capability::Mknod,
    Capability::Lease,
    Capability::AuditWrite,
    Capability::AuditControl,
    Capability::Setfcap,
    Capability::MacOverride,
    Capability::MacAdmin,
    Capability::Syslog,
    Capability::WakeAlarm,
    Capability::BlockSuspend,
    Capability::AuditRead,
    Capability::Perfmon,
    Capability::Bpf,
    Capability::CheckpointRestore,
];

/// The container's bounding (= permitted = effective) set.
pub fn resolve(changes: &CapabilityChanges, privileged: bool) -> Vec<Capability> {
    if privileged {
        return ALL.to_vec();
    }
    let add = &changes.add;
    let drop = &changes.drop;
    let dropped = |cap: &Capability| drop.contains(&CapabilityName::One(*cap));
    let mut caps: Vec<Capability> = if add.contains(&CapabilityName::All) {
        ALL.iter().filter(|cap| !dropped(cap)).copied().collect()
    } else if drop.contains(&CapabilityName::All) {
        Vec::new()
    } else {
        DOCKER_DEFAULT
            .iter()
            .filter(|cap| !dropped(cap))
            .copied()
            .collect()
    };
    // Docker: with `--cap-drop ALL` the added ones are the whole set; otherwise they extend it.
    if !add.contains(&CapabilityName::All) {
        for name in add {
            if let CapabilityName::One(cap) = name {
                if !caps.contains(cap) {
                    caps.push(*cap);
                }
            }
        }
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(add: &[&str], drop: &[&str]) -> CapabilityChanges {
        let parse = |names: &[&str]| names.iter().map(|n| n.parse().unwrap()).collect();
        CapabilityChanges {
            add: parse(add),
            drop: parse(drop),
        }
    }

    #[test]
    fn default_set() {
        assert_eq!(
            resolve(&CapabilityChanges::default(), false),
            DOCKER_DEFAULT.to_vec()
        );
    }

    #[test]
    fn add_and_drop() {
        let caps = resolve(&changes(&["NET_ADMIN", "CHOWN"], &["net_raw"]), false);
        assert!(caps.contains(&Capability::NetAdmin));
        assert!(!caps.contains(&Capability::NetRaw));
        assert_eq!(caps.len(), DOCKER_DEFAULT.len());
    }

    #[test]
    fn drop_all_keeps_only_added() {
        let caps = resolve(&changes(&["KILL"], &["ALL"]), false);
        assert_eq!(caps, vec![Capability::Kill]);
    }

    #[test]
    fn add_all_minus_dropped() {
        let caps = resolve(&changes(&["ALL"], &["SYS_ADMIN"]), false);
        assert_eq!(caps.len(), ALL.len() - 1);
        assert!(!caps.contains(&Capability::SysAdmin));
    }

    #[test]
    fn privileged_gets_everything() {
        assert_eq!(resolve(&changes(&[], &["ALL"]), true), ALL.to_vec());
    }
}
