#!/usr/bin/env bash
# Every test of wharf in one command, on a fresh Debian (bookworm) machine, as root:
#
#   scripts/test.sh [NEXTEST ARGS...]
#
# 1. installs what is missing: the Debian packages (scripts/install-deps.sh) and
#    cargo-nextest (from crates.io);
# 2. builds the fixture images from Debian packages (cached in /var/cache/wharf/fixtures);
# 3. runs the whole suite (`cargo nextest run --workspace`);
# 4. runs the network tests again with a real dockerd (Docker's default networking: its
#    FORWARD policy DROP, br_netfilter) in each test's network namespace, as on a host where
#    Docker is installed (WHARF_TEST_BESIDE_DOCKERD=1);
# 5. runs the runtime's tests in a VM on cgroup v2 (scripts/vm-test.sh).
# Extra arguments go to both nextest runs. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

[[ "$(id -u)" == 0 ]] || die "the tests run containers and make network namespaces: they need root" \
    "run: sudo scripts/test.sh"
command -v cargo >/dev/null 2>&1 || die "cargo is not installed" \
    "install a Rust toolchain (1.85 or newer) with rustup, then run scripts/test.sh again"

scripts/install-deps.sh
if ! cargo nextest --version >/dev/null 2>&1; then
    printf 'test: installing cargo-nextest from crates.io\n' >&2
    cargo install --locked cargo-nextest >&2 \
        || die "cargo install cargo-nextest failed" "see cargo's messages above"
fi
# The images the tests import (vm-* are the VM's root filesystems, for scripts/vm-test.sh).
while IFS= read -r fixture; do
    [[ "$fixture" == vm-* ]] && continue
    scripts/fixtures/build.sh "$fixture" >/dev/null
done < <(scripts/fixtures/build.sh --list)

cargo nextest run --workspace "$@"
printf 'test: the network tests again, beside a running dockerd\n' >&2
WHARF_TEST_BESIDE_DOCKERD=1 cargo nextest run -p wharf --test networks "$@"
printf 'test: the runtime tests in a VM on cgroup v2\n' >&2
# The runtime's tests, and the one of wharf's that once hung on cgroup v2 only (a killed probe
# left in the container's pid namespace; about a minute and a half under TCG).
scripts/vm-test.sh 'package(wharf-runtime) & (binary(containers) | test(cgroup::))
    | (package(wharf) & binary(containers) & test(removing_containers_in_the_middle))'
