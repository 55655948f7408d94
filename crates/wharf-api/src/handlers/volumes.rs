//! `/volumes/...`: create, list, inspect, remove.

use serde_json::{json, Value};

use super::networks::label_matches;
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::types::VolumeCreate;

pub fn create(call: &mut Call) -> Result<Reply, ApiError> {
    // docker-py sends `{}` for an anonymous volume; some clients send nothing.
    let body: VolumeCreate = if call.request.body.iter().all(u8::is_ascii_whitespace) {
        VolumeCreate::default()
    } else {
        call.json()?
    };
    Ok(Reply::Json(201, call.backend.create_volume(body)?))
}

pub fn list(call: &mut Call) -> Result<Reply, ApiError> {
    let filters = call.filters()?;
    let mut volumes = call.backend.list_volumes()?;
    for (key, values) in &filters {
        let keep = |v: &Value| {
            values.iter().any(|wanted| match key.as_str() {
                "name" => v["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(wanted.as_str()),
                "label" => label_matches(&v["Labels"], wanted),
                "driver" => v["Driver"].as_str() == Some(wanted.as_str()),
                _ => false,
            })
        };
        match key.as_str() {
            "name" | "label" | "driver" => volumes.retain(keep),
            other => return Err(ApiError::BadRequest(format!("invalid filter '{other}'"))),
        }
    }
    Ok(Reply::Json(
        200,
        json!({ "Volumes": volumes, "Warnings": [] }),
    ))
}

pub fn inspect(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(
        200,
        call.backend.inspect_volume(call.param(0))?,
    ))
}

pub fn remove(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend
        .remove_volume(call.param(0), call.flag("force"))?;
    Ok(Reply::Empty(204))
}
