#!/usr/bin/env bash
# Compose: `wharf compose` side by side with docker compose v2 (2.40.3, from
# scripts/install-compose.sh) and dockerd, on a 3-service stack (python http.server, redis,
# a sleeping worker; 2 networks, a named volume, a published port; images present): cold
# `up -d`, `up -d` with nothing changed, `down -v`, and `up --wait` on the same stack with
# healthchecks (every second), then with a start period probed every 100 ms
# (`start_interval`: Docker 25's; docker compose refuses it with the Docker 20.10 here, so its
# row times docker on the every-second stack: what a user of this Docker can have). Each phase is timed ROUNDS times (wall clock of the whole command); the
# medians and the ratio docker/wharf are printed.
#
# wharf runs in a network namespace of this script's own (loopback only), so its bridges,
# firewall table and published port never touch the host's. Docker runs in the host's
# namespace (our dockerd has --bridge=none --iptables=false: compose's networks are user
# bridges and the port is served by docker-proxy on 127.0.0.1). Both get the same fixture
# images (wharf import, then `wharf save | docker load`). Needs root; Docker is SKIPPED
# (loudly) when no daemon can start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

rounds=${ROUNDS:-5}
[[ "$(id -u)" == 0 ]] || { echo "error: the benchmark needs root (network namespaces)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/wharf-bench-compose.XXXXXX)
run_dir=$(mktemp -d /run/wharf-bench-compose.XXXXXX)
ns=wharf-bench-compose-$$
project=wbench$$
docker_started=0
cleanup() {
  set +e
  in_ns "$wharf" compose -p "$project" -f "$work/stack.yaml" down -v -t 0 >/dev/null 2>&1
  in_ns "$wharf" compose -p "$project" -f "$work/healthy.yaml" down -v -t 0 >/dev/null 2>&1
  in_ns "$wharf" compose -p "$project" -f "$work/quick.yaml" down -v -t 0 >/dev/null 2>&1
  ip netns del "$ns" 2>/dev/null
  if ((docker_started)); then
    for file in stack healthy quick; do
      "$docker" compose -p "$project" -f "$work/$file.yaml" down -v -t 0 >/dev/null 2>&1
    done
    "$docker" rmi -f wharf-bench/busybox wharf-bench/python wharf-bench/redis >/dev/null 2>&1
  fi
  umount "$run_dir" 2>/dev/null
  rm -rf "$work" "$run_dir"
}
trap cleanup EXIT
mount -t tmpfs -o mode=0711 wharf-bench-run "$run_dir"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
export WHARF_ROOT=$work/root WHARF_RUN=$run_dir

import_fixture busybox wharf-bench/busybox:latest
import_fixture python-3.11-slim wharf-bench/python:latest
import_fixture redis-7 wharf-bench/redis:latest

# The stack; python and sleep as PID 1 ignore SIGTERM, so they stop by SIGKILL in both.
cat > "$work/stack.yaml" <<'YAML'
services:
  web:
    image: wharf-bench/python:latest
    command: [python3, -m, http.server, "8000"]
    stop_signal: SIGKILL
    ports: ["127.0.0.1:18931:8000"]
    networks: [front, back]
  cache:
    image: wharf-bench/redis:latest
    # Its entrypoint script is PID 1 for the first ~0.1 s and ignores SIGTERM: a `down`
    # right after a fast `up` would time the 10 s grace period.
    stop_signal: SIGKILL
    networks: [back]
    volumes: [data:/data]
  worker:
    image: wharf-bench/busybox:latest
    command: [sleep, "100000"]
    stop_signal: SIGKILL
    networks: [back]
networks: {front: {}, back: {}}
volumes: {data: {}}
YAML
python3 - "$work/stack.yaml" "$work/healthy.yaml" "$work/quick.yaml" <<'PY'
import sys
stack = open(sys.argv[1]).read()
checks = {
    "web": '["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen(\'http://127.0.0.1:8000/\')"]',
    "cache": '["CMD", "redis-cli", "ping"]',
    "worker": '["CMD", "true"]',
}
for path, extra in [(sys.argv[2], ""), (sys.argv[3], ", start_period: 60s, start_interval: 100ms")]:
    text = stack
    for service, test in checks.items():
        text = text.replace(f"  {service}:\n", f"  {service}:\n    healthcheck: {{test: {test}, interval: 1s, retries: 30{extra}}}\n", 1)
    open(path, "w").write(text)
PY

# time_ms COMMAND...: runs it (output to $work/last.log), prints its wall time in ms.
# Times from bash's own clock ($EPOCHREALTIME, microseconds): a `date` process on each side
# would add its own start (a few ms) to every time.
time_ms() {
  local start end
  start=${EPOCHREALTIME/./}
  "$@" >"$work/last.log" 2>&1 || { echo "error: $* failed:" >&2; cat "$work/last.log" >&2; exit 1; }
  end=${EPOCHREALTIME/./}
  echo $(((end - start) / 1000))
}

# bench NAME COMPOSE...: the four phases ROUNDS times with COMPOSE (a command prefix);
# writes NAME.PHASE files with one time a line.
bench() {
  local name=$1; shift
  for ((round = 0; round < rounds; round++)); do
    time_ms "$@" -p "$project" -f "$work/stack.yaml" up -d >>"$work/$name.cold"
    time_ms "$@" -p "$project" -f "$work/stack.yaml" up -d >>"$work/$name.unchanged"
    time_ms "$@" -p "$project" -f "$work/stack.yaml" down -v >>"$work/$name.down"
    time_ms "$@" -p "$project" -f "$work/healthy.yaml" up -d --wait >>"$work/$name.wait"
    "$@" -p "$project" -f "$work/healthy.yaml" down -v -t 0 >/dev/null 2>&1
    time_ms "$@" -p "$project" -f "$work/$quick.yaml" up -d --wait >>"$work/$name.quick"
    "$@" -p "$project" -f "$work/$quick.yaml" down -v -t 0 >/dev/null 2>&1
  done
}

quick=quick
# One nsenter around all of wharf's rounds: an nsenter per command would add its own start
# (several ms on a busy machine) to every time of wharf's.
export -f time_ms bench
export work project rounds quick wharf
in_ns bash -c 'bench wharf "$wharf" compose'
if scripts/dockerd.sh start >/dev/null 2>&1 && "$docker" compose version >/dev/null 2>&1; then
  docker_started=1
  for image in busybox python redis; do
    "$wharf" save "wharf-bench/$image:latest" | "$docker" load -q >/dev/null
  done
  quick=healthy
  bench docker "$docker" compose
else
  echo "SKIPPED: docker compose: no Docker daemon or no compose plugin (scripts/dockerd.sh start, scripts/install-compose.sh)" >&2
fi

ratio_table 28 "phase (median of $rounds)" "$work" cold:"up -d (cold)" unchanged:"up -d (nothing changed)" \
  down:"down -v" wait:"up -d --wait (healthy)" quick:"up --wait (start_interval)"
