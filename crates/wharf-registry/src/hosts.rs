//! Where a reference's registry is reached: Docker Hub's API host, mirrors of docker.io,
//! and which hosts may be spoken to without verified TLS.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::error::{RegistryError, Result};

/// The domain references to Docker Hub carry, and the host that serves its API.
pub const DOCKER_HUB: &str = "docker.io";
pub(crate) const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// Registry settings, like the registry part of Docker's `daemon.json`.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Mirrors of docker.io (`https://mirror.example.com`, `http://127.0.0.1:5001`), tried in
    /// order for pulls before docker.io itself.
    pub mirrors: Vec<String>,
    /// Hosts (`host` for any port, or `host:port`) and CIDR ranges (`10.0.0.0/8`) whose
    /// registries may use plain HTTP or unverified TLS.
    pub insecure: Vec<String>,
    /// Folders holding `<host[:port]>/ca.crt` (and other `*.crt`) trusted for that host,
    /// plus `client.cert`/`client.key` for client authentication, like Docker's certs.d.
    pub certs_dirs: Vec<PathBuf>,
    /// How many blobs move at once.
    pub max_concurrent_transfers: usize,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            mirrors: Vec::new(),
            // Docker trusts loopback registries to speak plain HTTP.
            insecure: vec!["localhost".into(), "127.0.0.0/8".into(), "::1/128".into()],
            certs_dirs: vec![
                PathBuf::from("/etc/wharf/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            max_concurrent_transfers: 4,
        }
    }
}

impl RegistrySettings {
    /// Checks the mirror URLs and insecure entries, so that a typo fails at start rather than
    /// silently never matching.
    pub fn validate(&self) -> Result<()> {
        for mirror in &self.mirrors {
            parse_mirror(mirror)?;
        }
        for entry in &self.insecure {
            if let Some((network, bits)) = entry.split_once('/') {
                let max = match network.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => 32,
                    Ok(IpAddr::V6(_)) => 128,
                    Err(_) => return Err(bad_insecure(entry, "not an IP network")),
                };
                if bits.parse::<u8>().map_or(true, |b| b > max) {
                    return Err(bad_insecure(entry, "bad prefix length"));
                }
            }
        }
        Ok(())
    }

    /// True when `authority` (`host`, `host:port`, `[v6]:port`) is allowed plain HTTP and
    /// unverified TLS.
    pub fn is_insecure(&self, authority: &str) -> bool {
        let (host, port) = split_authority(authority);
        let ip = host.parse::<IpAddr>().ok();
        self.insecure.iter().any(|entry| {
            if let Some((network, bits)) = entry.split_once('/') {
                return ip.is_some_and(|ip| in_network(ip, network, bits));
            }
            // An entry without a port covers every port of its host.
            match split_authority(entry) {
                (entry_host, None) => entry_host == host,
                (entry_host, entry_port) => entry_host == host && entry_port == port,
            }
        })
    }

    /// The mirrors to try, in order, before the registry itself when pulling from `domain`.
    pub(crate) fn mirrors(&self, domain: &str) -> Result<Vec<Host>> {
        if domain != DOCKER_HUB {
            return Ok(Vec::new());
        }
        self.mirrors.iter().map(|m| parse_mirror(m)).collect()
    }

    /// The registry itself, where pushes always go.
    pub(crate) fn upstream(&self, domain: &str) -> Host {
        let authority = api_host(domain).to_string();
        let scheme = if self.is_insecure(&authority) {
            Scheme::Probe
        } else {
            Scheme::Https
        };
        Host {
            authority,
            name: domain.to_string(),
            scheme,
        }
    }
}

/// The host serving the registry API of a reference's domain.
fn api_host(domain: &str) -> &str {
    if domain == DOCKER_HUB {
        DOCKER_HUB_API_HOST
    } else {
        domain
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Https,
    Http,
    /// An insecure host: HTTPS without verification if it answers TLS, else plain HTTP,
    /// as Docker does.
    Probe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Host {
    /// `host[:port]` as it appears in URLs.
    pub authority: String,
    /// The name users know the registry by, which errors show and credentials are stored
    /// under: the reference's domain (`docker.io`, not its API host), or the mirror's host.
    pub name: String,
    pub scheme: Scheme,
}

fn parse_mirror(url: &str) -> Result<Host> {
    let bad = |message: &str| RegistryError::InvalidSetting {
        setting: "registry mirror",
        value: url.to_string(),
        message: message.to_string(),
    };
    let (scheme, rest) = match url.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        _ => return Err(bad("expected an http:// or https:// URL")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(bad("expected scheme://host[:port] with no path"));
    }
    Ok(Host {
        authority: authority.to_string(),
        name: authority.to_string(),
        scheme,
    })
}

fn bad_insecure(entry: &str, message: &str) -> RegistryError {
    RegistryError::InvalidSetting {
        setting: "insecure registry",
        value: entry.to_string(),
        message: message.to_string(),
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port` into the host without brackets and
/// the port.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => (rest, None),
        };
    }
    if authority.matches(':').count() > 1 {
        return (authority, None); // a bare IPv6 address
    }
    match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

fn in_network(ip: IpAddr, network: &str, bits: &str) -> bool {
    let (Ok(network), Ok(bits)) = (network.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let (ip, network, width) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || ip >> shift == network >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_maps_to_its_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        let settings = RegistrySettings::default();
        let hub = settings.upstream("docker.io");
        assert_eq!(hub.authority, "registry-1.docker.io");
        assert_eq!(hub.name, "docker.io");
        assert_eq!(hub.scheme, Scheme::Https);
    }

    #[test]
    fn loopback_is_insecure_by_default() {
        let settings = RegistrySettings::default();
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.2.1",
            "[::1]:5000",
        ] {
            assert!(settings.is_insecure(host), "{host}");
        }
        for host in [
            "registry-1.docker.io",
            "10.0.0.1:5000",
            "[::2]:5000",
            "localhost.example.com",
        ] {
            assert!(!settings.is_insecure(host), "{host}");
        }
        assert_eq!(settings.upstream("localhost:5000").scheme, Scheme::Probe);
    }

    #[test]
    fn listed_hosts_and_networks_are_insecure() {
        let settings = RegistrySettings {
            insecure: vec![
                "registry.lan".into(),
                "build:5000".into(),
                "10.1.0.0/16".into(),
                "fd00::/8".into(),
            ],
            ..RegistrySettings::default()
        };
        settings.validate().unwrap();
        assert!(settings.is_insecure("registry.lan:443"));
        assert!(settings.is_insecure("build:5000"));
        assert!(!settings.is_insecure("build:5001"));
        assert!(settings.is_insecure("10.1.200.3:5000"));
        assert!(!settings.is_insecure("10.2.0.1"));
        assert!(settings.is_insecure("[fd12::1]:5000"));
        assert!(
            !settings.is_insecure("127.0.0.1"),
            "the list replaces the default"
        );
        for bad in ["10.0.0.0/33", "host/8", "::/129"] {
            let settings = RegistrySettings {
                insecure: vec![bad.into()],
                ..RegistrySettings::default()
            };
            assert!(settings.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn mirrors_serve_only_docker_hub() {
        let settings = RegistrySettings {
            mirrors: vec![
                "http://127.0.0.1:5001/".into(),
                "https://mirror.example".into(),
            ],
            ..RegistrySettings::default()
        };
        let hosts = settings.mirrors("docker.io").unwrap();
        assert_eq!(
            hosts
                .iter()
                .map(|h| (h.authority.as_str(), h.scheme))
                .collect::<Vec<_>>(),
            [
                ("127.0.0.1:5001", Scheme::Http),
                ("mirror.example", Scheme::Https),
            ]
        );
        assert!(settings.mirrors("ghcr.io").unwrap().is_empty());
        for bad in ["mirror.example", "ftp://m", "https://m/path", "https://"] {
            let settings = RegistrySettings {
                mirrors: vec![bad.into()],
                ..RegistrySettings::default()
            };
            assert!(settings.validate().is_err(), "{bad}");
        }
    }
}
