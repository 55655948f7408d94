//! The compose frontend: loads compose files into a [`Project`] in compose-go's steps
//! (discovery, read, interpolate, include, extends, merge, profiles, normalize, validate),
//! each a function over a plain model in a file of its own. It reads the compose files and
//! env files it is pointed at and nothing else; it never prints and makes no syscalls
//! beyond reading files.

pub mod dotenv;
mod error;
mod interpolate;
pub mod model;
mod template;
mod tree;
mod units;
mod yaml;

pub use error::ComposeError;
pub use model::{Project, Service};
pub use units::{Duration, FileMode, NanoCpus, UnitBytes};
