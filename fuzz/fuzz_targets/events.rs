//! `wharf events` and `/events`: the `--filter` strings, the `--since`/`--until` times (and
//! the durations they may be), and the reading of WHARF_RUN/events.jsonl and its rotated
//! predecessor. Input: a line of `--filter` values separated by tabs, a line for
//! `--since`, one for `--until`, then the events file (after a NUL byte, the rotated one
//! first). A file line that is not an event is skipped, never an error; events come in
//! the window; the same reading gives the same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::OffsetDateTime;
use wharf_engine::{parse_duration, parse_time, ContainerEvent, Engine, EventFilters, EventWindow};
use wharf_fuzz::Sandbox;

/// A fixed "now", so that the same input reads the same window.
const NOW: OffsetDateTime = datetime!(2026-01-02 15:04:05 UTC);

fn time_flag(text: &str) -> Option<OffsetDateTime> {
    let _ = parse_duration(text);
    match parse_time(text, NOW) {
        Ok(time) => Some(time),
        Err(why) => {
            assert!(!why.trim().is_empty(), "{text:?}: an empty error");
            None
        }
    }
}

fn read(engine: &Engine, window: &EventWindow) -> Vec<ContainerEvent> {
    let mut events = Vec::new();
    engine
        .watch_events(window, |watched| {
            if let wharf_engine::WatchedEvent::Event(event) = watched {
                events.push(event.clone());
            }
            true
        })
        .expect("reading the events file never fails on its content");
    events
}

fuzz_target!(|bytes: &[u8]| {
    let mut lines = bytes.splitn(4, |&b| b == b'\n');
    let mut line = || String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let (filters, since, until) = (line(), line(), line());
    let files = lines.next().unwrap_or_default();
    let (rotated, current) = match files.iter().position(|&b| b == 0) {
        Some(at) => (Some(&files[..at]), &files[at + 1..]),
        None => (None, files),
    };

    let pairs: Vec<String> = filters
        .split('\t')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let filters = match EventFilters::parse(&pairs) {
        Ok(filters) => Some(filters),
        Err(error) => {
            assert!(!error.to_string().trim().is_empty());
            None
        }
    };
    // Without --since nothing recorded is read; without --until the reading never ends.
    let window = EventWindow {
        since: Some(time_flag(&since).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        until: Some(time_flag(&until).map_or(NOW, |until| until.min(NOW))),
    };

    let sandbox = Sandbox::new();
    let root = sandbox.root();
    let engine = Engine::open(root.join("store"), root.join("run")).expect("an engine");
    std::fs::create_dir_all(root.join("run")).expect("the run folder");
    if let Some(rotated) = rotated {
        std::fs::write(root.join("run/events.jsonl.1"), rotated).expect("the rotated file");
    }
    std::fs::write(root.join("run/events.jsonl"), current).expect("the events file");

    let events = read(&engine, &window);
    let lines = files.split(|&b| b == b'\n').count();
    assert!(events.len() <= lines, "more events than lines");
    for event in &events {
        let time = OffsetDateTime::parse(&event.time, &Rfc3339).expect("a sent event's time");
        assert!(
            window.since.is_none_or(|since| time >= since),
            "{event:?} before --since"
        );
        assert!(
            window.until.is_none_or(|until| time <= until),
            "{event:?} after --until"
        );
        if let Some(filters) = &filters {
            assert_eq!(filters.matches(event), filters.matches(event));
        }
    }
    assert_eq!(events, read(&engine, &window), "two readings differ");
    sandbox.assert_untouched();
});
