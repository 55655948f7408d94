#!/usr/bin/env bash
# The demo: the tutorials' Flask example, built and run with wharf. Installs what wharf
# needs, makes the python:3.11-slim fixture from Debian packages, builds examples/flask
# (pip reaches PyPI; --host-ca-certs lets it trust this host's CA certificates, as a
# TLS-intercepting proxy needs), runs it with its port published and asks it for a page.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release -q -p wharf
wharf=$PWD/target/release/wharf
export WHARF_ROOT=${WHARF_ROOT:-$(mktemp -d /var/tmp/wharf-demo.XXXXXX)}
echo "state root: $WHARF_ROOT" >&2

if ! "$wharf" image inspect python:3.11-slim >/dev/null 2>&1; then
  rootfs=$(scripts/fixtures/build.sh python-3.11-slim)
  changes=()
  while IFS= read -r change; do changes+=(--change "$change"); done < "$(scripts/fixtures/build.sh --changes python-3.11-slim)"
  "$wharf" import "${changes[@]}" "$rootfs" python:3.11-slim >/dev/null
fi

set -x
"$wharf" build --host-ca-certs -t flask-demo examples/flask
"$wharf" rm -f flask-demo >/dev/null 2>&1 || true
"$wharf" run -d --name flask-demo -p 5000:5000 flask-demo
set +x
for _ in $(seq 50); do
  if answer=$(curl -fsS --max-time 2 http://127.0.0.1:5000/ 2>/dev/null); then
    echo "flask-demo answers at http://127.0.0.1:5000/: $answer"
    echo "stop it and remove all it made (containers, images, bridge, firewall rules):"
    echo "  WHARF_ROOT=$WHARF_ROOT $wharf system reset --force && rm -rf $WHARF_ROOT"
    exit 0
  fi
  sleep 0.2
done
"$wharf" logs flask-demo >&2
echo "error: flask-demo did not answer on port 5000" >&2
"$wharf" system reset --force >/dev/null
exit 1
