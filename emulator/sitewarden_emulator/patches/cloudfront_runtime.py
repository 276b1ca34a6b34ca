"""TestFunction: runs a CloudFront function's code on a test event, for real, under Node.js.

Node.js is a system dependency (it is not in requirements.lock). Without it, TestFunction answers
`UnsupportedOperation` instead of inventing a result. The code runs in a `vm` context with the
globals CloudFront Functions offer (console, a `require` for crypto and querystring); ES module
`import` (cloudfront-js-2.0 key value stores) is not supported and reports as a function error.
The emulator binds 127.0.0.1 only: the code is the local caller's own.
"""

from __future__ import annotations

import json
import shutil
import subprocess

_HARNESS = r"""
const vm = require('vm'), fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const logs = [];
const text = (v) => typeof v === 'string' ? v : JSON.stringify(v);
const sandbox = {
  console: { log: (...a) => logs.push(a.map(text).join(' ')) },
  require: (m) => { if (m === 'crypto' || m === 'querystring') return require(m); throw new Error(`Cannot find module '${m}'`); },
  Buffer,
};
const done = (result) => process.stdout.write(JSON.stringify(Object.assign({ logs }, result)));
try {
  const context = vm.createContext(Object.assign(sandbox, { __event: input.event }));
  const limit = { timeout: 1000 };
  vm.runInContext(input.code, context, limit);
  if (vm.runInContext("typeof handler", context) !== 'function') throw new Error('The function code does not define a handler function.');
  const started = process.hrtime.bigint();
  Promise.resolve(vm.runInContext('handler(__event)', context, limit)).then(
    (output) => done({ output, micros: Number(process.hrtime.bigint() - started) / 1000 }),
    (err) => done({ error: String(err && err.message || err) }));
} catch (err) {
  done({ error: String(err && err.message || err) });
}
"""


class Unavailable(Exception):
    """No Node.js on this machine."""


def run(code: bytes, event: dict) -> dict:
    """The TestResult fields (without FunctionSummary) for `code` handling `event`."""
    node = shutil.which("node")
    if node is None:
        raise Unavailable()
    payload = json.dumps({"code": code.decode("utf-8", "replace"), "event": event})
    try:
        run = subprocess.run([node, "-e", _HARNESS], input=payload, capture_output=True, text=True, timeout=10)
        result = json.loads(run.stdout)
    except subprocess.TimeoutExpired:
        result = {"logs": [], "error": "The function exceeded the maximum allowed execution time."}
    except ValueError:
        result = {"logs": [], "error": (run.stderr.strip() or "The function did not run.")[:1000]}
    output, error = result.get("output"), result.get("error")
    if error is None and not isinstance(output, dict):
        error = "The function must return a request or response object."
    if error is not None:
        return {"ComputeUtilization": "0", "FunctionExecutionLogs": result["logs"], "FunctionErrorMessage": error, "FunctionOutput": ""}
    # AWS wraps the handler's result: a viewer-request function returns the request, or a response
    # (it has a statusCode) that CloudFront answers with; viewer-response functions return responses.
    event_type = (event.get("context") or {}).get("eventType")
    kind = "response" if event_type == "viewer-response" or "statusCode" in output else "request"
    # Compute utilization: the measured handler time as a percentage of a 1 ms budget (an estimate;
    # AWS's figure comes from its own runtime).
    utilization = min(100, max(1, round(result.get("micros", 0) / 10)))
    return {
        "ComputeUtilization": str(utilization),
        "FunctionExecutionLogs": result["logs"],
        "FunctionErrorMessage": "",
        "FunctionOutput": json.dumps({kind: output}, separators=(",", ":")),
    }
