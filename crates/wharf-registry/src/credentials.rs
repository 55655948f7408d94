//! Registry credentials in Docker's `config.json`: `auths` entries (base64 `user:password`
//! or an identity token), `credsStore` and `credHelpers` (`docker-credential-<name>`).
//! Login and logout rewrite the file atomically, mode 0600, keeping every other field.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{IoResultExt, RegistryError, Result};
use crate::hosts::{DOCKER_HUB, DOCKER_HUB_API_HOST};

/// Where Docker keeps Docker Hub's credentials, a relic of the v1 API.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";
/// The user name credential helpers report for an identity token.
const TOKEN_USER: &str = "<token>";

/// A password or token. It never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Credentials for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    Basic {
        username: String,
        password: Secret,
    },
    /// An OAuth refresh token (`identitytoken`), exchanged at the token endpoint.
    IdentityToken(Secret),
}

impl AuthConfig {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }
}

/// Docker's client config file, usually `~/.docker/config.json`.
#[derive(Debug, Clone)]
pub struct DockerConfigFile {
    path: PathBuf,
}

impl DockerConfigFile {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`, as Docker looks.
    pub fn from_env() -> Option<Self> {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".docker"),
        };
        Some(Self::at(dir.join("config.json")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials for a registry domain (`docker.io`, `ghcr.io`, `localhost:5000`), from
    /// its credential helper, the default store, or `auths`, in Docker's order.
    pub fn get(&self, domain: &str) -> Result<Option<AuthConfig>> {
        let config = self.read()?;
        let server = server_key(domain);
        if let Some(helper) = helper_for(&config, domain) {
            return helper_get(&helper, &server);
        }
        let Some(auths) = config.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let entry = auths.get(&server).or_else(|| {
            auths
                .iter()
                .find(|(key, _)| same_registry(key, domain))
                .map(|(_, entry)| entry)
        });
        entry.map_or(Ok(None), |entry| self.decode_entry(&server, entry))
    }

    /// Saves credentials (`wharf login`), in the credential helper if one is configured.
    pub fn store(&self, domain: &str, auth: &AuthConfig) -> Result<()> {
        let mut config = self.read()?;
        let server = server_key(domain);
        let entry = match helper_for(&config, domain) {
            Some(helper) => {
                let (username, secret) = match auth {
                    AuthConfig::Basic { username, password } => (username.as_str(), password),
                    AuthConfig::IdentityToken(token) => (TOKEN_USER, token),
                };
                let input = serde_json::json!({
                    "ServerURL": server,
                    "Username": username,
                    "Secret": secret.expose(),
                });
                run_helper(&helper, "store", &server, input.to_string().as_bytes())?;
                // Docker keeps an empty entry so that the login is listed.
                Value::Object(Map::new())
            }
            None => match auth {
                AuthConfig::Basic { username, password } => serde_json::json!({
                    "auth": base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{}", password.expose())),
                }),
                AuthConfig::IdentityToken(token) => {
                    serde_json::json!({ "auth": "", "identitytoken": token.expose() })
                }
            },
        };
        let auths = object_field(&mut config, "auths");
        auths.retain(|key, _| !same_registry(key, domain));
        auths.insert(server, entry);
        self.write(&config)
    }

    /// Forgets the credentials for a registry (`wharf logout`). False when there were none.
    pub fn erase(&self, domain: &str) -> Result<bool> {
        let mut config = self.read()?;
        let server = server_key(domain);
        let mut erased = false;
        if let Some(helper) = helper_for(&config, domain) {
            erased = run_helper(&helper, "erase", &server, server.as_bytes())?.is_some();
        }
        if let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) {
            let before = auths.len();
            auths.retain(|key, _| !same_registry(key, domain));
            erased |= auths.len() != before;
        }
        if erased {
            self.write(&config)?;
        }
        Ok(erased)
    }

    fn read(&self) -> Result<Map<String, Value>> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(e).at("read", &self.path),
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        serde_json::from_slice(&text).map_err(|e| self.bad(format!("invalid JSON: {e}")))
    }

    /// Replaces the file atomically: a temp file in the same folder, fsync, rename. A
    /// symlinked config (dotfile managers) is replaced at its target, as Docker does.
    fn write(&self, config: &Map<String, Value>) -> Result<()> {
        let path = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .at("create", dir)?;
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(config, &mut serializer)
            .map_err(|e| self.bad(format!("cannot serialize: {e}")))?;
        text.push(b'\n');
        let mut file = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(dir)
            .at("create a temporary file in", dir)?;
        let temp = file.path().to_path_buf();
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .at("set permissions of", &temp)?;
        file.write_all(&text).at("write", &temp)?;
        file.as_file().sync_all().at("sync", &temp)?;
        file.persist(&path)
            .map_err(|e| e.error)
            .at("replace", &path)?;
        Ok(())
    }

    fn decode_entry(&self, server: &str, entry: &Value) -> Result<Option<AuthConfig>> {
        let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or("");
        if !field("identitytoken").is_empty() {
            return Ok(Some(AuthConfig::IdentityToken(Secret::new(field(
                "identitytoken",
            )))));
        }
        if !field("auth").is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(field("auth").trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| self.bad(format!("auths.{server}.auth is not base64 text")))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| self.bad(format!("auths.{server}.auth is not user:password")))?;
            return Ok(Some(AuthConfig::basic(username, password)));
        }
        // Old config files kept the two in the clear.
        if !field("username").is_empty() {
            return Ok(Some(AuthConfig::basic(
                field("username"),
                field("password"),
            )));
        }
        Ok(None)
    }

    fn bad(&self, message: String) -> RegistryError {
        RegistryError::ConfigFile {
            path: self.path.clone(),
            message,
        }
    }
}

/// The key Docker stores a registry's credentials under.
pub fn server_key(domain: &str) -> String {
    if is_docker_hub(domain) {
        DOCKER_HUB_SERVER.to_string()
    } else {
        domain.to_string()
    }
}

/// The credential helper for `domain`: its own in `credHelpers`, else `credsStore`.
fn helper_for(config: &Map<String, Value>, domain: &str) -> Option<String> {
    let specific = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|helpers| {
            helpers
                .iter()
                .find(|(key, _)| same_registry(key, domain))
                .and_then(|(_, name)| name.as_str())
        });
    specific
        .or_else(|| config.get("credsStore").and_then(Value::as_str))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

fn helper_get(helper: &str, server: &str) -> Result<Option<AuthConfig>> {
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let Some(output) = run_helper(helper, "get", server, server.as_bytes())? else {
        return Ok(None);
    };
    let reply: Reply =
        serde_json::from_slice(&output).map_err(|e| RegistryError::CredentialHelper {
            helper: helper.to_string(),
            server: server.to_string(),
            message: format!("unreadable answer: {e}"),
        })?;
    Ok(Some(if reply.username == TOKEN_USER {
        AuthConfig::IdentityToken(Secret::new(reply.secret))
    } else {
        AuthConfig::basic(reply.username, reply.secret)
    }))
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin. `None` when the helper
/// says it has no credentials for the server.
fn run_helper(helper: &str, action: &str, server: &str, input: &[u8]) -> Result<Option<Vec<u8>>> {
    let fail = |message: String| RegistryError::CredentialHelper {
        helper: helper.to_string(),
        server: server.to_string(),
        message,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|e| fail(format!("cannot write to it: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read its answer: {e}")))?;
    if output.status.success() {
        return Ok(Some(output.stdout));
    }
    // Helpers print their errors on stdout.
    let message = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if message.contains("credentials not found") {
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(fail(format!(
        "{action} exited with {}: {}",
        output.status,
        if message.is_empty() {
            stderr.trim()
        } else {
            &message
        }
    )))
}

fn object_field<'a>(config: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
    let value = config
        .entry(name)
        .or_insert_with(|| Value::Object(Map::new()));
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("made an object above")
}

/// True when a config key (`https://host/v1/`, `host`, `http://host:5000`) names `domain`.
fn same_registry(key: &str, domain: &str) -> bool {
    let host = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = host.split('/').next().unwrap_or(host);
    host == domain || (is_docker_hub(host) && is_docker_hub(domain))
}

fn is_docker_hub(host: &str) -> bool {
    matches!(host, DOCKER_HUB | "index.docker.io" | DOCKER_HUB_API_HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let auth = AuthConfig::basic("alice", "hunter2");
        let text = format!("{auth:?}");
        assert!(
            text.contains("alice") && !text.contains("hunter2"),
            "{text}"
        );
        let text = format!("{:?}", AuthConfig::IdentityToken(Secret::new("tok3n")));
        assert!(!text.contains("tok3n"), "{text}");
    }

    #[test]
    fn keys_name_registries_like_docker() {
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert!(same_registry("https://index.docker.io/v1/", "docker.io"));
        assert!(same_registry("http://localhost:5000/v2/", "localhost:5000"));
        assert!(!same_registry("localhost:5000", "localhost:5001"));
    }
}
