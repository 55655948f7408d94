//! Container events without a daemon. Whoever changes a container (the CLI that creates,
//! kills, stops or removes it; the monitor that starts it and sees it die) appends one JSON
//! line to `WHARF_RUN/events.jsonl`. The file is opened with `O_APPEND` and each event is
//! one `write`, which Linux appends whole to a regular file (under the inode's lock), so
//! lines from many processes never interleave. [`Engine::follow_events`] reads the lines appended after it started,
//! as `docker events` does. Past [`ROTATE_AT`] bytes the file is renamed to
//! `events.jsonl.1` (the previous one goes); a follower notices and goes on in the new one.
//! Recording is best effort: a container operation never fails because its event could
//! not be written.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::containers::{now_rfc3339_nanos, ContainerRecord};
use crate::error::{IoResultExt, Result};
use crate::Engine;

const EVENTS_FILE: &str = "events.jsonl";
/// Size past which the file is rotated.
const ROTATE_AT: u64 = 1 << 20;
/// How often a follower looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(20);

/// One event, in Docker's terms: `type` is `container`, `action` one of `create`,
/// `start`, `kill`, `die`, `stop`, `pause`, `unpause`, `destroy`.
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
        let event = Event {
            time: now_rfc3339_nanos(),
            kind: "container".into(),
            action: action.into(),
            id: record.id.clone(),
            attributes,
        };
        let Ok(mut line) = serde_json::to_vec(&event) else {
            return;
        };
        line.push(b'\n');
        let path = self.events_path();
        let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        else {
            return;
        };
        let _ = file.write_all(&line);
        if file.metadata().is_ok_and(|m| m.len() > ROTATE_AT) {
            let _ = std::fs::rename(&path, path.with_extension("jsonl.1"));
        }
    }

    /// Calls `each` with every event recorded from now on, until it returns false.
    pub fn follow_events(&self, each: impl FnMut(&Event) -> bool) -> Result<()> {
        self.follow_events_between(None, None, each)
    }

    /// As [`Engine::follow_events`], from the recorded events at or after `since` (those
    /// of the rotated file too), and ending once `until` has passed, as `docker events
    /// --since/--until`.
    pub fn follow_events_between(
        &self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
        mut each: impl FnMut(&Event) -> bool,
    ) -> Result<()> {
        let path = self.events_path();
        let time_of = |event: &Event| OffsetDateTime::parse(&event.time, &Rfc3339).ok();
        let mut each = |event: &Event| match (time_of(event), since, until) {
            (Some(time), _, Some(until)) if time > until => false,
            (Some(time), Some(since), _) if time < since => true,
            _ => each(event),
        };
        if since.is_some() {
            let rotated = path.with_extension("jsonl.1");
            match std::fs::File::open(&rotated) {
                Ok(file) => {
                    for line in BufReader::new(file).lines() {
                        let line = line.at("read", &rotated)?;
                        if let Ok(event) = serde_json::from_str::<Event>(&line) {
                            if !each(&event) {
                                return Ok(());
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).at("open", &rotated),
            }
        }
        let open = |at_end: bool| -> Result<Option<BufReader<std::fs::File>>> {
            match std::fs::File::open(&path) {
                Ok(mut file) => {
                    if at_end {
                        file.seek(std::io::SeekFrom::End(0)).at("read", &path)?;
                    }
                    Ok(Some(BufReader::new(file)))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).at("open", &path),
            }
        };
        let mut reader = open(since.is_none())?;
        let mut partial = String::new();
        loop {
            let mut progressed = false;
            if let Some(open) = &mut reader {
                loop {
                    let read = open.read_line(&mut partial).at("read", &path)?;
                    if read == 0 || !partial.ends_with('\n') {
                        break;
                    }
                    progressed = true;
                    if let Ok(event) = serde_json::from_str::<Event>(&partial) {
                        if !each(&event) {
                            return Ok(());
                        }
                    }
                    partial.clear();
                }
            }
            // Rotated (or made since we started): on with the new file, from its start.
            let current = std::fs::metadata(&path).ok().map(|m| m.ino());
            let ours = reader
                .as_ref()
                .and_then(|r| r.get_ref().metadata().ok())
                .map(|m| m.ino());
            if current.is_some() && current != ours {
                reader = open(false)?;
                partial.clear();
                continue;
            }
            if until.is_some_and(|until| OffsetDateTime::now_utc() > until) {
                return Ok(());
            }
            if !progressed {
                std::thread::sleep(FOLLOW_POLL);
            }
        }
    }
}
