//! `/containers/{id}/archive`: GET a tar of a path in the container, PUT a tar into a
//! directory of it (docker-py's `get_archive` and `put_archive`), HEAD what the path is.
//! GET and HEAD tell what the path is in `X-Docker-Container-Path-Stat` (base64 JSON), which
//! `docker cp` reads to decide where a copy goes.

use base64::Engine as _;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::handlers::containers::gone;

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

fn path(call: &Call) -> Result<String, ApiError> {
    call.query("path")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::BadRequest("path is required".into()))
}

/// The tar is made whole before the reply starts, so that a missing path is a 404.
pub fn get(call: &mut Call) -> Result<Reply, ApiError> {
    let path = path(call)?;
    let stat = stat_header(call, &path)?;
    let mut tar = Vec::new();
    call.backend.get_archive(call.param(0), &path, &mut tar)?;
    call.connection
        .reply_with(200, "application/x-tar", &[(STAT_HEADER, &stat)], &tar)
        .map_err(gone)?;
    Ok(Reply::Written)
}

pub fn head(call: &mut Call) -> Result<Reply, ApiError> {
    let path = path(call)?;
    let stat = stat_header(call, &path)?;
    call.connection
        .reply_with(200, "text/plain", &[(STAT_HEADER, &stat)], b"")
        .map_err(gone)?;
    Ok(Reply::Written)
}

fn stat_header(call: &Call, path: &str) -> Result<String, ApiError> {
    let stat = call.backend.stat_path(call.param(0), path)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(stat.to_json().to_string()))
}

pub fn put(call: &mut Call) -> Result<Reply, ApiError> {
    let path = path(call)?;
    call.backend
        .put_archive(call.param(0), &path, &call.request.body)?;
    Ok(Reply::Empty(200))
}
