//! `compose watch` without containers: which changed files each `develop.watch` rule takes
//! ([`RuleMatcher`]: `ignore`, `include`, the service's `.dockerignore`, editors' temporary
//! files and `.git`), changes read from inotify ([`Watcher`]), bursts coalesced into one
//! batch ([`Debouncer`]), and the plan of a batch per service ([`plan`]: copies, deletions
//! in the container, restart, exec, rebuild). It never touches a container: the engine
//! applies the plan. It never writes to the host.
//!
//! ```
//! use std::path::{Path, PathBuf};
//! use wharf_compose::develop::{WatchAction, WatchRule};
//! use wharf_watch::{plan, Change, RuleMatcher, Scope, ServiceRules};
//!
//! let rule = WatchRule {
//!     path: "/src/app".into(),
//!     action: WatchAction::Sync,
//!     target: "/app".into(),
//!     ..WatchRule::default()
//! };
//! let matcher = RuleMatcher::new(&rule, None)?;
//! let web = ServiceRules { service: "web".into(), rules: vec![(rule, matcher)] };
//! let batch = [PathBuf::from("/src/app/main.py"), PathBuf::from("/src/app/.main.py.swp")];
//! let plans = plan(&[web], &batch, Scope::Changes, &|_: &Path| true);
//! assert_eq!(
//!     plans[0].changes,
//!     [Change::Copy { host: "/src/app/main.py".into(), target: "/app/main.py".into() }]
//! );
//! # Ok::<(), wharf_watch::WatchError>(())
//! ```

mod batch;
mod error;
mod inotify;
mod matcher;
mod plan;
mod rules;

pub use batch::{Debouncer, MAX_WAIT, QUIET};
pub use error::WatchError;
pub use inotify::{walk, Wanted, Watcher};
pub use matcher::{RuleMatcher, EPHEMERAL};
pub use plan::{plan, Change, Scope, ServicePlan, ServiceRules};
pub use rules::{compile, roots, wanted};
