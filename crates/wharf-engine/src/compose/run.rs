//! `compose run`'s container: the service as [`wharf_compose::one_off`] changes it,
//! created with a fresh slug, with the service's network aliases only with
//! `--use-aliases` (as docker compose), removed on exit with `--rm`.

use wharf_compose::model::{Project, Service};
use wharf_compose::{one_off, RunOptions};

use super::create_options;
use super::ComposeBackend;
use crate::containers::random_id;
use crate::error::Result;

impl ComposeBackend<'_> {
    /// Creates run's container for `service` from its image `image_id`; returns its id.
    pub fn create_one_off(
        &self,
        project: &Project,
        service: &Service,
        options: &RunOptions,
        image_id: &str,
        auto_remove: bool,
        use_aliases: bool,
    ) -> Result<String> {
        let slug = random_id()?;
        let (service, request) = one_off(project, service, options, &slug, image_id);
        let mut create = create_options(project, &service, &request, &self.init_path, true)?;
        create.auto_remove = auto_remove;
        if !use_aliases {
            create.network_aliases.clear();
        }
        self.create_on_networks(project, &service, &request, &create, use_aliases)
    }
}
