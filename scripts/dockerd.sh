#!/usr/bin/env bash
# Make a real Docker daemon available for the interop tests.
#
#   scripts/dockerd.sh start    use the running daemon, or start one (installing docker.io if
#                               needed); exit 3 with "SKIPPED: ..." on stderr if impossible
#   scripts/dockerd.sh stop     stop the daemon, but only if this script started it
#   scripts/dockerd.sh status   print whether a daemon answers and who started it;
#                               exit 0 if it answers, 3 if not
#
# The daemon is Debian's dockerd, run with --bridge=none --iptables=false --ip6tables=false,
# unless WHARF_DOCKERD_NETWORK=1: then with Docker's default networking, as users run it
# (docker0, iptables rules, FORWARD policy DROP, br_netfilter), to test wharf beside it;
# run the script inside a network namespace of the test's own (nsenter --net=...) with
# WHARF_DOCKERD_DIR, so that the host's firewall is not touched.
# Its log is /tmp/wharf-dockerd.log and the pid of a daemon started here is kept in
# /tmp/wharf-dockerd.pid (override with WHARF_DOCKERD_LOG and WHARF_DOCKERD_PIDFILE).
# WHARF_DOCKERD_DIR=DIR runs a private daemon instead (socket DIR/docker.sock, state under
# DIR; log and pid file there too); callers then set DOCKER_HOST=unix://DIR/docker.sock.
# The client used for the checks is /usr/bin/docker, the daemon's own client.
set -euo pipefail

die() {
    printf 'error: %s\n' "$1" >&2
    if [[ -n "${2:-}" ]]; then printf 'hint: %s\n' "$2" >&2; fi
    exit 1
}

skip() {
    printf 'SKIPPED: dockerd could not start: %s\n' "$1" >&2
    exit 3
}

say() { printf 'dockerd: %s\n' "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: scripts/dockerd.sh start|stop|status
EOF
}

private_dir="${WHARF_DOCKERD_DIR:-}"
if [[ -n "$private_dir" ]]; then
    mkdir -p -- "$private_dir"
    private_dir="$(cd -- "$private_dir" && pwd -P)"
    log_file="${WHARF_DOCKERD_LOG:-$private_dir/dockerd.log}"
    pid_file="${WHARF_DOCKERD_PIDFILE:-$private_dir/wharf-dockerd.pid}"
    docker_host="unix://$private_dir/docker.sock"
    export DOCKER_HOST="$docker_host"
else
    log_file="${WHARF_DOCKERD_LOG:-/tmp/wharf-dockerd.log}"
    pid_file="${WHARF_DOCKERD_PIDFILE:-/tmp/wharf-dockerd.pid}"
    docker_host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
fi

docker_client() {
    if [[ -x /usr/bin/docker ]]; then
        printf '%s\n' /usr/bin/docker
    else
        command -v docker 2>/dev/null || true
    fi
}

# daemon_answers: does `docker info` get an answer from the daemon?
daemon_answers() {
    local client
    client="$(docker_client)"
    [[ -n "$client" ]] || return 1
    timeout 10 "$client" info >/dev/null 2>&1
}

# our_pid: the pid of a live dockerd that this script started, or nothing.
our_pid() {
    local pid comm
    [[ -f "$pid_file" ]] || return 0
    pid="$(head -n1 -- "$pid_file" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    if [[ "$comm" == dockerd ]] && alive "$pid"; then printf '%s\n' "$pid"; fi
}

# alive PID: is PID a running (not zombie) process?
alive() {
    local state
    state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true)"
    [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

install_docker() {
    [[ "$(id -u)" == 0 ]] || skip "dockerd is not installed, and installing docker.io needs root"
    command -v apt-get >/dev/null 2>&1 || skip "dockerd is not installed, and there is no apt-get"
    say "installing docker.io with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends docker.io >&2; then
        apt-get update -q >&2 || true
        apt-get install -y -q --no-install-recommends docker.io >&2 \
            || skip "apt-get install docker.io failed"
    fi
}

cmd_start() {
    local pid dockerd i reason
    if daemon_answers; then
        pid="$(our_pid)"
        say "already running at $docker_host${pid:+ (pid $pid, started by this script)}"
        return 0
    fi

    pid="$(our_pid)"
    if [[ -n "$pid" ]]; then
        # Ours, but not answering (yet): give it the usual time before giving up.
        say "waiting for the dockerd this script started (pid $pid)"
    else
        [[ "$(id -u)" == 0 ]] || skip "starting dockerd needs root"
        dockerd="$(command -v dockerd 2>/dev/null || true)"
        if [[ -z "$dockerd" ]]; then
            install_docker
            dockerd="$(command -v dockerd 2>/dev/null || true)"
            [[ -n "$dockerd" ]] || skip "docker.io is installed but has no dockerd"
        fi
        [[ -x "$(docker_client)" ]] || skip "no docker client (expected /usr/bin/docker from docker.io)"

        local -a args=(--bridge=none --iptables=false --ip6tables=false)
        if [[ "${WHARF_DOCKERD_NETWORK:-0}" == 1 ]]; then
            args=()
        fi
        if [[ -n "$private_dir" ]]; then
            args+=(
                --host="$docker_host"
                --data-root="$private_dir/data"
                --exec-root="$private_dir/exec"
                --pidfile="$private_dir/docker.pid"
            )
        fi
        mkdir -p -- "$(dirname -- "$log_file")" "$(dirname -- "$pid_file")"
        say "starting $dockerd ${args[*]} (log: $log_file)"
        # Own session, so that the daemon outlives this script and the caller's process group.
        setsid "$dockerd" "${args[@]}" </dev/null >>"$log_file" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$pid_file"
    fi

    for ((i = 0; i < 60; i++)); do
        if daemon_answers; then
            say "ready at $docker_host (pid $pid)"
            return 0
        fi
        if ! alive "$pid"; then
            rm -f -- "$pid_file"
            reason="$(grep -v '^\s*$' "$log_file" 2>/dev/null | tail -n1 || true)"
            skip "dockerd exited at once: ${reason:-no log} (see $log_file)"
        fi
        sleep 1
    done
    reason="$(grep -v '^\s*$' "$log_file" 2>/dev/null | tail -n1 || true)"
    # Leave no half-started daemon of ours behind.
    kill -TERM "$pid" 2>/dev/null || true
    rm -f -- "$pid_file"
    skip "no answer on $docker_host within 60s; last log line: ${reason:-none} (see $log_file)"
}

cmd_stop() {
    local pid i
    pid="$(our_pid)"
    if [[ -z "$pid" ]]; then
        rm -f -- "$pid_file"
        if daemon_answers; then
            say "not stopping the daemon at $docker_host: this script did not start it"
        else
            say "not running"
        fi
        return 0
    fi
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        if ! alive "$pid"; then
            rm -f -- "$pid_file"
            say "stopped"
            return 0
        fi
        sleep 1
    done
    say "dockerd (pid $pid) ignored SIGTERM for 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f -- "$pid_file"
}

cmd_status() {
    local pid
    pid="$(our_pid)"
    if daemon_answers; then
        if [[ -n "$pid" ]]; then
            printf 'running at %s (pid %s, started by scripts/dockerd.sh)\n' "$docker_host" "$pid"
        else
            printf 'running at %s (not started by scripts/dockerd.sh)\n' "$docker_host"
        fi
        return 0
    fi
    if [[ -n "$pid" ]]; then
        printf 'not answering at %s (pid %s started by scripts/dockerd.sh; log: %s)\n' \
            "$docker_host" "$pid" "$log_file"
    else
        printf 'not running at %s\n' "$docker_host"
    fi
    return 3
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help) usage ;;
    "") usage; die "missing command" "use one of: start, stop, status" ;;
    *) usage; die "unknown command '$1'" "use one of: start, stop, status" ;;
esac
