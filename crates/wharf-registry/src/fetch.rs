//! Plain HTTP(S) downloads, for `ADD <url>` in builds: the same TLS trust as registry
//! requests (system roots, the host's CA bundle, certs.d), no registry auth.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ureq::http::Method;
use wharf_oci::{Digest, Sha256Writer};

use crate::error::{IoResultExt, RegistryError, Result};
use crate::transport::{Request, Transport};

/// A file fetched from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub digest: Digest,
    pub size: u64,
    /// The server's `Last-Modified`, which BuildKit gives the file as its mtime.
    pub last_modified: Option<SystemTime>,
}

/// Downloads URLs into files.
pub struct Fetcher {
    transport: Transport,
}

impl Fetcher {
    pub fn new(certs_dirs: Vec<PathBuf>) -> Self {
        Self {
            transport: Transport::new(certs_dirs),
        }
    }

    /// Downloads `url` into `dest` (created or truncated). With `expected`, content of
    /// another digest is an error and `dest` is removed.
    pub fn fetch(&self, url: &str, expected: Option<&Digest>, dest: &Path) -> Result<Fetched> {
        let failed = |message: String| RegistryError::Download {
            url: url.to_string(),
            message,
        };
        let uri: ureq::http::Uri = url.parse().map_err(|e| failed(format!("{e}")))?;
        let authority = match (uri.scheme_str(), uri.authority()) {
            (Some("http" | "https"), Some(authority)) => authority.to_string(),
            _ => {
                return Err(failed(
                    "only http:// and https:// URLs can be fetched".into(),
                ))
            }
        };
        let request = Request::new(Method::GET, url.to_string());
        let response = self
            .transport
            .execute(&authority, true, &request, None)
            .map_err(|e| {
                failed(match e {
                    RegistryError::Connection { message, .. } => message,
                    RegistryError::Tls { message, .. } => format!("TLS: {message}"),
                    other => other.to_string(),
                })
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(failed(format!("invalid response status {status}")));
        }
        let last_modified = response
            .headers()
            .get("last-modified")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let file = File::create(dest).at("create", dest)?;
        let mut writer = Sha256Writer::new(file);
        let copied = io::copy(&mut response.into_body().into_reader(), &mut writer);
        let (digest, size, _) = writer.finish();
        let outcome = match copied {
            Err(e) => Err(failed(format!("reading the response: {e}"))),
            Ok(_) => match expected {
                Some(expected) if *expected != digest => Err(RegistryError::ChecksumMismatch {
                    url: url.to_string(),
                    expected: expected.clone(),
                    actual: digest.clone(),
                }),
                _ => Ok(Fetched {
                    digest,
                    size,
                    last_modified,
                }),
            },
        };
        if outcome.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        outcome
    }
}
