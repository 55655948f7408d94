//! `wharf compose watch` without a container: rules (paths, actions, targets, `include`,
//! `ignore`, a `.dockerignore`) compiled into matchers, a sequence of changes at given
//! times coalesced into batches, and the plan of each batch. Every change is in exactly
//! the batches after it and none is lost; a copy or deletion lands below the target of a
//! sync rule of its service and never climbs out of it, and copies only what is below
//! that rule's path; a rebuild does nothing else; the same batch gives the same plan.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wharf_build::context::IgnoreMatcher;
use wharf_compose::develop::{WatchAction, WatchRule};
use wharf_watch::{
    plan, Change, Debouncer, RuleMatcher, Scope, ServicePlan, ServiceRules, MAX_WAIT,
};

/// A part of a path: a few fixed names so that rules and changes meet, and any other.
#[derive(Arbitrary, Debug, Clone)]
enum Part {
    Src,
    App,
    Git,
    Swap,
    Dot,
    DotDot,
    Name(String),
}

fn path(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push('/');
        match part {
            Part::Src => out.push_str("src"),
            Part::App => out.push_str("app"),
            Part::Git => out.push_str(".git"),
            Part::Swap => out.push_str(".main.py.swp"),
            Part::Dot => out.push('.'),
            Part::DotDot => out.push_str(".."),
            Part::Name(name) => out.push_str(&name.replace(['/', '\0'], "_")),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[derive(Arbitrary, Debug)]
struct Rule {
    path: Vec<Part>,
    action: u8,
    /// Normal names only: compose refuses other targets before watching starts.
    target: Vec<String>,
    include: Vec<String>,
    ignore: Vec<String>,
    initial_sync: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    services: Vec<Vec<Rule>>,
    dockerignore: Option<String>,
    /// Microseconds since the previous change, the path, and whether it exists afterwards.
    changes: Vec<(u16, Vec<Part>, bool)>,
    initial: bool,
}

fn rule(rule: &Rule) -> Option<WatchRule> {
    let target: Vec<String> = rule
        .target
        .iter()
        .map(|name| name.replace(['/', '\0'], "_"))
        .filter(|name| !name.is_empty() && name != "." && name != "..")
        .collect();
    let action = match rule.action % 5 {
        0 => WatchAction::Sync,
        1 => WatchAction::Rebuild,
        2 => WatchAction::Restart,
        3 => WatchAction::SyncRestart,
        _ => WatchAction::SyncExec,
    };
    if action.syncs() && target.is_empty() {
        return None;
    }
    let mut watch = WatchRule {
        path: path(&rule.path),
        action,
        target: target
            .iter()
            .fold(String::new(), |t, name| format!("{t}/{name}")),
        include: rule.include.clone(),
        ignore: rule.ignore.clone(),
        initial_sync: rule.initial_sync,
        ..WatchRule::default()
    };
    watch.exec.command = Some(vec!["kill".into(), "-HUP".into(), "1".into()]);
    Some(watch)
}

/// Whether `target` is `base` or below it, with no `.` or `..` on the way.
fn below(target: &str, base: &str) -> bool {
    let target = Path::new(target);
    target.starts_with(base)
        && target
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

fn check(plans: &[ServicePlan], services: &[ServiceRules], batch: &[PathBuf]) {
    for plan in plans {
        let service = services
            .iter()
            .find(|s| s.service == plan.service)
            .expect("a plan is for a service");
        assert!(plan.taken > 0 && plan.taken <= batch.len());
        if plan.rebuild {
            assert!(plan.changes.is_empty() && !plan.restart && plan.execs.is_empty());
        }
        let syncs = || service.rules.iter().filter(|(r, _)| r.action.syncs());
        for change in &plan.changes {
            match change {
                Change::Copy { host, target } => {
                    assert!(batch.contains(host), "{host:?} was not changed");
                    assert!(
                        syncs().any(|(r, m)| below(target, &r.target)
                            && m.take(host).is_some()
                            && host
                                .strip_prefix(&r.path)
                                .is_ok_and(|rel| below(&format!("/{}", rel.display()), "/"))),
                        "{host:?} → {target}: not below a sync rule's path and target"
                    );
                }
                Change::Delete { target } => assert!(
                    syncs().any(|(r, _)| below(target, &r.target)),
                    "deletes {target}, outside every sync target"
                ),
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let dockerignore = input
        .dockerignore
        .as_deref()
        .and_then(|text| IgnoreMatcher::parse(text).ok())
        .map(|matcher| (matcher, PathBuf::from("/")));
    let mut services = Vec::new();
    for (index, rules) in input.services.iter().enumerate() {
        let mut compiled = Vec::new();
        for watch in rules.iter().filter_map(rule) {
            match RuleMatcher::new(&watch, dockerignore.clone()) {
                Ok(matcher) => compiled.push((watch, matcher)),
                Err(error) => assert!(!error.to_string().trim().is_empty()),
            }
        }
        services.push(ServiceRules {
            service: format!("service{index}"),
            rules: compiled,
        });
    }

    let mut exists = BTreeMap::new();
    let start = Instant::now();
    let mut at = start;
    let mut debouncer = Debouncer::default();
    let mut added = BTreeSet::new();
    let mut batched = BTreeSet::new();
    let mut run = |batch: Vec<PathBuf>, exists: &BTreeMap<PathBuf, bool>| {
        assert!(
            batch.windows(2).all(|w| w[0] < w[1]),
            "a batch is sorted, each path once"
        );
        let there = |p: &Path| exists.get(p).copied().unwrap_or(true);
        let scope = if input.initial {
            Scope::InitialSync
        } else {
            Scope::Changes
        };
        let plans = plan(&services, &batch, scope, &there);
        assert_eq!(
            plans,
            plan(&services, &batch, scope, &there),
            "two plans differ"
        );
        check(&plans, &services, &batch);
        batched.extend(batch);
    };
    for (micros, parts, there) in &input.changes {
        at += Duration::from_micros(u64::from(*micros) * 64);
        if let Some(due) = debouncer.due() {
            if let Some(batch) = debouncer.take(at) {
                assert!(due <= at, "a batch taken before it was due");
                run(batch, &exists);
            }
        }
        let changed = PathBuf::from(path(parts));
        exists.insert(changed.clone(), *there);
        added.insert(changed.clone());
        debouncer.add([changed], at);
    }
    if let Some(due) = debouncer.due() {
        assert!(
            debouncer.take(due - Duration::from_nanos(1)).is_none(),
            "taken early"
        );
        let batch = debouncer.take(at + MAX_WAIT).expect("due by then");
        run(batch, &exists);
    }
    assert!(debouncer.due().is_none());
    assert_eq!(added, batched, "changes lost or made up");
});
