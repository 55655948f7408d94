#!/usr/bin/env bash
# Install PyPI's kubernetes-validate (it bundles the Kubernetes JSON schemas and works
# offline) into a venv, for the checks of `wharf compose bridge convert`'s manifests.
# Idempotent: does nothing when that version is installed.
#
#   scripts/install-kube-validate.sh    installs /opt/wharf-kube-validate/bin/kubernetes-validate
set -euo pipefail

VERSION=1.37.0
VENV="${WHARF_KUBE_VALIDATE_VENV:-/opt/wharf-kube-validate}"
BIN="$VENV/bin/kubernetes-validate"

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

if [[ -x "$BIN" ]] && "$VENV/bin/pip" show kubernetes-validate 2>/dev/null | grep -qx "Version: $VERSION"; then
    exit 0
fi
command -v python3 >/dev/null || die "python3 is not installed" "apt-get install python3 python3-venv"
python3 -m venv "$VENV" || die "cannot create a venv at $VENV" "apt-get install python3-venv"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VERSION" \
    || die "could not install kubernetes-validate==$VERSION from PyPI" "check the network or PIP_INDEX_URL"
"$BIN" --version >/dev/null || die "$BIN does not run"
