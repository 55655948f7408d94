//! `wharf init`'s model of a Python project: detection is a function from the project's
//! files to [`Facts`] (dependency manager, Python version, start command, Celery, the
//! services the dependencies imply), each with the reason it was chosen; rendering is a
//! function from facts to the text of `Dockerfile`, `.dockerignore`, `compose.yaml` and
//! `.env`. It reads the project's files and writes nothing; it never runs a build.
//!
//! ```no_run
//! let facts = wharf_init::detect(std::path::Path::new("."), &Default::default())?;
//! for file in wharf_init::render(&facts, "dev-password") {
//!     println!("{}:\n{}", file.name, file.text);
//! }
//! # Ok::<(), wharf_init::InitError>(())
//! ```

mod detect;
mod error;
mod facts;
mod project;
mod render;

pub use detect::{detect, Overrides, DEFAULT_PYTHON};
pub use error::InitError;
pub use facts::{App, Celery, Facts, Manager, Service};
pub use render::{render, start_command, Rendered};
