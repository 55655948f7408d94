//! A small synchronous rtnetlink client: one request at a time, each acknowledged.
//!
//! A netlink socket stays in the network namespace it was created in, so a socket for a
//! container is made by entering its namespace on this thread, creating the socket and
//! returning at once ([`Netlink::open_in`]); no thread is spawned.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

/// The loopback interface's index in every network namespace.
const LOOPBACK_INDEX: u32 = 1;
/// How often [`wait_unlisted`] looks: an unlisting takes a millisecond or two.
const UNLISTED_POLL: Duration = Duration::from_micros(500);

pub(crate) struct Netlink {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

/// A link as listed by [`Netlink::links`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    /// The bridge (or other controller) it is attached to.
    pub master: Option<u32>,
    /// Its interface group (0 unless set).
    pub group: u32,
}

impl Netlink {
    /// A socket in this thread's network namespace.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink {
            socket,
            sequence: 0,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// A socket in the namespace `netns`; this thread enters it and comes back.
    pub fn open_in(netns: BorrowedFd<'_>) -> io::Result<Self> {
        let home = File::open("/proc/thread-self/ns/net")?;
        move_into_link_name_space(netns, Some(LinkNameSpaceType::Network))?;
        let socket = Netlink::open();
        move_into_link_name_space(home.as_fd(), Some(LinkNameSpaceType::Network)).map_err(
            |error| {
                io::Error::other(format!(
                    "cannot return to this thread's network namespace: {error}"
                ))
            },
        )?;
        socket
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        Ok(self.sequence)
    }

    /// Receives the answers to request `sequence`, handing each message to `on_message`,
    /// until its acknowledgement (or, for a dump, its end). A dump skips entries that this
    /// library cannot decode rather than failing on an exotic interface.
    fn receive(
        &mut self,
        sequence: u32,
        mut on_message: impl FnMut(RouteNetlinkMessage),
        dump: bool,
    ) -> io::Result<()> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        loop {
            let size = self.socket.recv(&mut &mut self.buffer[..], 0)?;
            let mut offset = 0;
            while offset < size {
                let bytes = &self.buffer[offset..size];
                let frame =
                    NetlinkBuffer::new_checked(bytes).map_err(|e| invalid(e.to_string()))?;
                let length = frame.length() as usize;
                let matches = frame.sequence_number() == sequence;
                // Messages are padded to 4 bytes.
                offset += (length + 3) & !3;
                if !matches {
                    continue;
                }
                let packet =
                    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes[..length]) {
                        Ok(packet) => packet,
                        Err(_) if dump => continue,
                        Err(error) => return Err(invalid(error.to_string())),
                    };
                match packet.payload {
                    NetlinkPayload::Error(error) if error.code.is_some() => {
                        return Err(error.to_io());
                    }
                    // The acknowledgement that ends a request.
                    NetlinkPayload::Error(_) => return Ok(()),
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::InnerMessage(message) => {
                        on_message(message);
                        if !dump {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a change and waits for its acknowledgement.
    fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        let sequence = self.send(message, flags | NLM_F_ACK)?;
        self.receive(sequence, |_| {}, false)
    }

    fn dump(&mut self, message: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let sequence = self.send(message, NLM_F_DUMP)?;
        let mut messages = Vec::new();
        self.receive(sequence, |message| messages.push(message), true)?;
        Ok(messages)
    }

    /// The index of interface `name`, if it exists.
    pub fn link_index(&mut self, name: &str) -> io::Result<Option<u32>> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_owned()));
        let sequence = self.send(RouteNetlinkMessage::GetLink(message), 0)?;
        let mut index = None;
        match self.receive(
            sequence,
            |reply| {
                if let RouteNetlinkMessage::NewLink(link) = reply {
                    index = Some(link.header.index);
                }
            },
            false,
        ) {
            Ok(()) => Ok(index),
            Err(error) if error.raw_os_error() == Some(rustix::io::Errno::NODEV.raw_os_error()) => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Whether interface `name` can send: the kernel gives a device that comes up its
    /// queueing discipline only once its asynchronous link watch has seen the carrier (the
    /// `linkwatch` work, later under load); until then it has `noop`, which drops every
    /// packet.
    pub fn transmits(&mut self, name: &str) -> io::Result<bool> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_owned()));
        let sequence = self.send(RouteNetlinkMessage::GetLink(message), 0)?;
        let mut transmits = false;
        self.receive(
            sequence,
            |reply| {
                if let RouteNetlinkMessage::NewLink(link) = reply {
                    transmits = link.attributes.iter().any(|attribute| {
                        matches!(attribute, LinkAttribute::Qdisc(qdisc) if qdisc != "noop")
                    });
                }
            },
            false,
        )?;
        Ok(transmits)
    }

    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let replies = self.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        Ok(replies
            .into_iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => Some(link),
                _ => None,
            })
            .map(|link| {
                let mut name = String::new();
                let mut kind = None;
                let mut master = None;
                let mut group = 0;
                for attribute in link.attributes {
                    match attribute {
                        LinkAttribute::IfName(value) => name = value,
                        LinkAttribute::Group(value) => group = value,
                        LinkAttribute::Controller(index) => master = Some(index),
                        LinkAttribute::LinkInfo(infos) => {
                            kind = infos.into_iter().find_map(|info| match info {
                                LinkInfo::Kind(kind) => Some(kind.to_string()),
                                _ => None,
                            })
                        }
                        _ => {}
                    }
                }
                Link {
                    index: link.header.index,
                    name,
                    kind,
                    master,
                    group,
                }
            })
            .collect())
    }

    /// Creates bridge `name`, up, in interface group `group`.
    ///
    /// Its MAC is `mac`, given at creation: a bridge whose MAC was never set takes the lowest
    /// MAC of its ports, so it would change when a container with a lower one joins, and the
    /// containers' ARP entries of the gateway would point nowhere for seconds (replies to
    /// the gateway lost: the first connection through a published port timed out now and
    /// then). Docker gives its bridges a MAC of their own for the same reason.
    pub fn add_bridge(&mut self, name: &str, group: u32, mac: [u8; 6]) -> io::Result<u32> {
        let mut message = LinkMessage::default();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        message.attributes = vec![
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::Group(group),
            LinkAttribute::Address(mac.to_vec()),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.link_index(name)?
            .ok_or_else(|| io::Error::other(format!("bridge {name} vanished after creation")))
    }

    /// Creates a veth pair: `host` attached to bridge `master`, up and in interface group
    /// `group`, its peer named `peer` with MAC `peer_mac` in the namespace `peer_netns`.
    pub fn add_veth(
        &mut self,
        host: &str,
        master: u32,
        group: u32,
        peer: &str,
        peer_mac: [u8; 6],
        peer_netns: BorrowedFd<'_>,
    ) -> io::Result<()> {
        let mut peer_message = LinkMessage::default();
        peer_message.attributes = vec![
            LinkAttribute::IfName(peer.to_owned()),
            LinkAttribute::Address(peer_mac.to_vec()),
            LinkAttribute::NetNsFd(peer_netns.as_raw_fd()),
        ];
        let mut message = LinkMessage::default();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        message.attributes = vec![
            LinkAttribute::IfName(host.to_owned()),
            LinkAttribute::Controller(master),
            LinkAttribute::Group(group),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
            ]),
        ];
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(message), 0)
    }

    pub fn set_loopback_up(&mut self) -> io::Result<()> {
        self.set_up(LOOPBACK_INDEX)
    }

    /// Deletes interface `index`; one already gone is no error.
    pub fn delete_link(&mut self, index: u32) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        match self.request(RouteNetlinkMessage::DelLink(message), 0) {
            Err(error) if error.raw_os_error() == Some(rustix::io::Errno::NODEV.raw_os_error()) => {
                Ok(())
            }
            other => other,
        }
    }

    /// Deletes the interfaces `indexes` with one request, so that the kernel unlists them
    /// all at once and waits for its grace periods once for the batch, instead of each
    /// deletion waiting for the previous one's (a bridge's own `rcu_barrier` is still paid
    /// once per bridge, after the unlisting): they are moved to the interface group `group`,
    /// which must hold nothing but interfaces bound to go, and the group is deleted.
    pub fn delete_links(&mut self, indexes: &[u32], group: u32) -> io::Result<()> {
        if let [index] = indexes {
            return self.delete_link(*index);
        }
        if indexes.is_empty() {
            return Ok(());
        }
        let mut in_group = || {
            for index in indexes {
                let mut message = LinkMessage::default();
                message.header.index = *index;
                message.attributes = vec![LinkAttribute::Group(group)];
                self.request(RouteNetlinkMessage::SetLink(message), 0)?;
            }
            let mut message = LinkMessage::default();
            message.attributes = vec![LinkAttribute::Group(group)];
            self.request(RouteNetlinkMessage::DelLink(message), 0)
        };
        // One at a time if that failed (another process deleted the group first, say).
        if in_group().is_err() {
            for index in indexes {
                self.delete_link(*index)?;
            }
        }
        Ok(())
    }

    /// Adds `ip/prefix` (with its broadcast address) to interface `index`.
    pub fn add_address(
        &mut self,
        index: u32,
        ip: Ipv4Addr,
        prefix: u8,
        broadcast: Ipv4Addr,
    ) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix;
        message.header.index = index;
        message.attributes = vec![
            AddressAttribute::Local(ip.into()),
            AddressAttribute::Address(ip.into()),
            AddressAttribute::Broadcast(broadcast),
        ];
        self.request(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }
}

/// Waits until none of `links` (an index and the name it had) is listed in this thread's
/// network namespace any more, or `deadline` has come; returns those still listed. A
/// name that now belongs to another index (a restarted container's veth, made anew) counts
/// as gone.
///
/// Looks each name up with the `SIOCGIFINDEX` ioctl, which reads the kernel's list of
/// interfaces under RCU. An rtnetlink request would not do: a deletion unlists its
/// interfaces as soon as it holds the rtnl lock, but keeps that lock while it waits for the
/// machine's pending RCU callbacks (a bridge waits for a whole `rcu_barrier`, 15-40 ms
/// here, in `br_multicast_dev_del`), and only then sends its notifications; every request
/// and every event would come that late.
pub(crate) fn wait_unlisted(
    links: &[(u32, String)],
    deadline: Instant,
) -> io::Result<Vec<(u32, String)>> {
    let socket = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::DGRAM,
        None,
    )?;
    let listed = |(index, name): &(u32, String)| match rustix::net::netdevice::name_to_index(
        &socket, name,
    ) {
        Ok(found) => Ok(found == *index),
        Err(rustix::io::Errno::NODEV) => Ok(false),
        Err(error) => Err(io::Error::from(error)),
    };
    let mut left = links.to_vec();
    loop {
        let mut still = Vec::new();
        for link in left {
            if listed(&link)? {
                still.push(link);
            }
        }
        left = still;
        if left.is_empty() || Instant::now() >= deadline {
            return Ok(left);
        }
        std::thread::sleep(UNLISTED_POLL);
    }
}
