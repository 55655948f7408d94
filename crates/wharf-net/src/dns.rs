//! Name resolution for a user network, like Docker's embedded DNS: a responder on the
//! network's gateway address (port 53, UDP and TCP) that answers the names, aliases and
//! short ids of the network's containers, and forwards other names to the host's resolvers
//! (internal networks answer their own names only).
//!
//! wharf has no daemon: the engine runs [`DnsServer::serve`] in a small process of its own
//! per network, started when the first container connects (the bridge and its gateway
//! address exist from then on); it returns once the network is gone or has had no
//! endpoints for the given idle time. Names are read from the network's state file for
//! each query, so a container is resolvable as soon as `connect` returns.
//!
//! Only the small subset of the wire format that this needs is implemented here: standard
//! queries with one question, answered with A records (TTL 600, like Docker); other record
//! types for a container name get an empty answer. Everything else is relayed unchanged.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::error::NetError;
use crate::model::Network;
use crate::networks::Networks;

/// How long an upstream resolver gets to answer, and a TCP client to send its query.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
const TCP_IDLE: Duration = Duration::from_secs(5);
/// Forwarded queries (and TCP connections) in flight at once; more are refused.
const MAX_IN_FLIGHT: usize = 64;
/// Docker's TTL for container records.
const TTL: u32 = 600;

const TYPE_A: u16 = 1;
const TYPE_ANY: u16 = 255;
const CLASS_IN: u16 = 1;
const RCODE_FORMERR: u16 = 1;
const RCODE_SERVFAIL: u16 = 2;
const RCODE_NOTIMP: u16 = 4;
const RCODE_REFUSED: u16 = 5;

/// The resolver of one network, bound to its gateway address.
#[derive(Debug)]
pub struct DnsServer {
    networks: Networks,
    network_id: String,
    internal: bool,
    upstreams: Arc<Vec<SocketAddr>>,
    udp: UdpSocket,
    tcp: TcpListener,
    in_flight: Arc<AtomicUsize>,
}

impl DnsServer {
    /// Binds `<gateway>:53` of `network` (UDP and TCP) in this thread's network namespace.
    /// The network's bridge must exist (after its first `connect`).
    pub fn bind(
        networks: &Networks,
        network: &str,
        upstreams: Vec<SocketAddr>,
    ) -> Result<DnsServer, NetError> {
        let network = networks.inspect(network)?;
        let address = SocketAddr::from((network.gateway, 53));
        let bind_error = |source| NetError::DnsBind {
            address,
            network: network.name.clone(),
            source,
        };
        let udp = UdpSocket::bind(address).map_err(bind_error)?;
        let tcp = TcpListener::bind(address).map_err(bind_error)?;
        Ok(DnsServer {
            networks: networks.clone(),
            network_id: network.id,
            internal: network.internal,
            upstreams: Arc::new(upstreams),
            udp,
            tcp,
            in_flight: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn address(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// Answers queries until the network is removed, or has had no endpoints for `idle`.
    pub fn serve(&self, idle: Duration) -> Result<(), NetError> {
        let serve_error = |source: io::Error| NetError::Dns {
            network: self.network_id.clone(),
            source,
        };
        let mut empty_since: Option<Instant> = None;
        let mut packet = vec![0u8; 4096];
        loop {
            let (udp_ready, tcp_ready) = {
                let mut fds = [
                    PollFd::new(&self.udp, PollFlags::IN),
                    PollFd::new(&self.tcp, PollFlags::IN),
                ];
                let second = Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                };
                match poll(&mut fds, Some(&second)) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => return Err(serve_error(error.into())),
                }
                (!fds[0].revents().is_empty(), !fds[1].revents().is_empty())
            };
            if udp_ready {
                match self.udp.recv_from(&mut packet) {
                    Ok((size, client)) => self.on_udp(&packet[..size], client),
                    Err(error) if is_transient(&error) => {}
                    Err(error) => return Err(serve_error(error)),
                }
            }
            if tcp_ready {
                match self.tcp.accept() {
                    Ok((stream, _)) => self.on_tcp(stream),
                    Err(error) if is_transient(&error) => {}
                    Err(error) => return Err(serve_error(error)),
                }
            }
            match self.network() {
                None => return Ok(()),
                Some(network) if network.endpoints.is_empty() => {
                    let since = *empty_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= idle {
                        return Ok(());
                    }
                }
                Some(_) => empty_since = None,
            }
        }
    }

    /// The network's current state; `None` once it is removed (or unreadable).
    fn network(&self) -> Option<Network> {
        self.networks.inspect(&self.network_id).ok()
    }

    fn on_udp(&self, packet: &[u8], client: SocketAddr) {
        let reply = match self.local_reply(packet) {
            Reply::Local(reply) => reply,
            Reply::Drop => return,
            Reply::Forward(query) => {
                let Some(slot) = Slot::take(&self.in_flight) else {
                    let _ = self
                        .udp
                        .send_to(&error_reply(&query, RCODE_SERVFAIL), client);
                    return;
                };
                let (Ok(socket), upstreams) = (self.udp.try_clone(), self.upstreams.clone()) else {
                    return;
                };
                thread::spawn(move || {
                    let _slot = slot;
                    let reply = forward_udp(&upstreams, &query.packet)
                        .unwrap_or_else(|| error_reply(&query, RCODE_SERVFAIL));
                    let _ = socket.send_to(&reply, client);
                });
                return;
            }
        };
        let _ = self.udp.send_to(&reply, client);
    }

    fn on_tcp(&self, stream: TcpStream) {
        let Some(slot) = Slot::take(&self.in_flight) else {
            return;
        };
        let server = TcpContext {
            networks: self.networks.clone(),
            network_id: self.network_id.clone(),
            internal: self.internal,
            upstreams: self.upstreams.clone(),
        };
        thread::spawn(move || {
            let _slot = slot;
            let _ = server.serve(stream);
        });
    }

    fn local_reply(&self, packet: &[u8]) -> Reply {
        decide(packet, self.internal, || self.network())
    }
}

/// What a TCP connection's thread needs of the server.
struct TcpContext {
    networks: Networks,
    network_id: String,
    internal: bool,
    upstreams: Arc<Vec<SocketAddr>>,
}

impl TcpContext {
    fn serve(&self, mut stream: TcpStream) -> io::Result<()> {
        stream.set_read_timeout(Some(TCP_IDLE))?;
        stream.set_write_timeout(Some(TCP_IDLE))?;
        while let Some(packet) = read_framed(&mut stream)? {
            let network = || self.networks.inspect(&self.network_id).ok();
            let reply = match decide(&packet, self.internal, network) {
                Reply::Local(reply) => reply,
                Reply::Drop => return Ok(()),
                Reply::Forward(query) => forward_tcp(&self.upstreams, &query.packet)
                    .unwrap_or_else(|| error_reply(&query, RCODE_SERVFAIL)),
            };
            write_framed(&mut stream, &reply)?;
        }
        Ok(())
    }
}

/// A place among the [`MAX_IN_FLIGHT`], given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(counter: &Arc<AtomicUsize>) -> Option<Slot> {
        let taken = counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_IN_FLIGHT).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| Slot(counter.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn is_transient(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionReset
    )
}

enum Reply {
    Local(Vec<u8>),
    Forward(Query),
    Drop,
}

/// Answers `packet` from the network's names, or says to forward it.
fn decide(packet: &[u8], internal: bool, network: impl FnOnce() -> Option<Network>) -> Reply {
    let query = match parse_query(packet) {
        Ok(query) => query,
        Err(Some(rcode)) => return Reply::Local(header_reply(packet, rcode)),
        Err(None) => return Reply::Drop,
    };
    let addresses = network()
        .map(|network| lookup(&network, &query.name))
        .unwrap_or_default();
    if !addresses.is_empty() {
        let records: &[Ipv4Addr] =
            if matches!(query.qtype, TYPE_A | TYPE_ANY) && query.qclass == CLASS_IN {
                &addresses
            } else {
                &[]
            };
        return Reply::Local(answer(&query, records));
    }
    if internal {
        return Reply::Local(error_reply(&query, RCODE_REFUSED));
    }
    Reply::Forward(query)
}

/// The addresses of the endpoints that answer to `name`: container name, alias, full id
/// or its first 12 characters; case-insensitive.
fn lookup(network: &Network, name: &str) -> Vec<Ipv4Addr> {
    let name = name.to_ascii_lowercase();
    network
        .endpoints
        .iter()
        .filter(|(id, endpoint)| {
            endpoint.container_name.eq_ignore_ascii_case(&name)
                || endpoint
                    .aliases
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(&name))
                || **id == name
                || (name.len() == 12 && id.starts_with(&name))
        })
        .map(|(_, endpoint)| endpoint.ip)
        .collect()
}

/// A parsed standard query.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Query {
    packet: Vec<u8>,
    id: u16,
    recursion_desired: bool,
    /// Lowercase, without the trailing dot.
    name: String,
    qtype: u16,
    qclass: u16,
    /// End of the question in `packet`.
    question_end: usize,
}

fn be16(packet: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]))
}

/// `Err(Some(rcode))` for a query to refuse with an error, `Err(None)` for one to drop.
fn parse_query(packet: &[u8]) -> Result<Query, Option<u16>> {
    let (Some(id), Some(flags), Some(questions)) =
        (be16(packet, 0), be16(packet, 2), be16(packet, 4))
    else {
        return Err(None);
    };
    if packet.len() < 12 || flags & 0x8000 != 0 {
        return Err(None);
    }
    if (flags >> 11) & 0xf != 0 {
        return Err(Some(RCODE_NOTIMP));
    }
    if questions != 1 {
        return Err(Some(RCODE_FORMERR));
    }
    let mut at = 12;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let length = usize::from(*packet.get(at).ok_or(Some(RCODE_FORMERR))?);
        at += 1;
        if length == 0 {
            break;
        }
        // Compression pointers (and the reserved 0x40/0x80 forms) do not occur in queries.
        if length > 63 {
            return Err(Some(RCODE_FORMERR));
        }
        let label = packet.get(at..at + length).ok_or(Some(RCODE_FORMERR))?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += length;
        if at - 12 > 255 {
            return Err(Some(RCODE_FORMERR));
        }
    }
    let qtype = be16(packet, at).ok_or(Some(RCODE_FORMERR))?;
    let qclass = be16(packet, at + 2).ok_or(Some(RCODE_FORMERR))?;
    Ok(Query {
        packet: packet.to_vec(),
        id,
        recursion_desired: flags & 0x0100 != 0,
        name: labels.join("."),
        qtype,
        qclass,
        question_end: at + 4,
    })
}

fn header(id: u16, recursion_desired: bool, authoritative: bool, rcode: u16) -> [u8; 4] {
    let mut flags = 0x8000 | 0x0080 | rcode;
    if authoritative {
        flags |= 0x0400;
    }
    if recursion_desired {
        flags |= 0x0100;
    }
    let [a, b] = id.to_be_bytes();
    let [c, d] = flags.to_be_bytes();
    [a, b, c, d]
}

/// An authoritative answer with `addresses` as A records.
fn answer(query: &Query, addresses: &[Ipv4Addr]) -> Vec<u8> {
    let mut reply = Vec::with_capacity(query.question_end + 16 * addresses.len());
    reply.extend_from_slice(&header(query.id, query.recursion_desired, true, 0));
    let count = u16::try_from(addresses.len()).unwrap_or(u16::MAX);
    for value in [1, count, 0, 0] {
        reply.extend_from_slice(&u16::to_be_bytes(value));
    }
    reply.extend_from_slice(&query.packet[12..query.question_end]);
    for ip in addresses.iter().take(usize::from(count)) {
        reply.extend_from_slice(&[0xc0, 0x0c]);
        reply.extend_from_slice(&TYPE_A.to_be_bytes());
        reply.extend_from_slice(&CLASS_IN.to_be_bytes());
        reply.extend_from_slice(&TTL.to_be_bytes());
        reply.extend_from_slice(&4u16.to_be_bytes());
        reply.extend_from_slice(&ip.octets());
    }
    reply
}

/// An error reply that repeats the question.
fn error_reply(query: &Query, rcode: u16) -> Vec<u8> {
    let mut reply = Vec::with_capacity(query.question_end);
    reply.extend_from_slice(&header(query.id, query.recursion_desired, false, rcode));
    for value in [1u16, 0, 0, 0] {
        reply.extend_from_slice(&value.to_be_bytes());
    }
    reply.extend_from_slice(&query.packet[12..query.question_end]);
    reply
}

/// An error reply with no question, for a query that could not be parsed.
fn header_reply(packet: &[u8], rcode: u16) -> Vec<u8> {
    let id = be16(packet, 0).unwrap_or(0);
    let mut reply = header(id, false, false, rcode).to_vec();
    reply.extend_from_slice(&[0; 8]);
    reply
}

fn forward_udp(upstreams: &[SocketAddr], packet: &[u8]) -> Option<Vec<u8>> {
    upstreams.iter().find_map(|upstream| {
        let local: SocketAddr = if upstream.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).ok()?;
        socket.connect(upstream).ok()?;
        socket.set_read_timeout(Some(UPSTREAM_TIMEOUT)).ok()?;
        socket.send(packet).ok()?;
        let mut reply = vec![0u8; 65535];
        let size = socket.recv(&mut reply).ok()?;
        reply.truncate(size);
        (reply.get(..2) == packet.get(..2)).then_some(reply)
    })
}

fn forward_tcp(upstreams: &[SocketAddr], packet: &[u8]) -> Option<Vec<u8>> {
    upstreams.iter().find_map(|upstream| {
        let mut stream = TcpStream::connect_timeout(upstream, UPSTREAM_TIMEOUT).ok()?;
        stream.set_read_timeout(Some(UPSTREAM_TIMEOUT)).ok()?;
        write_framed(&mut stream, packet).ok()?;
        read_framed(&mut stream).ok().flatten()
    })
}

/// One length-prefixed DNS message, or `None` at end of stream.
fn read_framed(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 2];
    match stream.read_exact(&mut length) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut message)?;
    Ok(Some(message))
}

fn write_framed(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let length = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "DNS message too long"))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed)
}

/// The `nameserver` entries of a resolv.conf, on port 53.
pub fn resolvers_from(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()?
                .split('%')
                .next()?
                .parse::<std::net::IpAddr>()
                .ok()
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Driver, Endpoint};

    /// A query for `name` of `qtype`, id 0x1234, recursion desired.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut packet = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.').filter(|l| !l.is_empty()) {
            packet.push(u8::try_from(label.len()).unwrap());
            packet.extend_from_slice(label.as_bytes());
        }
        packet.push(0);
        packet.extend_from_slice(&qtype.to_be_bytes());
        packet.extend_from_slice(&CLASS_IN.to_be_bytes());
        packet
    }

    fn network() -> Network {
        let subnet: crate::Subnet = "10.1.0.0/24".parse().unwrap();
        let endpoint = |name: &str, aliases: &[&str], last: u8| Endpoint {
            container_name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ip: Ipv4Addr::new(10, 1, 0, last),
            interface: "eth0".into(),
            veth: String::new(),
            ports: vec![],
        };
        let mut endpoints = BTreeMap::new();
        endpoints.insert("abcdef0123456789".into(), endpoint("web", &["www"], 2));
        endpoints.insert("0123456789abcdef".into(), endpoint("db", &["www"], 3));
        Network {
            name: "net".into(),
            id: "f".repeat(64),
            driver: Driver::Bridge,
            subnet,
            gateway: subnet.first_host(),
            internal: false,
            labels: BTreeMap::new(),
            bridge: "wh-ffffffffffff".into(),
            created: String::new(),
            endpoints,
        }
    }

    fn local(packet: &[u8], internal: bool) -> Vec<u8> {
        match decide(packet, internal, || Some(network())) {
            Reply::Local(reply) => reply,
            Reply::Forward(_) => panic!("forwarded"),
            Reply::Drop => panic!("dropped"),
        }
    }

    #[test]
    fn answers_names_aliases_and_ids() {
        let reply = local(&query("WEB.", TYPE_A), false);
        let question = query("WEB.", TYPE_A);
        assert_eq!(&reply[..4], &[0x12, 0x34, 0x85, 0x80]);
        assert_eq!(&reply[4..12], &[0, 1, 0, 1, 0, 0, 0, 0]);
        assert_eq!(&reply[12..question.len()], &question[12..]);
        assert_eq!(
            &reply[question.len()..],
            &[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 10, 1, 0, 2]
        );
        assert_eq!(lookup(&network(), "www").len(), 2);
        assert_eq!(
            lookup(&network(), "abcdef012345"),
            [Ipv4Addr::new(10, 1, 0, 2)]
        );
        assert_eq!(
            lookup(&network(), "abcdef0123456789"),
            [Ipv4Addr::new(10, 1, 0, 2)]
        );
        assert!(lookup(&network(), "abcdef").is_empty());
        // Other types for a container name: an empty answer, not a forward.
        let reply = local(&query("db", 28), false);
        assert_eq!(&reply[6..8], &[0, 0]);
    }

    #[test]
    fn forwards_or_refuses_other_names() {
        assert!(matches!(
            decide(&query("example.org", TYPE_A), false, || Some(network())),
            Reply::Forward(Query { ref name, .. }) if name == "example.org"
        ));
        let reply = local(&query("example.org", TYPE_A), true);
        assert_eq!(reply[3] & 0x0f, 5, "refused on internal networks");
    }

    #[test]
    fn rejects_malformed_queries() {
        assert!(matches!(decide(&[1, 2, 3], false, || None), Reply::Drop));
        let mut response = query("web", TYPE_A);
        response[2] |= 0x80;
        assert!(matches!(decide(&response, false, || None), Reply::Drop));
        let mut truncated = query("web", TYPE_A);
        truncated.truncate(truncated.len() - 3);
        assert_eq!(local(&truncated, false)[3] & 0x0f, 1);
        let mut pointer = query("web", TYPE_A);
        pointer[12] = 0xc0;
        assert_eq!(local(&pointer, false)[3] & 0x0f, 1);
        let mut two = query("web", TYPE_A);
        two[5] = 2;
        assert_eq!(local(&two, false)[3] & 0x0f, 1);
        let mut notify = query("web", TYPE_A);
        notify[2] = 0x20;
        assert_eq!(local(&notify, false)[3] & 0x0f, 4);
        let long = format!("{}.x", "a".repeat(64));
        assert_eq!(local(&query(&long, TYPE_A), false)[3] & 0x0f, 1);
    }

    #[test]
    fn reads_resolv_conf() {
        let conf =
            "# comment\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nsearch x\nnameserver bad\n";
        assert_eq!(
            resolvers_from(conf),
            [
                "127.0.0.53:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
    }
}
