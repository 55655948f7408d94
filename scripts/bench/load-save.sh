#!/usr/bin/env bash
# Times `wharf load` and `wharf save` of the python:3.11-slim fixture against `docker load`
# and `docker save` of the same archive on this machine, cold store each run, and prints
# the medians and ratios. Needs root, hyperfine and (for the comparison) a Docker daemon.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-7}

work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export WHARF_ROOT=$work/source

import_fixture python-3.11-slim wharf-bench/python:3.11-slim
"$wharf" save -o "$work/python.tar" wharf-bench/python:3.11-slim
echo "archive: $(du -h "$work/python.tar" | cut -f1), $(tar tf "$work/python.tar" | wc -l) entries" >&2

bench() { # name, prepare, command
  hyperfine -N --runs "$runs" --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1 || {
    hyperfine --runs "$runs" --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null
  }
  median "$work/$1.json"
}

wharf_load=$(bench wharf-load "rm -rf $work/target" "env WHARF_ROOT=$work/target $wharf load -q -i $work/python.tar")
env WHARF_ROOT="$work/target" "$wharf" load -q -i "$work/python.tar"
wharf_save=$(bench wharf-save "rm -f $work/out.tar" "env WHARF_ROOT=$work/target $wharf save -o $work/out.tar wharf-bench/python:3.11-slim")
printf '%-12s %10s %10s %8s\n' operation wharf docker ratio
if scripts/dockerd.sh start >/dev/null 2>&1; then
  docker_load=$(bench docker-load "$docker rmi -f wharf-bench/python:3.11-slim" "$docker load -q -i $work/python.tar")
  docker_save=$(bench docker-save "rm -f $work/docker-out.tar" "$docker save -o $work/docker-out.tar wharf-bench/python:3.11-slim")
  "$docker" rmi -f wharf-bench/python:3.11-slim >/dev/null
  ratio() { python3 -c "import sys; print(f'{float(sys.argv[2])/float(sys.argv[1]):.2f}x')" "$1" "$2"; }
  printf '%-12s %9ss %9ss %8s\n' load "$wharf_load" "$docker_load" "$(ratio "$wharf_load" "$docker_load")"
  printf '%-12s %9ss %9ss %8s\n' save "$wharf_save" "$docker_save" "$(ratio "$wharf_save" "$docker_save")"
  echo "(ratio = docker median / wharf median; above 1x means wharf is faster)"
else
  printf '%-12s %9ss %10s %8s\n' load "$wharf_load" - -
  printf '%-12s %9ss %10s %8s\n' save "$wharf_save" - -
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
