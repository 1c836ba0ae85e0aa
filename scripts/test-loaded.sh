#!/usr/bin/env bash
# `npm run test:loaded`: the whole `npm test` on a machine kept busy, as CI and the
# benches share two cores. One CPU hog per core (`yes` into /dev/null at the tests' own
# priority) runs for the whole suite, so a test that leans on a time window fails here
# rather than at random in CI. The hogs end with the suite (trap) and after 90 minutes in
# any case (timeout), even if this script is killed.
set -euo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc)
hogs=()
stop_hogs() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for _ in $(seq "$cores"); do
  timeout 5400 yes >/dev/null &
  hogs+=("$!")
done
echo "test:loaded: ${#hogs[@]} CPU hog(s) on ${cores} core(s); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
bash scripts/test.sh || status=$?
echo "test:loaded: load average at end: $(cut -d' ' -f1-3 /proc/loadavg); npm test exited ${status}"
exit "$status"
