//! Reading the events file: the recorded past (the rotated file, then the current one) from
//! a time on, and the lines appended from then on, as `docker events --since/--until` reads
//! its daemon's ring of past events and then its live ones.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Event;
use crate::error::{IoResultExt, Result};
use crate::Engine;

/// How often a follower looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(20);

/// Which events to read: with `since`, the recorded ones from then on (none of the past
/// without it); with `until`, none after it, and the reading ends then.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventWindow {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl EventWindow {
    fn after_until(&self, time: OffsetDateTime) -> bool {
        self.until.is_some_and(|until| time > until)
    }
}

/// What `watch_events` tells its caller.
pub enum Watched<'a> {
    Event(&'a Event),
    /// Nothing new for a moment: the caller may check that its reader is still there.
    Idle,
}

impl Engine {
    /// Calls `each` with every event recorded from now on, until it returns false.
    pub fn follow_events(&self, mut each: impl FnMut(&Event) -> bool) -> Result<()> {
        self.watch_events(&EventWindow::default(), |watched| match watched {
            Watched::Event(event) => each(event),
            Watched::Idle => true,
        })
    }

    /// Calls `each` with the events of `window`, oldest first, until it returns false, the
    /// window's `until` has passed, or (without `until`) never.
    pub fn watch_events(
        &self,
        window: &EventWindow,
        mut each: impl FnMut(Watched) -> bool,
    ) -> Result<()> {
        let path = self.events_path();
        let mut reader = match window.since {
            Some(_) => {
                let rotated = path.with_extension("jsonl.1");
                if let Some(mut old) = open(&rotated, false)? {
                    let mut partial = Vec::new();
                    if !read_lines(&mut old, &rotated, &mut partial, window, &mut each)?.going_on {
                        return Ok(());
                    }
                }
                open(&path, false)?
            }
            None => open(&path, true)?,
        };
        let mut partial = Vec::new();
        loop {
            let mut progressed = false;
            if let Some(open) = &mut reader {
                let read = read_lines(open, &path, &mut partial, window, &mut each)?;
                if !read.going_on {
                    return Ok(());
                }
                progressed = read.progressed;
            }
            // Rotated (or made since we started): on with the new file, from its start.
            let current = std::fs::metadata(&path).ok().map(|m| m.ino());
            let ours = reader
                .as_ref()
                .and_then(|r| r.get_ref().metadata().ok())
                .map(|m| m.ino());
            if current.is_some() && current != ours {
                reader = open(&path, false)?;
                partial.clear();
                continue;
            }
            if progressed {
                continue;
            }
            if window.after_until(OffsetDateTime::now_utc()) || !each(Watched::Idle) {
                return Ok(());
            }
            std::thread::sleep(FOLLOW_POLL);
        }
    }
}

/// What one pass over the lines there are did.
struct Read {
    progressed: bool,
    /// False once `send` said to stop.
    going_on: bool,
}

/// Sends every whole line there is; a line being written stays in `partial`. Lines that
/// are not events (a torn write, bytes that are not UTF-8) are skipped.
fn read_lines(
    reader: &mut BufReader<File>,
    path: &Path,
    partial: &mut Vec<u8>,
    window: &EventWindow,
    each: &mut impl FnMut(Watched) -> bool,
) -> Result<Read> {
    let mut progressed = false;
    loop {
        let read = reader.read_until(b'\n', partial).at("read", path)?;
        if read == 0 || !partial.ends_with(b"\n") {
            return Ok(Read {
                progressed,
                going_on: true,
            });
        }
        progressed = true;
        let event = serde_json::from_slice::<Event>(partial).ok();
        partial.clear();
        if let Some(event) = event {
            if !send(&event, window, each) {
                return Ok(Read {
                    progressed,
                    going_on: false,
                });
            }
        }
    }
}

/// Gives `event` to `each` if it is in `window`; false once `each` or the window ends.
fn send(event: &Event, window: &EventWindow, each: &mut impl FnMut(Watched) -> bool) -> bool {
    let Ok(time) = OffsetDateTime::parse(&event.time, &Rfc3339) else {
        return true;
    };
    if window.since.is_some_and(|since| time < since) {
        return true;
    }
    !window.after_until(time) && each(Watched::Event(event))
}

/// The file, at its start or its end; `None` while nobody has recorded an event.
fn open(path: &Path, at_end: bool) -> Result<Option<BufReader<File>>> {
    match File::open(path) {
        Ok(mut file) => {
            if at_end {
                file.seek(std::io::SeekFrom::End(0)).at("read", path)?;
            }
            Ok(Some(BufReader::new(file)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).at("open", path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line that is not UTF-8 (a write torn in a character, a corrupt file) failed every
    /// `events --since` until the file rotated: found by the `events` fuzz target.
    #[test]
    fn lines_that_are_not_utf8_are_skipped_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path().join("root"), dir.path().join("run")).unwrap();
        std::fs::create_dir_all(engine.run_root()).unwrap();
        let line = |action: &str| {
            format!(
                r#"{{"time":"2026-01-02T03:04:05Z","type":"container","action":"{action}","id":"a","attributes":{{}}}}"#
            )
            .into_bytes()
        };
        let mut file = line("create");
        file.extend_from_slice(b"\n{\"time\":\"2026-\xff\xfe\n");
        file.extend_from_slice(&line("start"));
        file.push(b'\n');
        std::fs::write(engine.events_path(), file).unwrap();
        let window = EventWindow {
            since: Some(OffsetDateTime::UNIX_EPOCH),
            until: Some(time::macros::datetime!(2026-01-03 0:00 UTC)),
        };
        let mut actions = Vec::new();
        engine
            .watch_events(&window, |watched| {
                if let Watched::Event(event) = watched {
                    actions.push(event.action.clone());
                }
                true
            })
            .unwrap();
        assert_eq!(actions, ["create", "start"]);
    }
}
