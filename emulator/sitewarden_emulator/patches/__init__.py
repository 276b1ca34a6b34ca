"""One module per AWS service; each exposes `apply()` and patches moto in place.

Patches must run before moto's server creates its per-service Flask apps, because the apps read
`backend.flask_paths` (built from `moto.<service>.urls.url_paths`) when they are first created.
"""

import importlib

# Modules touch disjoint services (`access` wraps the authorization hook every service calls).
# Two wrap the server's dispatcher: `cloudtrail` before `faults`, so that faults wraps it: an
# injected error never reaches the service (no event), an `after` fault's write does (an event).
SERVICES = ("cloudfront", "s3", "route53", "kms", "acm", "logs", "events", "sns", "cloudwatch", "iam", "sts",
            "access", "cloudtrail", "faults")


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
