//! `--device`: a host's device node made in the container (libcontainer mknods it, or binds
//! it in a user namespace) and allowed by the container's device cgroup, as Docker does.
//!
//! The host's node is read at each start, as Docker gathers it: a node that is gone is an
//! error naming it ([`StartError::Device`]) before anything is created.

use std::path::Path;

use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType, Spec,
};
use rustix::fs::FileType;

use crate::config::DeviceRequest;
use crate::spec::SpecError;
use crate::start_error::StartError;

/// A requested device as found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    request: DeviceRequest,
    typ: LinuxDeviceType,
    major: i64,
    minor: i64,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// Reads each requested device node on the host.
pub fn gather(requests: &[DeviceRequest]) -> Result<Vec<DeviceNode>, StartError> {
    requests.iter().map(gather_one).collect()
}

fn gather_one(request: &DeviceRequest) -> Result<DeviceNode, StartError> {
    let path: &Path = &request.host;
    let stat = rustix::fs::stat(path).map_err(|errno| StartError::Device {
        path: path.to_owned(),
        errno: errno.raw_os_error(),
    })?;
    let typ = match FileType::from_raw_mode(stat.st_mode) {
        FileType::CharacterDevice => LinuxDeviceType::C,
        FileType::BlockDevice => LinuxDeviceType::B,
        _ => {
            return Err(StartError::NotADevice {
                path: path.to_owned(),
            })
        }
    };
    let rdev = stat.st_rdev;
    Ok(DeviceNode {
        request: request.clone(),
        typ,
        major: i64::from(rustix::fs::major(rdev)),
        minor: i64::from(rustix::fs::minor(rdev)),
        mode: stat.st_mode & 0o7777,
        uid: stat.st_uid,
        gid: stat.st_gid,
    })
}

/// Adds `nodes` to `spec`: each made at its container path, and allowed in the device
/// cgroup with its permissions.
pub fn add_to_spec(spec: &mut Spec, nodes: &[DeviceNode]) -> Result<(), SpecError> {
    if nodes.is_empty() {
        return Ok(());
    }
    let linux = spec.linux_mut().get_or_insert_with(Default::default);
    let mut devices: Vec<LinuxDevice> = linux.devices().clone().unwrap_or_default();
    let mut resources = linux.resources().clone().unwrap_or_default();
    let mut rules = resources.devices().clone().unwrap_or_default();
    for node in nodes {
        devices.push(crate::spec::built(
            "device",
            LinuxDeviceBuilder::default()
                .path(node.request.container.clone())
                .typ(node.typ)
                .major(node.major)
                .minor(node.minor)
                .file_mode(node.mode)
                .uid(node.uid)
                .gid(node.gid)
                .build(),
        )?);
        rules.push(crate::spec::built(
            "device rule",
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .typ(node.typ)
                .major(node.major)
                .minor(node.minor)
                .access(node.request.permissions.clone())
                .build(),
        )?);
    }
    resources.set_devices(Some(rules));
    linux.set_resources(Some(resources));
    linux.set_devices(Some(devices));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str) -> DeviceRequest {
        DeviceRequest {
            host: host.into(),
            container: "/dev/inside".into(),
            permissions: "rw".into(),
        }
    }

    #[test]
    fn nodes_are_read_from_the_host() {
        let null = gather(&[request("/dev/null")]).unwrap();
        assert_eq!(
            (null[0].typ, null[0].major, null[0].minor),
            (LinuxDeviceType::C, 1, 3)
        );

        let mut spec = Spec::default();
        add_to_spec(&mut spec, &null).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let device = &linux.devices().as_ref().unwrap()[0];
        assert_eq!(device.path(), Path::new("/dev/inside"));
        let rules = linux
            .resources()
            .as_ref()
            .unwrap()
            .devices()
            .as_ref()
            .unwrap();
        let rule = rules.last().unwrap();
        assert!(rule.allow());
        assert_eq!((rule.major(), rule.minor()), (Some(1), Some(3)));
        assert_eq!(rule.access().as_deref(), Some("rw"));
    }

    #[test]
    fn a_missing_node_or_a_file_is_named() {
        assert_eq!(
            gather(&[request("/dev/nope")]),
            Err(StartError::Device {
                path: "/dev/nope".into(),
                errno: libc::ENOENT
            })
        );
        assert_eq!(
            gather(&[request("/etc/passwd")]),
            Err(StartError::NotADevice {
                path: "/etc/passwd".into()
            })
        );
    }
}
