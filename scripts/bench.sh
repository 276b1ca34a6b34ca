#!/usr/bin/env bash
# Deploy benchmark against the local emulator: a synthetic site of N files (mixed sizes), then
# the first deploy, a no-op deploy (with and without the digest cache) and a deploy with 1% of the
# files changed. Prints wall time, client CPU time (user + sys of the sitewarden process), peak RSS
# and the AWS requests by operation.
# A fifth of the files are HTML pages with inline scripts, styles and handlers (shared and
# page-specific ones), so CSP "auto" analyses real markup; BENCH_CSP sets the policy (default
# "auto"; a fixed policy such as "default-src 'self'" measures a deploy without the analysis).
#
# BENCH_PROFILE=DIR also samples each deploy with `perf record` into DIR/<row>.data (read them with
# `perf report -i DIR/first-deploy.data --sort dso,symbol`; CPU and RSS then include perf's share).
# BENCH_HEAP=DIR runs each no-op row once more under valgrind's massif into DIR/<row>.massif (the
# heap at its peak, by allocation site: `ms_print DIR/no-op-deploy.massif`).
#
#   scripts/bench.sh [FILES] [TOTAL_MB]      defaults: 10000 files, ~370 MB
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=${1:-10000}
total_mb=${2:-370}
csp=${BENCH_CSP:-auto}

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/sitewarden"

# shellcheck source=scripts/emulated.sh
. "$root/scripts/emulated.sh"

echo "generating $files files (~$total_mb MB) in $work/dist" >&2
python3 - "$work/dist" "$files" "$total_mb" <<'PY'
import os, random, sys
root, count, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * 1024 * 1024
random.seed(7)
# Mostly small pages and assets, a few large media files: roughly the shape of a docs site.
weights = [random.paretovariate(1.2) for _ in range(count)]
scale = total / sum(weights)
for i, w in enumerate(weights):
    folder = os.path.join(root, f"section-{i % 50}")
    os.makedirs(folder, exist_ok=True)
    ext = (".html", ".css", ".js", ".png", ".json")[i % 5]
    size = max(1, int(w * scale))
    with open(os.path.join(folder, f"file-{i}{ext}"), "wb") as f:
        if ext == ".html":
            head = (f"<!doctype html><html><head><title>page {i}</title>"
                    "<script>document.documentElement.className='js'</script>"
                    f"<style>.p{i % 40}{{color:#333}}</style></head><body>"
                    f"<button onclick=\"toggle({i % 25})\" style=\"margin:0\">menu</button>"
                    f"<script>var page={i};</script><img src=\"https://img.example.com/{i}.png\">")
            body = "<p>" + "lorem ipsum dolor sit amet " * (size // 27 + 1) + "</p>"
            f.write((head + body[:max(0, size - len(head))] + "</body></html>").encode())
        else:
            f.write(os.urandom(size))
PY
cat > "$work/sitewarden.toml" <<TOML
[site]
name = "bench"
source = "dist"
region = "eu-west-1"
[headers]
content_security_policy = "$csp"
[deploy]
concurrency = 32
mass_delete_threshold = 1.0
TOML
cd "$work"
"$bin" -q up --infra-only > /dev/null

run() {
  local label=$1; shift
  local out cpu
  # GNU time: wall, user and system CPU, peak resident set (KB).
  local profile=()
  if [ -n "${BENCH_PROFILE:-}" ]; then
    mkdir -p "$BENCH_PROFILE"
    # shellcheck disable=SC2206 # BENCH_PERF_ARGS is split on purpose (e.g. "--call-graph dwarf")
    profile=(perf record -q ${BENCH_PERF_ARGS:--F 1999} -o "$BENCH_PROFILE/${label// /-}.data" --)
  fi
  /usr/bin/time -o "$work/time.txt" -f '%e %U %S %M' \
    "${profile[@]}" "$bin" -v --json deploy "$@" > "$work/out.json" 2> "$work/log.txt"
  read -r wall user sys rss_kb < "$work/time.txt"
  if [ -n "${BENCH_HEAP:-}" ] && [[ $label == no-op* ]]; then
    mkdir -p "$BENCH_HEAP"
    valgrind -q --tool=massif --depth=30 --massif-out-file="$BENCH_HEAP/${label//[ ,]/-}.massif" \
      "$bin" -q deploy "$@" > /dev/null 2>&1 || echo "massif run of '$label' failed" >&2
  fi
  cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
  out=$(python3 -c "
import json; d = json.load(open('$work/out.json'))
r = d['requests']; total = sum(r.values())
c = d.get('csp') or {}
extra = f\"  csp: {c['per_page']} pages, {c['hashes']} hashes, {len(c['fallbacks'])} fallbacks\" if c else ''
print(f\"uploaded {d['uploaded']:>6}  requests {total:>6}  {dict(sorted(r.items()))}{extra}\")")
  printf '%-16s wall %7.2fs  cpu %6ss  rss %5d MB  %s\n' "$label" "$wall" "$cpu" "$((rss_kb / 1024))" "$out"
  grep -o 'hashed .*\|analysed .*' "$work/log.txt" | sed 's/^/                 /' || true
}

# The digest cache (unchanged files are not read again) in the work folder; the "no cache" row is
# what a fresh CI checkout meets.
export SITEWARDEN_CACHE_DIR="$work/cache"
sleep 2 # files changed in the last 2 s are hashed again next time: let the generated site age
run "first deploy"
run "no-op deploy"
SITEWARDEN_CACHE_DIR="" run "no-op, no cache"

# The same site with the peers, each into a bucket of its own on the same emulator: `aws s3 sync`
# (awscli in the bench's own venv) and rclone with checksums (Debian's package), installed here
# and only here (never by CI). On by default up to 20,000 files (at 100k, `aws s3 sync` alone takes
# most of an hour against the emulator); BENCH_PEERS=1 or 0 forces them on or off.
peer() {
  local label=$1; shift
  /usr/bin/time -o "$work/time.txt" -f '%e %U %S %M' "$@" > /dev/null 2> "$work/peer.txt" \
    || { echo "$label failed:" >&2; tail -5 "$work/peer.txt" >&2; return 0; }
  read -r wall user sys rss_kb < "$work/time.txt"
  printf '%-16s wall %7.2fs  cpu %6ss  rss %5d MB\n' "$label" "$wall" \
    "$(python3 -c "print(f'{$user + $sys:.2f}')")" "$((rss_kb / 1024))"
}
if [ "${BENCH_PEERS:-$([ "$files" -le 20000 ] && echo 1 || echo 0)}" != 0 ]; then
  venv="$root/.venv-bench"
  if [ ! -x "$venv/bin/aws" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q awscli==1.46.3 >&2
  fi
  if ! command -v rclone > /dev/null; then
    SUDO=; [ "$(id -u)" != 0 ] && SUDO=sudo
    $SUDO apt-get install -y -q rclone > /dev/null 2>&1 || echo "rclone could not be installed" >&2
  fi
  "$venv/bin/aws" --endpoint-url "$endpoint" s3 mb s3://bench-aws-sync > /dev/null
  peer "aws s3 sync" "$venv/bin/aws" --endpoint-url "$endpoint" s3 sync --only-show-errors \
    "$work/dist" s3://bench-aws-sync
  peer "aws, no-op" "$venv/bin/aws" --endpoint-url "$endpoint" s3 sync --only-show-errors \
    "$work/dist" s3://bench-aws-sync
  if command -v rclone > /dev/null; then
    export RCLONE_CONFIG_EMU_TYPE=s3 RCLONE_CONFIG_EMU_PROVIDER=Other \
      RCLONE_CONFIG_EMU_ENDPOINT="$endpoint" RCLONE_CONFIG_EMU_REGION="$AWS_REGION" \
      RCLONE_CONFIG_EMU_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
      RCLONE_CONFIG_EMU_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
    # rclone's S3 client refuses a custom CA bundle on a plain-HTTP endpoint.
    unset AWS_CA_BUNDLE
    rclone --config /dev/null mkdir emu:bench-rclone
    peer "rclone sync" rclone --config /dev/null sync --checksum --transfers 16 \
      "$work/dist" emu:bench-rclone
    peer "rclone, no-op" rclone --config /dev/null sync --checksum --transfers 16 \
      "$work/dist" emu:bench-rclone
  fi
fi
python3 - "$work/dist" "$files" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
changed = 0
for i in range(0, count, 100):  # 1% of the files
    path = os.path.join(root, f"section-{i % 50}", f"file-{i}{('.html', '.css', '.js', '.png', '.json')[i % 5]}")
    with open(path, "ab") as f:
        f.write(b"changed")
    changed += 1
print(f"changed {changed} files", file=sys.stderr)
PY
run "1% changed"
