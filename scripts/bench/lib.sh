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
