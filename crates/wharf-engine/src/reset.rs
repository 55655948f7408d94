//! `system reset`, as Podman's: every container, image, volume, network and cache of the
//! state root goes, with its host-side state (bridges, nftables table, `DOCKER-USER` rules,
//! DNS helpers), and then the host state of other roots whose folder no longer exists.
//!
//! Containers and networks are removed through the usual operations, so that each takes
//! its mounts, cgroups, veths and rules with it. Only then are the folders deleted, and
//! only if nothing is mounted below them any more: deleting through a mount would delete
//! what it shows (a bind-mounted folder of the user's).

use std::path::{Path, PathBuf};

use wharf_net::OrphanedRoot;

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// What `system reset` removed.
#[derive(Debug, Default)]
pub struct ResetReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    /// Host state of other state roots whose folder was gone.
    pub orphaned_roots: Vec<OrphanedRoot>,
}

impl Engine {
    pub fn reset(&self) -> Result<ResetReport> {
        let folders = [self.root().to_owned(), self.run_root.clone()];
        let containers = self.list_containers()?;
        // Checked first, so that a refused reset changes nothing: the containers' own
        // mounts go with them.
        let theirs: Vec<PathBuf> = containers
            .iter()
            .flat_map(|c| {
                [
                    crate::containers::container_dir(self.root(), &c.record.id),
                    self.run_root.join("runtime").join(&c.record.id),
                ]
            })
            .collect();
        if let Some(mount) = mount_below(&folders, &theirs)? {
            return Err(EngineError::MountedInRoot { mount });
        }
        let mut report = ResetReport::default();
        for container in containers {
            report
                .containers
                .push(self.remove_container(&container.record.id, true, true)?);
        }
        if let Some(networks) = self.existing_networks()? {
            for network in networks.list()? {
                networks.remove(&network.id)?;
                self.stop_dns(&network.id);
                report.networks.push(network.name);
            }
        }
        if let Some(mount) = mount_below(&folders, &[])? {
            return Err(EngineError::MountedInRoot { mount });
        }
        for folder in &folders {
            empty_folder(folder)?;
        }
        report.orphaned_roots = wharf_net::remove_orphaned_roots()?;
        Ok(report)
    }
}

/// The first mount point at or below one of `folders` and not below one of `except`.
fn mount_below(folders: &[PathBuf], except: &[PathBuf]) -> Result<Option<PathBuf>> {
    let folders: Vec<PathBuf> = folders
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
        .collect();
    Ok(wharf_store::mount_points()?
        .into_iter()
        .filter(|mount| !except.iter().any(|theirs| mount.starts_with(theirs)))
        .find(|mount| folders.iter().any(|folder| mount.starts_with(folder))))
}

/// Deletes everything inside `folder` (not following links), keeping the folder itself.
fn empty_folder(folder: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error).at("read", folder),
    };
    for entry in entries {
        let path = entry.at("read", folder)?.path();
        let removed = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).at("remove", &path)
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_mount_below_a_folder_and_not_beside_it() {
        let proc = [PathBuf::from("/proc")];
        let found = mount_below(&proc, &[]).unwrap().unwrap();
        assert!(found.starts_with("/proc"), "{}", found.display());
        assert_eq!(
            mount_below(&[PathBuf::from("/proc-nope")], &[]).unwrap(),
            None
        );
        assert_eq!(mount_below(&proc, &proc).unwrap(), None);
    }
}
