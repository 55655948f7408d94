//! Image manifests, indexes and configs as a registry or an archive hands them over.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::spec::{ImageIndex, ImageManifest};
use wharf_oci::{media_type, Digest, ImageConfig};

fuzz_target!(|bytes: &[u8]| {
    let digest = Digest::of(bytes);
    if let Ok(manifest) = wharf_store::parse_manifest(&digest, bytes) {
        let _ = media_type::is_manifest(
            &manifest
                .media_type()
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        for layer in manifest.layers() {
            let _ = layer.digest().to_string().parse::<Digest>();
        }
    }
    let _ = serde_json::from_slice::<ImageManifest>(bytes);
    if let Ok(index) = serde_json::from_slice::<ImageIndex>(bytes) {
        for entry in index.manifests() {
            let _ = media_type::is_index(&entry.media_type().to_string());
            if let Some(platform) = entry.platform() {
                let _ = wharf_registry::Platform::from(platform);
            }
        }
    }
    if let Ok(config) = ImageConfig::from_slice(bytes) {
        let _ = serde_json::to_vec(&config);
    }
});
