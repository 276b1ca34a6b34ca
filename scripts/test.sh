#!/usr/bin/env bash
# Every check CI runs: formatting, lints, Rust unit + integration tests (against the local emulator),
# and the emulator's own fidelity tests. Installs what it needs (the emulator venv, Chromium) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== emulator venv" >&2
scripts/emulator.sh setup

echo "== chromium (the browser tests load the example sites in it)" >&2
if ! command -v "${CHROMIUM:-chromium}" >/dev/null; then
  SUDO=
  if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then SUDO=sudo; fi
  if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium; }; then
    echo "error: could not install Chromium; install the Debian package \`chromium\` (or set CHROMIUM to a Chromium binary)" >&2
    exit 1
  fi
fi

echo "== module layers (no cycle, no import between provision/deploy/audit, no file over 600 lines)" >&2
layers=$(python3 scripts/layers.py src)
echo "$layers" | tail -1 >&2
if [ "$(echo "$layers" | tail -1)" != "layers: 0 cycle(s) among top-level modules, 0 sibling import(s), 0 file(s) over 600 lines" ]; then
  echo "$layers" >&2
  exit 1
fi

echo "== cargo fmt --check" >&2
cargo fmt --check

echo "== cargo clippy" >&2
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test" >&2
cargo test --locked

echo "== emulator fidelity tests" >&2
(cd emulator && ../.venv-emulator/bin/python -m pytest -q -p no:cacheprovider tests)
