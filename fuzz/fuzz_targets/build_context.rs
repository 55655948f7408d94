//! A build context sent as a tar on stdin (`wharf build -`), extracted into a folder
//! beside one it must not touch.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wharf_build::context::extract_context;
use wharf_fuzz::{build_tar, Entry, Sandbox};

#[derive(Arbitrary, Debug)]
struct Input {
    entries: Vec<Entry>,
}

fuzz_target!(|input: Input| {
    let sandbox = Sandbox::new();
    let tar = build_tar(&input.entries, &sandbox.outside());
    let _ = extract_context(&tar[..], &sandbox.root());
    sandbox.assert_untouched();
});
