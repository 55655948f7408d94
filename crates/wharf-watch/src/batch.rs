//! Bursts of changes become one batch: a batch is due once no change has come for the quiet
//! period (a `git checkout` or a formatter over the tree writes file after file with no
//! pause), or once changes have kept coming for [`MAX_WAIT`], so that a tool that never
//! stops writing still gets its files synced. docker compose waits 500 ms of quiet; wharf
//! waits [`QUIET`]: an editor's save is a handful of events within a millisecond.
//! Time is given, never read, so that tests need no clock.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long no change must come before a batch is applied.
pub const QUIET: Duration = Duration::from_millis(40);
/// The longest a batch waits while changes keep coming.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// The changed paths not applied yet.
#[derive(Debug, Default)]
pub struct Debouncer {
    pending: BTreeSet<PathBuf>,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Debouncer {
    /// Records changes seen at `now`; a path changed twice is in the batch once.
    pub fn add(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        self.pending.extend(paths);
        if !self.pending.is_empty() {
            self.first.get_or_insert(now);
            self.last = Some(now);
        }
    }

    /// When the pending batch is due, `None` when nothing is pending.
    pub fn due(&self) -> Option<Instant> {
        let (first, last) = (self.first?, self.last?);
        Some((last + QUIET).min(first + MAX_WAIT))
    }

    /// The batch, when it is due at `now`.
    pub fn take(&mut self, now: Instant) -> Option<Vec<PathBuf>> {
        if self.due()? > now {
            return None;
        }
        self.first = None;
        self.last = None;
        Some(std::mem::take(&mut self.pending).into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn a_burst_is_one_batch_after_the_quiet_period() {
        let start = Instant::now();
        let mut batch = Debouncer::default();
        assert_eq!(batch.due(), None);
        for i in 0..500u64 {
            let at = start + Duration::from_micros(i * 50);
            batch.add([PathBuf::from(format!("/p/{i}"))], at);
            assert_eq!(batch.take(at), None);
        }
        let last = start + Duration::from_micros(499 * 50);
        assert_eq!(batch.due(), Some(last + QUIET));
        assert_eq!(batch.take(last + QUIET).map(|b| b.len()), Some(500));
        assert_eq!(batch.due(), None);
    }

    #[test]
    fn the_same_path_twice_is_once() {
        let now = Instant::now();
        let mut batch = Debouncer::default();
        batch.add(paths(&["/p/a", "/p/a", "/p/b"]), now);
        batch.add(paths(&["/p/a"]), now);
        assert_eq!(batch.take(now + QUIET), Some(paths(&["/p/a", "/p/b"])));
    }

    #[test]
    fn changes_that_never_stop_are_applied_after_the_longest_wait() {
        let start = Instant::now();
        let mut batch = Debouncer::default();
        let mut at = start;
        while at < start + MAX_WAIT {
            batch.add([PathBuf::from(format!("/p/{at:?}"))], at);
            at += QUIET / 2;
        }
        assert_eq!(batch.due(), Some(start + MAX_WAIT));
        assert!(batch.take(start + MAX_WAIT).is_some());
    }
}
