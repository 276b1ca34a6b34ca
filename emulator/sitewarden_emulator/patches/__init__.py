"""One module per AWS service; each exposes `apply()` and patches moto in place.

Patches must run before moto's server creates its per-service Flask apps, because the apps read
`backend.flask_paths` (built from `moto.<service>.urls.url_paths`) when they are first created.
"""

import importlib

# Modules touch disjoint services (`access` wraps the authorization hook every service calls).
# Three wrap the server's dispatcher: `cloudtrail` before `faults`, so that faults wraps it: an
# injected error never reaches the service (no event), an `after` fault's write does (an event);
# `rpcv2cbor` last, outermost: it turns an rpc-v2-cbor request into the JSON one boto3 sends before
# the others see it (faults and the request log name its operation), and their answers, injected
# errors included, back into CBOR.
SERVICES = ("cloudfront", "s3", "route53", "kms", "acm", "logs", "events", "sns", "cloudwatch", "iam", "sts",
            "access", "cloudtrail", "faults", "rpcv2cbor")


def apply_all() -> list[str]:
    applied = []
    for name in SERVICES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{name}":
                continue  # service not patched (yet)
            raise
        module.apply()
        applied.append(name)
    return applied
