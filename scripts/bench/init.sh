#!/usr/bin/env bash
# Init: `wharf init --dry-run` (detection and rendering, nothing written) on a generated
# Flask project of FILES (5,000) files: 50 packages of 100 modules, a requirements.txt and
# app.py. hyperfine times ROUNDS runs; the median is printed beside the target (100 ms).
# There is no anchor to compare with: `docker init` asks its questions interactively.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

rounds=${ROUNDS:-20}
work=$(mktemp -d /var/tmp/wharf-bench-init.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'flask==3.0.3\n' >"$work/requirements.txt"
printf 'from flask import Flask\n\napp = Flask(__name__)\n' >"$work/app.py"
for p in $(seq 1 50); do
  mkdir -p "$work/pkg$p/sub"
  for f in $(seq 1 50); do
    printf 'import os\n\n\ndef f%d():\n    return os.sep\n' "$f" >"$work/pkg$p/m$f.py"
    printf 'X = %d\n' "$f" >"$work/pkg$p/sub/s$f.py"
  done
done
files=$(find "$work" -type f | wc -l)
echo "init: a project of $files files, $rounds rounds" >&2

hyperfine --style basic -N --warmup 3 --runs "$rounds" \
  --export-json "$work/init.json" "$wharf init --dry-run $work" >&2
printf 'init on %d files: wharf %ss (target 0.100s)\n' "$files" "$(median "$work/init.json")"
