//! The build solver and what it needs from the outside world: the build context (filtered by
//! `.dockerignore`), COPY semantics, cache keys and the executor trait. It never sees
//! Dockerfile syntax and never knows which runtime runs a step.

pub mod context;
pub mod graph;
pub mod solver;

pub use graph::{
    Base, BuildGraph, CacheSharing, CopyOp, ExecMount, ExecOp, FileSource, Layer, MkdirOp, Network,
    Op, RemoteSource, StageGraph, Step,
};
pub use solver::{
    BuildError, Cache, CacheRecord, Executor, PlannedLine, Reporter, Solver, StageResult,
    StepError, StepId, StepOutcome, StepRun,
};
