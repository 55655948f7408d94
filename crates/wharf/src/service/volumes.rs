//! Volume calls of the API over the engine.

use serde_json::Value;
use wharf_api::types::VolumeCreate;
use wharf_api::ApiError;
use wharf_engine::{Engine, EngineError};

use super::api_error;

pub fn create_volume(engine: &Engine, body: VolumeCreate) -> Result<Value, ApiError> {
    if let Some(driver) = body.driver.filter(|d| !d.is_empty() && d != "local") {
        return Err(ApiError::BadRequest(format!(
            "Driver: {driver:?}: wharf has the local volume driver only"
        )));
    }
    if body.driver_opts.is_some_and(|o| !o.is_empty()) {
        return Err(ApiError::BadRequest(
            "DriverOpts: the local driver's options (type, device, o) are not supported yet".into(),
        ));
    }
    let name = engine
        .create_volume(
            body.name.as_deref().filter(|n| !n.is_empty()),
            &body.labels.unwrap_or_default(),
        )
        .map_err(api_error)?;
    engine.inspect_volume(&name).map_err(api_error)
}

pub fn list_volumes(engine: &Engine) -> Result<Vec<Value>, ApiError> {
    let volumes = engine.list_volumes().map_err(api_error)?;
    volumes
        .iter()
        .map(|v| engine.inspect_volume(&v.name).map_err(api_error))
        .collect()
}

/// `force` ignores a missing volume, as Docker's.
pub fn remove_volume(engine: &Engine, name: &str, force: bool) -> Result<(), ApiError> {
    match engine.remove_volume(name) {
        Err(EngineError::VolumeNotFound(_)) if force => Ok(()),
        result => result.map_err(api_error),
    }
}
