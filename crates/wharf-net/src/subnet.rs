//! IPv4 subnets (`172.18.0.0/16`): parsing, containment, overlap, host ranges.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An IPv4 subnet whose address has no host bits set, with a prefix of at most /30 (a bridge
/// needs a gateway and at least one container address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    addr: Ipv4Addr,
    prefix: u8,
}

/// Why a `--subnet` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubnetError {
    #[error("invalid subnet {0:?}: expected an IPv4 CIDR like 172.18.0.0/16")]
    Syntax(String),
    #[error("invalid subnet {value}: the prefix must be between /8 and /30")]
    Prefix { value: String },
    #[error("invalid subnet {value}: it should be {expected}")]
    HostBits { value: String, expected: Subnet },
}

impl Subnet {
    /// `addr/prefix`, refusing host bits and prefixes outside /8../30.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, SubnetError> {
        let value = format!("{addr}/{prefix}");
        if !(8..=30).contains(&prefix) {
            return Err(SubnetError::Prefix { value });
        }
        let expected = Subnet {
            addr: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        };
        if expected.addr != addr {
            return Err(SubnetError::HostBits { value, expected });
        }
        Ok(expected)
    }

    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !mask(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.addr)
    }

    /// Whether the two share an address; `prefix` may be any length here (host routes).
    pub fn overlaps_route(&self, addr: Ipv4Addr, prefix: u8) -> bool {
        let shorter = self.prefix.min(prefix);
        u32::from(self.addr) & mask(shorter) == u32::from(addr) & mask(shorter)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.overlaps_route(other.addr, other.prefix)
    }

    /// The first usable address, Docker's default gateway.
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) + 1)
    }

    /// Usable addresses (neither the network nor the broadcast address), in order.
    pub fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> {
        (u32::from(self.addr) + 1..u32::from(self.broadcast())).map(Ipv4Addr::from)
    }

    /// The `index`-th subnet of length `prefix` inside `self`, if there is one.
    pub(crate) fn nth_subnet(&self, prefix: u8, index: u32) -> Option<Subnet> {
        let count = 1u64 << (prefix.checked_sub(self.prefix)?);
        if u64::from(index) >= count {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let addr = u64::from(u32::from(self.addr)) + u64::from(index) * step;
        Some(Subnet {
            addr: Ipv4Addr::from(u32::try_from(addr).ok()?),
            prefix,
        })
    }
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || SubnetError::Syntax(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(syntax)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| syntax())?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let prefix: u8 = prefix.parse().map_err(|_| syntax())?;
        if prefix > 32 {
            return Err(syntax());
        }
        Subnet::new(addr, prefix)
    }
}

impl TryFrom<String> for Subnet {
    type Error = SubnetError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Subnet> for String {
    fn from(subnet: Subnet) -> String {
        subnet.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let subnet: Subnet = "172.18.0.0/16".parse().unwrap();
        assert_eq!(subnet.to_string(), "172.18.0.0/16");
        assert_eq!(subnet.first_host(), Ipv4Addr::new(172, 18, 0, 1));
        assert_eq!(subnet.broadcast(), Ipv4Addr::new(172, 18, 255, 255));
        assert!(subnet.contains(Ipv4Addr::new(172, 18, 3, 4)));
        assert!(!subnet.contains(Ipv4Addr::new(172, 19, 0, 1)));
    }

    #[test]
    fn refuses_bad_values() {
        for bad in [
            "",
            "172.18.0.0",
            "172.18.0.0/",
            "x/16",
            "172.18.0.0/33",
            "1.2.3.4/+1",
        ] {
            assert_eq!(
                bad.parse::<Subnet>(),
                Err(SubnetError::Syntax(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            "10.1.1.1/24".parse::<Subnet>().unwrap_err().to_string(),
            "invalid subnet 10.1.1.1/24: it should be 10.1.1.0/24"
        );
        assert_eq!(
            "10.1.1.0/31".parse::<Subnet>().unwrap_err().to_string(),
            "invalid subnet 10.1.1.0/31: the prefix must be between /8 and /30"
        );
    }

    #[test]
    fn overlap_and_hosts() {
        let a: Subnet = "10.0.0.0/8".parse().unwrap();
        let b: Subnet = "10.5.0.0/16".parse().unwrap();
        let c: Subnet = "11.0.0.0/16".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert!(b.overlaps_route(Ipv4Addr::new(10, 5, 7, 7), 32));
        let small: Subnet = "192.168.9.0/30".parse().unwrap();
        assert_eq!(
            small.hosts().collect::<Vec<_>>(),
            [Ipv4Addr::new(192, 168, 9, 1), Ipv4Addr::new(192, 168, 9, 2)]
        );
        let pool: Subnet = "192.168.0.0/16".parse().unwrap();
        assert_eq!(
            pool.nth_subnet(20, 1).unwrap().to_string(),
            "192.168.16.0/20"
        );
        assert_eq!(pool.nth_subnet(20, 16), None);
    }
}
