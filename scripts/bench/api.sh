#!/usr/bin/env bash
# Times `docker run --rm busybox true` through wharf's API socket (`wharf system service`)
# against the same command through dockerd on this machine (median of many runs, hyperfine),
# with the same client (Debian's docker CLI), and prints the ratio; then the service's memory:
# its peak RSS while it served those runs, and its RSS when idle.
# Needs root, hyperfine and (for the comparison) a Docker daemon (scripts/dockerd.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-30}
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
service=
cleanup() {
  if [[ -n "$service" ]]; then kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export WHARF_ROOT=$work/root WHARF_RUN=$work/run

import_fixture busybox wharf-bench/busybox:latest
socket=$work/api.sock
"$wharf" system service --time 0 "unix://$socket" 2>/dev/null &
service=$!
for _ in $(seq 200); do [[ -S "$socket" ]] && break; sleep 0.05; done
[[ -S "$socket" ]] || { echo "error: the service did not listen on $socket" >&2; exit 1; }

DOCKER_HOST=unix://$socket "$docker" run --rm --network none wharf-bench/busybox true \
  || { echo "error: docker run through wharf's socket failed" >&2; exit 1; }
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/wharf.json" \
  "env DOCKER_HOST=unix://$socket $docker run --rm --network none wharf-bench/busybox true" >/dev/null
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$service/status")
sleep 1
idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$service/status")

printf '%-48s %10s\n' "docker run --rm true via wharf's socket" "$(median "$work/wharf.json")s"
printf '%-48s %10s\n' "wharf service peak RSS while serving" "${peak_kib} KiB"
printf '%-48s %10s\n' "wharf service RSS when idle" "${idle_kib} KiB"
if scripts/dockerd.sh start >/dev/null 2>&1; then
  "$wharf" save wharf-bench/busybox | "$docker" load -q >/dev/null
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/docker.json" \
    "$docker run --rm --network none wharf-bench/busybox true" >/dev/null
  "$docker" rmi -f wharf-bench/busybox >/dev/null
  printf '%-48s %10s\n' "docker run --rm true via dockerd" "$(median "$work/docker.json")s"
  python3 -c "import sys; print('ratio: through wharf is %.1fx faster than through dockerd (target: 3x)' % (float(sys.argv[2]) / float(sys.argv[1])))" \
    "$(median "$work/wharf.json")" "$(median "$work/docker.json")"
else
  echo "SKIPPED: dockerd comparison: no Docker daemon could start" >&2
fi
