//! `POST /build` over the engine's build: the context tar is unpacked by the engine; RUN
//! steps run in processes of their own (`__build-step`), as for the CLI.

use std::sync::Mutex;

use wharf_api::types::BuildQuery;
use wharf_api::ApiError;
use wharf_engine::{
    BuildNetwork, BuildOptions, BuildReporter, BuildSource, Engine, PlannedLine, StepId,
    StepOutcome,
};
use wharf_oci::Reference;

use super::api_error;

type Sink<'a> = &'a mut (dyn FnMut(String) + Send);

/// Every instruction as Docker's classic builder shows it in `stream` messages (the API's
/// builder unless a client asks for BuildKit): `Step 3/7 : RUN ...` and then `\n` as a
/// message of its own, ` ---> ID` after a FROM and after the last instruction, the output
/// of what runs, ` ---> Using cache` for a cached step. An instruction is shown when a step
/// at or after it (in the Dockerfile's order) starts, the rest when the build is done.
/// wharf keeps no intermediate images, so no id follows the instructions in between.
struct Relay<'a> {
    progress: Mutex<Sink<'a>>,
    plan: Mutex<Plan>,
}

#[derive(Default)]
struct Plan {
    lines: Vec<PlannedLine>,
    shown: Vec<bool>,
}

impl Relay<'_> {
    fn say(&self, text: String) {
        let mut progress = self.progress.lock().expect("progress lock");
        (*progress)(text);
    }

    /// Shows the lines not shown yet whose index `upto` selects, in order.
    fn show(&self, upto: impl Fn(usize) -> bool) {
        let mut plan = self.plan.lock().expect("plan lock");
        let Plan { lines, shown } = &mut *plan;
        let total = lines.len();
        for (index, line) in lines.iter().enumerate() {
            if shown[index] || !upto(index) {
                continue;
            }
            shown[index] = true;
            self.say(format!("Step {}/{total} : {}", index + 1, line.text));
            self.say("\n".into());
            if let Some(base) = &line.base_image {
                self.say(format!(" ---> {}\n", short_id(base.hex())));
            }
        }
    }

    /// The build made image `id`: the lines left, then its id.
    fn finish(&self, id: &str) {
        self.show(|_| true);
        self.say(format!(" ---> {}\n", short_id(id)));
    }
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

impl BuildReporter for Relay<'_> {
    fn planned(&self, lines: &[PlannedLine]) {
        let mut plan = self.plan.lock().expect("plan lock");
        plan.lines = lines.to_vec();
        plan.shown = vec![false; lines.len()];
    }

    fn step_started(&self, step: &StepId, _label: &str) {
        let position = {
            let plan = self.plan.lock().expect("plan lock");
            plan.lines.iter().position(|line| {
                line.stage == Some(step.stage) && line.step == Some(step.number - 1)
            })
        };
        // Every line up to the step's own, in the Dockerfile's order.
        self.show(|index| position.is_some_and(|p| index <= p));
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
        plan: Mutex::default(),
    };
    let outcome = engine.build(options, &relay).map_err(api_error)?;
    let id = outcome.id.to_string();
    relay.finish(&id);
    Ok(id)
}
