#!/usr/bin/env bash
# Every check CI runs: formatting, lints, Rust unit + integration tests (against the local emulator),
# and the emulator's own fidelity tests. Installs what it needs (the emulator venv) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== emulator venv" >&2
scripts/emulator.sh setup

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
