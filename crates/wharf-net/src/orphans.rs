//! Host state of state roots that no longer exist: a temporary root (a script's
//! `WHARF_ROOT=$(mktemp -d)`, a test's) deleted with its folder leaves its bridges, veths,
//! nftables table and `DOCKER-USER` rules on the host, as Docker leaves docker0.
//!
//! A root's table names the root in its comment (`wharf root PATH`); the root's path also
//! gives its table name and interface group ([`HostScope::for_root`]). A table whose root
//! is gone is removed with every interface of its group and its `DOCKER-USER` rules. A table
//! without that comment, or whose name is not the one its path gives, is left alone: what
//! cannot be attributed is never taken for an orphan.

use std::path::PathBuf;

use crate::error::{netlink_error, NetError};
use crate::model::{HostScope, MAIN_TABLE};
use crate::netlink::Netlink;
use crate::{docker_user, nft, ruleset};

/// What was removed of one gone root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanedRoot {
    pub root: PathBuf,
    pub table: String,
    pub interfaces: Vec<String>,
}

/// Removes the host state (in this thread's network namespace) of every wharf state root
/// whose folder no longer exists.
pub fn remove_orphaned_roots() -> Result<Vec<OrphanedRoot>, NetError> {
    let orphans: Vec<HostScope> = ruleset::read()?
        .iter()
        .filter_map(|table| {
            let root = table.wharf_root()?;
            if root.exists() {
                return None;
            }
            let scope = HostScope::for_root(&root, table.name == MAIN_TABLE);
            (scope.table == table.name).then_some(scope)
        })
        .collect();
    if orphans.is_empty() {
        return Ok(Vec::new());
    }
    let mut netlink = Netlink::open().map_err(netlink_error("open netlink"))?;
    let links = netlink.links().map_err(netlink_error("list interfaces"))?;
    let mut removed = Vec::new();
    for scope in orphans {
        let mut interfaces = Vec::new();
        // Veths first: a bridge's deletion would only detach them.
        let mut mine: Vec<_> = links
            .iter()
            .filter(|link| link.group == scope.group)
            .filter(|link| matches!(link.kind.as_deref(), Some("veth" | "bridge")))
            .collect();
        mine.sort_by_key(|link| link.kind.as_deref() == Some("bridge"));
        for link in mine {
            match netlink.delete_link(link.index) {
                Ok(()) => interfaces.push(link.name.clone()),
                // Gone with its peer already.
                Err(error)
                    if error.raw_os_error() == Some(rustix::io::Errno::NODEV.raw_os_error()) => {}
                Err(error) => {
                    return Err(netlink_error(format!("delete interface {}", link.name))(
                        error,
                    ))
                }
            }
        }
        let listing = docker_user::list_chain()?;
        nft::apply(&nft::render(&scope, &[]), nft::Settle::Committed)?;
        docker_user::sync(listing, &scope.table, &[])?;
        removed.push(OrphanedRoot {
            root: scope.root,
            table: scope.table,
            interfaces,
        });
    }
    Ok(removed)
}
