//! Debian's real `docker-registry` (the CNCF distribution server) on a free loopback port,
//! with or without htpasswd credentials.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A registry on a free loopback port, stopped when dropped.
pub struct Registry {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// `None` (after a SKIPPED line) when docker-registry is not installed.
    pub fn start(htpasswd: Option<(&str, &str)>) -> Option<Self> {
        let binary = Path::new("/usr/bin/docker-registry");
        if !binary.exists() {
            super::skip("docker-registry is not installed (scripts/install-deps.sh installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut auth = String::new();
        if let Some((user, password)) = htpasswd {
            let output = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd runs");
            std::fs::write(dir.path().join("htpasswd"), output.stdout).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            );
        }
        let config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\nlog:\n  level: error\n{auth}",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            address,
            _dir: dir,
        })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
