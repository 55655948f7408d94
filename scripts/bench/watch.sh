#!/usr/bin/env bash
# Watch: `wharf compose watch` side by side with `docker compose watch` (2.40.3, from
# scripts/install-compose.sh) and dockerd, on the same project: a Python server (stdlib) that
# serves /app's files as they are now, /conf as it was when the server started, and a file
# baked into its image. Timed from the moment a file is written on the host to the moment
# the server answers with the new content (polled every 2 ms over HTTP):
#   sync          ./site/page.txt, rule `sync` to /app
#   sync+restart  ./conf/msg.txt, rule `sync+restart` to /conf
#   rebuild       ./app/dep.txt, rule `rebuild` (a COPY step: the image is built again
#                 through the cache and the service recreated)
# ROUNDS times each (default 5; rebuild REBUILD_ROUNDS, default 3); medians and the ratio
# docker/wharf are printed. Then what watching a project of 10,000 files (500 folders) costs
# when nothing changes: resident memory and CPU time over 5 idle seconds.
#
# wharf runs in a network namespace of this script's own (as scripts/bench/compose.sh), Docker
# in the host's, each on its own copy of the project (a watcher never sees the other's
# writes). Needs root; Docker is SKIPPED (loudly) when no daemon can start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

rounds=${ROUNDS:-5}
rebuild_rounds=${REBUILD_ROUNDS:-3}
[[ "$(id -u)" == 0 ]] || { echo "error: the benchmark needs root (network namespaces)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/wharf-bench-watch.XXXXXX)
run_dir=$(mktemp -d /run/wharf-bench-watch.XXXXXX)
ns=wharf-bench-watch-$$
project=wwatch$$
docker_started=0
watcher=
cleanup() {
  set +e
  [[ -n "$watcher" ]] && stop_watcher
  in_ns "$wharf" compose -p "$project" -f "$work/wharf/compose.yaml" down -t 0 >/dev/null 2>&1
  ip netns del "$ns" 2>/dev/null
  if ((docker_started)); then
    "$docker" compose -p "$project" -f "$work/docker/compose.yaml" down -t 0 --rmi local >/dev/null 2>&1
    "$docker" rmi -f wharf-bench-watch/python >/dev/null 2>&1
  fi
  umount "$run_dir" 2>/dev/null
  rm -rf "$work" "$run_dir"
}
trap cleanup EXIT
mount -t tmpfs -o mode=0711 wharf-bench-watch-run "$run_dir"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
export WHARF_ROOT=$work/root WHARF_RUN=$run_dir

import_fixture python-3.11-slim wharf-bench-watch/python:latest

# The project, written twice (wharf's and docker's copies differ only in the port).
make_project() {
  local dir=$1 port=$2
  mkdir -p "$dir/app" "$dir/site" "$dir/conf"
  cat > "$dir/app/Dockerfile" <<'DOCKERFILE'
FROM wharf-bench-watch/python:latest
COPY server.py dep.txt /srv/
CMD ["python3", "-u", "/srv/server.py"]
DOCKERFILE
  cat > "$dir/app/server.py" <<'PY'
import http.server, os
def read(path):
    try:
        return open(path).read()
    except OSError:
        return ""
conf, dep = read("/conf/msg.txt"), read("/srv/dep.txt")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"/conf": conf, "/dep": dep}.get(self.path) or read("/app" + self.path)
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
PY
  echo start > "$dir/app/dep.txt"
  echo start > "$dir/site/page.txt"
  echo start > "$dir/conf/msg.txt"
  cat > "$dir/compose.yaml" <<YAML
services:
  web:
    build: ./app
    image: wharf-bench-watch/web:$project
    stop_signal: SIGKILL
    ports: ["127.0.0.1:$port:8000"]
    develop:
      watch:
        - path: ./site
          action: sync
          target: /app
        - path: ./conf
          action: sync+restart
          target: /conf
        - path: ./app/dep.txt
          action: rebuild
YAML
}

# save_to_visible URL FILE VALUE: writes VALUE to FILE, prints the ms until URL serves it.
cat > "$work/measure.py" <<'PY'
import sys, time, urllib.request
url, path, value = sys.argv[1:4]
start = time.monotonic()
with open(path, "w") as f:
    f.write(value)
while True:
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    except Exception:
        body = None
    if body == value:
        break
    if time.monotonic() - start > 120:
        sys.exit(f"error: {url} never served {value!r} (last: {body!r})")
    time.sleep(0.002)
print(round((time.monotonic() - start) * 1000))
PY

# await_line LOG TEXT: waits (2 minutes at most) until LOG has a line containing TEXT.
await_line() {
  for _ in $(seq 1200); do grep -qF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "error: $1 never said '$2':" >&2; cat "$1" >&2; exit 1
}

# stop_watcher: ends the watcher (and docker's plugin under its CLI).
stop_watcher() {
  pkill -TERM -P "$watcher" 2>/dev/null || true
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  watcher=
}

# bench NAME DIR PORT RUN...: starts `RUN compose watch` on DIR's project, times each action.
bench() {
  local name=$1 dir=$2 port=$3; shift 3
  "$@" compose -p "$project" -f "$dir/compose.yaml" watch >"$work/$name.log" 2>&1 &
  watcher=$!
  await_line "$work/$name.log" "Watch enabled"
  local run=("$@")
  local probe=("${run[@]:0:${#run[@]}-1}")  # the namespace prefix, without the binary
  for ((round = 0; round < rounds; round++)); do
    "${probe[@]}" python3 "$work/measure.py" "http://127.0.0.1:$port/page.txt" "$dir/site/page.txt" "$name-sync-$round" >>"$work/$name.sync"
  done
  for ((round = 0; round < rounds; round++)); do
    "${probe[@]}" python3 "$work/measure.py" "http://127.0.0.1:$port/conf" "$dir/conf/msg.txt" "$name-restart-$round" >>"$work/$name.restart"
  done
  for ((round = 0; round < rebuild_rounds; round++)); do
    "${probe[@]}" python3 "$work/measure.py" "http://127.0.0.1:$port/dep" "$dir/app/dep.txt" "$name-rebuild-$round" >>"$work/$name.rebuild"
  done
  stop_watcher
}

# idle NAME RUN...: watching 10,000 files with nothing changing: RSS (MiB) and CPU ms in 5 s.
idle() {
  local name=$1; shift
  local dir=$work/big-$name
  mkdir -p "$dir"
  python3 - "$dir/src" <<'PY'
import os, sys
for d in range(500):
    os.makedirs(f"{sys.argv[1]}/pkg{d}", exist_ok=True)
    for f in range(20):
        open(f"{sys.argv[1]}/pkg{d}/m{f}.py", "w").write("x = 1\n")
PY
  printf 'services:\n  big:\n    image: wharf-bench-watch/python:latest\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n          target: /src\n' > "$dir/compose.yaml"
  "$@" compose -p "$project-big" -f "$dir/compose.yaml" watch --no-up >"$work/$name.idle.log" 2>&1 &
  watcher=$!
  await_line "$work/$name.idle.log" "Watch enabled"
  sleep 1
  # the watcher itself: the wharf binary, or docker's compose plugin under the docker CLI
  local pid=$watcher plugin
  plugin=$(pgrep -P "$watcher" -f docker-compose | head -1 || true)
  [[ -n "$plugin" ]] && pid=$plugin
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  local before after
  before=$(cpu); sleep 5; after=$(cpu)
  local rss
  rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  echo "$rss $(( (after - before) * 1000 / $(getconf CLK_TCK) ))" > "$work/$name.idle"
  stop_watcher
}

make_project "$work/wharf" 18951
bench wharf "$work/wharf" 18951 nsenter --net="/run/netns/$ns" "$wharf"
idle wharf "$wharf"
if scripts/dockerd.sh start >/dev/null 2>&1 && "$docker" compose version >/dev/null 2>&1; then
  docker_started=1
  "$wharf" save wharf-bench-watch/python:latest | "$docker" load -q >/dev/null
  make_project "$work/docker" 18952
  bench docker "$work/docker" 18952 env "$docker"
  idle docker "$docker"
else
  echo "SKIPPED: docker compose: no Docker daemon or no compose plugin (scripts/dockerd.sh start, scripts/install-compose.sh)" >&2
fi

ratio_table 34 "save to visible (median)" "$work" sync:"sync ($rounds rounds)" \
  restart:"sync+restart ($rounds rounds)" rebuild:"rebuild ($rebuild_rounds rounds)"
read -r our_rss our_cpu < "$work/wharf.idle"
if [[ -s "$work/docker.idle" ]]; then read -r their_rss their_cpu < "$work/docker.idle"; else their_rss=-; their_cpu=-; fi
printf '%-34s %12s %12s\n' "10,000 files idle: RSS MiB" "$our_rss" "$their_rss"
printf '%-34s %12s %12s\n' "10,000 files idle: CPU ms in 5 s" "$our_cpu" "$their_cpu"
