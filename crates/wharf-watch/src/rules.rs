//! The project's checked watch rules, compiled with each service's `.dockerignore` (found
//! as a build finds it: `<Dockerfile>.dockerignore`, else the context's).

use std::path::{Path, PathBuf};

use wharf_build::context::load_dockerignore;
use wharf_compose::develop::ServiceWatch;
use wharf_compose::Project;

use crate::error::WatchError;
use crate::matcher::RuleMatcher;
use crate::plan::ServiceRules;

/// Each service's rules with their filters.
pub fn compile(
    project: &Project,
    watched: &[ServiceWatch],
) -> Result<Vec<ServiceRules>, WatchError> {
    watched
        .iter()
        .map(|watch| {
            let build = project
                .services
                .get(&watch.service)
                .and_then(|s| s.build.as_ref());
            let context = build
                .map(|b| PathBuf::from(&b.context))
                .filter(|c| c.is_dir());
            let dockerignore = match (context, build) {
                (Some(context), Some(build)) => {
                    let dockerfile =
                        (!build.dockerfile.is_empty()).then(|| context.join(&build.dockerfile));
                    load_dockerignore(&context, dockerfile.as_deref())
                        .map_err(|source| WatchError::Dockerignore {
                            service: watch.service.clone(),
                            source,
                        })?
                        .map(|(matcher, _)| (matcher, context))
                }
                _ => None,
            };
            let rules = watch
                .rules
                .iter()
                .map(|rule| Ok((rule.clone(), RuleMatcher::new(rule, dockerignore.clone())?)))
                .collect::<Result<_, WatchError>>()?;
            Ok(ServiceRules {
                service: watch.service.clone(),
                rules,
            })
        })
        .collect()
}

/// The paths to watch: each rule's, once.
pub fn roots(services: &[ServiceRules]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = services
        .iter()
        .flat_map(|s| s.rules.iter().map(|(_, m)| m.root.clone()))
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Whether some rule takes what is in `folder` (else it is not watched).
pub fn wanted(services: &[ServiceRules], folder: &Path) -> bool {
    services
        .iter()
        .flat_map(|s| &s.rules)
        .any(|(_, matcher)| matcher.take(folder).is_some())
}
