//! Networks for containers, on top of `wharf-net`: the state lives in
//! `$WHARF_ROOT/networks`; this module turns `--network`, `-p`, `-P`, `--ip`,
//! `--network-alias`, `--add-host` and `--dns` into a container's [`NetConfig`] at create,
//! attaches the container in its monitor (in a namespace made for it before the runtime
//! creates the container) and detaches it when it ends, runs one DNS helper process per
//! user network, and answers the `network` commands, `port`, and the network parts of `ps`
//! and `inspect`.
//!
//! The DNS helper is this binary re-executed (`__dns NETWORK-ID`, like the monitor's
//! `__monitor`): started by the first monitor that attaches a container to a user network,
//! it serves `<gateway>:53` until the network has had no endpoints for [`DNS_IDLE`] or is
//! removed. Its pid file is `$WHARF_RUN/dns/<network id>.json`.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wharf_net::{
    Attach, Driver, Endpoint, HostScope, NetError, Netns, Network, NetworkSpec, Networks, NewNetns,
    PortBinding, PortSpec, Reconciled, Subnet, DEFAULT_NETWORK,
};
use wharf_runtime::{NetworkMode, RunConfig};

use crate::containers::{
    is_alive, process_start_time, write_json, write_state, ContainerInfo, ContainerRecord,
    ContainerState, CreateOptions, NetConfig, NetworkAttachment, PublishedPort, Status,
};
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// The hidden subcommand of the DNS helper process.
pub const DNS_COMMAND: &str = "__dns";
/// How long a DNS helper outlives the last container of its network.
const DNS_IDLE: Duration = Duration::from_secs(30);
/// What a DNS helper prints once it serves.
const DNS_READY: &str = "ready";
/// Docker's resolvers for containers when the host has only loopback ones.
const FALLBACK_RESOLVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];
/// The pre-defined networks that are not bridges: (name, driver).
const PSEUDO_NETWORKS: [(&str, &str); 2] = [("host", "host"), ("none", "null")];

/// `network create`.
#[derive(Debug, Clone, Default)]
pub struct NetworkCreateOptions {
    pub name: String,
    /// `--driver`; only `bridge` exists.
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
}

/// `network connect` options.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--alias`.
    pub aliases: Vec<String>,
    /// `--ip`.
    pub ip: Option<String>,
}

/// One row of `network ls`.
#[derive(Debug, Clone)]
pub struct NetworkSummary {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub internal: bool,
    pub created: String,
    pub labels: BTreeMap<String, String>,
}

/// The DNS helper's pid file.
#[derive(Debug, Serialize, Deserialize)]
struct DnsPid {
    pid: i32,
    start_time: Option<u64>,
}

impl Engine {
    /// The network state, created on first use.
    pub(crate) fn networks(&self) -> Result<Networks> {
        Ok(Networks::open(
            &self.networks_dir(),
            &self.run_root.join("networks"),
            self.host_scope(),
        )?)
    }

    /// The names this root's networks take on the host: Docker-like (`wharf0`, `ip wharf`)
    /// for the default root, names of its own for any other (a test's, the demo's), so that
    /// running both never breaks the other's networks.
    fn host_scope(&self) -> HostScope {
        let root = std::fs::canonicalize(self.root()).unwrap_or_else(|_| self.root().to_owned());
        let main = root == Path::new(crate::DEFAULT_ROOT);
        HostScope::for_root(&root, main)
    }

    fn networks_dir(&self) -> PathBuf {
        self.root().join("networks")
    }

    /// The network state if any network was ever made (commands that only read it must not
    /// create it, nor need `nft`).
    pub(crate) fn existing_networks(&self) -> Result<Option<Networks>> {
        if self.networks_dir().is_dir() {
            self.networks().map(Some)
        } else {
            Ok(None)
        }
    }

    /// `create`: the runtime's network mode, Docker's `NetworkMode` text and what to attach
    /// at start, from the flags and the image's exposed ports.
    pub(crate) fn plan_networking(
        &self,
        options: &CreateOptions,
        exposed: Option<&BTreeMap<String, Value>>,
    ) -> Result<(NetworkMode, String, NetConfig)> {
        let mut mode = options
            .network
            .clone()
            .filter(|n| !n.is_empty() && n != "default")
            .unwrap_or_else(|| DEFAULT_NETWORK.to_owned());
        let bad = |flag: &'static str, value: &str, message: &str| EngineError::BadOption {
            flag,
            value: value.to_owned(),
            message: message.to_owned(),
        };
        let mut ports = Vec::new();
        for raw in &options.publish {
            let specs =
                wharf_net::parse_publish(raw).map_err(|e| bad("--publish", raw, &e.to_string()))?;
            for spec in specs {
                if let Some(IpAddr::V6(_)) = spec.host_ip {
                    return Err(bad(
                        "--publish",
                        raw,
                        "IPv6 host addresses are not supported yet",
                    ));
                }
                ports.push(PublishedPort::from(spec));
            }
        }
        let mut exposed_ports: Vec<String> = Vec::new();
        let image_exposed = exposed.into_iter().flat_map(BTreeMap::keys);
        let given = options.expose.iter();
        for (key, origin) in image_exposed
            .map(|k| (k, "EXPOSE"))
            .chain(given.map(|k| (k, "--expose")))
        {
            let spec: PortSpec = key
                .parse()
                .map_err(|e: wharf_net::PortSpecError| bad(origin, key, &e.to_string()))?;
            let port = format!("{}/{}", spec.container_port, spec.protocol);
            if !exposed_ports.contains(&port) {
                exposed_ports.push(port);
            }
        }
        let ip = options
            .ip
            .as_deref()
            .map(|ip| {
                ip.parse::<Ipv4Addr>()
                    .map_err(|_| bad("--ip", ip, "not an IPv4 address"))
            })
            .transpose()?;
        let dns = options
            .dns
            .iter()
            .map(|server| {
                server
                    .parse::<IpAddr>()
                    .map_err(|_| bad("--dns", server, "not an IP address"))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut extra_hosts = Vec::new();
        for entry in &options.add_hosts {
            let (name, address) = entry
                .split_once(':')
                .or_else(|| entry.split_once('='))
                .filter(|(name, address)| !name.is_empty() && !address.is_empty())
                .ok_or_else(|| bad("--add-host", entry, "expected NAME:IP"))?;
            if address != "host-gateway" && address.parse::<IpAddr>().is_err() {
                return Err(bad(
                    "--add-host",
                    entry,
                    "the address is neither an IP address nor host-gateway",
                ));
            }
            if address == "host-gateway" && mode == "none" {
                return Err(bad(
                    "--add-host",
                    entry,
                    "host-gateway needs a network (not --network none)",
                ));
            }
            extra_hosts.push((name.to_owned(), address.to_owned()));
        }
        let mut net = NetConfig {
            networks: Vec::new(),
            ports,
            publish_all: options.publish_all,
            port_bindings_as_sent: options.port_bindings_as_sent.clone(),
            exposed_ports,
            dns,
            extra_hosts,
        };
        let publishes = !net.ports.is_empty() || net.publish_all;
        let no_network_flags = |what: &str, publishes: bool| -> Result<()> {
            if publishes {
                return Err(bad(
                    "--publish",
                    &options.publish.join(","),
                    &format!("ports cannot be published with --network {what}"),
                ));
            }
            if ip.is_some() || !options.network_aliases.is_empty() {
                let (flag, value) = match &options.ip {
                    Some(ip) => ("--ip", ip.clone()),
                    None => ("--network-alias", options.network_aliases.join(",")),
                };
                return Err(bad(
                    flag,
                    &value,
                    &format!("needs a user-defined network, not --network {what}"),
                ));
            }
            Ok(())
        };
        let mut joined = None;
        let runtime_mode = match mode.as_str() {
            "none" => {
                no_network_flags("none", publishes)?;
                NetworkMode::New
            }
            "host" => {
                // Docker only warns: published ports are discarded on the host's network.
                no_network_flags("host", false)?;
                net.ports.clear();
                net.publish_all = false;
                NetworkMode::Host
            }
            other if other.starts_with("container:") => {
                let target = &other["container:".len()..];
                // Docker's refusals: these belong to the network's owner.
                let conflict = |flag: &'static str, value: String, what: &str| {
                    Err(bad(
                        flag,
                        &value,
                        &format!("conflicting options: {what} and the network mode {other}"),
                    ))
                };
                if publishes {
                    return conflict("--publish", options.publish.join(","), "port publishing");
                }
                if let Some(hostname) = &options.hostname {
                    return conflict("--hostname", hostname.clone(), "hostname");
                }
                if !options.dns.is_empty() {
                    return conflict("--dns", options.dns.join(","), "dns");
                }
                if !options.add_hosts.is_empty() {
                    return conflict(
                        "--add-host",
                        options.add_hosts.join(","),
                        "custom host-to-IP mapping",
                    );
                }
                no_network_flags(other, false)?;
                joined = Some(self.find_container(target)?.record.id);
                NetworkMode::Joined
            }
            name => {
                let networks = self.networks()?;
                let network = if name == DEFAULT_NETWORK {
                    networks.ensure_default()?
                } else {
                    networks.inspect(name)?
                };
                if network.name == DEFAULT_NETWORK && !options.network_aliases.is_empty() {
                    return Err(bad(
                        "--network-alias",
                        &options.network_aliases.join(","),
                        "network-scoped aliases need a user-defined network, not the default bridge",
                    ));
                }
                if network.name == DEFAULT_NETWORK && ip.is_some() {
                    return Err(NetError::StaticIpOnDefault(network.name).into());
                }
                if network.internal && (!net.ports.is_empty() || net.publish_all) {
                    return Err(NetError::PublishOnInternal(network.name).into());
                }
                net.networks.push(NetworkAttachment {
                    network_id: network.id,
                    network: network.name,
                    aliases: options.network_aliases.clone(),
                    ip,
                });
                NetworkMode::New
            }
        };
        if let Some(owner) = joined {
            // Docker's NetworkMode names the owner by its full id.
            mode = format!("container:{owner}");
            net = NetConfig::default();
        }
        Ok((runtime_mode, mode, net))
    }

    // ---- the monitor's side -------------------------------------------------------------

    /// Before runtime create: the container's `/etc/resolv.conf`, pointing at the DNS of
    /// its first user network if it has one.
    pub(crate) fn prepare_resolv_conf(&self, record: &ContainerRecord) -> Result<()> {
        let dns_gateway = match (record.net.networks.is_empty(), self.existing_networks()?) {
            (false, Some(networks)) => {
                let all = networks.list()?;
                record.net.networks.iter().find_map(|attachment| {
                    all.iter()
                        .find(|n| n.id == attachment.network_id && n.name != DEFAULT_NETWORK)
                        .map(|n| n.gateway)
                })
            }
            _ => None,
        };
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let text = resolv_conf(&host, &record.net, dns_gateway, record.run.network);
        let path = record.run.resolv_conf_path();
        std::fs::write(&path, text).at("write", &path)
    }

    /// Before runtime create, for `--network container:`: the owner must be running; the
    /// container joins its network namespace and takes its hostname, `/etc/hosts` and
    /// `/etc/resolv.conf` (copied at each start), as Docker does. Other modes run as created.
    pub(crate) fn join_owner_network(&self, record: &ContainerRecord) -> Result<RunConfig> {
        let mut run = record.run.clone();
        if run.network != NetworkMode::Joined {
            return Ok(run);
        }
        let owner_id = record
            .network_mode
            .strip_prefix("container:")
            .unwrap_or(&record.network_mode);
        let owner = self.find_container(owner_id)?;
        let pid = match (owner.state.status, owner.state.pid) {
            (Status::Running, Some(pid)) => pid,
            _ => {
                return Err(EngineError::BadOption {
                    flag: "--network",
                    value: format!("container:{}", owner.record.name),
                    message: "cannot join the network of a container that is not running".into(),
                })
            }
        };
        run.network_namespace = Some(PathBuf::from(format!("/proc/{pid}/ns/net")));
        run.hostname = owner.record.run.hostname.clone();
        let owned = &owner.record.run;
        for (from, to) in [
            (owned.hostname_path(), run.hostname_path()),
            (owned.hosts_path(), run.hosts_path()),
            (owned.resolv_conf_path(), run.resolv_conf_path()),
        ] {
            // In place: the files are bind-mounted by path.
            let text = std::fs::read(&from).at("read", &from)?;
            std::fs::write(&to, text).at("write", &to)?;
        }
        Ok(run)
    }

    /// Before runtime create, for a bridged container: a new network namespace attached to
    /// the container's networks (see [`Self::attach_networks`]), which `run` then names for
    /// the runtime to put the container in. Made first for speed (see
    /// `wharf_net::NewNetns`); the caller keeps it until the container has ended. `None`
    /// (and `run` unchanged) for the other network modes. With it come the DNS helpers
    /// still starting: [`DnsStart::ready`] them before the container starts.
    pub(crate) fn prepare_network(
        &self,
        record: &ContainerRecord,
        run: &mut RunConfig,
    ) -> Result<Option<(NewNetns, Vec<DnsStart>)>> {
        if record.net.networks.is_empty() || run.network != NetworkMode::New {
            return Ok(None);
        }
        let netns = NewNetns::create()?;
        let dns = self.attach_networks(record, netns.netns())?;
        run.network_namespace = Some(netns.path());
        Ok(Some((netns, dns)))
    }

    /// Joins the container (its namespace `netns`) to its networks, publishes its ports on
    /// the first, writes its address into `/etc/hosts` and starts the DNS helpers its user
    /// networks lack, which start meanwhile. Undoes all of it on failure.
    fn attach_networks(&self, record: &ContainerRecord, netns: Netns) -> Result<Vec<DnsStart>> {
        let networks = self.networks()?;
        let mut attached: Vec<String> = Vec::new();
        let mut dns = Vec::new();
        let result = (|| -> Result<()> {
            let ports = self.ports_to_publish(&record.net);
            let attaches: Vec<Attach> = record
                .net
                .networks
                .iter()
                .enumerate()
                .map(|(index, attachment)| Attach {
                    network: attachment.network_id.clone(),
                    container_id: record.id.clone(),
                    container_name: record.name.clone(),
                    aliases: attachment.aliases.clone(),
                    netns: netns.clone(),
                    interface: format!("eth{index}"),
                    ip: attachment.ip,
                    ports: if index == 0 {
                        ports.clone()
                    } else {
                        Vec::new()
                    },
                })
                .collect();
            let joined = networks
                .connect_all(&attaches)
                .map_err(|e| self.name_port_holder(e))?;
            attached = attaches.into_iter().map(|attach| attach.network).collect();
            let mut first = None;
            for (network, endpoint) in joined {
                if network.name != DEFAULT_NETWORK {
                    dns.push(self.start_dns(&network)?);
                }
                first.get_or_insert((endpoint, network));
            }
            if let Some((endpoint, network)) = first {
                let hosts = hosts_file(
                    &record.run.hostname,
                    Some(endpoint.ip),
                    &record.net.extra_hosts,
                    Some(network.gateway),
                );
                // In place: the file is already bind-mounted into the container.
                let path = record.run.hosts_path();
                std::fs::write(&path, hosts).at("write", &path)?;
            }
            Ok(())
        })();
        if result.is_err() {
            for network in attached.iter().rev() {
                let _ = networks.disconnect(network, &record.id);
            }
        }
        result.map(|()| dns)
    }

    /// `-p`, plus with `-P` every exposed port not published otherwise.
    fn ports_to_publish(&self, net: &NetConfig) -> Vec<PortSpec> {
        let mut specs: Vec<PortSpec> = net.ports.iter().copied().map(PortSpec::from).collect();
        if net.publish_all {
            for exposed in &net.exposed_ports {
                let Ok(spec) = exposed.parse::<PortSpec>() else {
                    continue;
                };
                let published = specs.iter().any(|s| {
                    s.container_port == spec.container_port && s.protocol == spec.protocol
                });
                if !published {
                    specs.push(spec);
                }
            }
        }
        specs
    }

    /// A port held by another container is named by that container's name, not its id.
    fn name_port_holder(&self, error: NetError) -> NetError {
        match error {
            NetError::PortAllocated { port, container }
                if container.len() == 64 && container.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                let name = self
                    .find_container(&container)
                    .map(|info| format!("{} ({})", info.record.name, &container[..12]))
                    .unwrap_or(container);
                NetError::PortAllocated {
                    port,
                    container: name,
                }
            }
            other => other,
        }
    }

    /// When the container has ended: leaves every network (its veths, leases and port
    /// rules). Only ports cost a firewall reload.
    pub(crate) fn detach_networks(&self, id: &str) -> Result<()> {
        let Some(networks) = self.existing_networks()? else {
            return Ok(());
        };
        let mut first_error = None;
        for (network, _) in networks.endpoints(id)? {
            if let Err(error) = networks.disconnect(&network, id) {
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// When every process of the container has ended (the monitor's cleanup, single-threaded):
    /// leaves every network as [`Engine::detach_networks`] does, but each veth is deleted by
    /// a child process that nobody waits for, as the kernel makes the deleting process wait
    /// 15-50 ms after it has unlisted the veth (see `wharf_net::Networks::disconnect_ended`).
    /// That child ends by itself; if it cannot start, the veth is deleted here.
    pub(crate) fn detach_ended_networks(&self, id: &str) -> Result<()> {
        if let Some(networks) = self.existing_networks()? {
            let title = format!("wharf: deleting a veth of container {}", &id[..12]);
            networks.disconnect_ended(id, in_a_child(title))?;
        }
        Ok(())
    }

    /// Removes the endpoints of containers whose monitor is gone, and wharf interfaces no
    /// state knows. With `only_if_stale`, does nothing (not even a firewall reload) unless
    /// some endpoint belongs to a dead container. `None` when no network exists.
    pub fn reconcile_networks(&self, only_if_stale: bool) -> Result<Option<Reconciled>> {
        let Some(networks) = self.existing_networks()? else {
            return Ok(None);
        };
        let all = networks.list()?;
        if all.is_empty() {
            return Ok(None);
        }
        let live: Vec<String> = self
            .list_containers()?
            .into_iter()
            .filter(|c| {
                c.state
                    .monitor_pid
                    .is_some_and(|pid| is_alive(pid, c.state.monitor_start_time))
            })
            .map(|c| c.record.id)
            .collect();
        let stale = all
            .iter()
            .flat_map(|n| n.endpoints.keys())
            .any(|id| !live.contains(id));
        if only_if_stale && !stale {
            return Ok(None);
        }
        let live: Vec<&str> = live.iter().map(String::as_str).collect();
        Ok(Some(networks.reconcile(&live)?))
    }

    // ---- the DNS helper -----------------------------------------------------------------

    fn dns_pid_path(&self, network_id: &str) -> PathBuf {
        self.run_root.join("dns").join(format!("{network_id}.json"))
    }

    fn dns_helper(&self, network_id: &str) -> Option<i32> {
        let text = std::fs::read(self.dns_pid_path(network_id)).ok()?;
        let pid: DnsPid = serde_json::from_slice(&text).ok()?;
        is_alive(pid.pid, pid.start_time).then_some(pid.pid)
    }

    /// Starts the DNS helper of `network` unless one serves it; returns once it answers.
    fn ensure_dns(&self, network: &Network) -> Result<()> {
        self.start_dns(network)?.ready(self)
    }

    /// Starts the DNS helper of `network` unless one serves it, without waiting for it:
    /// its start (a process of its own) overlaps the container's.
    fn start_dns(&self, network: &Network) -> Result<DnsStart> {
        let mut start = DnsStart {
            network_id: network.id.clone(),
            network_name: network.name.clone(),
            helper: None,
        };
        if self.dns_helper(&network.id).is_some() {
            return Ok(start);
        }
        let exe = std::env::current_exe().at("find", "the wharf executable")?;
        let helper = Command::new(&exe)
            .arg("--root")
            .arg(self.root())
            .arg("--run-root")
            .arg(&self.run_root)
            .arg(DNS_COMMAND)
            .arg(&network.id)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .at("start the DNS helper", &exe)?;
        start.helper = Some(helper);
        Ok(start)
    }

    /// The DNS helper process: serves `network_id` until it is gone or idle. Prints `ready`
    /// on stdout once it answers, then lets go of its stdio.
    pub fn serve_dns(&self, network_id: &str) -> Result<()> {
        let _ = rustix::process::setsid();
        let networks = self.networks()?;
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let server =
            wharf_net::DnsServer::bind(&networks, network_id, wharf_net::resolvers_from(&host))?;
        let me = rustix::process::getpid().as_raw_nonzero().get();
        let path = self.dns_pid_path(network_id);
        let dir = path.parent().expect("pid files live in a folder");
        std::fs::create_dir_all(dir).at("create directory", dir)?;
        write_state(
            &path,
            &DnsPid {
                pid: me,
                start_time: process_start_time(me),
            },
        )?;
        crate::containers::announce(DNS_READY);
        let result = server.serve(DNS_IDLE);
        if self.dns_helper(network_id) == Some(me) {
            let _ = std::fs::remove_file(&path);
        }
        Ok(result?)
    }

    /// Stops the DNS helper of a removed network and waits (briefly) until it is gone.
    pub(crate) fn stop_dns(&self, network_id: &str) {
        self.signal_dns_helpers(&[network_id]);
        self.await_dns_helpers(&[network_id]);
    }

    /// Tells the DNS helpers of these networks to end.
    fn signal_dns_helpers(&self, network_ids: &[&str]) {
        for id in network_ids {
            if let Some(pid) = self.dns_helper(id).and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
    }

    /// Waits (2 s at most) until the DNS helpers of these networks have ended.
    fn await_dns_helpers(&self, network_ids: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while network_ids.iter().any(|id| self.dns_helper(id).is_some())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        for id in network_ids {
            let _ = std::fs::remove_file(self.dns_pid_path(id));
        }
    }

    // ---- the network commands -----------------------------------------------------------

    /// `network create`; returns the new network's id.
    pub fn create_network(&self, options: &NetworkCreateOptions) -> Result<String> {
        let driver = match options.driver.as_deref() {
            None => Driver::Bridge,
            Some(driver) => driver.parse()?,
        };
        let subnet = options
            .subnet
            .as_deref()
            .map(|s| s.parse::<Subnet>().map_err(NetError::from))
            .transpose()?;
        let gateway = options
            .gateway
            .as_deref()
            .map(|g| {
                g.parse::<Ipv4Addr>().map_err(|_| EngineError::BadOption {
                    flag: "--gateway",
                    value: g.to_owned(),
                    message: "not an IPv4 address".into(),
                })
            })
            .transpose()?;
        let spec = NetworkSpec {
            name: options.name.clone(),
            driver,
            subnet,
            gateway,
            internal: options.internal,
            labels: options.labels.clone(),
        };
        if PSEUDO_NETWORKS.iter().any(|(name, _)| *name == spec.name) {
            return Err(NetError::ReservedName(spec.name).into());
        }
        let id = self.networks()?.create(&spec)?.id;
        self.network_event("create", &id, &spec.name, None);
        Ok(id)
    }

    /// `network ls`: the pre-defined `host` and `none`, and every stored network.
    pub fn list_networks(&self) -> Result<Vec<NetworkSummary>> {
        let mut rows: Vec<NetworkSummary> = PSEUDO_NETWORKS
            .iter()
            .map(|(name, driver)| NetworkSummary {
                id: pseudo_id(name),
                name: (*name).to_owned(),
                driver: (*driver).to_owned(),
                internal: false,
                created: String::new(),
                labels: BTreeMap::new(),
            })
            .collect();
        // Docker always has `bridge`; wharf makes it on first use (which needs root and nft:
        // without them, `ls` shows what exists).
        if let Ok(networks) = self.networks() {
            let _ = networks.ensure_default();
            rows.extend(networks.list()?.into_iter().map(|n| NetworkSummary {
                id: n.id,
                name: n.name,
                driver: n.driver.to_string(),
                internal: n.internal,
                created: n.created,
                labels: n.labels,
            }));
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    pub(crate) fn find_network(&self, name: &str) -> Result<Network> {
        match self.existing_networks()? {
            Some(networks) => Ok(networks.inspect(name)?),
            None => Err(NetError::NotFound(name.to_owned()).into()),
        }
    }

    /// `network inspect`, in Docker's JSON shape.
    pub fn inspect_network(&self, name: &str) -> Result<Value> {
        if let Some((name, driver)) = PSEUDO_NETWORKS
            .iter()
            .find(|(n, _)| *n == name || (name.len() >= 12 && pseudo_id(n).starts_with(name)))
        {
            let containers: BTreeMap<String, Value> = self
                .list_containers()?
                .into_iter()
                .filter(|c| c.record.network_mode == *name && c.state.status == Status::Running)
                .map(|c| {
                    (
                        c.record.id.clone(),
                        json!({"Name": c.record.name, "EndpointID": "", "MacAddress": "", "IPv4Address": "", "IPv6Address": ""}),
                    )
                })
                .collect();
            return Ok(json!({
                "Name": name,
                "Id": pseudo_id(name),
                "Created": "0001-01-01T00:00:00Z",
                "Scope": "local",
                "Driver": driver,
                "EnableIPv6": false,
                "IPAM": {"Driver": "default", "Options": null, "Config": []},
                "Internal": false,
                "Attachable": false,
                "Ingress": false,
                "ConfigFrom": {"Network": ""},
                "ConfigOnly": false,
                "Containers": containers,
                "Options": {},
                "Labels": {},
            }));
        }
        let network = if name == DEFAULT_NETWORK {
            self.networks()?.ensure_default()?
        } else {
            self.find_network(name)?
        };
        let containers: BTreeMap<&String, Value> = network
            .endpoints
            .iter()
            .map(|(id, endpoint)| {
                (
                    id,
                    json!({
                        "Name": endpoint.container_name,
                        "EndpointID": endpoint_id(&network.id, id),
                        "MacAddress": endpoint.mac_address(),
                        "IPv4Address": format!("{}/{}", endpoint.ip, network.subnet.prefix()),
                        "IPv6Address": "",
                    }),
                )
            })
            .collect();
        let mut options = json!({"com.docker.network.bridge.name": network.bridge});
        if network.name == DEFAULT_NETWORK {
            options["com.docker.network.bridge.default_bridge"] = json!("true");
            options["com.docker.network.bridge.enable_ip_masquerade"] = json!("true");
        }
        Ok(json!({
            "Name": network.name,
            "Id": network.id,
            "Created": network.created,
            "Scope": "local",
            "Driver": network.driver.to_string(),
            "EnableIPv6": false,
            "IPAM": {
                "Driver": "default",
                "Options": {},
                "Config": [{"Subnet": network.subnet.to_string(), "Gateway": network.gateway.to_string()}],
            },
            "Internal": network.internal,
            "Attachable": false,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": containers,
            "Options": options,
            "Labels": network.labels,
        }))
    }

    /// Names of the containers whose record names network `id` (running or not).
    fn containers_naming(&self, network_id: &str) -> Result<Vec<String>> {
        Ok(self
            .list_containers()?
            .into_iter()
            .filter(|c| {
                c.record
                    .net
                    .networks
                    .iter()
                    .any(|a| a.network_id == network_id)
            })
            .map(|c| c.record.name)
            .collect())
    }

    /// `network rm`: refuses the pre-defined networks and networks that containers name.
    pub fn remove_network(&self, name: &str) -> Result<String> {
        let (mut removed, mut in_use) = self.remove_networks(&[name.to_owned()])?;
        match in_use.pop() {
            Some(error) => Err(error),
            None => Ok(removed.remove(0)),
        }
    }

    /// `network rm` of several user networks at once (`compose down`): the pre-defined
    /// and unknown ones are refused, those that containers name are left (returned as the
    /// errors that say so), the others go together. Returns the names removed. The kernel's
    /// wait after each bridge is unlisted is left to a child process when this process has
    /// one thread (else it is waited here).
    pub fn remove_networks(&self, names: &[String]) -> Result<(Vec<String>, Vec<EngineError>)> {
        let mut in_use = Vec::new();
        let mut ids = Vec::new();
        for name in names {
            if name == DEFAULT_NETWORK || PSEUDO_NETWORKS.iter().any(|(n, _)| n == name) {
                return Err(EngineError::PredefinedNetwork(name.to_owned()));
            }
            let network = self.find_network(name)?;
            if network.name == DEFAULT_NETWORK {
                return Err(EngineError::PredefinedNetwork(network.name));
            }
            let users = self.containers_naming(&network.id)?;
            if users.is_empty() {
                ids.push(network.id);
            } else {
                in_use.push(EngineError::NetworkUsed {
                    network: network.name,
                    containers: users,
                });
            }
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // The helpers end while the bridges and rules go.
        self.signal_dns_helpers(&ids);
        let title = "wharf: deleting the bridge of a removed network".to_owned();
        let removed = self.networks()?.remove_many(&ids, in_a_child(title));
        self.await_dns_helpers(&ids);
        let removed = removed?;
        for network in &removed {
            self.network_event("destroy", &network.id, &network.name, None);
        }
        Ok((removed.into_iter().map(|n| n.name).collect(), in_use))
    }

    /// `network prune`: removes every user network that no container names; returns their
    /// names.
    pub fn prune_networks(&self) -> Result<Vec<String>> {
        let Some(networks) = self.existing_networks()? else {
            return Ok(Vec::new());
        };
        let containers = self.list_containers()?;
        let mut removed = Vec::new();
        for network in networks.list()? {
            let used = network.name == DEFAULT_NETWORK
                || !network.endpoints.is_empty()
                || containers.iter().any(|c| {
                    c.record
                        .net
                        .networks
                        .iter()
                        .any(|a| a.network_id == network.id)
                });
            if !used {
                networks.remove(&network.id)?;
                self.stop_dns(&network.id);
                self.network_event("destroy", &network.id, &network.name, None);
                removed.push(network.name);
            }
        }
        Ok(removed)
    }

    /// `network connect`: remembered for the container's next starts, and joined now if it
    /// runs.
    pub fn connect_network(
        &self,
        network: &str,
        container: &str,
        options: &ConnectOptions,
    ) -> Result<()> {
        let ContainerInfo {
            mut record, state, ..
        } = self.find_container(container)?;
        refuse_pseudo(&record, network)?;
        let networks = self.networks()?;
        let network = if network == DEFAULT_NETWORK {
            networks.ensure_default()?
        } else {
            networks.inspect(network)?
        };
        if record
            .net
            .networks
            .iter()
            .any(|a| a.network_id == network.id)
        {
            return Err(NetError::AlreadyConnected {
                container: record.name,
                network: network.name,
            }
            .into());
        }
        let ip = options
            .ip
            .as_deref()
            .map(|ip| {
                ip.parse::<Ipv4Addr>().map_err(|_| EngineError::BadOption {
                    flag: "--ip",
                    value: ip.to_owned(),
                    message: "not an IPv4 address".into(),
                })
            })
            .transpose()?;
        if network.name == DEFAULT_NETWORK && !options.aliases.is_empty() {
            return Err(EngineError::BadOption {
                flag: "--alias",
                value: options.aliases.join(","),
                message:
                    "network-scoped aliases need a user-defined network, not the default bridge"
                        .into(),
            });
        }
        let attachment = NetworkAttachment {
            network_id: network.id.clone(),
            network: network.name.clone(),
            aliases: options.aliases.clone(),
            ip,
        };
        let running = state.status == Status::Running;
        if running {
            let pid = state.pid.ok_or_else(|| EngineError::ContainerNotRunning {
                name: record.name.clone(),
            })?;
            let used: Vec<String> = networks
                .endpoints(&record.id)?
                .into_iter()
                .map(|(_, endpoint)| endpoint.interface)
                .collect();
            let interface = (0..)
                .map(|n| format!("eth{n}"))
                .find(|name| !used.contains(name))
                .expect("some ethN is free");
            let attach = Attach {
                network: network.id.clone(),
                container_id: record.id.clone(),
                container_name: record.name.clone(),
                aliases: attachment.aliases.clone(),
                netns: Netns::Pid(pid),
                interface,
                ip,
                ports: Vec::new(),
            };
            networks.connect(&attach)?;
            if network.name != DEFAULT_NETWORK {
                if let Err(error) = self.ensure_dns(&network) {
                    let _ = networks.disconnect(&network.id, &record.id);
                    return Err(error);
                }
            }
        }
        record.net.networks.push(attachment);
        let saved = self.save_record(&record);
        if saved.is_err() && running {
            let _ = networks.disconnect(&network.id, &record.id);
        }
        saved?;
        self.network_event("connect", &network.id, &network.name, Some(&record.id));
        Ok(())
    }

    /// A network event as Docker's: the network's id, its name and type, and the
    /// container for `connect` and `disconnect`.
    fn network_event(&self, action: &str, id: &str, name: &str, container: Option<&str>) {
        let mut attributes = vec![("name", name.to_string()), ("type", "bridge".to_string())];
        attributes.extend(container.map(|c| ("container", c.to_string())));
        self.record_object_event("network", action, id, &attributes);
    }

    /// `network disconnect`: leaves the network now if running, and at later starts.
    pub fn disconnect_network(&self, network: &str, container: &str) -> Result<()> {
        let ContainerInfo { mut record, .. } = self.find_container(container)?;
        refuse_pseudo(&record, network)?;
        let network = self.find_network(network)?;
        let networks = self.networks()?;
        let live = networks
            .endpoints(&record.id)?
            .iter()
            .any(|(name, _)| *name == network.name);
        let before = record.net.networks.len();
        record.net.networks.retain(|a| a.network_id != network.id);
        if !live && before == record.net.networks.len() {
            return Err(NetError::NotConnected {
                container: record.name,
                network: network.name,
            }
            .into());
        }
        if live {
            networks.disconnect(&network.id, &record.id)?;
        }
        self.save_record(&record)?;
        self.network_event("disconnect", &network.id, &network.name, Some(&record.id));
        Ok(())
    }

    fn save_record(&self, record: &ContainerRecord) -> Result<()> {
        let path = crate::containers::container_dir(self.root(), &record.id)
            .join(crate::containers::RECORD_FILE);
        write_json(&path, record)
    }

    /// `port`: the container's name and its published ports.
    pub fn container_ports(&self, container: &str) -> Result<(String, Vec<PortBinding>)> {
        let info = self.find_container(container)?;
        let mut bindings = Vec::new();
        if info.state.status == Status::Running {
            if let Some(networks) = self.existing_networks()? {
                for (_, endpoint) in networks.endpoints(&info.record.id)? {
                    bindings.extend(endpoint.ports);
                }
            }
        }
        Ok((info.record.name, bindings))
    }

    /// The published ports of every container that has some, by id (for `ps`).
    pub fn published_ports(&self) -> Result<BTreeMap<String, Vec<PortBinding>>> {
        let mut ports: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
        if let Some(networks) = self.existing_networks()? {
            for network in networks.list()? {
                for (id, endpoint) in network.endpoints {
                    ports.entry(id).or_default().extend(endpoint.ports);
                }
            }
        }
        Ok(ports)
    }

    /// `NetworkSettings` of a container's inspect, in Docker's shape.
    pub(crate) fn network_settings(
        &self,
        record: &ContainerRecord,
        state: &ContainerState,
    ) -> Value {
        let running = state.status == Status::Running;
        let networks = self.existing_networks().ok().flatten();
        let all = networks
            .as_ref()
            .and_then(|n| n.list().ok())
            .unwrap_or_default();
        let endpoints: BTreeMap<String, Endpoint> = match (&networks, running) {
            (Some(networks), true) => networks
                .endpoints(&record.id)
                .unwrap_or_default()
                .into_iter()
                .collect(),
            _ => BTreeMap::new(),
        };
        let mut by_name = serde_json::Map::new();
        let mut primary = json!({});
        for attachment in &record.net.networks {
            let network = all.iter().find(|n| n.id == attachment.network_id);
            let name = network.map_or(attachment.network.clone(), |n| n.name.clone());
            let endpoint = endpoints.get(&name);
            let live = network.zip(endpoint);
            let dns_names = dns_names(
                &record.name,
                &attachment.aliases,
                &record.id[..12],
                &record.run.hostname,
            );
            let value = json!({
                "IPAMConfig": attachment.ip.map(|ip| json!({"IPv4Address": ip.to_string()})),
                "Links": null,
                "Aliases": if attachment.aliases.is_empty() { Value::Null } else { json!(attachment.aliases) },
                "MacAddress": live.map_or(String::new(), |(_, e)| e.mac_address()),
                "DriverOpts": null,
                "NetworkID": attachment.network_id,
                "EndpointID": live.map_or(String::new(), |(n, _)| endpoint_id(&n.id, &record.id)),
                "Gateway": live.map_or(String::new(), |(n, _)| n.gateway.to_string()),
                "IPAddress": live.map_or(String::new(), |(_, e)| e.ip.to_string()),
                "IPPrefixLen": live.map_or(0, |(n, _)| n.subnet.prefix()),
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DNSNames": if endpoint.is_some() && name != DEFAULT_NETWORK { json!(dns_names) } else { Value::Null },
            });
            if name == DEFAULT_NETWORK {
                primary = value.clone();
            }
            by_name.insert(name, value);
        }
        if record.net.networks.is_empty() {
            if let Some((name, _)) = PSEUDO_NETWORKS
                .iter()
                .find(|(n, _)| *n == record.network_mode)
            {
                by_name.insert(
                    (*name).to_owned(),
                    json!({
                        "IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "",
                        "DriverOpts": null, "NetworkID": pseudo_id(name), "EndpointID": "",
                        "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null,
                    }),
                );
            }
        }
        let mut ports = serde_json::Map::new();
        if running {
            for exposed in &record.net.exposed_ports {
                ports.insert(exposed.clone(), Value::Null);
            }
            for endpoint in endpoints.values() {
                for binding in &endpoint.ports {
                    let key = format!("{}/{}", binding.container_port, binding.protocol);
                    let entry = json!({"HostIp": binding.host_ip.to_string(), "HostPort": binding.host_port.to_string()});
                    match ports.get_mut(&key) {
                        Some(Value::Array(list)) => list.push(entry),
                        _ => {
                            ports.insert(key, json!([entry]));
                        }
                    }
                }
            }
        }
        let field = |key: &str, empty: Value| primary.get(key).cloned().unwrap_or(empty);
        json!({
            "Bridge": "",
            "SandboxID": "",
            "SandboxKey": match (running, state.pid) {
                (true, Some(pid)) if record.run.network == NetworkMode::New => format!("/proc/{pid}/ns/net"),
                _ => String::new(),
            },
            "HairpinMode": false,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "Ports": ports,
            "SecondaryIPAddresses": null,
            "SecondaryIPv6Addresses": null,
            "EndpointID": field("EndpointID", json!("")),
            "Gateway": field("Gateway", json!("")),
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": field("IPAddress", json!("")),
            "IPPrefixLen": field("IPPrefixLen", json!(0)),
            "IPv6Gateway": "",
            "MacAddress": field("MacAddress", json!("")),
            "Networks": by_name,
        })
    }

    /// The network parts of `HostConfig` and `Config` of a container's inspect.
    pub(crate) fn network_host_config(record: &ContainerRecord) -> (Value, Value) {
        let mut bindings = serde_json::Map::new();
        for port in &record.net.ports {
            let key = format!("{}/{}", port.container_port, port.protocol);
            let host_port = match port.host_ports {
                None => String::new(),
                Some((start, end)) if start == end => start.to_string(),
                Some((start, end)) => format!("{start}-{end}"),
            };
            let entry = json!({"HostIp": port.host_ip.map(|ip| ip.to_string()).unwrap_or_default(), "HostPort": host_port});
            match bindings.get_mut(&key) {
                Some(Value::Array(list)) => list.push(entry),
                _ => {
                    bindings.insert(key, json!([entry]));
                }
            }
        }
        let bindings = match &record.net.port_bindings_as_sent {
            Some(sent) => sent.clone(),
            None => Value::Object(bindings),
        };
        let host_config = json!({
            "PortBindings": bindings,
            "PublishAllPorts": record.net.publish_all,
            "Dns": record.net.dns.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "ExtraHosts": if record.net.extra_hosts.is_empty() {
                Value::Null
            } else {
                json!(record.net.extra_hosts.iter().map(|(n, a)| format!("{n}:{a}")).collect::<Vec<_>>())
            },
        });
        let exposed: serde_json::Map<String, Value> = record
            .net
            .exposed_ports
            .iter()
            .map(|p| (p.clone(), json!({})))
            .collect();
        (host_config, Value::Object(exposed))
    }
}

impl EngineError {
    /// Whether this says that a network does not exist (`network rm -f` ignores that).
    pub fn is_network_not_found(&self) -> bool {
        matches!(self, EngineError::Network(error) if matches!(**error, NetError::NotFound(_)))
    }
}

/// `network connect`/`disconnect` do not apply to `--network host|none` containers, nor to
/// the `host` and `none` networks.
/// Runs each interface deletion in a child process that nobody waits for, as the kernel
/// makes the deleting process wait 15-50 ms after it has unlisted the interface; here when
/// this process cannot fork (it has threads). The child ends by itself.
fn in_a_child(title: String) -> impl FnMut(wharf_net::LinkRemoval) {
    move |removal| {
        let run = move || drop(removal.run());
        if wharf_runtime::fork_detached(&title, run).is_err() {
            run();
        }
    }
}

fn refuse_pseudo(record: &ContainerRecord, network: &str) -> Result<()> {
    let mode = record.network_mode.as_str();
    let pseudo = PSEUDO_NETWORKS.iter().any(|(n, _)| *n == network);
    if pseudo || (mode == "host" || (mode == "none" && record.net.networks.is_empty())) {
        let what = if pseudo { network } else { mode };
        return Err(EngineError::BadOption {
            flag: "network",
            value: network.to_owned(),
            message: format!(
                "container {} cannot join or leave networks while on --network {what}",
                record.name
            ),
        });
    }
    Ok(())
}

/// A stable id for `host` and `none`, shown by `network ls`.
fn pseudo_id(name: &str) -> String {
    wharf_oci::Digest::of(format!("wharf network {name}").as_bytes())
        .hex()
        .to_string()
}

/// Docker's endpoint id: stable per network and container.
fn endpoint_id(network_id: &str, container_id: &str) -> String {
    wharf_oci::Digest::of(format!("{network_id}/{container_id}").as_bytes())
        .hex()
        .to_string()
}

/// A container's `/etc/resolv.conf`: on a user network its DNS helper (then `--dns`
/// servers), otherwise `--dns` or the host's servers, keeping the host's `search` and
/// `options`. A bridged container cannot reach the host's loopback resolvers, so those are
/// dropped (Docker's public fallback when none is left).
pub(crate) fn resolv_conf(
    host: &str,
    net: &NetConfig,
    dns_gateway: Option<Ipv4Addr>,
    mode: NetworkMode,
) -> String {
    let bridged = !net.networks.is_empty();
    if dns_gateway.is_none() && net.dns.is_empty() && !bridged {
        return host.to_owned();
    }
    let mut servers: Vec<String> = Vec::new();
    if let Some(gateway) = dns_gateway {
        servers.push(gateway.to_string());
        servers.extend(net.dns.iter().map(ToString::to_string));
    } else if !net.dns.is_empty() {
        servers.extend(net.dns.iter().map(ToString::to_string));
    } else {
        servers.extend(
            wharf_net::resolvers_from(host)
                .into_iter()
                .map(|s| s.ip())
                .filter(|ip| mode == NetworkMode::Host || !ip.is_loopback())
                .map(|ip| ip.to_string()),
        );
        if servers.is_empty() {
            servers.extend(FALLBACK_RESOLVERS.iter().map(|s| (*s).to_owned()));
        }
    }
    let mut text: String = servers
        .iter()
        .map(|server| format!("nameserver {server}\n"))
        .collect();
    for line in host.lines() {
        let word = line.split_whitespace().next().unwrap_or_default();
        if matches!(word, "search" | "domain" | "options") {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// A container's `/etc/hosts`, like Docker's: localhost, then `--add-host` entries, then
/// its own address (or 127.0.1.1 without one) and hostname.
pub(crate) fn hosts_file(
    hostname: &str,
    ip: Option<Ipv4Addr>,
    extra: &[(String, String)],
    gateway: Option<Ipv4Addr>,
) -> String {
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    for (name, address) in extra {
        let address = match address.as_str() {
            "host-gateway" => gateway.map_or_else(|| "127.0.0.1".to_owned(), |g| g.to_string()),
            other => other.to_owned(),
        };
        text.push_str(&format!("{address}\t{name}\n"));
    }
    let own = ip.map_or_else(|| "127.0.1.1".to_owned(), |ip| ip.to_string());
    text.push_str(&format!("{own}\t{hostname}\n"));
    text
}

/// What the user can do about a network error.
pub(crate) fn hint(error: &NetError) -> Option<String> {
    Some(match error {
        NetError::NotFound(_) => "`wharf network ls` lists the networks".into(),
        NetError::NameExists(_) => {
            "choose another name, or remove the network with `wharf network rm`".into()
        }
        NetError::ReservedName(_) => "bridge, host and none are pre-defined: choose another name".into(),
        NetError::OverlapsNetwork { .. } | NetError::OverlapsRoute { .. } => {
            "choose another --subnet, or leave it out to get a free one".into()
        }
        NetError::PoolsExhausted => "remove unused networks (`wharf network prune`) or give a --subnet".into(),
        NetError::InvalidGateway { .. } | NetError::GatewayWithoutSubnet { .. } => {
            "give --subnet and a --gateway inside it".into()
        }
        NetError::AddressOutsideSubnet { .. }
        | NetError::AddressReserved { .. }
        | NetError::AddressInUse { .. } => {
            "choose another --ip inside the network's subnet, or leave it out".into()
        }
        NetError::StaticIpOnDefault(_) => "create a network (`wharf network create`) and use --network NAME".into(),
        NetError::PortAllocated { .. } | NetError::PortInUse { .. } => {
            "publish on another host port (-p HOST:CONTAINER), or stop what holds this one".into()
        }
        NetError::NoFreePort { .. } => "give a host port or a wider range with -p".into(),
        NetError::PublishOnInternal(_) => "internal networks do not publish ports: use a non-internal network".into(),
        NetError::InUse { .. } => {
            "disconnect or remove those containers first (`wharf network disconnect`, `wharf rm -f`)".into()
        }
        NetError::AlreadyConnected { .. } => "`wharf inspect CONTAINER` shows its networks".into(),
        NetError::NotConnected { .. } => "`wharf inspect CONTAINER` shows its networks".into(),
        NetError::Nft { .. } => {
            "bridge networks need nftables and root (`--network none` needs neither)".into()
        }
        NetError::Io { path, .. } if path.as_os_str() == "nft" => {
            "install nftables (`apt-get install nftables`), or run with `--network none`".into()
        }
        NetError::UnsupportedDriver(_) => "use --driver bridge".into(),
        NetError::BridgeTaken { .. } => {
            "each wharf state root on a host needs the bridge for itself: run this container from the root that uses it (WHARF_ROOT), or stop that root's containers first".into()
        }
        NetError::Subnet(_) => "give an IPv4 subnet like 172.30.0.0/16".into(),
        NetError::Rollback { error, .. } => return hint(error),
        _ => return None,
    })
}

/// An endpoint's `DNSNames` as Docker lists them: the container's name, its aliases on the
/// network, its short id, its hostname; each once.
fn dns_names<'a>(
    name: &'a str,
    aliases: &'a [String],
    short_id: &'a str,
    hostname: &'a str,
) -> Vec<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    std::iter::once(name)
        .chain(aliases.iter().map(String::as_str))
        .chain([short_id, hostname])
        .filter(|n| !n.is_empty() && seen.insert(*n))
        .collect()
}

/// A network's DNS helper, maybe still starting (see [`Engine::prepare_network`]).
pub(crate) struct DnsStart {
    network_id: String,
    network_name: String,
    /// The helper this process started; `None` when one served already.
    helper: Option<std::process::Child>,
}

impl DnsStart {
    /// Returns once the network's helper answers.
    pub(crate) fn ready(self, engine: &Engine) -> Result<()> {
        let Some(mut helper) = self.helper else {
            return Ok(());
        };
        let mut out = String::new();
        if let Some(mut stdout) = helper.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        if out.trim() == DNS_READY {
            return Ok(());
        }
        let mut err = String::new();
        if let Some(mut stderr) = helper.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        let _ = helper.wait();
        // Lost a race with another monitor starting the same helper, which has bound the
        // address then: fine once it has written its pid.
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if engine.dns_helper(&self.network_id).is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let message = err
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or(err.trim())
            .to_owned();
        Err(EngineError::Runtime {
            name: self.network_name.clone(),
            message: format!(
                "the DNS helper of network {} failed: {message}",
                self.network_name
            ),
            exit_code: 125,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(networks: usize, dns: &[&str]) -> NetConfig {
        NetConfig {
            networks: (0..networks)
                .map(|i| NetworkAttachment {
                    network_id: format!("{i}"),
                    network: format!("n{i}"),
                    aliases: Vec::new(),
                    ip: None,
                })
                .collect(),
            dns: dns.iter().map(|d| d.parse().unwrap()).collect(),
            ..NetConfig::default()
        }
    }

    #[test]
    fn resolv_conf_follows_docker() {
        let host =
            "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n";
        // none/host: the host's file as is.
        assert_eq!(
            resolv_conf(host, &net(0, &[]), None, NetworkMode::New),
            host
        );
        // Default bridge: no loopback resolvers.
        assert_eq!(
            resolv_conf(host, &net(1, &[]), None, NetworkMode::New),
            "nameserver 10.0.0.2\nsearch example.org\noptions edns0\n"
        );
        assert_eq!(
            resolv_conf(
                "nameserver 127.0.0.53\n",
                &net(1, &[]),
                None,
                NetworkMode::New
            ),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        // User network: its DNS first, then --dns.
        assert_eq!(
            resolv_conf(
                host,
                &net(1, &["1.1.1.1"]),
                Some(Ipv4Addr::new(172, 18, 0, 1)),
                NetworkMode::New
            ),
            "nameserver 172.18.0.1\nnameserver 1.1.1.1\nsearch example.org\noptions edns0\n"
        );
        // --dns replaces the host's servers.
        assert_eq!(
            resolv_conf(host, &net(0, &["9.9.9.9"]), None, NetworkMode::New),
            "nameserver 9.9.9.9\nsearch example.org\noptions edns0\n"
        );
    }

    #[test]
    fn hosts_file_has_the_address_and_extra_hosts() {
        let text = hosts_file(
            "abc",
            Some(Ipv4Addr::new(172, 18, 0, 2)),
            &[
                ("db".into(), "10.1.2.3".into()),
                ("host.docker.internal".into(), "host-gateway".into()),
            ],
            Some(Ipv4Addr::new(172, 18, 0, 1)),
        );
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.ends_with("10.1.2.3\tdb\n172.18.0.1\thost.docker.internal\n172.18.0.2\tabc\n"));
        assert!(hosts_file("abc", None, &[], None).ends_with("127.0.1.1\tabc\n"));
    }

    #[test]
    fn dns_names_are_dockers_each_once() {
        // A compose container: its aliases are the service and its own name again; its
        // hostname is its short id.
        let aliases = ["db".to_string(), "app-db-1".to_string()];
        assert_eq!(
            dns_names("app-db-1", &aliases, "0123456789ab", "0123456789ab"),
            ["app-db-1", "db", "0123456789ab"]
        );
        assert_eq!(
            dns_names("c", &[], "0123456789ab", "box"),
            ["c", "0123456789ab", "box"]
        );
    }
}
