#!/usr/bin/env bash
# Times a cold `wharf pull` of the python:3.11-slim fixture from a loopback registry
# (Debian's docker-registry) against a cold `docker pull` of the same image, and prints the
# ratio. Needs root, hyperfine, docker-registry and (for the comparison) a Docker daemon.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-5}
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
start_registry "$work"
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT

image=127.0.0.1:$registry_port/bench/python:3.11-slim
export WHARF_ROOT=$work/source WHARF_RUN=$work/run
import_fixture python-3.11-slim "$image"
"$wharf" push -q "$image" >/dev/null

hyperfine -N --runs "$runs" --prepare "rm -rf $work/target" --export-json "$work/wharf.json" \
  "env WHARF_ROOT=$work/target $wharf pull -q $image" >/dev/null
wharf_median=$(median "$work/wharf.json")
printf '%-24s %10s\n' "wharf pull (cold)" "${wharf_median}s"
if scripts/dockerd.sh start >/dev/null 2>&1; then
  # Any image Docker holds with the same layer (another benchmark's import, the build
  # cache) makes its pull warm: refuse to time that.
  "$docker" rmi -f "$image" >/dev/null 2>&1 || true
  if "$docker" pull "$image" 2>&1 | grep -q "Already exists"; then
    echo "error: Docker already holds the layer of $image, so its pull would not be cold" >&2
    echo "hint: remove the images sharing it (docker images) or prune: docker system prune -af" >&2
    exit 1
  fi
  hyperfine -N --runs "$runs" --prepare "$docker rmi -f $image" --export-json "$work/docker.json" \
    "$docker pull -q $image" >"$work/docker-pull.log" 2>&1 || { cat "$work/docker-pull.log" >&2; exit 1; }
  docker_median=$(median "$work/docker.json")
  "$docker" rmi -f "$image" >/dev/null 2>&1 || true
  printf '%-24s %10s\n' "docker pull (cold)" "${docker_median}s"
  python3 -c "import sys; print('ratio: wharf is %.2fx faster than docker' % (float(sys.argv[2]) / float(sys.argv[1])))" "$wharf_median" "$docker_median"
else
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
