//! A batch of changed host paths → what to do to each service, as docker compose does:
//! a change taken by a `rebuild` rule rebuilds the service and nothing else is done to it
//! (the new container has every file); otherwise the files of the sync rules are copied
//! (or deleted, when gone from the host) under their targets, then the service restarts
//! once if a `restart` or `sync+restart` rule took a change, and the `exec` of each
//! `sync+exec` rule that took one runs. A path is looked at on the host when the plan is
//! made, so a file written then removed within a batch is a deletion.

use std::path::{Path, PathBuf};

use wharf_compose::develop::{ServiceHook, WatchAction, WatchRule};

use crate::matcher::RuleMatcher;

/// One service's rules with their compiled filters.
#[derive(Debug, Clone)]
pub struct ServiceRules {
    pub service: String,
    pub rules: Vec<(WatchRule, RuleMatcher)>,
}

/// One change to make in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Copy the host path (a file, a folder without its content, a symlink) to `target`.
    Copy { host: PathBuf, target: String },
    /// Remove `target` in the container (the host path is gone). Never on the host.
    Delete { target: String },
}

/// What a batch does to one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServicePlan {
    pub service: String,
    /// Changed paths its rules took.
    pub taken: usize,
    pub rebuild: bool,
    /// In path order: a folder comes before what is in it.
    pub changes: Vec<Change>,
    pub restart: bool,
    pub execs: Vec<ServiceHook>,
}

/// Which rules a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Changes seen while watching: every rule.
    Changes,
    /// The first sync when watching starts: the sync rules with `initial_sync`, copies only.
    InitialSync,
}

/// The plan of `batch` (sorted, each path once) for each service that takes part of it.
/// `exists` says whether a host path is there now (without following a final symlink).
pub fn plan(
    services: &[ServiceRules],
    batch: &[PathBuf],
    scope: Scope,
    exists: &dyn Fn(&Path) -> bool,
) -> Vec<ServicePlan> {
    services
        .iter()
        .filter_map(|service| plan_service(service, batch, scope, exists))
        .collect()
}

fn plan_service(
    service: &ServiceRules,
    batch: &[PathBuf],
    scope: Scope,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<ServicePlan> {
    let mut plan = ServicePlan {
        service: service.service.clone(),
        ..ServicePlan::default()
    };
    let rules = service.rules.iter().filter(|(rule, _)| match scope {
        Scope::Changes => true,
        Scope::InitialSync => rule.initial_sync && rule.action.syncs(),
    });
    let rules: Vec<_> = rules.collect();
    for path in batch {
        let mut taken = false;
        for (rule, matcher) in &rules {
            let Some(rel) = matcher.take(path) else {
                continue;
            };
            taken = true;
            let target = container_path(&rule.target, &rel);
            match rule.action {
                WatchAction::Rebuild => plan.rebuild = true,
                WatchAction::Restart => plan.restart = true,
                action => {
                    plan.changes.push(if exists(path) {
                        Change::Copy {
                            host: path.clone(),
                            target,
                        }
                    } else {
                        Change::Delete { target }
                    });
                    if scope == Scope::Changes {
                        plan.restart |= action == WatchAction::SyncRestart;
                        if action == WatchAction::SyncExec && !plan.execs.contains(&rule.exec) {
                            plan.execs.push(rule.exec.clone());
                        }
                    }
                }
            }
        }
        plan.taken += usize::from(taken);
    }
    if plan.rebuild {
        plan.changes.clear();
        plan.restart = false;
        plan.execs.clear();
    }
    (plan.taken > 0).then_some(plan)
}

/// `target` joined with the path below the rule's root, `/`-separated.
fn container_path(target: &str, rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        return target.to_owned();
    }
    format!("{}/{}", target.trim_end_matches('/'), rel.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, action: WatchAction, target: &str, ignore: &[&str]) -> WatchRule {
        WatchRule {
            path: path.into(),
            action,
            target: target.into(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..WatchRule::default()
        }
    }

    fn service(name: &str, rules: Vec<WatchRule>) -> ServiceRules {
        ServiceRules {
            service: name.into(),
            rules: rules
                .into_iter()
                .map(|r| {
                    let m = RuleMatcher::new(&r, None).unwrap();
                    (r, m)
                })
                .collect(),
        }
    }

    fn batch(paths: &[&str]) -> Vec<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    fn copy(host: &str, target: &str) -> Change {
        Change::Copy {
            host: host.into(),
            target: target.into(),
        }
    }

    /// Paths containing "gone" are deleted on the host.
    fn exists(path: &Path) -> bool {
        !path.to_string_lossy().contains("gone")
    }

    fn web() -> ServiceRules {
        service(
            "web",
            vec![
                rule("/p/src", WatchAction::Sync, "/app", &["*.tmp"]),
                rule("/p/conf", WatchAction::SyncRestart, "/etc/app", &[]),
                rule("/p/requirements.txt", WatchAction::Rebuild, "", &[]),
            ],
        )
    }

    #[test]
    fn syncs_copies_and_deletes_under_the_target() {
        let plans = plan(
            &[web()],
            &batch(&[
                "/p/src/a.py",
                "/p/src/gone.py",
                "/p/src/new",
                "/p/src/x.tmp",
            ]),
            Scope::Changes,
            &exists,
        );
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].taken, 3);
        assert_eq!(
            plans[0].changes,
            [
                copy("/p/src/a.py", "/app/a.py"),
                Change::Delete {
                    target: "/app/gone.py".into()
                },
                copy("/p/src/new", "/app/new"),
            ]
        );
        assert!(!plans[0].restart && !plans[0].rebuild);
    }

    #[test]
    fn sync_restart_restarts_once_after_the_copies() {
        let plans = plan(
            &[web()],
            &batch(&["/p/conf/a.ini", "/p/conf/b.ini"]),
            Scope::Changes,
            &exists,
        );
        assert!(plans[0].restart);
        assert_eq!(plans[0].changes.len(), 2);
    }

    #[test]
    fn a_rebuild_replaces_everything_else_and_touches_only_its_service() {
        let other = service(
            "worker",
            vec![rule("/p/worker", WatchAction::Sync, "/w", &[])],
        );
        let plans = plan(
            &[web(), other],
            &batch(&["/p/conf/a.ini", "/p/requirements.txt", "/p/src/a.py"]),
            Scope::Changes,
            &exists,
        );
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].service, "web");
        assert!(plans[0].rebuild && !plans[0].restart && plans[0].changes.is_empty());
    }

    #[test]
    fn sync_exec_runs_each_rule_command_once() {
        let mut exec_rule = rule("/p/conf", WatchAction::SyncExec, "/etc/app", &[]);
        exec_rule.exec.command = Some(vec!["kill".into(), "-HUP".into(), "1".into()]);
        let plans = plan(
            &[service("web", vec![exec_rule])],
            &batch(&["/p/conf/a", "/p/conf/b"]),
            Scope::Changes,
            &exists,
        );
        assert_eq!(plans[0].execs.len(), 1);
        assert!(!plans[0].restart);
    }

    #[test]
    fn initial_sync_takes_only_its_rules_and_never_restarts() {
        let mut rules = vec![
            rule("/p/src", WatchAction::Sync, "/app", &[]),
            rule("/p/conf", WatchAction::SyncRestart, "/etc/app", &[]),
        ];
        rules[1].initial_sync = true;
        let plans = plan(
            &[service("web", rules)],
            &batch(&["/p/conf/a", "/p/src/a"]),
            Scope::InitialSync,
            &exists,
        );
        assert_eq!(plans[0].changes, [copy("/p/conf/a", "/etc/app/a")]);
        assert!(!plans[0].restart);
    }

    #[test]
    fn a_watched_file_maps_to_the_target_itself() {
        let plans = plan(
            &[service(
                "web",
                vec![rule("/p/app.conf", WatchAction::Sync, "/etc/app.conf", &[])],
            )],
            &batch(&["/p/app.conf", "/p/app.conf.bak"]),
            Scope::Changes,
            &exists,
        );
        assert_eq!(plans[0].changes, [copy("/p/app.conf", "/etc/app.conf")]);
    }
}
