//! Container names: unique, claimed atomically as files under `containers/.names/`, and
//! generated like Docker's (`adjective_scientist`) when not given.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

const ADJECTIVES: &[&str] = &[
    "admiring", "bold", "brave", "calm", "clever", "eager", "elegant", "focused", "gallant",
    "happy", "jolly", "keen", "kind", "lucid", "modest", "nifty", "quirky", "serene", "sharp",
    "stoic", "tender", "vibrant", "wizardly", "zealous",
];
const SCIENTISTS: &[&str] = &[
    "babbage", "curie", "darwin", "einstein", "fermi", "galileo", "hopper", "hypatia", "kepler",
    "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "thompson",
    "turing", "wozniak", "yonath",
];

fn random_name() -> String {
    let mut bytes = [0u8; 4];
    let _ = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    let n = u32::from_le_bytes(bytes) as usize;
    format!(
        "{}_{}",
        ADJECTIVES[n % ADJECTIVES.len()],
        SCIENTISTS[(n / ADJECTIVES.len()) % SCIENTISTS.len()]
    )
}

impl Engine {
    /// A random name no container has now, as Docker retries one that is taken (a root with
    /// many containers meets its collisions); the claim at create still decides.
    pub(crate) fn unused_random_name(&self) -> String {
        let mut name = random_name();
        for _ in 0..10 {
            if !self.names_dir().join(&name).exists() {
                break;
            }
            name = random_name();
        }
        name
    }

    fn names_dir(&self) -> PathBuf {
        self.root().join("containers/.names")
    }

    /// Claims `name` for container `id`; fails if another container has it.
    pub(crate) fn claim_name(&self, name: &str, id: &str) -> Result<()> {
        let dir = self.names_dir();
        std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => file.write_all(id.as_bytes()).at("write", &path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(EngineError::NameInUse {
                    name: name.to_string(),
                    id: std::fs::read_to_string(&path).unwrap_or_default(),
                })
            }
            Err(e) => Err(e).at("create", &path),
        }
    }

    pub(crate) fn release_name(&self, name: &str) {
        let _ = std::fs::remove_file(self.names_dir().join(name));
    }

    /// The id of the container called `name`, if any.
    pub(crate) fn id_by_name(&self, name: &str) -> Option<String> {
        let name = name.strip_prefix('/').unwrap_or(name);
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        std::fs::read_to_string(self.names_dir().join(name)).ok()
    }
}
