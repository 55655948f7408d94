//! `ADD <url>`: files fetched once per build, kept in a work folder of the build cache (gc
//! removes it after a crash) until the build ends.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use wharf_build::RemoteSource;
use wharf_registry::{Fetched, Fetcher};

use super::executor::StepDir;
use crate::error::{IoResultExt, Result};
use crate::Engine;

/// BuildKit's mode for downloaded files when ADD has no `--chmod`.
const DOWNLOAD_MODE: u32 = 0o600;

#[derive(Default)]
pub(crate) struct Downloads {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Made on the first download: most builds download nothing, and the settings it reads
    /// stay off their path.
    fetcher: Option<Fetcher>,
    /// Created on the first download.
    dir: Option<StepDir>,
    /// By URL: the file and what the server said of it.
    files: HashMap<String, (PathBuf, Fetched)>,
}

impl Downloads {
    /// The file of `source`, fetched now unless this build already has it. It has BuildKit's
    /// mode (0600) and the server's Last-Modified time.
    pub fn get(
        &self,
        engine: &Engine,
        source: &RemoteSource,
    ) -> Result<(PathBuf, Fetched), wharf_build::StepError> {
        let mut state = self.state.lock().expect("downloads lock");
        if let Some(found) = state.files.get(&source.url) {
            return Ok(found.clone());
        }
        let dir = match &state.dir {
            Some(dir) => dir.path.clone(),
            None => state.dir.insert(StepDir::new(engine.store())?).path.clone(),
        };
        let path = dir.join(state.files.len().to_string());
        let fetcher = match &state.fetcher {
            Some(fetcher) => fetcher,
            None => state
                .fetcher
                .insert(Fetcher::new(engine.registry_settings()?.certs_dirs)),
        };
        let fetched = fetcher.fetch(&source.url, source.checksum.as_ref(), &path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(DOWNLOAD_MODE)).at("chmod", &path)?;
        if let Some(modified) = fetched.last_modified {
            fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|file| file.set_modified(modified))
                .at("set the modification time of", &path)?;
        }
        state
            .files
            .insert(source.url.clone(), (path.clone(), fetched.clone()));
        Ok((path, fetched))
    }
}
