//! `POST /build`: the body is the context (a tar, plain or gzip); the reply streams Docker's
//! JSON messages (`stream` text, `aux` with the image id, `Successfully built`), and a
//! failure as `errorDetail` and `error`, which docker-py raises as `BuildError`.

use serde_json::json;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::types::BuildQuery;

pub fn build(call: &mut Call) -> Result<Reply, ApiError> {
    if call.query("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::NotImplemented(
            "building from a remote context".into(),
        ));
    }
    let query = BuildQuery {
        tags: call
            .query_all("t")
            .into_iter()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        dockerfile: call
            .query("dockerfile")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        build_args: call.json_map("buildargs")?,
        labels: call.json_map("labels")?,
        target: call
            .query("target")
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        no_cache: call.flag("nocache"),
        pull: call.flag("pull"),
        network: call
            .query("networkmode")
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        extra_hosts: call
            .query("extrahosts")
            .unwrap_or("")
            .split(',')
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let tags = query.tags.clone();
    let context = std::mem::take(&mut call.request.body);
    let backend = call.backend;
    let mut out = call
        .connection
        .stream(200, "application/json")
        .map_err(|e| ApiError::Engine(format!("the client went away: {e}")))?;
    let mut alive = true;
    // The head has gone: from here on, failures are messages in the stream.
    let result = backend.build_image(context, query, &mut |text| {
        if alive {
            alive = out.json_line(&json!({ "stream": text })).is_ok();
        }
    });
    let mut send = |message: serde_json::Value| {
        if alive {
            alive = out.json_line(&message).is_ok();
        }
    };
    match result {
        Ok(id) => {
            send(json!({ "aux": { "ID": id } }));
            let short = id
                .trim_start_matches("sha256:")
                .chars()
                .take(12)
                .collect::<String>();
            send(json!({ "stream": format!("Successfully built {short}\n") }));
            for tag in tags {
                send(json!({ "stream": format!("Successfully tagged {tag}\n") }));
            }
        }
        Err(error) => {
            let message = error.to_string();
            send(json!({ "errorDetail": { "message": message }, "error": message }));
        }
    }
    if alive {
        let _ = out.finish();
    }
    Ok(Reply::Written)
}
