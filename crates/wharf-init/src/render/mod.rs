//! Rendering: from [`Facts`] to the files `wharf init` writes. Pure text; writing is the
//! caller's.

mod compose;
mod dockerfile;
mod dockerignore;

use crate::facts::Facts;

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The name in the project folder.
    pub name: &'static str,
    pub text: String,
}

/// The files for a project; `password` is the generated development password for `.env`.
pub fn render(facts: &Facts, password: &str) -> Vec<Rendered> {
    let mut files = vec![
        Rendered {
            name: "Dockerfile",
            text: dockerfile::dockerfile(facts),
        },
        Rendered {
            name: ".dockerignore",
            text: dockerignore::dockerignore(),
        },
        Rendered {
            name: "compose.yaml",
            text: compose::compose(facts),
        },
    ];
    if let Some(text) = compose::env_file(facts, password) {
        files.push(Rendered { name: ".env", text });
    }
    files
}

/// The command the image starts, for the summary.
pub fn start_command(facts: &Facts) -> Vec<String> {
    dockerfile::start_command(facts)
}
