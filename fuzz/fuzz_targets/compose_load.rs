//! A compose file (and a `.env` beside it, after a NUL byte) loaded as `docker compose
//! config` loads it: parse, interpolate, merge, normalize, validate; then printed.
#![no_main]

use std::collections::BTreeMap;
use std::fs;

use libfuzzer_sys::fuzz_target;
use wharf_compose::{load, to_json, to_yaml, LoadOptions};
use wharf_fuzz::Sandbox;

fuzz_target!(|bytes: &[u8]| {
    let (compose, env) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let sandbox = Sandbox::new();
    let dir = sandbox.root();
    fs::write(dir.join("compose.yaml"), compose).expect("the compose file");
    if let Some(env) = env {
        fs::write(dir.join(".env"), env).expect("the .env file");
    }
    let shell: BTreeMap<String, String> = [("USER", "fuzz"), ("EMPTY", ""), ("TAG", "1.0")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let mut options = LoadOptions::new(dir.clone(), shell);
    options.project_name = Some("fuzz".to_owned());
    if let Ok(loaded) = load(&options) {
        let _ = to_json(&loaded.project);
        let _ = to_yaml(&loaded.project);
    }
    sandbox.assert_untouched();
});
