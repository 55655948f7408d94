//! `/networks/...`: create, list, inspect, remove, connect, disconnect.

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::types::{NetworkConnect, NetworkCreate};

/// The networks every engine has, for `type=builtin`.
const BUILTIN: [&str; 3] = ["bridge", "host", "none"];

pub fn create(call: &mut Call) -> Result<Reply, ApiError> {
    let body: NetworkCreate = call.json()?;
    if body.name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::BadRequest("network name is required".into()));
    }
    let id = call.backend.create_network(body)?;
    Ok(Reply::Json(201, json!({ "Id": id, "Warning": "" })))
}

pub fn list(call: &mut Call) -> Result<Reply, ApiError> {
    let filters = call.filters()?;
    let mut networks = call.backend.list_networks()?;
    for (key, values) in &filters {
        let keep = |n: &Value| values.iter().any(|v| filter_matches(n, key, v));
        match key.as_str() {
            "name" | "id" | "label" | "driver" | "type" => networks.retain(keep),
            other => return Err(ApiError::BadRequest(format!("invalid filter '{other}'"))),
        }
    }
    Ok(Reply::Json(200, Value::Array(networks)))
}

/// Docker's network filters over inspect objects: `name` (substring), `id` (prefix),
/// `label=k[=v]`, `driver`, `type=custom|builtin`.
pub fn filter_matches(network: &Value, key: &str, value: &str) -> bool {
    let text = |field: &str| network[field].as_str().unwrap_or_default().to_string();
    match key {
        "name" => text("Name").contains(value),
        "id" => text("Id").starts_with(value),
        "driver" => text("Driver") == value,
        "type" => BUILTIN.contains(&text("Name").as_str()) == (value == "builtin"),
        "label" => label_matches(&network["Labels"], value),
        _ => false,
    }
}

/// `label=k` or `label=k=v` over a `Labels` object.
pub fn label_matches(labels: &Value, value: &str) -> bool {
    match value.split_once('=') {
        Some((k, v)) => labels[k].as_str() == Some(v),
        None => labels.get(value).is_some(),
    }
}

pub fn inspect(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(
        200,
        call.backend.inspect_network(call.param(0))?,
    ))
}

pub fn remove(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.remove_network(call.param(0))?;
    Ok(Reply::Empty(204))
}

pub fn connect(call: &mut Call) -> Result<Reply, ApiError> {
    let body: NetworkConnect = call.json()?;
    if body.container.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::BadRequest("Container is required".into()));
    }
    call.backend.connect_network(call.param(0), body)?;
    Ok(Reply::Empty(200))
}

pub fn disconnect(call: &mut Call) -> Result<Reply, ApiError> {
    let body: NetworkConnect = call.json()?;
    let Some(container) = body.container.filter(|c| !c.is_empty()) else {
        return Err(ApiError::BadRequest("Container is required".into()));
    };
    call.backend.disconnect_network(call.param(0), &container)?;
    Ok(Reply::Empty(200))
}
