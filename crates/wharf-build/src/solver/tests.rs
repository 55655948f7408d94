//! The solver against a recording executor and an in-memory cache: which steps run, which
//! come from the cache, and what keys change.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::graph::{CopyOp, ExecOp, MkdirOp, Network, RemoteSource, StageGraph, Step};

#[derive(Default)]
struct Recorder {
    /// The label of every step executed, in order.
    ran: Mutex<Vec<String>>,
    context: Mutex<String>,
    /// What every URL serves, and how many times one was asked for.
    remote: Mutex<String>,
    fetches: Mutex<usize>,
    cache: Mutex<HashMap<Digest, CacheRecord>>,
}

impl Executor for Recorder {
    fn context_digest(&self, sources: &[String], _: &[String]) -> Result<String, StepError> {
        Ok(format!("{sources:?} {}", self.context.lock().unwrap()))
    }

    fn remote_digest(&self, source: &RemoteSource) -> Result<String, StepError> {
        *self.fetches.lock().unwrap() += 1;
        Ok(format!("{} {}", source.url, self.remote.lock().unwrap()))
    }

    fn execute(&self, step: &StepRun<'_>) -> Result<Option<Layer>, StepError> {
        let label = match step.op {
            Op::Exec(exec) => exec.args.join(" "),
            Op::Copy(copy) => copy.sources.join(" "),
            Op::Mkdir(mkdir) => mkdir.path.clone(),
        };
        if label == "fail" {
            return Err("exit code: 1".into());
        }
        (step.output)(label.as_bytes());
        self.ran.lock().unwrap().push(label.clone());
        let digest = Digest::of(format!("{} {label}", step.layers.len()).as_bytes());
        Ok((label != "noop").then(|| Layer {
            diff_id: digest.clone(),
            blob: digest.clone(),
            chain_id: digest,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            size: 1,
        }))
    }

    fn rebase(&self, layer: &Layer, below: &[Layer]) -> Result<Layer, StepError> {
        let below = below.last().map(|l| l.chain_id.to_string());
        Ok(Layer {
            chain_id: Digest::of(format!("{below:?} {}", layer.diff_id).as_bytes()),
            ..layer.clone()
        })
    }
}

impl Cache for Recorder {
    fn load(&self, key: &Digest) -> Option<CacheRecord> {
        self.cache.lock().unwrap().get(key).cloned()
    }
    fn save(&self, key: &Digest, record: &CacheRecord) -> Result<(), StepError> {
        self.cache
            .lock()
            .unwrap()
            .insert(key.clone(), record.clone());
        Ok(())
    }
}

impl Reporter for Recorder {
    fn step_started(&self, _: &StepId, _: &str) {}
    fn step_output(&self, _: &StepId, _: &[u8]) {}
    fn step_finished(&self, _: &StepId, _: StepOutcome) {}
}

fn run(cmd: &str) -> Step {
    Step {
        label: format!("RUN {cmd}"),
        origin: "Dockerfile:1".into(),
        op: Op::Exec(ExecOp {
            args: vec![cmd.into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            user: String::new(),
            network: Network::Default,
            mounts: Vec::new(),
            extra_hosts: Vec::new(),
            host_ca_certs: false,
        }),
    }
}

fn copy(from: FileSource, source: &str) -> Step {
    Step {
        label: format!("COPY {source} ."),
        origin: "Dockerfile:2".into(),
        op: Op::Copy(CopyOp {
            from,
            sources: vec![source.into()],
            inline: Vec::new(),
            destination: ".".into(),
            workdir: "/app".into(),
            chown: None,
            chmod: None,
            exclude: Vec::new(),
            extract_archives: false,
            remote: Vec::new(),
            link: false,
        }),
    }
}

fn stage(base: Base, steps: Vec<Step>) -> StageGraph {
    StageGraph {
        name: "s".into(),
        base,
        steps,
    }
}

fn solve(recorder: &Recorder, graph: &BuildGraph, no_cache: bool) -> Vec<StageResult> {
    let now = || "2026-01-01T00:00:00Z".to_string();
    Solver {
        executor: recorder,
        cache: recorder,
        reporter: recorder,
        no_cache,
        now: &now,
    }
    .solve(graph)
    .unwrap()
}

fn take_ran(recorder: &Recorder) -> Vec<String> {
    std::mem::take(&mut *recorder.ran.lock().unwrap())
}

fn flask() -> BuildGraph {
    BuildGraph {
        stages: vec![stage(
            Base::Scratch,
            vec![
                copy(FileSource::Context, "requirements.txt"),
                run("pip install"),
                copy(FileSource::Context, "app.py"),
            ],
        )],
        target: 0,
    }
}

#[test]
fn an_unchanged_rebuild_runs_nothing_and_gives_the_same_layers() {
    let recorder = Recorder::default();
    let first = solve(&recorder, &flask(), false);
    assert_eq!(
        take_ran(&recorder),
        ["requirements.txt", "pip install", "app.py"]
    );
    let second = solve(&recorder, &flask(), false);
    assert!(take_ran(&recorder).is_empty());
    assert_eq!(first[0].layers, second[0].layers);
    assert_eq!(first[0].key, second[0].key);
}

#[test]
fn changed_context_content_reruns_from_the_step_that_reads_it() {
    let recorder = Recorder::default();
    solve(&recorder, &flask(), false);
    take_ran(&recorder);
    *recorder.context.lock().unwrap() = "edited".into();
    solve(&recorder, &flask(), false);
    // Both COPY steps read the context; the RUN between them runs again after a miss.
    assert_eq!(
        take_ran(&recorder),
        ["requirements.txt", "pip install", "app.py"]
    );
}

#[test]
fn a_changed_instruction_misses_and_so_does_everything_after_it() {
    let recorder = Recorder::default();
    solve(&recorder, &flask(), false);
    take_ran(&recorder);
    let mut graph = flask();
    graph.stages[0].steps[1] = run("pip install -U");
    solve(&recorder, &graph, false);
    assert_eq!(take_ran(&recorder), ["pip install -U", "app.py"]);
}

#[test]
fn env_changes_the_key() {
    let recorder = Recorder::default();
    solve(&recorder, &flask(), false);
    take_ran(&recorder);
    let mut graph = flask();
    if let Op::Exec(exec) = &mut graph.stages[0].steps[1].op {
        exec.env.push("PIP_NO_CACHE=1".into());
    }
    solve(&recorder, &graph, false);
    assert_eq!(take_ran(&recorder), ["pip install", "app.py"]);
}

#[test]
fn no_cache_runs_everything() {
    let recorder = Recorder::default();
    solve(&recorder, &flask(), false);
    take_ran(&recorder);
    solve(&recorder, &flask(), true);
    assert_eq!(take_ran(&recorder).len(), 3);
}

#[test]
fn a_step_that_changes_nothing_adds_no_layer() {
    let recorder = Recorder::default();
    let graph = BuildGraph {
        stages: vec![stage(Base::Scratch, vec![run("a"), run("noop")])],
        target: 0,
    };
    let result = solve(&recorder, &graph, false);
    assert_eq!(result[0].layers.len(), 1);
    assert_eq!(result[0].steps.len(), 2);
    assert!(result[0].steps[1].layer.is_none());
}

#[test]
fn stages_wait_for_what_they_copy_from_and_independent_ones_share_a_wave() {
    let graph = BuildGraph {
        stages: vec![
            stage(Base::Scratch, vec![run("build a")]),
            stage(Base::Scratch, vec![run("build b")]),
            stage(
                Base::Stage(0),
                vec![
                    copy(FileSource::Stage(1), "/out"),
                    Step {
                        label: "WORKDIR /app".into(),
                        origin: "Dockerfile:9".into(),
                        op: Op::Mkdir(MkdirOp {
                            path: "/app".into(),
                            user: String::new(),
                        }),
                    },
                ],
            ),
        ],
        target: 2,
    };
    assert_eq!(graph.waves(), vec![vec![0, 1], vec![2]]);
    let recorder = Recorder::default();
    let result = solve(&recorder, &graph, false);
    assert_eq!(result[2].layers.len(), 3);
    let mut ran = take_ran(&recorder);
    ran[..2].sort();
    assert_eq!(ran, ["build a", "build b", "/out", "/app"]);

    // A change in stage 1 reaches the COPY --from of stage 2, not stage 0.
    let mut changed = graph.clone();
    changed.stages[1].steps[0] = run("build b2");
    solve(&recorder, &changed, false);
    assert_eq!(take_ran(&recorder), ["build b2", "/out", "/app"]);
}

#[test]
fn a_failing_step_names_its_origin_and_caches_nothing() {
    let recorder = Recorder::default();
    let graph = BuildGraph {
        stages: vec![stage(Base::Scratch, vec![run("ok"), run("fail")])],
        target: 0,
    };
    let now = || String::new();
    let error = Solver {
        executor: &recorder,
        cache: &recorder,
        reporter: &recorder,
        no_cache: false,
        now: &now,
    }
    .solve(&graph)
    .unwrap_err();
    assert_eq!(error.to_string(), "Dockerfile:1: RUN fail: exit code: 1");
    assert_eq!(recorder.cache.lock().unwrap().len(), 1);
}

fn add_url(url: &str, checksum: Option<Digest>) -> Step {
    let mut step = copy(FileSource::Context, url);
    if let Op::Copy(copy) = &mut step.op {
        copy.sources.clear();
        copy.remote.push(RemoteSource {
            url: url.into(),
            checksum,
        });
    }
    step
}

#[test]
fn a_url_without_checksum_is_fetched_each_build_and_its_content_keys_the_step() {
    let recorder = Recorder::default();
    let graph = BuildGraph {
        stages: vec![stage(
            Base::Scratch,
            vec![add_url("http://h/app.tar", None), run("after")],
        )],
        target: 0,
    };
    *recorder.remote.lock().unwrap() = "v1".into();
    solve(&recorder, &graph, false);
    solve(&recorder, &graph, false);
    assert_eq!(*recorder.fetches.lock().unwrap(), 2);
    assert_eq!(take_ran(&recorder).len(), 2, "the second build is cached");

    *recorder.remote.lock().unwrap() = "v2".into();
    solve(&recorder, &graph, false);
    assert_eq!(
        take_ran(&recorder).len(),
        2,
        "new content reruns the step and what follows"
    );
}

#[test]
fn a_url_with_checksum_is_keyed_by_the_checksum_without_fetching() {
    let recorder = Recorder::default();
    let graph = BuildGraph {
        stages: vec![stage(
            Base::Scratch,
            vec![add_url("http://h/app.tar", Some(Digest::of(b"v1")))],
        )],
        target: 0,
    };
    solve(&recorder, &graph, false);
    solve(&recorder, &graph, false);
    assert_eq!(*recorder.fetches.lock().unwrap(), 0);
    assert_eq!(take_ran(&recorder).len(), 1);
}

#[test]
fn remote_file_names_follow_the_url_path() {
    let name = |url: &str| {
        RemoteSource {
            url: url.into(),
            checksum: None,
        }
        .file_name()
    };
    assert_eq!(
        name("https://example.com/dl/get-pip.py?x=1#frag"),
        "get-pip.py"
    );
    assert_eq!(name("https://example.com/"), "__unnamed__");
    assert_eq!(name("https://example.com"), "__unnamed__");
    assert_eq!(name("http://h:8080/a/b/"), "b");
}

#[test]
fn copy_link_is_cached_across_a_new_base_and_stacked_on_it() {
    let recorder = Recorder::default();
    let mut linked = copy(FileSource::Context, "app.py");
    if let Op::Copy(copy) = &mut linked.op {
        copy.link = true;
    }
    let graph = |base: &str| BuildGraph {
        stages: vec![stage(
            Base::Image {
                id: Digest::of(base.as_bytes()),
                layers: Vec::new(),
            },
            vec![run(base), linked.clone(), run("after")],
        )],
        target: 0,
    };
    let first = solve(&recorder, &graph("base v1"), false);
    assert_eq!(take_ran(&recorder), ["base v1", "app.py", "after"]);
    let second = solve(&recorder, &graph("base v2"), false);
    assert_eq!(
        take_ran(&recorder),
        ["base v2", "after"],
        "the linked copy comes from the cache on the new base"
    );
    let (a, b) = (&first[0].layers[1], &second[0].layers[1]);
    assert_eq!(a.diff_id, b.diff_id, "the same copied files");
    assert_ne!(a.chain_id, b.chain_id, "stacked on different layers");
    assert_eq!(
        a.diff_id,
        Digest::of(b"0 app.py"),
        "made on an empty filesystem"
    );
}
