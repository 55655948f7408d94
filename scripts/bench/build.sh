#!/usr/bin/env bash
# Times `wharf build` against `docker build` on the tutorials' Flask example, same machine,
# base image present in both: a cold build (empty build cache), a rebuild with no change,
# and a rebuild after editing app.py. Prints medians and ratios.
#
# Both builders install Flask from wheels in the context (downloaded once, with wharf, from
# PyPI), so that network speed does not decide the result: the Dockerfile is the tutorial's
# with `pip install --no-index --find-links wheels`. Needs root, hyperfine, curl and (for the
# comparison) a Docker daemon (scripts/dockerd.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${RUNS:-10}
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export WHARF_ROOT=$work/root WHARF_RUN=$work/run

import_fixture python-3.11-slim python:3.11-slim

ctx=$work/flask
mkdir -p "$ctx/wheels"
cp examples/flask/app.py examples/flask/requirements.txt "$ctx/"
ca=/etc/ssl/certs/ca-certificates.crt
"$wharf" run --rm --network host -v "$ctx/wheels:/wheels" -v "$ctx:/ctx:ro" \
  -v "$ca:/host-ca.crt:ro" -e PIP_CERT=/host-ca.crt python:3.11-slim \
  pip download -q -d /wheels -r /ctx/requirements.txt
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM python:3.11-slim

WORKDIR /app
COPY requirements.txt .
COPY wheels wheels
RUN pip install --no-index --find-links wheels -r requirements.txt

COPY app.py .

EXPOSE 5000
CMD ["python", "app.py"]
DOCKERFILE

# Expanded by hyperfine's shell, once per run.
# shellcheck disable=SC2016
edit='echo "# edit $RANDOM" >> '"$ctx/app.py"

bench() { # NAME BUILD_COMMAND CACHE_RESET_COMMAND
  local name=$1 build=$2 reset=$3
  hyperfine -N --runs "$runs" --prepare "$reset" --export-json "$work/$name-cold.json" "$build" >/dev/null
  eval "$build" >/dev/null 2>&1
  hyperfine -N --warmup 2 --runs "$((runs * 3))" --export-json "$work/$name-nochange.json" "$build" >/dev/null
  hyperfine --runs "$runs" --prepare "$edit" --export-json "$work/$name-edit.json" "$build" >/dev/null
}

bench wharf "$wharf build -q -t bench-flask $ctx" "$wharf builder prune -af"
printf '%-34s %10s\n' "wharf cold build" "$(median "$work/wharf-cold.json")s"
printf '%-34s %10s\n' "wharf rebuild, no change" "$(median "$work/wharf-nochange.json")s"
printf '%-34s %10s\n' "wharf rebuild, app.py edited" "$(median "$work/wharf-edit.json")s"

if scripts/dockerd.sh start >/dev/null 2>&1; then
  "$wharf" save python:3.11-slim | "$docker" load -q >/dev/null
  export DOCKER_BUILDKIT=1
  bench docker "$docker build -q --network host -t bench-flask $ctx" "$docker builder prune -af"
  "$docker" rmi -f bench-flask >/dev/null 2>&1 || true
  printf '%-34s %10s\n' "docker cold build" "$(median "$work/docker-cold.json")s"
  printf '%-34s %10s\n' "docker rebuild, no change" "$(median "$work/docker-nochange.json")s"
  printf '%-34s %10s\n' "docker rebuild, app.py edited" "$(median "$work/docker-edit.json")s"
  for kind in cold nochange edit; do
    python3 -c "import sys; print('ratio (%s): wharf is %.1fx faster than docker' % (sys.argv[3], float(sys.argv[2]) / float(sys.argv[1])))" \
      "$(median "$work/wharf-$kind.json")" "$(median "$work/docker-$kind.json")" "$kind"
  done
else
  echo "SKIPPED: docker comparison: no Docker daemon could start" >&2
fi
