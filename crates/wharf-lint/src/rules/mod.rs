//! The Dockerfile rules, one module each: its id, severity, message, one-line fix, the
//! BuildKit check it maps to, its check, and tests of what it catches and what it lets
//! pass. Ids are hadolint's where hadolint has the rule (with its exemptions), BuildKit's
//! check name where only BuildKit has it, and `WP...` for wharf's Python-aware rules.

use std::collections::{HashMap, HashSet};

use wharf_dockerfile::instructions::{MountType, RunInstruction};

use crate::dockerfile::{BaseImage, File, Item};
use crate::finding::Severity;
use crate::shell::Script;

mod buildkit_casing;
mod buildkit_empty_continuation;
mod buildkit_legacy_env;
mod buildkit_undefined_var;
mod dl1001;
mod dl3000;
mod dl3001;
mod dl3002;
mod dl3003;
mod dl3004;
mod dl3006;
mod dl3007;
mod dl3008;
mod dl3009;
mod dl3010;
mod dl3011;
mod dl3012;
mod dl3013;
mod dl3014;
mod dl3015;
mod dl3016;
mod dl3018;
mod dl3019;
mod dl3020;
mod dl3021;
mod dl3022;
mod dl3023;
mod dl3024;
mod dl3025;
mod dl3026;
mod dl3027;
mod dl3028;
mod dl3029;
mod dl3030;
mod dl3032;
mod dl3033;
mod dl3034;
mod dl3035;
mod dl3036;
mod dl3037;
mod dl3038;
mod dl3040;
mod dl3041;
mod dl3042;
mod dl3043;
mod dl3044;
mod dl3045;
mod dl3046;
mod dl3047;
mod dl3048;
mod dl3049;
mod dl3050;
mod dl3057;
mod dl3059;
mod dl3060;
mod dl3061;
mod dl3062;
mod dl3063;
mod dl3064;
mod dl3065;
mod dl3066;
mod dl3067;
mod dl4000;
mod dl4001;
mod dl4003;
mod dl4004;
mod dl4005;
mod dl4006;
mod label_forms;
mod label_values;
mod start;
mod wp_copy_before_deps;
mod wp_debug_env;
mod wp_dev_server;
mod wp_expose_port;
mod wp_no_user;
mod wp_unlocked_install;
mod wp_update_alone;

/// One Dockerfile rule.
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    /// hadolint's message for its rules, word for word.
    pub message: &'static str,
    pub fix: &'static str,
    pub buildkit: Option<&'static str>,
    pub check: fn(&File) -> Vec<Hit>,
}

impl Rule {
    /// hadolint's rules that report nothing until `.hadolint.yaml` gives them a level.
    pub fn off_by_default(&self) -> bool {
        matches!(self.code, "DL1001" | "DL3057")
    }
}

/// Where a rule fired, and a message for this place when the rule's own is too general.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub line: usize,
    pub detail: Option<String>,
}

impl From<usize> for Hit {
    fn from(line: usize) -> Self {
        Self { line, detail: None }
    }
}

impl Hit {
    pub fn with(line: usize, detail: String) -> Self {
        Self {
            line,
            detail: Some(detail),
        }
    }
}

/// All Dockerfile rules, in the order their findings are listed on one line.
pub(crate) use dl3064::sensitive;

pub const RULES: &[&Rule] = &[
    &dl1001::RULE,
    &dl3000::RULE,
    &dl3001::RULE,
    &dl3002::RULE,
    &dl3003::RULE,
    &dl3004::RULE,
    &dl3006::RULE,
    &dl3007::RULE,
    &dl3008::RULE,
    &dl3009::RULE,
    &dl3011::RULE,
    &dl3012::RULE,
    &dl3013::RULE,
    &dl3014::RULE,
    &dl3015::RULE,
    &dl3016::RULE,
    &dl3018::RULE,
    &dl3019::RULE,
    &dl3020::RULE,
    &dl3021::RULE,
    &dl3022::RULE,
    &dl3023::RULE,
    &dl3024::RULE,
    &dl3025::RULE,
    &dl3026::RULE,
    &dl3027::RULE,
    &dl3028::RULE,
    &dl3029::RULE,
    &dl3042::RULE,
    &dl3043::RULE,
    &dl3044::RULE,
    &dl3045::RULE,
    &dl3046::RULE,
    &dl3047::RULE,
    &dl3048::RULE,
    &dl3049::RULE,
    &dl3050::RULE,
    &label_values::EMPTY,
    &label_values::URL,
    &label_values::RFC3339,
    &label_values::SPDX,
    &label_values::HASH,
    &label_values::SEMVER,
    &label_values::EMAIL,
    &dl3057::RULE,
    &dl3059::RULE,
    &dl3060::RULE,
    &dl3061::RULE,
    &dl3062::RULE,
    &dl3064::RULE,
    &dl3066::RULE,
    &dl3010::RULE,
    &dl3030::RULE,
    &dl3032::RULE,
    &dl3033::RULE,
    &dl3034::RULE,
    &dl3035::RULE,
    &dl3036::RULE,
    &dl3037::RULE,
    &dl3038::RULE,
    &dl3040::RULE,
    &dl3041::RULE,
    &dl3063::RULE,
    &dl3065::RULE,
    &dl3067::RULE,
    &dl4000::RULE,
    &dl4001::RULE,
    &dl4003::RULE,
    &dl4004::RULE,
    &dl4005::RULE,
    &dl4006::RULE,
    &buildkit_casing::FROM_AS_CASING,
    &buildkit_casing::INSTRUCTION_CASING,
    &buildkit_casing::STAGE_NAME_CASING,
    &buildkit_legacy_env::RULE,
    &buildkit_empty_continuation::RULE,
    &buildkit_undefined_var::RULE,
    &wp_copy_before_deps::RULE,
    &wp_no_user::RULE,
    &wp_unlocked_install::RULE,
    &wp_expose_port::RULE,
    &wp_debug_env::RULE,
    &wp_dev_server::RULE,
    &wp_update_alone::RULE,
];

/// The lines of the items `fails` holds for.
fn lines_where(file: &File, fails: impl Fn(&Item) -> bool) -> Vec<Hit> {
    file.items
        .iter()
        .filter(|item| fails(item))
        .map(|item| item.line.into())
        .collect()
}

/// The lines of RUN and ONBUILD RUN instructions whose commands `fails` holds for.
fn scripts_where(file: &File, fails: impl Fn(&Script) -> bool) -> Vec<Hit> {
    lines_where(file, |item| item.any_script().is_some_and(&fails))
}

/// No command is an install, or the first clean comes after the first install (hadolint's
/// check for `yum clean all`, `dnf clean all`, `zypper clean`).
fn cleaned_after_install(
    script: &Script,
    install: impl Fn(&crate::shell::Command) -> bool,
    clean: impl Fn(&crate::shell::Command) -> bool,
) -> bool {
    match script.commands.iter().position(install) {
        None => true,
        Some(installed) => script
            .commands
            .iter()
            .position(clean)
            .is_some_and(|cleaned| installed < cleaned),
    }
}

/// A cache or tmpfs mount whose target contains `fragment` (hadolint's
/// `hasCacheOrTmpfsMountWith`).
fn has_cache_mount(run: &RunInstruction, fragment: &str) -> bool {
    run.mounts.iter().any(|mount| {
        matches!(mount.kind, MountType::Cache | MountType::Tmpfs)
            && mount
                .target
                .as_deref()
                .is_some_and(|target| target.contains(fragment))
    })
}

/// A fact set in a stage and inherited by the stages built FROM it (hadolint's per-stage
/// maps of DL3042 and DL3045), keyed by the stage's name: its alias, else its image.
#[derive(Default)]
struct StageFlag {
    by_stage: HashMap<String, bool>,
    current: String,
}

impl StageFlag {
    fn enter(&mut self, from: &BaseImage) {
        let inherited = self.by_stage.get(&from.name).copied().unwrap_or(false);
        self.current = from.alias.clone().unwrap_or_else(|| from.name.clone());
        self.by_stage.insert(self.current.clone(), inherited);
    }

    fn set(&mut self) {
        self.by_stage.insert(self.current.clone(), true);
    }

    fn is_set(&self) -> bool {
        self.by_stage.get(&self.current).copied().unwrap_or(false)
    }
}

/// The stages whose layers end up somewhere: the last one, and those another stage starts
/// FROM (where hadolint's cleanup rules DL3009 and DL3060 look).
fn kept_stages<'f>(file: &'f File) -> Vec<&'f [Item]> {
    let bases: HashSet<&str> = file
        .items
        .iter()
        .filter_map(|item| item.from.as_ref())
        .map(|from| from.name.as_str())
        .collect();
    let stages = file.stages();
    let last = stages.len().saturating_sub(1);
    stages
        .into_iter()
        .enumerate()
        .filter(|(index, stage)| {
            let alias = stage
                .first()
                .and_then(|item| item.from.as_ref())
                .and_then(|from| from.alias.as_deref());
            *index == last || alias.is_some_and(|alias| bases.contains(alias))
        })
        .map(|(_, stage)| stage)
        .collect()
}

/// An absolute path as hadolint sees one: `/...`, a `$VAR`, or a Windows drive (`C:`).
fn is_absolute(path: &str) -> bool {
    let mut chars = path.chars();
    path.starts_with('$')
        || path.starts_with('/')
        || (chars.next().is_some_and(char::is_alphabetic) && chars.next() == Some(':'))
}

/// Removes one pair of surrounding quotes.
fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    text
}

/// Removes all leading and trailing quotes (hadolint's `dropQuotes`).
fn drop_quotes(text: &str) -> &str {
    text.trim_matches(|c| c == '"' || c == '\'')
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Rule;
    use crate::config::Config;

    /// The lines `rule` reports in `source`, alone and without configuration.
    pub(crate) fn lines(rule: &Rule, source: &str) -> Vec<usize> {
        lines_configured(rule, "", source)
    }

    /// The lines `rule` reports in `source`, alone, with `.hadolint.yaml` text `yaml`.
    pub(crate) fn lines_configured(rule: &Rule, yaml: &str, source: &str) -> Vec<usize> {
        let config = Config::from_yaml(yaml, ".hadolint.yaml").unwrap();
        crate::lint_with(source, &config, &[rule])
            .into_iter()
            .filter(|finding| finding.rule == rule.code)
            .map(|finding| finding.line)
            .collect()
    }
}
