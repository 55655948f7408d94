//! The compose frontend: loads compose files into a [`Project`] in compose-go's steps,
//! each a function over a plain model in a file of its own: discovery (`discovery`), read
//! (`yaml`), interpolate (`interpolate`, `template`), extends, include, merge (`merge`,
//! `reset`, `unicity`), canonical long syntax, relative paths, normalize, the typed
//! model (`decode`: unknown keys and wrong types are refused there, naming the key), profiles and selection (`select`), consistency. It reads the compose
//! and env files it is pointed at and nothing else; it never prints and makes no syscalls
//! beyond reading files. Warnings come back as values.
//!
//! The service config hash that docker compose puts in `com.docker.compose.config-hash` is
//! [`service_hash`] of the service loaded with `resolve_env_files: false`, as
//! `docker compose config --hash` computes it.
//!
//! ```no_run
//! use wharf_compose::{load, LoadOptions};
//! let options = LoadOptions::new("/srv/app".into(), std::env::vars().collect());
//! let loaded = load(&options)?;
//! for (name, service) in &loaded.project.services {
//!     println!("{name}: {}", service.image);
//! }
//! # Ok::<(), wharf_compose::ComposeError>(())
//! ```

mod apply;
mod canonical;
mod consistency;
mod decode;
pub mod develop;
mod discovery;
pub mod dotenv;
mod error;
mod extends;
mod include;
mod interpolate;
pub mod labels;
mod load;
mod merge;
pub mod model;
mod name;
mod normalize;
mod oneoff;
mod output;
mod paths;
mod plan;
mod reset;
mod select;
mod stop_order;
pub mod support;
pub mod syntax;
mod template;
mod tree;
mod unicity;
mod units;
mod yaml;
mod yaml_out;

pub use apply::{
    project_resources, up, Backend, BackendError, ContainerRequest, Event, Pull, Readiness,
    Resource, UpError, UpOptions,
};
pub use consistency::check_container_names;
pub use discovery::LoadOptions;
pub use error::ComposeError;
pub use load::{load, load_model, Loaded};
pub use model::{Project, Service};
pub use name::normalize_project_name;
pub use oneoff::{one_off, prepare_run, RunOptions};
pub use output::{service_hash, to_json, to_yaml, write_go_json, yaml_text};
pub use plan::{plan, selected_services, Action, Observed, Plan, PlanOptions};
pub use stop_order::stop_after;
pub use units::{Duration, FileMode, NanoCpus, UnitBytes};
