#!/usr/bin/env bash
# Start-up time (issue 11): the median wall time of N runs (default 5) of `node -e 0`,
# `ackmeans --version` and `import('ackmeans')` against the built dist/. Prints each command.
# Usage: bash scripts/startup-time.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-5}
median() { # runs "$@" n times, prints the median wall time in seconds
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for cmd in "node -e 0" "node dist/cli.js --version" \
  "node --input-type=module -e import('ackmeans')"; do
  # shellcheck disable=SC2086
  if [[ $cmd == *"import("* ]]; then
    s=$(median node --input-type=module -e "await import('ackmeans')")
  else
    s=$(median $cmd)
  fi
  printf '%-50s median of %d: %s s\n' "$cmd" "$n" "$s"
done
