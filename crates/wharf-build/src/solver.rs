//! The solver: walks a [`BuildGraph`], computes each step's cache key, reuses cached results
//! and runs the rest through an [`Executor`]. Independent stages build at the same time.
//!
//! A step's key is the hash of its parent's key, the operation (after expansion: command,
//! env, user, working dir, mounts, paths), the content of the context files it reads (not
//! their mtimes), and the keys of the stages it reads from. Secrets enter a key by id only.
//! Once a step of a stage misses the cache, every later step of that stage runs too.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use wharf_oci::Digest;

use crate::graph::{Base, BuildGraph, ExecMount, FileSource, Layer, Op, RemoteSource, Step};

/// What an executor or cache reports when a step cannot be done.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

/// Runs steps. Implemented by the engine on top of the store and the runtime.
pub trait Executor: Sync {
    /// A hash of the context files that `sources` (patterns, less `exclude`) name: their
    /// paths, types, modes and content.
    fn context_digest(&self, sources: &[String], exclude: &[String]) -> Result<String, StepError>;

    /// What a downloaded file brings into a step that its URL does not say: its content
    /// digest and modification time. The executor may keep the download for the step.
    fn remote_digest(&self, source: &RemoteSource) -> Result<String, StepError>;

    /// Runs one operation on the filesystem made of `step.layers` and returns the layer of
    /// its changes, or `None` when it changed nothing.
    fn execute(&self, step: &StepRun<'_>) -> Result<Option<Layer>, StepError>;

    /// `layer`, made on an empty filesystem (COPY --link), as a layer on top of `below`.
    fn rebase(&self, layer: &Layer, below: &[Layer]) -> Result<Layer, StepError>;
}

/// One step for the executor to run.
pub struct StepRun<'a> {
    pub op: &'a Op,
    /// The stage's layers so far, bottom first (none for COPY --link).
    pub layers: &'a [Layer],
    /// The layers whose /etc/passwd and /etc/group name users (the stage's, also for
    /// COPY --link).
    pub user_layers: &'a [Layer],
    /// The layers of each finished stage, by stage index (empty for the others).
    pub stage_layers: &'a [Vec<Layer>],
    /// Where the step's output goes, as it comes.
    pub output: &'a (dyn Fn(&[u8]) + Sync),
}

/// The build cache: step results by key. Implemented by the engine in the store.
pub trait Cache: Sync {
    /// A usable record: its layer is still in the store.
    fn load(&self, key: &Digest) -> Option<CacheRecord>;
    fn save(&self, key: &Digest, record: &CacheRecord) -> Result<(), StepError>;
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// `None` when the step changed nothing on disk.
    pub layer: Option<Layer>,
    /// When the step ran (RFC 3339): the image history keeps it, so a cached rebuild makes
    /// the same image.
    pub created: String,
}

/// Which step, for the reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId {
    pub stage: usize,
    pub stage_name: String,
    /// 1-based position in the stage.
    pub number: usize,
    /// Steps in the stage.
    pub count: usize,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    Cached,
    Done(Duration),
    Failed(Duration),
}

/// One line of the frontend's plan, in source order: every instruction of the stages to
/// build, including those that are no step (ENV, CMD...). Display only, for progress that
/// lists every instruction as Docker's classic builder does; the solver never reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    /// The stage (an index of [`crate::BuildGraph::stages`]); `None` before the first.
    pub stage: Option<usize>,
    /// As written, continuation lines joined: `FROM python:3.11`, `CMD echo hi`.
    pub text: String,
    /// The stage's step it became (0-based), if any.
    pub step: Option<usize>,
    /// A stage's first line names its base image, when it has one.
    pub base_image: Option<Digest>,
}

/// Receives progress; the CLI turns it into lines or a live view.
pub trait Reporter: Sync {
    /// The plan, before any step starts.
    fn planned(&self, _lines: &[PlannedLine]) {}
    fn step_started(&self, step: &StepId, label: &str);
    fn step_output(&self, step: &StepId, chunk: &[u8]);
    fn step_finished(&self, step: &StepId, outcome: StepOutcome);
}

/// A build that failed, naming the step.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{origin}: {label}: {message}")]
    Step {
        origin: String,
        label: String,
        /// The step's error with its causes, `: `-separated.
        message: String,
    },
}

/// One stage's result.
#[derive(Debug, Clone)]
pub struct StageResult {
    /// The key of the stage's last step (or its base).
    pub key: Digest,
    pub layers: Vec<Layer>,
    /// One per step of the stage.
    pub steps: Vec<CacheRecord>,
}

pub struct Solver<'a> {
    pub executor: &'a dyn Executor,
    pub cache: &'a dyn Cache,
    pub reporter: &'a dyn Reporter,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// The time written into records of steps that run (RFC 3339).
    pub now: &'a (dyn Fn() -> String + Sync),
}

impl Solver<'_> {
    /// Builds every stage of the graph; the result of stage `i` is at index `i`.
    pub fn solve(&self, graph: &BuildGraph) -> Result<Vec<StageResult>, BuildError> {
        let results: Mutex<Vec<Option<StageResult>>> = Mutex::new(vec![None; graph.stages.len()]);
        for wave in graph.waves() {
            let done = results.lock().expect("results lock").clone();
            let outcomes: Vec<(usize, Result<StageResult, BuildError>)> = if wave.len() == 1 {
                vec![(wave[0], self.solve_stage(graph, wave[0], &done))]
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = wave
                        .iter()
                        .map(|&i| {
                            let done = &done;
                            (i, scope.spawn(move || self.solve_stage(graph, i, done)))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|(i, h)| (i, h.join().expect("stage thread panicked")))
                        .collect()
                })
            };
            let mut results = results.lock().expect("results lock");
            for (i, outcome) in outcomes {
                results[i] = Some(outcome?);
            }
        }
        Ok(results
            .into_inner()
            .expect("results lock")
            .into_iter()
            .map(|r| r.expect("every wave ran"))
            .collect())
    }

    fn solve_stage(
        &self,
        graph: &BuildGraph,
        index: usize,
        done: &[Option<StageResult>],
    ) -> Result<StageResult, BuildError> {
        let stage = &graph.stages[index];
        let finished = |i: usize| done[i].as_ref().expect("dependencies build first");
        let (mut key, mut layers) = match &stage.base {
            Base::Scratch => (Digest::of(b"scratch"), Vec::new()),
            Base::Image { id, layers } => {
                (Digest::of(format!("image {id}").as_bytes()), layers.clone())
            }
            Base::Stage(base) => (finished(*base).key.clone(), finished(*base).layers.clone()),
        };
        let stage_layers: Vec<Vec<Layer>> = done
            .iter()
            .map(|r| r.as_ref().map(|r| r.layers.clone()).unwrap_or_default())
            .collect();
        let mut records = Vec::with_capacity(stage.steps.len());
        let mut missed = self.no_cache;
        for (n, step) in stage.steps.iter().enumerate() {
            let id = StepId {
                stage: index,
                stage_name: stage.name.clone(),
                number: n + 1,
                count: stage.steps.len(),
            };
            let fail = |source: StepError| BuildError::Step {
                origin: step.origin.clone(),
                label: step.label.clone(),
                message: wharf_oci::error_chain(source.as_ref()),
            };
            self.reporter.step_started(&id, &step.label);
            let started = Instant::now();
            let inputs = self.step_inputs(&step.op, &finished).map_err(|e| {
                self.reporter
                    .step_finished(&id, StepOutcome::Failed(started.elapsed()));
                fail(e)
            })?;
            let linked = matches!(&step.op, Op::Copy(copy) if copy.link);
            let op_key = Digest::of(
                serde_json::to_string(&json!({
                    "parent": if linked { None } else { Some(&key) },
                    "op": step.op,
                    "inputs": inputs,
                }))
                .expect("ops serialize")
                .as_bytes(),
            );
            if linked {
                key = Digest::of(format!("{key} linked {op_key}").as_bytes());
                let outcome = self.linked_step(&op_key, step, &layers, &stage_layers, &id);
                match outcome {
                    Ok((record, cached)) => {
                        self.reporter.step_finished(
                            &id,
                            if cached {
                                StepOutcome::Cached
                            } else {
                                StepOutcome::Done(started.elapsed())
                            },
                        );
                        layers.extend(record.layer.clone());
                        records.push(record);
                        continue;
                    }
                    Err(error) => {
                        self.reporter
                            .step_finished(&id, StepOutcome::Failed(started.elapsed()));
                        return Err(fail(error));
                    }
                }
            }
            key = op_key;
            if !missed {
                if let Some(record) = self.cache.load(&key) {
                    layers.extend(record.layer.clone());
                    records.push(record);
                    self.reporter.step_finished(&id, StepOutcome::Cached);
                    continue;
                }
            }
            missed = true;
            let output = |chunk: &[u8]| self.reporter.step_output(&id, chunk);
            let result = self
                .executor
                .execute(&StepRun {
                    op: &step.op,
                    layers: &layers,
                    user_layers: &layers,
                    stage_layers: &stage_layers,
                    output: &output,
                })
                .and_then(|layer| {
                    let record = CacheRecord {
                        layer,
                        created: (self.now)(),
                    };
                    self.cache.save(&key, &record)?;
                    Ok(record)
                });
            match result {
                Ok(record) => {
                    self.reporter
                        .step_finished(&id, StepOutcome::Done(started.elapsed()));
                    layers.extend(record.layer.clone());
                    records.push(record);
                }
                Err(error) => {
                    self.reporter
                        .step_finished(&id, StepOutcome::Failed(started.elapsed()));
                    return Err(fail(error));
                }
            }
        }
        Ok(StageResult {
            key,
            layers,
            steps: records,
        })
    }

    /// COPY --link: its layer is made on an empty filesystem and cached under `op_key`
    /// alone, so a change below it (a new base image) reuses it; it is then stacked on
    /// `below`. Returns the record with the stacked layer, and whether it came from the cache.
    fn linked_step(
        &self,
        op_key: &Digest,
        step: &Step,
        below: &[Layer],
        stage_layers: &[Vec<Layer>],
        id: &StepId,
    ) -> Result<(CacheRecord, bool), StepError> {
        let cached = if self.no_cache {
            None
        } else {
            self.cache.load(op_key)
        };
        let (record, hit) = match cached {
            Some(record) => (record, true),
            None => {
                let output = |chunk: &[u8]| self.reporter.step_output(id, chunk);
                let layer = self.executor.execute(&StepRun {
                    op: &step.op,
                    layers: &[],
                    user_layers: below,
                    stage_layers,
                    output: &output,
                })?;
                let record = CacheRecord {
                    layer,
                    created: (self.now)(),
                };
                self.cache.save(op_key, &record)?;
                (record, false)
            }
        };
        let layer = match &record.layer {
            Some(layer) => Some(self.executor.rebase(layer, below)?),
            None => None,
        };
        Ok((CacheRecord { layer, ..record }, hit))
    }

    /// What a step reads besides its parent: context content and other stages' keys.
    fn step_inputs<'s>(
        &self,
        op: &Op,
        finished: &dyn Fn(usize) -> &'s StageResult,
    ) -> Result<Vec<String>, StepError> {
        let mut inputs = Vec::new();
        let mut source = |from: &FileSource, paths: &[String], exclude: &[String]| {
            match from {
                FileSource::Context => {
                    inputs.push(self.executor.context_digest(paths, exclude)?);
                }
                FileSource::Stage(i) => inputs.push(finished(*i).key.to_string()),
                FileSource::Image { .. } => {}
            }
            Ok::<_, StepError>(())
        };
        match op {
            Op::Copy(copy) => {
                source(&copy.from, &copy.sources, &copy.exclude)?;
                for remote in copy.remote.iter().filter(|r| r.checksum.is_none()) {
                    inputs.push(self.executor.remote_digest(remote)?);
                }
            }
            Op::Exec(exec) => {
                for mount in &exec.mounts {
                    match mount {
                        ExecMount::Bind {
                            from, source: path, ..
                        }
                        | ExecMount::Cache {
                            from: Some(from),
                            source: path,
                            ..
                        } => source(from, std::slice::from_ref(path), &[])?,
                        _ => {}
                    }
                }
            }
            Op::Mkdir(_) => {}
        }
        Ok(inputs)
    }
}

#[cfg(test)]
mod tests;
