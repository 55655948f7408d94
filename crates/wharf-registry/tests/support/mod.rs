//! A real registry (Debian's `docker-registry`, the CNCF distribution server) on a free
//! loopback port with a temporary storage folder, plus small images made on the spot.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tempfile::TempDir;
use wharf_oci::{media_type, Digest, Reference};
use wharf_registry::{BlobDownload, BlobUpload, Client, RegistrySettings};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// Tells the test runner's reader why a test did nothing, then lets the test return.
#[allow(clippy::print_stderr)] // a skipped test must say so where the runner shows it
pub fn skip(why: &str) {
    eprintln!("SKIPPED: {why}");
}

pub enum Auth {
    None,
    Htpasswd { user: String, password: String },
    Token { realm: String, cert: PathBuf },
}

pub struct Registry {
    child: Child,
    pub dir: TempDir,
    /// `127.0.0.1:<port>`.
    pub host: String,
}

impl Registry {
    /// Starts a registry, or says why it cannot and returns `None`.
    pub fn start(auth: Auth, tls: Option<(&Path, &Path)>) -> Option<Registry> {
        if !Path::new(REGISTRY_BIN).exists() {
            skip("docker-registry is not installed (apt-get install docker-registry)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n  secret: wharf-test\n",
            dir.path().join("storage").display()
        );
        if let Some((cert, key)) = tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        match auth {
            Auth::None => {}
            Auth::Htpasswd { user, password } => {
                let file = dir.path().join("htpasswd");
                let status = Command::new("htpasswd")
                    .args(["-Bbc"])
                    .arg(&file)
                    .args([&user, &password])
                    .stderr(Stdio::null())
                    .status();
                if !status.is_ok_and(|s| s.success()) {
                    skip("htpasswd is not installed (apt-get install apache2-utils)");
                    return None;
                }
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: wharf-test\n    path: {}\n",
                    file.display()
                ));
            }
            Auth::Token { realm, cert } => config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: wharf-test\n    \
                 issuer: wharf-test-issuer\n    rootcertbundle: {}\n",
                cert.display()
            )),
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut registry = Registry { child, dir, host };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&registry.host).is_err() {
            if registry.child.try_wait().unwrap().is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(registry.dir.path().join("registry.log"));
                skip(&format!(
                    "docker-registry did not start: {}",
                    log.unwrap_or_default()
                ));
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(registry)
    }

    pub fn reference(&self, name: &str) -> Reference {
        Reference::parse_normalized(&format!("{}/{name}", self.host)).unwrap()
    }

    /// The file the registry keeps a blob's bytes in.
    pub fn blob_data(&self, digest: &Digest) -> PathBuf {
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&digest.hex()[..2])
            .join(digest.hex())
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A client that reads no credentials and trusts loopback registries over plain HTTP.
pub fn client() -> Client {
    Client::new(RegistrySettings::default(), None).unwrap()
}

pub fn no_progress(_: &Digest, _: u64) {}

/// Bytes that do not compress, from a seed.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// An image of a config and some layers, as files, with its OCI manifest.
pub struct TestImage {
    /// Holds the blob files until the image is dropped.
    _dir: TempDir,
    pub config: BlobUpload,
    pub layers: Vec<BlobUpload>,
    pub manifest: Vec<u8>,
}

impl TestImage {
    pub fn new(seed: u64, layer_sizes: &[usize]) -> TestImage {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            BlobUpload {
                digest: Digest::of(bytes),
                size: bytes.len() as u64,
                path,
            }
        };
        let layers: Vec<BlobUpload> = layer_sizes
            .iter()
            .enumerate()
            .map(|(i, size)| write(&format!("layer{i}"), &noise(seed * 100 + i as u64, *size)))
            .collect();
        let diff_ids = layers.iter().map(|l| l.digest.clone()).collect();
        let config_bytes = serde_json::to_vec(&wharf_oci::ImageConfig::for_host(diff_ids)).unwrap();
        let config = write("config", &config_bytes);
        let descriptor = |media: &str, blob: &BlobUpload| {
            serde_json::json!({
                "mediaType": media,
                "digest": blob.digest.to_string(),
                "size": blob.size,
            })
        };
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": descriptor(media_type::OCI_CONFIG, &config),
            "layers": layers
                .iter()
                .map(|l| descriptor(media_type::OCI_LAYER_GZIP, l))
                .collect::<Vec<_>>(),
        }))
        .unwrap();
        TestImage {
            _dir: dir,
            config,
            layers,
            manifest,
        }
    }

    pub fn blobs(&self) -> Vec<BlobUpload> {
        let mut blobs = vec![self.config.clone()];
        blobs.extend(self.layers.iter().cloned());
        blobs
    }

    pub fn manifest_digest(&self) -> Digest {
        Digest::of(&self.manifest)
    }

    /// Where to download each blob into `dir`.
    pub fn downloads(&self, dir: &Path) -> Vec<BlobDownload> {
        self.blobs()
            .iter()
            .map(|b| BlobDownload {
                digest: b.digest.clone(),
                size: Some(b.size),
                path: dir.join(b.digest.hex()),
            })
            .collect()
    }
}

/// Pushes all blobs of `image`, then its manifest under `reference`.
pub fn push(client: &Client, reference: &Reference, image: &TestImage) {
    client
        .push_blobs(reference, &image.blobs(), None, &no_progress)
        .unwrap();
    let digest = client
        .push_manifest(reference, media_type::OCI_MANIFEST, &image.manifest)
        .unwrap();
    assert_eq!(digest, image.manifest_digest());
}

/// Runs `openssl` with the words of `args` in `dir`, or says why not.
fn openssl(dir: &Path, args: &str) -> bool {
    let output = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => true,
        Ok(output) => panic!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => {
            skip(&format!(
                "openssl cannot run ({e}): apt-get install openssl"
            ));
            false
        }
    }
}

/// A CA (`ca.pem`, `ca.key`) and a server certificate it signed for `127.0.0.1`
/// (`cert.pem`, `key.pem`), in `dir`.
pub fn make_certs(dir: &Path) -> bool {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    [
        "req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key -out ca.pem -subj /CN=wharf-test-ca",
        "req -newkey rsa:2048 -nodes -keyout key.pem -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out cert.pem",
    ]
    .iter()
    .all(|args| openssl(dir, args))
}

/// One request the token server answered.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub scopes: Vec<String>,
    pub service: String,
    pub authorization: Option<String>,
}

/// A loopback token server for the distribution server's `auth: token`: it grants every
/// scope asked for, in a JWT signed with `ca.key` whose certificate travels in `x5c`.
pub struct TokenServer {
    pub realm: String,
    pub requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenServer {
    pub fn start(dir: &Path) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                answer_token_request(stream, &dir, &seen);
            }
        });
        TokenServer { realm, requests }
    }
}

fn answer_token_request(stream: TcpStream, dir: &Path, seen: &Mutex<Vec<TokenRequest>>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut authorization = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_string());
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut scopes = Vec::new();
    let mut service = String::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match name {
            "scope" => scopes.push(value),
            "service" => service = value,
            _ => {}
        }
    }
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .map(|scope| {
            let parts: Vec<&str> = scope.splitn(3, ':').collect();
            serde_json::json!({
                "type": parts[0],
                "name": parts[1],
                "actions": parts[2].split(',').collect::<Vec<_>>(),
            })
        })
        .collect();
    let token = sign_jwt(dir, &service, access);
    seen.lock().unwrap().push(TokenRequest {
        scopes,
        service,
        authorization,
    });
    let body = serde_json::json!({ "token": token, "expires_in": 300 }).to_string();
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
}

fn sign_jwt(dir: &Path, audience: &str, access: Vec<serde_json::Value>) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let header = serde_json::json!({ "typ": "JWT", "alg": "RS256", "x5c": [der] });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "wharf-test-issuer",
        "sub": "",
        "aud": audience,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-sign"])
        .arg(dir.join("ca.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let mut signature = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut signature)
        .unwrap();
    assert!(child.wait().unwrap().success());
    format!("{signing_input}.{}", b64(&signature))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
