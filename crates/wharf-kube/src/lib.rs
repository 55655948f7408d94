//! Kubernetes for compose projects, both ways, without a cluster: [`convert`] turns a
//! loaded compose project into Kubernetes objects (`wharf compose bridge convert`), and
//! [`play`] turns Kubernetes YAML into a compose project that compose's own plan and apply
//! run (`wharf kube play`). No I/O: callers read files and hand their contents in; nothing
//! here calls the engine.
//!
//! ```
//! use wharf_kube::{convert, ConvertOptions, Sources};
//! let mut project = wharf_compose::Project { name: "demo".into(), ..Default::default() };
//! let web = wharf_compose::Service { name: "web".into(), image: "nginx:1.22".into(), ..Default::default() };
//! project.services.insert("web".into(), web);
//! let converted = convert(&project, &Sources::default(), &ConvertOptions::default())?;
//! let kinds: Vec<&str> = converted.objects.iter().map(|o| o.kind).collect();
//! // No ports known: a headless Service still makes `web` resolve to its pods.
//! assert_eq!(kinds, ["Service", "Deployment"]);
//! # Ok::<(), wharf_kube::KubeError>(())
//! ```

pub mod convert;
mod error;
pub mod helm;
mod names;
pub mod output;
pub mod play;

pub use convert::{
    convert, env_file_variables, files_to_read, Conversion, ConvertOptions, Object, PublishType,
    Sources,
};
pub use error::{KubeError, Refusal};
pub use output::Format;

/// Standard base64, as Secrets' `data` holds values.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
