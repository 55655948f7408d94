//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off in every build of
//! wharf): what the client makes of a registry's and a token server's replies.

use std::time::Instant;

use crate::auth;

/// Parses a `WWW-Authenticate` value and picks the challenge wharf would answer, as a 401
/// makes the client do; returns each challenge's scheme and parameters.
pub fn www_authenticate(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    let parsed = auth::parse_www_authenticate(header);
    let mut headers = ureq::http::HeaderMap::new();
    if let Ok(value) = ureq::http::HeaderValue::from_str(header) {
        headers.insert("WWW-Authenticate", value);
    }
    let _ = auth::pick_challenge(&headers);
    parsed
        .into_iter()
        .map(|c| (c.scheme, c.params.into_iter().collect()))
        .collect()
}

/// Reads a token server's reply and computes when the token is fetched again, as the
/// client does after a token request.
pub fn token_reply(bytes: &[u8]) {
    if let Ok(Some((_token, life))) = auth::parse_token_reply(bytes) {
        let _ = auth::token_expiry(Instant::now(), life);
    }
}
