#!/usr/bin/env bash
# sitewarden's local AWS emulator (moto + fidelity patches), always on 127.0.0.1.
#
#   scripts/emulator.sh setup          create/refresh the venv (.venv-emulator) from emulator/requirements.lock
#   scripts/emulator.sh start [PORT]   start in the background (free port if none), print the endpoint
#   scripts/emulator.sh stop [PORT]    stop one (or every) emulator started by this script
#   scripts/emulator.sh run PORT       run in the foreground
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-emulator"
state="$root/.emulator"
lock="$root/emulator/requirements.lock"

setup() {
  local stamp="$venv/.lock.sha256" want
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "emulator: installing pinned packages into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$lock" >&2
  echo "$want" > "$stamp"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() {
  local port=$1 pid=$2
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "emulator: exited during start; log: $state/$port.log" >&2
      tail -20 "$state/$port.log" >&2 || true
      return 1
    fi
    if python3 - "$port" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
    sleep 0.1
  done
  echo "emulator: not ready after 30 s; log: $state/$port.log" >&2
  return 1
}

cmd=${1:-}
case "$cmd" in
  setup) setup ;;
  start)
    setup
    port=${2:-$(free_port)}
    mkdir -p "$state"
    PYTHONPATH="$root/emulator" nohup "$venv/bin/python" -m sitewarden_emulator --port "$port" \
      > "$state/$port.log" 2>&1 &
    pid=$!
    echo "$pid" > "$state/$port.pid"
    wait_ready "$port" "$pid"
    echo "http://127.0.0.1:$port"
    ;;
  stop)
    shopt -s nullglob
    files=("$state"/${2:-*}.pid)
    for f in "${files[@]}"; do
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$f"
      echo "emulator: stopped pid $pid (port $(basename "$f" .pid))" >&2
    done
    ;;
  run)
    setup
    [ -n "${2:-}" ] || { echo "usage: $0 run PORT" >&2; exit 2; }
    PYTHONPATH="$root/emulator" exec "$venv/bin/python" -m sitewarden_emulator --port "$2"
    ;;
  *) echo "usage: $0 setup | start [PORT] | stop [PORT] | run PORT" >&2; exit 2 ;;
esac
