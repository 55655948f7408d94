//! [`Networks`]: every operation takes the state lock, loads the state, validates the whole
//! request, then acts, and on failure undoes what it did, newest first.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::docker_user;
use crate::error::{io_error, netlink_error, NetError};
use crate::host;
use crate::ipam::{self, HostRoute};
use crate::model::{
    mac_for, Attach, Endpoint, HostScope, Network, NetworkSpec, Reconciled, BRIDGE_PREFIX,
    DEFAULT_BRIDGE, DEFAULT_NETWORK, VETH_PREFIX,
};
use crate::netlink::{wait_unlisted, Link, Netlink};
use crate::nft::{self, Settle};
use crate::ports::{PortBinding, PortSpec};
use crate::ruleset;
use crate::store::{Lock, Store};

/// Names that `network create` refuses: Docker's predefined networks.
const RESERVED_NAMES: [&str; 3] = [DEFAULT_NETWORK, "host", "none"];
/// How many kernel-chosen ports to try for `-p CONTAINERPORT` before giving up.
const EPHEMERAL_TRIES: usize = 16;
/// How long [`Networks::disconnect_ended`] waits for the veths of an ended container to go
/// before it deletes them itself: its caller's removals unlist them within a millisecond or
/// two; one it could not start must not hold us long.
const REMOVAL_WAIT: Duration = Duration::from_millis(500);

/// The networks of one state directory, acting on the network namespace of the calling
/// thread (the host's, for the engine).
///
/// Every change holds an exclusive lock on the state directory. What the networks are
/// called in the namespace, which other state roots share, is the [`HostScope`]'s: give each
/// root its own. Published host ports are checked against this root's and the host's
/// listening sockets, not against another root's published ports.
#[derive(Debug, Clone)]
pub struct Networks {
    store: Store,
    scope: HostScope,
}

impl Networks {
    /// Opens (creating them if needed) the state directory, e.g. `$WHARF_ROOT/networks`,
    /// and the directory of the leases, e.g. `$WHARF_RUN/networks`: a tmpfs is best, as the
    /// leases end with the containers at a reboot and are rewritten at every start and exit.
    pub fn open(dir: &Path, leases_dir: &Path, scope: HostScope) -> Result<Self, NetError> {
        Ok(Networks {
            store: Store::open(dir, leases_dir)?,
            scope,
        })
    }

    /// Makes this root's nftables table, and its rules in Docker's chain where dockerd runs,
    /// match `networks`; returns as `settle` says.
    fn load_rules(&self, networks: &[Network], settle: Settle) -> Result<(), NetError> {
        let listing = docker_user::list_chain()?;
        nft::apply(&nft::render(&self.scope, networks), settle)?;
        let bridges: Vec<&str> = networks.iter().map(|n| n.bridge.as_str()).collect();
        docker_user::sync(listing, &self.scope.table, &bridges)
    }

    /// Whether `link` is a veth or bridge of this root: in its group, or, for the main root,
    /// named as wharf named them before interfaces had a group.
    fn made_here(&self, link: &Link) -> bool {
        let kind = link.kind.as_deref();
        if link.group == self.scope.group || link.group == self.scope.removal_group() {
            return matches!(kind, Some("veth" | "bridge"));
        }
        link.group == 0 && self.scope.is_main() && is_wharf_interface(&link.name, kind)
    }

    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// Every network, sorted by name.
    pub fn list(&self) -> Result<Vec<Network>, NetError> {
        let lock = self.store.lock_shared()?;
        self.store.load(&lock)
    }

    /// The network named `name_or_id` (or whose id starts with it).
    pub fn inspect(&self, name_or_id: &str) -> Result<Network, NetError> {
        let lock = self.store.lock_shared()?;
        let networks = self.store.load(&lock)?;
        let index = find(&networks, name_or_id)?;
        Ok(networks[index].clone())
    }

    /// The endpoints of `container_id`, with their network's name (for `wharf port` and
    /// container inspect).
    pub fn endpoints(&self, container_id: &str) -> Result<Vec<(String, Endpoint)>, NetError> {
        let lock = self.store.lock_shared()?;
        Ok(self
            .store
            .load(&lock)?
            .into_iter()
            .filter_map(|mut network| {
                let endpoint = network.endpoints.remove(container_id)?;
                Some((network.name, endpoint))
            })
            .collect())
    }

    /// `network create`: a user network with its own bridge `wh-<id12>`. The bridge and the
    /// network's firewall rules are made when the first container connects (rules for a
    /// bridge that does not exist yet would match nothing).
    pub fn create(&self, spec: &NetworkSpec) -> Result<Network, NetError> {
        validate_name(&spec.name)?;
        if RESERVED_NAMES.contains(&spec.name.as_str()) {
            return Err(NetError::ReservedName(spec.name.clone()));
        }
        let lock = self.store.lock_exclusive()?;
        let networks = self.store.load(&lock)?;
        self.create_locked(&lock, networks, spec, None)
    }

    /// The default network `bridge` (its bridge is the scope's, `wharf0` for the main root),
    /// created on first use with the first free default-pool subnet (`172.17.0.0/16` unless
    /// taken).
    pub fn ensure_default(&self) -> Result<Network, NetError> {
        let lock = self.store.lock_exclusive()?;
        let networks = self.store.load(&lock)?;
        if let Some(network) = networks.iter().find(|n| n.name == DEFAULT_NETWORK) {
            return Ok(network.clone());
        }
        let spec = NetworkSpec {
            name: DEFAULT_NETWORK.to_owned(),
            ..NetworkSpec::default()
        };
        // A root's first network is rare enough to sweep up after roots whose folder is gone
        // (a temporary root deleted with its bridge still up); housekeeping that fails must
        // not fail this root's start, and `system reset` reports the same sweep's errors.
        let _ = crate::remove_orphaned_roots();
        self.create_locked(&lock, networks, &spec, Some(&self.scope.default_bridge))
    }

    fn create_locked(
        &self,
        lock: &Lock,
        networks: Vec<Network>,
        spec: &NetworkSpec,
        bridge: Option<&str>,
    ) -> Result<Network, NetError> {
        if networks.iter().any(|network| network.name == spec.name) {
            return Err(NetError::NameExists(spec.name.clone()));
        }
        let routes = host_routes(&networks)?;
        let subnet = match (spec.subnet, spec.gateway) {
            (Some(subnet), _) => {
                ipam::check_subnet(subnet, &networks, &routes)?;
                subnet
            }
            (None, Some(gateway)) => return Err(NetError::GatewayWithoutSubnet { gateway }),
            (None, None) => ipam::pick_subnet(&networks, &routes)?,
        };
        let gateway = ipam::gateway(subnet, spec.gateway)?;
        let id = loop {
            let id = random_id()?;
            if !networks.iter().any(|n| n.id[..12] == id[..12]) {
                break id;
            }
        };
        let network = Network {
            name: spec.name.clone(),
            bridge: bridge.map_or_else(|| format!("{BRIDGE_PREFIX}{}", &id[..12]), str::to_owned),
            id,
            driver: spec.driver,
            subnet,
            gateway,
            internal: spec.internal,
            labels: spec.labels.clone(),
            created: now_rfc3339(),
            endpoints: BTreeMap::new(),
        };
        self.store.create(lock, &network)?;
        Ok(network)
    }

    /// `network rm`: refuses while containers are attached (naming them); removes the
    /// rules, the bridge and the state file.
    pub fn remove(&self, name_or_id: &str) -> Result<Network, NetError> {
        let mut removed = self.remove_many(&[name_or_id], |removal| drop(removal.run()))?;
        Ok(removed.remove(0))
    }

    /// [`Networks::remove`] for several networks at once (`compose down`): all are checked
    /// first, and the rules are loaded once for what remains. Each bridge goes to
    /// `start_removal`, as veths do in [`Networks::disconnect_ended`] and for the same
    /// reason (the kernel's wait after unlisting it); the rules are loaded while the kernel
    /// unlists the bridges, and when this returns none is left in this namespace.
    pub fn remove_many(
        &self,
        names_or_ids: &[&str],
        mut start_removal: impl FnMut(LinkRemoval),
    ) -> Result<Vec<Network>, NetError> {
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let mut removed = Vec::new();
        for name_or_id in names_or_ids {
            let network = networks.remove(find(&networks, name_or_id)?);
            if !network.endpoints.is_empty() {
                return Err(NetError::InUse {
                    network: network.name.clone(),
                    containers: network
                        .endpoints
                        .values()
                        .map(|endpoint| endpoint.container_name.clone())
                        .collect(),
                });
            }
            removed.push(network);
        }
        let mut netlink = Netlink::open().map_err(netlink_error("open netlink"))?;
        let bridges: Vec<String> = removed.iter().map(|n| n.bridge.clone()).collect();
        // Only a shortcut: what is still listed afterwards is deleted below. The rules
        // load while the kernel unlists the bridges.
        let group = self.scope.removal_group();
        let pending = PendingRemoval::start(&bridges, group, &mut start_removal);
        let rules = self.load_rules(&networks, Settle::Committed);
        let left = match pending {
            Ok(pending) => pending.wait().unwrap_or_else(|_| bridges.clone()),
            Err(_) => bridges.clone(),
        };
        // The networks stay listed if the rules failed; a connect makes a bridge again.
        rules?;
        if let Err(error) = delete_links(&mut netlink, &left, group) {
            networks.append(&mut removed);
            networks.sort_by(|a, b| a.name.cmp(&b.name));
            let cleanup = self
                .load_rules(&networks, Settle::Committed)
                .err()
                .into_iter()
                .collect();
            return Err(error.with_cleanup(cleanup));
        }
        for network in &removed {
            // A failure here leaves a state file whose bridge and rules are gone: `remove`
            // again finishes the job.
            self.store.remove(&lock, network)?;
        }
        Ok(removed)
    }

    /// `network connect`, or the setup of a container before it starts: a veth pair from
    /// the network's bridge (created if missing) to `attach.interface` in the container's
    /// namespace, with its address, `lo` up, a default route (unless internal) and the
    /// published ports.
    pub fn connect(&self, attach: &Attach) -> Result<Endpoint, NetError> {
        let mut joined = self.connect_all(std::slice::from_ref(attach))?;
        Ok(joined.remove(0).1)
    }

    /// [`Networks::connect`] to several networks at once (a container's start): under one
    /// lock and with one change of the rules. All or nothing: when one fails, none of them
    /// stays connected. Returns each network as it now is, with its new endpoint.
    pub fn connect_all(&self, attaches: &[Attach]) -> Result<Vec<(Network, Endpoint)>, NetError> {
        for attach in attaches {
            validate_interface(&attach.interface)?;
        }
        // Other tables' rules (another root's, Docker's) change without this root's lock:
        // read before it is taken, as `nft` takes a while, which other containers of the
        // root would otherwise spend waiting for the lock.
        let foreign = if attaches.iter().all(|attach| attach.ports.is_empty()) {
            Vec::new()
        } else {
            ruleset::read_unless_alone(&self.scope.table)?
        };
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let mut host = Netlink::open().map_err(netlink_error("open netlink"))?;
        let mut undo = Undo::default();
        let result: Result<Vec<(Network, Endpoint)>, NetError> = (|| {
            let mut joined = Vec::new();
            let mut script = String::new();
            let table = &self.scope.table;
            for attach in attaches {
                let (index, endpoint, first) =
                    self.join(&lock, &mut networks, &mut host, attach, &foreign, &mut undo)?;
                // A first container on the network, or a new bridge (a first container
                // since boot: the rules may be gone with the reboot): the network joins the
                // layout's sets then, which only adds.
                if first {
                    script.push_str(&nft::render_added_network(table, &networks[index]));
                }
                script.push_str(&nft::render_added_ports(table, &endpoint));
                joined.push((networks[index].clone(), endpoint));
            }
            if !script.is_empty() {
                // Without the layout (the table deleted with the root's last network, or
                // gone with a reboot), or if adding fails, the rules are loaded whole.
                let added = nft::exists(nft::Object::Set, table, nft::LAYOUT_SET).unwrap_or(false)
                    && nft::apply(&script, Settle::Committed).is_ok();
                if !added {
                    self.load_rules(&networks, Settle::Committed)?;
                    return Ok(joined);
                }
            }
            // A dockerd started since the rules were last loaded (at boot, after wharf's
            // containers came back) has made its chain anew: add this root's rules to it.
            let bridges: Vec<&str> = networks.iter().map(|n| n.bridge.as_str()).collect();
            docker_user::sync(docker_user::list_chain()?, &self.scope.table, &bridges)?;
            Ok(joined)
        })();
        match result {
            Ok(joined) => Ok(joined),
            Err(error) => Err(error.with_cleanup(undo.run(&self.store, &lock, &mut host))),
        }
    }

    /// Joins `attach`'s container to its network (in `networks`, saved, with what to undo
    /// in `undo`); returns the network's index, the endpoint, and whether the network's
    /// rules are to be added (its first container, or a new bridge). The rules are the
    /// caller's.
    fn join(
        &self,
        lock: &Lock,
        networks: &mut [Network],
        host: &mut Netlink,
        attach: &Attach,
        foreign: &[ruleset::Table],
        undo: &mut Undo,
    ) -> Result<(usize, Endpoint, bool), NetError> {
        let index = find(networks, &attach.network)?;
        let network = &networks[index];
        if network.endpoints.contains_key(&attach.container_id) {
            return Err(NetError::AlreadyConnected {
                container: attach.container_id.clone(),
                network: network.name.clone(),
            });
        }
        if attach.ip.is_some() && network.name == DEFAULT_NETWORK {
            return Err(NetError::StaticIpOnDefault(network.name.clone()));
        }
        if network.internal && !attach.ports.is_empty() {
            return Err(NetError::PublishOnInternal(network.name.clone()));
        }
        let ip = ipam::allocate(network, attach.ip)?;
        let ports = resolve_ports(networks, &attach.ports, foreign, &self.scope.table)?;
        let network = &networks[index];
        let netns_path = attach.netns.path();
        let netns =
            File::open(&netns_path).map_err(io_error("open network namespace", &netns_path))?;
        let mut inner = Netlink::open_in(netns.as_fd()).map_err(netlink_error(format!(
            "open netlink in the namespace of container {}",
            attach.container_id
        )))?;
        if inner
            .link_index(&attach.interface)
            .map_err(netlink_error("look up the container interface"))?
            .is_some()
        {
            return Err(NetError::InterfaceExists {
                interface: attach.interface.clone(),
                container: attach.container_id.clone(),
            });
        }
        let veth = veth_name(&network.id, &attach.container_id);
        let endpoint = Endpoint {
            container_name: attach.container_name.clone(),
            aliases: attach.aliases.clone(),
            ip,
            interface: attach.interface.clone(),
            veth: veth.clone(),
            ports,
        };
        // Under the lock and absent from the state: the leftover of a crashed attach.
        delete_link(host, &veth)?;
        let existing = usable_bridge(host, network)?;
        let bridge = match existing {
            Some(bridge) => bridge,
            None => {
                let op = format!("create bridge {}", network.bridge);
                let bridge = host
                    .add_bridge(&network.bridge, self.scope.group, mac_for(network.gateway))
                    .map_err(netlink_error(&op))?;
                undo.links.push(network.bridge.clone());
                host.add_address(
                    bridge,
                    network.gateway,
                    network.subnet.prefix(),
                    network.subnet.broadcast(),
                )
                .map_err(netlink_error(&op))?;
                host::enable_ipv4_sysctl(&format!("conf/{}/route_localnet", network.bridge))?;
                bridge
            }
        };
        if !network.internal {
            host::enable_ipv4_sysctl("ip_forward")?;
        }
        host.add_veth(
            &veth,
            bridge,
            self.scope.group,
            &attach.interface,
            mac_for(endpoint.ip),
            netns.as_fd(),
        )
        .map_err(netlink_error(format!(
            "create veth pair {veth} for container {}",
            attach.container_id
        )))?;
        undo.links.push(veth.clone());
        configure_container(&mut inner, network, &endpoint).map_err(netlink_error(format!(
            "configure {} of container {}",
            attach.interface, attach.container_id
        )))?;
        let deadline = Instant::now() + TRANSMIT_WAIT;
        wait_until_transmitting(host, &[&network.bridge, &veth], deadline)?;
        wait_until_transmitting(&mut inner, &[&attach.interface], deadline)?;

        let first = network.endpoints.is_empty() || existing.is_none();
        let mut updated = network.clone();
        updated
            .endpoints
            .insert(attach.container_id.clone(), endpoint.clone());
        self.store.save(lock, &updated)?;
        undo.states
            .push(std::mem::replace(&mut networks[index], updated));
        Ok((index, endpoint, first))
    }

    /// `network disconnect`: removes the veth pair (and with it the container's interface),
    /// the lease and the published ports of `container_id` on `network`.
    pub fn disconnect(&self, network: &str, container_id: &str) -> Result<Endpoint, NetError> {
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let index = find(&networks, network)?;
        let before = networks[index].clone();
        let Some(endpoint) = networks[index].endpoints.remove(container_id) else {
            return Err(NetError::NotConnected {
                container: container_id.to_owned(),
                network: before.name,
            });
        };
        let mut netlink = Netlink::open().map_err(netlink_error("open netlink"))?;
        let has_ports = !endpoint.ports.is_empty();
        if has_ports {
            self.load_rules(&networks, Settle::Drained)?;
        }
        if let Err(error) = delete_link(&mut netlink, &endpoint.veth) {
            networks[index] = before;
            let cleanup = if has_ports {
                self.load_rules(&networks, Settle::Committed)
                    .err()
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            return Err(error.with_cleanup(cleanup));
        }
        // A failure here leaves a lease whose veth and rules are gone: disconnecting again
        // finishes the job.
        self.store.save(&lock, &networks[index])?;
        Ok(endpoint)
    }

    /// Renames `container_id` in every network it is on, so that its new name resolves.
    pub fn rename_container(&self, container_id: &str, name: &str) -> Result<(), NetError> {
        let lock = self.store.lock_exclusive()?;
        for mut network in self.store.load(&lock)? {
            if let Some(endpoint) = network.endpoints.get_mut(container_id) {
                endpoint.container_name = name.to_owned();
                self.store.save(&lock, &network)?;
            }
        }
        Ok(())
    }

    /// Disconnects `container_id` from every network it is on (container removal); returns
    /// the names of those networks.
    pub fn disconnect_all(&self, container_id: &str) -> Result<Vec<String>, NetError> {
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let removed = take_endpoints(&mut networks, container_id);
        let veths = veths(&removed);
        self.teardown(&lock, &networks, &removed, &veths, has_ports(&removed))?;
        Ok(names(removed))
    }

    /// Disconnects `container_id`, whose processes have all ended, from every network,
    /// with `start_removal` deleting its veths. Call it while the container's network
    /// namespace is still held open: a connection to a published port must be refused
    /// (the namespace answers a SYN with a reset), never go unanswered, so the port rules
    /// go first, and the veths only once every packet those rules forwarded is past them
    /// ([`Settle::Drained`]: a SYN sent on to an address with no veth behind it is dropped
    /// without a word, and the client tries again only a second later).
    ///
    /// Deleting an interface unlists it at once (after an expedited RCU grace period: well
    /// under a millisecond) but then makes the deleting process wait for every pending RCU
    /// callback of the machine, 15-50 ms on a small one; the removal of a dying network
    /// namespace, the other way veths go, first waits for a normal grace period, queued
    /// behind the previous namespace's (up to 40 ms when containers end back to back). So
    /// this hands the veths to `start_removal`, which should [`LinkRemoval::run`] them where
    /// that wait costs nobody (a process of its own), and returns once the kernel has
    /// unlisted them. A veth still there after half a second (`start_removal` did nothing),
    /// or when the interfaces cannot be looked up, is deleted here, as by
    /// [`Networks::disconnect_all`]. Either way, when this returns no
    /// interface of the container is left in this namespace, and its addresses are free.
    pub fn disconnect_ended(
        &self,
        container_id: &str,
        mut start_removal: impl FnMut(LinkRemoval),
    ) -> Result<Vec<String>, NetError> {
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let removed = take_endpoints(&mut networks, container_id);
        if removed.is_empty() {
            return Ok(Vec::new());
        }
        let reload_rules = has_ports(&removed);
        if reload_rules {
            self.load_rules(&networks, Settle::Drained)?;
        }
        // Only a shortcut: what is still listed afterwards is deleted here.
        let group = self.scope.removal_group();
        let left = wait_for_removal(&veths(&removed), group, &mut start_removal)
            .unwrap_or_else(|_| veths(&removed));
        self.teardown(&lock, &networks, &removed, &left, false)?;
        Ok(names(removed))
    }

    /// Removes what containers that are not in `live` left behind: their leases, veths and
    /// port rules, plus this root's veths and bridges that no state refers to (a crash
    /// between creating an interface and saving the state); another root's are left alone.
    /// Reloads the firewall rules.
    pub fn reconcile(&self, live: &[&str]) -> Result<Reconciled, NetError> {
        let live: BTreeSet<&str> = live.iter().copied().collect();
        let lock = self.store.lock_exclusive()?;
        let mut networks = self.store.load(&lock)?;
        let mut removed = Vec::new();
        for network in &mut networks {
            let dead: Vec<String> = network
                .endpoints
                .keys()
                .filter(|id| !live.contains(id.as_str()))
                .cloned()
                .collect();
            for id in dead {
                if let Some(endpoint) = network.endpoints.remove(&id) {
                    removed.push((network.clone(), endpoint));
                }
            }
        }
        let mut netlink = Netlink::open().map_err(netlink_error("open netlink"))?;
        let links = netlink.links().map_err(netlink_error("list interfaces"))?;
        let known: BTreeSet<&str> = networks
            .iter()
            .flat_map(|network| {
                std::iter::once(network.bridge.as_str())
                    .chain(network.endpoints.values().map(|e| e.veth.as_str()))
            })
            .chain(removed.iter().map(|(_, endpoint)| endpoint.veth.as_str()))
            .collect();
        let strays: Vec<String> = links
            .iter()
            .filter(|link| self.made_here(link))
            .filter(|link| !known.contains(link.name.as_str()))
            .map(|link| link.name.clone())
            .collect();
        let doomed: Vec<String> = veths(&removed).into_iter().chain(strays.clone()).collect();
        self.teardown(&lock, &networks, &removed, &doomed, true)?;
        Ok(Reconciled {
            endpoints: removed
                .into_iter()
                .map(|(network, endpoint)| (network.name, endpoint.container_name))
                .collect(),
            interfaces: strays,
        })
    }

    /// Loads the rules for `networks` (the state after the change) if `reload_rules`,
    /// deletes the interfaces `links` that exist, then saves the networks that `removed`
    /// endpoints left.
    fn teardown(
        &self,
        lock: &Lock,
        networks: &[Network],
        removed: &[(Network, Endpoint)],
        links: &[String],
        reload_rules: bool,
    ) -> Result<(), NetError> {
        if reload_rules {
            self.load_rules(networks, Settle::Drained)?;
        }
        let mut netlink = Netlink::open().map_err(netlink_error("open netlink"))?;
        for name in links {
            delete_link(&mut netlink, name)?;
        }
        let changed: BTreeSet<&str> = removed.iter().map(|(n, _)| n.id.as_str()).collect();
        for network in networks.iter().filter(|n| changed.contains(n.id.as_str())) {
            self.store.save(lock, network)?;
        }
        Ok(())
    }
}

/// Takes the endpoints of `container_id` out of `networks`, each with its network as it
/// was.
fn take_endpoints(networks: &mut [Network], container_id: &str) -> Vec<(Network, Endpoint)> {
    let mut removed = Vec::new();
    for network in networks {
        if let Some(endpoint) = network.endpoints.remove(container_id) {
            removed.push((network.clone(), endpoint));
        }
    }
    removed
}

fn has_ports(removed: &[(Network, Endpoint)]) -> bool {
    removed
        .iter()
        .any(|(_, endpoint)| !endpoint.ports.is_empty())
}

fn veths(removed: &[(Network, Endpoint)]) -> Vec<String> {
    removed.iter().map(|(_, e)| e.veth.clone()).collect()
}

fn names(removed: Vec<(Network, Endpoint)>) -> Vec<String> {
    removed
        .into_iter()
        .map(|(network, _)| network.name)
        .collect()
}

/// Hands each of `links` still there to `start_removal` and waits, up to [`REMOVAL_WAIT`],
/// until the kernel has unlisted them; returns those still listed.
fn wait_for_removal(
    links: &[String],
    group: u32,
    start_removal: &mut impl FnMut(LinkRemoval),
) -> std::io::Result<Vec<String>> {
    PendingRemoval::start(links, group, start_removal)?.wait()
}

/// Interfaces handed to a `start_removal` and not yet seen gone.
struct PendingRemoval {
    present: Vec<(u32, String)>,
}

impl PendingRemoval {
    /// Hands the links still there to `start_removal`, [`LinkRemoval::MAX`] at a time, to
    /// be deleted through the interface group `group`.
    fn start(
        links: &[String],
        group: u32,
        start_removal: &mut impl FnMut(LinkRemoval),
    ) -> std::io::Result<Self> {
        let mut netlink = Netlink::open()?;
        let mut present = Vec::new();
        for link in links {
            if let Some(index) = netlink.link_index(link)? {
                present.push((index, link.clone()));
            }
        }
        for batch in present.chunks(LinkRemoval::MAX) {
            start_removal(LinkRemoval::new(batch, group));
        }
        Ok(PendingRemoval { present })
    }

    /// Waits, up to [`REMOVAL_WAIT`], until the kernel has unlisted them; returns the names
    /// of those still listed.
    fn wait(self) -> std::io::Result<Vec<String>> {
        let left = wait_unlisted(&self.present, Instant::now() + REMOVAL_WAIT)?;
        Ok(left.into_iter().map(|(_, name)| name).collect())
    }
}

/// What a failed [`Networks::connect_all`] undoes: interfaces it made, and the states it
/// saved (the states before, in order).
#[derive(Default)]
struct Undo {
    links: Vec<String>,
    states: Vec<Network>,
}

impl Undo {
    fn run(self, store: &Store, lock: &Lock, netlink: &mut Netlink) -> Vec<NetError> {
        let mut errors = Vec::new();
        for network in self.states.iter().rev() {
            store.save(lock, network).unwrap_or_else(|e| errors.push(e));
        }
        for name in self.links.iter().rev() {
            delete_link(netlink, name).unwrap_or_else(|e| errors.push(e));
        }
        errors
    }
}

fn find(networks: &[Network], name_or_id: &str) -> Result<usize, NetError> {
    networks
        .iter()
        .position(|network| network.name == name_or_id)
        .or_else(|| {
            let mut matches = networks
                .iter()
                .enumerate()
                .filter(|(_, network)| network.matches(name_or_id));
            match (matches.next(), matches.next()) {
                (Some((index, _)), None) => Some(index),
                _ => None,
            }
        })
        .ok_or_else(|| NetError::NotFound(name_or_id.to_owned()))
}

fn validate_name(name: &str) -> Result<(), NetError> {
    let mut bytes = name.bytes();
    let valid = name.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(NetError::InvalidName(name.to_owned()))
    }
}

fn validate_interface(name: &str) -> Result<(), NetError> {
    let valid = (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(NetError::InvalidInterface(name.to_owned()))
    }
}

/// The index of `network`'s bridge if it exists and routes the network's subnet. A bridge of
/// that name that routes other subnets was made by another state root (the default bridge's
/// name is the same in all): with nothing attached, it is a leftover (its root removed, or
/// idle) and is deleted, to be made anew for this network; with interfaces attached, it is in
/// use and the error says by what.
fn usable_bridge(host: &mut Netlink, network: &Network) -> Result<Option<u32>, NetError> {
    let Some(bridge) = host
        .link_index(&network.bridge)
        .map_err(netlink_error(format!("look up bridge {}", network.bridge)))?
    else {
        return Ok(None);
    };
    let routes: Vec<HostRoute> = host::main_routes()?
        .into_iter()
        .filter(|route| route.device == network.bridge)
        .collect();
    let subnet = &network.subnet;
    if routes
        .iter()
        .any(|r| r.destination == subnet.addr() && r.prefix == subnet.prefix())
    {
        return Ok(Some(bridge));
    }
    let attached: Vec<String> = host
        .links()
        .map_err(netlink_error("list interfaces"))?
        .into_iter()
        .filter(|link| link.master == Some(bridge))
        .map(|link| link.name)
        .collect();
    if !attached.is_empty() {
        let routes: Vec<String> = routes
            .iter()
            .map(|r| format!("{}/{}", r.destination, r.prefix))
            .collect();
        return Err(NetError::BridgeTaken {
            bridge: network.bridge.clone(),
            subnet: *subnet,
            routes: routes.join(", "),
            interfaces: attached.join(", "),
        });
    }
    host.delete_link(bridge)
        .map_err(netlink_error(format!("delete bridge {}", network.bridge)))?;
    Ok(None)
}

/// `wv` and 12 hex digits of a hash of the network and container ids: stable, so a
/// leftover of a crashed attach is found again, and at most 15 bytes.
fn veth_name(network_id: &str, container_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(network_id)
        .chain_update([0])
        .chain_update(container_id)
        .finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{VETH_PREFIX}{hex}")
}

/// Whether `name` is one that wharf gives its veths and bridges.
fn is_wharf_interface(name: &str, kind: Option<&str>) -> bool {
    let hex12 = |s: &str| {
        s.len() == 12
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    match kind {
        Some("veth") => name.strip_prefix(VETH_PREFIX).is_some_and(hex12),
        Some("bridge") => {
            name == DEFAULT_BRIDGE || name.strip_prefix(BRIDGE_PREFIX).is_some_and(hex12)
        }
        _ => false,
    }
}

/// The deletion of interfaces of this namespace (an ended container's veths, removed
/// networks' bridges), handed out by [`Networks::disconnect_ended`] and
/// [`Networks::remove_many`]. Plain values, so that it can go to another process.
#[derive(Debug, Clone, Copy)]
pub struct LinkRemoval {
    /// Indexes and names (NUL-padded, IFNAMSIZ); the first `count` are used.
    links: [(u32, [u8; 16]); LinkRemoval::MAX],
    count: usize,
    /// The interface group they go through (the root's removal group).
    group: u32,
}

impl LinkRemoval {
    /// How many interfaces one removal deletes (together: see [`Netlink::delete_links`]).
    const MAX: usize = 8;

    fn new(links: &[(u32, String)], group: u32) -> Self {
        let mut removal = LinkRemoval {
            links: [(0, [0; 16]); LinkRemoval::MAX],
            count: links.len().min(LinkRemoval::MAX),
            group,
        };
        for (slot, (index, name)) in removal.links.iter_mut().zip(links) {
            let len = name.len().min(15);
            slot.0 = *index;
            slot.1[..len].copy_from_slice(&name.as_bytes()[..len]);
        }
        removal
    }

    fn links(&self) -> impl Iterator<Item = (u32, &str)> {
        self.links[..self.count].iter().map(|(index, name)| {
            let len = name.iter().position(|&b| b == 0).unwrap_or(16);
            (
                *index,
                std::str::from_utf8(&name[..len]).unwrap_or_default(),
            )
        })
    }

    /// Deletes the interfaces, in the network namespace of the calling thread, which must
    /// be that of [`Networks::disconnect_ended`]'s caller; one gone already, or whose name
    /// and index are another interface's by now (a restarted container's veth, made anew
    /// under the same name), is left alone. Returns once the kernel has finished with
    /// them: see [`Networks::disconnect_ended`].
    pub fn run(self) -> Result<(), NetError> {
        let names: Vec<&str> = self.links().map(|(_, name)| name).collect();
        let op = || format!("delete interfaces {}", names.join(", "));
        let mut netlink = Netlink::open().map_err(netlink_error(op()))?;
        let mut indexes = Vec::new();
        for (index, name) in self.links() {
            if netlink.link_index(name).map_err(netlink_error(op()))? == Some(index) {
                indexes.push(index);
            }
        }
        netlink
            .delete_links(&indexes, self.group)
            .map_err(netlink_error(op()))
    }
}

/// Deletes interface `name` if it exists.
fn delete_link(netlink: &mut Netlink, name: &str) -> Result<(), NetError> {
    let op = || format!("delete interface {name}");
    if let Some(index) = netlink.link_index(name).map_err(netlink_error(op()))? {
        netlink.delete_link(index).map_err(netlink_error(op()))?;
    }
    Ok(())
}

/// Deletes the interfaces named `names` that exist, together, through group `group`.
fn delete_links(netlink: &mut Netlink, names: &[String], group: u32) -> Result<(), NetError> {
    let op = || format!("delete interfaces {}", names.join(", "));
    let mut indexes = Vec::new();
    for name in names {
        if let Some(index) = netlink.link_index(name).map_err(netlink_error(op()))? {
            indexes.push(index);
        }
    }
    netlink
        .delete_links(&indexes, group)
        .map_err(netlink_error(op()))
}

/// Inside the container: address on the interface, interface and `lo` up, default route.
fn configure_container(
    netlink: &mut Netlink,
    network: &Network,
    endpoint: &Endpoint,
) -> std::io::Result<()> {
    let index = netlink
        .link_index(&endpoint.interface)?
        .ok_or_else(|| std::io::Error::other("the interface did not arrive in the namespace"))?;
    netlink.add_address(
        index,
        endpoint.ip,
        network.subnet.prefix(),
        network.subnet.broadcast(),
    )?;
    netlink.set_up(index)?;
    netlink.set_loopback_up()?;
    if !network.internal {
        // A container on several networks keeps the default route of its first one.
        match netlink.add_default_route(network.gateway) {
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
    }
    Ok(())
}

/// Waits (until `deadline` at most) until each of `interfaces`, up, can send: a
/// container's first packets (an ARP request, a SYN) sent before would be dropped, and sent
/// again only a second later. Usually at once; under load the kernel's link watch takes its
/// time (seen: 700 ms and more).
fn wait_until_transmitting(
    netlink: &mut Netlink,
    interfaces: &[&str],
    deadline: Instant,
) -> Result<(), NetError> {
    for name in interfaces {
        while !netlink
            .transmits(name)
            .map_err(netlink_error(format!("look up interface {name}")))?
        {
            if Instant::now() > deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    Ok(())
}

/// How long a connect waits for its interfaces to transmit before going on regardless.
const TRANSMIT_WAIT: Duration = Duration::from_secs(1);

/// The host's routes that a new subnet must not overlap: not the default route, not the
/// routes of wharf's own bridges.
fn host_routes(networks: &[Network]) -> Result<Vec<HostRoute>, NetError> {
    Ok(host::main_routes()?
        .into_iter()
        .filter(|route| route.prefix > 0)
        .filter(|route| {
            !networks
                .iter()
                .any(|network| network.bridge == route.device)
        })
        .collect())
}

/// The host bindings of `specs` (explicit ports checked, ranges and "any" resolved to free
/// ports): each host port free of this root's containers, of sockets on the host and of
/// DNAT rules in `ruleset` of other tables than `own_table` (another root's, Docker's).
fn resolve_ports(
    networks: &[Network],
    specs: &[PortSpec],
    ruleset: &[ruleset::Table],
    own_table: &str,
) -> Result<Vec<PortBinding>, NetError> {
    let taken: Vec<(&PortBinding, &str)> = networks
        .iter()
        .flat_map(|network| network.endpoints.iter())
        .flat_map(|(id, endpoint)| {
            endpoint
                .ports
                .iter()
                .map(move |binding| (binding, id.as_str()))
        })
        .collect();
    let mut chosen: Vec<PortBinding> = Vec::new();
    let check = |binding: &PortBinding, chosen: &[PortBinding]| -> Result<(), NetError> {
        if let Some((_, holder)) = taken
            .iter()
            .find(|(other, _)| other.conflicts_with(binding))
        {
            return Err(NetError::PortAllocated {
                port: binding.host_side(),
                container: (*holder).to_owned(),
            });
        }
        if chosen.iter().any(|other| other.conflicts_with(binding)) {
            return Err(NetError::PortAllocated {
                port: binding.host_side(),
                container: "this container (requested twice)".to_owned(),
            });
        }
        if let Some(holder) = ruleset::port_holder(ruleset, own_table, binding) {
            return Err(NetError::PortInUse {
                port: binding.host_side(),
                holder,
            });
        }
        host::check_port_free(binding)
    };
    for spec in specs {
        let host_ip = match spec.host_ip {
            None => Ipv4Addr::UNSPECIFIED,
            Some(IpAddr::V4(ip)) => ip,
            Some(IpAddr::V6(ip)) => {
                return Err(NetError::Ipv6HostIp {
                    port: format!("[{ip}]:{}", spec.container_port),
                })
            }
        };
        let binding = |host_port| PortBinding {
            protocol: spec.protocol,
            host_ip,
            host_port,
            container_port: spec.container_port,
        };
        let wanted = || {
            let ports = spec.host_ports.map_or_else(String::new, |(start, end)| {
                if start == end {
                    start.to_string()
                } else {
                    format!("{start}-{end}")
                }
            });
            format!(
                "{host_ip}:{ports}->{}/{}",
                spec.container_port, spec.protocol
            )
        };
        let found = match spec.host_ports {
            Some((start, end)) if start == end => {
                let candidate = binding(start);
                check(&candidate, &chosen)?;
                candidate
            }
            Some((start, end)) => (start..=end)
                .map(binding)
                .find(|candidate| check(candidate, &chosen).is_ok())
                .ok_or_else(|| NetError::NoFreePort { port: wanted() })?,
            None => (0..EPHEMERAL_TRIES)
                .find_map(|_| {
                    let port = host::ephemeral_port(spec.protocol, host_ip).ok()?;
                    let candidate = binding(port);
                    check(&candidate, &chosen).is_ok().then_some(candidate)
                })
                .ok_or_else(|| NetError::NoFreePort { port: wanted() })?,
        };
        chosen.push(found);
    }
    Ok(chosen)
}

fn random_id() -> Result<String, NetError> {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(io_error("read", "/dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "web", "my_net.1-x", &"a".repeat(64)] {
            validate_name(good).unwrap();
        }
        for bad in ["", "-a", "a b", "a/b", &"a".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            "bridge".parse::<crate::Driver>().unwrap(),
            crate::Driver::Bridge
        );
        assert_eq!(
            "overlay".parse::<crate::Driver>().unwrap_err().to_string(),
            "network driver \"overlay\" is not supported: use bridge"
        );
        validate_interface("eth0").unwrap();
        for bad in ["", "a/b", "a:b", "0123456789abcdef", ".."] {
            assert!(validate_interface(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn veth_names_are_stable_and_recognized() {
        let name = veth_name(&"a".repeat(64), "c1");
        assert_eq!(name, veth_name(&"a".repeat(64), "c1"));
        assert_ne!(name, veth_name(&"a".repeat(64), "c2"));
        assert_eq!(name.len(), 14);
        assert!(is_wharf_interface(&name, Some("veth")));
        assert!(!is_wharf_interface(&name, Some("bridge")));
        assert!(is_wharf_interface("wharf0", Some("bridge")));
        assert!(is_wharf_interface("wh-0123456789ab", Some("bridge")));
        assert!(!is_wharf_interface("wh-0123456789AB", Some("bridge")));
        assert!(!is_wharf_interface("wvother", Some("veth")));
        assert!(!is_wharf_interface("eth0", None));
    }
}
