//! Network namespaces that play the host, containers and an outside machine, and tiny
//! TCP/UDP servers and clients in them. Every namespace is made by the test (`ip netns
//! add`) and deleted by a guard's `Drop`, so nothing reaches the real host: the library
//! runs with this thread inside the test's "host" namespace, and all traffic goes to
//! addresses inside these namespaces.

#![allow(dead_code, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
use wharf_net::{Attach, HostScope, Netns, Networks};

/// How long a client waits for an answer; a blocked path fails after this.
pub const TIMEOUT: Duration = Duration::from_millis(700);

/// The outside machine's address, and the host's on the link to it.
pub const OUTSIDE_IP: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 2);
pub const HOST_OUTSIDE_IP: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 1);

/// Why these tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("needs root (CAP_NET_ADMIN)".to_owned());
    }
    for (tool, package) in [("nft", "nftables"), ("ip", "iproute2")] {
        let found = Command::new(tool)
            .arg("-V")
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            return Some(format!("`{tool}` is missing (apt-get install {package})"));
        }
    }
    None
}

/// Returns from the test with `SKIPPED: <why>` on stderr when it cannot run.
#[macro_export]
macro_rules! skip_unless_capable {
    () => {
        if let Some(reason) = support::skip_reason() {
            eprintln!("SKIPPED: {reason}");
            return;
        }
    };
}

pub fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn ip_output(args: &[&str]) -> String {
    let output = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A named network namespace, deleted on drop.
#[derive(Debug)]
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new(role: &str) -> Ns {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "wnt{}-{}{}",
            std::process::id(),
            role,
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        Ns { name }
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    pub fn netns(&self) -> Netns {
        Netns::Path(self.path())
    }

    /// Runs `f` with this thread in the namespace, then comes back; sockets made by `f`
    /// stay in the namespace.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let target = File::open(self.path()).expect("open netns");
        move_into_link_name_space(target.as_fd(), Some(LinkNameSpaceType::Network))
            .expect("enter netns");
        let result = f();
        move_into_link_name_space(home.as_fd(), Some(LinkNameSpaceType::Network))
            .expect("leave netns");
        result
    }

    /// `ip -n <ns> args...`
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        ip(&all);
    }

    pub fn ip_output(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        ip_output(&all)
    }

    /// The nftables table `ip wharf` (the main root's) as `nft` lists it, or `None` if there
    /// is none.
    pub fn nft_table(&self) -> Option<String> {
        self.nft_table_named("wharf")
    }

    /// The nftables table `ip <table>` as `nft` lists it, or `None` if there is none.
    pub fn nft_table_named(&self, table: &str) -> Option<String> {
        let output = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "nft", "list", "table", "ip", table,
            ])
            .output()
            .expect("run nft");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let status = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("warning: could not delete network namespace {}", self.name);
        }
    }
}

/// A test world: a "host" namespace that this thread lives in while the test runs, an
/// "outside" machine linked to it (with a default route through the host), and a network
/// state directory.
pub struct World {
    pub networks: Networks,
    pub scope: HostScope,
    pub host: Ns,
    pub outside: Ns,
    _state: tempfile::TempDir,
    home: File,
}

impl World {
    pub fn new() -> World {
        let host = Ns::new("host");
        let outside = Ns::new("out");
        host.ip(&["link", "set", "lo", "up"]);
        host.ip(&[
            "link",
            "add",
            "out0",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &outside.name,
        ]);
        host.ip(&[
            "addr",
            "add",
            &format!("{HOST_OUTSIDE_IP}/24"),
            "dev",
            "out0",
        ]);
        host.ip(&["link", "set", "out0", "up"]);
        outside.ip(&["link", "set", "lo", "up"]);
        outside.ip(&["addr", "add", &format!("{OUTSIDE_IP}/24"), "dev", "eth0"]);
        outside.ip(&["link", "set", "eth0", "up"]);
        outside.ip(&[
            "route",
            "add",
            "default",
            "via",
            &HOST_OUTSIDE_IP.to_string(),
        ]);

        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let target = File::open(host.path()).expect("open host netns");
        move_into_link_name_space(target.as_fd(), Some(LinkNameSpaceType::Network))
            .expect("enter host netns");
        let state = tempfile::tempdir().expect("temp dir");
        let scope = HostScope::for_root(state.path(), true);
        let networks = Networks::open(
            &state.path().join("networks"),
            &state.path().join("leases"),
            scope.clone(),
        )
        .expect("open networks");
        World {
            networks,
            scope,
            host,
            outside,
            _state: state,
            home,
        }
    }

    /// A container namespace attached to `network` with `configure` applied to the request.
    pub fn container(
        &self,
        network: &str,
        id: &str,
        configure: impl FnOnce(&mut Attach),
    ) -> Result<(Ns, wharf_net::Endpoint), (Ns, wharf_net::NetError)> {
        let ns = Ns::new("c");
        let mut attach = Attach::new(network, id, ns.netns());
        configure(&mut attach);
        match self.networks.connect(&attach) {
            Ok(endpoint) => Ok((ns, endpoint)),
            Err(error) => Err((ns, error)),
        }
    }

    /// Host interfaces whose names wharf uses.
    pub fn wharf_links(&self) -> Vec<String> {
        self.host
            .ip_output(&["-o", "link", "show"])
            .lines()
            .filter_map(|line| line.split(": ").nth(1))
            .map(|name| name.split('@').next().unwrap_or(name).to_owned())
            .filter(|name| name.starts_with("wv") || name.starts_with("wh-") || name == "wharf0")
            .collect()
    }

    pub fn state_files(&self) -> Vec<String> {
        std::fs::read_dir(self.networks.dir())
            .expect("read state dir")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // Back to the namespace the test started in before the guards delete theirs.
        let _ = move_into_link_name_space(self.home.as_fd(), Some(LinkNameSpaceType::Network));
    }
}

/// A TCP server in `ns` on `port` that answers each connection with `<name> <peer ip>`.
pub fn tcp_server(ns: &Ns, port: u16, name: &str) {
    tcp_server_on(ns, Ipv4Addr::UNSPECIFIED, port, name);
}

/// [`tcp_server`] bound to `ip` only.
pub fn tcp_server_on(ns: &Ns, ip: Ipv4Addr, port: u16, name: &str) {
    let listener = ns
        .run(|| TcpListener::bind((ip, port)))
        .expect("bind tcp server");
    let name = name.to_owned();
    thread::spawn(move || {
        for stream in listener.incoming().take(64).flatten() {
            let peer = stream
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            let _ = (&stream).write_all(format!("{name} {peer}").as_bytes());
        }
    });
}

/// A UDP server in `ns` on `port` that answers each datagram with `<name> <peer ip>`.
pub fn udp_server(ns: &Ns, port: u16, name: &str) {
    let socket = ns
        .run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)))
        .expect("bind udp server");
    let name = name.to_owned();
    thread::spawn(move || {
        let mut buffer = [0u8; 64];
        for _ in 0..64 {
            let Ok((_, peer)) = socket.recv_from(&mut buffer) else {
                return;
            };
            let _ = socket.send_to(format!("{name} {}", peer.ip()).as_bytes(), peer);
        }
    });
}

/// Connects from `ns` to `ip:port` and returns the server's answer.
pub fn tcp_hello(ns: &Ns, ip: Ipv4Addr, port: u16) -> io::Result<String> {
    let mut stream =
        ns.run(|| TcpStream::connect_timeout(&SocketAddr::from((ip, port)), TIMEOUT))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Sends a datagram from `ns` to `ip:port` and returns the server's answer.
pub fn udp_hello(ns: &Ns, ip: Ipv4Addr, port: u16) -> io::Result<String> {
    let socket = ns.run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)))?;
    socket.set_read_timeout(Some(TIMEOUT))?;
    socket.send_to(b"hello", (ip, port))?;
    let mut buffer = [0u8; 64];
    let (size, _) = socket.recv_from(&mut buffer)?;
    Ok(String::from_utf8_lossy(&buffer[..size]).into_owned())
}

/// Kills process `pid` on drop.
/// A process alone in a new network namespace, like a created container's init; killed,
/// and its namespace gone with it, by [`NetnsProcess::end`] or on drop.
pub struct NetnsProcess {
    child: std::process::Child,
}

impl NetnsProcess {
    pub fn spawn() -> NetnsProcess {
        let child = Command::new("unshare")
            .args(["--net", "--", "sleep", "60"])
            .spawn()
            .expect("run unshare");
        let process = NetnsProcess { child };
        let own = std::fs::read_link("/proc/thread-self/ns/net").expect("own netns");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{}/ns/net", process.pid()))
            .is_ok_and(|ns| ns == own)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "unshare did not make a namespace"
            );
            thread::sleep(Duration::from_millis(5));
        }
        process
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pid fits i32")
    }

    /// Kills the process and reaps it, as a container's end.
    pub fn end(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NetnsProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A DNS query for `name` (type A) from `ns` to `server`, over UDP or TCP; returns the A
/// records of the answer.
pub fn dns_query(ns: &Ns, server: Ipv4Addr, name: &str, tcp: bool) -> io::Result<Vec<Ipv4Addr>> {
    let mut query = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        query.push(u8::try_from(label.len()).expect("short label"));
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    let reply = if tcp {
        let mut stream =
            ns.run(|| TcpStream::connect_timeout(&SocketAddr::from((server, 53)), TIMEOUT))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        let length = u16::try_from(query.len()).expect("short query");
        stream.write_all(&[&length.to_be_bytes()[..], &query].concat())?;
        let mut length = [0u8; 2];
        stream.read_exact(&mut length)?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut reply)?;
        reply
    } else {
        let socket = ns.run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)))?;
        socket.set_read_timeout(Some(TIMEOUT))?;
        socket.send_to(&query, (server, 53))?;
        let mut reply = vec![0u8; 1500];
        let size = socket.recv(&mut reply)?;
        reply.truncate(size);
        reply
    };
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "bad DNS reply");
    if reply.get(..2) != Some(&[0xab, 0xcd][..]) {
        return Err(invalid());
    }
    let answers = u16::from_be_bytes([reply[6], reply[7]]);
    let mut at = query.len();
    let mut addresses = Vec::new();
    for _ in 0..answers {
        // Names in answers: a pointer, or labels.
        if reply.get(at).ok_or_else(invalid)? & 0xc0 == 0xc0 {
            at += 2;
        } else {
            while *reply.get(at).ok_or_else(invalid)? != 0 {
                at += 1 + usize::from(reply[at]);
            }
            at += 1;
        }
        let field = |offset: usize| -> io::Result<u16> {
            let bytes = reply
                .get(at + offset..at + offset + 2)
                .ok_or_else(invalid)?;
            Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
        };
        let (kind, length) = (field(0)?, usize::from(field(8)?));
        let data = reply.get(at + 10..at + 10 + length).ok_or_else(invalid)?;
        if kind == 1 && length == 4 {
            addresses.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        at += 10 + length;
    }
    Ok(addresses)
}

/// A fake upstream resolver in `ns` on port 53 (UDP and TCP) that answers every query with
/// one A record, `address`.
pub fn fake_upstream(ns: &Ns, address: Ipv4Addr) {
    fn answer(query: &[u8], address: Ipv4Addr) -> Vec<u8> {
        let mut reply = query.to_vec();
        reply[2] = 0x81;
        reply[3] = 0x80;
        reply[6..8].copy_from_slice(&[0, 1]);
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        reply.extend_from_slice(&address.octets());
        reply
    }
    let udp = ns
        .run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 53)))
        .expect("bind fake upstream");
    thread::spawn(move || {
        let mut buffer = [0u8; 512];
        for _ in 0..64 {
            let Ok((size, peer)) = udp.recv_from(&mut buffer) else {
                return;
            };
            let _ = udp.send_to(&answer(&buffer[..size], address), peer);
        }
    });
    let tcp = ns
        .run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, 53)))
        .expect("bind fake upstream");
    thread::spawn(move || {
        for mut stream in tcp.incoming().take(64).flatten() {
            let mut length = [0u8; 2];
            if stream.read_exact(&mut length).is_err() {
                continue;
            }
            let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
            if stream.read_exact(&mut query).is_err() {
                continue;
            }
            let reply = answer(&query, address);
            let length = u16::try_from(reply.len()).expect("short reply");
            let _ = stream.write_all(&[&length.to_be_bytes()[..], &reply].concat());
        }
    });
}
