//! Address management without I/O: subnets for new networks (Docker's default pools),
//! `--subnet`/`--gateway` checks, and container addresses.

use std::net::Ipv4Addr;

use crate::error::NetError;
use crate::model::Network;
use crate::subnet::Subnet;

/// A route of the host's main table, other than the default route and wharf's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostRoute {
    pub destination: Ipv4Addr,
    pub prefix: u8,
    pub device: String,
}

/// Docker's default local address pools, in order: `172.17.0.0/16` to `172.31.0.0/16`, then
/// `192.168.0.0/16` in /20s.
fn default_pools() -> impl Iterator<Item = Subnet> {
    let sixteens =
        (17..=31).filter_map(|second| Subnet::new(Ipv4Addr::new(172, second, 0, 0), 16).ok());
    let twenties = Subnet::new(Ipv4Addr::new(192, 168, 0, 0), 16)
        .ok()
        .into_iter()
        .flat_map(|pool| (0..16).filter_map(move |index| pool.nth_subnet(20, index)));
    sixteens.chain(twenties)
}

/// Refuses `subnet` if it overlaps another network or a host route, naming it.
pub(crate) fn check_subnet(
    subnet: Subnet,
    networks: &[Network],
    routes: &[HostRoute],
) -> Result<(), NetError> {
    if let Some(other) = networks
        .iter()
        .find(|network| network.subnet.overlaps(&subnet))
    {
        return Err(NetError::OverlapsNetwork {
            subnet,
            network: other.name.clone(),
            other: other.subnet,
        });
    }
    if let Some(route) = routes
        .iter()
        .find(|route| subnet.overlaps_route(route.destination, route.prefix))
    {
        return Err(NetError::OverlapsRoute {
            subnet,
            route: format!("{}/{}", route.destination, route.prefix),
            device: route.device.clone(),
        });
    }
    Ok(())
}

/// The first default-pool subnet that overlaps nothing.
pub(crate) fn pick_subnet(networks: &[Network], routes: &[HostRoute]) -> Result<Subnet, NetError> {
    default_pools()
        .find(|&subnet| check_subnet(subnet, networks, routes).is_ok())
        .ok_or(NetError::PoolsExhausted)
}

/// `gateway`, or the subnet's first address, checked to be a usable address of it.
pub(crate) fn gateway(subnet: Subnet, gateway: Option<Ipv4Addr>) -> Result<Ipv4Addr, NetError> {
    let gateway = gateway.unwrap_or_else(|| subnet.first_host());
    if !subnet.contains(gateway) || gateway == subnet.addr() || gateway == subnet.broadcast() {
        return Err(NetError::InvalidGateway { gateway, subnet });
    }
    Ok(gateway)
}

/// An address for a new endpoint of `network`: `requested` if it is free, or else the
/// lowest free one.
pub(crate) fn allocate(
    network: &Network,
    requested: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, NetError> {
    let holder = |ip: Ipv4Addr| {
        network
            .endpoints
            .iter()
            .find(|(_, endpoint)| endpoint.ip == ip)
            .map(|(id, _)| id.clone())
    };
    let Some(ip) = requested else {
        return network
            .subnet
            .hosts()
            .find(|&ip| ip != network.gateway && holder(ip).is_none())
            .ok_or_else(|| NetError::AddressesExhausted {
                network: network.name.clone(),
                subnet: network.subnet,
            });
    };
    if !network.subnet.contains(ip) {
        return Err(NetError::AddressOutsideSubnet {
            ip,
            network: network.name.clone(),
            subnet: network.subnet,
        });
    }
    let reserved = if ip == network.subnet.addr() {
        Some("network address")
    } else if ip == network.subnet.broadcast() {
        Some("broadcast address")
    } else if ip == network.gateway {
        Some("gateway")
    } else {
        None
    };
    if let Some(what) = reserved {
        return Err(NetError::AddressReserved {
            ip,
            what,
            network: network.name.clone(),
        });
    }
    if let Some(container) = holder(ip) {
        return Err(NetError::AddressInUse {
            ip,
            network: network.name.clone(),
            container,
        });
    }
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Driver, Endpoint};

    fn network(name: &str, subnet: &str) -> Network {
        let subnet: Subnet = subnet.parse().unwrap();
        Network {
            name: name.into(),
            id: "1".repeat(64),
            driver: Driver::Bridge,
            subnet,
            gateway: subnet.first_host(),
            internal: false,
            labels: BTreeMap::new(),
            bridge: "wh-111111111111".into(),
            created: String::new(),
            endpoints: BTreeMap::new(),
        }
    }

    fn endpoint(ip: Ipv4Addr) -> Endpoint {
        Endpoint {
            container_name: String::new(),
            aliases: vec![],
            ip,
            interface: "eth0".into(),
            veth: String::new(),
            ports: vec![],
        }
    }

    #[test]
    fn picks_the_first_free_pool_subnet() {
        let routes = [HostRoute {
            destination: Ipv4Addr::new(172, 18, 5, 0),
            prefix: 24,
            device: "eth1".into(),
        }];
        let networks = [network("bridge", "172.17.0.0/16")];
        assert_eq!(
            pick_subnet(&networks, &routes).unwrap().to_string(),
            "172.19.0.0/16"
        );
        let all: Vec<Network> = default_pools()
            .map(|subnet| network("n", &subnet.to_string()))
            .collect();
        assert_eq!(all.len(), 15 + 16);
        assert!(matches!(
            pick_subnet(&all, &[]),
            Err(NetError::PoolsExhausted)
        ));
    }

    #[test]
    fn subnet_overlaps_name_the_other() {
        let networks = [network("web", "10.1.0.0/16")];
        let error = check_subnet("10.1.2.0/24".parse().unwrap(), &networks, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "subnet 10.1.2.0/24 overlaps with network web (10.1.0.0/16)"
        );
        let routes = [HostRoute {
            destination: Ipv4Addr::new(192, 0, 2, 0),
            prefix: 24,
            device: "eth0".into(),
        }];
        let error = check_subnet("192.0.0.0/16".parse().unwrap(), &[], &routes).unwrap_err();
        assert_eq!(
            error.to_string(),
            "subnet 192.0.0.0/16 overlaps with host route 192.0.2.0/24 on eth0"
        );
    }

    #[test]
    fn gateways() {
        let subnet: Subnet = "10.9.0.0/24".parse().unwrap();
        assert_eq!(gateway(subnet, None).unwrap(), Ipv4Addr::new(10, 9, 0, 1));
        assert_eq!(
            gateway(subnet, Some(Ipv4Addr::new(10, 9, 0, 254))).unwrap(),
            Ipv4Addr::new(10, 9, 0, 254)
        );
        for bad in [[10, 9, 0, 0], [10, 9, 0, 255], [10, 9, 1, 1]] {
            assert!(matches!(
                gateway(subnet, Some(Ipv4Addr::from(bad))),
                Err(NetError::InvalidGateway { .. })
            ));
        }
    }

    #[test]
    fn allocates_and_exhausts() {
        let mut net = network("tiny", "10.9.0.0/30");
        let ip = allocate(&net, None).unwrap();
        assert_eq!(ip, Ipv4Addr::new(10, 9, 0, 2));
        net.endpoints.insert("c1".into(), endpoint(ip));
        assert_eq!(
            allocate(&net, None).unwrap_err().to_string(),
            "network tiny (10.9.0.0/30) has no free address left"
        );
        assert_eq!(
            allocate(&net, Some(ip)).unwrap_err().to_string(),
            "address 10.9.0.2 in network tiny is already in use by container c1"
        );
        assert_eq!(
            allocate(&net, Some(Ipv4Addr::new(10, 9, 0, 1)))
                .unwrap_err()
                .to_string(),
            "address 10.9.0.1 is the gateway of network tiny"
        );
        assert_eq!(
            allocate(&net, Some(Ipv4Addr::new(10, 9, 1, 1)))
                .unwrap_err()
                .to_string(),
            "address 10.9.1.1 is not in network tiny's subnet 10.9.0.0/30"
        );
        net.endpoints.clear();
        net.gateway = Ipv4Addr::new(10, 9, 0, 2);
        assert_eq!(allocate(&net, None).unwrap(), Ipv4Addr::new(10, 9, 0, 1));
    }
}
