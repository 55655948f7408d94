//! Time of one full container cycle (overlay mount, create, start, wait, delete, unmount)
//! for busybox `true`: the median of 50 runs, after 3 warm-up runs.
//!
//! `cargo bench -p wharf-runtime --bench cycle` (as root). Single-threaded, as libcontainer
//! requires, because a `harness = false` bench's `main` is the only thread.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use wharf_runtime::{ExitStatus, Stdio};

const RUNS: usize = 50;
const WARM_UP: usize = 3;

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(reason) = support::skip_reason() {
        eprintln!("SKIPPED: {reason}");
        return Ok(());
    }
    let dir = tempfile::Builder::new().prefix("wharf-bench-").tempdir()?;
    let layer = dir.path().join("layer");
    support::busybox_layer(&layer)?;
    let id = format!("bench-{}", std::process::id());
    let config = support::config(&id, &layer, &dir.path().join("container"), &["true"])?;
    let state_root = dir.path().join("state");

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for i in 0..WARM_UP + RUNS {
        let start = Instant::now();
        let outcome = wharf_runtime::run(&config, &state_root, Stdio::default())?;
        let elapsed = start.elapsed();
        if outcome.status != ExitStatus::Exited(0) {
            return Err(format!("run {i}: busybox true {}", outcome.status).into());
        }
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "container cycle (busybox true, {RUNS} runs): median {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
    Ok(())
}
