//! Real networks in test-made namespaces: each test builds a "host" namespace (this thread
//! runs the library inside it), container namespaces, and an "outside" machine linked to
//! the host, and checks what can reach what.

#![allow(clippy::print_stderr)]

mod support;

use std::net::Ipv4Addr;
use std::time::Instant;

use support::{
    tcp_hello, tcp_server, tcp_server_on, udp_hello, udp_server, Ns, World, HOST_OUTSIDE_IP,
    OUTSIDE_IP,
};
use wharf_net::{parse_publish, Attach, HostScope, NetError, NetworkSpec, Networks, Subnet};

fn spec(name: &str, subnet: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.to_owned(),
        subnet: Some(subnet.parse::<Subnet>().unwrap()),
        ..NetworkSpec::default()
    }
}

/// Creates network `name` on `subnet` in `world`.
fn create(world: &World, name: &str, subnet: &str) -> wharf_net::Network {
    world.networks.create(&spec(name, subnet)).unwrap()
}

fn publish(values: &[&str]) -> Vec<wharf_net::PortSpec> {
    values
        .iter()
        .flat_map(|value| parse_publish(value).unwrap())
        .collect()
}

#[test]
fn containers_reach_each_other_and_the_outside_through_nat() {
    skip_unless_capable!();
    let world = World::new();
    let network = create(&world, "web", "10.88.0.0/24");
    let (c1, e1) = world.container("web", "c1", |_| {}).unwrap();
    let (c2, e2) = world.container("web", "c2", |_| {}).unwrap();
    assert_eq!(e1.ip, Ipv4Addr::new(10, 88, 0, 2));
    assert_eq!(e2.ip, Ipv4Addr::new(10, 88, 0, 3));
    assert!(c1
        .ip_output(&["-o", "addr", "show", "eth0"])
        .contains("10.88.0.2/24"));
    assert!(c1
        .ip_output(&["route"])
        .contains("default via 10.88.0.1 dev eth0"));
    assert!(c1.ip_output(&["link", "show", "lo"]).contains("UP"));

    tcp_server(&c2, 80, "c2");
    assert_eq!(tcp_hello(&c1, e2.ip, 80).unwrap(), "c2 10.88.0.2");

    // The outside machine has no route to 10.88.0.0/24: only masquerading gets an answer
    // back, and it sees the host's address, not the container's.
    tcp_server(&world.outside, 8000, "outside");
    assert_eq!(
        tcp_hello(&c1, OUTSIDE_IP, 8000).unwrap(),
        format!("outside {HOST_OUTSIDE_IP}")
    );
    udp_server(&world.outside, 8053, "outside-udp");
    assert_eq!(
        udp_hello(&c2, OUTSIDE_IP, 8053).unwrap(),
        format!("outside-udp {HOST_OUTSIDE_IP}")
    );
    // The host reaches containers directly.
    assert_eq!(tcp_hello(&world.host, e2.ip, 80).unwrap(), "c2 10.88.0.1");

    let inspected = world.networks.inspect("web").unwrap();
    assert_eq!(inspected.id, network.id);
    assert_eq!(inspected.endpoints.len(), 2);
    assert_eq!(
        world.networks.inspect(&network.id[..12]).unwrap().name,
        "web"
    );
}

#[test]
fn internal_networks_reach_only_themselves() {
    skip_unless_capable!();
    let world = World::new();
    let internal = NetworkSpec {
        internal: true,
        ..spec("private", "10.89.0.0/24")
    };
    world.networks.create(&internal).unwrap();
    let (c1, _) = world.container("private", "c1", |_| {}).unwrap();
    let (c2, e2) = world.container("private", "c2", |_| {}).unwrap();
    tcp_server(&c2, 80, "c2");
    assert_eq!(tcp_hello(&c1, e2.ip, 80).unwrap(), "c2 10.89.0.2");
    assert!(!c1.ip_output(&["route"]).contains("default"));

    tcp_server(&world.outside, 8000, "outside");
    assert!(tcp_hello(&c1, OUTSIDE_IP, 8000).is_err(), "no route out");
    // Even with a route added by hand, the host forwards nothing out of the network.
    c1.ip(&["route", "add", "default", "via", "10.89.0.1"]);
    assert!(
        tcp_hello(&c1, OUTSIDE_IP, 8000).is_err(),
        "forwarding is dropped"
    );

    let error = world
        .container("private", "c3", |attach| {
            attach.ports = publish(&["8080:80"])
        })
        .unwrap_err()
        .1;
    assert_eq!(
        error.to_string(),
        "cannot publish ports on network private: it is internal"
    );
}

#[test]
fn different_networks_cannot_reach_each_other() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "a", "10.90.0.0/24");
    create(&world, "b", "10.91.0.0/24");
    let (a1, ea1) = world.container("a", "a1", |_| {}).unwrap();
    let (b1, eb1) = world.container("b", "b1", |_| {}).unwrap();
    tcp_server(&a1, 80, "a1");
    tcp_server(&b1, 80, "b1");
    assert!(tcp_hello(&a1, eb1.ip, 80).is_err());
    assert!(tcp_hello(&b1, ea1.ip, 80).is_err());
    // Each still reaches the host and its own kind.
    assert_eq!(tcp_hello(&world.host, ea1.ip, 80).unwrap(), "a1 10.90.0.1");
}

#[test]
fn published_ports_answer_from_localhost_outside_and_hairpin() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.92.0.0/24");
    let (c1, e1) = world
        .container("web", "c1", |attach| {
            attach.ports = publish(&["8080:80", "5353:53/udp", "127.0.0.1:9090:90", "80"]);
        })
        .unwrap();
    tcp_server(&c1, 80, "web");
    udp_server(&c1, 53, "dns");
    tcp_server(&c1, 90, "local-only");
    let random = e1.ports[3];
    assert_eq!(e1.ports[0].to_string(), "0.0.0.0:8080->80/tcp");
    assert_eq!(e1.ports[1].to_string(), "0.0.0.0:5353->53/udp");
    assert_ne!(random.host_port, 0);

    // From the host's loopback: the container sees the bridge gateway (masquerade).
    let host = &world.host;
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 8080).unwrap(),
        "web 10.92.0.1"
    );
    assert_eq!(
        udp_hello(host, Ipv4Addr::LOCALHOST, 5353).unwrap(),
        "dns 10.92.0.1"
    );
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 9090).unwrap(),
        "local-only 10.92.0.1"
    );
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, random.host_port).unwrap(),
        "web 10.92.0.1"
    );
    // From the outside machine to the host's address: the container sees the real client.
    let outside = &world.outside;
    let expected = format!("web {OUTSIDE_IP}");
    assert_eq!(tcp_hello(outside, HOST_OUTSIDE_IP, 8080).unwrap(), expected);
    assert_eq!(
        udp_hello(outside, HOST_OUTSIDE_IP, 5353).unwrap(),
        format!("dns {OUTSIDE_IP}")
    );
    assert!(
        tcp_hello(outside, HOST_OUTSIDE_IP, 9090).is_err(),
        "bound to 127.0.0.1 only"
    );
    assert!(
        tcp_hello(outside, e1.ip, 80).is_err(),
        "unpublished access is dropped"
    );
    // Another container of the network through the host's address (hairpin NAT).
    let (c2, _) = world.container("web", "c2", |_| {}).unwrap();
    assert_eq!(
        tcp_hello(&c2, HOST_OUTSIDE_IP, 8080).unwrap(),
        "web 10.92.0.1"
    );

    let endpoints = world.networks.endpoints("c1").unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].0, "web");
    assert_eq!(endpoints[0].1.ports.len(), 4);
}

#[test]
fn port_conflicts_name_the_holder_and_leave_nothing_behind() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.93.0.0/24");
    let (_c1, _) = world
        .container("web", "c1", |attach| attach.ports = publish(&["8080:80"]))
        .unwrap();
    let links_before = world.wharf_links();

    let (_c2, error) = world
        .container("web", "c2", |attach| {
            attach.ports = publish(&["127.0.0.1:8080:80"])
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "port 127.0.0.1:8080/tcp is already allocated to container c1"
    );

    let _listener = world
        .host
        .run(|| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 9091)))
        .unwrap();
    let (_c3, error) = world
        .container("web", "c3", |attach| attach.ports = publish(&["9091:80"]))
        .unwrap_err();
    let pid = std::process::id();
    assert!(
        error.to_string().starts_with(&format!(
            "port 0.0.0.0:9091/tcp is already in use on the host by process {pid} ("
        )),
        "{error}"
    );
    let (_c4, error) = world
        .container("web", "c4", |attach| {
            attach.ports = publish(&["7000:80", "7000:81"])
        })
        .unwrap_err();
    assert!(matches!(error, NetError::PortAllocated { .. }), "{error}");

    // A range picks the first free port of it.
    let (_c5, endpoint) = world
        .container("web", "c5", |attach| {
            attach.ports = publish(&["8080-8082:80"])
        })
        .unwrap();
    assert_eq!(endpoint.ports[0].host_port, 8081);

    let network = world.networks.inspect("web").unwrap();
    assert_eq!(
        network.endpoints.keys().collect::<Vec<_>>(),
        ["c1", "c5"],
        "failed attaches left no lease"
    );
    assert_eq!(world.wharf_links().len(), links_before.len() + 1);
}

#[test]
fn ipam_exhaustion_on_a_slash_30() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "tiny", "10.94.0.0/30");
    let (_c1, e1) = world.container("tiny", "c1", |_| {}).unwrap();
    assert_eq!(e1.ip, Ipv4Addr::new(10, 94, 0, 2));
    let links = world.wharf_links();
    let (c2, error) = world.container("tiny", "c2", |_| {}).unwrap_err();
    assert!(matches!(error, NetError::AddressesExhausted { .. }));
    assert_eq!(
        error.to_string(),
        "network tiny (10.94.0.0/30) has no free address left"
    );
    assert_eq!(world.wharf_links(), links);
    assert!(!c2.ip_output(&["link"]).contains("eth0"));
    // Released addresses are reused.
    world.networks.disconnect("tiny", "c1").unwrap();
    let (_c2, e2) = world.container("tiny", "c2", |_| {}).unwrap();
    assert_eq!(e2.ip, e1.ip);
}

#[test]
fn subnets_addresses_and_names_are_validated() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.95.0.0/16");
    let message = |spec: NetworkSpec| world.networks.create(&spec).unwrap_err().to_string();
    assert_eq!(
        message(spec("other", "10.95.3.0/24")),
        "subnet 10.95.3.0/24 overlaps with network web (10.95.0.0/16)"
    );
    assert_eq!(
        message(spec("other", "10.201.0.0/16")),
        "subnet 10.201.0.0/16 overlaps with host route 10.201.0.0/24 on out0"
    );
    assert_eq!(
        message(spec("web", "10.96.0.0/24")),
        "network with name web already exists"
    );
    assert_eq!(
        message(spec("host", "10.96.0.0/24")),
        "network name host is reserved"
    );
    let bad_gateway = NetworkSpec {
        gateway: Some(Ipv4Addr::new(10, 97, 0, 0)),
        ..spec("gw", "10.97.0.0/24")
    };
    assert_eq!(
        message(bad_gateway),
        "gateway 10.97.0.0 is not a usable address of subnet 10.97.0.0/24"
    );

    // The default network takes the first free pool subnet, with bridge wharf0.
    let default = world.networks.ensure_default().unwrap();
    assert_eq!(
        (
            default.name.as_str(),
            default.bridge.as_str(),
            default.subnet.to_string()
        ),
        ("bridge", "wharf0", "172.17.0.0/16".to_owned())
    );
    assert_eq!(world.networks.ensure_default().unwrap().id, default.id);
    let auto = world
        .networks
        .create(&NetworkSpec {
            name: "auto".into(),
            ..NetworkSpec::default()
        })
        .unwrap();
    assert_eq!(auto.subnet.to_string(), "172.18.0.0/16");
    assert_eq!(auto.bridge, format!("wh-{}", &auto.id[..12]));

    // Static addresses.
    let (c1, e1) = world
        .container("web", "c1", |attach| {
            attach.ip = Some(Ipv4Addr::new(10, 95, 7, 7))
        })
        .unwrap();
    assert_eq!(e1.ip, Ipv4Addr::new(10, 95, 7, 7));
    assert!(c1.ip_output(&["addr"]).contains("10.95.7.7/16"));
    let (_c2, error) = world
        .container("web", "c2", |attach| {
            attach.ip = Some(Ipv4Addr::new(10, 95, 7, 7))
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "address 10.95.7.7 in network web is already in use by container c1"
    );
    let (_c3, error) = world
        .container("bridge", "c3", |attach| {
            attach.ip = Some(Ipv4Addr::new(172, 17, 0, 9))
        })
        .unwrap_err();
    assert!(matches!(error, NetError::StaticIpOnDefault(_)), "{error}");
    let error = world
        .networks
        .connect(&wharf_net::Attach::new("web", "c1", c1.netns()))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "container c1 is already connected to network web"
    );
    assert_eq!(
        world.networks.inspect("nope").unwrap_err().to_string(),
        "network nope not found"
    );
}

#[test]
fn teardown_leaves_no_veth_bridge_rule_or_lease() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.98.0.0/24");
    create(&world, "db", "10.99.0.0/24");
    let (c1, e1) = world
        .container("web", "c1", |attach| {
            attach.container_name = "frontend".into();
            attach.ports = publish(&["8080:80", "53/udp"]);
        })
        .unwrap();
    let (_c2, _) = world.container("web", "c2", |_| {}).unwrap();
    // c1 on a second network as eth1.
    let db = world
        .networks
        .connect(&wharf_net::Attach {
            interface: "eth1".into(),
            ..wharf_net::Attach::new("db", "c1", c1.netns())
        })
        .unwrap();
    assert!(c1
        .ip_output(&["addr", "show", "eth1"])
        .contains(&db.ip.to_string()));
    assert!(world
        .host
        .nft_table()
        .unwrap()
        .contains("dnat to 10.98.0.2:80"));

    let error = world.networks.remove("web").unwrap_err();
    assert_eq!(
        error.to_string(),
        "network web has active endpoints: frontend, c2"
    );

    let removed = world.networks.disconnect("web", "c1").unwrap();
    assert_eq!(removed.ip, e1.ip);
    assert!(!c1.ip_output(&["link"]).contains("eth0"));
    assert!(!world.host.nft_table().unwrap().contains("dnat to"));
    assert_eq!(world.networks.disconnect_all("c1").unwrap(), ["db"]);
    assert_eq!(world.networks.disconnect_all("c2").unwrap(), ["web"]);
    assert!(world.networks.disconnect_all("c2").unwrap().is_empty());
    let error = world.networks.disconnect("web", "c2").unwrap_err();
    assert_eq!(
        error.to_string(),
        "container c2 is not connected to network web"
    );

    world.networks.remove("web").unwrap();
    world.networks.remove("db").unwrap();
    assert_eq!(world.wharf_links(), Vec::<String>::new());
    assert_eq!(world.host.nft_table(), None);
    assert_eq!(world.state_files(), Vec::<String>::new());
    assert!(world.networks.list().unwrap().is_empty());
}

/// Deletions that `disconnect_ended` started, each on a thread of its own (which inherits
/// this thread's network namespace).
#[derive(Default)]
struct RemovalThreads(Vec<std::thread::JoinHandle<Result<(), wharf_net::NetError>>>);

impl RemovalThreads {
    /// `disconnect_ended` of `container`, its deletions started here; returns its networks.
    fn disconnect_ended(&mut self, world: &World, container: &str) -> Vec<String> {
        world
            .networks
            .disconnect_ended(container, |removal| {
                self.0.push(std::thread::spawn(move || removal.run()))
            })
            .unwrap()
    }

    /// Waits for every deletion; returns how many there were.
    fn join(self) -> usize {
        let count = self.0.len();
        for thread in self.0 {
            thread.join().unwrap().unwrap();
        }
        count
    }
}

#[test]
fn an_ended_containers_veths_are_gone_when_disconnect_ended_returns() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.104.0.0/24");
    let process = support::NetnsProcess::spawn();
    world
        .networks
        .connect(&wharf_net::Attach {
            ports: publish(&["8080:80"]),
            ..wharf_net::Attach::new("web", "ended", wharf_net::Netns::Pid(process.pid()))
        })
        .unwrap();
    let (deleted, _) = world.container("web", "deleted", |_| {}).unwrap();
    let (held, _) = world.container("web", "held", |_| {}).unwrap();
    let bridge = "wh-".to_owned() + &world.networks.inspect("web").unwrap().id[..12];
    assert_eq!(world.wharf_links().len(), 4);

    // The usual end: the removal is started elsewhere (unless the kernel already removed
    // the veth with the namespace), and disconnect_ended returns once the veth is unlisted.
    process.end();
    let mut threads = RemovalThreads::default();
    assert_eq!(threads.disconnect_ended(&world, "ended"), ["web"]);
    assert_eq!(world.wharf_links().len(), 3);
    assert!(!world.host.nft_table().unwrap().contains("dnat to"));
    threads.join();

    // The same while the namespace lives on (held here by a process in it): the veth goes
    // from both.
    let mut threads = RemovalThreads::default();
    assert_eq!(threads.disconnect_ended(&world, "deleted"), ["web"]);
    assert_eq!(world.wharf_links().len(), 2);
    assert!(!deleted.ip_output(&["link"]).contains("eth0"));
    assert_eq!(threads.join(), 1);

    // Nothing started the removal: the veth is deleted after the wait.
    assert_eq!(
        world.networks.disconnect_ended("held", |_| {}).unwrap(),
        ["web"]
    );
    assert_eq!(world.wharf_links(), [bridge]);
    assert!(!held.ip_output(&["link"]).contains("eth0"));
    assert!(world.networks.inspect("web").unwrap().endpoints.is_empty());
    assert!(world
        .networks
        .disconnect_ended("held", |_| panic!("nothing to remove"))
        .unwrap()
        .is_empty());
}

#[test]
fn two_state_roots_in_one_namespace_leave_each_other_alone() {
    skip_unless_capable!();
    // The world's networks are the host's main root (`wharf0`, `ip wharf`).
    let world = World::new();
    create(&world, "web", "10.105.0.0/24");
    let (main, _) = world
        .container("web", "m1", |attach| attach.ports = publish(&["8080:80"]))
        .unwrap();
    tcp_server(&main, 80, "main");
    let main_veths = world.wharf_links();

    let dir = tempfile::tempdir().unwrap();
    let scope = HostScope::for_root(dir.path(), false);
    assert_ne!(scope, HostScope::for_root(world.networks.dir(), false));
    assert!(scope.default_bridge.starts_with("wharf-") && scope.default_bridge.len() <= 15);
    let other = Networks::open(
        &dir.path().join("networks"),
        &dir.path().join("leases"),
        scope.clone(),
    )
    .unwrap();
    other.create(&spec("web", "10.106.0.0/24")).unwrap();
    let ns = Ns::new("o");
    let mut attach = Attach::new("web", "o1", ns.netns());
    attach.ports = publish(&["8081:80"]);
    other.connect(&attach).unwrap();
    tcp_server(&ns, 80, "other");
    let host = &world.host;
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 8080).unwrap(),
        "main 10.105.0.1"
    );
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 8081).unwrap(),
        "other 10.106.0.1"
    );
    assert!(host
        .nft_table_named(&scope.table)
        .unwrap()
        .contains("dport 8081"));
    assert!(!host.nft_table().unwrap().contains("dport 8081"));

    // The main root's reconcile takes the other root's interfaces for nobody's leftovers
    // no more than its rules: all of them stay.
    assert!(world.networks.reconcile(&["m1"]).unwrap().is_empty());
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 8081).unwrap(),
        "other 10.106.0.1"
    );
    // The other root's, with its container gone, removes what was its own, only.
    let reconciled = other.reconcile(&[]).unwrap();
    assert_eq!(reconciled.endpoints.len(), 1);
    other.remove("web").unwrap();
    assert_eq!(host.nft_table_named(&scope.table), None);
    assert_eq!(world.wharf_links(), main_veths);
    assert_eq!(
        tcp_hello(host, Ipv4Addr::LOCALHOST, 8080).unwrap(),
        "main 10.105.0.1"
    );
}

#[test]
fn reconcile_removes_the_leftovers_of_a_crash() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.100.0.0/24");
    let (c1, _) = world
        .container("web", "c1", |attach| attach.ports = publish(&["8080:80"]))
        .unwrap();
    let (c2, e2) = world
        .container("web", "c2", |attach| attach.ports = publish(&["8081:80"]))
        .unwrap();
    tcp_server(&c2, 80, "c2");
    // c1 "crashed": its namespace is gone (its veth with it), its lease and rules remain.
    drop(c1);
    // A crash between creating interfaces and saving the state: wharf-named strays.
    world.host.ip(&[
        "link",
        "add",
        "wv0123456789ab",
        "type",
        "veth",
        "peer",
        "name",
        "wvpeer",
    ]);
    world
        .host
        .ip(&["link", "add", "wh-0123456789ab", "type", "bridge"]);
    // A crash between moving a bridge to the root's removal group and deleting the group.
    let removal_group = world.scope.removal_group().to_string();
    world.host.ip(&[
        "link",
        "add",
        "moved",
        "group",
        &removal_group,
        "type",
        "bridge",
    ]);
    world.host.ip(&[
        "link",
        "add",
        "wvnotours",
        "type",
        "veth",
        "peer",
        "name",
        "wvnotours1",
    ]);

    let reconciled = world.networks.reconcile(&["c2"]).unwrap();
    assert_eq!(reconciled.endpoints, [("web".to_owned(), "c1".to_owned())]);
    let mut interfaces = reconciled.interfaces.clone();
    interfaces.sort();
    assert_eq!(interfaces, ["moved", "wh-0123456789ab", "wv0123456789ab"]);

    let table = world.host.nft_table().unwrap();
    assert!(!table.contains("dport 8080"), "{table}");
    assert!(
        table.contains(&format!("dport 8081 dnat to {}:80", e2.ip)),
        "{table}"
    );
    let network = world.networks.inspect("web").unwrap();
    assert_eq!(network.endpoints.keys().collect::<Vec<_>>(), ["c2"]);
    assert!(world
        .host
        .ip_output(&["link", "show", "wvnotours"])
        .contains("wvnotours"));
    assert_eq!(
        tcp_hello(&world.host, Ipv4Addr::LOCALHOST, 8081).unwrap(),
        "c2 10.100.0.1"
    );
    assert!(world.networks.reconcile(&["c2"]).unwrap().is_empty());
}

#[test]
fn per_container_setup_and_teardown_time() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "bench", "10.101.0.0/24");
    // The first container also creates the bridge.
    let (_first, _) = world.container("bench", "first", |_| {}).unwrap();
    const N: u32 = 20;
    let namespaces: Vec<Ns> = (0..N).map(|_| Ns::new("b")).collect();
    let measure = |ports: bool| {
        let start = Instant::now();
        for (i, ns) in namespaces.iter().enumerate() {
            let mut attach = wharf_net::Attach::new("bench", &format!("b{i}"), ns.netns());
            if ports {
                attach.ports = publish(&[&format!("{}:80", 20000 + i)]);
            }
            world.networks.connect(&attach).unwrap();
        }
        let setup = start.elapsed() / N;
        let start = Instant::now();
        for i in 0..N {
            world
                .networks
                .disconnect("bench", &format!("b{i}"))
                .unwrap();
        }
        (setup, start.elapsed() / N)
    };
    let (setup, teardown) = measure(false);
    let (setup_ports, teardown_ports) = measure(true);
    // Containers that ran a while, then ended (untimed) before their teardown, one after
    // the other, their veths deleted on threads.
    let processes: Vec<_> = (0..N)
        .map(|i| {
            let process = support::NetnsProcess::spawn();
            let netns = wharf_net::Netns::Pid(process.pid());
            let attach = wharf_net::Attach::new("bench", &format!("e{i}"), netns);
            world.networks.connect(&attach).unwrap();
            process
        })
        .collect();
    let mut ended = std::time::Duration::ZERO;
    let mut threads = RemovalThreads::default();
    for (i, process) in processes.into_iter().enumerate() {
        process.end();
        let start = Instant::now();
        threads.disconnect_ended(&world, &format!("e{i}"));
        ended += start.elapsed();
    }
    threads.join();
    eprintln!(
        "per container: setup {setup:?}, teardown {teardown:?}; \
         with a published port: setup {setup_ports:?}, teardown {teardown_ports:?}; \
         teardown of an ended container: {:?}",
        ended / N
    );
    assert_eq!(world.networks.inspect("bench").unwrap().endpoints.len(), 1);
}

#[test]
fn containers_cannot_reach_the_hosts_loopback() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.102.0.0/24");
    // Publishing to 127.0.0.1 needs route_localnet on the bridge; that must not open the
    // host's loopback services to a container that sends packets to 127.0.0.1 itself.
    let (c1, _) = world
        .container("web", "c1", |attach| attach.ports = publish(&["8080:80"]))
        .unwrap();
    tcp_server_on(&world.host, Ipv4Addr::LOCALHOST, 7777, "host-loopback");
    c1.run(|| std::fs::write("/proc/sys/net/ipv4/conf/eth0/route_localnet", "1"))
        .unwrap();
    c1.ip(&["addr", "flush", "dev", "lo"]);
    c1.ip(&["route", "add", "127.0.0.0/8", "via", "10.102.0.1"]);
    assert!(tcp_hello(&c1, Ipv4Addr::LOCALHOST, 7777).is_err());
    // Published ports on the loopback still work.
    tcp_server(&c1, 80, "web");
    assert_eq!(
        tcp_hello(&world.host, Ipv4Addr::LOCALHOST, 8080).unwrap(),
        "web 10.102.0.1"
    );
}

#[test]
fn connects_a_process_by_pid() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.103.0.0/24");
    let process = support::NetnsProcess::spawn();
    let pid = process.pid();
    let endpoint = world
        .networks
        .connect(&wharf_net::Attach::new(
            "web",
            "pid1",
            wharf_net::Netns::Pid(pid),
        ))
        .unwrap();
    let addresses = std::process::Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-n",
            "ip",
            "-o",
            "addr",
            "show",
            "eth0",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&addresses.stdout).contains(&format!("{}/24", endpoint.ip)));
    process.end();
    // The namespace died with the process, and the veth pair with it.
    world.networks.disconnect("web", "pid1").unwrap();
    assert_eq!(
        world.wharf_links(),
        ["wh-".to_owned() + &world.networks.inspect("web").unwrap().id[..12]]
    );
}

#[test]
fn dns_answers_container_names_and_forwards_the_rest() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.104.0.0/24");
    let internal = NetworkSpec {
        internal: true,
        ..spec("private", "10.105.0.0/24")
    };
    world.networks.create(&internal).unwrap();
    let (_c1, e1) = world
        .container("web", "c1", |attach| {
            attach.container_name = "frontend".into();
            attach.aliases = vec!["api".into()];
        })
        .unwrap();
    let (c2, e2) = world.container("web", "c2", |_| {}).unwrap();
    let (p1, ep1) = world.container("private", "p1", |_| {}).unwrap();
    // The upstream: a fake resolver on the outside machine.
    let forwarded = Ipv4Addr::new(10, 201, 0, 99);
    support::fake_upstream(&world.outside, forwarded);
    let upstreams = vec![std::net::SocketAddr::from((OUTSIDE_IP, 53))];

    let server = wharf_net::DnsServer::bind(&world.networks, "web", upstreams.clone()).unwrap();
    assert_eq!(server.address().unwrap().to_string(), "10.104.0.1:53");
    let private = wharf_net::DnsServer::bind(&world.networks, "private", upstreams).unwrap();
    let idle = std::time::Duration::from_millis(200);
    let web_thread = std::thread::spawn(move || server.serve(idle));
    let private_thread = std::thread::spawn(move || private.serve(idle));

    let gateway = Ipv4Addr::new(10, 104, 0, 1);
    let query = |name: &str, tcp: bool| support::dns_query(&c2, gateway, name, tcp).unwrap();
    assert_eq!(query("frontend", false), [e1.ip]);
    assert_eq!(query("API", false), [e1.ip]);
    assert_eq!(query("c2", true), [e2.ip]);
    assert_eq!(query("example.org", false), [forwarded]);
    assert_eq!(query("example.org", true), [forwarded]);
    // Names of other networks are not known here.
    assert_eq!(query("p1", false), [forwarded]);
    // Internal networks resolve their own names and nothing else.
    let private_gateway = Ipv4Addr::new(10, 105, 0, 1);
    assert_eq!(
        support::dns_query(&p1, private_gateway, "p1", false).unwrap(),
        [ep1.ip]
    );
    assert!(
        support::dns_query(&p1, private_gateway, "example.org", false)
            .unwrap()
            .is_empty()
    );

    // With its network empty the server stops by itself.
    world.networks.disconnect_all("c1").unwrap();
    world.networks.disconnect_all("c2").unwrap();
    world.networks.disconnect_all("p1").unwrap();
    web_thread.join().unwrap().unwrap();
    private_thread.join().unwrap().unwrap();
}

#[test]
fn concurrent_connects_get_distinct_addresses() {
    skip_unless_capable!();
    let world = World::new();
    create(&world, "web", "10.106.0.0/24");
    let namespaces: Vec<Ns> = (0..8).map(|_| Ns::new("p")).collect();
    // Threads start in this thread's (the host's) namespace; each has its own lock handle.
    let endpoints: Vec<wharf_net::Endpoint> = std::thread::scope(|scope| {
        let handles: Vec<_> = namespaces
            .iter()
            .enumerate()
            .map(|(i, ns)| {
                let networks = &world.networks;
                scope.spawn(move || {
                    let attach = wharf_net::Attach {
                        ports: publish(&["80"]),
                        ..wharf_net::Attach::new("web", &format!("p{i}"), ns.netns())
                    };
                    networks.connect(&attach).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ips: Vec<Ipv4Addr> = endpoints.iter().map(|e| e.ip).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 8);
    let mut ports: Vec<u16> = endpoints.iter().map(|e| e.ports[0].host_port).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 8);
    assert_eq!(world.networks.inspect("web").unwrap().endpoints.len(), 8);
}

#[test]
fn rules_come_back_with_the_first_container_after_a_reboot() {
    skip_unless_capable!();
    let world = World::new();
    let network = create(&world, "web", "10.107.0.0/24");
    let (_c1, _) = world.container("web", "c1", |_| {}).unwrap();
    world.networks.disconnect_all("c1").unwrap();
    // A reboot forgets the bridge and the rules, not the state.
    world.host.ip(&["link", "del", &network.bridge]);
    let status = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &world.host.name,
            "nft",
            "delete",
            "table",
            "ip",
            "wharf",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let (c2, _) = world.container("web", "c2", |_| {}).unwrap();
    tcp_server(&world.outside, 8000, "outside");
    assert_eq!(
        tcp_hello(&c2, OUTSIDE_IP, 8000).unwrap(),
        format!("outside {HOST_OUTSIDE_IP}")
    );
}

#[test]
fn a_bridge_left_by_another_state_root_is_made_anew_unless_it_is_in_use() {
    skip_unless_capable!();
    let world = World::new();
    let other_roots_bridge = |bridge: &str, address: &str| {
        world.host.ip(&["link", "add", bridge, "type", "bridge"]);
        world.host.ip(&["addr", "add", address, "dev", bridge]);
        world.host.ip(&["link", "set", bridge, "up"]);
    };
    // Idle (nothing attached): taken over, on this network's subnet; published ports work.
    let web = create(&world, "web", "10.108.0.0/24");
    other_roots_bridge(&web.bridge, "10.208.0.1/24");
    let (c1, endpoint) = world
        .container("web", "c1", |attach| attach.ports = publish(&["8080:80"]))
        .unwrap();
    let routes = world.host.ip_output(&["route", "show", "dev", &web.bridge]);
    assert!(
        routes.contains("10.108.0.0/24") && !routes.contains("10.208.0.0/24"),
        "{routes}"
    );
    tcp_server(&c1, 80, "web");
    assert_eq!(
        tcp_hello(&world.host, endpoint.ip, 80).unwrap(),
        "web 10.108.0.1"
    );
    assert!(tcp_hello(&world.host, Ipv4Addr::LOCALHOST, 8080)
        .unwrap()
        .starts_with("web "));

    // In use (an interface attached): refused, naming what, and nothing is left of the try.
    let db = create(&world, "db", "10.109.0.0/24");
    other_roots_bridge(&db.bridge, "10.209.0.1/24");
    world.host.ip(&[
        "link", "add", "other0", "type", "veth", "peer", "name", "other1",
    ]);
    world
        .host
        .ip(&["link", "set", "other0", "master", &db.bridge]);
    let (_, error) = world.container("db", "c2", |_| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "bridge {} routes 10.209.0.0/24 instead of 10.109.0.0/24, and other0 attached to it: \
             another wharf state root uses it",
            db.bridge
        )
    );
    assert!(world.networks.inspect("db").unwrap().endpoints.is_empty());
    let links = world.wharf_links();
    assert_eq!(
        links.iter().filter(|l| l.starts_with("wv")).count(),
        1,
        "{links:?}"
    );
}
