//! A state root's nftables table (`ip wharf` for the host's main root, see
//! [`crate::HostScope`]), rendered whole from the network state and loaded by one `nft -f -`
//! run, one atomic transaction, per change. Another root's table is never touched: the rules
//! name their own bridges only, and a packet any table drops is dropped.
//!
//! Why the `nft` command: one run costs a few milliseconds and is atomic; the ruleset is
//! readable (`nft list table ip wharf`) and the same text is unit-tested here. Only changes
//! of networks or published ports load it; attaching a container without ports does not.
//!
//! The base chains are created once and then only flushed and refilled (`flush table`), so
//! a change never unregisters a netfilter hook. With no networks left the table is deleted.
//!
//! - `forward` (filter): replies pass; a network talks to itself; internal networks talk to
//!   nothing else; published ports of a non-internal network are reachable from anywhere;
//!   networks are isolated from each other; a non-internal network may go out, but nothing
//!   comes in unasked.
//! - `prerouting`/`output` (nat): traffic to a local address jumps to `ports`, which DNATs
//!   published ports to their containers (output covers `127.0.0.1:PORT` from the host).
//! - `input` (filter): containers cannot reach the host's loopback services, which
//!   `route_localnet` would otherwise expose.
//! - `postrouting` (nat): masquerade traffic leaving a non-internal network, and traffic to
//!   a published port that comes from the host's loopback (with `route_localnet` on the
//!   bridge) or from the network itself (hairpin), so that replies come back the same way.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::NetError;
use crate::model::{Endpoint, HostScope, Network};
use crate::process::run_with_input;

/// The script that makes the table `ip <table>` of `scope` match `networks`.
pub(crate) fn render(scope: &HostScope, networks: &[Network]) -> String {
    let table = format!("ip {}", scope.table);
    if networks.is_empty() {
        return format!("table {table} {{}}\ndelete table {table}\n");
    }
    let mut forward = vec!["ct state established,related accept".to_owned()];
    let mut postrouting = Vec::new();
    let mut ports = Vec::new();
    for network in networks {
        let bridge = &network.bridge;
        forward.push(format!("iifname \"{bridge}\" oifname \"{bridge}\" accept"));
        if network.internal {
            forward.push(format!("iifname \"{bridge}\" drop"));
            forward.push(format!("oifname \"{bridge}\" drop"));
        }
    }
    for network in networks.iter().filter(|network| !network.internal) {
        let bridge = &network.bridge;
        forward.push(format!("oifname \"{bridge}\" ct status dnat accept"));
    }
    let bridges = networks
        .iter()
        .map(|network| format!("\"{}\"", network.bridge))
        .collect::<Vec<_>>()
        .join(", ");
    forward.push(format!(
        "iifname {{ {bridges} }} oifname {{ {bridges} }} drop"
    ));
    // `route_localnet` lets published ports answer on 127.0.0.1; it must not let containers
    // reach the host's loopback services (CVE-2020-8558).
    let input = vec![format!(
        "iifname {{ {bridges} }} ip daddr 127.0.0.0/8 ct state != {{ established, related }} drop"
    )];
    for network in networks.iter().filter(|network| !network.internal) {
        let (bridge, subnet) = (&network.bridge, network.subnet);
        forward.push(format!("iifname \"{bridge}\" accept"));
        forward.push(format!("oifname \"{bridge}\" drop"));
        postrouting.push(format!(
            "ip saddr {subnet} oifname != \"{bridge}\" masquerade"
        ));
        postrouting.push(format!(
            "oifname \"{bridge}\" ct status dnat ip saddr {{ 127.0.0.0/8, {subnet} }} masquerade"
        ));
        ports.extend(network.endpoints.values().flat_map(port_rules));
    }

    let mut script = String::new();
    let _ = writeln!(script, "table {table} {{");
    if let Some(comment) = root_comment(&scope.root) {
        let _ = writeln!(script, "\tcomment \"{comment}\"");
    }
    let _ = writeln!(script, "\tchain ports {{\n\t}}");
    for (chain, kind, hook, priority) in CHAINS {
        let _ = writeln!(
            script,
            "\tchain {chain} {{\n\t\ttype {kind} hook {hook} priority {priority}; policy accept;\n\t}}"
        );
    }
    let _ = writeln!(script, "}}\nflush table {table}\ntable {table} {{");
    let jump = vec!["fib daddr type local jump ports".to_owned()];
    for (chain, rules) in [
        ("ports", &ports),
        ("prerouting", &jump),
        ("output", &jump),
        ("postrouting", &postrouting),
        ("forward", &forward),
        ("input", &input),
    ] {
        let _ = writeln!(script, "\tchain {chain} {{");
        for rule in rules {
            let _ = writeln!(script, "\t\t{rule}");
        }
        let _ = writeln!(script, "\t}}");
    }
    script.push_str("}\n");
    script
}

/// The table's comment, which names the root it belongs to: `wharf root PATH`; none for a
/// path that nft cannot quote (such a root's leftovers are never taken for an orphan's).
fn root_comment(root: &Path) -> Option<String> {
    let path = root.to_str()?;
    let comment = format!("{ROOT_COMMENT}{path}");
    let quotable = !path.contains(['"', '\\', '\n']) && comment.len() <= MAX_COMMENT;
    quotable.then_some(comment)
}

pub(crate) const ROOT_COMMENT: &str = "wharf root ";
/// nft's limit for a comment (`NFT_USERDATA_MAXLEN`).
const MAX_COMMENT: usize = 255;

/// A script that adds the rules of `endpoint`'s published ports to the loaded table, and
/// deletes nothing: a script that deletes rules makes `nft` wait for an RCU grace period
/// when it closes its socket (the kernel frees the rules then), 5-15 ms here, where this one
/// returns at once. Fails if the table is not loaded.
pub(crate) fn render_added_ports(table: &str, endpoint: &Endpoint) -> String {
    port_rules(endpoint)
        .map(|rule| format!("add rule ip {table} ports {rule}\n"))
        .collect()
}

/// The `ports` chain's rules for `endpoint`: one DNAT per published port.
fn port_rules(endpoint: &Endpoint) -> impl Iterator<Item = String> + '_ {
    endpoint.ports.iter().map(|binding| {
        let daddr = if binding.host_ip.is_unspecified() {
            String::new()
        } else {
            format!("ip daddr {} ", binding.host_ip)
        };
        format!(
            "{daddr}{} dport {} dnat to {}:{}",
            binding.protocol, binding.host_port, endpoint.ip, binding.container_port
        )
    })
}

/// `(name, type, hook, priority)` of the base chains.
const CHAINS: [(&str, &str, &str, i32); 5] = [
    ("prerouting", "nat", "prerouting", -100),
    ("output", "nat", "output", -100),
    ("postrouting", "nat", "postrouting", 100),
    ("forward", "filter", "forward", 0),
    ("input", "filter", "input", 0),
];

/// Loads `script` with one `nft -f -` run in this thread's network namespace.
pub(crate) fn apply(script: &str) -> Result<(), NetError> {
    let output = run_with_input("nft", &["-f", "-"], script)?;
    if !output.status.success() {
        return Err(NetError::Nft {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::model::Driver;
    use crate::ports::{PortBinding, Protocol};

    fn network(name: &str, bridge: &str, subnet: &str, internal: bool) -> Network {
        let subnet: crate::Subnet = subnet.parse().unwrap();
        Network {
            name: name.into(),
            id: "0".repeat(64),
            driver: Driver::Bridge,
            subnet,
            gateway: subnet.first_host(),
            internal,
            labels: BTreeMap::new(),
            bridge: bridge.into(),
            created: String::new(),
            endpoints: BTreeMap::new(),
        }
    }

    fn scope(root: &str) -> HostScope {
        HostScope::for_root(Path::new(root), root == "/var/lib/wharf")
    }

    #[test]
    fn no_networks_deletes_the_table() {
        assert_eq!(
            render(&scope("/var/lib/wharf"), &[]),
            "table ip wharf {}\ndelete table ip wharf\n"
        );
    }

    #[test]
    fn renders_networks_and_ports() {
        let mut web = network("web", "wh-aaaaaaaaaaaa", "10.1.0.0/24", false);
        web.endpoints.insert(
            "c1".into(),
            Endpoint {
                container_name: "c1".into(),
                aliases: vec![],
                ip: Ipv4Addr::new(10, 1, 0, 2),
                interface: "eth0".into(),
                veth: "wv000000000001".into(),
                ports: vec![
                    PortBinding {
                        protocol: Protocol::Tcp,
                        host_ip: Ipv4Addr::UNSPECIFIED,
                        host_port: 8080,
                        container_port: 80,
                    },
                    PortBinding {
                        protocol: Protocol::Udp,
                        host_ip: Ipv4Addr::LOCALHOST,
                        host_port: 5353,
                        container_port: 53,
                    },
                ],
            },
        );
        let internal = network("db", "wh-bbbbbbbbbbbb", "10.2.0.0/24", true);
        let expected = r#"table ip wharf {
	comment "wharf root /var/lib/wharf"
	chain ports {
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
	}
	chain output {
		type nat hook output priority -100; policy accept;
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
	}
	chain input {
		type filter hook input priority 0; policy accept;
	}
}
flush table ip wharf
table ip wharf {
	chain ports {
		tcp dport 8080 dnat to 10.1.0.2:80
		ip daddr 127.0.0.1 udp dport 5353 dnat to 10.1.0.2:53
	}
	chain prerouting {
		fib daddr type local jump ports
	}
	chain output {
		fib daddr type local jump ports
	}
	chain postrouting {
		ip saddr 10.1.0.0/24 oifname != "wh-aaaaaaaaaaaa" masquerade
		oifname "wh-aaaaaaaaaaaa" ct status dnat ip saddr { 127.0.0.0/8, 10.1.0.0/24 } masquerade
	}
	chain forward {
		ct state established,related accept
		iifname "wh-aaaaaaaaaaaa" oifname "wh-aaaaaaaaaaaa" accept
		iifname "wh-bbbbbbbbbbbb" oifname "wh-bbbbbbbbbbbb" accept
		iifname "wh-bbbbbbbbbbbb" drop
		oifname "wh-bbbbbbbbbbbb" drop
		oifname "wh-aaaaaaaaaaaa" ct status dnat accept
		iifname { "wh-aaaaaaaaaaaa", "wh-bbbbbbbbbbbb" } oifname { "wh-aaaaaaaaaaaa", "wh-bbbbbbbbbbbb" } drop
		iifname "wh-aaaaaaaaaaaa" accept
		oifname "wh-aaaaaaaaaaaa" drop
	}
	chain input {
		iifname { "wh-aaaaaaaaaaaa", "wh-bbbbbbbbbbbb" } ip daddr 127.0.0.0/8 ct state != { established, related } drop
	}
}
"#;
        assert_eq!(
            render_added_ports("wharf", &web.endpoints["c1"]),
            "add rule ip wharf ports tcp dport 8080 dnat to 10.1.0.2:80\n\
             add rule ip wharf ports ip daddr 127.0.0.1 udp dport 5353 dnat to 10.1.0.2:53\n"
        );
        assert_eq!(render(&scope("/var/lib/wharf"), &[web, internal]), expected);
    }
}
