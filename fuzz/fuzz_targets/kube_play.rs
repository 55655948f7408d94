//! `wharf kube play` of a Kubernetes YAML stream (the first byte picks `--publish`): the
//! manifests read (multi-document, `List`s), turned into a compose document, written as
//! YAML and loaded by compose's loader as the command loads it. The written YAML must read
//! back as the document; an error must say something; the same input gives the same
//! document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wharf_compose::{load, yaml_text, LoadOptions};
use wharf_fuzz::yaml::{documents, same};
use wharf_fuzz::Sandbox;
use wharf_kube::play::{compose_document, parse, PlayOptions};
use wharf_kube::KubeError;

fn play(text: &str, options: &PlayOptions) -> Result<Value, KubeError> {
    let manifests = parse("play.yaml", text)?;
    for manifest in &manifests {
        assert!(
            manifest.body.is_object(),
            "a manifest that is not a mapping"
        );
        assert!(manifest.document >= 1, "documents count from 1");
    }
    compose_document(&manifests, options)
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, rest)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let options = PlayOptions {
        publish: flags & 1 == 1,
        ..PlayOptions::default()
    };
    let document = match (play(text, &options), play(text, &options)) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first, second, "two plays of one input differ");
            first
        }
        (Err(first), Err(second)) => {
            let message = first.to_string();
            assert!(!message.trim().is_empty(), "an empty error: {first:?}");
            assert_eq!(message, second.to_string(), "two plays fail differently");
            return;
        }
        (first, second) => panic!("one play fails, the other not: {first:?} / {second:?}"),
    };
    let written = yaml_text(&document);
    let read = documents(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(read.len(), 1, "one document written:\n{written}");
    assert!(
        same(&document, &read[0]),
        "written YAML reads back otherwise:\n{written}"
    );

    let sandbox = Sandbox::new();
    let dir = sandbox.root();
    std::fs::write(dir.join("compose.yaml"), &written).expect("the compose file");
    let mut load_options = LoadOptions::new(dir.clone(), Default::default());
    load_options.project_name = Some("kube".into());
    match load(&load_options) {
        Ok(loaded) => {
            let _ = wharf_compose::to_yaml(&loaded.project);
        }
        Err(error) => assert!(!error.to_string().trim().is_empty()),
    }
    sandbox.assert_untouched();
});
