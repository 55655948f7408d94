//! A layer, described entry by entry (plain or gzip), unpacked into a fresh store beside a
//! folder it must not touch: whatever the archive holds, nothing is written outside the
//! store, and a failed unpack leaves no layer behind.
#![no_main]

use std::io::Write;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wharf_fuzz::{build_tar, Entry, Sandbox};
use wharf_oci::Digest;
use wharf_store::{LayerToUnpack, Store};

#[derive(Arbitrary, Debug)]
struct Input {
    gzip: bool,
    entries: Vec<Entry>,
}

fuzz_target!(|input: Input| {
    let sandbox = Sandbox::new();
    let tar = build_tar(&input.entries, &sandbox.outside());
    let blob = if input.gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&tar).expect("gzip in memory");
        encoder.finish().expect("gzip in memory")
    } else {
        tar.clone()
    };
    let store = Store::open(sandbox.root()).expect("a store");
    let blob = store.blobs().put_bytes(&blob).expect("the blob");
    let diff_id = Digest::of(&tar);
    let layer = LayerToUnpack {
        blob,
        chain_id: diff_id.clone(),
        diff_id,
        parent: None,
    };
    let unpacked = store.unpack_layer(&layer);
    sandbox.assert_untouched();
    let recorded = store.layer_info(&layer.chain_id).expect("the layer record");
    assert_eq!(unpacked.is_ok(), recorded.is_some(), "{unpacked:?}");
    if unpacked.is_ok() {
        // Without its blob, the tree and tar-split record give the tar back byte for byte.
        store.blobs().remove(&layer.blob).expect("the blob removed");
        let image_layer = wharf_store::ImageLayer {
            blob: layer.blob.clone(),
            media_type: String::new(),
            blob_size: 0,
            diff_id: layer.diff_id.clone(),
            chain_id: layer.chain_id.clone(),
        };
        let mut rebuilt = Vec::new();
        store
            .write_layer_tar(&image_layer, &mut rebuilt)
            .expect("the tar rebuilt");
        assert!(rebuilt == tar, "the rebuilt tar differs");
    }
});
