//! Docker's registry auth: a 401 names a scheme in `WWW-Authenticate`; `Basic` gets the
//! user's password, `Bearer` gets a token from the realm (anonymously or with the user's
//! credentials) for the scopes the operation needs. Tokens are cached per scope.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::http::Method;

use crate::client::{Client, Target};
use crate::credentials::{AuthConfig, DockerConfigFile, Secret};
use crate::error::Result;
use crate::transport::{transport_error, Payload, Request};

/// Docker asks for at least this long a token life when the server does not say.
const MIN_TOKEN_LIFE: Duration = Duration::from_secs(60);
/// Longer lives are cut to this: the token cache lives as long as one process, and a token
/// server may say anything (`expires_in` near 2^64 overflowed the clock).
const MAX_TOKEN_LIFE: Duration = Duration::from_secs(24 * 60 * 60);

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// Lowercase: `basic` or `bearer`.
    pub scheme: String,
    /// Parameter names are lowercase.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses a `WWW-Authenticate` header value, which may hold several challenges:
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io", Basic realm="x"`.
pub(crate) fn parse_www_authenticate(header: &str) -> Vec<Challenge> {
    let mut lexer = Lexer {
        text: header.as_bytes(),
        at: 0,
    };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        lexer.skip(|b| b.is_ascii_whitespace() || b == b',');
        let Some(scheme) = lexer.token() else { break };
        let mut params = BTreeMap::new();
        loop {
            lexer.skip(|b| b.is_ascii_whitespace() || b == b',');
            let start = lexer.at;
            let Some(name) = lexer.token() else { break };
            lexer.skip(|b| b == b' ' || b == b'\t');
            if lexer.peek() != Some(b'=') {
                // Not `name=value`: the next challenge's scheme.
                lexer.at = start;
                break;
            }
            lexer.at += 1;
            lexer.skip(|b| b == b' ' || b == b'\t');
            let value = lexer.value();
            params.insert(name.to_ascii_lowercase(), value);
        }
        challenges.push(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        });
    }
    challenges
}

struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.at;
        self.skip(|b| !b.is_ascii_whitespace() && !matches!(b, b',' | b'=' | b'"'));
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    /// A quoted string (with `\` escapes) or a bare token.
    fn value(&mut self) -> String {
        if self.peek() != Some(b'"') {
            let start = self.at;
            self.skip(|b| !b.is_ascii_whitespace() && b != b',');
            return String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        }
        self.at += 1;
        let mut value = Vec::new();
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.at += 1;
                    }
                }
                _ => value.push(b),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

/// The scope a token needs to act on a repository: `repository:library/alpine:pull,push`.
pub(crate) fn repository_scope(repository: &str, actions: &str) -> String {
    format!("repository:{repository}:{actions}")
}

/// What the client learned about auth: the challenge of each host, the credentials of
/// each registry and the tokens it holds.
pub(crate) struct Auth {
    config: Option<DockerConfigFile>,
    credentials: Mutex<HashMap<String, Option<AuthConfig>>>,
    challenges: Mutex<HashMap<String, Challenge>>,
    tokens: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl Auth {
    pub fn new(config: Option<DockerConfigFile>) -> Self {
        Self {
            config,
            credentials: Mutex::new(HashMap::new()),
            challenges: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Uses `auth` for `key` from now on instead of what the config file holds.
    pub fn set_credentials(&self, key: &str, auth: Option<AuthConfig>) {
        self.lock_credentials().insert(key.to_string(), auth);
    }

    pub fn forget_credentials(&self, key: &str) {
        self.lock_credentials().remove(key);
    }

    pub fn remember_challenge(&self, authority: &str, challenge: Challenge) {
        self.challenges
            .lock()
            .expect("challenge cache lock")
            .insert(authority.to_string(), challenge);
    }

    /// The credentials stored for a registry, read once per client (a helper is a process).
    fn credentials(&self, key: &str) -> Result<Option<AuthConfig>> {
        if let Some(known) = self.lock_credentials().get(key) {
            return Ok(known.clone());
        }
        let found = match &self.config {
            Some(config) => config.get(key)?,
            None => None,
        };
        self.set_credentials(key, found.clone());
        Ok(found)
    }

    fn lock_credentials(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<AuthConfig>>> {
        self.credentials.lock().expect("credential cache lock")
    }
}

impl Client {
    /// The `Authorization` header for a request to `target` needing `scopes`, when the host
    /// is known to want one and there is something to send. `refresh` skips the token cache,
    /// because the registry refused the cached token.
    pub(crate) fn authorization(
        &self,
        target: &Target,
        scopes: &[String],
        refresh: bool,
    ) -> Result<Option<Secret>> {
        let challenge = self
            .auth
            .challenges
            .lock()
            .expect("challenge cache lock")
            .get(&target.endpoint.host.authority)
            .cloned();
        let Some(challenge) = challenge else {
            return Ok(None);
        };
        let credentials = self.auth.credentials(&target.endpoint.host.name)?;
        match challenge.scheme.as_str() {
            "basic" => Ok(match credentials {
                Some(AuthConfig::Basic { username, password }) => Some(basic(&username, &password)),
                _ => None,
            }),
            "bearer" => {
                let key = format!(
                    "{}\n{}\n{}",
                    challenge.param("realm").unwrap_or(""),
                    challenge.param("service").unwrap_or(""),
                    scopes.join(" ")
                );
                if !refresh {
                    let tokens = self.auth.tokens.lock().expect("token cache lock");
                    if let Some((token, expires)) = tokens.get(&key) {
                        if *expires > Instant::now() {
                            return Ok(Some(Secret::new(format!("Bearer {}", token.expose()))));
                        }
                    }
                }
                let (token, life) =
                    self.fetch_token(target, &challenge, scopes, credentials.as_ref())?;
                let header = Secret::new(format!("Bearer {}", token.expose()));
                self.auth
                    .tokens
                    .lock()
                    .expect("token cache lock")
                    .insert(key, (token, token_expiry(Instant::now(), life)));
                Ok(Some(header))
            }
            _ => Ok(None),
        }
    }

    /// Asks the challenge's realm for a token: GET with basic credentials (or none), or the
    /// OAuth refresh-token POST for an identity token, as Docker does.
    fn fetch_token(
        &self,
        target: &Target,
        challenge: &Challenge,
        scopes: &[String],
        credentials: Option<&AuthConfig>,
    ) -> Result<(Secret, Duration)> {
        let realm = challenge
            .param("realm")
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
            .ok_or_else(|| {
                target.unauthorized("the registry's bearer challenge has no realm URL")
            })?;
        let realm_authority = realm
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(rest))
            .unwrap_or_default();
        let mut query = vec![("client_id", "wharf")];
        if let Some(service) = challenge.param("service") {
            query.push(("service", service));
        }
        for scope in scopes {
            query.push(("scope", scope));
        }
        let form;
        let (request, authorization) = match credentials {
            Some(AuthConfig::IdentityToken(token)) => {
                query.push(("grant_type", "refresh_token"));
                query.push(("refresh_token", token.expose()));
                form = encode_query(&query);
                let request = Request::new(Method::POST, realm.to_string())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(Payload::Bytes(form.as_bytes()));
                (request, None)
            }
            basic_or_anonymous => {
                let separator = if realm.contains('?') { '&' } else { '?' };
                let url = format!("{realm}{separator}{}", encode_query(&query));
                let authorization = match basic_or_anonymous {
                    Some(AuthConfig::Basic { username, password }) => {
                        Some(basic(username, password))
                    }
                    _ => None,
                };
                (Request::new(Method::GET, url), authorization)
            }
        };
        let response = self.transport.execute(
            realm_authority,
            !self.settings.is_insecure(realm_authority),
            &request,
            authorization.as_ref().map(Secret::expose),
        )?;
        if !response.status().is_success() {
            return Err(target.error_from(response, "get a token from the auth server", None));
        }
        let bytes = response
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| transport_error(realm_authority, e))?;
        parse_token_reply(&bytes)
            .map_err(|e| target.unauthorized(&format!("unreadable token from {realm}: {e}")))?
            .ok_or_else(|| target.unauthorized(&format!("the auth server {realm} gave no token")))
    }
}

/// A token server's reply: the token (`None` when it gave none) and how long it lives.
pub(crate) fn parse_token_reply(bytes: &[u8]) -> serde_json::Result<Option<(Secret, Duration)>> {
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(default)]
        token: String,
        #[serde(default)]
        access_token: String,
        #[serde(default)]
        expires_in: u64,
    }
    let reply: Reply = serde_json::from_slice(bytes)?;
    let token = if reply.token.is_empty() {
        reply.access_token
    } else {
        reply.token
    };
    if token.is_empty() {
        return Ok(None);
    }
    let life = Duration::from_secs(reply.expires_in).clamp(MIN_TOKEN_LIFE, MAX_TOKEN_LIFE);
    Ok(Some((Secret::new(token), life)))
}

/// When a token fetched at `now` that lives `life` is to be fetched again.
pub(crate) fn token_expiry(now: Instant, life: Duration) -> Instant {
    now + life.mul_f32(0.9)
}

/// Picks the challenge wharf can answer, preferring bearer tokens.
pub(crate) fn pick_challenge(headers: &ureq::http::HeaderMap) -> Option<Challenge> {
    let mut challenges: Vec<Challenge> = headers
        .get_all("WWW-Authenticate")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(parse_www_authenticate)
        .filter(|c| c.scheme == "bearer" || c.scheme == "basic")
        .collect();
    challenges.sort_by_key(|c| c.scheme != "bearer");
    challenges.into_iter().next()
}

/// The `Authorization` header value for basic auth.
fn basic(username: &str, password: &Secret) -> Secret {
    let pair = format!("{username}:{}", password.expose());
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

/// `a=b&c=d` with percent-encoding of everything but unreserved characters.
pub(crate) fn encode_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(challenge: &Challenge) -> Vec<(&str, &str)> {
        challenge
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn parses_docker_hub_challenge() {
        let challenges = parse_www_authenticate(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(challenges.len(), 1);
        assert_eq!(challenges[0].scheme, "bearer");
        assert_eq!(
            params(&challenges[0]),
            [
                ("realm", "https://auth.docker.io/token"),
                ("scope", "repository:library/alpine:pull"),
                ("service", "registry.docker.io"),
            ]
        );
    }

    #[test]
    fn parses_several_challenges_commas_in_quotes_and_escapes() {
        let challenges = parse_www_authenticate(
            r#"Basic realm="basic-realm", Bearer realm="https://a/t?x=1", scope="repository:a:pull,push", error="insufficient_scope", Custom token68=="#,
        );
        assert_eq!(
            challenges
                .iter()
                .map(|c| c.scheme.as_str())
                .collect::<Vec<_>>(),
            ["basic", "bearer", "custom"]
        );
        assert_eq!(params(&challenges[0]), [("realm", "basic-realm")]);
        assert_eq!(challenges[1].param("scope"), Some("repository:a:pull,push"));
        assert_eq!(challenges[1].param("realm"), Some("https://a/t?x=1"));
        assert_eq!(challenges[1].param("error"), Some("insufficient_scope"));
        let escaped = parse_www_authenticate(r#"BEARER Realm = "a\"b", service=bare"#);
        assert_eq!(escaped[0].scheme, "bearer");
        assert_eq!(
            params(&escaped[0]),
            [("realm", "a\"b"), ("service", "bare")]
        );
        assert!(parse_www_authenticate("").is_empty());
    }

    #[test]
    fn prefers_bearer_over_basic() {
        let mut headers = ureq::http::HeaderMap::new();
        headers.append("WWW-Authenticate", r#"Basic realm="r""#.parse().unwrap());
        headers.append(
            "WWW-Authenticate",
            r#"Bearer realm="https://t""#.parse().unwrap(),
        );
        assert_eq!(pick_challenge(&headers).unwrap().scheme, "bearer");
        assert!(pick_challenge(&ureq::http::HeaderMap::new()).is_none());
    }

    /// Found while writing the registry_auth fuzz target (which did not reach it in its
    /// first minute): a huge `expires_in` panicked when the expiry was computed.
    #[test]
    fn token_lives_are_kept_within_bounds() {
        let life = |reply: &str| parse_token_reply(reply.as_bytes()).unwrap().unwrap().1;
        let huge = life(r#"{"token":"t","expires_in":18446744073709551615}"#);
        assert_eq!(huge, MAX_TOKEN_LIFE);
        assert!(token_expiry(Instant::now(), huge) > Instant::now());
        assert_eq!(
            life(r#"{"access_token":"t","expires_in":5}"#),
            MIN_TOKEN_LIFE
        );
        assert_eq!(
            life(r#"{"token":"t","expires_in":300}"#),
            Duration::from_secs(300)
        );
        assert!(parse_token_reply(br#"{"expires_in":300}"#)
            .unwrap()
            .is_none());
    }

    #[test]
    fn encodes_scopes() {
        assert_eq!(
            encode_query(&[("scope", "repository:a/b:pull,push"), ("service", "x y")]),
            "scope=repository%3Aa%2Fb%3Apull%2Cpush&service=x%20y"
        );
    }
}
