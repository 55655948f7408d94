#!/usr/bin/env bash
# Run wharf's container tests in a virtual machine on the unified cgroup v2 hierarchy, for
# hosts whose own cgroups are v1 or hybrid (most users run v2: Debian 11+, Ubuntu 21.10+,
# Fedora, Arch, recent WSL2).
#
#   scripts/vm-test.sh                 build the tests, boot the VM, run them there
#   scripts/vm-test.sh FILTERSET       run these tests instead (a nextest filterset, -E)
#
# Needs root and qemu-system-x86 (installed by scripts/install-deps.sh). Steps:
#  1. On the host: build the test binaries with `cargo nextest list` (which writes the
#     metadata nextest reuses in the guest) and the fixture images the tests import.
#  2. The VM: Debian bookworm with Debian's own kernel and initramfs, made by the fixture
#     recipe vm-bookworm (mmdebstrap), turned into vmlinuz + initrd + an ext4 disk image in
#     ${WHARF_VM_CACHE:-/var/cache/wharf/vm}/vm-bookworm-<hash16>/. Built once; the disk is
#     booted with -snapshot, so runs never change it.
#  3. qemu (TCG, 2 vCPUs, 2 GiB) boots it with `systemd.unified_cgroup_hierarchy=1`. There is no
#     systemd: the guest's PID 1 (this script, --guest) mounts cgroup2 at /sys/fs/cgroup and
#     lays it out as systemd does (itself in init.scope, the cpu, io, memory and pids
#     controllers enabled at the root, the tests in a service cgroup of system.slice).
#  4. The project, the fixture cache and a run directory are shared into the guest over 9p at
#     the same paths as on the host, so the guest runs the binaries built on the host.
#     cargo-nextest runs the tests there and the script prints the guest's kernel, its cgroup
#     mode and "N passed, M failed".
#
# Exits non-zero when a test fails or the VM does not finish. Prints `SKIPPED: why` and exits 0
# only when qemu cannot run on this host at all.
#
# Environment: WHARF_VM_CACHE (above), WHARF_FIXTURE_CACHE (scripts/fixtures),
# WHARF_VM_TIMEOUT (minutes the VM may run, default 40).
set -euo pipefail

self="$(readlink -f "${BASH_SOURCE[0]}")"
repo="$(cd "$(dirname "$self")/.." && pwd -P)"

# The tests of what depends on the cgroup hierarchy (limits, OOM, stats, pause, health,
# restarts, cleanup), seccomp and namespaces of the kernel. Each wharf test takes about a
# minute under TCG, so not the whole of containers.rs and manage.rs. Left out as they assume
# a wharf command takes well under a second, which TCG does not give:
# healthchecks_turn_healthy_or_unhealthy and a_paused_container_is_not_healthchecked (a probe
# every second), a_container_stopped_or_killed_by_the_user_is_not_restarted (a 100 ms restart
# delay seen by `ps`).
default_filter='(package(wharf-runtime) & (binary(containers) | test(cgroup::)))
    | (package(wharf) & binary(containers) & (test(run_prints_output)
        | test(memory_limit) | test(pids_limit) | test(detached_lifecycle)
        | test(a_killed_monitor) | test(restart_on_failure) | test(the_image_healthcheck)
        | test(removing_containers_in_the_middle) | test(exec_runs_in_the_container)))
    | (package(wharf) & binary(manage) & (test(pause_freezes) | test(stats_show)
        | test(top_shows)))'

log() { printf 'vm-test: %s\n' "$*" >&2; }

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

skip() {
    printf 'SKIPPED: %s\n' "$1"
    exit 0
}

# ---------------------------------------------------------------------------------------------
# In the guest, as PID 1. Whatever happens, the machine powers off and the host reads the
# result from the run directory.

guest_power_off() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 60
}

# guest_arg NAME: the value of NAME=... on the kernel command line.
guest_arg() {
    local arg
    for arg in $(</proc/cmdline); do
        if [[ "$arg" == "$1="* ]]; then
            printf '%s\n' "${arg#"$1"=}"
            return 0
        fi
    done
    return 1
}

guest_mount() {
    local type="$1" source="$2" target="$3" options="$4"
    mountpoint -q "$target" && return 0
    mkdir -p "$target"
    mount -t "$type" -o "$options" "$source" "$target"
}

# What a host's init does before anything runs, with cgroup2 laid out like systemd's.
guest_setup() {
    local run="$1" fixtures="$2"
    guest_mount sysfs sysfs /sys nosuid,nodev,noexec
    guest_mount devtmpfs devtmpfs /dev mode=0755,nosuid
    guest_mount devpts devpts /dev/pts gid=5,mode=620,ptmxmode=666,nosuid,noexec
    guest_mount tmpfs tmpfs /dev/shm nosuid,nodev
    guest_mount tmpfs tmpfs /run mode=0755,nosuid,nodev
    guest_mount tmpfs tmpfs /tmp mode=1777,nosuid,nodev
    guest_mount cgroup2 cgroup2 /sys/fs/cgroup nosuid,nodev,noexec,nsdelegate,memory_recursiveprot
    mount -o remount,rw /
    guest_mount 9p run "$run" trans=virtio,version=9p2000.L,msize=512000
    guest_mount 9p fixtures "$fixtures" trans=virtio,version=9p2000.L,msize=512000
    mkdir -p /sys/fs/cgroup/init.scope /sys/fs/cgroup/system.slice/wharf-vm-test.service
    echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs
    echo '+cpu +io +memory +pids' >/sys/fs/cgroup/cgroup.subtree_control
    hostname wharf-vm
    ip link set lo up
    # The runtime's tests look for overlay in /proc/filesystems, where only a loaded module is.
    modprobe overlay
}

guest_main() {
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    export HOME=/root LANG=C.UTF-8
    local run fixtures rc=0
    run="$(guest_arg wharf.run)" || { echo "vm-test: no wharf.run= on the kernel command line"; guest_power_off; }
    fixtures="$(guest_arg wharf.fixtures)" || fixtures=/var/cache/wharf/fixtures
    guest_setup "$run" "$fixtures" || { echo "vm-test: guest setup failed"; guest_power_off; }
    {
        echo "kernel: $(uname -r)"
        echo "cgroup: $(stat -fc %T /sys/fs/cgroup) (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"
    } | tee "$run/guest-info"
    (
        echo "$BASHPID" >/sys/fs/cgroup/system.slice/wharf-vm-test.service/cgroup.procs
        cd "$repo"
        WHARF_FIXTURE_CACHE="$fixtures" exec "$run/cargo-nextest" nextest run \
            --binaries-metadata "$run/binaries.json" --cargo-metadata "$run/metadata.json" \
            --config-file "$run/nextest.toml" \
            --no-fail-fast --success-output final --test-threads 2 \
            -E "$(<"$run/filter")"
    ) 2>&1 | tee "$run/nextest.log" || rc=$?
    echo "$rc" >"$run/rc"
    guest_power_off
}

if [[ "${1:-}" == --guest ]]; then
    guest_main
fi

# ---------------------------------------------------------------------------------------------
# On the host.

filter="${1:-$default_filter}"
[[ "$(uname -m)" == x86_64 ]] || skip "the VM is an x86_64 one and this host is $(uname -m)"
[[ "$(id -u)" == 0 ]] || die "vm-test.sh needs root (the VM's image is made with mmdebstrap)" \
    "run it as root, e.g. sudo scripts/vm-test.sh"

"$repo/scripts/install-deps.sh"
if ! command -v qemu-system-x86_64 >/dev/null; then
    log "installing qemu-system-x86"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        qemu-system-x86 >&2 || true
    command -v qemu-system-x86_64 >/dev/null \
        || skip "qemu-system-x86_64 is not installed and apt-get could not install qemu-system-x86"
fi
qemu-system-x86_64 -accel help 2>/dev/null | grep -qx tcg \
    || skip "this qemu-system-x86_64 has no TCG accelerator"

cache="${WHARF_VM_CACHE:-/var/cache/wharf/vm}"
fixtures="${WHARF_FIXTURE_CACHE:-/var/cache/wharf/fixtures}"
timeout_min="${WHARF_VM_TIMEOUT:-40}"
start=$SECONDS

# 1. Test binaries and fixtures. The guest sees the project folder only: the test binaries
# must be built inside it.
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
    target_dir="$(mkdir -p -- "$CARGO_TARGET_DIR" && cd -- "$CARGO_TARGET_DIR" && pwd -P)"
    [[ "$target_dir/" == "$repo/"* ]] || die "CARGO_TARGET_DIR=$CARGO_TARGET_DIR is outside $repo, which is all the VM sees" \
        "unset CARGO_TARGET_DIR (the default target/ is inside the project)"
fi
log "building the tests"
run="$(mktemp -d /tmp/wharf-vm-run.XXXXXX)"
trap 'rm -rf -- "$run"' EXIT
(
    cd "$repo"
    cargo metadata --format-version 1 >"$run/metadata.json"
    cargo nextest list --workspace --list-type binaries-only --message-format json >"$run/binaries.json"
)
cp "$(command -v cargo-nextest)" "$run/cargo-nextest"
printf '%s\n' "$filter" >"$run/filter"
# The project's timeouts (.config/nextest.toml) are for real CPUs; TCG is ten times slower.
cat >"$run/nextest.toml" <<'EOF'
[profile.default]
slow-timeout = { period = "120s", terminate-after = 5 }
EOF
for fixture in busybox python-3.11-slim; do
    "$repo/scripts/fixtures/build.sh" "$fixture" >/dev/null
done
fixtures="$(cd "$fixtures" && pwd -P)"

# 2. The VM's kernel, initramfs and disk.
rootfs_tar="$("$repo/scripts/fixtures/build.sh" vm-bookworm)"
vm="$cache/$(basename "$rootfs_tar" .tar)"
if [[ ! -f "$vm/rootfs.img" ]]; then
    mkdir -p "$cache"
    exec 9>"$vm.lock"
    flock 9
    if [[ ! -f "$vm/rootfs.img" ]]; then
        log "making the VM's disk image in $vm"
        rm -rf -- "$vm.tmp"
        mkdir -p "$vm.tmp/root"
        tar -xf "$rootfs_tar" -C "$vm.tmp/root" --numeric-owner
        cp "$vm.tmp/root"/boot/vmlinuz-* "$vm.tmp/vmlinuz"
        cp "$vm.tmp/root"/boot/initrd.img-* "$vm.tmp/initrd.img"
        # Room for what the tests write outside /tmp (a tmpfs).
        mkfs.ext4 -q -L wharf-vm -d "$vm.tmp/root" "$vm.tmp/rootfs.img" 4G
        rm -rf -- "$vm.tmp/root"
        mv "$vm.tmp" "$vm"
    fi
    exec 9>&-
fi

# 3. Boot it, run the tests, read what the guest wrote.
log "booting the VM ($(basename "$vm"), TCG, 2 vCPUs)"
boot_start=$SECONDS
qemu_rc=0
timeout "${timeout_min}m" qemu-system-x86_64 \
    -accel tcg,thread=multi -smp 2 -m 2G -machine q35 \
    -display none -vga none -monitor none -serial stdio -no-reboot \
    -kernel "$vm/vmlinuz" -initrd "$vm/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw quiet panic=-1 init=/sbin/wharf-vm-boot systemd.unified_cgroup_hierarchy=1 wharf.share=$repo wharf.run=$run wharf.fixtures=$fixtures" \
    -drive "file=$vm/rootfs.img,format=raw,if=virtio,snapshot=on" \
    -virtfs "local,path=$repo,mount_tag=share,security_model=none,readonly=on" \
    -virtfs "local,path=$run,mount_tag=run,security_model=none" \
    -virtfs "local,path=$fixtures,mount_tag=fixtures,security_model=none" \
    -nic none </dev/null | tee "$run/console.log" || qemu_rc=$?

printf '\n'
log "VM run: $((SECONDS - boot_start))s, all: $((SECONDS - start))s"
[[ -f "$run/guest-info" ]] && sed 's/^/vm-test: /' "$run/guest-info" >&2
if [[ ! -f "$run/rc" ]]; then
    die "the VM stopped before the tests finished (qemu exit $qemu_rc)" \
        "see the console output above; WHARF_VM_TIMEOUT=$timeout_min minutes"
fi
# nextest's last line: "Summary [...] N tests run: P passed, F failed, T timed out, S skipped".
summary="$(grep -E '^ *Summary \[' "$run/nextest.log" | tail -n1)"
ran="$(sed -nE 's/.* ([0-9]+) tests? run.*/\1/p' <<<"$summary")"
passed="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")"
# The tests print their own "SKIPPED: why" and pass; --success-output shows it.
skipped="$(grep -cE '^ *SKIPPED:' "$run/nextest.log" || true)"
printf '%s passed, %s failed (%s of the passed said SKIPPED), on cgroup v2 in the VM\n' \
    "${passed:-0}" "$((${ran:-0} - ${passed:-0}))" "$skipped"
rc="$(<"$run/rc")"
[[ "$rc" == 0 && -n "$passed" ]] || exit 1
