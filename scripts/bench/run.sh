#!/usr/bin/env bash
# Times `wharf run --rm busybox true` against `docker run --rm` of the same image on this
# machine (median of many runs, hyperfine) and prints the ratio, plus a monitor's RSS.
# Needs root, hyperfine and (for the comparison) a Docker daemon.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-30}
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export WHARF_ROOT=$work/root WHARF_RUN=$work/run

import_fixture busybox wharf-bench/busybox:latest

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/wharf.json" \
  "$wharf run --rm --network none wharf-bench/busybox true" >/dev/null
wharf_median=$(median "$work/wharf.json")

# A monitor's memory while its container sleeps (it drops setup's pages after a second).
id=$("$wharf" run -d --network none wharf-bench/busybox sleep 30)
monitor=$(pgrep -f "__monitor $id" | head -1)
sleep 2
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$monitor/status")
"$wharf" rm -f "$id" >/dev/null

printf '%-28s %10s\n' "wharf run --rm true" "${wharf_median}s"
printf '%-28s %10s\n' "monitor RSS" "${rss_kib} KiB"
if scripts/dockerd.sh start >/dev/null 2>&1; then
  "$wharf" save wharf-bench/busybox | "$docker" load -q >/dev/null
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/docker.json" \
    "$docker run --rm --network none wharf-bench/busybox true" >/dev/null
  docker_median=$(median "$work/docker.json")
  "$docker" rmi -f wharf-bench/busybox >/dev/null
  printf '%-28s %10s\n' "docker run --rm true" "${docker_median}s"
  python3 -c "import sys; print('ratio: wharf is %.1fx faster than docker' % (float(sys.argv[2]) / float(sys.argv[1])))" "$wharf_median" "$docker_median"
else
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
