#!/usr/bin/env bash
# Times `wharf run --rm busybox true` against `docker run --rm` of the same image on this
# machine (median of many runs, hyperfine) and prints the ratio, plus a monitor's RSS.
# Each is timed twice: back to back, and after a pause (PAUSE seconds, as when a user types
# the next command): moving a process into a cgroup (v1) waits for an RCU grace period of the
# kernel, which a run just before has often already paid for.
# Needs root, hyperfine and (for the comparison) a Docker daemon.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-30}
pause=${PAUSE:-0.2}
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export WHARF_ROOT=$work/root WHARF_RUN=$work/run

import_fixture busybox wharf-bench/busybox:latest

# time_both NAME COMMAND...: hyperfine's medians back to back and after a pause, into $work/NAME*.json.
time_both() {
  local name=$1; shift
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/$name.json" "$*" >/dev/null
  hyperfine -N --warmup 1 --runs "$runs" --prepare "sleep $pause" --export-json "$work/$name-paused.json" "$*" >/dev/null
}
time_both wharf "$wharf" run --rm --network none wharf-bench/busybox true

# A monitor's memory while its container sleeps (it drops setup's pages after a second).
id=$("$wharf" run -d --network none wharf-bench/busybox sleep 30)
monitor=$(pgrep -f "__monitor $id" | head -1)
sleep 2
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$monitor/status")
"$wharf" rm -f "$id" >/dev/null

printf '%-40s %10s\n' "monitor RSS" "${rss_kib} KiB"
# report NAME LABEL: the two medians of NAME.
report() {
  printf '%-40s %10s\n' "$2" "$(median "$work/$1.json")s" "$2 (after ${pause}s)" "$(median "$work/$1-paused.json")s"
}
report wharf "wharf run --rm true"
if scripts/dockerd.sh start >/dev/null 2>&1; then
  "$wharf" save wharf-bench/busybox | "$docker" load -q >/dev/null
  time_both docker "$docker" run --rm --network none wharf-bench/busybox true
  "$docker" rmi -f wharf-bench/busybox >/dev/null
  report docker "docker run --rm true"
  for kind in "" -paused; do
    python3 -c "import sys; print('ratio%s: wharf is %.1fx faster than docker' % (sys.argv[3], float(sys.argv[2]) / float(sys.argv[1])))" \
      "$(median "$work/wharf$kind.json")" "$(median "$work/docker$kind.json")" "${kind:+ after a pause}"
  done
else
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
