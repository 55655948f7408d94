//! HTTP requests to one host: one `ureq` agent per host, trusting the system roots, the
//! host's CA bundle and the host's own certs.d folder.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ureq::http::{self, Method, Response};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::{Agent, Body, SendBody};

use crate::error::{IoResultExt, RegistryError, Result};

/// The host's CA bundle. This machine's TLS may be intercepted by a CA found only there.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A request that can be sent again, after a 401 answered with a token.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Payload<'a>,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Payload::Empty,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Payload<'a>) -> Self {
        self.body = body;
        self
    }
}

pub(crate) enum Payload<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes of a file from `offset`; `progress` hears how many were sent so far.
    File {
        path: &'a Path,
        offset: u64,
        len: u64,
        progress: &'a dyn Fn(u64),
    },
}

pub(crate) struct Transport {
    roots: Arc<Vec<Certificate<'static>>>,
    certs_dirs: Vec<PathBuf>,
    agents: Mutex<HashMap<(String, bool), Agent>>,
}

impl Transport {
    pub fn new(certs_dirs: Vec<PathBuf>) -> Self {
        Self {
            roots: Arc::new(system_roots()),
            certs_dirs,
            agents: Mutex::new(HashMap::new()),
        }
    }

    /// Sends `request` to `authority`; only failures to get an answer are errors here.
    pub fn execute(
        &self,
        authority: &str,
        verify_tls: bool,
        request: &Request,
        authorization: Option<&str>,
    ) -> Result<Response<Body>> {
        let agent = self.agent(authority, verify_tls)?;
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(authorization) = authorization {
            builder = builder.header("Authorization", authorization);
        }
        let bad_request = |e: http::Error| RegistryError::Connection {
            host: authority.to_string(),
            message: format!("cannot build request for {}: {e}", request.url),
        };
        let result = match &request.body {
            Payload::Empty => agent.run(builder.body(()).map_err(bad_request)?),
            Payload::Bytes(bytes) => agent.run(builder.body(*bytes).map_err(bad_request)?),
            Payload::File {
                path,
                offset,
                len,
                progress,
            } => {
                let mut file = File::open(path).at("open", *path)?;
                file.seek(SeekFrom::Start(*offset)).at("seek in", *path)?;
                let mut reader = Progress {
                    inner: file.take(*len),
                    done: 0,
                    report: *progress,
                };
                let builder = builder.header("Content-Length", len.to_string());
                let body = SendBody::from_reader(&mut reader);
                agent.run(builder.body(body).map_err(bad_request)?)
            }
        };
        result.map_err(|e| transport_error(authority, e))
    }

    fn agent(&self, authority: &str, verify_tls: bool) -> Result<Agent> {
        let mut agents = self.agents.lock().expect("agent cache lock");
        let key = (authority.to_string(), verify_tls);
        if let Some(agent) = agents.get(&key) {
            return Ok(agent.clone());
        }
        let (extra_roots, client_cert) = self.host_certs(authority)?;
        let roots = if extra_roots.is_empty() {
            self.roots.clone()
        } else {
            Arc::new(self.roots.iter().cloned().chain(extra_roots).collect())
        };
        let roots = if roots.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::Specific(roots)
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .client_cert(client_cert)
            .disable_verification(!verify_tls)
            .build();
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            // A stalled transfer fails instead of hanging; there is no limit on the whole.
            .timeout_per_read(Some(Duration::from_secs(120)))
            .build()
            .into();
        agents.insert(key, agent.clone());
        Ok(agent)
    }

    /// The CAs (`*.crt`) and client certificate (`*.cert` with its `.key`) in
    /// `<certs dir>/<authority>/`, as Docker reads them.
    fn host_certs(
        &self,
        authority: &str,
    ) -> Result<(Vec<Certificate<'static>>, Option<ClientCert>)> {
        let mut roots = Vec::new();
        let mut client = None;
        for dir in &self.certs_dirs {
            let dir = dir.join(authority);
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).at("read", &dir),
            };
            let mut paths: Vec<PathBuf> = entries
                .map(|entry| entry.map(|e| e.path()))
                .collect::<io::Result<_>>()
                .at("read", &dir)?;
            paths.sort();
            for path in paths {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("crt") => roots.extend(read_certificates(&path)?),
                    Some("cert") if client.is_none() => {
                        let key_path = path.with_extension("key");
                        let key = std::fs::read(&key_path).at("read", &key_path)?;
                        let key =
                            PrivateKey::from_pem(&key).map_err(|e| cert_error(&key_path, e))?;
                        client = Some(ClientCert::new_with_certs(&read_certificates(&path)?, key));
                    }
                    _ => {}
                }
            }
        }
        Ok((roots, client))
    }
}

/// The system's trusted roots plus the host's CA bundle, without duplicates.
fn system_roots() -> Vec<Certificate<'static>> {
    let mut seen = HashSet::new();
    let native = rustls_native_certs::load_native_certs().certs;
    // An unreadable bundle leaves the system roots; a TLS failure then names the host.
    let bundle = std::fs::read(HOST_CA_BUNDLE).unwrap_or_default();
    let bundle = ureq::tls::parse_pem(&bundle).filter_map(|item| match item {
        Ok(PemItem::Certificate(cert)) => Some(cert),
        _ => None,
    });
    native
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .chain(bundle)
        .filter(|cert| seen.insert(cert.der().to_vec()))
        .collect()
}

fn read_certificates(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).at("read", path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let PemItem::Certificate(cert) = item.map_err(|e| cert_error(path, e))? {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(RegistryError::Certificate {
            path: path.to_path_buf(),
            message: "no PEM certificate in the file".into(),
        });
    }
    Ok(certs)
}

fn cert_error(path: &Path, error: ureq::Error) -> RegistryError {
    RegistryError::Certificate {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

pub(crate) fn transport_error(authority: &str, error: ureq::Error) -> RegistryError {
    let tls = match &error {
        ureq::Error::Rustls(_) | ureq::Error::Tls(_) => true,
        ureq::Error::Io(e) => e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()),
        _ => false,
    };
    if tls {
        RegistryError::Tls {
            host: authority.to_string(),
            message: error.to_string(),
        }
    } else {
        RegistryError::Connection {
            host: authority.to_string(),
            message: error.to_string(),
        }
    }
}

/// Counts the bytes read through it and reports the running total.
pub(crate) struct Progress<'a, R> {
    pub inner: R,
    pub done: u64,
    pub report: &'a dyn Fn(u64),
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.report)(self.done);
        Ok(n)
    }
}
