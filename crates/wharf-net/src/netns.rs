//! [`NewNetns`]: a network namespace made ahead of its container.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;

use nix::sched::{unshare, CloneFlags};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

use crate::error::NetError;
use crate::model::Netns;

/// A new network namespace (only `lo`, down), held by this value until it is dropped.
///
/// Made for a bridged container before the runtime creates the container, which then joins
/// it by [`NewNetns::path`]. Why first: the netlink socket that sets the namespace up holds
/// it for a while after being closed (the kernel frees sockets an RCU grace period later,
/// 10-20 ms here); closed this early, it is gone by the time even a short-lived container
/// exits, so that the namespace, and the memory it holds, goes with the container's last
/// process. Keep this value while the container runs if the path is written down
/// (libcontainer's `exec` checks its spec's), and drop it when the container's processes
/// have ended.
#[derive(Debug)]
pub struct NewNetns {
    file: File,
}

impl NewNetns {
    /// Makes the namespace; the calling thread stays in its own.
    pub fn create() -> Result<Self, NetError> {
        let own = "/proc/thread-self/ns/net";
        let home = File::open(own).map_err(NetError::Namespace)?;
        unshare(CloneFlags::CLONE_NEWNET).map_err(|errno| NetError::Namespace(errno.into()))?;
        let made = File::open(own);
        move_into_link_name_space(home.as_fd(), Some(LinkNameSpaceType::Network)).map_err(
            |error| {
                NetError::Namespace(io::Error::other(format!(
                    "cannot return to this thread's network namespace: {error}"
                )))
            },
        )?;
        Ok(NewNetns {
            file: made.map_err(NetError::Namespace)?,
        })
    }

    /// A path to the namespace that any process can open while this value lives
    /// (`/proc/<pid>/fd/<fd>`), e.g. the runtime creating the container.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.file.as_raw_fd()
        ))
    }

    /// The namespace, for [`crate::Attach`].
    pub fn netns(&self) -> Netns {
        Netns::Path(self.path())
    }
}
