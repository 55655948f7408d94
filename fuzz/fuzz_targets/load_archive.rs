//! `wharf load` of a `docker save` archive or an OCI layout tarball (plain or compressed)
//! into a fresh store beside a folder it must not touch. Seeds are small valid archives
//! (`scripts/fuzz.sh` writes them): mutations inside file contents keep the tar readable,
//! so the fuzzer reaches the manifests, configs and layers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_engine::Engine;
use wharf_fuzz::Sandbox;

fuzz_target!(|bytes: &[u8]| {
    let sandbox = Sandbox::new();
    let root = sandbox.root();
    let engine = Engine::open(root.join("store"), root.join("run")).expect("an engine");
    let loaded = engine.load(bytes, "fuzz.tar");
    sandbox.assert_untouched();
    if let Ok(report) = loaded {
        for image in &report.images {
            engine
                .store()
                .blobs()
                .verify(&image.id)
                .expect("a loaded image's config is in the store");
        }
    }
});
