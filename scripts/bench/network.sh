#!/usr/bin/env bash
# Networks: requests/s through a published port (wrk against python's http.server with
# HTTP/1.1 keep-alive; SERVER=asyncio, a keep-alive server on asyncio, fast enough for the path
# to matter; or busybox httpd with SERVER=busybox, which closes every connection, so that its
# numbers fall as TIME_WAIT and conntrack entries pile up: keep DURATION short)
# under `wharf run -p` and `docker run -p`, and what a bridge adds to `run --rm true`
# compared with `--network none` (hyperfine medians).
#
# wharf runs in a network namespace of this script's own (loopback only), so its bridge and
# firewall table never touch the host's; wrk and hyperfine run in it too. Docker runs in the
# host's namespace: our dockerd has --bridge=none --iptables=false, so its container goes on
# a user network and its -p is served by docker-proxy; if that fails, Docker is SKIPPED.
# The targets take turns for ROUNDS rounds and the median of each is printed. All traffic
# goes to loopback or to the containers' bridges.
# Needs root, wrk, hyperfine; Docker optionally. DURATION (s per round), CONNECTIONS, ROUNDS,
# RUNS (hyperfine runs per block), STARTUP_BLOCKS and PAUSE (s before each paused run) tune it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
rounds=${ROUNDS:-3}
runs=${RUNS:-10}
startup_blocks=${STARTUP_BLOCKS:-5}
pause=${PAUSE:-0.2}
server=${SERVER:-python}

for tool in wrk hyperfine nft nsenter; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing" >&2; echo "hint: run scripts/install-deps.sh" >&2; exit 1; }
done
[[ "$(id -u)" == 0 ]] || { echo "error: the benchmark needs root (network namespaces, nftables)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/wharf-bench-net.XXXXXX)
# Runtime state on a tmpfs, as the default /run/wharf usually is (not on every machine: this
# one's /run is on its disk): network leases are rewritten there at every start and exit.
run_dir=$(mktemp -d /run/wharf-bench-net.XXXXXX)
ns=wharf-bench-$$
docker_net=wharf-bench-$$
docker_started=0
cleanup() {
  set +e
  if [[ -d "$work/root" ]]; then
    in_ns "$wharf" rm -f wb-web >/dev/null 2>&1
    in_ns "$wharf" network rm wb-user >/dev/null 2>&1
  fi
  ip netns del "$ns" 2>/dev/null
  if ((docker_started)); then
    "$docker" rm -f wb-web >/dev/null 2>&1
    "$docker" network rm "$docker_net" >/dev/null 2>&1
    "$docker" rmi -f wharf-bench/busybox wharf-bench/python >/dev/null 2>&1
  fi
  umount "$run_dir" 2>/dev/null
  rm -rf "$work" "$run_dir"
}
trap cleanup EXIT
mount -t tmpfs -o mode=0711 wharf-bench-run "$run_dir"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
export WHARF_ROOT=$work/root WHARF_RUN=$run_dir

import() { # import FIXTURE TAG [EXTRA_CHANGE...]
  local fixture=$1 tag=$2; shift 2
  local -a change_args=()
  mapfile -t changes < "$(scripts/fixtures/build.sh --changes "$fixture")"
  for change in "${changes[@]}" "$@"; do change_args+=(--change "$change"); done
  "$wharf" import "${change_args[@]}" "$(scripts/fixtures/build.sh "$fixture")" "$tag" >/dev/null
}
import busybox wharf-bench/busybox:latest
case "$server" in
  busybox)
    image='wharf-bench/busybox'
    serve=(sh -c 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8000 -h /www')
    ;;
  python)
    import python-3.11-slim wharf-bench/python:latest
    image='wharf-bench/python'
    # http.server's handler, with keep-alive and without Nagle's delay (which would cap
    # every connection at one request per delayed ACK) or per-request logging.
    serve=(python3 -c '
import functools, http.server, os
os.makedirs("/www", exist_ok=True)
open("/www/index.html", "w").write("hello\n")
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8000), functools.partial(Handler, directory="/www")).serve_forever()
')
    ;;
  asyncio)
    # A keep-alive server on asyncio's protocol API: some ten times http.server's rate, so that
    # what the path to it costs (DNAT, or docker-proxy's copies) shows in the numbers.
    import python-3.11-slim wharf-bench/python:latest
    image='wharf-bench/python'
    serve=(python3 -c '
import asyncio
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/html\r\n\r\nhello\n"
class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.pending = transport, b""
    def data_received(self, data):
        self.pending += data
        requests = self.pending.count(b"\r\n\r\n")
        if requests:
            self.pending = self.pending[self.pending.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(RESPONSE * requests)
async def main():
    server = await asyncio.get_running_loop().create_server(Http, "0.0.0.0", 8000)
    await server.serve_forever()
asyncio.run(main())
')
    ;;
  *) echo "error: SERVER=$server: use python, asyncio or busybox" >&2; exit 1 ;;
esac

free_port() { "$@" python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http RUNNER... URL
  local url=${*: -1} _
  for _ in $(seq 200); do
    "${@:1:$#-1}" curl -fsS --max-time 1 "$url" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "error: $url never answered" >&2
  return 1
}
bench() { # bench RUNNER... URL -> requests/s; wrk's errors, if any, go to stderr
  local url=${*: -1} out
  out=$("${@:1:$#-1}" wrk -t2 -c"$connections" -d"${duration}s" "$url")
  grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s|^|warning: $url: |" >&2 || true
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

echo "server: $server, wrk -t2 -c$connections -d${duration}s x $rounds rounds, $(nproc) CPUs"

# --- wharf: the published port on the (namespace's) loopback, and the container's address.
port=$(free_port in_ns)
in_ns "$wharf" run -d --name wb-web -p "$port:8000" "$image" "${serve[@]}" >/dev/null
wait_http in_ns "http://127.0.0.1:$port/"
ip_addr=$(in_ns "$wharf" inspect -f '{{.NetworkSettings.IPAddress}}' wb-web)
targets=("wharf -p (127.0.0.1 -> DNAT -> bridge)|in_ns|http://127.0.0.1:$port/"
         "wharf container address (no NAT)|in_ns|http://$ip_addr:8000/")

# --- docker: the same server behind its -p.
if scripts/dockerd.sh start >/dev/null 2>&1; then
  docker_started=1
  "$wharf" save "$image" | "$docker" load -q >/dev/null
  dport=$(free_port)
  if "$docker" network create "$docker_net" >/dev/null 2>"$work/docker.err" \
    && "$docker" run -d --name wb-web --network "$docker_net" -p "127.0.0.1:$dport:8000" "$image" "${serve[@]}" >/dev/null 2>>"$work/docker.err" \
    && wait_http env "http://127.0.0.1:$dport/" 2>>"$work/docker.err"; then
    targets+=("docker -p (127.0.0.1 -> docker-proxy)|env|http://127.0.0.1:$dport/")
  else
    echo "SKIPPED: docker -p: $(tr '\n' ' ' < "$work/docker.err")" >&2
  fi
else
  echo "SKIPPED: docker -p: no Docker daemon could start" >&2
fi

for round in $(seq "$rounds"); do
  for i in "${!targets[@]}"; do
    IFS='|' read -r _ runner url <<<"${targets[$i]}"
    bench "$runner" "$url" >>"$work/rps.$i"
  done
  echo "round $round done" >&2
done
med() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for i in "${!targets[@]}"; do
  IFS='|' read -r label _ _ <<<"${targets[$i]}"
  printf '%-44s %12s req/s\n' "$label" "$(med "$work/rps.$i")"
done
if ((${#targets[@]} == 3)); then
  python3 -c "import sys; print('ratio: wharf -p serves %.2fx the requests/s of docker -p' % (float(sys.argv[1]) / float(sys.argv[2])))" "$(med "$work/rps.0")" "$(med "$work/rps.2")"
fi
in_ns "$wharf" rm -f wb-web >/dev/null

# --- start-up: what joining a bridge adds to `run --rm true` (STARTUP_BLOCKS=0 skips it).
if ((startup_blocks > 0)); then
  # The modes take turns in short blocks, so that a change in the machine's load falls on all
  # of them alike; what a bridge adds is the median over the blocks of its difference with
  # --network none in the same block.
  in_ns "$wharf" network create wb-user >/dev/null
  in_ns "$wharf" run --rm wharf-bench/busybox true # makes the default bridge
  # Timed back to back, and again with a pause before each run (as when a user types the next
  # command): the kernel's RCU grace periods, which a netns teardown and a cgroup (v1) move wait
  # for, are paid differently when runs follow each other.
  for pause in 0 "$pause"; do
    for block in $(seq "$startup_blocks"); do
      for mode in none bridge wb-user; do
        in_ns hyperfine -N --warmup 2 --runs "$runs" --prepare "sleep $pause" --export-json "$work/$mode.$pause.$block.json" \
          "$wharf run --rm --network $mode wharf-bench/busybox true" >/dev/null 2>&1
      done
    done
  done
  python3 - "$work" "$startup_blocks" "$pause" <<'PY'
import json, statistics, sys
work, blocks, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for p, when in (("0", "back to back"), (pause, f"after a {pause} s pause")):
    times = {m: [json.load(open(f"{work}/{m}.{p}.{b}.json"))["results"][0]["times"] for b in range(1, blocks + 1)]
             for m in ("none", "bridge", "wb-user")}
    for mode, label in (("none", "none"), ("bridge", "bridge"), ("wb-user", "<user>")):
        print("%-44s %9.1f ms (median of %d runs, %s)" % (f"wharf run --rm --network {label} true",
              statistics.median(t for block in times[mode] for t in block) * 1000, blocks * len(times[mode][0]), when))
    adds = lambda mode: statistics.median(statistics.median(m) - statistics.median(n)
                                          for m, n in zip(times[mode], times["none"])) * 1000
    print("%s: bridge adds %.1f ms, a user network %.1f ms (medians over %d blocks)" % (when, adds("bridge"), adds("wb-user"), blocks))
PY
fi
