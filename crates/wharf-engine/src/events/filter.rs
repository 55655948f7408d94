//! `docker events --filter`: the keys Docker accepts and how each matches, as moby's
//! `daemon/events/filter.go` does. Values of one key are alternatives; keys must all match.

use std::collections::BTreeMap;

use super::Event;
use crate::error::{EngineError, Result};

/// Keys matched against the event's id or its `name` attribute, by prefix (Docker's
/// `FuzzyMatch`), whatever the event's type.
const BY_ID_OR_NAME: &[&str] = &[
    "container",
    "network",
    "volume",
    "plugin",
    "daemon",
    "node",
    "service",
    "secret",
    "config",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilters(BTreeMap<String, Vec<String>>);

impl EventFilters {
    /// From `key=value` pairs as `--filter` gives them.
    pub fn parse(pairs: &[String]) -> Result<Self> {
        let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in pairs {
            let (key, value) = pair.split_once('=').ok_or_else(|| EngineError::BadOption {
                flag: "--filter",
                value: pair.clone(),
                message: "expected key=value".into(),
            })?;
            filters
                .entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
        Self::new(filters)
    }

    /// From the API's decoded `filters`; a key Docker does not know is refused.
    pub fn new(filters: BTreeMap<String, Vec<String>>) -> Result<Self> {
        for key in filters.keys() {
            let known = BY_ID_OR_NAME.contains(&key.as_str())
                || matches!(key.as_str(), "event" | "image" | "label" | "type" | "scope");
            if !known {
                return Err(EngineError::BadOption {
                    flag: "--filter",
                    value: key.clone(),
                    message: format!("invalid filter '{key}'"),
                });
            }
        }
        Ok(Self(filters))
    }

    pub fn matches(&self, event: &Event) -> bool {
        self.0
            .iter()
            .all(|(key, values)| values.iter().any(|value| matches_one(event, key, value)))
    }
}

fn matches_one(event: &Event, key: &str, value: &str) -> bool {
    let name = event.attributes.get("name").map_or("", String::as_str);
    match key {
        // `health_status: healthy` is also `health_status`.
        "event" => event.action == value || event.action.split(':').next() == Some(value),
        "type" => event.kind == value,
        "scope" => value == "local",
        "image" => {
            let image = event.attributes.get("image").map_or("", String::as_str);
            [image, strip_tag(image), &event.id, strip_tag(&event.id)].contains(&value)
        }
        "label" => match value.split_once('=') {
            Some((k, v)) => event.attributes.get(k).is_some_and(|l| l == v),
            None => event.attributes.contains_key(value),
        },
        // `container=`, `network=`, `volume=`: events of that type only.
        _ if key != event.kind => false,
        _ => event.id.starts_with(value) || (!name.is_empty() && name.starts_with(value)),
    }
}

/// `busybox:1` → `busybox`; a registry's port is not a tag.
fn strip_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str) -> Event {
        Event {
            time: "2026-01-02T03:04:05.000000000Z".into(),
            kind: "container".into(),
            action: action.into(),
            id: "abcdef0123".into(),
            attributes: [
                ("name", "web"),
                ("image", "localhost:5000/busybox:1"),
                ("tier", "front"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        }
    }

    fn filters(pairs: &[&str]) -> EventFilters {
        EventFilters::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn keys_match_as_docker_matches_them() {
        let start = event("start");
        for yes in [
            &["container=web"][..],
            &["container=abc"],
            &["event=stop", "event=start"],
            &["image=localhost:5000/busybox"],
            &["image=localhost:5000/busybox:1"],
            &["label=tier", "label=tier=front"],
            &["type=container", "scope=local"],
            &[],
        ] {
            assert!(filters(yes).matches(&start), "{yes:?}");
        }
        for no in [
            &["container=db"][..],
            &["event=die"],
            &["image=busybox"],
            &["label=tier=back"],
            &["type=image"],
            &["event=start", "container=db"],
            &["network=bridge"],
        ] {
            assert!(!filters(no).matches(&start), "{no:?}");
        }
        assert!(filters(&["event=health_status"]).matches(&event("health_status: healthy")));
    }

    #[test]
    fn unknown_keys_and_pairs_without_a_value_are_refused() {
        let error = EventFilters::parse(&["colour=red".into()]).unwrap_err();
        assert!(
            error.to_string().contains("invalid filter 'colour'"),
            "{error}"
        );
        assert!(EventFilters::parse(&["container".into()]).is_err());
    }
}
