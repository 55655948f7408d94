//! Events without a daemon. Whoever changes a container (the CLI that creates,
//! kills, stops or removes it; the monitor that starts it and sees it die) appends one JSON
//! line to `WHARF_RUN/events.jsonl`. The file is opened with `O_APPEND` and each event is
//! one `write`, which Linux appends whole to a regular file (under the inode's lock), so
//! lines from many processes never interleave. [`Engine::watch_events`] replays the recorded
//! lines and follows the ones appended after it started, as `docker events` does. Past [`ROTATE_AT`] bytes the file is renamed to
//! `events.jsonl.1` (the previous one goes); a follower notices and goes on in the new one.
//! Recording is best effort: a container operation never fails because its event could
//! not be written.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::containers::{now_rfc3339_nanos, ContainerRecord};
use crate::Engine;

mod filter;
mod read;

pub use filter::EventFilters;
pub use read::{EventWindow, Watched};

const EVENTS_FILE: &str = "events.jsonl";
/// Size past which the file is rotated.
const ROTATE_AT: u64 = 1 << 20;

/// One event, in Docker's terms: `type` is `container` (`action` one of `create`, `start`,
/// `kill`, `die`, `stop`, `pause`, `unpause`, `commit`, `destroy`...), `image` (`pull`,
/// `push`, `tag`, `untag`, `delete`, `import`, `load`, `save`), `network` (`create`,
/// `connect`, `disconnect`, `destroy`) or `volume` (`create`, `destroy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 with nanoseconds.
    pub time: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    pub id: String,
    /// The container's labels, `name` and `image`; `exitCode` for `die`, `signal` for
    /// `kill`.
    pub attributes: BTreeMap<String, String>,
}

impl Engine {
    fn events_path(&self) -> PathBuf {
        self.run_root().join(EVENTS_FILE)
    }

    /// Appends `action` on the container to the events file (best effort).
    pub(crate) fn record_event(
        &self,
        action: &str,
        record: &ContainerRecord,
        extra: &[(&str, String)],
    ) {
        let mut attributes = record.labels.clone();
        attributes.insert("name".into(), record.name.clone());
        attributes.insert("image".into(), record.image_name.clone());
        for (key, value) in extra {
            attributes.insert((*key).into(), value.clone());
        }
        self.append_event("container", action, &record.id, attributes);
    }

    /// Appends `action` on an image, network or volume (`kind`) to the events file, as
    /// Docker names them: `id` is the image's id or reference, the network's id, the
    /// volume's name.
    pub(crate) fn record_object_event(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: &[(&str, String)],
    ) {
        let attributes = attributes
            .iter()
            .map(|(key, value)| ((*key).to_string(), value.clone()))
            .collect();
        self.append_event(kind, action, id, attributes);
    }

    /// An image event as Docker's: `id` and the `name` attribute (a reference, or the id
    /// again).
    pub(crate) fn record_image_event(&self, action: &str, id: &str, name: &str) {
        self.record_object_event("image", action, id, &[("name", name.to_string())]);
    }

    fn append_event(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let event = Event {
            time: now_rfc3339_nanos(),
            kind: kind.into(),
            action: action.into(),
            id: id.into(),
            attributes,
        };
        let Ok(mut line) = serde_json::to_vec(&event) else {
            return;
        };
        line.push(b'\n');
        let path = self.events_path();
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
        };
        // An image event may come before anything made WHARF_RUN.
        let opened = open().or_else(|_| {
            std::fs::create_dir_all(self.run_root())?;
            open()
        });
        let Ok(mut file) = opened else {
            return;
        };
        let _ = file.write_all(&line);
        if file.metadata().is_ok_and(|m| m.len() > ROTATE_AT) {
            let _ = std::fs::rename(&path, path.with_extension("jsonl.1"));
        }
    }
}
