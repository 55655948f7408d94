//! WC005: an image without a tag or with `latest` (services that are built pass): each
//! pull may bring another version.

use wharf_compose::Project;

use super::{ComposeRule, Locator};
use crate::dockerfile::BaseImage;
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC005",
    severity: Severity::Warning,
    message: "The image is not pinned to a version",
    fix: "name a version tag, e.g. postgres:16-alpine",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    project
        .services
        .iter()
        .filter(|(_, service)| service.build.is_none() && !service.image.is_empty())
        .filter_map(|(name, service)| {
            let image = BaseImage::parse(&service.image);
            let floating =
                image.digest.is_none() && image.tag.as_deref().is_none_or(|tag| tag == "latest");
            floating.then(|| {
                (
                    locator.line(&["services", name, "image"]),
                    format!(
                        "service `{name}` uses `{}`, which is not pinned to a version",
                        service.image
                    ),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_latest_and_untagged() {
        let yaml = "services:\n  a:\n    image: redis\n  b:\n    image: postgres:latest\n";
        assert_eq!(lines(&RULE, yaml), [3, 5]);
    }

    #[test]
    fn allows_tags_and_built_images() {
        let yaml = "services:\n  a:\n    image: redis:7\n  b:\n    build: .\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
