# Sourced by the benchmarks: builds the release wharf (as $wharf, from the repository root,
# which becomes the current folder) and defines the helpers they share. WHARF=PATH measures
# that binary instead, without building.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
if [[ -n "${WHARF:-}" ]]; then
  wharf=$WHARF
else
  cargo build --release -q -p wharf
  wharf=${CARGO_TARGET_DIR:-$PWD/target}/release/wharf
fi
# shellcheck disable=SC2034 # used by the scripts that source this one
docker=/usr/bin/docker

# median HYPERFINE_JSON: the median of the first command, in seconds.
median() { python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }

# import_fixture NAME TAG: the fixture image NAME (scripts/fixtures) into wharf's store as TAG.
import_fixture() {
  local change changes=()
  while IFS= read -r change; do changes+=(--change "$change"); done < "$(scripts/fixtures/build.sh --changes "$1")"
  "$wharf" import "${changes[@]}" "$(scripts/fixtures/build.sh "$1")" "$2" >/dev/null
}

# ratio_table WIDTH TITLE DIR KEY:LABEL...: one row a phase: the medians of DIR/wharf.KEY and
# DIR/docker.KEY (files of times in ms, one a line) and the ratio docker/wharf ("-" where
# docker has no times).
ratio_table() {
  local width=$1 title=$2 dir=$3 phase key ours theirs ratio; shift 3
  lines_median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
  printf "%-${width}s %12s %12s %8s\n" "$title" "wharf ms" "docker ms" "ratio"
  for phase in "$@"; do
    key=${phase%%:*}
    ours=$(lines_median "$dir/wharf.$key")
    if [[ -s "$dir/docker.$key" ]]; then
      theirs=$(lines_median "$dir/docker.$key")
      ratio=$(python3 -c "import sys; print('%.1fx' % (float(sys.argv[2]) / max(float(sys.argv[1]), 1)))" "$ours" "$theirs")
    else
      theirs=-; ratio=-
    fi
    printf "%-${width}s %12s %12s %8s\n" "${phase#*:}" "$ours" "$theirs" "$ratio"
  done
}

# start_registry DIR: Debian's docker-registry on a free loopback port, its storage in
# DIR/registry; sets $registry_port and $registry_pid (the caller's trap kills it).
start_registry() {
  registry_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$1/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $1/registry
http:
  addr: 127.0.0.1:$registry_port
log:
  level: error
YAML
  docker-registry serve "$1/registry.yml" >/dev/null 2>&1 &
  registry_pid=$!
  until (exec 3<>/dev/tcp/127.0.0.1/"$registry_port") 2>/dev/null; do sleep 0.1; done
}
