//! A Dockerfile as the frontend reads it: parse tree, instructions, stages, the build order
//! and each stage's base with the global ARGs expanded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_dockerfile::{parse, parse_instructions, BuildArgs, BuildStages};

fuzz_target!(|text: &str| {
    let Ok(dockerfile) = parse(text) else { return };
    let _ = dockerfile.dump();
    let _ = parse_instructions(&dockerfile);
    let Ok(stages) = BuildStages::from_dockerfile(&dockerfile) else {
        return;
    };
    let args = BuildArgs::default();
    let _ = stages.build_order(None, &args);
    if let Ok(scope) = stages.global_scope(&args) {
        for index in 0..stages.stages.len() {
            let _ = stages.base(index, &scope);
        }
    }
});
