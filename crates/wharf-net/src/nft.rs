//! A state root's nftables table (`ip wharf` for the host's main root, see
//! [`crate::HostScope`]), changed by one `nft -f -` run, one atomic transaction, per change.
//! Another root's table is never touched: the rules name their own bridges only, and a
//! packet any table drops is dropped.
//!
//! Why the `nft` command: one run costs a few milliseconds and is atomic; the ruleset is
//! readable (`nft list table ip wharf`) and the same text is unit-tested here. Only changes
//! of networks or published ports load it; attaching a container without ports does not.
//!
//! The layout is fixed: its rules look the networks up in named sets (bridges, internal
//! and external ones, external subnets), so that a network's first container only adds
//! set elements, and a published port a rule ([`render_added_network`],
//! [`render_added_ports`]). A change that deletes rules or elements makes the kernel free
//! them after an RCU grace period, and the machine's next nftables change waits for that
//! (see [`apply`]): starting containers never deletes. Removals reload the table whole
//! ([`render`]: `flush table` and refill); the base chains stay, so no change ever
//! unregisters a netfilter hook. With no networks left the table is deleted.
//!
//! - `forward` (filter): see [`FORWARD`].
//! - `prerouting`/`output` (nat): traffic to a local address jumps to `ports`, which DNATs
//!   published ports to their containers (output covers `127.0.0.1:PORT` from the host).
//! - `input` (filter): see [`INPUT`].
//! - `postrouting` (nat): see [`POSTROUTING`].

use std::fmt::Write as _;
use std::os::fd::{AsFd as _, OwnedFd};
use std::path::Path;
use std::process::{Child, Stdio};

use netlink_sys::{protocols::NETLINK_NETFILTER, Socket};
use rustix::event::{poll, PollFd, PollFlags};
use rustix::process::{pidfd_open, Pid, PidfdFlags};

use crate::error::{io_error, NetError};
use crate::model::{Endpoint, HostScope, Network};
use crate::process::{judge_written, leave_child, reap_left_children, spawn_with_input};

/// The script that makes the table `ip <table>` of `scope` match `networks`: the fixed
/// layout (declared where missing, its rules refilled) and each network's set elements.
pub(crate) fn render(scope: &HostScope, networks: &[Network]) -> String {
    let table = format!("ip {}", scope.table);
    if networks.is_empty() {
        return format!("table {table} {{}}\ndelete table {table}\n");
    }
    let ports: Vec<String> = networks
        .iter()
        .filter(|network| !network.internal)
        .flat_map(|network| network.endpoints.values().flat_map(port_rules))
        .collect();
    let mut script = String::new();
    let _ = writeln!(script, "table {table} {{");
    if let Some(comment) = root_comment(&scope.root) {
        let _ = writeln!(script, "\tcomment \"{comment}\"");
    }
    for (set, kind) in SETS {
        let flags = if kind.starts_with("ipv4_addr") {
            " flags interval;"
        } else {
            ""
        };
        let _ = writeln!(script, "\tset {set} {{ type {kind};{flags} }}");
    }
    let _ = writeln!(script, "\tchain ports {{\n\t}}");
    for (chain, kind, hook, priority) in CHAINS {
        let _ = writeln!(
            script,
            "\tchain {chain} {{\n\t\ttype {kind} hook {hook} priority {priority}; policy accept;\n\t}}"
        );
    }
    let _ = writeln!(script, "}}\nflush table {table}");
    for (set, _) in SETS {
        let _ = writeln!(script, "flush set {table} {set}");
    }
    let _ = writeln!(script, "table {table} {{");
    let jump = ["fib daddr type local jump ports"];
    for (chain, rules) in [
        (
            "ports",
            &ports.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ),
        ("prerouting", &jump),
        ("output", &jump),
        ("postrouting", &POSTROUTING),
        ("forward", &FORWARD),
        ("input", &INPUT),
    ] {
        let _ = writeln!(script, "\tchain {chain} {{");
        for rule in rules {
            let _ = writeln!(script, "\t\t{rule}");
        }
        let _ = writeln!(script, "\t}}");
    }
    script.push_str("}\n");
    for network in networks {
        script.push_str(&render_added_network(&scope.table, network));
    }
    script
}

/// A set of the layout: where it exists, the layout is loaded.
pub(crate) const LAYOUT_SET: &str = SETS[0].0;

/// The named sets of the layout, `(name, type)`: what a network adds to.
const SETS: [(&str, &str); 6] = [
    ("bridges", "ifname"),
    ("bridge_pairs", "ifname . ifname"),
    ("internal_bridges", "ifname"),
    ("external_bridges", "ifname"),
    ("external_subnets", "ipv4_addr"),
    ("external_subnet_bridges", "ipv4_addr . ifname"),
];

/// Replies pass; a network talks to itself (`bridge_pairs`: a bridge with itself); internal
/// networks talk to nothing else; published ports of a non-internal network are reachable
/// from anywhere; networks are isolated from each other; a non-internal network may go out,
/// but nothing comes in unasked.
const FORWARD: [&str; 8] = [
    "ct state established,related accept",
    "iifname . oifname @bridge_pairs accept",
    "iifname @internal_bridges drop",
    "oifname @internal_bridges drop",
    "oifname @external_bridges ct status dnat accept",
    "iifname @bridges oifname @bridges drop",
    "iifname @external_bridges accept",
    "oifname @external_bridges drop",
];

/// Masquerade what leaves a non-internal network by another interface than its bridge, and
/// what reaches a published port from the host's loopback or from the port's own network
/// (hairpin), so that replies come back the same way.
const POSTROUTING: [&str; 3] = [
    "ip saddr @external_subnets ip saddr . oifname != @external_subnet_bridges masquerade",
    "ct status dnat ip saddr . oifname @external_subnet_bridges masquerade",
    "ct status dnat ip saddr 127.0.0.0/8 oifname @external_bridges masquerade",
];

/// `route_localnet` lets published ports answer on 127.0.0.1; it must not let containers
/// reach the host's loopback services (CVE-2020-8558).
const INPUT: [&str; 1] =
    ["iifname @bridges ip daddr 127.0.0.0/8 ct state != { established, related } drop"];

/// A script that adds `network` to the loaded layout's sets, and deletes nothing (see
/// [`render_added_ports`]); adding what is there already changes nothing. Fails if the
/// layout is not loaded.
pub(crate) fn render_added_network(table: &str, network: &Network) -> String {
    let bridge = format!("\"{}\"", network.bridge);
    let subnet = network.subnet;
    let mut elements = vec![
        ("bridges", bridge.clone()),
        ("bridge_pairs", format!("{bridge} . {bridge}")),
    ];
    if network.internal {
        elements.push(("internal_bridges", bridge));
    } else {
        elements.push(("external_bridges", bridge.clone()));
        elements.push(("external_subnets", subnet.to_string()));
        elements.push(("external_subnet_bridges", format!("{subnet} . {bridge}")));
    }
    elements
        .into_iter()
        .map(|(set, element)| format!("add element ip {table} {set} {{ {element} }}\n"))
        .collect()
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

/// What [`exists`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    Chain,
    Set,
}

/// Asks nf_tables (family `ip`, this thread's network namespace) whether `table` has the
/// chain or set `name`, without running a program: one `NFT_MSG_GETCHAIN` or
/// `NFT_MSG_GETSET` request, answered with the object or `ENOENT`.
pub(crate) fn exists(object: Object, table: &str, name: &str) -> std::io::Result<bool> {
    // (get request, the name's attribute); the table's attribute is 1 for both.
    let (get, name_attribute) = match object {
        Object::Chain => (4, 3),
        Object::Set => (10, 2),
    };
    let answers = ask(get, false, &[(1, table), (name_attribute, name)])?;
    Ok(!answers.is_empty())
}

/// The tables of this thread's network namespace, `(family, name)` with nftables' family
/// numbers (`NFPROTO_*`: 2 for `ip`), without running a program: one `NFT_MSG_GETTABLE`
/// dump.
pub(crate) fn tables() -> std::io::Result<Vec<(u8, String)>> {
    const NFT_MSG_GETTABLE: u16 = 1;
    const NFTA_TABLE_NAME: u16 = 1;
    let mut tables = Vec::new();
    for answer in ask(NFT_MSG_GETTABLE, true, &[])? {
        let family = answer[0];
        let mut attributes = &answer[4..];
        while attributes.len() >= 4 {
            let size = u16::from_ne_bytes([attributes[0], attributes[1]]) as usize;
            let kind = u16::from_ne_bytes([attributes[2], attributes[3]]);
            if size < 4 || size > attributes.len() {
                break;
            }
            if kind == NFTA_TABLE_NAME {
                let name = attributes[4..size].split(|&byte| byte == 0).next();
                let name = String::from_utf8_lossy(name.unwrap_or_default()).into_owned();
                tables.push((family, name));
            }
            attributes = &attributes[size.next_multiple_of(4).min(attributes.len())..];
        }
    }
    Ok(tables)
}

/// Sends nf_tables the request `get` (a whole dump with `dump`, of every family, else for
/// family `ip`) with string `attributes`, and returns the answers' payloads (each from its
/// `nfgenmsg` on: family, version, resource id, then attributes). `ENOENT` is no answer.
fn ask(get: u16, dump: bool, attributes: &[(u16, &str)]) -> std::io::Result<Vec<Vec<u8>>> {
    const NFNL_SUBSYS_NFTABLES: u16 = 10;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const NLM_F_REQUEST_ACK: u16 = 1 | 4;
    const NLM_F_DUMP: u16 = 0x300;
    const NFPROTO_UNSPEC: u8 = 0;
    const NFPROTO_IPV4: u8 = 2;

    let flags = if dump {
        NLM_F_REQUEST_ACK | NLM_F_DUMP
    } else {
        NLM_F_REQUEST_ACK
    };
    let family = if dump { NFPROTO_UNSPEC } else { NFPROTO_IPV4 };
    let mut message = Vec::with_capacity(64);
    message.extend_from_slice(&[0; 4]); // length, set below
    message.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | get).to_ne_bytes());
    message.extend_from_slice(&flags.to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    message.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
    message.extend_from_slice(&[family, 0, 0, 0]); // nfgenmsg: family, version, res_id
    for (kind, value) in attributes {
        let length = 4 + value.len() + 1;
        message.extend_from_slice(&(length as u16).to_ne_bytes());
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(value.as_bytes());
        message.push(0);
        message.resize(message.len().next_multiple_of(4), 0);
    }
    let length = message.len() as u32;
    message[..4].copy_from_slice(&length.to_ne_bytes());

    let socket = Socket::new(NETLINK_NETFILTER)?;
    socket.send(&message, 0)?;
    let mut answers = Vec::new();
    loop {
        let (reply, _) = socket.recv_from_full()?;
        let mut rest = reply.as_slice();
        while rest.len() >= 16 {
            let length = u32::from_ne_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            let kind = u16::from_ne_bytes(rest[4..6].try_into().expect("2 bytes"));
            if length < 16 || length > rest.len() {
                return Err(std::io::Error::other("a cut netfilter netlink reply"));
            }
            if kind == NLMSG_DONE {
                return Ok(answers);
            } else if kind == NLMSG_ERROR && length >= 20 {
                let error = i32::from_ne_bytes(rest[16..20].try_into().expect("4 bytes"));
                return match error {
                    0 => Ok(answers),
                    error if -error == rustix::io::Errno::NOENT.raw_os_error() => Ok(Vec::new()),
                    error => Err(std::io::Error::from_raw_os_error(-error)),
                };
            } else if kind >> 8 == NFNL_SUBSYS_NFTABLES && length >= 20 {
                answers.push(rest[16..length].to_vec());
            }
            rest = &rest[length.next_multiple_of(4).min(rest.len())..];
        }
    }
}

/// When [`apply`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Once the kernel has committed the change.
    Committed,
    /// Once, moreover, every packet that met the rules it deleted is past them (nft ends
    /// only after the kernel has freed them, an RCU grace period later): before an
    /// interface those rules sent packets to goes, so that none is dropped on its way there
    /// without an answer.
    Drained,
}

/// Loads `script` with one `nft -f -` run in this thread's network namespace, and returns
/// as soon as the kernel has committed it, or with [`Settle::Drained`] once nft has ended.
///
/// A commit comes before nft ends: a process that closes a netfilter socket after a change that
/// deleted rules waits there (10-20 ms) until the kernel has freed them, after an RCU grace
/// period, and nft closes its socket only after the commit. So the kernel's announcement
/// of the new ruleset generation, which names the process that committed it, is watched
/// for (the watching socket is nft's stdout, so that nft, not this process, closes it
/// last), and nft is left to end by itself. Without the announcement (the kernel dropped
/// it, or the script changed nothing) nft's exit status tells.
pub(crate) fn apply(script: &str, settle: Settle) -> Result<(), NetError> {
    reap_left_children();
    let watch = match settle {
        Settle::Committed => CommitWatch::subscribe().ok(),
        Settle::Drained => None,
    };
    let stdout = watch
        .as_ref()
        .and_then(|watch| watch.share().ok())
        .map_or_else(Stdio::null, Stdio::from);
    let (mut child, written) = spawn_with_input("nft", &["-f", "-"], script, stdout)?;
    if let (Some(watch), Some(Ok(()))) = (&watch, &written) {
        if let Ok(Some(pidfd)) = watch.wait_for_commit(&mut child) {
            leave_child(pidfd);
            return Ok(());
        }
    }
    let output = child
        .wait_with_output()
        .map_err(io_error("wait for", "nft"))?;
    judge_written("nft", &output, written)?;
    if !output.status.success() {
        return Err(NetError::Nft {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// A subscription to nf_tables' announcements (`NFNLGRP_NFTABLES`) in this thread's
/// network namespace.
struct CommitWatch {
    socket: Socket,
}

impl CommitWatch {
    const GROUP: u32 = 7;
    /// `NFT_MSG_NEWGEN` of subsystem `NFNL_SUBSYS_NFTABLES`.
    const NEW_GENERATION: u16 = (10 << 8) | 15;
    /// `NFTA_GEN_PROC_PID`, big-endian.
    const PROCESS_ID: u16 = 2;

    fn subscribe() -> std::io::Result<Self> {
        let mut socket = Socket::new(NETLINK_NETFILTER)?;
        socket.bind_auto()?;
        socket.add_membership(Self::GROUP)?;
        Ok(CommitWatch { socket })
    }

    fn share(&self) -> std::io::Result<OwnedFd> {
        self.socket.as_fd().try_clone_to_owned()
    }

    /// Waits until `child` commits a generation (returns its pidfd, to reap it later) or
    /// ends (`None`: its exit status tells). An error when the announcements cannot be
    /// read whole: the exit status tells then too.
    fn wait_for_commit(&self, child: &mut Child) -> std::io::Result<Option<OwnedFd>> {
        let pid = Pid::from_child(child);
        let pidfd = pidfd_open(pid, PidfdFlags::empty())?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let mut fds = [
                PollFd::new(&self.socket, PollFlags::IN),
                PollFd::new(&pidfd, PollFlags::IN),
            ];
            match poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
            if fds[0].revents().contains(PollFlags::IN) {
                let size = self.socket.recv(&mut &mut buffer[..], 0)?;
                if committed_by(&buffer[..size], pid.as_raw_nonzero().get()) {
                    return Ok(Some(pidfd));
                }
            } else if !fds[1].revents().is_empty() {
                return Ok(None);
            }
        }
    }
}

/// Whether the netlink messages in `bytes` include the announcement of a generation
/// committed by process `pid`.
fn committed_by(bytes: &[u8], pid: i32) -> bool {
    let mut rest = bytes;
    while rest.len() >= 20 {
        let length = u32::from_ne_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes(rest[4..6].try_into().expect("2 bytes"));
        if length < 20 || length > rest.len() {
            return false;
        }
        // After the header (16 bytes) and nfgenmsg (4): the attributes.
        let mut attributes = &rest[20..length];
        while kind == CommitWatch::NEW_GENERATION && attributes.len() >= 4 {
            let size = u16::from_ne_bytes(attributes[..2].try_into().expect("2 bytes")) as usize;
            let kind = u16::from_ne_bytes(attributes[2..4].try_into().expect("2 bytes"));
            if size < 4 || size > attributes.len() {
                break;
            }
            if kind == CommitWatch::PROCESS_ID && size == 8 {
                let value = i32::from_be_bytes(attributes[4..8].try_into().expect("4 bytes"));
                if value == pid {
                    return true;
                }
            }
            attributes = &attributes[size.next_multiple_of(4).min(attributes.len())..];
        }
        rest = &rest[length.next_multiple_of(4).min(rest.len())..];
    }
    false
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::model::Driver;
    use crate::ports::{PortBinding, Protocol};

    /// A `NFT_MSG_NEWGEN` announcement as the kernel sends it: generation, pid (both
    /// big-endian), process name.
    fn new_generation(pid: i32) -> Vec<u8> {
        let mut message = vec![0; 4];
        message.extend_from_slice(&CommitWatch::NEW_GENERATION.to_ne_bytes());
        message.extend_from_slice(&[0; 10]); // flags, sequence, port
        message.extend_from_slice(&[0, 0, 0, 7]); // nfgenmsg
        message.extend_from_slice(&8u16.to_ne_bytes());
        message.extend_from_slice(&1u16.to_ne_bytes());
        message.extend_from_slice(&24u32.to_be_bytes());
        message.extend_from_slice(&8u16.to_ne_bytes());
        message.extend_from_slice(&CommitWatch::PROCESS_ID.to_ne_bytes());
        message.extend_from_slice(&pid.to_be_bytes());
        message.extend_from_slice(&8u16.to_ne_bytes());
        message.extend_from_slice(&3u16.to_ne_bytes());
        message.extend_from_slice(b"nft\0");
        let length = message.len() as u32;
        message[..4].copy_from_slice(&length.to_ne_bytes());
        message
    }

    #[test]
    fn a_commit_is_known_by_the_pid_in_its_announcement() {
        assert!(committed_by(&new_generation(31056), 31056));
        assert!(!committed_by(&new_generation(31057), 31056));
        // Another announcement first (a rule of the same commit), then the generation.
        let mut both = new_generation(31056);
        both[4..6].copy_from_slice(&((10u16 << 8) | 6).to_ne_bytes());
        both.extend(new_generation(31056));
        assert!(committed_by(&both, 31056));
        let mut rule_only = new_generation(31056);
        rule_only[4..6].copy_from_slice(&((10u16 << 8) | 6).to_ne_bytes());
        assert!(!committed_by(&rule_only, 31056));
        // Cut short: nothing is read past the end.
        let whole = new_generation(31056);
        assert!(!committed_by(&whole[..whole.len() - 6], 31056));
    }

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
	set bridges { type ifname; }
	set bridge_pairs { type ifname . ifname; }
	set internal_bridges { type ifname; }
	set external_bridges { type ifname; }
	set external_subnets { type ipv4_addr; flags interval; }
	set external_subnet_bridges { type ipv4_addr . ifname; flags interval; }
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
flush set ip wharf bridges
flush set ip wharf bridge_pairs
flush set ip wharf internal_bridges
flush set ip wharf external_bridges
flush set ip wharf external_subnets
flush set ip wharf external_subnet_bridges
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
		ip saddr @external_subnets ip saddr . oifname != @external_subnet_bridges masquerade
		ct status dnat ip saddr . oifname @external_subnet_bridges masquerade
		ct status dnat ip saddr 127.0.0.0/8 oifname @external_bridges masquerade
	}
	chain forward {
		ct state established,related accept
		iifname . oifname @bridge_pairs accept
		iifname @internal_bridges drop
		oifname @internal_bridges drop
		oifname @external_bridges ct status dnat accept
		iifname @bridges oifname @bridges drop
		iifname @external_bridges accept
		oifname @external_bridges drop
	}
	chain input {
		iifname @bridges ip daddr 127.0.0.0/8 ct state != { established, related } drop
	}
}
add element ip wharf bridges { "wh-aaaaaaaaaaaa" }
add element ip wharf bridge_pairs { "wh-aaaaaaaaaaaa" . "wh-aaaaaaaaaaaa" }
add element ip wharf external_bridges { "wh-aaaaaaaaaaaa" }
add element ip wharf external_subnets { 10.1.0.0/24 }
add element ip wharf external_subnet_bridges { 10.1.0.0/24 . "wh-aaaaaaaaaaaa" }
add element ip wharf bridges { "wh-bbbbbbbbbbbb" }
add element ip wharf bridge_pairs { "wh-bbbbbbbbbbbb" . "wh-bbbbbbbbbbbb" }
add element ip wharf internal_bridges { "wh-bbbbbbbbbbbb" }
"#;
        assert_eq!(
            render_added_ports("wharf", &web.endpoints["c1"]),
            "add rule ip wharf ports tcp dport 8080 dnat to 10.1.0.2:80\n\
             add rule ip wharf ports ip daddr 127.0.0.1 udp dport 5353 dnat to 10.1.0.2:53\n"
        );
        assert_eq!(render(&scope("/var/lib/wharf"), &[web, internal]), expected);
    }

    #[test]
    #[allow(clippy::print_stderr)]
    fn loads_the_layout_then_only_adds_to_it() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("SKIPPED: loading nftables rules needs root (CAP_NET_ADMIN)");
            return;
        }
        let scope = scope("/var/lib/wharf");
        let web = network("web", "wh-aaaaaaaaaaaa", "10.1.0.0/24", false);
        let db = network("db", "wh-bbbbbbbbbbbb", "10.2.0.0/24", true);
        // A thread in a network namespace of its own: nft and the probes act there.
        std::thread::spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let layout = || exists(Object::Set, "wharf", LAYOUT_SET).unwrap();
            assert!(!layout());
            apply(&render(&scope, std::slice::from_ref(&web)), Settle::Drained).unwrap();
            assert!(layout());
            assert!(exists(Object::Chain, "wharf", "forward").unwrap());
            assert!(!exists(Object::Chain, "wharf", "other").unwrap());
            assert!(!exists(Object::Set, "filter", LAYOUT_SET).unwrap());
            assert_eq!(tables().unwrap(), [(2, "wharf".to_owned())]);
            // Adding is idempotent: a network's elements twice, an existing one again.
            for network in [&db, &db, &web] {
                apply(&render_added_network("wharf", network), Settle::Drained).unwrap();
            }
            let listed = |set: &str| {
                let output = std::process::Command::new("nft")
                    .args(["list", "set", "ip", "wharf", set])
                    .output()
                    .unwrap();
                String::from_utf8(output.stdout).unwrap()
            };
            assert!(listed("internal_bridges").contains("\"wh-bbbbbbbbbbbb\""));
            assert!(!listed("external_bridges").contains("\"wh-bbbbbbbbbbbb\""));
            assert!(listed("external_subnet_bridges").contains("10.1.0.0/24 . \"wh-aaaaaaaaaaaa\""));
            // Loaded whole again without db: its elements are gone.
            apply(&render(&scope, std::slice::from_ref(&web)), Settle::Drained).unwrap();
            assert!(!listed("bridges").contains("wh-bbbbbbbbbbbb"));
            assert!(listed("bridges").contains("wh-aaaaaaaaaaaa"));
            apply(&render(&scope, &[]), Settle::Drained).unwrap();
            assert!(!layout());
            assert_eq!(tables().unwrap(), []);
        })
        .join()
        .unwrap();
    }
}
