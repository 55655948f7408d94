//! What each part of a service's conversion reads: the project, the service, the caller's
//! sources and options.

use wharf_compose::model::CONDITION_COMPLETED_SUCCESSFULLY;
use wharf_compose::{Project, Service};

use super::{ConvertOptions, Out, Sources};
use crate::error::Refusal;
use crate::names::dns_label;

pub(crate) struct Context<'a> {
    pub project: &'a Project,
    pub service: &'a Service,
    pub sources: &'a Sources,
    pub options: &'a ConvertOptions,
}

impl Context<'_> {
    /// The name of the service's objects.
    pub fn name(&self) -> String {
        dns_label(&self.service.name)
    }

    pub fn refuse(&self, out: &mut Out, key: &str, reason: impl Into<String>) {
        out.refuse(Refusal::service(&self.service.name, key, reason));
    }

    pub fn note(&self, out: &mut Out, key: &str, reason: impl Into<String>) {
        out.note(Refusal::service(&self.service.name, key, reason));
    }
}

/// compose's one-shot services: another service waits for them to complete.
pub(crate) fn is_job(context: &Context) -> bool {
    context.project.wait_condition(&context.service.name) == CONDITION_COMPLETED_SUCCESSFULLY
}
