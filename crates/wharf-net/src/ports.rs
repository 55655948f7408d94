//! `-p/--publish` values, parsed like Docker's (`nat.ParsePortSpec` of go-connections), and
//! the host ports they resolve to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A transport protocol that can be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One container port to publish, as asked for: `host_ports` is `None` for "any free
/// port", a single port, or a range to pick one free port from (`8000-8010:80`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortSpec {
    /// `None` is every host address (`0.0.0.0`).
    pub host_ip: Option<IpAddr>,
    pub host_ports: Option<(u16, u16)>,
    pub container_port: u16,
    pub protocol: Protocol,
}

/// A `-p` value that Docker would refuse too; the messages are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    #[error("invalid IP address: {0}")]
    InvalidIp(String),
    #[error("no port specified: {0}<empty>")]
    NoPort(String),
    #[error("invalid containerPort: {0}")]
    InvalidContainerPort(String),
    #[error("invalid hostPort: {0}")]
    InvalidHostPort(String),
    #[error("invalid ranges specified for container and host Ports: {container} and {host}")]
    RangeMismatch { container: String, host: String },
    #[error("invalid proto: {0}")]
    InvalidProto(String),
    #[error("unsupported proto: {0}: wharf publishes tcp and udp ports")]
    UnsupportedProto(String),
}

/// Parses one `-p` value: `[ip:][hostPort[-end]:]containerPort[-end][/proto]`, with IPv6
/// addresses in brackets. A container port range expands to one spec per port.
pub fn parse_publish(raw: &str) -> Result<Vec<PortSpec>, PortSpecError> {
    let (ip, host, container) = split_parts(raw);
    let (proto, container) = split_proto(container);
    let host_ip = match ip {
        "" => None,
        ip => {
            let bare = ip
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or(ip);
            Some(
                bare.parse::<IpAddr>()
                    .map_err(|_| PortSpecError::InvalidIp(ip.to_owned()))?,
            )
        }
    };
    if container.is_empty() {
        return Err(PortSpecError::NoPort(raw.to_owned()));
    }
    let (start, end) = parse_range(container)
        .filter(|&(start, _)| start != 0)
        .ok_or_else(|| PortSpecError::InvalidContainerPort(container.to_owned()))?;
    let host_range = match host {
        "" => None,
        host => Some(parse_range(host).ok_or_else(|| PortSpecError::InvalidHostPort(host.into()))?),
    };
    if let Some((host_start, host_end)) = host_range {
        // A host range with a single container port is the range to pick a free port from.
        if end - start != host_end - host_start && start != end {
            return Err(PortSpecError::RangeMismatch {
                container: container.to_owned(),
                host: host.to_owned(),
            });
        }
    }
    let protocol = match proto.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => return Err(PortSpecError::UnsupportedProto(proto.to_owned())),
        _ => return Err(PortSpecError::InvalidProto(proto.to_owned())),
    };
    Ok((start..=end)
        .map(|container_port| {
            let host_ports = match host_range {
                Some((0, 0)) | None => None,
                Some(range) if start == end => Some(range),
                Some((host_start, _)) => {
                    let port = host_start + (container_port - start);
                    Some((port, port))
                }
            };
            PortSpec {
                host_ip,
                host_ports,
                container_port,
                protocol,
            }
        })
        .collect())
}

/// Docker's `splitParts`: the last part is the container port, the one before the host
/// port, and everything before that the IP (which may contain ':').
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let Some((rest, container)) = raw.rsplit_once(':') else {
        return ("", "", raw);
    };
    match rest.rsplit_once(':') {
        None => ("", rest, container),
        Some((ip, host)) => (ip, host, container),
    }
}

/// Docker's `SplitProtoPort`: `80/udp` → (udp, 80); no or empty protocol is tcp.
fn split_proto(raw: &str) -> (&str, &str) {
    match raw.split_once('/') {
        _ if raw.is_empty() || raw.starts_with('/') => ("", ""),
        None => ("tcp", raw),
        Some((port, "")) => ("tcp", port),
        Some((port, proto)) => (proto, port),
    }
}

fn parse_range(raw: &str) -> Option<(u16, u16)> {
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    match raw.split_once('-') {
        None => number(raw).map(|port| (port, port)),
        Some((start, end)) => {
            let (start, end) = (number(start)?, number(end)?);
            (start <= end).then_some((start, end))
        }
    }
}

impl FromStr for PortSpec {
    type Err = PortSpecError;

    /// One container port (`-P` entries, or a `-p` value without a container range).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut specs = parse_publish(s)?;
        match specs.len() {
            1 => Ok(specs.remove(0)),
            _ => Err(PortSpecError::InvalidContainerPort(s.to_owned())),
        }
    }
}

/// A published port as set up: traffic to `host_ip:host_port` goes to the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortBinding {
    pub protocol: Protocol,
    /// `0.0.0.0` is every host address.
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_port: u16,
}

impl PortBinding {
    /// Whether the two would receive the same packets.
    pub fn conflicts_with(&self, other: &PortBinding) -> bool {
        self.protocol == other.protocol
            && self.host_port == other.host_port
            && (self.host_ip == other.host_ip
                || self.host_ip.is_unspecified()
                || other.host_ip.is_unspecified())
    }

    /// `0.0.0.0:8080/tcp`, the host side.
    pub fn host_side(&self) -> String {
        format!("{}:{}/{}", self.host_ip, self.host_port, self.protocol)
    }
}

impl fmt::Display for PortBinding {
    /// Like `docker ps`: `0.0.0.0:8080->80/tcp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}->{}/{}",
            self.host_ip, self.host_port, self.container_port, self.protocol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ip: Option<&str>, host: Option<(u16, u16)>, port: u16, proto: Protocol) -> PortSpec {
        PortSpec {
            host_ip: ip.map(|ip| ip.parse().unwrap()),
            host_ports: host,
            container_port: port,
            protocol: proto,
        }
    }

    #[test]
    fn parses_docker_forms() {
        use Protocol::*;
        let cases: &[(&str, Vec<PortSpec>)] = &[
            ("80", vec![spec(None, None, 80, Tcp)]),
            ("80/udp", vec![spec(None, None, 80, Udp)]),
            ("80/", vec![spec(None, None, 80, Tcp)]),
            ("53/UDP", vec![spec(None, None, 53, Udp)]),
            ("8080:80", vec![spec(None, Some((8080, 8080)), 80, Tcp)]),
            ("0:80", vec![spec(None, None, 80, Tcp)]),
            (":80", vec![spec(None, None, 80, Tcp)]),
            (
                "127.0.0.1:8080:80/udp",
                vec![spec(Some("127.0.0.1"), Some((8080, 8080)), 80, Udp)],
            ),
            (
                "127.0.0.1::80",
                vec![spec(Some("127.0.0.1"), None, 80, Tcp)],
            ),
            (
                "[::1]:8080:80",
                vec![spec(Some("::1"), Some((8080, 8080)), 80, Tcp)],
            ),
            (
                "8000-8001:80-81",
                vec![
                    spec(None, Some((8000, 8000)), 80, Tcp),
                    spec(None, Some((8001, 8001)), 81, Tcp),
                ],
            ),
            (
                "8000-8010:80",
                vec![spec(None, Some((8000, 8010)), 80, Tcp)],
            ),
            (
                "80-81",
                vec![spec(None, None, 80, Tcp), spec(None, None, 81, Tcp)],
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(&parse_publish(raw).unwrap(), expected, "{raw}");
        }
    }

    #[test]
    fn refuses_like_docker() {
        let cases = [
            ("", "no port specified: <empty>"),
            ("8080:", "no port specified: 8080:<empty>"),
            ("foo:8080:80", "invalid IP address: foo"),
            ("abc", "invalid containerPort: abc"),
            ("0", "invalid containerPort: 0"),
            ("70000", "invalid containerPort: 70000"),
            ("81-80", "invalid containerPort: 81-80"),
            ("x:80", "invalid hostPort: x"),
            ("8080-:80", "invalid hostPort: 8080-"),
            (
                "8000-8002:80-81",
                "invalid ranges specified for container and host Ports: 80-81 and 8000-8002",
            ),
            ("80/icmp", "invalid proto: icmp"),
            (
                "80/sctp",
                "unsupported proto: sctp: wharf publishes tcp and udp ports",
            ),
        ];
        for (raw, message) in cases {
            assert_eq!(
                parse_publish(raw).unwrap_err().to_string(),
                message,
                "{raw}"
            );
        }
    }

    #[test]
    fn conflicts() {
        let binding = |ip: [u8; 4], port, protocol| PortBinding {
            protocol,
            host_ip: Ipv4Addr::from(ip),
            host_port: port,
            container_port: 80,
        };
        let any = binding([0, 0, 0, 0], 8080, Protocol::Tcp);
        assert!(any.conflicts_with(&binding([127, 0, 0, 1], 8080, Protocol::Tcp)));
        assert!(!any.conflicts_with(&binding([127, 0, 0, 1], 8080, Protocol::Udp)));
        assert!(!any.conflicts_with(&binding([127, 0, 0, 1], 8081, Protocol::Tcp)));
        assert!(
            !binding([127, 0, 0, 1], 8080, Protocol::Tcp).conflicts_with(&binding(
                [127, 0, 0, 2],
                8080,
                Protocol::Tcp
            ))
        );
        assert_eq!(any.to_string(), "0.0.0.0:8080->80/tcp");
        assert_eq!(
            "8080:80/udp".parse::<PortSpec>().unwrap().container_port,
            80
        );
    }
}
