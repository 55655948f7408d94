//! `/containers/{id}/archive`: GET a tar of a path in the container, PUT a tar into a
//! directory of it (docker-py's `get_archive` and `put_archive`). HEAD and the
//! `X-Docker-Container-Path-Stat` header that `docker cp` reads are not served yet.

use crate::call::{Call, Reply};
use crate::error::ApiError;

fn path(call: &Call) -> Result<String, ApiError> {
    call.query("path")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::BadRequest("path is required".into()))
}

/// The tar is made whole before the reply starts, so that a missing path is a 404.
pub fn get(call: &mut Call) -> Result<Reply, ApiError> {
    let path = path(call)?;
    let mut tar = Vec::new();
    call.backend.get_archive(call.param(0), &path, &mut tar)?;
    call.connection
        .reply(200, "application/x-tar", &tar)
        .map_err(|e| ApiError::Engine(format!("the client went away: {e}")))?;
    Ok(Reply::Written)
}

pub fn put(call: &mut Call) -> Result<Reply, ApiError> {
    let path = path(call)?;
    call.backend
        .put_archive(call.param(0), &path, &call.request.body)?;
    Ok(Reply::Empty(200))
}
