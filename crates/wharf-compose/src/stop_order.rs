//! The order in which docker compose stops a project (`InReverseDependencyOrder`): the
//! containers of a service only after those of every service that depends on it, all the
//! others side by side.

use crate::model::Project;

/// For the containers of `services` (one entry a container, naming its service), the
/// indexes of the containers each must outlive. Services unknown to the project (orphans)
/// wait for nothing and hold nothing back.
pub fn stop_after(project: &Project, services: &[&str]) -> Vec<Vec<usize>> {
    services
        .iter()
        .map(|service| {
            services
                .iter()
                .enumerate()
                .filter(|(_, other)| {
                    project
                        .services
                        .get(**other)
                        .is_some_and(|s| s.depends_on.contains_key(*service))
                })
                .map(|(index, _)| index)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::project;

    #[test]
    fn dependents_stop_first_and_the_rest_side_by_side() {
        let project = project(
            "services:\n  db: {image: x}\n  cache: {image: x}\n  web: {image: x, depends_on: [db, cache]}\n  worker: {image: x, depends_on: [db]}\n",
        );
        let services = ["db", "cache", "web", "worker", "worker", "gone"];
        assert_eq!(
            stop_after(&project, &services),
            vec![vec![2, 3, 4], vec![2], vec![], vec![], vec![], vec![]]
        );
    }
}
