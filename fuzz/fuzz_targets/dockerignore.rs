//! `.dockerignore` text, then paths matched against it.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wharf_build::context::IgnoreMatcher;

fuzz_target!(|text: &str| {
    // The first line's paths are matched against the rest's patterns.
    let (paths, patterns) = text.split_once('\n').unwrap_or(("", text));
    let Ok(matcher) = IgnoreMatcher::parse(patterns) else {
        return;
    };
    let _ = matcher.is_empty();
    for path in paths
        .split('|')
        .chain(["a/b/c", ".", "Dockerfile", ".dockerignore"])
    {
        let _ = matcher.is_excluded(Path::new(path));
    }
});
