//! `--format` templates (Go's template language), rendered over a container-like value,
//! and the sizes and durations the tables print. The modules are the binary's own,
//! compiled in here.
#![no_main]
#![allow(dead_code)]

#[path = "../../crates/wharf/src/format.rs"]
mod format;
#[path = "../../crates/wharf/src/template/mod.rs"]
mod template;

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|input: (u64, i64, &str)| {
    let (size, seconds, text) = input;
    let _ = format::human_size(size);
    let _ = format::human_binary_size(size);
    let _ = format::human_duration(seconds);
    let _ = format::since(Some(text));
    let Ok(format::Format::Template { template, .. }) = format::Format::parse(Some(text)) else {
        return;
    };
    let value = json!({
        "ID": "0123456789ab", "Names": ["web"], "Labels": {"a": "b", "n": 1},
        "Size": size, "State": {"Running": true, "ExitCode": seconds}, "Nil": null,
    });
    let _ = template.header(|name| name.to_uppercase());
    if let Ok(line) = template.render(&value) {
        let _ = format::table(&[
            vec![line.clone()],
            line.split('\t').map(str::to_owned).collect(),
        ]);
    }
});
