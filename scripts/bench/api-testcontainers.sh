#!/usr/bin/env bash
# Times testcontainers-python's RedisContainer from `with` to ready (its wait strategy passed
# and a PING answered) through wharf's API socket and through dockerd, the same client and
# script for both (median of ROUNDS), and prints the ratio; then the service's peak RSS
# while it served them. Both run the container on a network testcontainers creates (Debian's
# dockerd here has no default bridge). wharf runs in a network namespace of its own, so the
# host's firewall is not touched. Needs root, PyPI (scripts/install-api-clients.sh) and, for
# the comparison, a Docker daemon (scripts/dockerd.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

rounds=${ROUNDS:-10}
[[ "$(id -u)" == 0 ]] || { echo "error: the benchmark needs root (network namespaces)" >&2; exit 1; }
clients=$(scripts/install-api-clients.sh)
work=$(mktemp -d /var/tmp/wharf-bench-tc.XXXXXX)
ns=wharf-bench-tc-$$
service=
docker_loaded=0
cleanup() {
  set +e
  if [[ -n "$service" ]]; then kill "$service" 2>/dev/null; wait "$service" 2>/dev/null; fi
  ip netns del "$ns" 2>/dev/null
  if ((docker_loaded)); then "$docker" rmi -f wharf-bench/redis:latest >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
export WHARF_ROOT=$work/root WHARF_RUN=$work/run

import_fixture redis-7 wharf-bench/redis:latest
cat > "$work/time_redis_container.py" <<'PY'
import statistics, sys, time
from testcontainers.core.network import Network
from testcontainers.redis import RedisContainer

times = []
with Network() as network:
    for _ in range(int(sys.argv[1])):
        start = time.perf_counter()
        with RedisContainer("wharf-bench/redis:latest").with_network(network) as redis:
            assert redis.get_client().ping()
            times.append(time.perf_counter() - start)
print("%.4f" % statistics.median(times))
PY
# time_redis PREFIX...: the median, with DOCKER_HOST as the caller set it.
time_redis() {
  "$@" env PYTHONPATH="$clients/testcontainers" TESTCONTAINERS_RYUK_DISABLED=true \
    python3 "$work/time_redis_container.py" "$rounds"
}

socket=$work/api.sock
# nsenter execs the service: its pid is the service's, to stop at the end.
nsenter --net="/run/netns/$ns" "$wharf" system service --time 0 "unix://$socket" 2>/dev/null &
service=$!
for _ in $(seq 200); do [[ -S "$socket" ]] && break; sleep 0.05; done
[[ -S "$socket" ]] || { echo "error: the service did not listen on $socket" >&2; exit 1; }
wharf_s=$(DOCKER_HOST=unix://$socket time_redis in_ns)
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$service/status")

printf '%-52s %10s\n' "RedisContainer, with to ready, via wharf's socket" "${wharf_s}s"
printf '%-52s %10s\n' "wharf service peak RSS while serving" "${peak_kib} KiB"
if scripts/dockerd.sh start >/dev/null 2>&1; then
  "$wharf" save wharf-bench/redis:latest | "$docker" load -q >/dev/null
  docker_loaded=1
  docker_s=$(unset DOCKER_HOST; time_redis)
  printf '%-52s %10s\n' "RedisContainer, with to ready, via dockerd" "${docker_s}s"
  python3 -c "import sys; print('ratio: through wharf is %.1fx faster than through dockerd (target: 2x)' % (float(sys.argv[2]) / float(sys.argv[1])))" \
    "$wharf_s" "$docker_s"
else
  echo "SKIPPED: dockerd comparison: no Docker daemon could start" >&2
fi
