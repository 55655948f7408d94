//! Bytes on disk as `du -sb` counts them, and as wharf prints them, for the tests that
//! check `system df` and the prunes against `du`.

use std::path::Path;

/// `du -sb PATH`.
pub fn du(path: &Path) -> u64 {
    let output = std::process::Command::new("du")
        .arg("-sb")
        .arg(path)
        .output()
        .expect("du runs");
    assert!(output.status.success(), "du {}", path.display());
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("du prints bytes")
}

/// Docker's sizes as wharf prints them (`242MB`, `4.19kB`, `0B`, `1.2MB (50%)`).
pub fn bytes_of(text: &str) -> u64 {
    let text = text.split_whitespace().next().unwrap_or(text);
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or_else(|| panic!("no unit in {text}"));
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => panic!("unit {unit} in {text}"),
    };
    (number.parse::<f64>().unwrap() * scale) as u64
}

/// Wharf's printed sizes have three significant digits: equal within `percent`.
pub fn assert_near(what: &str, wharf_says: u64, du_says: u64, percent: u64) {
    let diff = wharf_says.abs_diff(du_says);
    assert!(
        diff * 100 <= du_says * percent,
        "{what}: wharf says {wharf_says} bytes, du says {du_says} (more than {percent}% apart)"
    );
}
