#!/usr/bin/env bash
# Bytes on disk for one image, wharf's store beside Docker's overlay2 (issue 21's target:
# wharf at most 1.1x Docker): the python:3.11-slim fixture imported, and the same image pulled
# from a loopback registry (Debian's docker-registry). Each is `du -sb` of the folders the
# store keeps for that image: for wharf, a fresh state root holding only it (blobs, layers,
# index); for Docker (a private daemon, so nothing else shares its layers), the image's
# overlay2 layer folders, their layerdb entries (with tar-split) and its config in imagedb.
# Also prints wharf's `system df` beside `du` of its root (the issue asks within 5%).
# Needs root, docker-registry and (for the comparison) dockerd.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
start_registry "$work"
export WHARF_DOCKERD_DIR=$work/dockerd
cleanup() {
  kill "$registry_pid" 2>/dev/null || true
  scripts/dockerd.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

du_b() { du -sb "$@" | awk '{s += $1} END {print s + 0}'; }

# The fixture imported, in a root of its own; then pushed, and pulled into another root.
image=127.0.0.1:$registry_port/bench/python:3.11-slim
export WHARF_RUN=$work/run
WHARF_ROOT=$work/imported import_fixture python-3.11-slim "$image"
WHARF_ROOT=$work/imported "$wharf" push -q "$image" >/dev/null
WHARF_ROOT=$work/pulled "$wharf" pull -q "$image" >/dev/null
declare -A ours
for kind in imported pulled; do
  ours[$kind]=$(du_b "$work/$kind")
  df_total=$(WHARF_ROOT=$work/$kind "$wharf" system df --format '{{.Size}}' |
    python3 -c 'import sys
units = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
def size(t):
    n = t.rstrip("kMGB")
    return float(n) * units[t[len(n):]]
print(int(sum(size(l.strip()) for l in sys.stdin if l.strip())))')
  python3 -c 'import sys; d, s = int(sys.argv[2]), int(sys.argv[3]); print("%-10s wharf system df %d bytes, du %d bytes: %+.1f%%" % (sys.argv[1], s, d, 100.0 * (s - d) / d))' \
    "$kind" "${ours[$kind]}" "$df_total"
  printf '%-10s wharf: blobs %d, layers %d bytes\n' "$kind" "$(du_b "$work/$kind/blobs")" "$(du_b "$work/$kind/layers")"
done

# docker_bytes IMAGE: du of the overlay2 folders, layerdb entries and config of IMAGE.
docker_bytes() {
  local data=$work/dockerd/data
  "$docker" image inspect "$1" | python3 -c '
import hashlib, json, sys
image = json.load(sys.stdin)[0]
data = sys.argv[1]
dirs = image["GraphDriver"]["Data"].get("LowerDir", "").split(":") + [image["GraphDriver"]["Data"]["UpperDir"]]
paths = [d[: -len("/diff")] for d in dirs if d]
chain = None
for diff_id in image["RootFS"]["Layers"]:
    chain = diff_id if chain is None else "sha256:" + hashlib.sha256((chain + " " + diff_id).encode()).hexdigest()
    paths.append("%s/image/overlay2/layerdb/sha256/%s" % (data, chain.split(":")[1]))
paths.append("%s/image/overlay2/imagedb/content/sha256/%s" % (data, image["Id"].split(":")[1]))
print("\n".join(paths))' "$data" | xargs du -sb | awk '{s += $1} END {print s + 0}'
}

if scripts/dockerd.sh start >/dev/null 2>&1; then
  export DOCKER_HOST=unix://$WHARF_DOCKERD_DIR/docker.sock
  changes=()
  while IFS= read -r change; do changes+=(--change "$change"); done < "$(scripts/fixtures/build.sh --changes python-3.11-slim)"
  "$docker" import "${changes[@]}" "$(scripts/fixtures/build.sh python-3.11-slim)" bench/imported:1 >/dev/null
  theirs_imported=$(docker_bytes bench/imported:1)
  "$docker" rmi -f bench/imported:1 >/dev/null
  "$docker" pull -q "$image" >/dev/null
  theirs_pulled=$(docker_bytes "$image")
  printf '\n%-22s %14s %14s %8s\n' "python:3.11-slim" "wharf bytes" "docker bytes" "ratio"
  for kind in imported pulled; do
    theirs_var=theirs_$kind
    python3 -c 'import sys; o, t = int(sys.argv[2]), int(sys.argv[3]); print("%-22s %14d %14d %7.2fx" % (sys.argv[1], o, t, o / t))' \
      "$kind" "${ours[$kind]}" "${!theirs_var}"
  done
  echo "(ratio: wharf's bytes over Docker overlay2's; the issue's target is at most 1.10x)"
else
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
