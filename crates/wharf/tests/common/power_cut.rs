//! A small ext4 filesystem on a loop device whose power can be cut: the filesystem is shut
//! down without flushing its journal or its dirty pages (`FS_IOC_SHUTDOWN` with
//! `NOLOGFLUSH`, as xfstests' `_scratch_shutdown` does), then unmounted and mounted again.
//! What was not on the disk is lost exactly as a power cut loses it; the mount replays the
//! journal as the first boot after one does.
//!
//! xfstests also uses device-mapper's `flakey` target with `drop_writes`; kernels without
//! device-mapper (this build machine's) have the shutdown ioctl, which ext4 has had since 4.10.
//! The journal commits only on an fsync (`commit=600`), so the only writes that reach the disk
//! in a test's few seconds are those the code made durable, or that an fsync of something else
//! carried along.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PowerCutDisk {
    dir: tempfile::TempDir,
    device: String,
    mounted: bool,
}

const MOUNT_OPTIONS: &str = "commit=600";

impl PowerCutDisk {
    /// A fresh 1 GiB filesystem (sparse), mounted; `None` after a SKIPPED line when this host
    /// cannot make one (not root, no loop device, no `xfs_io`).
    pub fn new() -> Option<Self> {
        if !super::is_root() {
            super::skip("a loop device and a mount need root");
            return None;
        }
        for (tool, package) in [
            ("losetup", "mount"),
            ("mkfs.ext4", "e2fsprogs"),
            ("xfs_io", "xfsprogs"),
        ] {
            if !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                super::skip(&format!(
                    "{tool} is not installed (package {package}; scripts/install-deps.sh installs it)"
                ));
                return None;
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("wharf-power-")
            .tempdir()
            .expect("temp dir");
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(1 << 30))
            .expect("disk image");
        sh(&format!("mkfs.ext4 -q -F {}", image.display()));
        let losetup = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(&image)
            .output()
            .expect("losetup runs");
        if !losetup.status.success() {
            super::skip(&format!(
                "no loop device: {}",
                String::from_utf8_lossy(&losetup.stderr).trim()
            ));
            return None;
        }
        let device = String::from_utf8_lossy(&losetup.stdout).trim().to_owned();
        std::fs::create_dir(dir.path().join("mnt")).expect("mount point");
        let mut disk = Self {
            dir,
            device,
            mounted: false,
        };
        disk.mount();
        Some(disk)
    }

    /// Where the filesystem is mounted.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn mount(&mut self) {
        sh(&format!(
            "mount -o {MOUNT_OPTIONS} {} {}",
            self.device,
            self.path().display()
        ));
        self.mounted = true;
    }

    /// Cuts the power and turns it on again: what was not on the disk is gone. Nothing may
    /// be mounted under the filesystem then (no running container).
    pub fn cut_and_restore(&mut self) {
        let mount = self.path();
        sh(&format!("xfs_io -x -c shutdown {}", mount.display()));
        sh(&format!("umount {}", mount.display()));
        self.mounted = false;
        self.mount();
    }
}

impl PowerCutDisk {
    /// Cuts the power while `wharf`'s containers run, and reboots: the filesystem stops
    /// first (nothing more reaches the disk), then every process of the store dies (its
    /// monitors and helpers, each container's processes), its cgroups and mounts go, its
    /// network namespace is a fresh one, and the filesystem is mounted again.
    pub fn cut_running_and_reboot(&mut self, wharf: &super::Wharf) {
        let ids: Vec<String> = std::fs::read_dir(wharf.path().join("containers"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.len() == 64)
                    .collect()
            })
            .unwrap_or_default();
        let cgroups = super::cgroups_of(&ids);
        let mount = self.path();
        sh(&format!("xfs_io -x -c shutdown {}", mount.display()));
        let root = wharf.path().display().to_string();
        loop {
            let mut pids: Vec<String> = super::crash::processes_with(&root)
                .iter()
                .map(|p| p.split(':').next().unwrap().to_owned())
                .collect();
            for cgroup in &cgroups {
                let procs =
                    std::fs::read_to_string(cgroup.join("cgroup.procs")).unwrap_or_default();
                pids.extend(procs.lines().map(str::to_owned));
            }
            if pids.is_empty() {
                break;
            }
            sh(&format!("kill -9 {} 2>/dev/null || true", pids.join(" ")));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for cgroup in &cgroups {
            let _ = std::fs::remove_dir(cgroup);
        }
        // Every mount under the filesystem, then itself; deepest first.
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter_map(|line| line.split(' ').nth(4).map(str::to_owned))
            .filter(|point| Path::new(point).starts_with(&mount))
            .collect();
        mounts.sort_by_key(|point| std::cmp::Reverse(point.len()));
        for point in mounts {
            sh(&format!("umount -l {point}"));
        }
        self.mounted = false;
        if let Some(netns) = &wharf.netns {
            netns.renew();
        }
        self.mount();
    }
}

impl Drop for PowerCutDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

fn sh(script: &str) {
    let output = Command::new("sh")
        .args(["-c", script])
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
