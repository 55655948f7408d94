//! Prunes, `/system/df` and `/auth` over the engine.

use serde_json::{json, Value};
use wharf_api::types::{AuthConfig, ImageDeleted};
use wharf_api::ApiError;
use wharf_engine::Engine;

use super::{api_error, containers, images};

pub fn prune_images(engine: &Engine, all: bool) -> Result<(Vec<ImageDeleted>, u64), ApiError> {
    let report = engine.prune_images(all).map_err(api_error)?;
    let deleted = images::deleted(&report.untagged, &report.deleted_images);
    Ok((deleted, report.reclaimed_bytes))
}

/// Docker's `types.DiskUsage`: the lists `docker system df` adds up. Layers are counted
/// once however many images share them (`LayersSize`, bytes on disk as the engine counts
/// them), as is each image's `SharedSize`; volumes carry their size and users.
pub fn disk_usage(engine: &Engine) -> Result<Value, ApiError> {
    let usage = engine.disk_usage().map_err(api_error)?;
    let listed = engine.list_containers().map_err(api_error)?;
    let mut images = images::list(engine)?;
    for image in &mut images {
        image.containers = listed
            .iter()
            .filter(|c| c.record.image_id.to_string() == image.id)
            .count() as i64;
        image.shared_size = usage
            .image_rows
            .iter()
            .find(|row| row.id.to_string() == image.id)
            .map_or(0, |row| row.shared_size as i64);
    }
    let containers: Vec<Value> = containers::list(engine)?
        .into_iter()
        .map(|summary| {
            let size = engine.writable_layer_size(&summary.id);
            let mut value = serde_json::to_value(summary).expect("summaries serialize");
            value["SizeRw"] = json!(size);
            value
        })
        .collect();
    let volumes: Vec<Value> = super::volumes::list_volumes(engine)?
        .into_iter()
        .map(|mut volume| {
            let row = usage
                .volume_rows
                .iter()
                .find(|row| volume["Name"] == row.volume.name.as_str());
            volume["UsageData"] = match row {
                Some(row) => json!({ "Size": row.size, "RefCount": row.links }),
                None => json!({ "Size": -1, "RefCount": -1 }),
            };
            volume
        })
        .collect();
    Ok(json!({
        "LayersSize": usage.images.size,
        "Images": images,
        "Containers": containers,
        "Volumes": volumes,
        "BuildCache": [],
    }))
}

/// A refusal by the registry is Docker's 401; anything else (no route to it) a 500.
pub fn check_auth(engine: &Engine, body: AuthConfig) -> Result<(), ApiError> {
    let server = Some(body.serveraddress.as_str()).filter(|s| !s.is_empty());
    match engine.check_login(server, &body.username, &body.password) {
        Ok(_) => Ok(()),
        Err(error) if error.is_unauthorized() => {
            Err(ApiError::Unauthorized(wharf_engine::error_chain(&error)))
        }
        Err(error) => Err(api_error(error)),
    }
}
