//! `POST /{containers,images,networks,volumes}/prune`. Filters the engine cannot honour are
//! refused: a prune that ignored `label` or `until` would remove more than asked.

use std::collections::BTreeMap;

use serde_json::json;

use crate::call::{Call, Reply};
use crate::error::ApiError;

/// The filters, with only the keys in `known`.
fn filters(call: &Call, known: &[&str]) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let filters = call.filters()?;
    match filters.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(ApiError::NotImplemented(format!(
            "the prune filter {key:?}"
        ))),
        None => Ok(filters),
    }
}

/// A boolean filter (`dangling=false`, `all=true`); `default` when absent.
fn flag(
    filters: &BTreeMap<String, Vec<String>>,
    key: &str,
    default: bool,
) -> Result<bool, ApiError> {
    match filters.get(key).and_then(|values| values.last()) {
        None => Ok(default),
        Some(value) => match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "invalid filter '{key}={value}': use true or false"
            ))),
        },
    }
}

pub fn containers(call: &mut Call) -> Result<Reply, ApiError> {
    filters(call, &[])?;
    let (deleted, reclaimed) = call.backend.prune_containers()?;
    Ok(Reply::Json(
        200,
        json!({ "ContainersDeleted": deleted, "SpaceReclaimed": reclaimed }),
    ))
}

pub fn images(call: &mut Call) -> Result<Reply, ApiError> {
    let filters = filters(call, &["dangling"])?;
    let all = !flag(&filters, "dangling", true)?;
    let (deleted, reclaimed) = call.backend.prune_images(all)?;
    Ok(Reply::Json(
        200,
        json!({ "ImagesDeleted": deleted, "SpaceReclaimed": reclaimed }),
    ))
}

pub fn networks(call: &mut Call) -> Result<Reply, ApiError> {
    filters(call, &[])?;
    let deleted = call.backend.prune_networks()?;
    Ok(Reply::Json(200, json!({ "NetworksDeleted": deleted })))
}

/// Anonymous volumes only unless `all=true`, as Docker since API 1.42; every unused volume
/// for older clients, as Docker did then.
pub fn volumes(call: &mut Call) -> Result<Reply, ApiError> {
    let filters = filters(call, &["all"])?;
    let all = flag(&filters, "all", !call.version_at_least((1, 42)))?;
    let (deleted, reclaimed) = call.backend.prune_volumes(all)?;
    Ok(Reply::Json(
        200,
        json!({ "VolumesDeleted": deleted, "SpaceReclaimed": reclaimed }),
    ))
}
