//! The build solver and what it needs from the outside world: the build context (filtered by
//! `.dockerignore`), COPY semantics, cache keys and the executor trait. It never sees
//! Dockerfile syntax and never knows which runtime runs a step.

pub mod context;
