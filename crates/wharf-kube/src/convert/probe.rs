//! `healthcheck` as readiness and liveness probes. The test becomes an exec probe, or an
//! httpGet/tcpSocket probe when it is a plain `curl -f`/`wget`/`nc -z` of the container
//! itself (the kubelet then probes without a shell or curl in the image).
//!
//! interval → periodSeconds, timeout → timeoutSeconds, retries → failureThreshold (Docker's
//! defaults 30s, 30s, 3). start_period → the liveness probe's initialDelaySeconds: compose
//! does not count failures then, but a success makes the container healthy at once, so
//! readiness starts probing straight away.

use serde_json::{json, Map, Value};
use wharf_compose::Duration;

use super::context::Context;
use super::Out;

/// The probe of the service's healthcheck (`liveness`: with the start period as delay).
pub(crate) fn probe(context: &Context, out: &mut Out, liveness: bool) -> Option<Value> {
    let check = context.service.healthcheck.as_ref()?;
    if check.disable || check.test.first().is_some_and(|t| t == "NONE") {
        return None;
    }
    let action = match check.test.split_first() {
        Some((kind, rest)) if kind == "CMD" => action(rest.to_vec(), rest.to_vec()),
        Some((kind, rest)) if kind == "CMD-SHELL" && rest.len() == 1 => {
            let words = shlex::split(&rest[0]).unwrap_or_default();
            action(words, vec!["/bin/sh".into(), "-c".into(), rest[0].clone()])
        }
        // The healthcheck's test is inherited from the image.
        None => {
            if !liveness {
                context.refuse(
                    out,
                    "healthcheck",
                    "sets no test: the image's HEALTHCHECK is not known here",
                );
            }
            return None;
        }
        Some(_) => {
            if !liveness {
                context.refuse(out, "healthcheck.test", "is neither CMD nor CMD-SHELL");
            }
            return None;
        }
    };
    let mut probe = action;
    let seconds = |d: Option<Duration>, default: u64| {
        d.map_or(default, |d| d.0.as_secs_f64().ceil().max(1.0) as u64)
    };
    if liveness {
        if let Some(start) = check.start_period.filter(|d| !d.is_zero()) {
            probe.insert(
                "initialDelaySeconds".into(),
                json!(start.0.as_secs_f64().ceil() as u64),
            );
        }
    }
    probe.insert("periodSeconds".into(), json!(seconds(check.interval, 30)));
    probe.insert("timeoutSeconds".into(), json!(seconds(check.timeout, 30)));
    probe.insert(
        "failureThreshold".into(),
        json!(check.retries.unwrap_or(3).max(1)),
    );
    Some(Value::Object(probe))
}

/// httpGet or tcpSocket when `words` is a plain probe of the container itself, else exec.
fn action(words: Vec<String>, exec: Vec<String>) -> Map<String, Value> {
    let mut action = Map::new();
    if let Some(probe) = network_probe(&words) {
        action.extend(probe);
    } else {
        action.insert("exec".into(), json!({ "command": exec }));
    }
    action
}

fn network_probe(words: &[String]) -> Option<Map<String, Value>> {
    let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
    // `... || exit 1` changes nothing a probe sees.
    if words.ends_with(&["||", "exit", "1"]) {
        words.truncate(words.len() - 3);
    }
    let (program, args) = words.split_first()?;
    let mut out = Map::new();
    match *program {
        "curl" | "wget" => {
            let (urls, flags): (Vec<&str>, Vec<&str>) =
                args.iter().partition(|a| a.starts_with("http://"));
            let fails = *program == "wget"
                || flags.iter().any(|f| {
                    *f == "--fail"
                        || (f.starts_with('-') && !f.starts_with("--") && f.contains('f'))
                });
            let harmless = |f: &&str| {
                matches!(
                    *f,
                    "-f" | "--fail"
                        | "-s"
                        | "--silent"
                        | "-S"
                        | "--show-error"
                        | "-fs"
                        | "-sf"
                        | "-fsS"
                        | "-sSf"
                        | "-fSs"
                        | "-q"
                        | "--quiet"
                        | "--spider"
                        | "-qO-"
                        | "-O-"
                        | "-qO"
                        | "-O"
                        | "-"
                        | "/dev/null"
                        | "-o"
                )
            };
            if urls.len() != 1 || !fails || !flags.iter().all(harmless) {
                return None;
            }
            let (port, path) = local_url(urls[0])?;
            out.insert("httpGet".into(), json!({ "path": path, "port": port }));
        }
        "nc" => {
            let [flag, host, port] = args else {
                return None;
            };
            let port: u16 = port.parse().ok()?;
            if *flag != "-z" || !is_local(host) {
                return None;
            }
            out.insert("tcpSocket".into(), json!({ "port": port }));
        }
        _ => return None,
    }
    Some(out)
}

/// `http://localhost:8000/health` → (8000, "/health").
fn local_url(url: &str) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, 80),
    };
    is_local(host).then_some((port, path))
}

fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]")
}
