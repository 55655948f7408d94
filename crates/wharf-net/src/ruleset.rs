//! The host's whole nftables ruleset (`nft list ruleset`), read for what others hold: the
//! host ports that another state root or Docker forwards with DNAT rules (no socket listens
//! on them, so binding a port cannot tell), and the tables of wharf roots, each with the root
//! its comment names (see `nft::render`).
//!
//! Docker's rules appear here when its iptables uses the nf_tables backend (Debian's default
//! since bullseye); with the legacy backend they are not seen, and a port Docker publishes is
//! found only by its docker-proxy's socket.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{io_error, NetError};
use crate::ports::{PortBinding, Protocol};

/// A table of the ruleset: `table FAMILY NAME`, its comment and its DNAT rules.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Table {
    pub family: String,
    pub name: String,
    pub comment: Option<String>,
    pub dnats: Vec<Dnat>,
}

/// A rule that forwards a host port elsewhere.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Dnat {
    pub chain: String,
    pub protocol: Protocol,
    /// `ip daddr` of the rule, unspecified when it matches any address.
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
}

/// [`read`], unless this thread's network namespace has no table but `own` (family `ip`,
/// asked without running a program): then nobody else forwards a port, and the `nft` run
/// (5-10 ms while containers start) is saved.
pub(crate) fn read_unless_alone(own: &str) -> Result<Vec<Table>, NetError> {
    const NFPROTO_IPV4: u8 = 2;
    match crate::nft::tables() {
        Ok(tables)
            if tables
                .iter()
                .all(|(family, name)| *family == NFPROTO_IPV4 && name == own) =>
        {
            Ok(Vec::new())
        }
        _ => read(),
    }
}

/// `nft list ruleset` in this thread's network namespace, parsed.
pub(crate) fn read() -> Result<Vec<Table>, NetError> {
    let output = Command::new("nft")
        .args(["list", "ruleset"])
        .stdin(Stdio::null())
        .output()
        .map_err(io_error("run", "nft"))?;
    if !output.status.success() {
        return Err(NetError::Nft {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(parse(&String::from_utf8_lossy(&output.stdout)))
}

/// The tables of `nft list ruleset`'s text.
pub(crate) fn parse(text: &str) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    let mut chain = String::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["table", family, name, "{"] => tables.push(Table {
                family: (*family).to_owned(),
                name: (*name).to_owned(),
                ..Table::default()
            }),
            ["chain", name, "{"] => chain = (*name).to_owned(),
            ["comment", ..] if chain.is_empty() => {
                if let Some(table) = tables.last_mut() {
                    table.comment = quoted(line);
                }
            }
            ["}"] => {}
            _ => {
                if let (Some(table), Some(dnat)) = (tables.last_mut(), dnat(&chain, &words)) {
                    table.dnats.push(dnat);
                }
            }
        }
        if line.starts_with("table ") {
            chain.clear();
        }
    }
    tables
}

/// The text between the first and the last `"` of `line`.
fn quoted(line: &str) -> Option<String> {
    let start = line.find('"')?;
    let end = line.rfind('"')?;
    (end > start).then(|| line[start + 1..end].to_owned())
}

/// The DNAT rule that `words` are, if they are one for a single port.
fn dnat(chain: &str, words: &[&str]) -> Option<Dnat> {
    if !words.windows(2).any(|pair| pair == ["dnat", "to"]) {
        return None;
    }
    let (protocol, host_port) = words.windows(3).find_map(|w| match w {
        [protocol @ ("tcp" | "udp"), "dport", port] => {
            let protocol = match *protocol {
                "tcp" => Protocol::Tcp,
                _ => Protocol::Udp,
            };
            Some((protocol, port.parse().ok()?))
        }
        _ => None,
    })?;
    let host_ip = words
        .windows(3)
        .find_map(|w| match w {
            ["ip", "daddr", ip] => ip.parse().ok(),
            _ => None,
        })
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    Some(Dnat {
        chain: chain.to_owned(),
        protocol,
        host_ip,
        host_port,
    })
}

impl Table {
    /// Who forwards with this table's rules, for an error: Docker, another wharf root, or
    /// the table itself.
    fn owner(&self, chain: &str) -> String {
        if let Some(root) = self.wharf_root() {
            return format!(
                "another wharf state root ({}, nftables table {} {})",
                root.display(),
                self.family,
                self.name
            );
        }
        if self.name.starts_with("wharf") {
            return format!(
                "another wharf state root (nftables table {} {})",
                self.family, self.name
            );
        }
        if chain == "DOCKER" {
            return format!(
                "Docker (a DNAT rule in chain DOCKER of table {} {})",
                self.family, self.name
            );
        }
        format!(
            "a DNAT rule in chain {chain} of table {} {}",
            self.family, self.name
        )
    }

    /// The state root a wharf table belongs to, from its comment.
    pub fn wharf_root(&self) -> Option<PathBuf> {
        let comment = self.comment.as_deref()?;
        let root = comment.strip_prefix(crate::nft::ROOT_COMMENT)?;
        (self.family == "ip" && self.name.starts_with("wharf")).then(|| Path::new(root).into())
    }
}

/// Who other than table `own` forwards `binding`'s host port, if anybody.
pub(crate) fn port_holder(tables: &[Table], own: &str, binding: &PortBinding) -> Option<String> {
    tables
        .iter()
        .filter(|table| !(table.family == "ip" && table.name == own))
        .find_map(|table| {
            table
                .dnats
                .iter()
                .find(|dnat| {
                    let theirs = PortBinding {
                        protocol: dnat.protocol,
                        host_ip: dnat.host_ip,
                        host_port: dnat.host_port,
                        container_port: 0,
                    };
                    theirs.conflicts_with(binding)
                })
                .map(|dnat| table.owner(&dnat.chain))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a host with dockerd (iptables-nft, one port published) and two wharf roots lists.
    const RULESET: &str = r#"table ip nat {
	chain DOCKER {
		iifname "docker0" counter packets 0 bytes 0 return
		iifname != "docker0" meta l4proto tcp tcp dport 8080 counter packets 0 bytes 0 dnat to 172.17.0.2:80
		ip daddr 127.0.0.1 iifname != "docker0" meta l4proto udp udp dport 5353 counter packets 0 bytes 0 dnat to 172.17.0.3:53
	}
}
table ip wharf {
	comment "wharf root /var/lib/wharf"
	chain ports {
		tcp dport 9000 dnat to 10.88.0.2:80
	}
}
table ip wharf_1a2b3c {
	comment "wharf root /tmp/a root"
	chain ports {
		ip daddr 127.0.0.1 tcp dport 9001 dnat to 10.89.0.2:80
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp dport { 1, 2 } dnat to 10.89.0.3:80
	}
}
"#;

    fn tcp(host_ip: [u8; 4], host_port: u16) -> PortBinding {
        PortBinding {
            protocol: Protocol::Tcp,
            host_ip: host_ip.into(),
            host_port,
            container_port: 80,
        }
    }

    #[test]
    fn reads_tables_comments_and_single_port_dnats() {
        let tables = parse(RULESET);
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["nat", "wharf", "wharf_1a2b3c"]);
        assert_eq!(tables[0].dnats.len(), 2);
        assert_eq!(
            tables[0].dnats[1],
            Dnat {
                chain: "DOCKER".into(),
                protocol: Protocol::Udp,
                host_ip: Ipv4Addr::LOCALHOST,
                host_port: 5353,
            }
        );
        assert_eq!(tables[2].wharf_root(), Some("/tmp/a root".into()));
        assert_eq!(tables[2].dnats.len(), 1, "sets of ports are not read");
        assert_eq!(tables[0].wharf_root(), None);
    }

    #[test]
    fn names_who_forwards_a_port_other_than_the_own_table() {
        let tables = parse(RULESET);
        assert_eq!(
            port_holder(&tables, "wharf", &tcp([0, 0, 0, 0], 8080)).as_deref(),
            Some("Docker (a DNAT rule in chain DOCKER of table ip nat)")
        );
        assert_eq!(
            port_holder(&tables, "wharf", &tcp([127, 0, 0, 1], 9001)).as_deref(),
            Some("another wharf state root (/tmp/a root, nftables table ip wharf_1a2b3c)")
        );
        assert_eq!(
            port_holder(&tables, "wharf", &tcp([10, 0, 0, 1], 9001)),
            None
        );
        assert_eq!(
            port_holder(&tables, "wharf", &tcp([0, 0, 0, 0], 9000)),
            None
        );
        assert!(port_holder(&tables, "wharf_1a2b3c", &tcp([0, 0, 0, 0], 9000)).is_some());
    }
}
