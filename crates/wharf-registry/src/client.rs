use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use ureq::http::{Method, Response, StatusCode};
use ureq::Body;
use wharf_oci::Digest;

use crate::auth::{pick_challenge, Auth};
use crate::credentials::{AuthConfig, DockerConfigFile, Secret};
use crate::error::{ApiError, ApiErrors, RegistryError, Result};
use crate::hosts::{Host, RegistrySettings, Scheme};
use crate::transport::{Request, Transport};

/// A registry client for one command: it caches agents, auth challenges, tokens,
/// credentials and which mirrors are down, so make one and share it between threads.
pub struct Client {
    pub(crate) settings: RegistrySettings,
    pub(crate) transport: Transport,
    pub(crate) auth: Auth,
    /// `https://` or `http://` for each insecure host, once probed.
    schemes: Mutex<HashMap<String, &'static str>>,
    unreachable_mirrors: Mutex<HashSet<String>>,
}

/// A host resolved to a base URL.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub host: Host,
    /// `scheme://authority`, without a trailing slash.
    pub base: String,
    pub verify_tls: bool,
}

/// A repository on an endpoint: what requests go to and what errors name.
pub(crate) struct Target<'a> {
    pub endpoint: &'a Endpoint,
    pub repository: &'a str,
}

/// What a failed request was about, to name it in the error.
pub(crate) enum Object<'a> {
    Manifest(&'a str),
    Blob(&'a Digest),
}

impl Client {
    /// A client with these settings, reading credentials from `credentials` (usually
    /// [`DockerConfigFile::from_env`]) or none.
    pub fn new(settings: RegistrySettings, credentials: Option<DockerConfigFile>) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            transport: Transport::new(settings.certs_dirs.clone()),
            settings,
            auth: Auth::new(credentials),
            schemes: Mutex::new(HashMap::new()),
            unreachable_mirrors: Mutex::new(HashSet::new()),
        })
    }

    /// Checks that `auth` logs in to the registry of `domain` (`docker.io`, `localhost:5000`),
    /// as `docker login` does, and uses it for the rest of this client's life. The caller
    /// stores it with [`DockerConfigFile::store`] on success.
    pub fn login(&self, domain: &str, auth: AuthConfig) -> Result<()> {
        let host = self.settings.upstream(domain);
        self.auth.set_credentials(&host.name, Some(auth));
        let endpoint = self.endpoint(&host)?;
        let target = Target {
            endpoint: &endpoint,
            repository: "",
        };
        let request = Request::new(Method::GET, format!("{}/v2/", endpoint.base));
        let response = self.send(&target, &[], &request);
        let result = match response {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(target.error_from(response, "log in", None)),
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Forget the refused credentials; the next request reads the config file again.
            self.auth.forget_credentials(&host.name);
        }
        result
    }

    /// Sends a request, answering one 401 challenge with credentials or a token.
    pub(crate) fn send(
        &self,
        target: &Target,
        scopes: &[String],
        request: &Request,
    ) -> Result<Response<Body>> {
        let endpoint = target.endpoint;
        // Tokens go only to the registry itself, never to where an upload URL points.
        let own_host = request.url.starts_with(&format!("{}/", endpoint.base));
        let execute = |authorization: Option<&Secret>| {
            self.transport.execute(
                &endpoint.host.authority,
                endpoint.verify_tls,
                request,
                authorization.map(Secret::expose),
            )
        };
        let sent = if own_host {
            self.authorization(target, scopes, false)?
        } else {
            None
        };
        let response = execute(sent.as_ref())?;
        if response.status() != StatusCode::UNAUTHORIZED || !own_host {
            return Ok(response);
        }
        let Some(challenge) = pick_challenge(response.headers()) else {
            return Ok(response);
        };
        self.auth
            .remember_challenge(&endpoint.host.authority, challenge);
        match self.authorization(target, scopes, sent.is_some())? {
            Some(authorization) => execute(Some(&authorization)),
            None => Ok(response),
        }
    }

    /// Runs `op` against each mirror of `domain`, then the registry itself, until one
    /// succeeds. The registry's own error is the one returned.
    pub(crate) fn on_pull_endpoints<T>(
        &self,
        domain: &str,
        mut op: impl FnMut(&Endpoint) -> Result<T>,
    ) -> Result<T> {
        for mirror in self.settings.mirrors(domain)? {
            if self.lock_unreachable().contains(&mirror.authority) {
                continue;
            }
            match self.endpoint(&mirror).and_then(|endpoint| op(&endpoint)) {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transport() => {
                    self.lock_unreachable().insert(mirror.authority);
                }
                // A mirror may lack the image or be stale: the registry decides.
                Err(_) => {}
            }
        }
        op(&self.endpoint(&self.settings.upstream(domain))?)
    }

    /// The registry itself, where pushes go.
    pub(crate) fn push_endpoint(&self, domain: &str) -> Result<Endpoint> {
        self.endpoint(&self.settings.upstream(domain))
    }

    fn endpoint(&self, host: &Host) -> Result<Endpoint> {
        let insecure = self.settings.is_insecure(&host.authority);
        let scheme = match host.scheme {
            Scheme::Https => "https://",
            Scheme::Http => "http://",
            Scheme::Probe => self.probe(&host.authority)?,
        };
        Ok(Endpoint {
            host: host.clone(),
            base: format!("{scheme}{}", host.authority),
            verify_tls: !insecure,
        })
    }

    /// HTTPS if the insecure host answers TLS at all, else plain HTTP, as Docker does.
    fn probe(&self, authority: &str) -> Result<&'static str> {
        if let Some(scheme) = self
            .schemes
            .lock()
            .expect("scheme cache lock")
            .get(authority)
        {
            return Ok(scheme);
        }
        let request = Request::new(Method::GET, format!("https://{authority}/v2/"));
        let scheme = match self.transport.execute(authority, false, &request, None) {
            Ok(_) => "https://",
            Err(e) if e.is_transport() => "http://",
            Err(e) => return Err(e),
        };
        self.schemes
            .lock()
            .expect("scheme cache lock")
            .insert(authority.to_string(), scheme);
        Ok(scheme)
    }

    fn lock_unreachable(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.unreachable_mirrors.lock().expect("mirror cache lock")
    }
}

impl Target<'_> {
    /// `<base>/v2/<repository>/<tail>`.
    pub fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.endpoint.base, self.repository)
    }

    pub fn registry(&self) -> String {
        self.endpoint.host.name.clone()
    }

    pub fn unauthorized(&self, message: &str) -> RegistryError {
        RegistryError::Unauthorized {
            registry: self.registry(),
            repository: self.repository.to_string(),
            errors: ApiErrors(vec![ApiError {
                code: String::new(),
                message: message.to_string(),
            }]),
        }
    }

    /// The error for a response that did not succeed, with the registry's JSON error body.
    pub fn error_from(
        &self,
        response: Response<Body>,
        operation: &str,
        object: Option<Object>,
    ) -> RegistryError {
        let status = response.status();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let errors = decode_errors(response.into_body());
        let registry = self.registry();
        let repository = self.repository.to_string();
        match (status.as_u16(), object) {
            (401 | 403, _) => RegistryError::Unauthorized {
                registry,
                repository,
                errors,
            },
            (429, _) => RegistryError::RateLimited {
                registry,
                repository,
                errors,
                retry_after,
            },
            (404, Some(Object::Manifest(reference))) => RegistryError::ManifestUnknown {
                registry,
                repository,
                reference: reference.to_string(),
                errors,
            },
            (404, Some(Object::Blob(digest))) => RegistryError::BlobUnknown {
                registry,
                repository,
                digest: digest.clone(),
            },
            (status, _) => RegistryError::Http {
                registry,
                repository,
                operation: operation.to_string(),
                status,
                errors,
            },
        }
    }
}

/// The distribution API's `{"errors": [{"code", "message"}]}`, or a short text body.
fn decode_errors(mut body: Body) -> ApiErrors {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Vec<ApiError>,
    }
    let bytes = body
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(&bytes) {
        return ApiErrors(envelope.errors);
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.is_empty() || text.len() > 500 {
        return ApiErrors::default();
    }
    ApiErrors(vec![ApiError {
        code: String::new(),
        message: text.to_string(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_error(
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
        object: Option<Object>,
    ) -> RegistryError {
        let endpoint = Endpoint {
            host: RegistrySettings::default().upstream("docker.io"),
            base: "https://registry-1.docker.io".into(),
            verify_tls: true,
        };
        let target = Target {
            endpoint: &endpoint,
            repository: "library/alpine",
        };
        let mut response = Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        let response = response
            .body(Body::builder().data(body.as_bytes().to_vec()))
            .unwrap();
        target.error_from(response, "get manifest", object)
    }

    #[test]
    fn rate_limit_keeps_the_registry_message_and_retry_after() {
        let error = target_error(
            429,
            &[("Retry-After", "3600")],
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
            Some(Object::Manifest("3.20")),
        );
        assert!(
            matches!(&error, RegistryError::RateLimited { retry_after: Some(s), .. } if s == "3600")
        );
        assert_eq!(
            error.to_string(),
            "docker.io/library/alpine: too many requests: TOOMANYREQUESTS: \
             You have reached your pull rate limit. (retry after 3600)"
        );
        assert!(error.hint().unwrap().contains("wharf login docker.io"));
    }

    #[test]
    fn statuses_map_to_errors_users_understand() {
        let denied = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
        let error = target_error(403, &[], denied, None);
        assert_eq!(
            error.to_string(),
            "unauthorized: docker.io/library/alpine: access denied: DENIED: requested access to the resource is denied"
        );
        let error = target_error(404, &[], "", Some(Object::Manifest("nope")));
        assert_eq!(
            error.to_string(),
            "no such image: docker.io/library/alpine:nope: manifest unknown"
        );
        let error = target_error(502, &[], "<html>bad gateway</html>", None);
        assert_eq!(
            error.to_string(),
            "docker.io/library/alpine: get manifest: HTTP 502: <html>bad gateway</html>"
        );
        assert!(error.hint().is_none());
    }
}
