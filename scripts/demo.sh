#!/usr/bin/env bash
# The demo: build wharf, make the python:3.11-slim fixture from Debian packages, import it,
# list it, save it and load it back into a fresh store, then run python3 in a container.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release -q -p wharf
wharf=$PWD/target/release/wharf
export WHARF_ROOT=${WHARF_ROOT:-$(mktemp -d /var/tmp/wharf-demo.XXXXXX)}
echo "state root: $WHARF_ROOT" >&2

rootfs=$(scripts/fixtures/build.sh python-3.11-slim)
changes=()
while IFS= read -r change; do changes+=(--change "$change"); done < "$(scripts/fixtures/build.sh --changes python-3.11-slim)"

set -x
"$wharf" import "${changes[@]}" "$rootfs" python:3.11-slim
"$wharf" images
"$wharf" save -o "$WHARF_ROOT/python.tar" python:3.11-slim
WHARF_ROOT=$WHARF_ROOT/reloaded "$wharf" load -i "$WHARF_ROOT/python.tar"
WHARF_ROOT=$WHARF_ROOT/reloaded "$wharf" image inspect --format '{{.Id}} {{.RepoTags}} {{.Config.Cmd}}' python:3.11-slim
"$wharf" system check
"$wharf" run --rm python:3.11-slim python3 -c 'import sys; print("hello from", sys.version.split()[0])'
