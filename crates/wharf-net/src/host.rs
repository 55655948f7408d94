//! The host side that is not netlink: sysctls, the main routing table, and whether a host
//! port is free (by binding it) and which process holds it if not.
//!
//! Everything here acts in this thread's network namespace: `/proc/sys/net` follows the
//! calling thread, and sockets are made by it; `/proc/thread-self/net` is read, not
//! `/proc/net` (which follows the main thread).

use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;

use crate::error::{io_error, NetError};
use crate::ipam::HostRoute;
use crate::ports::{PortBinding, Protocol};

/// Sets a sysctl under `/proc/sys/net/ipv4` to `1` unless it already is.
pub(crate) fn enable_ipv4_sysctl(name: &str) -> Result<(), NetError> {
    let path = Path::new("/proc/sys/net/ipv4").join(name);
    if fs::read_to_string(&path).is_ok_and(|value| value.trim() == "1") {
        return Ok(());
    }
    fs::write(&path, "1\n").map_err(io_error("write", path))
}

/// The IPv4 unicast routes of the main table, from `/proc/thread-self/net/route`, which
/// the kernel lists under RCU: a netlink dump of the routes (and of the interfaces, for
/// their names) waits for the rtnl lock, which the cleanup of ended containers' network
/// namespaces holds for tens of milliseconds right after a `down`.
pub(crate) fn main_routes() -> Result<Vec<HostRoute>, NetError> {
    let path = Path::new("/proc/thread-self/net/route");
    let text = fs::read_to_string(path).map_err(io_error("read", path))?;
    Ok(parse_routes(&text))
}

fn parse_routes(text: &str) -> Vec<HostRoute> {
    /// `RTF_REJECT`: an unreachable, prohibit or blackhole route.
    const REJECT: u16 = 0x0200;
    // Addresses are the network-order bytes printed as a native-endian number.
    let address = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let &[device, destination, _, flags, _, _, _, mask, ..] = fields.as_slice() else {
                return None;
            };
            let flags = u16::from_str_radix(flags, 16).ok()?;
            (flags & REJECT == 0).then_some(())?;
            Some(HostRoute {
                destination: Ipv4Addr::from(address(destination)?),
                prefix: u32::from_ne_bytes(address(mask)?).count_ones() as u8,
                device: device.to_owned(),
            })
        })
        .collect()
}

/// Whether the host port of `binding` can be bound by a process; `Err` names who holds it.
pub fn check_port_free(binding: &PortBinding) -> Result<(), NetError> {
    let address = (binding.host_ip, binding.host_port);
    let result = match binding.protocol {
        Protocol::Tcp => TcpListener::bind(address).map(drop),
        Protocol::Udp => UdpSocket::bind(address).map(drop),
    };
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AddrInUse => Err(NetError::PortInUse {
            port: binding.host_side(),
            holder: port_holder(binding.protocol, binding.host_port)
                .unwrap_or_else(|| "another process".to_owned()),
        }),
        Err(error) => Err(NetError::HostBind {
            port: binding.host_side(),
            source: error,
        }),
    }
}

/// A free port chosen by the kernel for `protocol` on `ip`.
pub(crate) fn ephemeral_port(protocol: Protocol, ip: Ipv4Addr) -> io::Result<u16> {
    match protocol {
        Protocol::Tcp => TcpListener::bind((ip, 0))?.local_addr(),
        Protocol::Udp => UdpSocket::bind((ip, 0))?.local_addr(),
    }
    .map(|address| address.port())
}

/// `process 1234 (python3)` for the process with a socket bound to `port`, if found.
fn port_holder(protocol: Protocol, port: u16) -> Option<String> {
    let table = fs::read_to_string(format!("/proc/thread-self/net/{}", protocol.as_str())).ok()?;
    let inode = socket_inode(&table, port)?;
    let target = format!("socket:[{inode}]");
    for process in fs::read_dir("/proc").ok()?.flatten() {
        let name = process.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == target.as_str())
        });
        if holds {
            let command = fs::read_to_string(process.path().join("comm")).unwrap_or_default();
            return Some(format!("process {pid} ({})", command.trim()));
        }
    }
    None
}

/// The inode of the first socket in a `/proc/net/{tcp,udp}` table bound to local `port`.
fn socket_inode(table: &str, port: u16) -> Option<u64> {
    let wanted = format!("{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local_port = fields.get(1)?.rsplit_once(':')?.1;
        if local_port != wanted {
            return None;
        }
        fields.get(9)?.parse().ok().filter(|&inode| inode != 0)
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn reads_the_main_tables_routes() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            wh-abc\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            *\t0000A8C0\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let routes = parse_routes(text);
        let shown: Vec<String> = routes
            .iter()
            .map(|r| format!("{}/{} {}", r.destination, r.prefix, r.device))
            .collect();
        assert_eq!(
            shown,
            ["0.0.0.0/0 eth0", "10.0.0.0/24 eth0", "172.17.0.0/16 wh-abc"]
        );
    }

    use super::*;

    #[test]
    fn finds_the_socket_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0";
        assert_eq!(socket_inode(table, 8080), Some(4242));
        assert_eq!(socket_inode(table, 80), Some(77));
        assert_eq!(socket_inode(table, 81), None);
    }

    #[test]
    fn names_the_holder_of_a_port() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let binding = PortBinding {
            protocol: Protocol::Tcp,
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: port,
            container_port: 80,
        };
        let error = check_port_free(&binding).unwrap_err().to_string();
        let pid = std::process::id();
        assert!(
            error.starts_with(&format!(
                "port 127.0.0.1:{port}/tcp is already in use on the host by process {pid} ("
            )),
            "{error}"
        );
    }
}
