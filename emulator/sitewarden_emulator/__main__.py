"""Start the emulator: `python -m sitewarden_emulator --port PORT [--parent-pid PID]`.

Binds 127.0.0.1 only. With `--parent-pid`, the server exits when that process is gone, so a test
binary that starts an emulator never leaves one running behind it.
"""

import argparse
import os
import sys
import threading
import time


def _watch_parent(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="sitewarden_emulator")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args()

    # ACM certificates validate at once (DNS validation is not observable locally).
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")

    from sitewarden_emulator.patches import apply_all

    applied = apply_all()
    print(f"sitewarden emulator: patches {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)

    if args.parent_pid:
        threading.Thread(target=_watch_parent, args=(args.parent_pid,), daemon=True).start()

    from moto import server

    server.main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
