//! `GET /containers/{id}/stats`: Docker's stats JSON, one reading a second while streamed
//! (each with the one before as `precpu_stats`), or once: with `one-shot` at once, else
//! after a second, so that clients can work out the CPU share as `docker stats` does.

use std::time::Duration;

use serde_json::{json, Value};

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::handlers::containers::gone;
use crate::types::StatsSample;

/// Docker samples once a second.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn stats(call: &mut Call) -> Result<Reply, ApiError> {
    let streamed = call.flag_or("stream", true);
    let one_shot = call.flag("one-shot");
    let name = call.param(0).to_string();
    let backend = call.backend;
    let first = backend.container_stats(&name)?;
    if !streamed {
        if one_shot {
            return Ok(Reply::Json(200, encode(&first, None)));
        }
        std::thread::sleep(INTERVAL);
        let now = backend.container_stats(&name)?;
        return Ok(Reply::Json(200, encode(&now, Some(&first))));
    }
    let mut out = call
        .connection
        .stream(200, "application/json")
        .map_err(gone)?;
    if out.json_line(&encode(&first, None)).is_err() {
        return Ok(Reply::Written);
    }
    let mut before = first;
    loop {
        std::thread::sleep(INTERVAL);
        // Removed meanwhile: the stream ends, as Docker's does.
        let Ok(now) = backend.container_stats(&name) else {
            break;
        };
        if out.json_line(&encode(&now, Some(&before))).is_err() {
            return Ok(Reply::Written);
        }
        before = now;
    }
    let _ = out.finish();
    Ok(Reply::Written)
}

/// Docker's `StatsJSON` (`api/types/container/stats.go`); `before` gives `precpu_stats`.
pub fn encode(now: &StatsSample, before: Option<&StatsSample>) -> Value {
    let zero = StatsSample {
        read: "0001-01-01T00:00:00Z".into(),
        ..StatsSample::default()
    };
    let before = before.unwrap_or(&zero);
    let blkio = |op: &str, value: u64| json!({ "major": 0, "minor": 0, "op": op, "value": value });
    json!({
        "id": now.id,
        "name": format!("/{}", now.name),
        "read": now.read,
        "preread": before.read,
        "num_procs": 0,
        "pids_stats": { "current": now.pids },
        "blkio_stats": {
            "io_service_bytes_recursive": [
                blkio("read", now.block_read_bytes),
                blkio("write", now.block_write_bytes),
            ],
            "io_serviced_recursive": null,
            "io_queue_recursive": null,
            "io_service_time_recursive": null,
            "io_wait_time_recursive": null,
            "io_merged_recursive": null,
            "io_time_recursive": null,
            "sectors_recursive": null,
        },
        "storage_stats": {},
        "cpu_stats": cpu(now),
        "precpu_stats": cpu(before),
        "memory_stats": {
            "usage": now.memory_bytes,
            "limit": now.memory_limit,
            "stats": {},
        },
        "networks": {
            "eth0": {
                "rx_bytes": now.net_rx_bytes,
                "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
                "tx_bytes": now.net_tx_bytes,
                "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0,
            },
        },
    })
}

fn cpu(sample: &StatsSample) -> Value {
    json!({
        "cpu_usage": {
            "total_usage": sample.cpu_ns,
            "usage_in_usermode": sample.cpu_user_ns,
            "usage_in_kernelmode": sample.cpu_kernel_ns,
        },
        "system_cpu_usage": sample.system_cpu_ns,
        "online_cpus": sample.online_cpus,
        "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_share_docker_computes_comes_from_two_samples() {
        let sample = |cpu_ns, system_cpu_ns| StatsSample {
            name: "web".into(),
            cpu_ns,
            system_cpu_ns,
            online_cpus: 2,
            memory_bytes: 6,
            memory_limit: 10,
            ..StatsSample::default()
        };
        let value = encode(&sample(3_000, 8_000), Some(&sample(1_000, 4_000)));
        // The docker CLI's calculateCPUPercentUnix.
        let cpu = |key: &str, field: &str| value[key]["cpu_usage"][field].as_f64().unwrap();
        let system = |key: &str| value[key]["system_cpu_usage"].as_f64().unwrap();
        let percent = (cpu("cpu_stats", "total_usage") - cpu("precpu_stats", "total_usage"))
            / (system("cpu_stats") - system("precpu_stats"))
            * value["cpu_stats"]["online_cpus"].as_f64().unwrap()
            * 100.0;
        assert_eq!(percent, 100.0);
        assert_eq!(value["name"], "/web");
        assert_eq!(value["memory_stats"]["usage"], 6);
        let alone = encode(&sample(3_000, 8_000), None);
        assert_eq!(alone["precpu_stats"]["cpu_usage"]["total_usage"], 0);
        assert_eq!(alone["preread"], "0001-01-01T00:00:00Z");
    }
}
