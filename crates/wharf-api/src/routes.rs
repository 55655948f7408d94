//! The one route table. Each route is served under `/v{version}` and the bare path (as
//! podman's `register_*.go` do), written once here.

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::handlers::{
    archive, build, containers, events, exec, images, networks, prune, stats, system, volumes,
};
use crate::http::{API_VERSION, MIN_API_VERSION};

pub type Handler = fn(&mut Call) -> Result<Reply, ApiError>;

/// `{}` matches one path segment; `{*}` one or more (image names have slashes).
pub struct Route {
    pub method: &'static str,
    pub pattern: &'static str,
    pub handler: Handler,
}

const fn route(method: &'static str, pattern: &'static str, handler: Handler) -> Route {
    Route {
        method,
        pattern,
        handler,
    }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/_ping", system::ping),
    route("HEAD", "/_ping", system::ping),
    route("GET", "/version", system::version),
    route("GET", "/info", system::info),
    route("GET", "/events", events::events),
    route("GET", "/system/df", system::df),
    route("POST", "/auth", system::auth),
    route("POST", "/containers/create", containers::create),
    route("GET", "/containers/json", containers::list),
    route("GET", "/containers/{}/json", containers::inspect),
    route("POST", "/containers/{}/start", containers::start),
    route("POST", "/containers/{}/stop", containers::stop),
    route("POST", "/containers/{}/restart", containers::restart),
    route("POST", "/containers/{}/kill", containers::kill),
    route("POST", "/containers/{}/wait", containers::wait),
    route("DELETE", "/containers/{}", containers::remove),
    route("GET", "/containers/{}/logs", containers::logs),
    route("POST", "/containers/{}/attach", containers::attach),
    route("GET", "/containers/{}/top", containers::top),
    route("GET", "/containers/{}/stats", stats::stats),
    route("GET", "/containers/{}/archive", archive::get),
    route("PUT", "/containers/{}/archive", archive::put),
    route("HEAD", "/containers/{}/archive", archive::head),
    route("POST", "/containers/{}/pause", containers::pause),
    route("POST", "/containers/{}/rename", containers::rename),
    route("POST", "/containers/{}/update", containers::update),
    route("GET", "/containers/{}/changes", containers::changes),
    route("GET", "/containers/{}/export", containers::export),
    route("POST", "/containers/prune", prune::containers),
    route("POST", "/images/prune", prune::images),
    route("POST", "/networks/prune", prune::networks),
    route("POST", "/volumes/prune", prune::volumes),
    route("POST", "/containers/{}/unpause", containers::unpause),
    route("POST", "/containers/{}/exec", exec::create),
    route("POST", "/exec/{}/start", exec::start),
    route("GET", "/exec/{}/json", exec::inspect),
    route("POST", "/exec/{}/resize", exec::resize),
    route("GET", "/images/json", images::list),
    route("POST", "/images/create", images::create),
    route("GET", "/images/{*}/json", images::inspect),
    route("POST", "/images/{*}/tag", images::tag),
    route("GET", "/images/{*}/history", images::history),
    route("POST", "/commit", images::commit),
    route("POST", "/images/{*}/push", images::push),
    route("GET", "/images/get", images::save),
    route("GET", "/images/{*}/get", images::save),
    route("POST", "/images/load", images::load),
    route("DELETE", "/images/{*}", images::remove),
    route("POST", "/build", build::build),
    route("GET", "/networks", networks::list),
    route("POST", "/networks/create", networks::create),
    route("GET", "/networks/{}", networks::inspect),
    route("DELETE", "/networks/{}", networks::remove),
    route("POST", "/networks/{}/connect", networks::connect),
    route("POST", "/networks/{}/disconnect", networks::disconnect),
    route("GET", "/volumes", volumes::list),
    route("POST", "/volumes/create", volumes::create),
    route("GET", "/volumes/{}", volumes::inspect),
    route("DELETE", "/volumes/{}", volumes::remove),
    route("GET", "/swarm", system::no_swarm),
    route("GET", "/services", system::no_swarm),
    route("GET", "/nodes", system::no_swarm),
    route("GET", "/secrets", system::no_swarm),
    route("GET", "/configs", system::no_swarm),
];

/// The route of `method path` and the values of its placeholders.
pub fn find(method: &str, path: &str) -> Result<(&'static Route, Vec<String>), ApiError> {
    let path = strip_version(path)?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| matches(r.pattern, &segments).map(|params| (r, params)))
        .ok_or(ApiError::UnknownEndpoint)
}

/// `/v1.44/containers/json` → `/containers/json`; refuses versions this server does not speak,
/// in Docker's words.
fn strip_version(path: &str) -> Result<&str, ApiError> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok(path);
    };
    let (version, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some(parsed) = parse_version(version) else {
        // `/volumes`, `/version`: not a version prefix.
        return Ok(path);
    };
    if parsed > parse_version(API_VERSION).expect("ours parses") {
        return Err(ApiError::BadRequest(format!(
            "client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if parsed < parse_version(MIN_API_VERSION).expect("ours parses") {
        return Err(ApiError::BadRequest(format!(
            "client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    Ok(tail)
}

pub(crate) fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn matches(pattern: &str, segments: &[&str]) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    if let Some(star) = parts.iter().position(|p| *p == "{*}") {
        let (before, after) = (&parts[..star], &parts[star + 1..]);
        if segments.len() < before.len() + after.len() + 1 {
            return None;
        }
        let middle = &segments[before.len()..segments.len() - after.len()];
        let mut params = fixed(before, &segments[..before.len()])?;
        params.push(middle.join("/"));
        params.extend(fixed(after, &segments[segments.len() - after.len()..])?);
        return Some(params);
    }
    if parts.len() != segments.len() {
        return None;
    }
    fixed(&parts, segments)
}

fn fixed(parts: &[&str], segments: &[&str]) -> Option<Vec<String>> {
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if *part == "{}" {
            if segment.is_empty() {
                return None;
            }
            params.push(segment.to_string());
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: &str, path: &str) -> (&'static str, Vec<String>) {
        let (route, params) = find(method, path).unwrap();
        (route.pattern, params)
    }

    #[test]
    fn versioned_and_bare_paths_reach_the_same_route() {
        assert_eq!(found("GET", "/v1.41/containers/json").0, "/containers/json");
        assert_eq!(found("GET", "/containers/json").0, "/containers/json");
        assert_eq!(found("GET", "/version").0, "/version");
        assert_eq!(found("GET", "/v1.44/version").0, "/version");
    }

    #[test]
    fn image_names_keep_their_slashes() {
        assert_eq!(
            found("GET", "/v1.44/images/localhost:5000/library/busybox:1/json"),
            (
                "/images/{*}/json",
                vec!["localhost:5000/library/busybox:1".into()]
            )
        );
        assert_eq!(
            found("DELETE", "/images/library/busybox"),
            ("/images/{*}", vec!["library/busybox".into()])
        );
    }

    #[test]
    fn unknown_endpoints_and_versions_are_refused() {
        assert!(matches!(
            find("GET", "/nope"),
            Err(ApiError::UnknownEndpoint)
        ));
        assert!(matches!(
            find("PUT", "/containers/json"),
            Err(ApiError::UnknownEndpoint)
        ));
        assert!(matches!(
            find("GET", "/containers//json"),
            Err(ApiError::UnknownEndpoint)
        ));
        let error = find("GET", "/v1.99/version").err().unwrap();
        assert_eq!(error.status(), 400);
        assert!(error.to_string().contains("too new"), "{error}");
    }
}
