#!/usr/bin/env bash
# Install the Python clients of the Docker Engine API that wharf's API tests drive: docker-py
# (`docker` 7.1.0) and testcontainers-python 4.14.2 (the first 4.14 whose sdist ships its tests) with pytest, each into a folder of its own
# under the cache (not into the system's Python), and testcontainers' own tests from its PyPI
# sdist. Idempotent: a folder whose marker names the version is kept.
#
#   scripts/install-api-clients.sh     prints the cache folder
#
# Then: PYTHONPATH=$CACHE/docker-py python3 ...   and   $CACHE/testcontainers/tests
set -euo pipefail

DOCKER_PY=7.1.0
TESTCONTAINERS=4.14.2
CACHE="${WHARF_API_CLIENTS:-/var/cache/wharf/api-clients}"

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

command -v pip >/dev/null || command -v pip3 >/dev/null || die "pip is not installed" "apt-get install python3-pip"
PIP=$(command -v pip || command -v pip3)
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# install NAME MARKER PACKAGES...: into $CACHE/NAME unless its marker says MARKER.
install() {
    local name=$1 marker=$2
    shift 2
    if [[ "$(cat "$CACHE/$name/.installed" 2>/dev/null)" == "$marker" ]]; then
        return
    fi
    rm -rf "$CACHE/$name.tmp"
    "$PIP" install --quiet --disable-pip-version-check --no-warn-script-location \
        --target "$CACHE/$name.tmp" "$@" || die "could not install $* from PyPI"
    echo "$marker" >"$CACHE/$name.tmp/.installed"
    rm -rf "$CACHE/$name"
    mv "$CACHE/$name.tmp" "$CACHE/$name"
}

install docker-py "docker==$DOCKER_PY" "docker==$DOCKER_PY"
# anyio brings the pytest plugin that the redis module's async tests use.
install testcontainers "testcontainers==$TESTCONTAINERS anyio" \
    "testcontainers[redis,postgres]==$TESTCONTAINERS" pytest anyio "psycopg2-binary" "sqlalchemy"

if [[ "$(cat "$CACHE/testcontainers-tests/.installed" 2>/dev/null)" != "$TESTCONTAINERS" ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$PIP" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        "testcontainers==$TESTCONTAINERS" -d "$work" \
        || die "could not download the testcontainers $TESTCONTAINERS sdist"
    tar -xzf "$work"/testcontainers-"$TESTCONTAINERS".tar.gz -C "$work"
    rm -rf "$CACHE/testcontainers-tests"
    mkdir -p "$CACHE/testcontainers-tests"
    cp -a "$work/testcontainers-$TESTCONTAINERS/." "$CACHE/testcontainers-tests/"
    echo "$TESTCONTAINERS" >"$CACHE/testcontainers-tests/.installed"
fi
echo "$CACHE"
