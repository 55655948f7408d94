//! `GET /events`: the engine's events as a stream of JSON messages, from `since` (the
//! recorded past) and until `until` (or until the client goes).

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::handlers::containers::gone;
use crate::types::EventsQuery;

pub fn events(call: &mut Call) -> Result<Reply, ApiError> {
    let query = EventsQuery {
        since: timestamp(call, "since")?,
        until: timestamp(call, "until")?,
        filters: call.filters()?,
    };
    let backend = call.backend;
    let connection = &mut *call.connection;
    let peer = connection.watch_peer().map_err(gone)?;
    // The head goes with the first event or the first quiet moment, so that a bad filter
    // is still answered as an error.
    let mut stream = None;
    let result = backend.events(&query, &mut |event| {
        if stream.is_none() {
            match connection.stream(200, "application/json") {
                Ok(opened) => stream = Some(opened),
                Err(_) => return false,
            }
        }
        let out = stream.as_mut().expect("opened above");
        match event {
            Some(event) => out.json_line(event).is_ok(),
            None => !peer.closed(),
        }
    });
    match stream {
        None => {
            result?;
            // `until` had passed and nothing was recorded: an empty stream.
            let empty = connection.stream(200, "application/json").map_err(gone)?;
            let _ = empty.finish();
        }
        Some(stream) => {
            let _ = stream.finish();
        }
    }
    Ok(Reply::Written)
}

/// Docker's API times: Unix seconds with an optional fraction (`1767366245.5`), as the docker
/// CLI sends them; in nanoseconds.
fn timestamp(call: &Call, key: &str) -> Result<Option<i128>, ApiError> {
    let Some(text) = call.query(key).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(format!(
            "invalid value for {key}: {text:?} is not a Unix time"
        ))
    };
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let seconds: i64 = seconds.parse().map_err(|_| bad())?;
    let nanos: i128 = format!("{fraction:0<9}").parse().map_err(|_| bad())?;
    Ok(Some(i128::from(seconds) * 1_000_000_000 + nanos))
}
