//! `/images/...`: list, inspect, create (pull) and push with Docker's JSON progress stream,
//! tag, remove, save and load.

use serde_json::{json, Value};

use crate::backend::Backend;
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::handlers::containers::gone;
use crate::types::{Commit, ImageDeleted, ImageSummary, PullProgress};

pub fn list(call: &mut Call) -> Result<Reply, ApiError> {
    let filters = call.filters()?;
    let mut images = call.backend.list_images()?;
    for (key, values) in &filters {
        let keep = |i: &ImageSummary| values.iter().any(|v| filter_matches(i, key, v));
        match key.as_str() {
            "reference" | "dangling" | "label" => images.retain(keep),
            other => return Err(ApiError::BadRequest(format!("invalid filter '{other}'"))),
        }
    }
    Ok(Reply::Json(
        200,
        serde_json::to_value(images).expect("summaries serialize"),
    ))
}

/// `reference` matches a tag by name or `name:tag` (a `*` matches any run of characters
/// but `/`), `dangling=true` untagged images, `label=k[=v]`.
fn filter_matches(image: &ImageSummary, key: &str, value: &str) -> bool {
    match key {
        "reference" => image.repo_tags.iter().any(|tag| {
            let name = tag.rsplit_once(':').map_or(tag.as_str(), |(n, _)| n);
            glob(value, tag) || glob(value, name)
        }),
        "dangling" => image.repo_tags.is_empty() == matches!(value, "true" | "1"),
        "label" => match value.split_once('=') {
            Some((k, v)) => image.labels.get(k).is_some_and(|l| l == v),
            None => image.labels.contains_key(value),
        },
        _ => false,
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i) && !tail[..*i].contains('/'))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

pub fn inspect(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(200, call.backend.inspect_image(call.param(0))?))
}

/// `POST /images/create?fromImage=NAME&tag=TAG`: a pull. The stream starts with the first
/// progress message, so that a pull that fails at once (no such image) is a plain error
/// with its status, as Docker's.
pub fn create(call: &mut Call) -> Result<Reply, ApiError> {
    if call.query("fromSrc").is_some() {
        return Err(ApiError::NotImplemented("importing with fromSrc".into()));
    }
    let Some(image) = call.query("fromImage").filter(|i| !i.is_empty()) else {
        return Err(ApiError::BadRequest("fromImage is required".into()));
    };
    let reference = match call.query("tag").filter(|t| !t.is_empty()) {
        Some(tag) if tag.starts_with("sha256:") => format!("{image}@{tag}"),
        Some(tag) => format!("{image}:{tag}"),
        None => image.to_string(),
    };
    let up_to_date = json!({ "status": format!("Status: Image is up to date for {reference}") });
    progress_stream(call, up_to_date, |backend, progress| {
        backend.pull_image(&reference, progress)
    })
}

/// `POST /images/{name}/push?tag=TAG`, with `docker push`'s progress. Credentials come from
/// the service's own `wharf login` (`X-Registry-Auth` is not read).
pub fn push(call: &mut Call) -> Result<Reply, ApiError> {
    let reference = match call.query("tag").filter(|t| !t.is_empty()) {
        Some(tag) => format!("{}:{tag}", call.param(0)),
        None => call.param(0).to_string(),
    };
    progress_stream(call, json!({}), |backend, progress| {
        backend.push_image(&reference, progress)
    })
}

/// Runs `work` with its progress as Docker's JSON stream. The stream starts with the first
/// message, so that work that fails at once (no such image) is a plain error with its
/// status; a later failure is the stream's last message (`errorDetail`, `error`).
fn progress_stream(
    call: &mut Call,
    silent_reply: Value,
    work: impl FnOnce(&dyn Backend, &mut (dyn FnMut(PullProgress) + Send)) -> Result<(), ApiError>,
) -> Result<Reply, ApiError> {
    let backend = call.backend;
    let connection = &mut *call.connection;
    let mut stream = None;
    let mut alive = true;
    let result = work(backend, &mut |progress| {
        if stream.is_none() {
            stream = connection.stream(200, "application/json").ok();
        }
        if let Some(out) = stream.as_mut().filter(|_| alive) {
            alive = out.json_line(&progress_message(&progress)).is_ok();
        }
    });
    let Some(mut out) = stream else {
        result?;
        return Ok(Reply::Json(200, silent_reply));
    };
    if let Err(error) = result {
        let message = error.to_string();
        let _ = out.json_line(&json!({ "errorDetail": { "message": message }, "error": message }));
    }
    if alive {
        let _ = out.finish();
    }
    Ok(Reply::Written)
}

/// `GET /images/{name}/get` and `GET /images/get?names=...`: `docker save`'s tar, streamed.
/// Every image is looked up first, so that a missing one is a 404; a failure once the tar
/// is under way cuts the stream short rather than ending it well.
pub fn save(call: &mut Call) -> Result<Reply, ApiError> {
    let names: Vec<String> = match call.params.first() {
        Some(name) => vec![name.clone()],
        None => call
            .query_all("names")
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    if names.is_empty() {
        return Err(ApiError::BadRequest("names is required".into()));
    }
    for name in &names {
        call.backend.inspect_image(name)?;
    }
    let backend = call.backend;
    let mut out = call
        .connection
        .stream(200, "application/x-tar")
        .map_err(gone)?;
    if backend.save_images(&names, &mut out).is_ok() {
        let _ = out.finish();
    }
    Ok(Reply::Written)
}

/// `POST /images/load`: `docker load`'s lines, as JSON messages.
pub fn load(call: &mut Call) -> Result<Reply, ApiError> {
    let lines = call.backend.load_images(&call.request.body)?;
    let mut out = call
        .connection
        .stream(200, "application/json")
        .map_err(gone)?;
    for line in lines {
        if out
            .json_line(&json!({ "stream": format!("{line}\n") }))
            .is_err()
        {
            return Ok(Reply::Written);
        }
    }
    let _ = out.finish();
    Ok(Reply::Written)
}

fn progress_message(progress: &PullProgress) -> Value {
    match progress {
        PullProgress::Status(status) => json!({ "status": status }),
        PullProgress::Layer {
            id,
            status,
            current,
            total,
        } => {
            let detail = match (current, total) {
                (Some(current), Some(total)) => json!({ "current": current, "total": total }),
                (Some(current), None) => json!({ "current": current }),
                _ => json!({}),
            };
            json!({ "status": status, "progressDetail": detail, "id": id })
        }
    }
}

pub fn tag(call: &mut Call) -> Result<Reply, ApiError> {
    let Some(repo) = call.query("repo").filter(|r| !r.is_empty()) else {
        return Err(ApiError::BadRequest("repo is required".into()));
    };
    let target = match call.query("tag").filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo.to_string(),
    };
    call.backend.tag_image(call.param(0), &target)?;
    Ok(Reply::Empty(201))
}

pub fn history(call: &mut Call) -> Result<Reply, ApiError> {
    let rows = call.backend.image_history(call.param(0))?;
    Ok(Reply::Json(200, Value::Array(rows)))
}

/// `POST /commit`: the body is a `Config` (its fields at the top level); `null`, `{}` or
/// nothing keeps the container's.
pub fn commit(call: &mut Call) -> Result<Reply, ApiError> {
    let Some(container) = call.query("container").filter(|c| !c.is_empty()) else {
        return Err(ApiError::BadRequest("container is required".into()));
    };
    let text = |key: &str| {
        call.query(key)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let reference = match (text("repo"), text("tag")) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo),
        (None, Some(_)) => return Err(ApiError::BadRequest("a tag needs a repo".into())),
        (None, None) => None,
    };
    let config = if call.request.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match call.json::<Value>()? {
            Value::Null => None,
            Value::Object(map) if map.is_empty() => None,
            config @ Value::Object(_) => Some(config),
            other => return Err(ApiError::BadJson(format!("{other} is not a config object"))),
        }
    };
    let commit = Commit {
        container: container.to_string(),
        reference,
        comment: text("comment"),
        author: text("author"),
        pause: call.flag_or("pause", true),
        changes: call
            .query_all("changes")
            .into_iter()
            .map(str::to_string)
            .collect(),
        config,
    };
    let id = call.backend.commit_container(commit)?;
    Ok(Reply::Json(201, json!({ "Id": id })))
}

pub fn remove(call: &mut Call) -> Result<Reply, ApiError> {
    let removed = call
        .backend
        .remove_image(call.param(0), call.flag("force"))?;
    let lines: Vec<Value> = removed
        .into_iter()
        .map(|r| match r {
            ImageDeleted::Untagged(tag) => json!({ "Untagged": tag }),
            ImageDeleted::Deleted(id) => json!({ "Deleted": id }),
        })
        .collect();
    Ok(Reply::Json(200, Value::Array(lines)))
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn reference_globs_stop_at_slashes() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:*", "busybox:latest"));
        assert!(!glob("*", "library/busybox"));
        assert!(glob("*/busybox", "library/busybox"));
    }
}
