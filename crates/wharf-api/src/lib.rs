//! The Docker Engine API, served on a unix socket by `wharf system service`: it decodes each
//! request into Docker's types, makes one call on a [`Backend`], and encodes Docker's reply
//! (JSON, chunked progress and log streams, hijacked attach streams). It holds no state and
//! knows nothing of how containers run.
//!
//! The engine is reached through the [`Backend`] trait, which the `wharf` binary implements
//! over `wharf_engine::Engine` as its CLI commands do: the arrows stay bin → {api, engine},
//! and the mapping from Docker's options to the engine's sits beside the CLI's own mapping
//! from flags.
//!
//! ```
//! let (route, params) = wharf_api::find_route("GET", "/v1.44/images/library/busybox/json")?;
//! assert_eq!(route.pattern, "/images/{*}/json");
//! assert_eq!(params, ["library/busybox"]);
//! # Ok::<(), wharf_api::ApiError>(())
//! ```

mod backend;
mod call;
mod detach;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
mod http;
mod routes;
mod server;
mod stream;
pub mod types;

pub use backend::{Backend, Result};
pub use detach::{DetachKeys, DEFAULT_DETACH_KEYS};
pub use error::ApiError;
pub use http::{API_VERSION, MAX_BODY, MIN_API_VERSION};
pub use routes::{find as find_route, Route};
pub use server::{serve, serve_connection};
