//! Compose rules over the loaded project model (`wharf-compose`), ids `WC...`. Lines come
//! from the text of the compose file, given by the caller: the model knows values, not
//! where they were written.

mod database_ports;
mod depends_condition;
mod healthcheck;
mod image_tag;
mod locate;
mod passwords;
mod project_bind;
mod restart;

use wharf_compose::model::Service;
use wharf_compose::Project;

use crate::finding::{Finding, Severity};
pub(crate) use locate::Locator;

/// One compose rule.
pub struct ComposeRule {
    pub code: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub fix: &'static str,
    pub check: fn(&Project, &Locator) -> Vec<(usize, String)>,
}

pub const COMPOSE_RULES: &[&ComposeRule] = &[
    &healthcheck::RULE,
    &depends_condition::RULE,
    &passwords::RULE,
    &restart::RULE,
    &image_tag::RULE,
    &project_bind::RULE,
    &database_ports::RULE,
];

/// Lints a loaded project; `source` is the text of the compose file the lines refer to
/// and `production` says whether it is meant for production (not an override or dev file).
pub fn lint_compose(project: &Project, source: &str, production: bool) -> Vec<Finding> {
    let locator = Locator::new(source, production);
    let mut findings: Vec<Finding> = COMPOSE_RULES
        .iter()
        .flat_map(|rule| {
            (rule.check)(project, &locator)
                .into_iter()
                .map(|(line, message)| Finding {
                    line,
                    column: 1,
                    rule: rule.code,
                    severity: rule.severity,
                    message,
                    fix: rule.fix,
                    buildkit: None,
                })
        })
        .collect();
    findings.sort_by_key(|finding| finding.line);
    findings
}

/// Images of databases and brokers, by name without registry or tag.
const DATABASES: &[&str] = &[
    "postgres",
    "postgis/postgis",
    "timescale/timescaledb",
    "mysql",
    "mariadb",
    "mongo",
    "redis",
    "valkey/valkey",
    "rabbitmq",
    "memcached",
    "elasticsearch",
    "cassandra",
    "neo4j",
    "couchdb",
];

pub(crate) fn is_database(service: &Service) -> bool {
    let image = service
        .image
        .rsplit_once('@')
        .map_or(service.image.as_str(), |(name, _)| name);
    let last = image.rsplit('/').next().unwrap_or(image);
    let name_only = match last.split_once(':') {
        Some((name, _)) => &image[..image.len() - last.len() + name.len()],
        None => image,
    };
    let short = name_only.strip_prefix("docker.io/").unwrap_or(name_only);
    let short = short.strip_prefix("library/").unwrap_or(short);
    DATABASES.contains(&short)
}

#[cfg(test)]
pub(crate) mod test_support {
    use wharf_compose::{load, LoadOptions};

    /// Loads `yaml` as compose.yaml in a temporary folder and lints it with one rule.
    pub(crate) fn lines(rule: &super::ComposeRule, yaml: &str) -> Vec<usize> {
        // One folder per call: tests of the same rule run at once.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "wharf-lint-{}-{}-{call}",
            std::process::id(),
            rule.code
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
        let options = LoadOptions::new(dir.clone(), Default::default());
        let project = load(&options).unwrap().project;
        std::fs::remove_dir_all(&dir).unwrap();
        let locator = super::Locator::new(yaml, true);
        (rule.check)(&project, &locator)
            .into_iter()
            .map(|(line, _)| line)
            .collect()
    }
}
