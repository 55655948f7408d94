//! What a network is, as stored in its state file and shown by `network inspect`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ports::{PortBinding, PortSpec};
use crate::subnet::Subnet;

/// The name of the default network, whose bridge is [`HostScope::default_bridge`].
pub const DEFAULT_NETWORK: &str = "bridge";
/// The bridge interface of the default network of the host's main state root (Docker's
/// `docker0`).
pub const DEFAULT_BRIDGE: &str = "wharf0";
/// The nftables table (family `ip`) of the host's main state root.
pub(crate) const MAIN_TABLE: &str = "wharf";
/// Host-side veth names start with this; [`crate::Networks::reconcile`] removes strays.
pub(crate) const VETH_PREFIX: &str = "wv";
/// Bridges of user networks are `wh-<first 12 hex digits of the id>`.
pub(crate) const BRIDGE_PREFIX: &str = "wh-";

/// Where a state root's networks meet the host's network namespace, which every state root
/// on the host shares: the names they take there, and the mark on their interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostScope {
    /// The default network's bridge.
    pub default_bridge: String,
    /// The nftables table, family `ip`.
    pub table: String,
    /// The interface group (`IFLA_GROUP`, `ip link show group N`) of every interface the
    /// root makes: what tells its leftovers from another root's interfaces.
    pub group: u32,
    /// The state root, written as the table's comment: what tells whose a table (and so a
    /// group) is, and whether its root still exists.
    pub root: PathBuf,
}

impl HostScope {
    /// The scope of the state root `dir` (its canonical path: one per root on the host).
    /// The host's `main` root takes the usual names ([`DEFAULT_BRIDGE`], table `ip wharf`);
    /// any other root takes names of its own, tagged from `dir` (`wharf-1a2b3c`,
    /// `ip wharf_1a2b3c`), so that roots never load over each other's rules or take each
    /// other's bridge.
    pub fn for_root(dir: &Path, main: bool) -> Self {
        let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
        let tag: String = digest[..3].iter().map(|b| format!("{b:02x}")).collect();
        // Between 2^30 and 2^31: clear of the small groups people number by hand, and
        // within what `ip` parses.
        let hash = u32::from_be_bytes([digest[3], digest[4], digest[5], digest[6]]);
        let group = (hash & 0x3fff_ffff) | 0x4000_0000;
        if main {
            HostScope {
                default_bridge: DEFAULT_BRIDGE.to_owned(),
                table: MAIN_TABLE.to_owned(),
                group,
                root: dir.to_owned(),
            }
        } else {
            HostScope {
                default_bridge: format!("wharf-{tag}"),
                table: format!("{MAIN_TABLE}_{tag}"),
                group,
                root: dir.to_owned(),
            }
        }
    }

    /// The interface group this root's interfaces move to just before they are deleted
    /// together, so that they are still known as this root's if a crash comes in between:
    /// between 2^29 and 2^30, clear of every root's own group (and what `ip` parses).
    pub fn removal_group(&self) -> u32 {
        (self.group & 0x1fff_ffff) | 0x2000_0000
    }

    /// Whether this is the main root's scope, whose interfaces older wharf versions made
    /// without a group.
    pub(crate) fn is_main(&self) -> bool {
        self.table == MAIN_TABLE
    }
}

/// A network driver. Only `bridge` exists so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    #[default]
    Bridge,
}

impl FromStr for Driver {
    type Err = crate::NetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bridge" => Ok(Driver::Bridge),
            other => Err(crate::NetError::UnsupportedDriver(other.to_owned())),
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bridge")
    }
}

/// A network and its endpoints (leases); the store keeps the two in files of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// 64 lowercase hex digits.
    pub id: String,
    pub driver: Driver,
    pub subnet: Subnet,
    pub gateway: Ipv4Addr,
    /// No route out and no published ports; isolated like every other network.
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// The host bridge interface.
    pub bridge: String,
    /// RFC 3339.
    pub created: String,
    /// By container id.
    pub endpoints: BTreeMap<String, Endpoint>,
}

impl Network {
    /// Whether `name_or_id` is this network's name, id or a unique-looking id prefix.
    pub fn matches(&self, name_or_id: &str) -> bool {
        self.name == name_or_id || (!name_or_id.is_empty() && self.id.starts_with(name_or_id))
    }
}

/// A container's attachment to a network: its lease and everything set up for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub container_name: String,
    /// Extra names the container answers to on this network (`--network-alias`).
    pub aliases: Vec<String>,
    pub ip: Ipv4Addr,
    /// The interface inside the container (`eth0`).
    pub interface: String,
    /// The host side of the veth pair.
    pub veth: String,
    pub ports: Vec<PortBinding>,
}

impl Endpoint {
    /// The container side's MAC address, `02:42:ac:11:00:02` for 172.17.0.2.
    pub fn mac_address(&self) -> String {
        mac_for(self.ip)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Docker's deterministic MAC for an IPv4 address: `02:42` (locally administered, unicast)
/// then the address's four bytes, so the same lease always has the same MAC.
pub(crate) fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

/// `network create` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    pub driver: Driver,
    /// `None` picks the first free subnet of the default pools.
    pub subnet: Option<Subnet>,
    /// `None` is the subnet's first address.
    pub gateway: Option<Ipv4Addr>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
}

/// A container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Netns {
    /// The namespace of this process (`/proc/<pid>/ns/net`), e.g. the container's init.
    Pid(i32),
    /// A namespace file, e.g. a bind mount under `/run/netns`.
    Path(PathBuf),
}

impl Netns {
    pub(crate) fn path(&self) -> PathBuf {
        match self {
            Netns::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/net")),
            Netns::Path(path) => path.clone(),
        }
    }
}

/// What [`crate::Networks::connect`] needs to attach one container to one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attach {
    /// Network name or id.
    pub network: String,
    pub container_id: String,
    pub container_name: String,
    pub aliases: Vec<String>,
    pub netns: Netns,
    /// The interface to create in the container, `eth0` for its first network.
    pub interface: String,
    /// `--ip`: a static address instead of the next free one (user networks only).
    pub ip: Option<Ipv4Addr>,
    /// `-p`/`-P`, parsed with [`crate::parse_publish`].
    pub ports: Vec<PortSpec>,
}

impl Attach {
    /// Attaches `container_id` to `network` as `eth0`, with no static address or ports.
    pub fn new(network: &str, container_id: &str, netns: Netns) -> Self {
        Attach {
            network: network.to_owned(),
            container_id: container_id.to_owned(),
            container_name: container_id.to_owned(),
            aliases: Vec::new(),
            netns,
            interface: "eth0".to_owned(),
            ip: None,
            ports: Vec::new(),
        }
    }
}

/// What [`crate::Networks::reconcile`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// `(network, container id)` of leases whose container is gone.
    pub endpoints: Vec<(String, String)>,
    /// Host interfaces (veths, bridges) that no state refers to.
    pub interfaces: Vec<String>,
}

impl Reconciled {
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty() && self.interfaces.is_empty()
    }
}
