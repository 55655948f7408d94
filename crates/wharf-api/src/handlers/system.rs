//! `/_ping`, `/version`, `/info`, `/system/df`, `/auth`, and the swarm endpoints an engine without swarm refuses.

use serde_json::json;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::types::AuthConfig;

/// `GET|HEAD /_ping`: `OK`, with the headers clients negotiate the version from.
pub fn ping(call: &mut Call) -> Result<Reply, ApiError> {
    if call.request.method == "HEAD" {
        return Ok(Reply::Empty(200));
    }
    Ok(Reply::Text(200, "OK"))
}

pub fn version(call: &mut Call) -> Result<Reply, ApiError> {
    let version = call.backend.version();
    let mut value = serde_json::to_value(&version).expect("the version serializes");
    value["Platform"] = json!({ "Name": "wharf" });
    value["Components"] = json!([{
        "Name": "Engine",
        "Version": version.version,
        "Details": { "ApiVersion": version.api_version, "MinAPIVersion": version.min_api_version, "Os": version.os, "Arch": version.arch, "KernelVersion": version.kernel_version },
    }]);
    Ok(Reply::Json(200, value))
}

pub fn info(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(200, call.backend.info()?))
}

pub fn df(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(200, call.backend.disk_usage()?))
}

/// Checks the credentials as `docker login` does; the daemon keeps nothing (the client
/// stores them).
pub fn auth(call: &mut Call) -> Result<Reply, ApiError> {
    let body: AuthConfig = call.json()?;
    call.backend.check_auth(body)?;
    Ok(Reply::Json(
        200,
        json!({ "Status": "Login Succeeded", "IdentityToken": "" }),
    ))
}

pub fn no_swarm(_call: &mut Call) -> Result<Reply, ApiError> {
    Err(ApiError::NoSwarm)
}
