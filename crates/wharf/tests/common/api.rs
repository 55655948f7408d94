//! A `wharf system service` of a test's own root, and the clients that talk to it: raw HTTP
//! and Debian's docker CLI.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::Wharf;

/// Debian's `docker.io` client.
pub const DOCKER: &str = "/usr/bin/docker";

/// A running `wharf system service --time 0` on `<root>/api.sock`; stopped on drop.
pub struct Service {
    /// `None` for a service this test does not own (socket activation, idle exit).
    pub child: Option<Child>,
    pub socket: PathBuf,
}

impl Service {
    pub fn start(wharf: &Wharf) -> Self {
        let socket = wharf.path().join("api.sock");
        let uri = format!("unix://{}", socket.display());
        let child = wharf
            .command(&["system", "service", "--time", "0", &uri])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service starts");
        let service = Self {
            child: Some(child),
            socket,
        };
        service.await_listening();
        service
    }

    /// A service this test talks to but does not own.
    pub fn at(socket: PathBuf) -> Self {
        Self {
            child: None,
            socket,
        }
    }

    /// The socket answers once the service listens (bounded: a service that died fails).
    pub fn await_listening(&self) {
        for _ in 0..2000 {
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the service never listened on {}", self.socket.display());
    }

    /// Waits (bounded) until the service has no thread but its main one: every request
    /// answered, every stream ended.
    pub fn assert_idle(&self) {
        let pid = self.child.as_ref().expect("a service of ours").id();
        let threads = || {
            std::fs::read_dir(format!("/proc/{pid}/task"))
                .unwrap()
                .count()
        };
        for _ in 0..2000 {
            if threads() == 1 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the service still has {} threads", threads());
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// One raw request; the whole reply (the service closes after `Connection: close`).
    pub fn raw(&self, request: &[u8]) -> String {
        let mut stream = UnixStream::connect(&self.socket).expect("connect");
        stream.write_all(request).expect("send");
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    }

    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let reply = self.raw(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        status_and_body(&reply)
    }

    pub fn docker(&self, wharf: &Wharf, args: &[&str]) -> Output {
        wharf
            .host_command(DOCKER)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", wharf.path().join("docker-config"))
            // The classic builder's API (`POST /build`); BuildKit's session API is not served.
            .env("DOCKER_BUILDKIT", "0")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker runs")
    }

    pub fn docker_ok(&self, wharf: &Wharf, args: &[&str]) -> String {
        let output = self.docker(wharf, args);
        assert!(
            output.status.success(),
            "docker {args:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn status_and_body(reply: &str) -> (u16, String) {
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {reply:?}"));
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

pub fn message(body: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    value["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
        .to_string()
}

/// The busybox store and its service; `None`, said loudly, without root.
pub fn service_with_busybox() -> Option<(Wharf, Service)> {
    let wharf = super::wharf_with_busybox()?;
    let service = Service::start(&wharf);
    Some((wharf, service))
}

pub fn have_docker_cli() -> bool {
    if Path::new(DOCKER).exists() {
        return true;
    }
    super::skip("the docker CLI: /usr/bin/docker is missing (apt-get install docker.io)");
    false
}

/// The cache folder of docker-py and testcontainers-python, installed there by
/// `scripts/install-api-clients.sh`; `None`, said loudly, when PyPI cannot be reached.
pub fn api_clients() -> Option<PathBuf> {
    let script = super::repo_root().join("scripts/install-api-clients.sh");
    let output = Command::new(&script)
        .output()
        .expect("the install script runs");
    if !output.status.success() {
        super::skip(&format!(
            "the Python API clients could not be installed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
        return None;
    }
    let cache = String::from_utf8(output.stdout).expect("utf-8");
    Some(PathBuf::from(cache.trim()))
}

/// The busybox store and its service, for a test that drives the docker CLI; `None`, said
/// loudly, without the CLI or root.
pub fn cli_service_with_busybox() -> Option<(Wharf, Service)> {
    if !have_docker_cli() {
        return None;
    }
    service_with_busybox()
}
