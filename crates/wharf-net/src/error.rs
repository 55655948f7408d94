//! Errors; each names the network, container, address, port, file or interface at fault.

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::ports::PortSpecError;
use crate::subnet::{Subnet, SubnetError};

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("network {0} not found")]
    NotFound(String),
    #[error("network with name {0} already exists")]
    NameExists(String),
    #[error("invalid network name {0:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters")]
    InvalidName(String),
    #[error("network name {0} is reserved")]
    ReservedName(String),
    #[error("network driver {0:?} is not supported: use bridge")]
    UnsupportedDriver(String),
    #[error(transparent)]
    Subnet(#[from] SubnetError),
    #[error("--gateway {gateway} needs a --subnet")]
    GatewayWithoutSubnet { gateway: Ipv4Addr },
    #[error("gateway {gateway} is not a usable address of subnet {subnet}")]
    InvalidGateway { gateway: Ipv4Addr, subnet: Subnet },
    #[error("subnet {subnet} overlaps with network {network} ({other})")]
    OverlapsNetwork {
        subnet: Subnet,
        network: String,
        other: Subnet,
    },
    #[error("subnet {subnet} overlaps with host route {route} on {device}")]
    OverlapsRoute {
        subnet: Subnet,
        route: String,
        device: String,
    },
    #[error("no free subnet left in the default address pools: use --subnet")]
    PoolsExhausted,
    #[error("network {network} ({subnet}) has no free address left")]
    AddressesExhausted { network: String, subnet: Subnet },
    #[error("address {ip} is not in network {network}'s subnet {subnet}")]
    AddressOutsideSubnet {
        ip: Ipv4Addr,
        network: String,
        subnet: Subnet,
    },
    #[error("address {ip} is the {what} of network {network}")]
    AddressReserved {
        ip: Ipv4Addr,
        what: &'static str,
        network: String,
    },
    #[error("address {ip} in network {network} is already in use by container {container}")]
    AddressInUse {
        ip: Ipv4Addr,
        network: String,
        container: String,
    },
    #[error("user specified IP address is supported on user defined networks only (not {0})")]
    StaticIpOnDefault(String),
    #[error("container {container} is already connected to network {network}")]
    AlreadyConnected { container: String, network: String },
    #[error("container {container} is not connected to network {network}")]
    NotConnected { container: String, network: String },
    #[error("network {network} has active endpoints: {}", containers.join(", "))]
    InUse {
        network: String,
        containers: Vec<String>,
    },
    #[error("invalid interface name {0:?}: use 1-15 characters, no '/', ':' or whitespace")]
    InvalidInterface(String),
    #[error("interface {interface} already exists in the namespace of container {container}")]
    InterfaceExists {
        interface: String,
        container: String,
    },
    #[error(transparent)]
    PortSpec(#[from] PortSpecError),
    #[error("cannot publish port {port}: IPv6 host addresses are not supported yet")]
    Ipv6HostIp { port: String },
    #[error("cannot publish ports on network {0}: it is internal")]
    PublishOnInternal(String),
    #[error("port {port} is already allocated to container {container}")]
    PortAllocated { port: String, container: String },
    #[error("port {port} is already in use on the host by {holder}")]
    PortInUse { port: String, holder: String },
    #[error("cannot bind host port {port}: {source}")]
    HostBind {
        port: String,
        #[source]
        source: io::Error,
    },
    #[error("no free host port for {port}")]
    NoFreePort { port: String },
    #[error("cannot serve DNS for network {network} on {address}: {source}")]
    DnsBind {
        address: std::net::SocketAddr,
        network: String,
        #[source]
        source: io::Error,
    },
    #[error("DNS server of network {network} failed: {source}")]
    Dns {
        network: String,
        #[source]
        source: io::Error,
    },
    #[error("bridge {bridge} routes {routes} instead of {subnet}, and {interfaces} attached to it: another wharf state root uses it")]
    BridgeTaken {
        bridge: String,
        subnet: Subnet,
        /// The subnets it routes, comma-separated.
        routes: String,
        /// Its attached interfaces, comma-separated.
        interfaces: String,
    },
    #[error("cannot make a network namespace: {0}")]
    Namespace(#[source] io::Error),
    #[error("{op}: {source}")]
    Netlink {
        op: String,
        #[source]
        source: io::Error,
    },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("corrupt network state {path}: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("nft failed ({status}): {stderr}")]
    Nft { status: String, stderr: String },
    #[error("adding wharf's rules to Docker's DOCKER-USER chain failed ({status}): {stderr}")]
    DockerUser { status: String, stderr: String },
    #[error("{error}; rolling back also failed: {}", list(cleanup))]
    Rollback {
        error: Box<NetError>,
        cleanup: Vec<NetError>,
    },
}

fn list(errors: &[NetError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl NetError {
    /// `self`, keeping the errors of the undo steps that failed after it.
    pub(crate) fn with_cleanup(self, cleanup: Vec<NetError>) -> NetError {
        if cleanup.is_empty() {
            self
        } else {
            NetError::Rollback {
                error: Box::new(self),
                cleanup,
            }
        }
    }
}

/// A closure for `map_err` that names the operation and path.
pub(crate) fn io_error(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> NetError {
    let path = path.into();
    move |source| NetError::Io { op, path, source }
}

/// A closure for `map_err` that names a netlink operation.
pub(crate) fn netlink_error(op: impl Into<String>) -> impl FnOnce(io::Error) -> NetError {
    let op = op.into();
    move |source| NetError::Netlink { op, source }
}
