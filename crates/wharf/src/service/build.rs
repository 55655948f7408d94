//! `POST /build` over the engine's build: the context tar is unpacked by the engine; RUN
//! steps run in processes of their own (`__build-step`), as for the CLI.

use std::sync::Mutex;

use wharf_api::types::BuildQuery;
use wharf_api::ApiError;
use wharf_engine::{
    BuildNetwork, BuildOptions, BuildReporter, BuildSource, Engine, StepId, StepOutcome,
};
use wharf_oci::Reference;

use super::api_error;

type Sink<'a> = &'a mut (dyn FnMut(String) + Send);

/// Steps as Docker's classic builder shows them in `stream` messages.
struct Relay<'a> {
    progress: Mutex<Sink<'a>>,
}

impl Relay<'_> {
    fn say(&self, text: String) {
        let mut progress = self.progress.lock().expect("progress lock");
        (*progress)(text);
    }
}

impl BuildReporter for Relay<'_> {
    fn step_started(&self, step: &StepId, label: &str) {
        self.say(format!(
            "Step {}/{} : {label}\n",
            step.number + 1,
            step.count + 1
        ));
    }

    fn step_output(&self, _step: &StepId, chunk: &[u8]) {
        self.say(String::from_utf8_lossy(chunk).into_owned());
    }

    fn step_finished(&self, _step: &StepId, outcome: StepOutcome) {
        if let StepOutcome::Cached = outcome {
            self.say(" ---> Using cache\n".into());
        }
    }
}

pub fn build(
    engine: &Engine,
    context: Vec<u8>,
    query: BuildQuery,
    progress: Sink<'_>,
) -> Result<String, ApiError> {
    let tags = query
        .tags
        .iter()
        .map(|t| {
            Reference::parse_normalized(t)
                .map_err(|e| ApiError::BadRequest(format!("t: {t:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let network = match query.network.as_deref().unwrap_or("default") {
        "default" | "bridge" => BuildNetwork::Default,
        "none" => BuildNetwork::None,
        "host" => BuildNetwork::Host,
        other => {
            return Err(ApiError::BadRequest(format!(
                "networkmode: {other:?}: use default, bridge, host or none"
            )))
        }
    };
    let options = BuildOptions {
        source: BuildSource::Tar(Box::new(std::io::Cursor::new(context))),
        dockerfile: query.dockerfile.map(Into::into),
        dockerfile_text: None,
        tags,
        build_args: query.build_args,
        target: query.target,
        no_cache: query.no_cache,
        pull: query.pull,
        labels: query.labels,
        secrets: Vec::new(),
        network,
        extra_hosts: query.extra_hosts,
        host_ca_certs: false,
        compression: Default::default(),
        force_compression: false,
    };
    let relay = Relay {
        progress: Mutex::new(progress),
    };
    let outcome = engine.build(options, &relay).map_err(api_error)?;
    Ok(outcome.id.to_string())
}
