//! Container networks for wharf: bridge networks with persistent IPAM, a veth pair per
//! container, outbound NAT, isolation between networks, published ports and name
//! resolution, in the host's network namespace (that of the calling thread). Knows nothing
//! of images or compose.
//!
//! - [`Networks`] is the entry point: `create`/`list`/`inspect`/`remove` networks,
//!   `connect` a container (given its namespace: a [`NewNetns`] made before the runtime
//!   creates it, or a running container's init pid), `disconnect`, `disconnect_all` on
//!   container removal, `disconnect_ended` when its processes have ended, `reconcile` after
//!   a crash.
//! - State: one JSON file per network under a caller-given directory, with its leases and
//!   published ports, written atomically under a file lock (`store.rs`).
//! - Interfaces, addresses and routes go through rtnetlink, synchronously and without
//!   threads (`netlink.rs`); firewall and NAT rules are one nftables table per state root,
//!   loaded whole by one `nft -f -` per change (`nft.rs` explains the rules and the choice).
//!   Where dockerd runs, its FORWARD policy drops what wharf's table accepts; accept rules
//!   for this root's bridges in Docker's `DOCKER-USER` chain follow each change
//!   (`docker_user.rs`).
//! - The host's namespace is shared by every state root: a [`HostScope`] gives each its own
//!   table, default bridge and interface group, so that one never takes another's
//!   interfaces for leftovers or loads over its rules.
//! - `-p` values are parsed like Docker's ([`parse_publish`]).
//! - [`DnsServer`] resolves container names and aliases on a user network's gateway.
//!
//! Every operation validates the whole request before it changes anything, and undoes its
//! own changes when a later step fails; errors name the object at fault. The library never
//! prints.
//!
//! Host requirements: Linux with nf_tables (`nft`, Debian package `nftables`), run as root
//! (CAP_NET_ADMIN). IPv4 only for now.

mod dns;
mod docker_user;
mod error;
mod host;
mod ipam;
mod model;
mod netlink;
mod netns;
mod networks;
mod nft;
mod orphans;
mod ports;
mod process;
mod ruleset;
mod store;
mod subnet;

pub use dns::{resolvers_from, DnsServer};
pub use error::NetError;
pub use host::check_port_free;
pub use model::{
    Attach, Driver, Endpoint, HostScope, Netns, Network, NetworkSpec, Reconciled, DEFAULT_BRIDGE,
    DEFAULT_NETWORK,
};
pub use netns::NewNetns;
pub use networks::{LinkRemoval, Networks};
pub use orphans::{remove_orphaned_roots, OrphanedRoot};
pub use ports::{parse_publish, PortBinding, PortSpec, PortSpecError, Protocol};
pub use subnet::{Subnet, SubnetError};
