#!/usr/bin/env bash
# The reliability figures: convergence under injected faults, the kill sweep (deploy, rollback,
# up, adopt) and the races,
# against the local emulator (the integration tests `faults::`, `kills::` and `lease::`). Prints,
# for each command, trials, converged, lost data and broken-page moments; exits non-zero if any
# run lost data, showed a broken page or failed to converge.
#
#   scripts/reliability.sh [KILL_POINTS_PER_COMMAND]     default 20 (the size ./scripts/test.sh runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SITEWARDEN_KILL_POINTS=${1:-20}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --manifest-path "$root/Cargo.toml" --test it -- \
    faults:: kills:: lease:: adopt::adopt_converges --nocapture --test-threads 2 >"$log" 2>&1 || status=$?
grep -E '^(kill sweep|faults|deploy vs rollback|round [0-9]+:)' "$log" || true
grep -E '^test .*(ok|FAILED)$' "$log" | sed 's/^/  /'
if [ "$status" -ne 0 ]; then
    grep -E 'panicked|assert' "$log" | head -20 >&2
    echo "reliability: FAILED (full log kept: $log.failed)" >&2
    cp "$log" "$log.failed"
fi
exit "$status"
