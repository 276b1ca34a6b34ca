#!/usr/bin/env bash
# AWS requests of the read-mostly runs, against the local emulator: `plan` before and after `up`,
# the second `up`, a no-op `deploy` and `audit` of the example site. Prints one line per run with
# the total and the requests by operation (the `"requests"` of each `--json` summary), so a change
# that adds calls shows up here.
#
#   scripts/requests.sh [BINARY]      default: a debug build of this checkout
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${1:-}" ]; then
  bin=$(realpath "$1")
else
  cargo build --quiet --manifest-path "$root/Cargo.toml"
  bin="$root/target/debug/sitewarden"
fi

# shellcheck source=scripts/emulated.sh
. "$root/scripts/emulated.sh"

cp -r "$root/examples/hello/site" "$work/public"
cat > "$work/sitewarden.toml" <<TOML
[site]
name = "requests"
source = "public"
region = "eu-west-1"
TOML
cd "$work"

count() {
  local label=$1 code=$2
  shift 2
  local out status=0
  out=$("$bin" --json "$@" 2>/dev/null) || status=$?
  if [ "$status" != "$code" ]; then
    echo "sitewarden $*: exit $status, expected $code" >&2
    exit 1
  fi
  printf '%s' "$out" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
requests = doc.get("requests") or doc.get("summary", {}).get("requests") or {}
ops = ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
print(f"{sys.argv[1]:<16} {sum(requests.values()):>4}  {ops}")
' "$label"
}

count "plan (empty)" 0 plan
"$bin" up >/dev/null 2>&1
count "plan (built)" 0 plan
count "up (second)" 0 up
count "deploy (no-op)" 0 deploy
count "audit" 0 audit
