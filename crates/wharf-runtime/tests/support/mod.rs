//! A tiny image for real containers: Debian's static busybox with its applet links.
//! Shared by the integration tests and the cycle bench.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use wharf_runtime::config::{CapabilityChanges, NetworkMode, Process, Resources, RunConfig, User};

pub const BUSYBOX: &str = "/bin/busybox";

/// Why containers cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("needs root".to_owned());
    }
    match fs::read_to_string("/proc/filesystems") {
        Ok(fs) if fs.lines().any(|l| l.ends_with("\toverlay")) => {}
        _ => return Some("no overlayfs in /proc/filesystems".to_owned()),
    }
    if !Path::new(BUSYBOX).exists() {
        return Some(format!(
            "{BUSYBOX} is missing (apt-get install busybox-static)"
        ));
    }
    None
}

/// Writes a busybox root filesystem into `layer`.
pub fn busybox_layer(layer: &Path) -> io::Result<()> {
    for dir in ["bin", "dev", "etc", "proc", "sys", "tmp", "root"] {
        fs::create_dir_all(layer.join(dir))?;
    }
    fs::copy(BUSYBOX, layer.join("bin/busybox"))?;
    let list = Command::new(BUSYBOX).arg("--list").output()?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            symlink("busybox", layer.join("bin").join(applet))?;
        }
    }
    fs::write(
        layer.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n",
    )?;
    fs::write(layer.join("etc/group"), "root:x:0:\nuser:x:1000:\n")?;
    Ok(())
}

/// A container directory with the generated /etc files, and a config running `args` on the
/// busybox `layer`.
pub fn config(
    id: &str,
    layer: &Path,
    container_dir: &Path,
    args: &[&str],
) -> io::Result<RunConfig> {
    let config = RunConfig {
        id: id.to_owned(),
        container_dir: container_dir.to_owned(),
        lower_dirs: vec![layer.to_owned()],
        process: Process {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: vec![],
            cwd: PathBuf::from("/"),
            user: User::default(),
            tty: false,
            no_new_privileges: false,
        },
        hostname: id.chars().take(63).collect(),
        mounts: vec![],
        read_only_rootfs: false,
        resources: Resources::default(),
        ulimits: vec![],
        devices: vec![],
        capabilities: CapabilityChanges::default(),
        privileged: false,
        network: NetworkMode::New,
        network_namespace: None,
        init: None,
        ephemeral: false,
        sysctls: Default::default(),
        shm_size: None,
    };
    fs::create_dir_all(container_dir)?;
    fs::write(config.hostname_path(), format!("{}\n", config.hostname))?;
    fs::write(
        config.hosts_path(),
        format!("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n", config.hostname),
    )?;
    fs::write(config.resolv_conf_path(), "nameserver 127.0.0.53\n")?;
    Ok(config)
}
