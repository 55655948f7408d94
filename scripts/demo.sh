#!/usr/bin/env bash
# The demo: the tutorials' Flask + Postgres stack (examples/flask-postgres), brought up with
# `wharf compose up`. Installs what wharf needs, builds wharf, makes the python:3.11-slim and
# postgres:15 fixture images from Debian packages, then `compose up -d --build`s the example
# (pip reaches PyPI; WHARF_BUILD_HOST_CA_CERTS=1 lets builds trust this host's CA
# certificates, as a TLS-intercepting proxy needs), writes a note through the app and reads
# it back from the URL that answers. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# WHARF_DEMO_PROFILE=dev reuses a debug build instead of making a release one.
profile=${WHARF_DEMO_PROFILE:-release}
cargo build --profile "$profile" -q -p wharf
wharf=$PWD/target/$([[ $profile == dev ]] && echo debug || echo "$profile")/wharf
export WHARF_ROOT=${WHARF_ROOT:-$(mktemp -d /var/tmp/wharf-demo.XXXXXX)}
export WHARF_BUILD_HOST_CA_CERTS=1
echo "state root: $WHARF_ROOT" >&2

fixture() { # NAME TAG
  if ! "$wharf" image inspect "$2" >/dev/null 2>&1; then
    local rootfs changes=()
    rootfs=$(scripts/fixtures/build.sh "$1")
    while IFS= read -r change; do changes+=(--change "$change"); done < "$(scripts/fixtures/build.sh --changes "$1")"
    "$wharf" import "${changes[@]}" "$rootfs" "$2" >/dev/null
  fi
}
fixture python-3.11-slim python:3.11-slim
fixture postgres-15 postgres:15

compose=("$wharf" compose -f examples/flask-postgres/compose.yaml)
set -x
"${compose[@]}" up -d --build
set +x
url=http://127.0.0.1:5000
for _ in $(seq 150); do
  if page=$(curl -fsS --max-time 2 "$url/" 2>/dev/null); then
    curl -fsS --max-time 5 -d "text=hello from the wharf demo" "$url/notes" >/dev/null
    echo "flask-postgres answers at $url/: $page"
    echo "its notes, kept in Postgres (curl $url/notes):"
    curl -fsS --max-time 5 "$url/notes"
    echo "add one:   curl -d text=mine $url/notes"
    echo "see it:    ${compose[*]} ps; ${compose[*]} logs"
    echo "stop it and remove its containers, network and volume:"
    echo "  WHARF_ROOT=$WHARF_ROOT ${compose[*]} down -v"
    echo "remove all the demo made (images, bridges, firewall rules, the state root):"
    echo "  WHARF_ROOT=$WHARF_ROOT $wharf system reset --force && rm -rf $WHARF_ROOT"
    exit 0
  fi
  sleep 0.2
done
"${compose[@]}" logs >&2
echo "error: flask-postgres did not answer at $url/" >&2
"${compose[@]}" down -v >/dev/null
exit 1
