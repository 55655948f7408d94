//! Image references as users and registries write them; whatever parses must print back as
//! something that parses to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::{Digest, Reference};

fuzz_target!(|text: &str| {
    let _ = text.parse::<Digest>();
    let _ = Reference::parse_normalized_name(text);
    let Ok(reference) = Reference::parse_normalized(text) else {
        return;
    };
    let printed = reference.to_string();
    let again = Reference::parse_normalized(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(reference, again, "{text:?} printed as {printed:?}");
    // Docker's familiar form drops `docker.io/` even when the path's first component looks
    // like a registry (`docker.io/ghcr.io/x` prints as `ghcr.io/x`), so only references
    // without that ambiguity come back the same from their familiar form.
    let first = reference.path().split('/').next().unwrap_or_default();
    let ambiguous = reference.domain() == "docker.io"
        && reference.path().contains('/')
        && (first.contains(['.', ':']) || first == "localhost");
    let familiar = reference.familiar();
    if !ambiguous {
        let from_familiar = Reference::parse_normalized(&familiar)
            .unwrap_or_else(|e| panic!("{text:?} familiar {familiar:?} does not parse: {e}"));
        assert_eq!(reference, from_familiar, "{text:?} familiar {familiar:?}");
    }
    let _ = (reference.domain(), reference.path(), reference.repository());
    let _ = reference.familiar_repository();
    let _ = reference.with_tag("latest");
});
